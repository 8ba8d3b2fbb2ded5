package main

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"time"
)

// What every response of the web server goes through (see App.guard):
// panics are recovered and logged as errors, the security headers are set,
// and requests for a host name the server does not serve are refused.
// Beside them, the instructor check and the cross-site check guard the
// actions only the person running the playground may take.

// Content security policies. Scripts come from the server only (the
// bundle), with WebAssembly compiled from them; no inline script or event
// handler runs. Fetches may go anywhere (the replay page loads a recording
// from the URL it is given); styles may be inline (the views set a few);
// embedding stays allowed, since framing a lesson is a feature.
const (
	csp = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; " +
		"connect-src 'self' ws: wss: http: https:; object-src 'none'; base-uri 'none'; form-action 'self'"
	// cspLessons adds 'unsafe-eval' for the lesson pages only: their steps
	// are code from the embedded lesson files, which the page script runs
	// as async functions (web/src/lesson.ts).
	cspLessons = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval' 'unsafe-eval'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; " +
		"connect-src 'self' ws: wss: http: https:; object-src 'none'; base-uri 'none'; form-action 'self'"
)

// guard wraps the routes in what every request goes through.
func (a *App) guard(h http.Handler) http.Handler {
	hosts := newHostGuard(a.servedHosts(), a.log)
	return recoverPanics(a.log, secureHeaders(proxies(a.cfg.TrustedProxies).wrap(hosts.wrap(h))))
}

// recoverPanics logs a handler's panic as an error with its stack and
// answers 500 (net/http alone logs it at the level of its ErrorLog, and only
// then closes the connection).
func recoverPanics(log *slog.Logger, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			v := recover()
			if v == nil {
				return
			}
			if v == http.ErrAbortHandler {
				panic(v)
			}
			log.Error("web handler panicked", "method", r.Method, "path", r.URL.Path, "from", clientIP(r), "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
			// If the handler wrote nothing yet, this is the answer; if it
			// did, the client sees a cut response.
			http.Error(w, "internal error (logged by the server)", http.StatusInternalServerError)
		}()
		h.ServeHTTP(w, r)
	})
}

// secureHeaders sets the headers every response carries: the content
// security policy (a page may set its own), no MIME sniffing, and no
// Referer beyond this origin.
func secureHeaders(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("Content-Security-Policy", csp)
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("Referrer-Policy", "same-origin")
		h.ServeHTTP(w, r)
	})
}

// hostGuard answers only requests whose Host the server serves, against
// DNS rebinding: a page of another site whose name is made to resolve to
// this machine reaches the server with that site's name in Host, and the
// browser would let it read the answers. IP literals are always served (a
// page can be at an address only if it is the address it is loaded from).
type hostGuard struct {
	names []string // lower case, without port
	log   *slog.Logger
	warn  *logEvery
}

func newHostGuard(names []string, log *slog.Logger) *hostGuard {
	var lower []string
	for _, n := range names {
		n = strings.ToLower(strings.TrimSuffix(strings.Trim(n, "[]"), "."))
		if n != "" && !slices.Contains(lower, n) {
			lower = append(lower, n)
		}
	}
	return &hostGuard{names: lower, log: log, warn: newLogEvery(time.Minute)}
}

// serves reports whether a Host header (host or host:port) names this server.
func (g *hostGuard) serves(hostport string) bool {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	host = strings.ToLower(strings.TrimSuffix(strings.Trim(host, "[]"), "."))
	if host == "" {
		return false
	}
	if _, err := netip.ParseAddr(host); err == nil {
		return true
	}
	return slices.Contains(g.names, host)
}

func (g *hostGuard) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if g.serves(r.Host) {
			h.ServeHTTP(w, r)
			return
		}
		if g.warn.allow(r.Host) {
			g.log.Warn("refused a request for a host name this server does not serve", "host", r.Host, "from", clientIP(r), "path", r.URL.Path,
				"hint", "if people reach the playground by this name, add it with --san")
		}
		http.Error(w, fmt.Sprintf("this server does not answer for the host name %q (it answers for %s and IP addresses); "+
			"the person running it can add the name with --san", r.Host, strings.Join(g.names, ", ")), http.StatusMisdirectedRequest)
	})
}

// servedHosts are the host names the web server answers for: those the
// broker certificate covers (localhost, the host name, --san …), those of
// a real certificate given with --tls-cert, and the hosts the web
// listeners are bound to.
func (a *App) servedHosts() []string {
	names := slices.Clone(a.names)
	if a.webCert != nil {
		names = append(names, a.webCert.DNSNames...)
	}
	for _, addr := range []string{a.cfg.HTTP, a.cfg.HTTPS} {
		if h, _, err := net.SplitHostPort(addr); err == nil && h != "" {
			names = append(names, h)
		}
	}
	return names
}

