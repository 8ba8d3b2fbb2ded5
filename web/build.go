// Package web builds and serves the playground's browser assets: the
// TypeScript bundle (esbuild, driven from Go: no npm at run time) and the Go
// WebAssembly client (go build with GOOS=js GOARCH=wasm), each with a
// content-hashed name and precompressed with gzip and brotli.
//
// Build compiles from the source tree (go run ./server does this at start,
// caching compressed output); Load reads a build written by WriteDir, which
// the single-binary build embeds. The TypeScript sources live in web/src.
package web

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"mime"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/andybalholm/brotli"
	"github.com/evanw/esbuild/pkg/api"
)

// Asset is one file served under /assets/.
type Asset struct {
	Name        string `json:"name"` // hashed file name
	ContentType string `json:"contentType"`
	Raw         []byte `json:"-"`
	Gzip        []byte `json:"-"`
	Brotli      []byte `json:"-"` // nil when not (yet) available
}

// Assets is a complete build.
type Assets struct {
	// Script, Style and Wasm are the hashed names of the entry script, its
	// stylesheet and the wasm client; Widget that of the widget script
	// (web/src/widget.ts, served at a stable URL by the server).
	Script string `json:"script"`
	Style  string `json:"style"`
	Wasm   string `json:"wasm"`
	Widget string `json:"widget"`

	mu    sync.RWMutex
	files map[string]*Asset
}

// File returns the asset with the given hashed name.
func (a *Assets) File(name string) (*Asset, bool) {
	a.mu.RLock()
	defer a.mu.RUnlock()
	f, ok := a.files[name]
	return f, ok
}

func (a *Assets) add(f *Asset) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.files == nil {
		a.files = map[string]*Asset{}
	}
	a.files[f.Name] = f
}

// WasmBuildFlags are the go build flags of the wasm client: no paths and no
// symbol tables in the binary, which saves about a fifth of its size; and no
// inlining outside the code that runs hot in a handshake or a trace decode:
// the runtime, maps, sync, math/big and the crypto primitives
// (crypto/internal/...). Inlined copies of the rest cost 147 KB of the
// brotli form (1,723,113 → 1,576,446 bytes, with compactData) for no
// speed-up that the wasm benchmarks could tell from their noise
// (BenchmarkHandshake, BenchmarkVerifyServer, trace's BenchmarkDecode under
// node); without the runtime's inlining they ran 3 to 5 times slower, so
// it stays. The size test builds with the same flags. A later -gcflags
// pattern wins over an earlier one for the packages it matches.
var WasmBuildFlags = []string{"-trimpath", "-ldflags=-s -w",
	"-gcflags=all=-l",
	"-gcflags=runtime=", "-gcflags=internal/runtime/...=", "-gcflags=internal/sync=", "-gcflags=sync/...=",
	"-gcflags=math/big=", "-gcflags=math/bits=", "-gcflags=crypto/internal/...=",
}

// Options configure Build.
type Options struct {
	// Root is the module's source folder; empty finds it.
	Root string
	// CacheDir keeps the wasm binary and compressed files between runs;
	// empty uses the user cache folder.
	CacheDir string
	// Dev skips minification, for readable scripts while developing.
	Dev bool
	// Log, when set, receives progress lines.
	Log func(format string, args ...any)
	// NoBrotli skips the brotli form of the wasm client (tens of seconds
	// of CPU when not cached): gzip only. For tests.
	NoBrotli bool
	// Static builds the static build's wasm (./wasm/static: the broker,
	// its listeners and CA, and the client, all inside the page) in place
	// of the wasm client; its asset is named static-HASH.wasm.
	Static bool
}

// Root finds the module's source folder: the folder of this file at build
// time, or the main module of the go command in the working folder.
func Root() (string, error) {
	if _, file, _, ok := runtime.Caller(0); ok && filepath.IsAbs(file) {
		root := filepath.Dir(filepath.Dir(file))
		if _, err := os.Stat(filepath.Join(root, "go.mod")); err == nil {
			return root, nil
		}
	}
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("web: cannot find the source tree (no embedded assets in this binary, and `go env GOMOD` failed: %v); run from the repository with `go run ./server`, or build with `./task build`", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", errors.New("web: cannot find the source tree: run from the repository with `go run ./server`, or build with `./task build`")
	}
	return filepath.Dir(gomod), nil
}

