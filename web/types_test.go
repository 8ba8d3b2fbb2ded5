package web

import (
	"bytes"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/mqtts-playground/playground/broker"
	"github.com/mqtts-playground/playground/lessons"
	"github.com/mqtts-playground/playground/trace"
	"github.com/mqtts-playground/playground/trace/explain"
	"github.com/mqtts-playground/playground/trace/tlswire"
	"github.com/mqtts-playground/playground/wasm/client"
	"github.com/mqtts-playground/playground/web/tstypes"
)

const (
	// genDir holds the generated TypeScript, relative to the repository root.
	genDir = "web/src/gen"
	// module is the import path prefix of the packages tygo.yaml names.
	module = "github.com/mqtts-playground/playground/"
)

// tygoConfig returns tygo.yaml and its packages: import path → output file.
func tygoConfig(t *testing.T) (string, map[string]string) {
	t.Helper()
	b, err := os.ReadFile("../tygo.yaml")
	if err != nil {
		t.Fatal(err)
	}
	pkgs := map[string]string{}
	re := regexp.MustCompile(`(?m)^  - path: (\S+)\n(?:    .*\n)*?    output_path: (\S+)$`)
	for _, m := range re.FindAllStringSubmatch(string(b), -1) {
		pkgs[m[1]] = m[2]
	}
	if len(pkgs) == 0 {
		t.Fatal("tygo.yaml names no package with an output_path")
	}
	return string(b), pkgs
}

// The committed TypeScript in web/src/gen is what tygo makes of the Go
// types today: the test generates it afresh into a temporary folder and
// compares.
func TestGeneratedTypesUpToDate(t *testing.T) {
	cfg, pkgs := tygoConfig(t)
	tmp := t.TempDir()
	for _, out := range pkgs {
		if filepath.Dir(out) != genDir {
			t.Fatalf("tygo.yaml writes %s, outside %s", out, genDir)
		}
		cfg = strings.ReplaceAll(cfg, "output_path: "+out+"\n", "output_path: "+filepath.Join(tmp, filepath.Base(out))+"\n")
	}
	if err := os.WriteFile(filepath.Join(tmp, "tygo.yaml"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("go", "tool", "-modfile=tools/go.mod", "tygo", "generate", "--config", filepath.Join(tmp, "tygo.yaml"))
	cmd.Dir = ".."
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%v: %v\n%s", cmd, err, out)
	}
	var want []string
	for _, out := range pkgs {
		name := filepath.Base(out)
		want = append(want, name)
		fresh, err := os.ReadFile(filepath.Join(tmp, name))
		if err != nil {
			t.Fatal(err)
		}
		committed, err := os.ReadFile(filepath.Join("..", out))
		if err != nil || !bytes.Equal(committed, fresh) {
			t.Errorf("%s is stale (it differs from what the Go types generate): run ./task generate and commit it", out)
		}
		if m := regexp.MustCompile(`unknown /\* ([\w.]+) \*/`).FindSubmatch(fresh); m != nil {
			t.Errorf("%s: tygo does not know Go type %s: add it to type_mappings in tygo.yaml", out, m[1])
		}
	}
	ents, err := os.ReadDir(filepath.Join("..", genDir))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if !slices.Contains(want, e.Name()) {
			t.Errorf("%s/%s is generated from nothing in tygo.yaml: remove it", genDir, e.Name())
		}
	}
}

// tstypeUnion reads a tstype tag that lists string literals ('a' | 'b').
var tstypeUnion = regexp.MustCompile(`^'[^']*'(?: \| '[^']*')*$`)

