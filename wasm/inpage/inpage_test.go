package inpage_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mqtts-playground/playground/broker"
	"github.com/mqtts-playground/playground/broker/listenerset"
	"github.com/mqtts-playground/playground/broker/pki"
	"github.com/mqtts-playground/playground/trace"
	"github.com/mqtts-playground/playground/wasm/client"
	"github.com/mqtts-playground/playground/wasm/inpage"
)

// patience bounds every wait: a safety net that turns a hang into a
// failure, not a way to synchronise.
const patience = 10 * time.Second

func newBroker(t testing.TB) *inpage.Broker {
	t.Helper()
	b, err := inpage.New(inpage.Options{Names: []string{"docs.example.com"}, WatchEvery: 10 * time.Millisecond})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

// dial connects the page's client to a listener of b through b.Dial.
func dial(t testing.TB, b *inpage.Broker, listener string, opts client.Options) (*client.Conn, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), patience)
	defer cancel()
	raw, err := b.Dial(ctx, listener, "ignored")
	if err != nil {
		t.Fatalf("Dial(%s): %v", listener, err)
	}
	c, err := client.Dial(ctx, raw, trace.NewRecorder(trace.Client, 0), opts)
	if err == nil {
		t.Cleanup(func() { c.Close() })
	}
	return c, err
}

// event is what the tests read of a trace event.
type event struct {
	Layer string `json:"layer"`
	Type  string `json:"type"`
}

func isType(typ string) func(event) bool { return func(e event) bool { return e.Type == typ } }

func trusting(b *inpage.Broker) *client.TLSOptions {
	return &client.TLSOptions{ServerName: "localhost", CAPEM: b.CAPEM()}
}

// TestPublishSubscribe: the client's TLS 1.3 handshake with the broker's
// mqtts listener, a subscription and a QoS 1 message delivered, and the
// broker's trace of the connection.
func TestPublishSubscribe(t *testing.T) {
	b := newBroker(t)
	c, err := dial(t, b, "mqtts", client.Options{ClientID: "page-1", TLS: trusting(b)})
	if err != nil {
		t.Fatalf("connect to mqtts: %v", err)
	}
	if st := c.TLSState(); st == nil || st.Version != tls.VersionTLS13 || st.DidResume || len(st.PeerCertificates) == 0 {
		t.Fatalf("TLS state %+v: want a full TLS 1.3 handshake with the broker's certificate", st)
	}
	ctx, cancel := context.WithTimeout(context.Background(), patience)
	defer cancel()
	if granted, err := c.Subscribe(ctx, "lessons/page-1/#", 1); err != nil || granted != 1 {
		t.Fatalf("subscribe: granted %d, err %v", granted, err)
	}
	if err := c.Publish(ctx, "lessons/page-1/hello", []byte("in the page"), 1, false); err != nil {
		t.Fatalf("publish: %v", err)
	}
	m, err := c.NextMessage(ctx)
	if err != nil || m.Topic != "lessons/page-1/hello" || string(m.Payload) != "in the page" || m.QoS != 1 {
		t.Fatalf("next message: %+v, %v", m, err)
	}

	key := hex.EncodeToString(c.ClientRandom())
	var got struct {
		Connection broker.ConnInfo `json:"connection"`
		Events     []event         `json:"events"`
	}
	waitFor(t, "the broker's trace to show the PUBLISH", func() bool {
		body, err := b.TraceConn(key)
		if err != nil {
			t.Fatalf("TraceConn(%s): %v", key, err)
		}
		if err := json.Unmarshal([]byte(body), &got); err != nil {
			t.Fatalf("TraceConn body %q: %v", body, err)
		}
		return slices.ContainsFunc(got.Events, isType("PUBLISH"))
	})
	if ci := got.Connection; ci.Listener != "mqtts" || ci.ClientID != "page-1" || ci.TLSVersion != "TLS 1.3" || !ci.Tunnel {
		t.Errorf("connection %+v: want mqtts, page-1, TLS 1.3, a connection of the page", ci)
	}
	if !slices.ContainsFunc(got.Events, isType("ClientHello")) {
		t.Errorf("no ClientHello among the broker's events: %+v", got.Events)
	}
	// The same connection by its id and by its client id; the recording
	// carries the key log (the page holds both ends).
	for _, k := range []string{got.Connection.ID, "page-1"} {
		if _, err := b.TraceConn(k); err != nil {
			t.Errorf("TraceConn(%s): %v", k, err)
		}
	}
	rec, err := b.Recording(key)
	if err != nil || !strings.Contains(rec, "CLIENT_HANDSHAKE_TRAFFIC_SECRET") {
		t.Errorf("Recording(%s): err %v, want the key log in %.200q", key, err, rec)
	}
	list, err := b.TraceList("listener=mqtts&outcome=open")
	if err != nil || !strings.Contains(list, `"id":"`+got.Connection.ID+`"`) {
		t.Errorf("TraceList: err %v, want %s in %.300q", err, got.Connection.ID, list)
	}
}