// Build compiles the wasm client and bundles the TypeScript. The brotli
// files of large assets are made in the background when not cached yet:
// until then gzip is served.
func Build(ctx context.Context, o Options) (*Assets, error) {
	var err error
	if o.Root == "" {
		if o.Root, err = Root(); err != nil {
			return nil, err
		}
	}
	if o.CacheDir == "" {
		base, err := os.UserCacheDir()
		if err != nil {
			base = os.TempDir()
		}
		o.CacheDir = filepath.Join(base, "mqtts-playground")
	}
	if err := os.MkdirAll(o.CacheDir, 0o755); err != nil {
		return nil, fmt.Errorf("web: cache folder: %w", err)
	}
	logf := o.Log
	if logf == nil {
		logf = func(string, ...any) {}
	}
	a := &Assets{}
	var wg sync.WaitGroup
	var wasmErr error
	wg.Go(func() {
		build, name := BuildWasm, "client"
		if o.Static {
			build, name = BuildStaticWasm, "static"
		}
		var raw []byte
		raw, wasmErr = build(ctx, o.Root, o.CacheDir, logf)
		if wasmErr == nil {
			f := newAsset(name, ".wasm", raw)
			a.Wasm = f.Name
			if o.NoBrotli {
				f.Gzip = gzipBytes(f.Raw)
			} else {
				compress(f, o.CacheDir, logf)
			}
			a.add(f)
		}
	})
	files, err := bundle(o.Root, !o.Dev)
	if err == nil {
		for _, f := range files {
			compress(f, "", logf)
			a.add(f)
			switch {
			case strings.HasPrefix(f.Name, "widget-") && path.Ext(f.Name) == ".js":
				a.Widget = f.Name
			case path.Ext(f.Name) == ".js":
				a.Script = f.Name
			case path.Ext(f.Name) == ".css":
				a.Style = f.Name
			}
		}
	}
	wg.Wait()
	if err != nil {
		return nil, err
	}
	if wasmErr != nil {
		return nil, wasmErr
	}
	return a, nil
}

// BuildWasm compiles the wasm client with WasmBuildFlags and returns it
// with its data segments rewritten (see compactData).
func BuildWasm(ctx context.Context, root, outDir string, logf func(string, ...any)) ([]byte, error) {
	return buildWasmMain(ctx, root, outDir, "./wasm", "client.wasm", "wasm client", logf)
}

// buildWasmMain compiles the main package pkg for js/wasm with
// WasmBuildFlags into outDir/file and returns it with its data segments
// joined and packed (see compactData); what names it in messages.
func buildWasmMain(ctx context.Context, root, outDir, pkg, file, what string, logf func(string, ...any)) ([]byte, error) {
	out := filepath.Join(outDir, file)
	start := time.Now()
	args := append([]string{"build"}, WasmBuildFlags...)
	args = append(args, "-o", out, pkg)
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm", "CGO_ENABLED=0")
	if msg, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("web: building the %s failed: %v\n%s", what, err, msg)
	}
	raw, err := os.ReadFile(out)
	if err != nil {
		return nil, fmt.Errorf("web: %w", err)
	}
	if raw, err = compactData(raw); err != nil {
		return nil, fmt.Errorf("web: the %s as built: %w", what, err)
	}
	logf("%s built in %s: %s raw", what, time.Since(start).Round(time.Millisecond), size(len(raw)))
	return raw, nil
}

func size(n int) string { return fmt.Sprintf("%.2f MB", float64(n)/1e6) }

func newAsset(name, ext string, raw []byte) *Asset {
	sum := sha256.Sum256(raw)
	ct := mime.TypeByExtension(ext)
	switch ext {
	case ".wasm":
		ct = "application/wasm"
	case ".js":
		ct = "text/javascript; charset=utf-8"
	case ".css":
		ct = "text/css; charset=utf-8"
	}
	return &Asset{Name: name + "-" + hex.EncodeToString(sum[:6]) + ext, ContentType: ct, Raw: raw}
}

// compress makes the gzip form at once and the brotli form from cacheDir,
// or in the background when it is not cached (it takes seconds for the
// wasm). With an empty cacheDir brotli is made at once.
func compress(f *Asset, cacheDir string, logf func(string, ...any)) {
	f.Gzip = gzipBytes(f.Raw)
	if cacheDir == "" {
		f.Brotli = brotliBytes(f.Raw)
		return
	}
	cached := filepath.Join(cacheDir, f.Name+".br")
	if b, err := os.ReadFile(cached); err == nil {
		f.Brotli = b
		logf("%s: %s gzip, %s brotli", f.Name, size(len(f.Gzip)), size(len(b)))
		return
	}
	logf("%s: %s gzip; making the brotli form in the background", f.Name, size(len(f.Gzip)))
	go func() {
		b := brotliBytes(f.Raw)
		if err := os.WriteFile(cached+".tmp", b, 0o644); err == nil {
			os.Rename(cached+".tmp", cached)
		}
		setBrotli(f, b)
		logf("%s: %s brotli ready", f.Name, size(len(b)))
	}()
}

var brotliMu sync.RWMutex

func setBrotli(f *Asset, b []byte) {
	brotliMu.Lock()
	defer brotliMu.Unlock()
	f.Brotli = b
}

