package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestCrossOrigin: the hashed assets are readable by any page (and by a
// page whose response came from the cache); /healthz, /ca.pem and /trace/…
// only by the listed origins; nothing else gets CORS headers.
func TestCrossOrigin(t *testing.T) {
	origins, err := newOriginSet([]string{"https://docs.example.com"})
	if err != nil {
		t.Fatal(err)
	}
	h := crossOrigin(origins, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	for _, c := range []struct{ method, path, origin, want string }{
		{"GET", "/assets/client-1.wasm", "https://other.example", "*"},
		{"GET", "/assets/client-1.wasm", "", "*"},
		{"GET", "/healthz", "https://docs.example.com", "https://docs.example.com"},
		{"GET", "/ca.pem", "https://docs.example.com", "https://docs.example.com"},
		{"GET", "/trace/abc", "https://docs.example.com", "https://docs.example.com"},
		{"GET", "/trace/abc/recording", "https://docs.example.com", "https://docs.example.com"},
		{"GET", "/healthz", "https://other.example", ""},
		{"GET", "/healthz", "http://playground.test", ""}, // same origin: no need
		{"POST", "/trace/abc", "https://docs.example.com", ""},
		{"GET", "/pki/crl", "https://docs.example.com", ""},
		{"GET", "/", "https://docs.example.com", ""},
	} {
		r := httptest.NewRequest(c.method, "http://playground.test"+c.path, nil)
		if c.origin != "" {
			r.Header.Set("Origin", c.origin)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if got := w.Header().Get("Access-Control-Allow-Origin"); got != c.want {
			t.Errorf("%s %s from %q: Access-Control-Allow-Origin %q, want %q", c.method, c.path, c.origin, got, c.want)
		}
		if strings.HasPrefix(c.path, "/healthz") && w.Header().Get("Vary") != "Origin" {
			t.Errorf("%s %s from %q: Vary %q", c.method, c.path, c.origin, w.Header().Get("Vary"))
		}
	}
}

// TestWidgetScript: GET /widget.js names this build's assets before the
// widget bundle, is revalidated (ETag, 304) and served gzip-compressed.
func TestWidgetScript(t *testing.T) {
	app := startApp(t, testConfig(t), true)
	base := "http://" + app.httpAddr
	req, _ := http.NewRequest("GET", base+"/widget.js", nil)
	req.Header.Set("Accept-Encoding", "identity")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body := new(strings.Builder)
	_, err = io.Copy(body, resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	a := app.assets
	first, _, _ := strings.Cut(body.String(), "\n")
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/javascript; charset=utf-8" || resp.Header.Get("Cache-Control") != "no-cache" ||
		first != `var __mqttsAssets={"style":"/assets/`+a.Style+`","wasm":"/assets/`+a.Wasm+`"};` || !strings.Contains(body.String(), "mqtts-connect") {
		t.Fatalf("GET /widget.js: %d %v, first line %q", resp.StatusCode, resp.Header, first)
	}
	req.Header.Set("If-None-Match", resp.Header.Get("ETag"))
	if resp, err = http.DefaultClient.Do(req); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotModified {
		t.Errorf("revalidation: %d, want 304", resp.StatusCode)
	}
	req.Header.Del("If-None-Match")
	req.Header.Set("Accept-Encoding", "gzip")
	if resp, err = http.DefaultTransport.RoundTrip(req); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.Header.Get("Content-Encoding") != "gzip" {
		t.Errorf("Content-Encoding %q, want gzip", resp.Header.Get("Content-Encoding"))
	}
}
