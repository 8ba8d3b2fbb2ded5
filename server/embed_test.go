package main

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/chromedp/chromedp"
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
			if path == "/replay" && doc.Find(`[data-testid="replay-form"]`).Length() != 1 {
				t.Errorf("%s: no form to open a session", u)
			}
			if href := doc.Find(`link[rel="preload"][as="fetch"]`).AttrOr("href", ""); href == "" || href != doc.Find("script[data-wasm]").AttrOr("data-wasm", "-") {
				t.Errorf("%s: preloads %q, the script loads the wasm from %q", u, href, doc.Find("script[data-wasm]").AttrOr("data-wasm", ""))
			}
		}
	}
	// Embedded with a session given, the replay shows that session alone.
	_, body := fetchPage(t, base+"/replay?embed=1&src=/trace/c1/recording", browserAccept)
	doc := parseHTML(t, body)
	if n := doc.Find(`[data-testid="replay-form"], [data-testid="replay-file"]`).Length(); n != 0 || doc.Find(`[data-testid="replay-status"]`).Length() != 1 {
		t.Errorf("embedded replay of a session: %d form parts, want none beside the status", n)
	}
}

// embedHost is a documentation page of another site with the replay of a
// deep link in an iframe below the fold: the frame is 400 px high under
// 1,200 px of text, and 3,000 px follow it. It keeps the frame's messages.
const embedHost = `<!DOCTYPE html>
<html><head><title>docs</title></head><body style="margin:0">
<p style="height:1200px">Some documentation.</p>
<iframe id="trace" src="%s" style="width:900px;height:400px;border:0"></iframe>
<p style="height:3000px">More documentation.</p>
<script>
window.got = [];
addEventListener("message", (e) => { if (e.data && e.data.source === "mqtts-playground") got.push(e.data); });
</script>
</body></html>`

// TestBrowserEmbedDeepLink: a page of another origin embeds the replay of
// a broker recording with ?embed=1 and a deep link to one field. The field
// is selected, the host page does not move (scrollY stays 0) and it hears
// the selection and the frame's height: that of the trace with a
// certificate in detail (over 1,000 px), though the frame is out of view,
// where the browser skips its rendering and so its ResizeObserver.
func TestBrowserEmbedDeepLink(t *testing.T) {
	t.Parallel()
	app := startApp(t, testConfig(t), true)
	ctx := newBrowser(t)
	openPage(t, ctx, app)
	runDemo(t, ctx, "embed-test")
	id := connID(t, app, "embed-test")
	frame := "http://" + app.httpAddr + "/replay?src=" + url.QueryEscape("/trace/"+id+"/recording") + "&embed=1#event=broker-5&field=cert_data&nth=2"
	host := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, fmt.Sprintf(embedHost, frame))
	}))
	t.Cleanup(host.Close)
	if err := chromedp.Do(ctx, chromedp.Navigate(host.URL)); err != nil {
		t.Fatal(err)
	}
	waitJS(t, ctx, "the frame's selection of the deep-linked field", `got.some((m) => m.type === "select" && m.event === "broker-5" && m.field === "cert_data" && m.nth === 2)`)
	// Give a late scroll (an animation frame, a second render) its chance.
	got := evalJS[map[string]any](t, ctx, `new Promise((resolve) => setTimeout(() => resolve({
		scrollY: window.scrollY,
		heights: got.filter((m) => m.type === "height").map((m) => m.height),
	}), 300))`)
	if got["scrollY"] != float64(0) {
		t.Errorf("the host page scrolled to %v", got["scrollY"])
	}
	heights, _ := got["heights"].([]any)
	if len(heights) == 0 {
		t.Fatalf("the host heard no height: %v", got)
	}
	if h, _ := heights[len(heights)-1].(float64); h < 1000 {
		t.Errorf("last height %v: less than a trace with a certificate's detail (heights %v)", h, heights)
	}
}

// TestBrowserEmbedExample loads examples/html/index.html, pointed at a
// running playground, from another origin: the lesson frame takes the
// height its page reports (examples/embed-resize.js), and the docs page
// keeps its own styles and scroll position.
func TestBrowserEmbedExample(t *testing.T) {
	t.Parallel()
	app := startApp(t, testConfig(t), true)
	ctx := newBrowser(t)
	examples := http.FileServer(http.Dir("../examples"))
	host := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/html/index.html" {
			examples.ServeHTTP(w, r)
			return
		}
		serveExample(w, "../examples/html/index.html", app)
	}))
	t.Cleanup(host.Close)
	if err := chromedp.Do(ctx, chromedp.Navigate(host.URL+"/html/index.html")); err != nil {
		t.Fatal(err)
	}
	waitJS(t, ctx, "the lesson frame to take its page's height", `(() => {
		const h = document.querySelector('[data-testid="lesson-frame"]').style.height;
		return h !== "480px" && parseInt(h) > 300;
	})()`)
	// The height settles: nothing in the embedded page grows with its frame.
	got := evalJS[map[string]any](t, ctx, `new Promise((resolve) => {
		const f = document.querySelector('[data-testid="lesson-frame"]');
		const before = f.style.height;
		setTimeout(() => resolve({before, after: f.style.height, scrollY: window.scrollY, width: getComputedStyle(document.body).maxWidth}), 1500);
	})`)
	if got["before"] != got["after"] {
		t.Errorf("the frame's height keeps changing: %v then %v", got["before"], got["after"])
	}
	if got["scrollY"] != float64(0) || got["width"] != "832px" {
		t.Errorf("the docs page changed: %v", got)
	}
}
