package main

import (
	"context"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/mqtts-playground/playground/broker"
	"github.com/mqtts-playground/playground/lessons"
	"github.com/mqtts-playground/playground/wasm/inpage"
	"github.com/mqtts-playground/playground/web"
)

// The static build (--build-static DIR, ./task static) is the playground
// as files for any static host: the pages the server renders, through the
// same handlers and templates, with the broker inside the page (the static
// wasm, ./wasm/static) instead of behind the server's routes.
//
// Every URL in the pages is made relative to the page, so the build works
// from a host's root and from a sub-path (https://user.github.io/project/).
// Each page is a folder's index.html: /lessons/ID is lessons/ID/index.html,
// linked as lessons/ID/. The course map's paths and a lesson's overview,
// which the server tells apart by ?path=, are folders of their own.

// buildStatic writes the static build into cfg.BuildStatic (--build-static):
// it builds the script, the stylesheet and the static wasm from the source
// tree, then the pages.
func buildStatic(ctx context.Context, cfg Config, stdout io.Writer, log *slog.Logger) error {
	course, err := loadLessons()
	if err != nil {
		return err
	}
	listeners, err := inPageListeners()
	if err != nil {
		return err
	}
	slow := time.AfterFunc(2*time.Second, func() {
		log.Info("building the static build's page and wasm (the first run takes a minute)")
	})
	a, err := web.Build(ctx, web.Options{Dev: cfg.Dev, Static: true, NoBrotli: true, Log: func(format string, args ...any) { log.Debug(fmt.Sprintf(format, args...)) }})
	slow.Stop()
	if err != nil {
		return err
	}
	if err := writeStatic(cfg.BuildStatic, cfg, a, course, func() []broker.ListenerInfo { return listeners }); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "static build written to %s: serve that folder from any static file host (python3 -m http.server -d %s)\n", cfg.BuildStatic, cfg.BuildStatic)
	return nil
}

// staticPage is one page of the static build: the URL the server answers
// it at, and the file it becomes.
type staticPage struct{ url, file string }

// staticPages lists the pages of the static build. The workshop pages
// (/join, /attendee, /instructor) need the server and are not among them.
func staticPages(course *lessons.Course) []staticPage {
	ps := []staticPage{
		{"/", "index.html"},
		{"/lessons", "lessons/index.html"},
		{"/lessons?path=overview", "lessons/overview/index.html"},
		{"/lessons?path=review", "lessons/review/index.html"},
		{"/trace", "trace/index.html"},
		{"/replay", "replay/index.html"},
	}
	for _, l := range course.Lessons {
		ps = append(ps,
			staticPage{"/lessons/" + l.ID, "lessons/" + l.ID + "/index.html"},
			staticPage{"/lessons/" + l.ID + "?path=overview", "lessons/" + l.ID + "/overview/index.html"})
	}
	return ps
}

// staticVars are the lesson placeholders' values in the static build. The
// broker in the page has no host or port a device could reach, so
// commands for the learner's own clients name the full playground as
// `go run ./server` with the flags of this build (by default its own
// defaults) runs it on the learner's machine, and the CA file as the
// `curl -O …/ca.pem` of the lessons saves it. Each page says so. The page
// script fills site.ca.pem and site.ca.url with the in-page CA for code.
func staticVars(cfg Config) lessons.Vars {
	port := func(addr, conventional string) string {
		if _, p, err := net.SplitHostPort(addr); err == nil && p != "0" {
			return p
		}
		return conventional
	}
	url := "http://localhost:" + port(cfg.HTTP, "8080")
	return lessons.Vars{
		"host": "localhost", "name": "localhost", "url": url,
		"port.mqtt": port(cfg.MQTT, "1883"), "port.mqtts": port(cfg.MQTTS, "8883"), "port.mtls": port(cfg.MTLS, "8884"),
		"ca.url": url + "/ca.pem", "ca.file": "ca.pem",
		"ca.pem": "(the CA certificate of your playground server, PEM: download it from " + url + "/ca.pem)",
	}
}

// staticFiles are the files beside the pages: favicon and web assets,
// by the URL path the pages name them with.
func staticFiles(a *web.Assets) map[string][]byte {
	files := map[string][]byte{"/favicon.svg": faviconSVG}
	for _, name := range []string{a.Script, a.Style, a.Wasm} {
		if f, ok := a.File(name); ok {
			files[web.Prefix+name] = f.Raw
		}
	}
	return files
}

