package main

import (
	"encoding/json"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/PuerkitoBio/goquery"
	"github.com/mqtts-playground/playground/broker"
	"github.com/mqtts-playground/playground/web"
)

// fakeStaticAssets is a build with small stand-ins for the script,
// stylesheet and wasm, for tests of the pages alone.
func fakeStaticAssets(t *testing.T) *web.Assets {
	t.Helper()
	files := fstest.MapFS{}
	type file struct {
		Name        string `json:"name"`
		ContentType string `json:"contentType"`
	}
	m := struct {
		Script string `json:"script"`
		Style  string `json:"style"`
		Wasm   string `json:"wasm"`
		Files  []file `json:"files"`
	}{Script: "main-0123.js", Style: "main-4567.css", Wasm: "static-89ab.wasm"}
	for _, n := range []string{m.Script, m.Style, m.Wasm} {
		for _, ext := range []string{"", ".gz", ".br"} {
			files[n+ext] = &fstest.MapFile{Data: []byte("/* " + n + " */")}
		}
		m.Files = append(m.Files, file{Name: n, ContentType: "text/plain"})
	}
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	files["manifest.json"] = &fstest.MapFile{Data: b}
	a, err := web.Load(files)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// linkAttr finds the URLs of a page: links, sources, form actions and the
// wasm the script loads.
var linkAttr = regexp.MustCompile(`\s(href|src|action|data-wasm)="([^"]*)"`)

// TestStaticPages writes the static build's pages (with stand-in assets)
// and follows every URL in them as a browser would, from a host's root and
// from a sub-path: each is relative, and each names a file of the build (a
// folder's index.html). Every page says it is the static build.
func TestStaticPages(t *testing.T) {
	dir := t.TempDir()
	cfg, err := parseConfig(nil, func(string) string { return "" }, os.Stderr)
	if err != nil {
		t.Fatal(err)
	}
	ls, err := inPageListeners()
	if err != nil {
		t.Fatal(err)
	}
	c := course(t)
	if err := writeStatic(dir, cfg, fakeStaticAssets(t), c, func() []broker.ListenerInfo { return ls }); err != nil {
		t.Fatal(err)
	}
	exists := func(p string) bool {
		st, err := os.Stat(filepath.Join(dir, filepath.FromSlash(p)))
		if err == nil && st.IsDir() {
			_, err = os.Stat(filepath.Join(dir, filepath.FromSlash(p), "index.html"))
		}
		return err == nil
	}
	roots := []string{"https://docs.example.com/", "https://user.example.io/project/"}
	pagesSeen, checked := 0, 0
	err = filepath.WalkDir(dir, func(file string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(file, ".html") {
			return err
		}
		pagesSeen++
		rel, _ := filepath.Rel(dir, file)
		rel = filepath.ToSlash(rel)
		b, err := os.ReadFile(file)
		if err != nil {
			return err
		}
		for _, root := range roots {
			site, _ := url.Parse(root)
			page := site.ResolveReference(&url.URL{Path: rel})
			for _, m := range linkAttr.FindAllStringSubmatch(string(b), -1) {
				raw := strings.ReplaceAll(m[2], "&amp;", "&")
				if strings.HasPrefix(raw, "#") || strings.HasPrefix(raw, "https://") || strings.HasPrefix(raw, "http://") || strings.HasPrefix(raw, "mailto:") {
					continue
				}
				if strings.HasPrefix(raw, "/") {
					t.Errorf("%s: %s=%q is relative to the host's root, not to the page", rel, m[1], raw)
					continue
				}
				u, err := page.Parse(raw)
				if err != nil {
					t.Errorf("%s: %s=%q: %v", rel, m[1], raw, err)
					continue
				}
				if !strings.HasPrefix(u.Path, site.Path) {
					t.Errorf("%s: %s=%q leaves the sub-path %s: %s", rel, m[1], raw, site.Path, u.Path)
					continue
				}
				checked++
				if target := strings.TrimPrefix(u.Path, site.Path); !exists(target) {
					t.Errorf("%s: %s=%q names %s, which the build does not have", rel, m[1], raw, target)
				}
			}
		}
		doc, err := goquery.NewDocumentFromReader(strings.NewReader(string(b)))
		if err != nil {
			return err
		}
		if doc.Find(`html[data-build="static"]`).Length() != 1 || doc.Find(`[data-testid="static-note"]`).Length() != 1 {
			t.Errorf("%s: no data-build=static or no static note", rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := len(staticPages(c)); pagesSeen != want {
		t.Errorf("%d pages written, want %d", pagesSeen, want)
	}
	for _, f := range []string{"index.html", "lessons/index.html", "trace/index.html", "replay/index.html", "favicon.svg", "assets/static-89ab.wasm"} {
		if !exists(f) {
			t.Errorf("the build has no %s", f)
		}
	}
	if checked < 2*20*pagesSeen {
		t.Errorf("only %d URLs checked in %d pages", checked, pagesSeen)
	}
	// Commands for the learner's own clients name the full playground on
	// their machine, as `go run ./server` starts it.
	b, err := os.ReadFile(filepath.Join(dir, "lessons", "client-configuration", "index.html"))
	if err != nil {
		t.Fatal(err)
	}
	if want := "mosquitto_pub -h localhost -p 8883 --cafile ca.pem"; !strings.Contains(string(b), want) {
		t.Errorf("the client-configuration lesson has no %q", want)
	}
	// So does the playground page's "Connect your own client".
	if b, err = os.ReadFile(filepath.Join(dir, "index.html")); err != nil {
		t.Fatal(err)
	}
	if want := "curl -O http://localhost:8080/ca.pem\nmosquitto_sub -h localhost -p 8883 --cafile ca.pem"; !strings.Contains(string(b), want) {
		t.Errorf("the playground page has no %q", want)
	}
	if dst := os.Getenv("STATIC_KEEP"); dst != "" {
		os.CopyFS(dst, os.DirFS(dir))
	}
}

// TestRelativeURLs: each kind of root-relative URL a page holds, as the
// static build rewrites it from a page at the root and from a lesson.
func TestRelativeURLs(t *testing.T) {
	ps := []staticPage{
		{"/", "index.html"},
		{"/lessons", "lessons/index.html"},
		{"/lessons?path=overview", "lessons/overview/index.html"},
		{"/lessons/x", "lessons/x/index.html"},
		{"/lessons/y", "lessons/y/index.html"},
		{"/replay", "replay/index.html"},
	}
	files := map[string][]byte{"/assets/main-1.js": {}, "/favicon.svg": {}}
	for _, c := range []struct{ from, in, want, err string }{
		{"index.html", `<a href="/">`, `<a href="./">`, ""},
		{"index.html", `<a href="/lessons">`, `<a href="lessons/">`, ""},
		{"index.html", `<script src="/assets/main-1.js" data-wasm="/assets/main-1.js">`, `<script src="assets/main-1.js" data-wasm="assets/main-1.js">`, ""},
		{"lessons/x/index.html", `<a href="/">`, `<a href="../../">`, ""},
		{"lessons/x/index.html", `<a href="/lessons/x">`, `<a href="./">`, ""},
		{"lessons/x/index.html", `<a href="/lessons/y#step-2">`, `<a href="../y/#step-2">`, ""},
		{"lessons/x/index.html", `<a href="/lessons?path=overview">`, `<a href="../overview/">`, ""},
		{"lessons/x/index.html", `<link rel="icon" href="/favicon.svg">`, `<link rel="icon" href="../../favicon.svg">`, ""},
		{"lessons/x/index.html", `<form action="/replay">`, `<form action="../../replay/">`, ""},
		{"lessons/x/index.html", `<a href="/replay?src=%2Fs.json&amp;embed=1#event=c-1">`, `<a href="../../replay/?src=%2Fs.json&amp;embed=1#event=c-1">`, ""},
		{"lessons/x/index.html", `<a href="#step-3"> <a href="https://example.com/a"> <a href="//cdn.example/x">`, `<a href="#step-3"> <a href="https://example.com/a"> <a href="//cdn.example/x">`, ""},
		{"lessons/x/index.html", `<a href="/ca.pem"> <a href="/lessons?path=review">`, "", "lessons/x/index.html links to /ca.pem, /lessons?path=review, which the static build does not have"},
	} {
		got, err := relativeURLs([]byte(c.in), c.from, ps, files)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%s: %s: error %v, want %q", c.from, c.in, err, c.err)
			}
			continue
		}
		if err != nil || string(got) != c.want {
			t.Errorf("%s: %s:\n got %s, %v\nwant %s", c.from, c.in, got, err, c.want)
		}
	}
}