// TestErrors: what the page is told when it asks for what is not there.
func TestErrors(t *testing.T) {
	b := newBroker(t)
	for _, tt := range []struct {
		name string
		call func() error
		want string
	}{
		{"unknown connection", func() error { _, err := b.TraceConn("c999"); return err }, `no recent connection "c999"`},
		{"unknown recording", func() error { _, err := b.Recording("nope"); return err }, `no recent connection "nope"`},
		{"bad outcome", func() error { _, err := b.TraceList("outcome=maybe"); return err }, "give open, ok or failed"},
		{"bad query", func() error { _, err := b.TraceList("a=%zz"); return err }, "does not parse"},
		{"unknown listener", func() error { _, err := b.Dial(context.Background(), "nope", ""); return err }, `unknown listener "nope"`},
		{"not a CSR", func() error { _, err := b.SignCSR("hello"); return err }, "no PEM block found"},
		{"revoke nothing", func() error { return b.Revoke("", "", "") }, "send the certificate to revoke as PEM"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.call(); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err %v, want one containing %q", err, tt.want)
			}
		})
	}
}

// TestLessonListeners: every lesson listener is reachable from the page,
// and a broken one fails with the real certificate error.
func TestLessonListeners(t *testing.T) {
	b := newBroker(t)
	for _, tt := range []struct{ listener, want string }{
		{"expired", "certificate has expired or is not yet valid"},
		{"wrong-host", `certificate is not valid for "localhost"`},
		{"unknown-ca", "certificate signed by unknown authority"},
		{"key-ed25519", ""},
	} {
		t.Run(tt.listener, func(t *testing.T) {
			_, err := dial(t, b, tt.listener, client.Options{TLS: trusting(b)})
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("connect: %v", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Fatalf("connect: err %v, want %q", err, tt.want)
			}
		})
	}
}

