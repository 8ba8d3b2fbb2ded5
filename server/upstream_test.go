package main

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/mqtts-playground/playground/broker"
	"github.com/mqtts-playground/playground/broker/pki"
	"github.com/mqtts-playground/playground/internal/mosquitto"
	"github.com/mqtts-playground/playground/trace"
	"github.com/mqtts-playground/playground/wasm/client"
)

// userBroker is a real mosquitto with a TLS listener whose certificate
// comes from a CA of its own (not the playground's): the user's broker.
type userBroker struct {
	addr  string // 127.0.0.1:port
	port  string
	caPEM []byte
}

// startMosquitto starts mosquitto with TLS on a free loopback port; it
// fails the test, saying what to install, when mosquitto is missing.
func startMosquitto(t *testing.T) userBroker {
	t.Helper()
	path := mosquitto.Path()
	if path == "" {
		t.Fatal("mosquitto not found: " + mosquitto.InstallHint)
	}
	dir := t.TempDir()
	ca, _, err := pki.LoadOrCreate(filepath.Join(dir, "ca"))
	if err != nil {
		t.Fatal(err)
	}
	// ServerCertificate stores the chain and key where mosquitto reads them.
	if _, _, err := ca.ServerCertificate([]string{"localhost", "127.0.0.1"}); err != nil {
		t.Fatal(err)
	}
	port, err := mosquitto.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	conf := filepath.Join(dir, "mosquitto.conf")
	// (user root: as root, mosquitto would otherwise switch to the
	// mosquitto user, who cannot read the test's files; as anyone else it
	// is ignored.)
	body := fmt.Sprintf("allow_anonymous true\npersistence false\nuser root\nlog_dest stderr\nlistener %s 127.0.0.1\ncertfile %s\nkeyfile %s\n",
		port, filepath.Join(ca.Dir(), pki.ServerCertFile), filepath.Join(ca.Dir(), pki.ServerKeyFile))
	if err := os.WriteFile(conf, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	addr := "127.0.0.1:" + port
	p, err := mosquitto.Start(path, conf, addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Stop)
	return userBroker{addr: addr, port: port, caPEM: ca.RootPEM()}
}

// The tunnel reaches an upstream by its name: the wasm client's TLS
// handshake is with the user's mosquitto (its certificate, its CA), the
// session works end to end, the client's own trace shows every record
// decrypted, and the playground's broker sees nothing of it.
func TestUpstreamMosquitto(t *testing.T) {
	mosq := startMosquitto(t)
	cfg := testConfig(t)
	cfg.Upstreams = []Upstream{{Name: "my-broker", Addr: "localhost:" + mosq.port, TLS: true}, {Name: "gone", Addr: "127.0.0.1:1", TLS: true}}
	app := startApp(t, cfg, false)

	// /healthz lists the upstreams like listeners.
	_, body := get(t, "http://"+app.httpAddr+"/healthz")
	var h broker.Health
	if err := json.Unmarshal(body, &h); err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(h.Listeners, func(l broker.ListenerInfo) bool { return l.Name == "my-broker" })
	if i < 0 {
		t.Fatalf("/healthz lacks the upstream: %s", body)
	}
	if l := h.Listeners[i]; !l.Upstream || !l.Tunnel || !l.TLS || l.Addr != "localhost:"+mosq.port || l.Lesson || l.About == "" {
		t.Errorf("upstream listed as %+v", l)
	}

	before := len(app.broker.Conns())
	c, rec, err := dialTunnel(t, app, "my-broker", client.Options{ClientID: "through-the-tunnel",
		TLS: &client.TLSOptions{ServerName: "localhost", CAPEM: string(mosq.caPEM)}})
	if err != nil {
		t.Fatal(err)
	}
	// The certificate is the user's broker's, not the playground's.
	leaf := c.TLSState().PeerCertificates[0]
	userPool := x509.NewCertPool()
	userPool.AppendCertsFromPEM(mosq.caPEM)
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: userPool, Intermediates: intermediates(c), DNSName: "localhost"}); err != nil {
		t.Errorf("the handshake was not with mosquitto's certificate: %v", err)
	}
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: app.ca.Pool(), Intermediates: intermediates(c)}); err == nil {
		t.Error("the peer certificate is one of the playground's")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := c.Subscribe(ctx, "upstream/#", 1); err != nil {
		t.Fatal(err)
	}
	if err := c.Publish(ctx, "upstream/a", []byte("via mosquitto"), 1, false); err != nil {
		t.Fatal(err)
	}
	if m, err := c.NextMessage(ctx); err != nil || m.Topic != "upstream/a" || string(m.Payload) != "via mosquitto" {
		t.Fatalf("message %+v, %v", m, err)
	}
	// The client's trace: the handshake, and every encrypted record
	// decrypted with the client's own key log.
	var types []string
	encrypted := 0
	for _, e := range trace.Decode(rec.Recording()) {
		types = append(types, e.Type)
		if e.Layer == trace.LayerTLS && e.Encrypted {
			encrypted++
			if e.Plain == "" {
				t.Errorf("%s %s not decrypted: %s", e.Dir, e.Type, e.Error)
			}
		}
	}
	for _, want := range []string{"ClientHello", "ServerHello", "Certificate", "Finished", "CONNECT", "CONNACK", "SUBSCRIBE", "PUBLISH"} {
		if !slices.Contains(types, want) {
			t.Errorf("client trace lacks %s: %v", want, types)
		}
	}
	if encrypted == 0 {
		t.Error("no encrypted records in the client's trace")
	}
	c.Close()
	if after := len(app.broker.Conns()); after != before {
		t.Errorf("the playground's broker served %d connections for the upstream session", after-before)
	}

	// The tunnel takes names only: the upstream's address is no name, and
	// an upstream that does not answer is a 502 the page can show.
	for _, tt := range []struct {
		to   string
		code int
		msg  string
	}{
		{"localhost:" + mosq.port, 404, "or the upstreams gone, my-broker"},
		{mosq.addr, 404, "unknown listener"},
		{"gone", 502, "tunnel: upstream gone (127.0.0.1:1)"},
	} {
		resp, body := get(t, "http://"+app.httpAddr+"/tunnel?to="+tt.to)
		if resp.StatusCode != tt.code || !strings.Contains(string(body), tt.msg) {
			t.Errorf("/tunnel?to=%s: %d %q, want %d with %q", tt.to, resp.StatusCode, body, tt.code, tt.msg)
		}
		dctx, dcancel := context.WithTimeout(context.Background(), 5*time.Second)
		_, wresp, err := websocket.Dial(dctx, "ws://"+app.httpAddr+"/tunnel?to="+tt.to, nil)
		dcancel()
		if err == nil || wresp == nil || wresp.StatusCode != tt.code {
			t.Errorf("websocket to %s: err %v resp %v; want refusal %d", tt.to, err, wresp, tt.code)
		}
	}
}

