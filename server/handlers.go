package main

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
	"github.com/mqtts-playground/playground/broker"
	"github.com/mqtts-playground/playground/server/pages"
	"github.com/mqtts-playground/playground/web"
)

// routes wires the handlers; each is a small type made by its constructor
// from what it uses. It runs once the web servers listen, so their
// addresses are known.
func (a *App) routes() http.Handler {
	assets := assetURLs(a.assets)
	mux := http.NewServeMux()
	mux.Handle("GET /{$}", newIndexPage(assets, a.listeners))
	mux.Handle("GET /healthz", newHealthz(a.listeners, Health{HTTP: a.httpAddr, HTTPS: a.httpsAddr, Names: a.names}))
	mux.Handle("GET /ca.pem", newCACert(a.ca.RootPEM()))
	boss := instructor{token: a.cfg.Token}
	newPKIAPI(a.ca, a.rot, a.names, boss, a.log).withWritable(a.writable).register(mux)
	mux.Handle("GET /tunnel", streaming(newTunnel(a.broker, 1024, a.log).allowOrigins(a.origins)))
	mux.Handle("GET /mqtt", streaming(a.broker.WebSocket("ws")))
	traces := newTraceAPI(a.broker, boss, a.log).limitViewers(1024, a.cfg.MaxConnsPerAddr)
	if a.assets != nil {
		traces.withPage(newTracePage(assets))
	}
	traces.register(mux)
	mux.Handle("GET /replay", newReplayPage(assets))
	newLessonPages(a.course, assets, a.listeners).withVars(a.lessonVars).register(mux)
	mux.Handle("GET /favicon.svg", newFavicon())
	mux.Handle("GET /favicon.ico", newFavicon())
	if a.assets != nil {
		mux.Handle("GET "+web.Prefix, a.assets)
	}
	return a.guard(mux)
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
	fixed     Health
}

func newHealthz(listeners func() []broker.ListenerInfo, fixed Health) *healthz {
	return &healthz{listeners: listeners, fixed: fixed}
}

func (h *healthz) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body := h.fixed
	body.Listeners = h.listeners()
	writeJSON(w, body)
}

// listeners are the broker's listeners, the ws one with its address on the
// web port.
func (a *App) listeners() []broker.ListenerInfo {
	ls := a.broker.Listeners()
	for i := range ls {
		if ls[i].Name == "ws" && a.httpAddr != "" {
			ls[i].Addr = a.httpAddr + "/mqtt"
		}
	}
	return ls
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
}

func newIndexPage(assets pages.Assets, listeners func() []broker.ListenerInfo) *indexPage {
	return &indexPage{assets: assets, listeners: listeners}
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
	vars := requestVars(r)
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
		}
	}
	render(w, http.StatusOK, pages.IndexPage(d), r)
}

// tunnel carries a browser's bytes to one of the broker's named listeners
// over a WebSocket. It reaches nothing else: the name is looked up among the
// broker's listeners and the bytes go to the listener's pipeline in
// process, never to a host or port the client chooses. At most max tunnels
// are open at once, and each counts against the broker's limit of
// connections per address (--max-conns-per-addr).
type tunnel struct {
	b      *broker.Broker
	log    *slog.Logger
	active atomic.Int64
	max    int64
	warn   *logEvery
	// origins are the other sites whose pages may open tunnels.
	origins originSet
}

func newTunnel(b *broker.Broker, max int64, log *slog.Logger) *tunnel {
	return &tunnel{b: b, max: max, log: log, warn: newLogEvery(time.Minute)}
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
	if err := t.b.Tunnelable(name); err != nil {
		http.Error(w, "tunnel: "+err.Error(), http.StatusNotFound)
		return
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
	release, err := t.b.Admit("tunnel to "+name, broker.RemoteAddr(r))
	if err != nil {
		http.Error(w, "tunnel: "+err.Error(), http.StatusTooManyRequests)
		return
	}
	defer release()
	ws, err := websocket.Accept(w, r, &accept)
	if err != nil {
		return // Accept has answered
	}
	// The browser watches its own connection: record all of it, not only
	// the head the broker keeps of connections nobody watches.
	stop := t.b.Watch()
	defer stop()
	t.b.Serve(name, websocket.NetConn(r.Context(), ws, websocket.MessageBinary))
}
