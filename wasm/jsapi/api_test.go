package jsapi

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/mqtts-playground/playground/wasm/client"
	"github.com/mqtts-playground/playground/web/tstypes"
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
	b, err := os.ReadFile("../../web/src/playground.d.ts")
	if err != nil {
		t.Fatal(err)
	}
	src := string(b)
	ts, err := os.ReadFile("../../web/src/playground.ts")
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
	// api_js.go defines exactly these methods.
	js, err := os.ReadFile("api_js.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range append(slices.Clone(ConnMethods), GlobalMethods...) {
		if !regexp.MustCompile(`"` + m + `":\s+js\.FuncOf\(`).Match(js) {
			t.Errorf("api_js.go does not define %s", m)
		}
	}
}

// The data the wasm module hands JavaScript has the shapes the page's
// types say: each value is a Go type whose TypeScript is generated
// (web/src/gen/wasm.ts), its JSON has the keys that TypeScript declares,
// and the methods declare those types.
func TestAPIDataShapes(t *testing.T) {
	ifaces := tstypes.Load(t, "../..", "web/src/gen/wasm.ts")
	for name, v := range map[string]any{
		"TLSInfo": TLSInfo{}, "Message": Message{}, "Identity": Identity{},
		"IdentityRequest": IdentityRequest{}, "SavedIdentity": SavedIdentity{}, "RevocationProof": RevocationProof{},
	} {
		tstypes.Match(t, ifaces, name, v)
	}

	// What each method resolves to, in the page's types: the generated
	// types of what api_js.go and identity_js.go pass to jsonValue.
	dts, err := os.ReadFile("../../web/src/playground.d.ts")
	if err != nil {
		t.Fatal(err)
	}
	ts, err := os.ReadFile("../../web/src/playground.ts")
	if err != nil {
		t.Fatal(err)
	}
	for _, sig := range []struct{ src, text string }{
		{string(dts), "trace(): TraceEvent[];"},
		{string(dts), "checks(): Check[];"},
		{string(dts), "recording(): Recording;"},
		{string(dts), "tlsInfo(): TLSInfo | null;"},
		{string(dts), "nextMessage(timeoutMs?: number): Promise<Message>;"},
		{string(dts), "clientId(): string;"},
		{string(dts), "brokerKey(): string;"},
		{string(dts), "decode(recording: Recording): Promise<TraceEvent[]>;"},
		{string(dts), "createIdentity(name: string): Promise<Identity>;"},
		{string(dts), "export type TraceEvent = Event;"},
		{string(dts), `import type { Identity, Message, TLSInfo } from "./gen/wasm";`},
		{string(ts), "newIdentity(name: string): Promise<IdentityRequest>;"},
		{string(ts), "setIdentityCert(id: string, chainPEM: string): Promise<Identity>;"},
		{string(ts), "exportIdentity(id: string): Promise<SavedIdentity>;"},
		{string(ts), "importIdentity(keyPEM: string, chainPEM: string): Promise<Identity>;"},
		{string(ts), "signRevocation(id: string, unixTime: string): Promise<RevocationProof>;"},
	} {
		if !strings.Contains(sig.src, sig.text) {
			t.Errorf("the page's types lack %q", sig.text)
		}
	}

	// Every value handed to JavaScript as JSON is of a named type: a map
	// or an anonymous struct has no generated TypeScript.
	fset := token.NewFileSet()
	for _, file := range []string{"api_js.go", "identity_js.go"} {
		f, err := parser.ParseFile(fset, file, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok || len(call.Args) != 1 {
				return true
			}
			if id, ok := call.Fun.(*ast.Ident); !ok || id.Name != "jsonValue" {
				return true
			}
			if lit, ok := call.Args[0].(*ast.CompositeLit); ok {
				if _, named := lit.Type.(*ast.Ident); !named {
					t.Errorf("%s: jsonValue of an unnamed type: declare it in api.go so its TypeScript is generated", fset.Position(call.Pos()))
				}
			}
			return true
		})
	}
}

// The options the page passes to connect are the ones the Go client reads
// (wasm/client.Options and TLSOptions, plus the listener).
func TestConnectOptionsMatchGo(t *testing.T) {
	b, err := os.ReadFile("../../web/src/playground.d.ts")
	if err != nil {
		t.Fatal(err)
	}
	ifaces := tstypes.Parse(string(b))
	jsonNames := func(v any) []string {
		var out []string
		typ := reflect.TypeOf(v)
		for i := range typ.NumField() {
			name, _, _ := strings.Cut(typ.Field(i).Tag.Get("json"), ",")
			if name != "-" && name != "" {
				out = append(out, name)
			}
		}
		return out
	}
	for _, tt := range []struct {
		ts   string
		want []string
	}{
		{"ConnectOptions", append(jsonNames(client.Options{}), "listener")},
		{"TLSOptions", jsonNames(client.TLSOptions{})},
	} {
		var got []string
		for k := range ifaces[tt.ts] {
			got = append(got, k)
		}
		slices.Sort(got)
		slices.Sort(tt.want)
		if !slices.Equal(got, tt.want) {
			t.Errorf("TypeScript %s has %q; the Go client reads %q", tt.ts, got, tt.want)
		}
	}
}