// TestHealth: the listeners as the page sees them: every one reachable,
// none with an address, lesson certificates not made before a handshake
// needs them.
func TestHealth(t *testing.T) {
	b := newBroker(t)
	var h struct {
		Listeners []broker.ListenerInfo `json:"listeners"`
		HTTP      string                `json:"http"`
		HTTPS     string                `json:"https"`
		Names     []string              `json:"names"`
	}
	read := func() {
		t.Helper()
		if err := json.Unmarshal([]byte(b.Health()), &h); err != nil {
			t.Fatal(err)
		}
	}
	read()
	want := append([]string{"mqtt", "mqtts", "mtls"}, listenerset.LessonNames()...)
	slices.Sort(want)
	var got []string
	for _, l := range h.Listeners {
		got = append(got, l.Name)
		if !l.Tunnel || l.Addr != "" {
			t.Errorf("listener %s: tunnel %v, addr %q; want reachable from the page, no address", l.Name, l.Tunnel, l.Addr)
		}
		if l.Lesson && !l.CertNotAfter.IsZero() {
			t.Errorf("listener %s: certificate made before any handshake", l.Name)
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("listeners %v, want %v", got, want)
	}
	if !slices.Equal(h.Names, []string{"localhost", "127.0.0.1", "::1", "docs.example.com"}) || h.HTTP != "" || h.HTTPS != "" {
		t.Errorf("health %+v: want the default names and the page's host, no web server", h)
	}
	if _, err := dial(t, b, "expired", client.Options{TLS: &client.TLSOptions{InsecureSkipVerify: true}}); err != nil {
		t.Fatalf("connect to expired without verification: %v", err)
	}
	read()
	for _, l := range h.Listeners {
		if l.Name == "expired" && (l.CertNotAfter.IsZero() || l.CertNotAfter.After(time.Now())) {
			t.Errorf("expired after a handshake: certNotAfter %v, want a time in the past", l.CertNotAfter)
		}
	}
}

// TestCertificateLifecycle: the page's key, a certificate from the CA in
// the page, a connection to mtls with it, then a revocation the page
// proves with the key, after which mtls refuses it.
func TestCertificateLifecycle(t *testing.T) {
	b := newBroker(t)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: "device-7"}}, key)
	if err != nil {
		t.Fatal(err)
	}
	chain, err := b.SignCSR(string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der})))
	if err != nil {
		t.Fatalf("SignCSR: %v", err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	mtls := func() *client.TLSOptions {
		o := trusting(b)
		o.CertPEM, o.KeyPEM = chain, string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}))
		return o
	}
	c, err := dial(t, b, "mtls", client.Options{ClientID: "dev7", TLS: mtls()})
	if err != nil {
		t.Fatalf("connect to mtls with the signed certificate: %v", err)
	}
	c.Close()

	block, _ := pem.Decode([]byte(chain))
	leaf, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	leafPEM := string(pki.CertPEM(leaf))
	when := strconv.FormatInt(time.Now().Unix(), 10)
	sum := sha256.Sum256([]byte(pki.RevokeProofPrefix + leaf.SerialNumber.Text(16) + " " + when))
	sig, err := ecdsa.SignASN1(rand.Reader, key, sum[:])
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Revoke(leafPEM, base64.StdEncoding.EncodeToString(sig), strconv.FormatInt(time.Now().Add(-time.Hour).Unix(), 10)); err == nil {
		t.Error("Revoke with a proof for another time: no error")
	}
	if err := b.Revoke(leafPEM, "", when); err == nil {
		t.Error("Revoke without a proof: no error")
	}
	if err := b.Revoke(leafPEM, base64.StdEncoding.EncodeToString(sig), when); err != nil {
		t.Fatalf("Revoke: %v", err)
	}
	if _, err := dial(t, b, "mtls", client.Options{ClientID: "dev7", TLS: mtls()}); err == nil || !strings.Contains(err.Error(), "revoked certificate") {
		t.Fatalf("connect to mtls after revocation: err %v, want the revoked certificate alert", err)
	}
}

// TestWatch: the events so far, then new ones as the connection goes on.
func TestWatch(t *testing.T) {
	b := newBroker(t)
	c, err := dial(t, b, "mqtt", client.Options{ClientID: "watched"})
	if err != nil {
		t.Fatalf("connect to mqtt: %v", err)
	}
	batches := make(chan []json.RawMessage, 16)
	stop := b.Watch("watched", func(body string) {
		var v struct {
			Events []json.RawMessage `json:"events"`
		}
		if err := json.Unmarshal([]byte(body), &v); err != nil {
			t.Errorf("watch body %q: %v", body, err)
		}
		batches <- v.Events
	})
	defer stop()
	first := next(t, batches)
	if !slices.ContainsFunc(first, func(e json.RawMessage) bool { return strings.Contains(string(e), `"CONNECT"`) }) {
		t.Fatalf("first batch %s: want the events so far, CONNECT among them", first)
	}
	ctx, cancel := context.WithTimeout(context.Background(), patience)
	defer cancel()
	if err := c.Publish(ctx, "lessons/watched/x", []byte("later"), 1, false); err != nil {
		t.Fatal(err)
	}
	all := first
	for {
		batch := next(t, batches)
		all = append(all, batch...)
		if slices.ContainsFunc(batch, func(e json.RawMessage) bool { return strings.Contains(string(e), `"PUBLISH"`) }) {
			break
		}
	}
	// Many more: the batches, decoded a piece at a time, add up to the
	// events of the whole recording.
	for i := range 20 {
		if err := c.Publish(ctx, "lessons/watched/x", []byte(fmt.Sprint(i)), 1, false); err != nil {
			t.Fatal(err)
		}
	}
	for {
		var whole struct {
			Events []json.RawMessage `json:"events"`
		}
		body, err := b.TraceConn("watched")
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal([]byte(body), &whole); err != nil {
			t.Fatal(err)
		}
		if len(all) >= len(whole.Events) && len(whole.Events) > 40 {
			for i, e := range whole.Events {
				if string(e) != string(all[i]) {
					t.Fatalf("event %d watched %s, decoded whole %s", i, all[i], e)
				}
			}
			break
		}
		all = append(all, next(t, batches)...)
	}
}

