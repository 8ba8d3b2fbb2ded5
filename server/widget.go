package main

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/mqtts-playground/playground/web"
	"github.com/mqtts-playground/playground/web/accept"
)

// The widget script for other sites' pages (web/src/widget.ts) is served
// at a stable URL, GET /widget.js, that documentation authors put in their
// pages: a short statement naming this build's hashed assets, then the
// hashed bundle. Browsers revalidate it (ETag) so a new build reaches them.

// widgetScript answers GET /widget.js.
type widgetScript struct {
	body, gz []byte
	etag     string
}

// newWidgetScript makes /widget.js of a build; nil when the build has no
// widget bundle.
func newWidgetScript(a *web.Assets) *widgetScript {
	f, ok := a.File(a.Widget)
	if !ok {
		return nil
	}
	names, _ := json.Marshal(map[string]string{"wasm": web.Prefix + a.Wasm, "style": web.Prefix + a.Style})
	body := append([]byte("var __mqttsAssets="+string(names)+";\n"), f.Raw...)
	var gz bytes.Buffer
	w, _ := gzip.NewWriterLevel(&gz, gzip.BestCompression)
	w.Write(body)
	w.Close()
	sum := sha256.Sum256(body)
	return &widgetScript{body: body, gz: gz.Bytes(), etag: `"` + hex.EncodeToString(sum[:8]) + `"`}
}

func (s *widgetScript) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Type", "text/javascript; charset=utf-8")
	h.Set("Cache-Control", "no-cache")
	h.Set("ETag", s.etag)
	h.Add("Vary", "Accept-Encoding")
	body := s.body
	if accept.Names(r.Header.Get("Accept-Encoding"), "gzip") {
		h.Set("Content-Encoding", "gzip")
		body = s.gz
	}
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(body))
}

// crossOrigin lets the widget script, running in a page of another origin,
// read what it needs with CORS: the hashed assets (public and immutable)
// from any page; /healthz, /ca.pem and the broker's traces (/trace/…) only
// from the origins the operator listed with --allow-origin, the same ones
// whose pages may open tunnels. Credentials are never allowed.
func crossOrigin(origins originSet, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := r.URL.Path
		switch {
		case strings.HasPrefix(p, web.Prefix):
			// Always: the browser's cache may hand a response fetched by
			// the playground's own page to another origin's fetch.
			w.Header().Set("Access-Control-Allow-Origin", "*")
		case p == "/healthz" || p == "/ca.pem" || strings.HasPrefix(p, "/trace/"):
			w.Header().Add("Vary", "Origin")
			origin := r.Header.Get("Origin")
			if origin != "" && r.Method == http.MethodGet && !sameOrigin(origin, r.Host) && origins.allows(origin) {
				w.Header().Set("Access-Control-Allow-Origin", origin)
			}
		}
		next.ServeHTTP(w, r)
	})
}
