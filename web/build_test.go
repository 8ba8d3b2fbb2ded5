package web

import (
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/andybalholm/brotli"
)

func TestBundle(t *testing.T) {
	root, err := Root()
	if err != nil {
		t.Fatal(err)
	}
	files, err := bundle(root, true)
	if err != nil {
		t.Fatal(err)
	}
	var js, css *Asset
	for _, f := range files {
		switch {
		case strings.HasSuffix(f.Name, ".js"):
			js = f
		case strings.HasSuffix(f.Name, ".css"):
			css = f
		}
	}
	if js == nil || css == nil {
		t.Fatalf("bundle made %d files, want a .js and a .css", len(files))
	}
	if !strings.HasPrefix(js.Name, "main-") || js.ContentType != "text/javascript; charset=utf-8" {
		t.Errorf("script %q type %q", js.Name, js.ContentType)
	}
	// Go's wasm_exec.js and our API are in the one script.
	for _, want := range []string{"globalThis.Go", "__playgroundGoReady", "playground:update"} {
		if !bytes.Contains(js.Raw, []byte(want)) {
			t.Errorf("bundle lacks %q", want)
		}
	}
	// Same sources, same names: the hash is of the content.
	again, err := bundle(root, true)
	if err != nil {
		t.Fatal(err)
	}
	if again[0].Name != files[0].Name {
		t.Errorf("rebuilding renamed %s to %s", files[0].Name, again[0].Name)
	}
}

// TestWasmSize builds the client with the release flags and fails when its
// gzip size passes the budget in testdata/wasm-gzip-budget.txt. Raise the
// budget only with a reason in the commit that does.
func TestWasmSize(t *testing.T) {
	root, err := Root()
	if err != nil {
		t.Fatal(err)
	}
	raw, err := BuildWasm(context.Background(), root, t.TempDir(), t.Logf)
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile("testdata/wasm-gzip-budget.txt")
	if err != nil {
		t.Fatal(err)
	}
	budget, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	gz := len(gzipBytes(raw))
	t.Logf("wasm client: %d bytes raw, %d gzip (budget %d)", len(raw), gz, budget)
	if gz > budget {
		t.Errorf("wasm client is %d bytes gzipped, over the budget of %d: look at what grew (go list -deps with GOOS=js GOARCH=wasm ./wasm)", gz, budget)
	}
}

func TestServeEncodings(t *testing.T) {
	raw := bytes.Repeat([]byte("(module) "), 1000)
	f := newAsset("client", ".wasm", raw)
	f.Gzip = gzipBytes(raw)
	f.Brotli = brotliBytes(raw)
	a := &Assets{}
	a.add(f)
	tests := []struct {
		accept, encoding string
	}{
		{"", ""},
		{"gzip, deflate", "gzip"},
		{"gzip, deflate, br, zstd", "br"},
		{"br;q=0, gzip", "gzip"},
		{"identity", ""},
	}
	for _, tt := range tests {
		t.Run(tt.accept, func(t *testing.T) {
			req := httptest.NewRequest("GET", Prefix+f.Name, nil)
			req.Header.Set("Accept-Encoding", tt.accept)
			w := httptest.NewRecorder()
			a.ServeHTTP(w, req)
			res := w.Result()
			if res.StatusCode != 200 || res.Header.Get("Content-Type") != "application/wasm" || res.Header.Get("Content-Encoding") != tt.encoding {
				t.Fatalf("status %d type %q encoding %q", res.StatusCode, res.Header.Get("Content-Type"), res.Header.Get("Content-Encoding"))
			}
			var r io.Reader = res.Body
			switch tt.encoding {
			case "gzip":
				r, _ = gzip.NewReader(r)
			case "br":
				r = brotli.NewReader(r)
			}
			got, err := io.ReadAll(r)
			if err != nil || !bytes.Equal(got, raw) {
				t.Errorf("decoded body differs (%d bytes, %v)", len(got), err)
			}
			if !strings.Contains(res.Header.Get("Cache-Control"), "immutable") {
				t.Errorf("Cache-Control %q", res.Header.Get("Cache-Control"))
			}
		})
	}
	w := httptest.NewRecorder()
	a.ServeHTTP(w, httptest.NewRequest("GET", Prefix+"client-000000000000.wasm", nil))
	if w.Code != http.StatusNotFound || !strings.Contains(w.Body.String(), "reload the page") {
		t.Errorf("missing asset: %d %q", w.Code, w.Body.String())
	}
}

func TestWriteDirLoad(t *testing.T) {
	a := &Assets{Script: "main-1.js", Style: "main-1.css", Wasm: "client-1.wasm"}
	for _, name := range []string{"main-1.js", "main-1.css", "client-1.wasm"} {
		f := &Asset{Name: name, ContentType: "x/y", Raw: []byte(name)}
		f.Gzip = gzipBytes(f.Raw)
		a.add(f)
	}
	dir := t.TempDir()
	if err := a.WriteDir(dir); err != nil {
		t.Fatal(err)
	}
	b, err := Load(os.DirFS(dir))
	if err != nil {
		t.Fatal(err)
	}
	if b.Script != a.Script || b.Wasm != a.Wasm || b.Style != a.Style {
		t.Errorf("loaded %+v", b)
	}
	f, ok := b.File("client-1.wasm")
	if !ok || string(f.Raw) != "client-1.wasm" || f.BrotliBytes() == nil || f.ContentType != "x/y" {
		t.Errorf("loaded file %+v", f)
	}
}