func next(t *testing.T, ch chan []json.RawMessage) []json.RawMessage {
	t.Helper()
	select {
	case b := <-ch:
		return b
	case <-time.After(patience):
		t.Fatal("no batch of events")
		return nil
	}
}

func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(patience)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("waited %v for %s", patience, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// BenchmarkSetup measures what the page waits for before its first
// handshake: the CA, the broker certificate, the broker and its listeners.
//
// These tests and benchmarks also run as WebAssembly, under Node.js, as in
// the page:
//
//	PATH=$PATH:$(go env GOROOT)/lib/wasm GOOS=js GOARCH=wasm go test -bench . ./wasm/inpage
func BenchmarkSetup(b *testing.B) {
	for b.Loop() {
		p, err := inpage.New(inpage.Options{})
		if err != nil {
			b.Fatal(err)
		}
		p.Close()
	}
}

// BenchmarkFirstHandshake measures setup and the first full TLS 1.3
// handshake and MQTT CONNECT on mqtts through the in-page connection.
func BenchmarkFirstHandshake(b *testing.B) {
	for b.Loop() {
		p, err := inpage.New(inpage.Options{})
		if err != nil {
			b.Fatal(err)
		}
		c, err := dial(b, p, "mqtts", client.Options{TLS: &client.TLSOptions{ServerName: "localhost", CAPEM: p.CAPEM(), Resume: new(bool)}})
		if err != nil {
			b.Fatal(err)
		}
		c.Close()
		p.Close()
	}
}

// BenchmarkHandshake measures one more full handshake (no resumption) on a
// broker already set up.
func BenchmarkHandshake(b *testing.B) {
	p := newBroker(b)
	opts := client.Options{TLS: &client.TLSOptions{ServerName: "localhost", CAPEM: p.CAPEM(), Resume: new(bool)}}
	for b.Loop() {
		c, err := dial(b, p, "mqtts", opts)
		if err != nil {
			b.Fatal(err)
		}
		c.Close()
	}
}

// TestRotate: after Rotate, a new handshake on mqtts is shown the
// certificate of the serial Rotate answered (a new one, from the same CA);
// the connection made before keeps working.
func TestRotate(t *testing.T) {
	b := newBroker(t)
	noResume := func() client.Options {
		tl, off := trusting(b), false
		tl.Resume = &off
		return client.Options{TLS: tl}
	}
	leafSerial := func(c *client.Conn) string {
		return c.TLSState().PeerCertificates[0].SerialNumber.Text(16)
	}
	before, err := dial(t, b, "mqtts", noResume())
	if err != nil {
		t.Fatal(err)
	}
	body, err := b.Rotate()
	if err != nil {
		t.Fatal(err)
	}
	var r broker.Rotated
	if err := json.Unmarshal([]byte(body), &r); err != nil || r.Serial == "" || r.NotAfter.Before(time.Now()) {
		t.Fatalf("Rotate answered %s (%v), want a serial and a notAfter to come", body, err)
	}
	after, err := dial(t, b, "mqtts", noResume())
	if err != nil {
		t.Fatalf("a handshake after the rotation: %v", err)
	}
	if got := leafSerial(after); got != r.Serial || got == leafSerial(before) {
		t.Errorf("serials: before %s, after %s, Rotate said %s; want the new one after", leafSerial(before), got, r.Serial)
	}
	ctx, cancel := context.WithTimeout(context.Background(), patience)
	defer cancel()
	if err := before.Publish(ctx, "rotation/still-up", []byte("x"), 1, false); err != nil {
		t.Errorf("the connection made before the rotation: %v", err)
	}
}
