package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
	"github.com/mqtts-playground/playground/broker"
	"github.com/mqtts-playground/playground/lessons"
	"github.com/mqtts-playground/playground/server/pages"
	"github.com/mqtts-playground/playground/web"
)

// routes wires the handlers; each is a small type made by its constructor
// from what it uses. It runs once the web servers listen, so their
// addresses are known.
func (a *App) routes() http.Handler {
	assets := assetURLs(a.assets)
	mux := http.NewServeMux()
	boss := instructor{token: a.cfg.Token}
	var class *classSession
	if a.class != nil {
		boss.cookie = "mqtts-instructor-" + a.class.ID()
		class = newClassSession(a.class, boss)
		if assets != (pages.Assets{}) {
			assets.Class = true
		}
	}
	// In a class, visitors join before they reach the pages that connect.
	gate := func(h http.Handler) http.Handler {
		if class == nil {
			return h
		}
		return class.gate(h)
	}
	mux.Handle("GET /{$}", gate(newIndexPage(assets, a.listeners)))
	mux.Handle("GET /healthz", newHealthz(a.listeners, broker.Health{HTTP: a.httpAddr, HTTPS: a.httpsAddr, Names: a.names}))
	mux.Handle("GET /ca.pem", newCACert(a.ca.RootPEM()))
	pkiAPI := newPKIAPI(a.ca, a.rot, a.names, boss, a.log).withWritable(a.writable).withBurst(a.cfg.CertRequests)
	tunnel := newTunnel(a.broker, a.up, 1024, a.log).withFrameLimit(a.cfg.TunnelFrameLimit).allowOrigins(a.origins)
	traces := newTraceAPI(a.broker, boss, a.log).limitViewers(1024, a.cfg.MaxConnsPerAddr)
	if class != nil {
		pkiAPI.withClass(class)
		tunnel.withClass(class.principal)
		traces.withScope(class.traceScope).viewers.perAttendee = a.cfg.AttendeeConns
	}
	pkiAPI.register(mux)
	mux.Handle("GET /tunnel", streaming(tunnel))
	mux.Handle("GET /mqtt", streaming(a.broker.WebSocket("ws")))
	if a.assets != nil {
		traces.withPage(newTracePage(assets))
	}
	traces.register(mux)
	mux.Handle("GET /replay", newReplayPage(assets))
	lessonMux := http.NewServeMux()
	newLessonPages(a.course, assets, a.listeners).withVars(a.classVars(class)).register(lessonMux)
	mux.Handle("/lessons", gate(lessonMux))
	mux.Handle("/lessons/", gate(lessonMux))
	if class != nil {
		newClassPages(class, assets, a.attendeeMe, string(a.ca.RootPEM()), a.webCert == nil, a.course, a.log).register(mux)
		a.instructorPages(class, assets).register(mux)
	}
	mux.Handle("GET /favicon.svg", newFavicon())
	mux.Handle("GET /favicon.ico", newFavicon())
	if a.assets != nil {
		mux.Handle("GET "+web.Prefix, a.assets)
		if ws := newWidgetScript(a.assets); ws != nil {
			mux.Handle("GET /widget.js", ws)
		}
	}
	return a.guard(crossOrigin(a.origins, mux))
}

// classVars are the lesson pages' placeholder values; in a class they
// also name the attendee ("attendee"), whose id the lessons then use for
// their topics and client ids.
func (a *App) classVars(class *classSession) func(*http.Request) lessons.Vars {
	if class == nil {
		return a.lessonVars
	}
	return func(r *http.Request) lessons.Vars {
		v := a.lessonVars(r)
		if att, _, ok := class.attendee(r); ok {
			v["attendee"] = att.ID
		}
		return v
	}
}

// instructorPages are the instructor's side of the class.
func (a *App) instructorPages(class *classSession, assets pages.Assets) *instructorPages {
	p := &instructorPages{s: class, b: a.broker, ca: a.ca, assets: assets, keepConns: a.cfg.KeepConns, dir: a.ca.Dir(), log: a.log, now: time.Now, every: time.Second,
		join: func() string {
			if urls := a.classURLs("/join"); len(urls) > 0 {
				return urls[0]
			}
			return "/join"
		}}
	for _, l := range a.course.Lessons {
		p.lessons = append(p.lessons, pages.InstructorLesson{ID: l.ID, Title: l.Title, Steps: len(l.Steps)})
	}
	return p
}

// assetURLs are the URLs of the page bundle every page loads; none when the
// server runs without web assets.
func assetURLs(a *web.Assets) pages.Assets {
	if a == nil {
		return pages.Assets{}
	}
	return pages.Assets{Script: web.Prefix + a.Script, Style: web.Prefix + a.Style, Wasm: web.Prefix + a.Wasm}
}

// needAssets answers 503 for a page that cannot work without its script.
func needAssets(w http.ResponseWriter, a pages.Assets) bool {
	if a == (pages.Assets{}) {
		http.Error(w, "this server was started without web assets", http.StatusServiceUnavailable)
		return false
	}
	return true
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	json.NewEncoder(w).Encode(v)
}

