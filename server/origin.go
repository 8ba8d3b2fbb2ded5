package main

import (
	"fmt"
	"net/url"
	"strings"
)

// Origins of other sites' pages that may open tunnels (--allow-origin): a
// documentation site that embeds the client with the widget script runs it
// in its own origin. Same-origin pages may always; any other page only when
// the operator lists its origin exactly.

// parseOrigin checks a web origin as a browser sends it in Origin
// (scheme://host[:port], http or https, no path) and returns it in that
// form: lower case, without the scheme's default port.
func parseOrigin(s string) (string, error) {
	u, err := url.Parse(strings.TrimSuffix(strings.TrimSpace(s), "/"))
	if err != nil {
		return "", fmt.Errorf("origin %q: %w", s, err)
	}
	scheme := strings.ToLower(u.Scheme)
	if scheme != "http" && scheme != "https" {
		return "", fmt.Errorf("origin %q: want http:// or https:// and a host, like https://docs.example.com", s)
	}
	if u.Host == "" || u.User != nil || u.Path != "" || u.RawQuery != "" || u.Fragment != "" || u.Opaque != "" {
		return "", fmt.Errorf("origin %q: only a scheme, a host and a port, like https://docs.example.com:8443", s)
	}
	host := strings.ToLower(u.Host)
	if p := u.Port(); (scheme == "http" && p == "80") || (scheme == "https" && p == "443") {
		host = strings.TrimSuffix(host, ":"+p)
	}
	return scheme + "://" + host, nil
}

// originSet is the origins allowed beside the page's own.
type originSet map[string]bool

// newOriginSet reads the --allow-origin list.
func newOriginSet(list []string) (originSet, error) {
	s := originSet{}
	for _, o := range list {
		n, err := parseOrigin(o)
		if err != nil {
			return nil, fmt.Errorf("--allow-origin: %w", err)
		}
		s[n] = true
	}
	return s, nil
}

// allows reports whether a request's Origin header is listed.
func (s originSet) allows(origin string) bool {
	n, err := parseOrigin(origin)
	return err == nil && s[n]
}

// sameOrigin reports whether an Origin header names the host the request
// was sent to (as the WebSocket handshake checks: host and port).
func sameOrigin(origin, host string) bool {
	u, err := url.Parse(origin)
	return err == nil && u.Host != "" && strings.EqualFold(u.Host, host)
}
