package main

import (
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// deps lists the packages a js/wasm build of pkg imports.
func deps(t *testing.T, pkg string) []string {
	t.Helper()
	cmd := exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}}", pkg)
	cmd.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	return strings.Fields(string(out))
}

// imports reports whether dep is pkg or inside it.
func imports(dep, pkg string) bool { return dep == pkg || strings.HasPrefix(dep, pkg+"/") }

// denied are packages that must never end up in the browser client: they
// belong to the server or to tests, and each would add megabytes; or they
// cost bytes the client saves by doing without (encoding/json and its
// reflection; net/http, which a WebSocket library brings along).
var denied = []string{
	"github.com/mqtts-playground/playground/broker",
	"github.com/mqtts-playground/playground/server",
	"github.com/mqtts-playground/playground/web",
	"github.com/mochi-mqtt/server/v2", // the broker core, and its packets codec: the client encodes its own packets
	"github.com/a-h/templ",
	"github.com/evanw/esbuild",
	"github.com/gorilla/websocket",
	"github.com/coder/websocket",
	"github.com/chromedp",
	"testing",
	"encoding/json",
	"net/http",
}

func TestWasmDependencies(t *testing.T) {
	ds := deps(t, ".")
	for _, d := range ds {
		for _, bad := range denied {
			if imports(d, bad) {
				t.Errorf("the wasm client imports %s (denied: %s)", d, bad)
			}
		}
	}
	for _, must := range []string{"crypto/tls", "github.com/mqtts-playground/playground/wasm/wsconn", "github.com/mqtts-playground/playground/trace/mqttwire"} {
		if !slices.Contains(ds, must) {
			t.Errorf("the wasm client does not import %s", must)
		}
	}
}

// staticDenied are the packages denied to the client but what the broker
// needs: the static build's wasm (./static) carries the broker, so the
// server's packages, the tests' and the HTTP stack (which the broker needs
// only for MQTT over WebSocket, see mochi's PATCHES.md, patch 24) must stay
// out of it.
var staticDenied = slices.DeleteFunc(slices.Clone(denied), func(p string) bool {
	return p == "github.com/mqtts-playground/playground/broker" || p == "github.com/mochi-mqtt/server/v2" || p == "encoding/json"
})

func TestStaticWasmDependencies(t *testing.T) {
	ds := deps(t, "./static")
	for _, d := range ds {
		for _, bad := range staticDenied {
			if imports(d, bad) {
				t.Errorf("the static wasm imports %s (denied: %s)", d, bad)
			}
		}
	}
	for _, must := range []string{"crypto/tls", "github.com/mqtts-playground/playground/broker", "github.com/mqtts-playground/playground/broker/listenerset", "github.com/mqtts-playground/playground/wasm/jsapi"} {
		if !slices.Contains(ds, must) {
			t.Errorf("the static wasm does not import %s", must)
		}
	}
}