// healthz answers GET /healthz: the broker's listeners as they are now,
// and the rest of health, fixed at start.
type healthz struct {
	listeners func() []broker.ListenerInfo
	fixed     broker.Health
}

func newHealthz(listeners func() []broker.ListenerInfo, fixed broker.Health) *healthz {
	return &healthz{listeners: listeners, fixed: fixed}
}

func (h *healthz) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body := h.fixed
	body.Listeners = h.listeners()
	writeJSON(w, body)
}

// listeners are the broker's listeners, the ws one with its address on the
// web port, then the upstreams (marked as such), each part sorted by name.
func (a *App) listeners() []broker.ListenerInfo {
	ls := a.broker.Listeners()
	for i := range ls {
		if ls[i].Name == "ws" && a.httpAddr != "" {
			ls[i].Addr = a.httpAddr + "/mqtt"
		}
	}
	up := a.up.infos()
	slices.SortFunc(up, func(x, y broker.ListenerInfo) int { return strings.Compare(x.Name, y.Name) })
	return append(ls, up...)
}

// caCert answers GET /ca.pem with the root certificate devices trust.
type caCert struct{ pem []byte }

func newCACert(pem []byte) *caCert { return &caCert{pem: pem} }

func (c *caCert) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/x-pem-file")
	w.Header().Set("Content-Disposition", `inline; filename="ca.pem"`)
	w.Write(c.pem)
}

// indexPage serves the playground page at GET /.
type indexPage struct {
	assets    pages.Assets
	listeners func() []broker.ListenerInfo
	// vars names the host and CA URL of the page's commands; nil: the
	// request's (requestVars).
	vars func(*http.Request) lessons.Vars
}

func newIndexPage(assets pages.Assets, listeners func() []broker.ListenerInfo) *indexPage {
	return &indexPage{assets: assets, listeners: listeners, vars: requestVars}
}

// withVars sets where the host and CA URL of the commands come from.
func (h *indexPage) withVars(f func(*http.Request) lessons.Vars) *indexPage {
	h.vars = f
	return h
}

// mainListenerWhat says in a few words what the main listeners are; a
// lesson listener's words are its fault's.
var mainListenerWhat = map[string]string{
	"mqtt":  "plain MQTT, no TLS",
	"mqtts": "MQTT over TLS",
	"mtls":  "MQTT over TLS, client certificate required",
	"ws":    "MQTT over WebSocket, at /mqtt",
}

func (h *indexPage) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !needAssets(w, h.assets) {
		return
	}
	// Commands name the host this page was reached by: a device that
	// reached the page can reach the broker there too.
	vars := h.vars(r)
	near := vars["host"]
	d := pages.Index{Assets: h.assets, CAURL: vars["ca.url"]}
	for _, l := range h.listeners() {
		_, port := dialHost(strings.TrimSuffix(l.Addr, "/mqtt"), near)
		what := mainListenerWhat[l.Name]
		if l.Fault != nil {
			what = l.Fault.What
			d.LessonListeners++
		}
		if what == "" {
			what = l.About
		}
		d.Listeners = append(d.Listeners, pages.Listener{Name: l.Name, Addr: l.Addr, Port: port, TLS: l.TLS, MTLS: l.MTLS, Lesson: l.Lesson, About: l.About, What: what})
		if l.Name == "mqtts" {
			d.MQTTSHost, d.MQTTSPort = dialHost(l.Addr, near)
			if d.MQTTSPort == "" {
				// No port of its own (the static build's broker, or
				// --mqtts off): the host and port the lessons name.
				d.MQTTSHost, d.MQTTSPort = vars["host"], vars["port.mqtts"]
			}
		}
	}
	render(w, http.StatusOK, pages.IndexPage(d), r)
}

// tunnel carries a browser's bytes to one of the broker's named listeners
// over a WebSocket, or to a named upstream (see Upstream). It reaches
// nothing else: the name is looked up among the broker's listeners, whose
// pipeline gets the bytes in process, and the upstreams of the server's
// configuration; never a host or port the client chooses. At most max
// tunnels are open at once, and each counts against the broker's limit of
// connections per address (--max-conns-per-addr).
//
// In a class the tunnel is an attendee's (their session cookie) or the
// instructor's: the broker takes its client for them, and an attendee's
// tunnels count against the attendee (--attendee-conns), not their address.
type tunnel struct {
	b      *broker.Broker
	up     upstreams
	log    *slog.Logger
	active atomic.Int64
	max    int64
	warn   *logEvery
	// frameLimit is the largest WebSocket message accepted (--tunnel-frame-limit).
	frameLimit int64
	// who says whose a tunnel is, in a class; nil outside one.
	who func(*http.Request) (broker.Principal, error)
	// origins are the other sites whose pages may open tunnels.
	origins originSet
}

func newTunnel(b *broker.Broker, up upstreams, max int64, log *slog.Logger) *tunnel {
	return &tunnel{b: b, up: up, max: max, log: log, warn: newLogEvery(time.Minute), frameLimit: 32768}
}