// writeStatic renders the static build's pages with the server's handlers
// and writes them, with the files they need, into dir. a is a build of the
// static wasm (web.Options.Static); listeners are the in-page broker's.
func writeStatic(dir string, cfg Config, a *web.Assets, course *lessons.Course, listeners func() []broker.ListenerInfo) error {
	assets := assetURLs(a)
	assets.Static = true
	vars := staticVars(cfg)
	mux := http.NewServeMux()
	mux.Handle("GET /{$}", newIndexPage(assets, listeners).withVars(func(*http.Request) lessons.Vars { return vars }))
	newLessonPages(course, assets, listeners).withVars(func(*http.Request) lessons.Vars { return vars }).register(mux)
	mux.Handle("GET /trace", newTracePage(assets))
	mux.Handle("GET /replay", newReplayPage(assets))

	ps := staticPages(course)
	files := staticFiles(a)
	out := map[string][]byte{}
	for _, p := range ps {
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, p.url, nil))
		if rec.Code != http.StatusOK {
			return fmt.Errorf("static: GET %s: %d %s", p.url, rec.Code, strings.TrimSpace(rec.Body.String()))
		}
		body, err := relativeURLs(rec.Body.Bytes(), p.file, ps, files)
		if err != nil {
			return err
		}
		out[p.file] = body
	}
	for u, b := range files {
		out[strings.TrimPrefix(u, "/")] = b
	}
	names := make([]string, 0, len(out))
	for name := range out {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		file := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
			return fmt.Errorf("static: %w", err)
		}
		if err := os.WriteFile(file, out[name], 0o644); err != nil {
			return fmt.Errorf("static: %w", err)
		}
	}
	return nil
}

// localURL is an attribute holding a URL of the site's own (a path from
// its root): the URLs to make relative. Templ writes attributes in double
// quotes.
var localURL = regexp.MustCompile(`(\s(?:href|src|action|data-wasm)=")(/[^/"][^"]*|/)"`)

// relativeURLs rewrites the root-relative URLs of a page written to file
// into URLs relative to it: a page's URL to its folder ("../trace/"), a
// file's to the file. A URL of neither is an error naming it: the static
// build would link to something it does not have.
func relativeURLs(page []byte, file string, ps []staticPage, files map[string][]byte) ([]byte, error) {
	byURL := map[string]string{}
	for _, p := range ps {
		byURL[p.url] = path.Dir(p.file)
	}
	from := path.Dir(file)
	var bad []string
	outp := localURL.ReplaceAllFunc(page, func(m []byte) []byte {
		g := localURL.FindSubmatch(m)
		raw := html.UnescapeString(string(g[2]))
		u, err := url.Parse(raw)
		if err != nil {
			bad = append(bad, raw)
			return m
		}
		var rel string
		switch {
		case byURL[u.Path+"?"+u.RawQuery] != "" && u.RawQuery != "":
			rel = relDir(from, byURL[u.Path+"?"+u.RawQuery])
		case byURL[u.Path] != "" && (u.RawQuery == "" || u.Path == "/replay"):
			// The replay page reads its query (?src=) itself; any other
			// query is the server's to answer, and has a page of its own.
			rel = relDir(from, byURL[u.Path])
			if u.RawQuery != "" {
				rel += "?" + u.RawQuery
			}
		case files[u.Path] != nil && u.RawQuery == "":
			rel = relPath(from, strings.TrimPrefix(u.Path, "/"))
		default:
			bad = append(bad, raw)
			return m
		}
		if u.Fragment != "" {
			rel += "#" + u.EscapedFragment()
		}
		return []byte(string(g[1]) + html.EscapeString(rel) + `"`)
	})
	if len(bad) > 0 {
		slices.Sort(bad)
		return nil, fmt.Errorf("static: %s links to %s, which the static build does not have", file, strings.Join(slices.Compact(bad), ", "))
	}
	return outp, nil
}

// relDir is the relative URL of folder to (slash-separated, "." the root)
// from a page in folder from: "../lessons/x/", or "./" for its own.
func relDir(from, to string) string {
	r := relPath(from, to)
	if r == "." {
		return "./"
	}
	return r + "/"
}

// relPath is filepath.Rel for the slash-separated paths of the build: the
// relative URL of the file or folder to from a page in folder from.
func relPath(from, to string) string {
	split := func(p string) []string {
		if p == "." || p == "" {
			return nil
		}
		return strings.Split(p, "/")
	}
	f, t := split(from), split(to)
	i := 0
	for i < len(f) && i < len(t) && f[i] == t[i] {
		i++
	}
	parts := slices.Repeat([]string{".."}, len(f)-i)
	parts = append(parts, t[i:]...)
	if len(parts) == 0 {
		return "."
	}
	return strings.Join(parts, "/")
}

// inPageListeners are the listeners of the broker in the static build's
// page, for the pages' listener lists: those of the same broker package
// the static wasm runs (wasm/inpage), made here once and closed.
func inPageListeners() ([]broker.ListenerInfo, error) {
	b, err := inpage.New(inpage.Options{})
	if err != nil {
		return nil, fmt.Errorf("static: %w", err)
	}
	defer b.Close()
	var h broker.Health
	if err := json.Unmarshal([]byte(b.Health()), &h); err != nil {
		return nil, fmt.Errorf("static: the in-page broker's health: %w", err)
	}
	return h.Listeners, nil
}
