package main

import (
	"errors"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/mqtts-playground/playground/server/pages"
	"github.com/mqtts-playground/playground/web"
)

// The pages beside the playground: the broker view at /trace (browsers get
// the page, other clients the JSON list) and the replay page at /replay.
// Both load the same script bundle as the playground page; it mounts the
// view of whichever page it finds.

func (a *App) bundle() pages.Bundle {
	return pages.Bundle{
		Script: web.Prefix + a.assets.Script,
		Style:  web.Prefix + a.assets.Style,
		Wasm:   web.Prefix + a.assets.Wasm,
	}
}

// tracePage returns the handler of the broker view, or nil when the server
// runs without web assets: then GET /trace answers JSON to everyone.
func (a *App) tracePage() http.HandlerFunc {
	if a.assets == nil {
		return nil
	}
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		pages.TracePage(a.bundle()).Render(r.Context(), w)
	}
}

// withPage makes GET /trace answer browsers (Accept: text/html) with page.
func (t *traceAPI) withPage(page http.HandlerFunc) *traceAPI {
	t.page = page
	return t
}

// acceptsHTML reports whether the request asks for HTML by name, as browsers
// do when they navigate; "*/*" alone (curl, fetch) does not count.
func acceptsHTML(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept"), ",") {
		mt, params, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		if mt == "text/html" || mt == "application/xhtml+xml" {
			if q, err := strconv.ParseFloat(params["q"], 64); err == nil && q == 0 {
				continue // "not HTML, please"
			}
			return true
		}
	}
	return false
}

// replay serves the replay page. A src that is not an http(s) URL or a
// relative path is refused here already, with the reason on the page.
func (a *App) replay(w http.ResponseWriter, r *http.Request) {
	if a.assets == nil {
		http.Error(w, "this server was started without web assets", http.StatusServiceUnavailable)
		return
	}
	src := r.URL.Query().Get("src")
	d := pages.Replay{Bundle: a.bundle(), Src: src}
	status := http.StatusOK
	if err := checkReplaySrc(src); err != nil {
		d.Err = err.Error()
		status = http.StatusBadRequest
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	pages.ReplayPage(d).Render(r.Context(), w)
}

// checkReplaySrc accepts an empty src (the page then asks for one), an
// http(s) URL with a host, or a relative path.
func checkReplaySrc(src string) error {
	if src == "" {
		return nil
	}
	u, err := url.Parse(strings.TrimSpace(src))
	if err != nil {
		return errors.New("src is not a URL: give an http(s) URL or a path on this server, such as /trace/c1/recording")
	}
	switch strings.ToLower(u.Scheme) {
	case "":
		return nil
	case "http", "https":
		if u.Host == "" {
			return errors.New("src names no host: give an http(s) URL or a path on this server")
		}
		return nil
	}
	return errors.New("src must be an http(s) URL or a path on this server, not a " + u.Scheme + ": URL")
}
