package main

import (
	"encoding/json"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
	"github.com/mqtts-playground/playground/broker"
	"github.com/mqtts-playground/playground/server/pages"
	"github.com/mqtts-playground/playground/web"
)

func (a *App) routes() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /{$}", &indexHandler{a: a})
	mux.HandleFunc("GET /healthz", a.healthz)
	mux.HandleFunc("GET /ca.pem", a.caPEM)
	(&pkiAPI{ca: a.ca, rot: a.rot, names: a.names, token: a.cfg.Token, log: a.log,
		csr: newRateLimiter(10, time.Minute), rotate: newRateLimiter(1, 5*time.Second), now: time.Now}).register(mux)
	mux.Handle("GET /tunnel", newTunnel(a.broker, 1024))
	mux.Handle("GET /mqtt", a.broker.WebSocket("ws"))
	newTraceAPI(a.broker).withPage(a.tracePage()).register(mux)
	mux.HandleFunc("GET /replay", a.replay)
	newLessonPages(a.course, a.assets, a.listeners).withVars(a.lessonVars).register(mux)
	if a.assets != nil {
		mux.Handle("GET "+web.Prefix, a.assets)
	}
	return mux
}

func (a *App) listeners() []broker.ListenerInfo {
	ls := a.broker.Listeners()
	for i := range ls {
		if ls[i].Name == "ws" && a.httpAddr != "" {
			ls[i].Addr = a.httpAddr + "/mqtt"
		}
	}
	return ls
}

func (a *App) healthz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	json.NewEncoder(w).Encode(Health{Listeners: a.listeners(), HTTP: a.httpAddr, HTTPS: a.httpsAddr, Names: a.names})
}

func (a *App) caPEM(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/x-pem-file")
	w.Header().Set("Content-Disposition", `inline; filename="ca.pem"`)
	w.Write(a.ca.RootPEM())
}

type indexHandler struct{ a *App }

func (h *indexHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	a := h.a
	if a.assets == nil {
		http.Error(w, "this server was started without web assets", http.StatusServiceUnavailable)
		return
	}
	d := pages.Index{
		Script: web.Prefix + a.assets.Script,
		Style:  web.Prefix + a.assets.Style,
		Wasm:   web.Prefix + a.assets.Wasm,
		CAFile: a.caFile(),
	}
	for _, l := range a.listeners() {
		d.Listeners = append(d.Listeners, pages.Listener{Name: l.Name, Addr: l.Addr, TLS: l.TLS, MTLS: l.MTLS, Lesson: l.Lesson, About: l.About})
		if l.Name == "mqtts" {
			host, port, _ := net.SplitHostPort(l.Addr)
			if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
				// Listening everywhere: tell devices the name they used to reach this page.
				if h, _, err := net.SplitHostPort(r.Host); err == nil {
					host = h
				}
			}
			d.MQTTSHost, d.MQTTSPort = host, port
		}
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	pages.IndexPage(d).Render(r.Context(), w)
}

// tunnel carries a browser's bytes to one of the broker's named listeners
// over a WebSocket. It reaches nothing else: the name is looked up among the
// broker's listeners and the bytes go to the listener's pipeline in
// process, never to a host or port the client chooses.
type tunnel struct {
	b      *broker.Broker
	active atomic.Int64
	max    int64
}

func newTunnel(b *broker.Broker, max int64) *tunnel { return &tunnel{b: b, max: max} }

func (t *tunnel) ServeHTTP(w http.ResponseWriter, r *http.Request) {
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
		http.Error(w, "tunnel: too many open tunnels, try again later", http.StatusServiceUnavailable)
		return
	}
	defer t.active.Add(-1)
	ws, err := websocket.Accept(w, r, nil)
	if err != nil {
		return // Accept has answered
	}
	// The browser watches its own connection: record all of it, not only
	// the head the broker keeps of connections nobody watches.
	stop := t.b.Watch()
	defer stop()
	t.b.Serve(name, websocket.NetConn(r.Context(), ws, websocket.MessageBinary))
}
