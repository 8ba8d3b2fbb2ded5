package main

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
	"github.com/mqtts-playground/playground/broker"
	"github.com/mqtts-playground/playground/broker/pki"
	"github.com/mqtts-playground/playground/server/pages"
)

// handlerCase is one request to one handler and what must come back.
type handlerCase struct {
	name    string
	h       http.Handler
	method  string // GET when empty
	target  string
	host    string            // Host header; example.com when empty
	remote  string            // RemoteAddr; httptest's default when empty
	header  map[string]string // request headers
	status  int
	headers map[string]string // response headers, exactly
	body    []string          // substrings of the body
	html    map[string]string // CSS selector → text it must contain
}

func (tt handlerCase) run(t *testing.T) {
	t.Helper()
	method := tt.method
	if method == "" {
		method = "GET"
	}
	r := httptest.NewRequest(method, tt.target, nil)
	if tt.host != "" {
		r.Host = tt.host
	}
	if tt.remote != "" {
		r.RemoteAddr = tt.remote
	}
	for k, v := range tt.header {
		r.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	tt.h.ServeHTTP(w, r)
	res := w.Result()
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != tt.status {
		t.Errorf("%s: status %d, want %d (%s)", tt.name, res.StatusCode, tt.status, body)
	}
	for k, v := range tt.headers {
		if got := res.Header.Get(k); got != v {
			t.Errorf("%s: %s %q, want %q", tt.name, k, got, v)
		}
	}
	for _, s := range tt.body {
		if !strings.Contains(string(body), s) {
			t.Errorf("%s: body lacks %q: %s", tt.name, s, body)
		}
	}
	if len(tt.html) == 0 {
		return
	}
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(string(body)))
	if err != nil {
		t.Fatalf("%s: %v", tt.name, err)
	}
	for sel, want := range tt.html {
		if got := doc.Find(sel).Text(); !strings.Contains(got, want) {
			t.Errorf("%s: %s is %q, want it to contain %q", tt.name, sel, got, want)
		}
	}
}

func TestHandlers(t *testing.T) {
	assets := pages.Assets{Script: "/assets/app-1.js", Style: "/assets/app-1.css", Wasm: "/assets/client-1.wasm"}
	listeners := func(mqtts string) func() []broker.ListenerInfo {
		return func() []broker.ListenerInfo {
			return []broker.ListenerInfo{{Name: "mqtt", Addr: "127.0.0.1:1883"}, {Name: "mqtts", Addr: mqtts, TLS: true}}
		}
	}
	const html = "text/html; charset=utf-8"
	const pem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
	for _, tt := range []handlerCase{
		{name: "healthz", h: newHealthz(listeners("127.0.0.1:8883"), broker.Health{HTTP: "127.0.0.1:8080", HTTPS: "127.0.0.1:8443", Names: []string{"localhost"}}),
			target: "/healthz", status: 200,
			headers: map[string]string{"Content-Type": "application/json", "Cache-Control": "no-store"},
			body:    []string{`"listeners":[{"name":"mqtt","addr":"127.0.0.1:1883"`, `"http":"127.0.0.1:8080","https":"127.0.0.1:8443","names":["localhost"]}`}},
		{name: "favicon", h: newFavicon(), target: "/favicon.ico", status: 200,
			headers: map[string]string{"Content-Type": "image/svg+xml"},
			body:    []string{"<svg ", "</svg>"}},
		{name: "ca.pem", h: newCACert([]byte(pem)), target: "/ca.pem", status: 200,
			headers: map[string]string{"Content-Type": "application/x-pem-file", "Content-Disposition": `inline; filename="ca.pem"`},
			body:    []string{pem}},

		{name: "index", h: newIndexPage(assets, listeners("127.0.0.1:8883")), target: "/", host: "trainer.lan:8080", status: 200,
			headers: map[string]string{"Content-Type": html},
			html:    map[string]string{`[data-testid="cli"] code`: "curl -O http://trainer.lan:8080/ca.pem\nmosquitto_sub -h 127.0.0.1 -p 8883 --cafile ca.pem"}},
		{name: "index, listening everywhere: the name the page was reached by", h: newIndexPage(assets, listeners(":8883")),
			target: "/", host: "trainer.lan:8080", status: 200,
			html: map[string]string{`[data-testid="cli"] code`: "mosquitto_sub -h trainer.lan -p 8883 "}},
		{name: "index, listening everywhere, reached by IPv6", h: newIndexPage(assets, listeners("[::]:8883")),
			target: "/", host: "[fd00::5]:8080", status: 200,
			html: map[string]string{`[data-testid="cli"] code`: "curl -O http://[fd00::5]:8080/ca.pem\nmosquitto_sub -h fd00::5 -p 8883 "}},
		{name: "index, listening everywhere, odd Host header", h: newIndexPage(assets, listeners("0.0.0.0:8883")),
			target: "/", host: "<x>:80", status: 200,
			html: map[string]string{`[data-testid="cli"] code`: "mosquitto_sub -h localhost -p 8883 "}},
		{name: "index without assets", h: newIndexPage(pages.Assets{}, listeners("127.0.0.1:8883")), target: "/", status: 503,
			body: []string{"without web assets"}},

		{name: "trace page", h: newTracePage(assets), target: "/trace", status: 200,
			headers: map[string]string{"Content-Type": html, "Cache-Control": "no-store"},
			html:    map[string]string{"title": "Broker view"}},
		{name: "replay", h: newReplayPage(assets), target: "/replay?src=/trace/c1/recording", status: 200,
			headers: map[string]string{"Content-Type": html},
			html:    map[string]string{`[data-testid="replay-src"]`: "/trace/c1/recording"}},
		{name: "replay, refused src", h: newReplayPage(assets), target: "/replay?src=javascript:alert(1)", status: 400,
			headers: map[string]string{"Content-Type": html},
			html:    map[string]string{`[data-testid="replay-error"]`: "not a javascript: URL"}},
		{name: "replay without assets", h: newReplayPage(pages.Assets{}), target: "/replay", status: 503,
			body: []string{"without web assets"}},
	} {
		tt.run(t)
	}
}

