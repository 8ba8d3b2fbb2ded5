package main

import (
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/mqtts-playground/playground/server/pages"
	"github.com/mqtts-playground/playground/web/accept"
)

// The pages beside the playground: the broker view at /trace (browsers get
// the page, other clients the JSON list) and the replay page at /replay.
// Both load the same script bundle as the playground page; it mounts the
// view of whichever page it finds.

// tracePage is the broker view for browsers at GET /trace; traceAPI
// answers other clients with the JSON list.
type tracePage struct{ assets pages.Assets }

func newTracePage(assets pages.Assets) *tracePage { return &tracePage{assets: assets} }

func (p *tracePage) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	render(w, http.StatusOK, pages.TracePage(p.assets), r)
}

// withPage makes GET /trace answer browsers (Accept: text/html) with page.
func (t *traceAPI) withPage(page http.Handler) *traceAPI {
	t.page = page
	return t
}

// acceptsHTML reports whether the request asks for HTML by name, as browsers
// do when they navigate; "*/*" alone (curl, fetch) does not count.
func acceptsHTML(r *http.Request) bool {
	return accept.Names(r.Header.Get("Accept"), "text/html", "application/xhtml+xml")
}

// replayPage serves the replay page at GET /replay. A src that is not an
// http(s) URL or a relative path is refused here already, with the reason
// on the page.
type replayPage struct{ assets pages.Assets }

func newReplayPage(assets pages.Assets) *replayPage { return &replayPage{assets: assets} }

func (p *replayPage) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !needAssets(w, p.assets) {
		return
	}
	src := r.URL.Query().Get("src")
	d := pages.Replay{Assets: p.assets, Src: src}
	status := http.StatusOK
	if err := checkReplaySrc(src); err != nil {
		d.Err = err.Error()
		status = http.StatusBadRequest
	}
	render(w, status, pages.ReplayPage(d), r)
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