// Where a Go field's TypeScript type is written by hand as a union of
// literals (tygo makes string types of Go's named string types whose
// constants lack the type's name as prefix), the union lists exactly the
// values of the type's constants.
func TestTypeUnionsMatchConstants(t *testing.T) {
	_, pkgs := tygoConfig(t)
	checked := 0
	// The string values of each named type's constants, in all the
	// packages (trace names the types of trace/recording by aliases).
	values := map[string][]string{}
	parsed := map[string][]*ast.File{}
	fset := token.NewFileSet()
	for path := range pkgs {
		dir := filepath.Join("..", strings.TrimPrefix(path, module))
		ents, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		var files []*ast.File
		for _, e := range ents {
			if !strings.HasSuffix(e.Name(), ".go") || strings.HasSuffix(e.Name(), "_test.go") {
				continue
			}
			f, err := parser.ParseFile(fset, filepath.Join(dir, e.Name()), nil, 0)
			if err != nil {
				t.Fatal(err)
			}
			files = append(files, f)
		}
		parsed[path] = files
		for _, f := range files {
			for _, d := range f.Decls {
				g, ok := d.(*ast.GenDecl)
				if !ok || g.Tok != token.CONST {
					continue
				}
				for _, s := range g.Specs {
					vs := s.(*ast.ValueSpec)
					id, ok := vs.Type.(*ast.Ident)
					if !ok {
						continue
					}
					for _, v := range vs.Values {
						if lit, ok := v.(*ast.BasicLit); ok && lit.Kind == token.STRING {
							s, _ := strconv.Unquote(lit.Value)
							values[id.Name] = append(values[id.Name], s)
						}
					}
				}
			}
		}
	}
	for _, files := range parsed {
		for _, f := range files {
			ast.Inspect(f, func(n ast.Node) bool {
				field, ok := n.(*ast.Field)
				if !ok || field.Tag == nil {
					return true
				}
				tag, _ := strconv.Unquote(field.Tag.Value)
				ts := reflect.StructTag(tag).Get("tstype")
				id, ok := field.Type.(*ast.Ident)
				if !ok || !tstypeUnion.MatchString(ts) || values[id.Name] == nil {
					return true
				}
				var union []string
				for _, v := range strings.Split(ts, " | ") {
					union = append(union, strings.Trim(v, "'"))
				}
				slices.Sort(union)
				want := slices.Sorted(slices.Values(values[id.Name]))
				if !slices.Equal(union, want) {
					t.Errorf("%s: tstype %s of a %s field lists %q; the constants of %s are %q", fset.Position(field.Pos()), ts, id.Name, union, id.Name, want)
				}
				checked++
				return true
			})
		}
	}
	if checked < 5 {
		t.Errorf("checked %d tstype unions, want at least 5 (trace Side and Dir fields, lessons Block.Kind)", checked)
	}
}

// The JSON the Go types marshal to has the keys the generated TypeScript
// declares (the wasm and server types are checked in their packages).
func TestGeneratedTypesMatchJSON(t *testing.T) {
	for _, tt := range []struct {
		file   string
		values map[string]any
	}{
		{"trace.ts", map[string]any{"Event": trace.Event{}}},
		{"field.ts", map[string]any{"Field": trace.Field{}}},
		{"tlswire.ts", map[string]any{"CertInfo": tlswire.CertInfo{}}},
		{"explain.ts", map[string]any{"Fault": explain.Fault{}}},
		{"recording.ts", map[string]any{"Recording": trace.Recording{}, "Chunk": trace.Chunk{}, "RecordStart": trace.RecordStart{}}},
		{"broker.ts", map[string]any{"ListenerInfo": broker.ListenerInfo{}, "ConnInfo": broker.ConnInfo{}, "Health": broker.Health{}, "ConnList": broker.ConnList{}, "ConnTrace": broker.ConnTrace{}}},
		{"lessons.ts", map[string]any{"Step": lessons.Step{}, "Block": lessons.Block{}, "Answer": lessons.Answer{}, "Target": lessons.Target{}, "Check": lessons.Check{}}},
		{"client.ts", map[string]any{"Check": client.Check{}}},
	} {
		ifaces := tstypes.Load(t, "..", genDir+"/"+tt.file)
		for name, v := range tt.values {
			tstypes.Match(t, ifaces, name, v)
		}
	}
}