func intermediates(c *client.Conn) *x509.CertPool {
	p := x509.NewCertPool()
	for _, cert := range c.TLSState().PeerCertificates[1:] {
		p.AddCert(cert)
	}
	return p
}

// An upstream may not take the name of one of the broker's listeners.
func TestUpstreamNameTaken(t *testing.T) {
	cfg := testConfig(t)
	cfg.Upstreams = []Upstream{{Name: "mqtts", Addr: "example.com:8883", TLS: true}}
	_, err := newApp(cfg, nil, slog.New(slog.NewTextHandler(testLogWriter{t}, nil)))
	if err == nil || !strings.Contains(err.Error(), "--upstream mqtts: the name is one of the broker's listeners") {
		t.Fatalf("error %v", err)
	}
}

func TestReadUpstreams(t *testing.T) {
	path := filepath.Join(t.TempDir(), "upstreams")
	os.WriteFile(path, []byte("# the class's brokers\nhome = broker.example:8883\n\n  cloud=mqtts://iot.example:443\n"), 0o600)
	got, err := readUpstreams(path)
	if err != nil || !slices.Equal(got, []string{"home = broker.example:8883", "cloud=mqtts://iot.example:443"}) {
		t.Errorf("got %q, %v", got, err)
	}
	os.WriteFile(path, []byte("home=broker.example:8883\nbroken\n"), 0o600)
	if _, err := readUpstreams(path); err == nil || !strings.Contains(err.Error(), path+":2: upstream \"broken\"") {
		t.Errorf("error %v", err)
	}
}
