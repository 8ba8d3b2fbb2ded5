package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/mqtts-playground/playground/internal/nodejs"
	"github.com/mqtts-playground/playground/wasm/inpage"
	"github.com/mqtts-playground/playground/wasm/jsapi"
)

// script runs the static wasm under Node.js as a page would (Go's
// wasm_exec.js, a location, the ready callback), drives the JavaScript API
// and prints one JSON line of what it saw.
const script = `
require(process.env.WASM_EXEC);
globalThis.location = { hostname: "docs.example.com" };
const out = {};
globalThis.__playgroundGoReady = async () => {
  try {
    const b = globalThis[process.env.BROKER], g = globalThis[process.env.CLIENT];
    out.mode = b.mode;
    out.methods = Object.keys(b).filter((k) => typeof b[k] === "function").sort();
    out.clientMethods = Object.keys(g).filter((k) => typeof g[k] === "function").sort();
    out.names = JSON.parse(b.health()).names;
    // A Go function cannot throw: failures come back as Error objects
    // (the page's script throws them).
    const failed = (v) => (v instanceof Error ? v.message : "no Error: " + String(v));
    out.traceConnThrew = failed(b.traceConn("c999"));
    // A recording a person dropped that is not one: an Error, and the wasm
    // lives on (a Go panic would end it).
    out.decodeThrew = failed(g.decode({ chunks: 5 }));
    const c = await g.connect({ listener: "mqtts", tunnelURL: "unused", clientId: "node-1", tls: { caPEM: b.caPEM(), serverName: "localhost" } });
    out.tls = c.tlsInfo();
    out.brokerEvents = JSON.parse(b.traceConn(c.brokerKey())).events.length;
    out.listed = JSON.parse(b.traceList("listener=mqtts")).connections.length;
    out.watched = await new Promise((resolve) => {
      const stop = b.watch(c.brokerKey(), (json) => { stop(); resolve(JSON.parse(json).events.length); });
    });
    try { await g.connect({ listener: "expired", tunnelURL: "unused", tls: { caPEM: b.caPEM(), serverName: "localhost" } }); out.expired = "connected"; } catch (e) { out.expired = e.message; }
    try { await b.signCSR("not a request"); out.csr = "signed"; } catch (e) { out.csr = e.message; }
    try { await b.revoke("", "", ""); out.revoke = "revoked"; } catch (e) { out.revoke = e.message; }
    // The identity lesson: a key in the page, a certificate from the CA in
    // the page, mtls with it, a revocation the page proves, mtls refused.
    const req = await g.newIdentity("node-device");
    const idn = await g.setIdentityCert(req.id, await b.signCSR(req.csrPEM));
    const mtls = { listener: "mtls", tunnelURL: "unused", clientId: "node-device", tls: { caPEM: b.caPEM(), serverName: "localhost", identity: idn.id } };
    out.mtlsUser = (await g.connect(mtls)).clientId();
    const when = String(Math.floor(Date.now() / 1000));
    const proof = await g.signRevocation(idn.id, when);
    out.revoked = await b.revoke(proof.certPEM, proof.proof, when);
    try { await g.connect(mtls); out.afterRevoke = "connected"; } catch (e) { out.afterRevoke = e.message; }
  } catch (e) {
    out.error = String(e && e.stack || e);
  }
  console.log(JSON.stringify(out));
  process.exit(0);
};
const go = new Go();
WebAssembly.instantiate(require("fs").readFileSync(process.env.WASM), go.importObject).then((r) => go.run(r.instance));
`

