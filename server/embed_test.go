package main

import (
	"testing"
)

// TestEmbedPages: every page takes ?embed=1 and then renders without its
// navigation, marked for the embed styles and script; without it, the
// navigation is there. Every page preloads the wasm client.
func TestEmbedPages(t *testing.T) {
	app := startApp(t, testConfig(t), true)
	base := "http://" + app.httpAddr
	lesson := "/lessons/" + app.course.Lessons[0].ID
	for _, path := range []string{"/", "/trace", "/replay", "/lessons", lesson} {
		for _, embed := range []bool{false, true} {
			u := base + path
			if embed {
				u += "?embed=1"
			}
			resp, body := fetchPage(t, u, browserAccept)
			if resp.StatusCode != 200 {
				t.Errorf("%s: %d", u, resp.StatusCode)
				continue
			}
			doc := parseHTML(t, body)
			nav := doc.Find(`[data-testid="nav"]`).Length()
			_, marked := doc.Find("html").Attr("data-embed")
			if embed && (nav != 0 || !marked) {
				t.Errorf("%s: %d navigation bars, html[data-embed] %v; want none and marked", u, nav, marked)
			}
			if !embed && (nav != 1 || marked) {
				t.Errorf("%s: %d navigation bars, html[data-embed] %v; want one and unmarked", u, nav, marked)
			}
			if href := doc.Find(`link[rel="preload"][as="fetch"]`).AttrOr("href", ""); href == "" || href != doc.Find("script[data-wasm]").AttrOr("data-wasm", "-") {
				t.Errorf("%s: preloads %q, the script loads the wasm from %q", u, href, doc.Find("script[data-wasm]").AttrOr("data-wasm", ""))
			}
		}
	}
}
