package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/mqtts-playground/playground/broker"
	"github.com/mqtts-playground/playground/trace"
	"github.com/mqtts-playground/playground/wasm/client"
	"github.com/mqtts-playground/playground/web"
)

// testAssets builds the page and the wasm client once per test binary.
var testAssets = sync.OnceValues(func() (*web.Assets, error) {
	return web.Build(context.Background(), web.Options{NoBrotli: true})
})

// testConfig listens on free loopback ports with a fresh data folder.
func testConfig(t testing.TB) Config {
	return Config{
		Data: filepath.Join(t.TempDir(), "data"), HTTP: "127.0.0.1:0", HTTPS: "127.0.0.1:0",
		MQTT: "127.0.0.1:0", MQTTS: "127.0.0.1:0", MTLS: "127.0.0.1:0", LessonPorts: "127.0.0.1:0", TraceLimit: 1 << 20,
		// The limits the lessons show, as go run ./server has them (the
		// zero value would turn them off).
		MaxPacketSize: broker.DefaultMaxPacketSize, SessionExpiry: broker.DefaultSessionExpiry,
	}
}

type testLogWriter struct{ t testing.TB }

func (w testLogWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// startApp runs the whole playground for one test; withAssets builds the
// web assets (slow the first time) for tests that load the page.
func startApp(t testing.TB, cfg Config, withAssets bool) *App {
	t.Helper()
	var assets *web.Assets
	if withAssets {
		var err error
		if assets, err = testAssets(); err != nil {
			t.Fatal(err)
		}
	}
	app, err := newApp(cfg, assets, slog.New(slog.NewTextHandler(testLogWriter{t}, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { app.Close() })
	return app
}

func (a *App) listener(t *testing.T, name string) broker.ListenerInfo {
	t.Helper()
	for _, l := range a.listeners() {
		if l.Name == name {
			return l
		}
	}
	t.Fatalf("no listener %q", name)
	return broker.ListenerInfo{}
}

func get(t *testing.T, url string) (*http.Response, []byte) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, body
}

func TestHealthz(t *testing.T) {
	app := startApp(t, testConfig(t), false)
	resp, body := get(t, "http://"+app.httpAddr+"/healthz")
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("status %d type %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	var h broker.Health
	if err := json.Unmarshal(body, &h); err != nil {
		t.Fatal(err)
	}
	if h.HTTP != app.httpAddr || h.HTTPS != app.httpsAddr {
		t.Errorf("http %q https %q", h.HTTP, h.HTTPS)
	}
	want := map[string]struct{ tls, mtls, tunnel bool }{
		"mqtt": {false, false, true}, "mqtts": {true, false, true}, "mtls": {true, true, true}, "ws": {false, false, false},
	}
	lessons := map[string]bool{}
	for _, n := range lessonListenerNames() {
		lessons[n] = true
	}
	for _, l := range h.Listeners {
		if lessons[l.Name] {
			delete(lessons, l.Name)
			if !l.Lesson || !l.TLS || !l.Tunnel || l.Addr == "" || !strings.HasPrefix(l.About, "LESSON ONLY") {
				t.Errorf("lesson listener %+v", l)
			}
			continue
		}
		w, ok := want[l.Name]
		if !ok {
			t.Errorf("unexpected listener %q", l.Name)
			continue
		}
		delete(want, l.Name)
		if l.TLS != w.tls || l.MTLS != w.mtls || l.Tunnel != w.tunnel || l.Lesson || l.About == "" || l.Addr == "" {
			t.Errorf("listener %+v", l)
		}
	}
	if len(want) > 0 || len(lessons) > 0 {
		t.Errorf("missing listeners %v %v", want, lessons)
	}
	// The raw JSON uses the contract's field names.
	for _, key := range []string{`"listeners"`, `"name"`, `"addr"`, `"tls"`, `"lesson"`, `"about"`, `"http"`, `"https"`} {
		if !bytes.Contains(body, []byte(key)) {
			t.Errorf("healthz lacks %s: %s", key, body)
		}
	}
}

func TestCAAndKeysOnDisk(t *testing.T) {
	cfg := testConfig(t)
	app := startApp(t, cfg, false)
	_, body := get(t, "http://"+app.httpAddr+"/ca.pem")
	onDisk, err := os.ReadFile(filepath.Join(cfg.Data, "ca.pem"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(body, onDisk) {
		t.Error("GET /ca.pem differs from ca.pem in the data folder")
	}
	block, _ := pem.Decode(body)
	ca, err := x509.ParseCertificate(block.Bytes)
	if err != nil || !ca.IsCA {
		t.Fatalf("ca.pem: %v, IsCA %v", err, ca != nil && ca.IsCA)
	}
	var keys int
	filepath.WalkDir(cfg.Data, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			t.Fatal(err)
		}
		info, _ := d.Info()
		switch {
		case d.IsDir():
			if info.Mode().Perm() != 0o700 {
				t.Errorf("%s: mode %v, want 0700", path, info.Mode().Perm())
			}
		case strings.HasSuffix(path, ".key"):
			keys++
			if info.Mode().Perm() != 0o600 {
				t.Errorf("%s: mode %v, want 0600", path, info.Mode().Perm())
			}
		}
		return nil
	})
	if keys != 5 {
		t.Errorf("%d key files, want 5 (root, intermediate, server, and the lesson listeners' impostor and legacy CAs)", keys)
	}
}

func TestSecondStartReusesCA(t *testing.T) {
	cfg := testConfig(t)
	first := startApp(t, cfg, false)
	root, leaf := first.ca.Root.SerialNumber, first.cert.Leaf.SerialNumber
	first.Close()
	second := startApp(t, cfg, false)
	if second.ca.Root.SerialNumber.Cmp(root) != 0 {
		t.Error("second start made a new root CA")
	}
	if second.cert.Leaf.SerialNumber.Cmp(leaf) != 0 {
		t.Error("second start issued a new server certificate for the same names")
	}
}

func TestTunnelRefusesOtherDestinations(t *testing.T) {
	app := startApp(t, testConfig(t), false)
	tests := []struct {
		query string
		code  int
		msg   string
	}{
		{"", 400, "say which broker listener"},
		{"?to=", 400, "say which broker listener"},
		{"?to=evil", 404, `unknown listener "evil"`},
		{"?to=127.0.0.1:22", 404, `unknown listener "127.0.0.1:22"`},
		{"?to=example.com:8883", 404, "the tunnel reaches only the broker's own listeners (cn-only, expired, ip-mismatch, key-ed25519, key-rsa2048, missing-intermediate, mqtt, mqtts, mtls, not-yet-valid, revoked, rogue-relay, self-signed, sha1-signature, tls12-only, unknown-ca, weak-key, wrong-host)"},
		{"?to=ws", 404, "not reachable through the tunnel"},
		{"?to=mqtts%00", 404, "unknown listener"},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			resp, body := get(t, "http://"+app.httpAddr+"/tunnel"+tt.query)
			if resp.StatusCode != tt.code || !strings.Contains(string(body), tt.msg) {
				t.Errorf("status %d body %q; want %d containing %q", resp.StatusCode, body, tt.code, tt.msg)
			}
			// A WebSocket client is refused the same way.
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			_, wresp, err := websocket.Dial(ctx, "ws://"+app.httpAddr+"/tunnel"+tt.query, nil)
			if err == nil || wresp == nil || wresp.StatusCode != tt.code {
				t.Errorf("websocket dial: err %v resp %v; want refusal %d", err, wresp, tt.code)
			}
		})
	}
}

// dialTunnel opens the tunnel to a listener the way the wasm client does,
// natively.
func dialTunnel(t *testing.T, app *App, listener string, o client.Options) (*client.Conn, *trace.Recorder, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, "ws://"+app.httpAddr+"/tunnel?to="+listener, nil)
	if err != nil {
		t.Fatal(err)
	}
	rec := trace.NewRecorder(trace.Client, 0)
	c, err := client.Dial(ctx, websocket.NetConn(context.Background(), ws, websocket.MessageBinary), rec, o)
	if c != nil {
		t.Cleanup(func() { c.Close() })
	}
	return c, rec, err
}