// instructor decides who may take the actions that only the person running
// the playground may: rotate the broker certificate, revoke any client
// certificate, read every connection's TLS secrets.
type instructor struct {
	token string // empty: no token; the machine's own requests only
	// cookie names the instructor's session cookie in a class (set by
	// GET /instructor?token=…); empty outside one.
	cookie string
}

// session is the value of the instructor's session cookie: derived from
// the token, so the token itself is not kept in the browser.
func (in instructor) session() string {
	m := hmac.New(sha256.New, []byte(in.token))
	m.Write([]byte("mqtts-playground instructor session"))
	return hex.EncodeToString(m.Sum(nil))
}

// hasSession reports whether r carries the instructor's session cookie
// and was not sent by a page of another origin.
func (in instructor) hasSession(r *http.Request) bool {
	if in.cookie == "" || in.token == "" || fromOtherOrigin(r) {
		return false
	}
	c, err := r.Cookie(in.cookie)
	return err == nil && subtle.ConstantTimeCompare([]byte(c.Value), []byte(in.session())) == 1
}

// errNotInstructor is wrapped by every refusal of instructor.check.
var errNotInstructor = errors.New("only the instructor may do this")

// check allows a request that carries the instructor token (Authorization:
// Bearer TOKEN), in a class the instructor's session cookie, or, when no
// token is set, one made on this machine (loopback, not forwarded by a
// proxy).
func (in instructor) check(r *http.Request) error {
	auth := r.Header.Get("Authorization")
	if in.hasSession(r) && !strings.HasPrefix(auth, "Bearer ") {
		return nil
	}
	if in.token != "" {
		if !strings.HasPrefix(auth, "Bearer ") {
			return fmt.Errorf("%w: send the instructor token (Authorization: Bearer TOKEN)", errNotInstructor)
		}
		if subtle.ConstantTimeCompare([]byte(strings.TrimPrefix(auth, "Bearer ")), []byte(in.token)) != 1 {
			return fmt.Errorf("%w: wrong instructor token", errNotInstructor)
		}
		return nil
	}
	if !fromThisMachine(r) {
		return fmt.Errorf("%w: no instructor token is set (--instructor-token-file), so only requests from the machine running the playground are allowed", errNotInstructor)
	}
	return nil
}

// fromThisMachine reports whether a request came over loopback and was not
// forwarded by a proxy on this machine (whose own connection is loopback),
// nor sent by a page of another origin open in a browser on this machine.
func fromThisMachine(r *http.Request) bool {
	if r.Header.Get("Forwarded") != "" || r.Header.Get("X-Forwarded-For") != "" || r.Header.Get("X-Real-Ip") != "" || fromOtherOrigin(r) {
		return false
	}
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	return err == nil && ap.Addr().Unmap().IsLoopback()
}

// fromOtherOrigin reports whether a browser sent r for a page of another
// origin (its Origin names another host): such a request, even one that
// CORS lets that page read (--allow-origin), never acts as the instructor
// by what the browser carries along (a loopback address, a cookie).
func fromOtherOrigin(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	return origin != "" && !sameOrigin(origin, r.Host)
}

// crossSite refuses state-changing requests a browser sends on behalf of
// another site's page (Sec-Fetch-Site, else Origin against Host); clients
// that send neither (curl, devices) pass.
var crossSite = http.NewCrossOriginProtection()

// liftDeadlines lifts the web server's read and write timeouts for a
// long-lived stream (a WebSocket, server-sent events): those bound their
// own lifetime and idleness.
func liftDeadlines(w http.ResponseWriter) {
	rc := http.NewResponseController(w)
	rc.SetReadDeadline(time.Time{})
	rc.SetWriteDeadline(time.Time{})
}

// streaming wraps a handler of long-lived streams with liftDeadlines.
func streaming(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		liftDeadlines(w)
		h.ServeHTTP(w, r)
	})
}

// logEvery lets a repeated warning through once per period per key, so a
// limit that bites again and again logs once, not once a request.
type logEvery struct {
	every time.Duration
	last  *lru[string, time.Time]
	now   func() time.Time
	mu    sync.Mutex
}

func newLogEvery(every time.Duration) *logEvery {
	return &logEvery{every: every, last: newLRU[string, time.Time](1024), now: time.Now}
}

// allow reports whether key may be logged now, and if so notes it.
func (l *logEvery) allow(key string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	if t, ok := l.last.get(key); ok && now.Sub(t) < l.every {
		return false
	}
	l.last.add(key, now)
	return true
}
