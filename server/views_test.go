package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
	"github.com/mqtts-playground/playground/broker"
)

// fetchPage GETs url with the given Accept header.
func fetchPage(t *testing.T, u, accept string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest("GET", u, nil)
	if err != nil {
		t.Fatal(err)
	}
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, body
}

func parseHTML(t *testing.T, body []byte) *goquery.Document {
	t.Helper()
	doc, err := goquery.NewDocumentFromReader(bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

// pageLoadsBundle checks that a page loads the same script, style and wasm
// client as the playground page.
func pageLoadsBundle(t *testing.T, app *App, doc *goquery.Document) {
	t.Helper()
	script := doc.Find("script[data-wasm]")
	if script.AttrOr("src", "") != "/assets/"+app.assets.Script || script.AttrOr("data-wasm", "") != "/assets/"+app.assets.Wasm {
		t.Errorf("script %q wasm %q", script.AttrOr("src", ""), script.AttrOr("data-wasm", ""))
	}
	if href := doc.Find(`link[rel="stylesheet"]`).AttrOr("href", ""); href != "/assets/"+app.assets.Style {
		t.Errorf("stylesheet %q", href)
	}
}

const browserAccept = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8"

func TestTracePageOrJSON(t *testing.T) {
	app := startApp(t, testConfig(t), true)
	base := "http://" + app.httpAddr

	// A browser gets the broker view.
	resp, body := fetchPage(t, base+"/trace", browserAccept)
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("browser GET /trace: %d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	if !strings.Contains(resp.Header.Get("Vary"), "Accept") {
		t.Errorf("Vary %q", resp.Header.Get("Vary"))
	}
	doc := parseHTML(t, body)
	for _, id := range []string{"conn-list", "trace", "trace-status", "conn-title", "nav"} {
		if doc.Find(`[data-testid="`+id+`"]`).Length() != 1 {
			t.Errorf("/trace has no single data-testid=%q", id)
		}
	}
	if doc.Find(`[data-testid="controls"]`).Length() != 0 {
		t.Error("/trace has the playground's connect controls")
	}
	if cur := doc.Find(`nav a[aria-current]`).AttrOr("href", ""); cur != "/trace" {
		t.Errorf("current page link %q", cur)
	}
	pageLoadsBundle(t, app, doc)

	// Everyone else gets the JSON list, as before: plain GET, fetch's */*,
	// an explicit JSON request, and a client that refuses HTML.
	for _, accept := range []string{"", "*/*", "application/json", "text/html;q=0, application/json"} {
		resp, body := fetchPage(t, base+"/trace", accept)
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/json" {
			t.Errorf("Accept %q: %d %q", accept, resp.StatusCode, resp.Header.Get("Content-Type"))
			continue
		}
		var list broker.ConnList
		if err := json.Unmarshal(body, &list); err != nil || !bytes.HasPrefix(body, []byte(`{"connections":`)) {
			t.Errorf("Accept %q: body %s (%v)", accept, body, err)
		}
	}
}

func TestTraceJSONWithoutAssets(t *testing.T) {
	app := startApp(t, testConfig(t), false)
	resp, body := fetchPage(t, "http://"+app.httpAddr+"/trace", browserAccept)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/json" || !bytes.HasPrefix(body, []byte(`{"connections":`)) {
		t.Errorf("without web assets a browser gets the JSON: %d %q %s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
}

func TestReplayPage(t *testing.T) {
	app := startApp(t, testConfig(t), true)
	base := "http://" + app.httpAddr
	for _, tt := range []struct {
		src    string
		status int
		err    string
	}{
		{src: "", status: 200},
		{src: "/trace/c1/recording", status: 200},
		{src: "session.json", status: 200},
		{src: "https://example.org/session.json", status: 200},
		{src: "http://127.0.0.1:9/x.json", status: 200},
		{src: "javascript:alert(1)", status: 400, err: "not a javascript: URL"},
		{src: "data:application/json,{}", status: 400, err: "not a data: URL"},
		{src: "file:///etc/passwd", status: 400, err: "not a file: URL"},
		{src: "https:///nohost", status: 400, err: "no host"},
	} {
		u := base + "/replay"
		if tt.src != "" {
			u += "?src=" + url.QueryEscape(tt.src)
		}
		resp, body := fetchPage(t, u, browserAccept)
		if resp.StatusCode != tt.status || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
			t.Errorf("src %q: %d %q, want %d", tt.src, resp.StatusCode, resp.Header.Get("Content-Type"), tt.status)
		}
		doc := parseHTML(t, body)
		for _, id := range []string{"replay", "replay-status", "replay-error", "replay-file", "trace", "nav"} {
			if doc.Find(`[data-testid="`+id+`"]`).Length() != 1 {
				t.Errorf("src %q: no single data-testid=%q", tt.src, id)
			}
		}
		if doc.Find(`[data-testid="controls"], [data-testid="demo"], [data-testid="conn-list"]`).Length() != 0 {
			t.Errorf("src %q: the replay page has connect controls or the connection list", tt.src)
		}
		errEl := doc.Find(`[data-testid="replay-error"]`)
		_, hidden := errEl.Attr("hidden")
		if tt.err == "" && (!hidden || strings.TrimSpace(errEl.Text()) != "") {
			t.Errorf("src %q: error shown: %q", tt.src, errEl.Text())
		}
		if tt.err != "" && (hidden || !strings.Contains(errEl.Text(), tt.err)) {
			t.Errorf("src %q: error %q (hidden %v), want %q", tt.src, errEl.Text(), hidden, tt.err)
		}
		if tt.src != "" && doc.Find(`[data-testid="replay-src"]`).Text() != tt.src {
			t.Errorf("src %q shown as %q", tt.src, doc.Find(`[data-testid="replay-src"]`).Text())
		}
		pageLoadsBundle(t, app, doc)
	}
}

func TestMainPageLinksViews(t *testing.T) {
	app := startApp(t, testConfig(t), true)
	_, body := get(t, "http://"+app.httpAddr+"/")
	doc := parseHTML(t, body)
	if href := doc.Find(`header [data-testid="nav-trace"]`).AttrOr("href", ""); href != "/trace" {
		t.Errorf("header link to the broker view: %q", href)
	}
	if txt := doc.Find(`header [data-testid="nav-trace"]`).Text(); txt != "Broker view" {
		t.Errorf("broker view link text %q", txt)
	}
	if href := doc.Find(`header [data-testid="nav-replay"]`).AttrOr("href", ""); href != "/replay" {
		t.Errorf("header link to the replay page: %q", href)
	}
}

func TestAcceptsHTML(t *testing.T) {
	for accept, want := range map[string]bool{
		"":                                false,
		"*/*":                             false,
		"application/json":                false,
		"text/html":                       true,
		browserAccept:                     true,
		"application/xhtml+xml":           true,
		"text/html;q=0":                   false,
		"text/html;q=0.0, */*":            false,
		"text/html;q=0.05":                true,
		"text/plain, text/html;level=1":   true,
		"garbage;;;, text/html":           true,
		"application/json, text/html;q=0": false,
	} {
		r, _ := http.NewRequest("GET", "/trace", nil)
		r.Header.Set("Accept", accept)
		if got := acceptsHTML(r); got != want {
			t.Errorf("acceptsHTML(%q) = %v, want %v", accept, got, want)
		}
	}
}
