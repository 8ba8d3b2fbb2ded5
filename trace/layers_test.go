package trace

import (
	"cmp"
	"go/build"
	"io/fs"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// module is the import path of the repository's module.
const module = "github.com/mqtts-playground/playground"

// layers orders the packages of trace, by their path below trace/: data
// flows upwards, from bytes to events, and a package may import only trace
// packages of a lower layer, directly or through other packages of the
// module. Package trace itself, which stitches the layers into events,
// sits above them all; no layer imports it.
var layers = map[string]int{
	// Leaves: plain data types and helpers that know no protocol.
	"field":           0, // Field, the annotation every decoder produces
	"recording":       0, // Recording, Chunk, Side, Dir: the recorder's output
	"explain":         0, // TLS failures in plain words
	"internal/golden": 0, // golden files of the decoder tests
	// Wire formats, each on its own.
	"tlswire":  1, // TLS records, alerts, handshake messages
	"mqttwire": 1, // MQTT 3.1.1/5 control packets
	"pcapng":   1, // pcapng captures of recordings
	// Keys, which open the records of tlswire.
	"tlskeys": 2,
	// The events.
	"": 3, // package trace: Event, the recorder, Decode
	// Tools above trace.
	"internal/sessionrec": 4, // records real sessions for the goldens
}

// TestLayers checks that the imports of the trace packages, their tests'
// included, follow the order of layers.
func TestLayers(t *testing.T) {
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	found := map[string]bool{}
	err = filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || !d.IsDir() {
			return err
		}
		if d.Name() == "testdata" {
			return filepath.SkipDir
		}
		if _, err := build.ImportDir(path, build.ImportComment); err == nil {
			found[filepath.ToSlash(path)] = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for rel := range found {
		if rel == "." {
			rel = ""
		}
		if _, ok := layers[rel]; !ok {
			t.Errorf("package trace/%s is not in the layer table of layers_test.go: add it", rel)
		}
	}
	for rel, rank := range layers {
		if !found[cmp.Or(rel, ".")] {
			t.Errorf("the layer table names trace/%s, which holds no package", rel)
			continue
		}
		pkg, err := build.ImportDir(cmp.Or(rel, "."), 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range slices.Concat(pkg.Imports, pkg.TestImports, pkg.XTestImports) {
			for _, via := range moduleDeps(t, root, imp) {
				sub, ok := traceRel(via)
				if !ok {
					continue
				}
				r, known := layers[sub]
				if known && r < rank {
					continue
				}
				how := ""
				if via != imp {
					how = " through " + imp
				}
				t.Errorf("trace/%s (layer %d) imports %s (layer %d)%s: a layer may import only lower layers", rel, rank, via, r, how)
			}
		}
	}
}

// traceRel returns the path of a trace package below trace/.
func traceRel(path string) (string, bool) {
	if path == module+"/trace" {
		return "", true
	}
	rel, ok := strings.CutPrefix(path, module+"/trace/")
	return rel, ok
}

// moduleDeps returns path and, when it is a package of the module, the
// packages of the module it imports, directly or not (test files left out).
func moduleDeps(t *testing.T, root, path string) []string {
	t.Helper()
	seen := map[string]bool{}
	var walk func(p string)
	walk = func(p string) {
		if seen[p] {
			return
		}
		seen[p] = true
		rel, ok := strings.CutPrefix(p, module+"/")
		if !ok {
			return
		}
		pkg, err := build.ImportDir(filepath.Join(root, filepath.FromSlash(rel)), 0)
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		for _, imp := range pkg.Imports {
			walk(imp)
		}
	}
	walk(path)
	var out []string
	for p := range seen {
		if p == path || strings.HasPrefix(p, module+"/") {
			out = append(out, p)
		}
	}
	slices.Sort(out)
	return out
}
