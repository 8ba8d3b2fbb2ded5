package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// staticHost serves a static build from a plain file server (no project
// code), under a sub-path as GitHub Pages would, and records every
// request it gets.
type staticHost struct {
	base string // the build's URL, ending in "/"
	dir  string // the build's folder
	mu   sync.Mutex
	got  []string // "GET /path 200"
}

// statusWriter keeps the status a handler answered with.
type statusWriter struct {
	http.ResponseWriter
	code int
}

func (w *statusWriter) WriteHeader(code int) {
	w.code = code
	w.ResponseWriter.WriteHeader(code)
}

// startStaticHost writes the static build with the server's own flag
// (--build-static) into a fresh folder and serves it under prefix.
func startStaticHost(t testing.TB, prefix string) *staticHost {
	t.Helper()
	dir := t.TempDir()
	var out, errs bytes.Buffer
	start := time.Now()
	if err := run([]string{"--build-static", dir}, &out, &errs); err != nil {
		t.Fatalf("--build-static: %v\n%s", err, errs.String())
	}
	t.Logf("--build-static took %s: %s", time.Since(start).Round(time.Millisecond), strings.TrimSpace(out.String()))
	h := &staticHost{dir: dir}
	files := http.StripPrefix(strings.TrimSuffix(prefix, "/"), http.FileServer(http.Dir(dir)))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sw := &statusWriter{ResponseWriter: w, code: http.StatusOK}
		if strings.HasPrefix(r.URL.Path, prefix) {
			files.ServeHTTP(sw, r)
		} else {
			http.NotFound(sw, r)
		}
		h.mu.Lock()
		h.got = append(h.got, fmt.Sprintf("%s %s %d", r.Method, r.URL.RequestURI(), sw.code))
		h.mu.Unlock()
	}))
	t.Cleanup(srv.Close)
	h.base = srv.URL + prefix
	return h
}

// requests returns the requests the host got so far.
func (h *staticHost) requests() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.got...)
}

// noWebSockets fails the test, at its end, for any WebSocket the tab
// opened: the resource list checkRequests reads has none.
func noWebSockets(t *testing.T, ctx context.Context) {
	t.Helper()
	var mu sync.Mutex
	var opened []string
	if err := chromedp.Listen(ctx, func(ev any) {
		if e, ok := ev.(*network.EventWebSocketCreated); ok {
			mu.Lock()
			opened = append(opened, e.URL)
			mu.Unlock()
		}
	}); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, network.Enable, network.EnableParams{})
		return err
	})); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		mu.Lock()
		defer mu.Unlock()
		if len(opened) > 0 {
			t.Errorf("the static build opened WebSockets (it has no server to reach): %v", opened)
		}
	})
}

// checkRequests fails the test for a request outside the build's sub-path
// or one the build had no file for, and for a resource the page loaded
// from anywhere but the build.
func (h *staticHost) checkRequests(t *testing.T, ctx context.Context, prefix string) {
	t.Helper()
	for _, r := range h.requests() {
		f := strings.Fields(r)
		if !strings.HasPrefix(f[1], prefix) || f[2] != "200" && f[2] != "301" && f[2] != "304" {
			t.Errorf("the static host got %s: the page asked for something the build does not have", r)
		}
	}
	if others := evalJS[[]string](t, ctx, `performance.getEntriesByType("resource").map((e) => e.name).filter((u) => !u.startsWith(`+jsString(h.base)+`))`); len(others) > 0 {
		t.Errorf("the page loaded resources from elsewhere: %v", others)
	}
}

// openStatic loads a page of the static build and waits for the wasm (the
// broker and the client) and, on a lesson page, the step runner.
func openStatic(t *testing.T, ctx context.Context, url string, lesson bool) {
	t.Helper()
	if err := chromedp.Do(ctx, chromedp.Navigate(url)); err != nil {
		t.Fatal(err)
	}
	js := `playground.ready.then(() => document.documentElement.dataset.build === "static" && !!document.querySelector('[data-testid="static-note"]') && typeof window.__playgroundBroker === "object")`
	if lesson {
		js = `playground.ready.then(() => document.documentElement.dataset.build === "static" && !!document.querySelector('[data-testid="static-note"]') && typeof window.lessonRunner === "object")`
	}
	ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](js, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("%s: the static page did not load: %v", url, err)
	}
	if !ok {
		t.Fatalf("%s: the page does not say it is the static build (<html data-build>, the static note, the in-page broker)", url)
	}
}

