package main

import (
	"context"
	"net/http"
	"net/netip"
	"strings"
)

// proxies are the reverse proxies (--trusted-proxy) whose forwarding
// headers the server believes. A request from one of them is rewritten at
// the door, before anything reads it: its RemoteAddr becomes the client's
// address as X-Forwarded-For names it, so that every limit, log line and
// check that reads RemoteAddr (clientKey, clientIP, broker.RemoteAddr)
// sees the client, not the proxy; X-Forwarded-Proto "https" marks it as
// reached over HTTPS. From anyone else these headers are ignored: a client
// cannot pick the address it is counted as.
type proxies []netip.Prefix

// forwardedKey marks a request rewritten from a trusted proxy's headers;
// its value is the scheme the client used ("http" or "https").
type forwardedKey struct{}

// trusts reports whether addr is one of the proxies.
func (p proxies) trusts(addr netip.Addr) bool {
	addr = addr.Unmap()
	for _, pfx := range p {
		if pfx.Contains(addr) {
			return true
		}
	}
	return false
}

// client returns the address a request from a trusted proxy was made
// from: the rightmost address of X-Forwarded-For that is not itself a
// trusted proxy (each proxy appends the address it was reached from, so
// the ones left of it are the client's to write). False when there is no
// usable header.
func (p proxies) client(r *http.Request) (netip.Addr, bool) {
	var hops []string
	for _, v := range r.Header.Values("X-Forwarded-For") {
		for _, h := range strings.Split(v, ",") {
			hops = append(hops, strings.TrimSpace(h))
		}
	}
	var found netip.Addr
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(strings.Trim(hops[i], "[]"))
		if err != nil {
			break
		}
		found = a.Unmap()
		if !p.trusts(found) {
			break
		}
	}
	return found, found.IsValid()
}

// wrap rewrites requests that came through a trusted proxy (see proxies).
func (p proxies) wrap(h http.Handler) http.Handler {
	if len(p) == 0 {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ap, err := netip.ParseAddrPort(r.RemoteAddr)
		if err == nil && p.trusts(ap.Addr()) {
			if a, ok := p.client(r); ok {
				scheme := "http"
				if strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https") {
					scheme = "https"
				}
				r = r.WithContext(context.WithValue(r.Context(), forwardedKey{}, scheme)) // a shallow copy: the caller's request stays as it was
				r.RemoteAddr = netip.AddrPortFrom(a, 0).String()
			}
		}
		h.ServeHTTP(w, r)
	})
}

// isHTTPS reports whether the client reached the page over HTTPS: directly,
// or through a trusted proxy that says so.
func isHTTPS(r *http.Request) bool {
	if r.TLS != nil {
		return true
	}
	scheme, _ := forwarded(r)
	return scheme == "https"
}

// forwarded returns the scheme the client used when the request came
// through a trusted proxy; false when it came directly.
func forwarded(r *http.Request) (scheme string, ok bool) {
	scheme, ok = r.Context().Value(forwardedKey{}).(string)
	return scheme, ok
}