func TestTunnelCarriesTLS(t *testing.T) {
	app := startApp(t, testConfig(t), false)
	c, rec, err := dialTunnel(t, app, "mqtts", client.Options{TLS: &client.TLSOptions{ServerName: "localhost", CAPEM: string(app.ca.RootPEM())}})
	if err != nil {
		t.Fatal(err)
	}
	if st := c.TLSState(); st.Version != tls.VersionTLS13 {
		t.Errorf("TLS version %x", st.Version)
	}
	ctx := context.Background()
	if _, err := c.Subscribe(ctx, "x/tunnel/#", 1); err != nil {
		t.Fatal(err)
	}
	if err := c.Publish(ctx, "x/tunnel/a", []byte("through the tunnel"), 1, false); err != nil {
		t.Fatal(err)
	}
	m, err := c.NextMessage(ctx)
	if err != nil || m.Topic != "x/tunnel/a" || string(m.Payload) != "through the tunnel" {
		t.Fatalf("message %+v, %v", m, err)
	}
	var types []string
	for _, e := range rec.Events() {
		types = append(types, e.Type)
	}
	for _, want := range []string{"ClientHello", "ServerHello", "Certificate", "Finished", "NewSessionTicket", "CONNECT", "PUBLISH"} {
		if !strings.Contains(" "+strings.Join(types, " ")+" ", " "+want+" ") {
			t.Errorf("trace lacks %s: %v", want, types)
		}
	}
	// The broker saw the same connection arrive on its mqtts listener.
	var seen bool
	for _, bc := range app.broker.Conns() {
		if bc.Listener == "mqtts" && bc.TLSVersion == "TLS 1.3" {
			seen = true
		}
	}
	if !seen {
		t.Errorf("broker connections %+v lack the tunnelled mqtts one", app.broker.Conns())
	}
}

// connID is the id of the broker's most recent connection of a client id
// (GET /trace/{id}); it fails the test when the broker lists none.
func connID(t *testing.T, app *App, clientID string) string {
	t.Helper()
	var id string
	for _, c := range app.broker.Conns() {
		if c.ClientID == clientID {
			id = c.ID
		}
	}
	if id == "" {
		t.Fatalf("the broker lists no connection %s", clientID)
	}
	return id
}