// staticWalk is the lesson TestBrowserStatic walks step by step: TLS
// handshakes on mqtts, mtls and the rogue relay, publish and subscribe, an
// exercise, the broker's side of each.
const staticWalk = "myths-and-pitfalls"

// TestBrowserStatic builds the static build with --build-static and serves
// it from a plain file server under a sub-path, with no playground server
// running. Headless Chromium walks a whole lesson (handshakes,
// publish/subscribe, the broker's records: every step passes), opens every
// lesson page and does its essential step (the overview path; steps
// marked {server} instead say so and do not run), runs
// the demo on the playground page, makes and opens a connection on the
// broker view, opens the replay page and a lesson with ?embed=1. No request
// reaches anything but the build's files.
func TestBrowserStatic(t *testing.T) {
	t.Parallel()
	const prefix = "/docs/playground/"
	host := startStaticHost(t, prefix)
	c := course(t)

	t.Run("walk", func(t *testing.T) {
		t.Parallel()
		l := c.Lesson(staticWalk)
		if l == nil {
			t.Fatalf("no lesson %s", staticWalk)
		}
		ctx := newBrowser(t)
		noWebSockets(t, ctx)
		openStatic(t, ctx, host.base+"lessons/"+l.ID+"/", true)
		start := time.Now()
		for _, s := range l.Steps {
			if s.Server {
				t.Fatalf("%s step %d is marked {server}: walk a lesson the static build can do whole", l.ID, s.N)
			}
			walkStep(t, ctx, l, s)
		}
		t.Logf("walked %s (%d steps) in %s", l.ID, len(l.Steps), time.Since(start).Round(10*time.Millisecond))
		host.checkRequests(t, ctx, prefix)
	})

	t.Run("lessons", func(t *testing.T) {
		t.Parallel()
		ctx := newBrowser(t)
		noWebSockets(t, ctx)
		marked := 0
		for _, l := range c.Lessons {
			openStatic(t, ctx, host.base+"lessons/"+l.ID+"/", true)
			for _, s := range l.Steps {
				sel := stepSel(s.N)
				shown := lessonJS[bool](t, ctx, `!!document.querySelector('`+sel+` [data-testid="needs-server"]')`)
				if shown != s.Server {
					t.Errorf("%s step %d: marked {server} %v, the page says it needs the server %v", l.ID, s.N, s.Server, shown)
				}
				if !s.Server {
					if s.Essential {
						walkStep(t, ctx, l, s)
					}
					continue
				}
				marked++
				where := fmt.Sprintf("%s step %d (%s:%d)", l.ID, s.N, l.File, s.Line)
				if s.Do() != nil || len(s.Checks()) > 0 {
					if !lessonJS[bool](t, ctx, `document.querySelector('`+sel+` [data-testid="run"]').disabled`) {
						t.Errorf("%s: its button is enabled in the static build", where)
					}
				}
				r := lessonJS[runResult](t, ctx, fmt.Sprintf(`lessonRunner.runStep(%d)`, s.N))
				if r.OK || !strings.Contains(r.Error, "needs the full playground server") {
					t.Errorf("%s: runStep gave %+v, want the message that it needs the server", where, r)
				}
				if status := lessonJS[string](t, ctx, `document.querySelector('`+sel+` [data-testid="step-status"]')?.textContent ?? ""`); !strings.Contains(status, "go run ./server") {
					t.Errorf("%s: its status says %q, want how to get the server", where, status)
				}
				if log := lessonJS[string](t, ctx, `document.querySelector('`+sel+` [data-testid="log"]').textContent`); log != "" {
					t.Errorf("%s: it ran anyway: %s", where, log)
				}
			}
		}
		if marked == 0 {
			t.Error("no step of the course is marked {server}")
		}
		host.checkRequests(t, ctx, prefix)
	})

	t.Run("pages", func(t *testing.T) {
		t.Parallel()
		ctx := newBrowser(t)
		noWebSockets(t, ctx)
		// The playground: the demo's handshake, publish and subscribe, with
		// the in-page broker's side lined up.
		openStatic(t, ctx, host.base, false)
		runDemo(t, ctx, "static-demo")
		if n := lessonJS[int](t, ctx, `document.querySelectorAll('[data-testid="trace-event"]').length`); n < 10 {
			t.Errorf("the demo's trace has %d events", n)
		}
		// The broker view: this page's broker, its own connection.
		openStatic(t, ctx, host.base+"trace/", false)
		if err := chromedp.Do(ctx, chromedp.Click(`[data-testid="static-demo"]`), chromedp.WaitVisible(`[data-testid="conn"]`), chromedp.Click(`[data-testid="conn"]`)); err != nil {
			t.Fatal(err)
		}
		waitJS(t, ctx, "the broker's record of the connection", `document.querySelectorAll('[data-testid="trace-event"][data-type="PUBLISH"]').length >= 2`)
		if hidden := lessonJS[bool](t, ctx, `document.querySelector('[data-testid="download-pcapng"]').hidden && document.querySelector('[data-testid="open-replay"]').hidden`); !hidden {
			t.Error("the broker view links to the server's .pcapng or replay of a connection")
		}
		// A list filter the broker refuses: the view says the broker's reason.
		openStatic(t, ctx, host.base+"trace/?outcome=bogus", false)
		waitJS(t, ctx, "the broker's reason for the filter", `/The broker view stopped: .*give open, ok or failed/.test(document.querySelector('[data-testid="trace-status"]').textContent)`)
		// The replay page asks for a file.
		openStatic(t, ctx, host.base+"replay/", false)
		waitJS(t, ctx, "the replay page", `/Give a session/.test(document.querySelector('[data-testid="replay-status"]').textContent)`)
		// Embedded with a session beside the build (?embed=1&src=), it shows
		// the session alone, as the server's page does: no file form.
		rec := evalJS[string](t, ctx, `playground.connect({listener: "mqtts"}).then(async (c) => { const r = JSON.stringify(c.recording()); await c.close(); return r; })`)
		if err := os.WriteFile(filepath.Join(host.dir, "session.json"), []byte(rec), 0o644); err != nil {
			t.Fatal(err)
		}
		openStatic(t, ctx, host.base+"replay/?embed=1&src=../session.json", false)
		waitJS(t, ctx, "the embedded replay of a session", `document.querySelectorAll('[data-testid="trace-event"]').length >= 5`)
		if got := lessonJS[string](t, ctx, `[...document.querySelectorAll('[data-testid="replay"] form, #replay-file, [data-testid="replay-local"]')].filter((e) => e.offsetParent !== null).length + " shown; from " + document.querySelector('[data-testid="replay-src"]')?.textContent`); got != "0 shown; from ../session.json" {
			t.Errorf("the embedded static replay: %s; want no file form, and where the session comes from", got)
		}
		// The course map links to the lesson folders.
		openStatic(t, ctx, host.base+"lessons/", false)
		href := lessonJS[string](t, ctx, `document.querySelector('[data-testid="lesson-link"]').href`)
		if want := host.base + "lessons/" + c.Lessons[0].ID + "/"; href != want {
			t.Errorf("course map links the first lesson as %s, want %s", href, want)
		}
		// ?embed=1: embed mode, started by the page itself.
		openStatic(t, ctx, host.base+"lessons/"+c.Lessons[0].ID+"/?embed=1", true)
		if !lessonJS[bool](t, ctx, `document.documentElement.hasAttribute("data-embed") && document.querySelector("header.site").offsetParent === null`) {
			t.Error("?embed=1 on a static page: not in embed mode, or the navigation shows")
		}
		host.checkRequests(t, ctx, prefix)
		// Opened as a file, no browser loads the wasm: the page says how
		// to serve the build.
		if err := chromedp.Do(ctx, chromedp.Navigate("file://"+filepath.ToSlash(host.dir)+"/index.html")); err != nil {
			t.Fatal(err)
		}
		msg, err := chromedp.Run(ctx, chromedp.Evaluate[string](`playground.ready.then(() => "loaded", (e) => e.message)`, chromedp.EvalAwaitPromise))
		if err != nil || !strings.Contains(msg, "python3 -m http.server") {
			t.Errorf("the static build opened from a file: ready gave %q, %v; want how to serve it", msg, err)
		}
	})
}