// TestJavaScriptAPI builds the static wasm and drives its JavaScript API
// under Node.js: the globals and their methods, errors thrown and
// rejected as the contract says, a TLS connection to mqtts through the
// broker in the same wasm, the broker's trace of it. (The page in
// Chromium is tested with the static build's pages.)
func TestJavaScriptAPI(t *testing.T) {
	nodejs.Path(t) // before building anything
	goroot, err := exec.Command("go", "env", "GOROOT").Output()
	if err != nil {
		t.Fatal(err)
	}
	wasm := filepath.Join(t.TempDir(), "static.wasm")
	build := exec.Command("go", "build", "-o", wasm, ".")
	build.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm")
	if msg, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, msg)
	}
	raw := nodejs.Run(t, script, []string{"WASM=" + wasm, "WASM_EXEC=" + filepath.Join(strings.TrimSpace(string(goroot)), "lib", "wasm", "wasm_exec.js"),
		"BROKER=" + inpage.GlobalName, "CLIENT=" + jsapi.GlobalName})
	var got struct {
		Mode           string         `json:"mode"`
		Methods        []string       `json:"methods"`
		ClientMethods  []string       `json:"clientMethods"`
		Names          []string       `json:"names"`
		TraceConnThrew string         `json:"traceConnThrew"`
		DecodeThrew    string         `json:"decodeThrew"`
		TLS            map[string]any `json:"tls"`
		BrokerEvents   int            `json:"brokerEvents"`
		Listed         int            `json:"listed"`
		Watched        int            `json:"watched"`
		Expired        string         `json:"expired"`
		CSR            string         `json:"csr"`
		Revoke         string         `json:"revoke"`
		MTLSUser       string         `json:"mtlsUser"`
		Revoked        any            `json:"revoked"`
		AfterRevoke    string         `json:"afterRevoke"`
		Error          string         `json:"error"`
	}
	lines := strings.Split(strings.TrimSpace(string(raw)), "\n")
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &got); err != nil {
		t.Fatalf("node printed %q: %v", raw, err)
	}
	if got.Error != "" {
		t.Fatalf("the script failed: %s", got.Error)
	}
	wantMethods := slices.Sorted(slices.Values(inpage.Methods))
	wantClient := slices.Sorted(slices.Values(jsapi.GlobalMethods))
	for _, c := range []struct {
		what      string
		ok        bool
		got, want any
	}{
		{"mode", got.Mode == inpage.Mode, got.Mode, inpage.Mode},
		{"broker methods", slices.Equal(got.Methods, wantMethods), got.Methods, wantMethods},
		{"client methods", slices.Equal(got.ClientMethods, wantClient), got.ClientMethods, wantClient},
		{"names with the page's host", slices.Contains(got.Names, "docs.example.com"), got.Names, "docs.example.com among them"},
		{"traceConn of an unknown key returns an Error", strings.Contains(got.TraceConnThrew, `"c999"`), got.TraceConnThrew, "an Error naming c999"},
		{"decode of a non-recording returns an Error, the wasm lives on", strings.HasPrefix(got.DecodeThrew, "decode: ") && got.TLS != nil, got.DecodeThrew, "an Error from decode, then a connection"},
		{"TLS 1.3 to mqtts", got.TLS["version"] == "TLS 1.3" && got.TLS["resumed"] == false, got.TLS, "a full TLS 1.3 handshake"},
		{"the broker's events", got.BrokerEvents > 0 && got.Watched > 0, []int{got.BrokerEvents, got.Watched}, "events in traceConn and watch"},
		{"listed", got.Listed == 1, got.Listed, 1},
		{"expired refused", strings.Contains(got.Expired, "has expired"), got.Expired, "the certificate error"},
		{"signCSR rejects", strings.Contains(got.CSR, "no PEM block found"), got.CSR, "the CA's reason"},
		{"revoke rejects", strings.Contains(got.Revoke, "as PEM"), got.Revoke, "the reason"},
		{"mtls with the page's identity", got.MTLSUser == "node-device", got.MTLSUser, "node-device"},
		{"revoke resolves with nothing", got.Revoked == nil, got.Revoked, nil},
		{"mtls after revoking", strings.Contains(got.AfterRevoke, "revoked"), got.AfterRevoke, "refused: revoked"},
	} {
		if !c.ok {
			t.Errorf("%s: got %v, want %v", c.what, c.got, c.want)
		}
	}
}