// BrotliBytes returns the brotli form when there is one (yet), else nil.
func (f *Asset) BrotliBytes() []byte {
	brotliMu.RLock()
	defer brotliMu.RUnlock()
	return f.Brotli
}

func gzipBytes(raw []byte) []byte {
	var b bytes.Buffer
	w, _ := gzip.NewWriterLevel(&b, gzip.BestCompression)
	w.Write(raw)
	w.Close()
	return b.Bytes()
}

// brotliBytes compresses at the highest quality with the largest window
// browsers accept: for the wasm client about 12 % smaller than quality 9.
func brotliBytes(raw []byte) []byte {
	var b bytes.Buffer
	w := brotli.NewWriterOptions(&b, brotli.WriterOptions{Quality: brotli.BestCompression, LGWin: 24})
	w.Write(raw)
	w.Close()
	return b.Bytes()
}

// bundle runs esbuild on web/src/main.ts (the pages) and web/src/widget.ts
// (the custom elements for other sites' pages).
func bundle(root string, minify bool) ([]*Asset, error) {
	goroot, err := exec.Command("go", "env", "GOROOT").Output()
	if err != nil {
		return nil, fmt.Errorf("web: go env GOROOT: %w", err)
	}
	wasmExec := filepath.Join(strings.TrimSpace(string(goroot)), "lib", "wasm", "wasm_exec.js")
	res := api.Build(api.BuildOptions{
		AbsWorkingDir:     root,
		EntryPoints:       []string{"web/src/main.ts", "web/src/widget.ts"},
		Bundle:            true,
		Write:             false,
		Outdir:            "out",
		EntryNames:        "[name]-[hash]",
		Format:            api.FormatIIFE,
		Target:            api.ES2020,
		MinifyWhitespace:  minify,
		MinifyIdentifiers: minify,
		MinifySyntax:      minify,
		LegalComments:     api.LegalCommentsEndOfFile,
		Plugins: []api.Plugin{{
			// wasm_exec.js comes from the Go toolchain that builds the
			// client: the two must match.
			Name: "wasm_exec",
			Setup: func(b api.PluginBuild) {
				b.OnResolve(api.OnResolveOptions{Filter: `^wasm_exec$`}, func(api.OnResolveArgs) (api.OnResolveResult, error) {
					return api.OnResolveResult{Path: wasmExec}, nil
				})
			},
		}},
	})
	if len(res.Errors) > 0 {
		msgs := api.FormatMessages(res.Errors, api.FormatMessagesOptions{Kind: api.ErrorMessage})
		return nil, fmt.Errorf("web: bundling web/src failed:\n%s", strings.Join(msgs, "\n"))
	}
	var out []*Asset
	for _, f := range res.OutputFiles {
		base := filepath.Base(f.Path)
		ext := path.Ext(base)
		name := strings.TrimSuffix(base, ext)
		if i := strings.LastIndex(name, "-"); i > 0 {
			name = name[:i] // our own hash replaces esbuild's
		}
		out = append(out, newAsset(name, ext, f.Contents))
	}
	return out, nil
}

// manifest is the index of a build written by WriteDir.
type manifest struct {
	Script string   `json:"script"`
	Style  string   `json:"style"`
	Wasm   string   `json:"wasm"`
	Widget string   `json:"widget"`
	Files  []*Asset `json:"files"`
}

// WriteDir writes the build to dir (raw, .gz and .br files and
// manifest.json), waiting for brotli forms still being made.
func (a *Assets) WriteDir(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	m := manifest{Script: a.Script, Style: a.Style, Wasm: a.Wasm, Widget: a.Widget}
	a.mu.RLock()
	defer a.mu.RUnlock()
	for _, f := range a.files {
		br := f.BrotliBytes()
		if br == nil {
			br = brotliBytes(f.Raw)
		}
		for ext, b := range map[string][]byte{"": f.Raw, ".gz": f.Gzip, ".br": br} {
			if err := os.WriteFile(filepath.Join(dir, f.Name+ext), b, 0o644); err != nil {
				return err
			}
		}
		m.Files = append(m.Files, f)
	}
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "manifest.json"), b, 0o644)
}

// Load reads a build written by WriteDir.
func Load(fsys fs.FS) (*Assets, error) {
	b, err := fs.ReadFile(fsys, "manifest.json")
	if err != nil {
		return nil, err
	}
	var m manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("web: manifest.json: %w", err)
	}
	a := &Assets{Script: m.Script, Style: m.Style, Wasm: m.Wasm, Widget: m.Widget}
	for _, f := range m.Files {
		if f.Raw, err = fs.ReadFile(fsys, f.Name); err != nil {
			return nil, err
		}
		if f.Gzip, err = fs.ReadFile(fsys, f.Name+".gz"); err != nil {
			return nil, err
		}
		if f.Brotli, err = fs.ReadFile(fsys, f.Name+".br"); err != nil {
			return nil, err
		}
		a.add(f)
	}
	return a, nil
}
