package main

import (
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// interfaceMethods lists the method names of a TypeScript interface.
func interfaceMethods(t *testing.T, src, name string) []string {
	t.Helper()
	start := strings.Index(src, "export interface "+name+" {")
	if start < 0 {
		t.Fatalf("web/src/playground.d.ts has no interface %s", name)
	}
	body := src[start:]
	body = body[:strings.Index(body, "\n}")]
	var out []string
	for _, m := range regexp.MustCompile(`(?m)^  (\w+)\(`).FindAllStringSubmatch(body, -1) {
		out = append(out, m[1])
	}
	return out
}

// The methods the wasm module defines are the ones the TypeScript types
// promise: a rename on either side fails here, not in a user's page.
func TestAPIMatchesTypes(t *testing.T) {
	b, err := os.ReadFile("../web/src/playground.d.ts")
	if err != nil {
		t.Fatal(err)
	}
	src := string(b)
	ts, err := os.ReadFile("../web/src/playground.ts")
	if err != nil {
		t.Fatal(err)
	}
	got := interfaceMethods(t, src, "Connection")
	want := append(slices.Clone(ConnMethods), ScriptConnMethods...)
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("Connection methods in playground.d.ts %v, ConnMethods+ScriptConnMethods in api.go %v", got, want)
	}
	for _, m := range ScriptConnMethods {
		if !strings.Contains(string(ts), "\n      "+m+",") && !strings.Contains(string(ts), m+":") {
			t.Errorf("playground.ts does not define %s", m)
		}
	}
	// The page's script (playground.ts) is the only caller of the Go
	// global; it must use every method and call no other.
	calls := regexp.MustCompile(`__playgroundGo!?\.(\w+)\(`).FindAllStringSubmatch(string(ts), -1)
	used := map[string]bool{}
	for _, c := range calls {
		used[c[1]] = true
		if !slices.Contains(GlobalMethods, c[1]) {
			t.Errorf("playground.ts calls %s.%s, which wasm does not define", GlobalName, c[1])
		}
	}
	for _, m := range GlobalMethods {
		if !used[m] {
			t.Errorf("playground.ts never calls %s.%s", GlobalName, m)
		}
	}
	// main_js.go defines exactly these methods.
	js, err := os.ReadFile("main_js.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range append(slices.Clone(ConnMethods), GlobalMethods...) {
		if !regexp.MustCompile(`"` + m + `":\s+js\.FuncOf\(`).Match(js) {
			t.Errorf("main_js.go does not define %s", m)
		}
	}
}

// denied are packages that must never end up in the browser client: they
// belong to the server or to tests, and each would add megabytes.
var denied = []string{
	"github.com/mqtts-playground/playground/broker",
	"github.com/mqtts-playground/playground/server",
	"github.com/mqtts-playground/playground/web",
	"github.com/mochi-mqtt/server/v2", // the broker core; only its packets codec may come along
	"github.com/mochi-mqtt/server/v2/hooks",
	"github.com/a-h/templ",
	"github.com/evanw/esbuild",
	"github.com/gorilla/websocket",
	"github.com/chromedp",
	"testing",
	"net/http/httptest",
}

func TestWasmDependencies(t *testing.T) {
	cmd := exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}}", ".")
	cmd.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	deps := strings.Fields(string(out))
	for _, d := range deps {
		for _, bad := range denied {
			if d == bad || strings.HasPrefix(d, bad+"/") && !strings.HasPrefix(d, "github.com/mochi-mqtt/server/v2/packets") && !strings.HasPrefix(d, "github.com/mochi-mqtt/server/v2/mempool") {
				t.Errorf("the wasm client imports %s (denied: %s)", d, bad)
			}
		}
	}
	for _, must := range []string{"crypto/tls", "github.com/coder/websocket", "github.com/mochi-mqtt/server/v2/packets"} {
		if !slices.Contains(deps, must) {
			t.Errorf("the wasm client does not import %s", must)
		}
	}
}
