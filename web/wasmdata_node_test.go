package web

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/evanw/esbuild/pkg/api"
	"github.com/mqtts-playground/playground/internal/nodejs"
	"github.com/mqtts-playground/playground/internal/wasmbin"
)

// unpackScript instantiates the modules of its arguments under Node.js: a
// module as Go's linker wrote it, then modules compactData rewrote, each
// with unpackData (web/src/wasmdata.ts, compiled to UNPACK) run on its
// memory, and prints for each rewritten one whether its memory is byte for
// byte the first one's, or the error unpackData threw.
const unpackScript = `
const fs = require("fs");
const { unpackData } = require(process.env.UNPACK);
// Go's imports, never called: instantiating runs nothing of Go's.
const imports = { gojs: new Proxy({}, { get: () => () => {} }) };
const load = async (file) => {
  const mod = await WebAssembly.compile(fs.readFileSync(file));
  const inst = await WebAssembly.instantiate(mod, imports);
  return { mod, mem: inst.exports.mem };
};
(async () => {
  const [want, ...files] = process.argv.slice(1);
  const w = new Uint8Array((await load(want)).mem.buffer);
  const out = [];
  for (const f of files) {
    const { mod, mem } = await load(f);
    try {
      unpackData(mod, mem);
      const g = new Uint8Array(mem.buffer);
      let diff = g.length === w.length ? -1 : Math.min(g.length, w.length);
      for (let i = 0; diff < 0 && i < g.length; i++) if (g[i] !== w[i]) diff = i;
      out.push({ same: diff < 0, firstDiff: diff, packed: WebAssembly.Module.customSections(mod, "` + PackedDataSection + `").length });
    } catch (e) {
      out.push({ error: e.message });
    }
  }
  console.log(JSON.stringify(out));
})().catch((e) => { console.log(JSON.stringify([{ error: String(e) }])); });
`

// TestUnpackDataInNode checks the page's loader against compactData: a
// real Go program for js/wasm, rewritten by compactData and unpacked by
// unpackData, starts with the memory the linker's module starts with; and
// unpackData refuses broken sections with what is wrong.
func TestUnpackDataInNode(t *testing.T) {
	nodejs.Path(t) // before building anything
	dir := t.TempDir()
	src, err := os.ReadFile("src/wasmdata.ts")
	if err != nil {
		t.Fatal(err)
	}
	js := api.Transform(string(src), api.TransformOptions{Loader: api.LoaderTS, Format: api.FormatCommonJS})
	if len(js.Errors) > 0 {
		t.Fatalf("esbuild: %v", js.Errors[0].Text)
	}
	write := func(name string, b []byte) string {
		t.Helper()
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	unpack := write("wasmdata.js", js.Code)

	// A Go program: its runtime alone has thousands of small segments.
	write("go.mod", []byte("module hello\n\ngo 1.26\n"))
	write("main.go", []byte("package main\n\nimport \"fmt\"\n\nfunc main() { fmt.Println(\"hello\") }\n"))
	build := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w", "-o", "hello.wasm", ".")
	build.Dir = dir
	build.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm", "GOFLAGS=")
	if msg, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, msg)
	}
	raw, err := os.ReadFile(filepath.Join(dir, "hello.wasm"))
	if err != nil {
		t.Fatal(err)
	}
	packed, err := compactData(raw)
	if err != nil {
		t.Fatal(err)
	}
	_, _, n := memoryImage(t, packed)
	if n < 1000 {
		t.Fatalf("compactData packed %d segments of a Go program; it has thousands of small ones", n)
	}
	t.Logf("%d segments packed; %d bytes raw, %d after", n, len(raw), len(packed))

	// Broken sections: the packed module with its section's tail cut or
	// grown (the length of the custom section itself kept right).
	before, body := splitPacked(t, packed)
	broken := func(edit func(body []byte) []byte) []byte {
		return appendPacked(append([]byte(nil), before...), edit(append([]byte(nil), body...)))
	}
	files := []string{
		write("raw.wasm", raw),
		write("packed.wasm", packed),
		write("cut.wasm", broken(func(b []byte) []byte { return b[:len(b)-3] })),
		write("extra.wasm", broken(func(b []byte) []byte { return append(b, 0) })),
		// One run of 2^35-1 empty segments, 0 bytes apart: nothing to write,
		// and no loop over them (it ran for minutes).
		write("empty.wasm", broken(func([]byte) []byte { return []byte{1, 0, 0, 0xff, 0xff, 0xff, 0xff, 0x7f} })),
		// One byte 2^32-1 bytes after address 0: past any memory.
		write("far.wasm", broken(func([]byte) []byte { return []byte{1, 0xff, 0xff, 0xff, 0xff, 0x0f, 1, 1, 'x'} })),
	}
	out := nodejs.Run(t, unpackScript, []string{"UNPACK=" + unpack}, files...)
	var got []struct {
		Same      bool   `json:"same"`
		FirstDiff int    `json:"firstDiff"`
		Packed    int    `json:"packed"`
		Error     string `json:"error"`
	}
	if err := json.Unmarshal(out, &got); err != nil || len(got) != 5 {
		t.Fatalf("node printed %q (%v)", out, err)
	}
	if !got[0].Same || got[0].Packed != 1 || got[0].Error != "" {
		t.Errorf("compactData + unpackData: %+v, want the same memory as the linker's module", got[0])
	}
	for i, want := range []string{"runs past the end", "bytes after the last run", "", "runs past the memory"} {
		switch g := got[i+1]; {
		case want == "" && g.Error != "":
			t.Errorf("%s: %+v, want no error", filepath.Base(files[i+2]), g)
		case !strings.Contains(g.Error, want):
			t.Errorf("%s: %+v, want the error %q", filepath.Base(files[i+2]), g, want)
		}
	}
}

// splitPacked returns m up to its PackedDataSection, and the section's body
// after its name.
func splitPacked(t *testing.T, m []byte) (before, body []byte) {
	t.Helper()
	r := &wasmbin.Reader{B: m, Off: 8, Prefix: "web: wasm"}
	for r.Off < len(m) && r.Err == nil {
		start := r.Off
		id := r.Bytes(1)
		b := r.Bytes(r.U32())
		if r.Err == nil && id[0] == 0 {
			s := &wasmbin.Reader{B: b}
			if string(s.Bytes(s.U32())) == PackedDataSection && s.Err == nil {
				return m[:start], b[s.Off:]
			}
		}
	}
	t.Fatalf("no %s section (%v)", PackedDataSection, r.Err)
	return nil, nil
}