// TestPageAssets: every page loads the same script, style and wasm.
func TestPageAssets(t *testing.T) {
	if got := assetURLs(nil); got != (pages.Assets{}) {
		t.Errorf("assetURLs(nil) = %+v", got)
	}
	assets := pages.Assets{Script: "/assets/app-1.js", Style: "/assets/app-1.css", Wasm: "/assets/client-1.wasm"}
	none := func() []broker.ListenerInfo { return nil }
	for name, h := range map[string]http.Handler{
		"/":       newIndexPage(assets, none),
		"/trace":  newTracePage(assets),
		"/replay": newReplayPage(assets),
	} {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("GET", name, nil))
		doc, err := goquery.NewDocumentFromReader(w.Body)
		if err != nil {
			t.Fatal(err)
		}
		script := doc.Find("script[data-wasm]")
		got := pages.Assets{Script: script.AttrOr("src", ""), Style: doc.Find(`link[rel="stylesheet"]`).AttrOr("href", ""), Wasm: script.AttrOr("data-wasm", "")}
		if got != assets {
			t.Errorf("%s loads %+v, want %+v", name, got, assets)
		}
	}
}

// TestCSRRateLimitPerClient: certificate requests are limited per client
// address, with a Retry-After that says when the next one is allowed.
func TestCSRRateLimitPerClient(t *testing.T) {
	ca, _, err := pki.LoadOrCreate(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	p := newPKIAPI(ca, nil, nil, instructor{}, slog.New(slog.DiscardHandler))
	mux := http.NewServeMux()
	p.register(mux)
	csr := func(remote string, status int, headers map[string]string, body ...string) handlerCase {
		return handlerCase{name: "POST /pki/csr from " + remote, h: mux, method: "POST", target: "/pki/csr", remote: remote,
			status: status, headers: headers, body: body}
	}
	for range 10 {
		csr("192.0.2.1:1000", 400, nil).run(t) // the body is no CSR: answered, and counted
	}
	for _, tt := range []handlerCase{
		csr("192.0.2.1:1001", 429, map[string]string{"Retry-After": "6"}, "try again in 6 seconds"),
		csr("[::ffff:192.0.2.1]:1002", 429, map[string]string{"Retry-After": "6"}),
		csr("192.0.2.2:1000", 400, map[string]string{"Retry-After": ""}),
		csr("[2001:db8::1]:1000", 400, nil),
	} {
		tt.run(t)
	}
}