// withClass makes tunnels their owners' (see tunnel).
func (t *tunnel) withClass(who func(*http.Request) (broker.Principal, error)) *tunnel {
	t.who = who
	return t
}

// withFrameLimit sets the largest WebSocket message accepted.
func (t *tunnel) withFrameLimit(n int) *tunnel {
	if n > 0 {
		t.frameLimit = int64(n)
	}
	return t
}

// allowOrigins lets pages of these origins open tunnels beside the
// playground's own (--allow-origin).
func (t *tunnel) allowOrigins(o originSet) *tunnel {
	t.origins = o
	return t
}

func (t *tunnel) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// A browser names the page's origin; other clients (devices, tests)
	// send none.
	var accept websocket.AcceptOptions
	if origin := r.Header.Get("Origin"); origin != "" && !sameOrigin(origin, r.Host) {
		if !t.origins.allows(origin) {
			http.Error(w, fmt.Sprintf("tunnel: pages of %s may not open tunnels here; the person running the playground can allow them with --allow-origin %s", origin, origin), http.StatusForbidden)
			return
		}
		accept.InsecureSkipVerify = true // the origin is checked above
	}
	name := r.URL.Query().Get("to")
	if name == "" {
		http.Error(w, "tunnel: say which broker listener to reach: /tunnel?to=mqtts", http.StatusBadRequest)
		return
	}
	up, upstream := t.up[name]
	if !upstream {
		if err := t.b.Tunnelable(name); err != nil {
			msg := "tunnel: " + err.Error()
			if names := t.up.names(); len(names) > 0 && errors.Is(err, broker.ErrUnknownListener) {
				slices.Sort(names)
				msg += "; or the upstreams " + strings.Join(names, ", ")
			}
			http.Error(w, msg, http.StatusNotFound)
			return
		}
	}
	var who broker.Principal
	if t.who != nil {
		var err error
		if who, err = t.who(r); err != nil {
			http.Error(w, "tunnel: "+err.Error(), http.StatusUnauthorized)
			return
		}
	}
	if t.active.Add(1) > t.max {
		t.active.Add(-1)
		if t.warn.allow("all") {
			t.log.Warn("refusing tunnels: too many open", "limit", t.max)
		}
		http.Error(w, "tunnel: too many open tunnels, try again later", http.StatusServiceUnavailable)
		return
	}
	defer t.active.Add(-1)
	var release func()
	var err error
	if who.Owner != "" {
		release, err = t.b.AdmitOwner("tunnel to "+name, who)
	} else {
		release, err = t.b.Admit("tunnel to "+name, broker.RemoteAddr(r))
	}
	if err != nil {
		http.Error(w, "tunnel: "+err.Error(), http.StatusTooManyRequests)
		return
	}
	defer release()
	var upConn net.Conn
	if upstream {
		// Connect first, so that an unreachable upstream is an HTTP error
		// the page can show.
		c, err := dialUpstream(r.Context(), up)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		upConn = c
	}
	ws, err := websocket.Accept(w, r, &accept)
	if err != nil {
		if upConn != nil {
			upConn.Close()
		}
		return // Accept has answered
	}
	if upstream {
		// The bytes go to the upstream as they are: the client's TLS
		// handshake is with it, and the playground's broker sees nothing.
		splice(r.Context(), ws, upConn)
		return
	}
	// The browser watches its own connection: record all of it, not only
	// the head the broker keeps of connections nobody watches.
	stop := t.b.Watch()
	defer stop()
	conn := &tunnelConn{Conn: websocket.NetConn(r.Context(), ws, websocket.MessageBinary), remote: broker.RemoteAddr(r)}
	// After NetConn, which lifts the limit.
	ws.SetReadLimit(t.frameLimit)
	conn.onLimit = func(err error) {
		if t.warn.allow("frame " + clientKey(r.RemoteAddr).String()) {
			t.log.Warn("ended a tunnel: a WebSocket message over the frame limit", "listener", name, "from", clientIP(r), "attendee", who.Owner,
				"limit", t.frameLimit, "err", err, "hint", "a TLS record is at most about 16.6 KB; raise --tunnel-frame-limit if a client really sends larger messages")
		}
	}
	t.b.ServeAs(name, conn, who)
}

// tunnelConn is a tunnel's byte stream: it names the client (through a
// trusted proxy, the address the proxy names, not the proxy's) and notices
// when the frame limit ends it.
type tunnelConn struct {
	net.Conn
	remote  net.Addr // nil: the WebSocket's own
	onLimit func(error)
	once    sync.Once
}

func (c *tunnelConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if err != nil && strings.Contains(err.Error(), "read limited at") {
		c.once.Do(func() { c.onLimit(err) })
	}
	return n, err
}

func (c *tunnelConn) RemoteAddr() net.Addr {
	if c.remote != nil {
		return c.remote
	}
	return c.Conn.RemoteAddr()
}
