package client_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mqtts-playground/playground/broker"
	"github.com/mqtts-playground/playground/broker/brokertest"
	"github.com/mqtts-playground/playground/broker/pki"
	"github.com/mqtts-playground/playground/trace"
	"github.com/mqtts-playground/playground/wasm/client"
)

// patience bounds every wait: a safety net that turns a hang into a
// failure, not a way to synchronise.
const patience = 10 * time.Second

// env is a broker with a plain, a TLS, a mutual-TLS and a TLS-1.2-only
// listener, and the CA that issued its certificate.
type env struct{ *brokertest.Server }

func newEnv(t *testing.T) *env { return &env{brokertest.New(t, brokertest.Options{})} }

func (e *env) rootPEM() string { return string(e.CA.RootPEM()) }

// tlsOpts trusts the env's CA.
func (e *env) tlsOpts() *client.TLSOptions { return &client.TLSOptions{CAPEM: e.rootPEM()} }

// clientCert issues a client certificate and returns it as PEM, chain first.
func clientCert(t *testing.T, ca *pki.CA, cn string) (certPEM, keyPEM string) {
	t.Helper()
	c, err := ca.Issue(pki.Leaf{CommonName: cn})
	if err != nil {
		t.Fatal(err)
	}
	k, err := pki.KeyPEM(c.PrivateKey.(crypto.Signer))
	if err != nil {
		t.Fatal(err)
	}
	return string(pki.CertPEM(c.Leaf, ca.Intermediate)), string(k)
}

// dial connects to the named listener over TCP and runs client.Dial.
func (e *env) dial(t *testing.T, listener string, opts client.Options) (*client.Conn, *trace.Recorder, error) {
	t.Helper()
	raw, err := net.DialTimeout("tcp", e.Addrs[listener], patience)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { raw.Close() })
	rec := trace.NewRecorder(trace.Client, 0)
	ctx, cancel := context.WithTimeout(context.Background(), patience)
	defer cancel()
	c, err := client.Dial(ctx, raw, rec, opts)
	if c != nil {
		t.Cleanup(func() { c.Close() })
	}
	return c, rec, err
}

func (e *env) mustDial(t *testing.T, listener string, opts client.Options) (*client.Conn, *trace.Recorder) {
	t.Helper()
	c, rec, err := e.dial(t, listener, opts)
	if err != nil {
		t.Fatalf("Dial %s: %v", listener, err)
	}
	return c, rec
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), patience)
	t.Cleanup(cancel)
	return ctx
}

var allSteps = []string{"certificate received", "validity window", "chain to a trusted CA", "name matches", "key usage", "key strength"}

func steps(checks []client.Check) []string {
	var s []string
	for _, c := range checks {
		s = append(s, c.Step)
	}
	return s
}

func checkOf(checks []client.Check, step string) (client.Check, bool) {
	for _, c := range checks {
		if c.Step == step {
			return c, true
		}
	}
	return client.Check{}, false
}

func TestDialTLS(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		name       string
		serverName string
	}{
		{"default server name", ""},
		{"DNS name", "localhost"},
		{"IP address", "127.0.0.1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := e.tlsOpts()
			opts.ServerName = tt.serverName
			c, _ := e.mustDial(t, "mqtts", client.Options{ClientID: "tls-" + tt.name, TLS: opts})
			st := c.TLSState()
			if st == nil {
				t.Fatal("TLSState() = nil")
			}
			if st.Version != tls.VersionTLS13 || !st.HandshakeComplete {
				t.Errorf("TLS version %s, complete %v; want TLS 1.3", tls.VersionName(st.Version), st.HandshakeComplete)
			}
			want := tt.serverName
			if want == "" {
				want = "localhost"
			}
			if net.ParseIP(want) != nil {
				want = "" // SNI carries no IP addresses (RFC 6066 §3)
			}
			if st.ServerName != want {
				t.Errorf("SNI %q, want %q", st.ServerName, want)
			}
			checks := c.Checks()
			if !slices.Equal(steps(checks), allSteps) {
				t.Errorf("steps %q, want %q", steps(checks), allSteps)
			}
			for _, ch := range checks {
				if !ch.OK || ch.Detail == "" {
					t.Errorf("check %+v, want OK with a detail", ch)
				}
			}
			if ch, _ := checkOf(checks, "chain to a trusted CA"); !strings.Contains(ch.Detail, "Root CA") || !strings.Contains(ch.Detail, "(trusted)") {
				t.Errorf("chain detail %q, want the path to the root", ch.Detail)
			}
			if c.Err() != nil {
				t.Errorf("Err() = %v on a live connection", c.Err())
			}
		})
	}
	t.Run("plain", func(t *testing.T) {
		c, _ := e.mustDial(t, "mqtt", client.Options{})
		if c.TLSState() != nil || len(c.Checks()) != 0 {
			t.Errorf("plain connection: TLSState %v, checks %v; want none", c.TLSState(), c.Checks())
		}
	})
}

// The client hands over the values that name its connection on the
// broker's side (GET /trace/{key}): the ClientHello random, the one its
// key log names, and the client identifier of its CONNECT.
func TestConnectionNames(t *testing.T) {
	e := newEnv(t)
	for _, tt := range []struct {
		listener string
		opts     client.Options
	}{
		{"mqtts", client.Options{ClientID: "names-tls13", TLS: e.tlsOpts()}},
		{"tls12", client.Options{ClientID: "names-tls12", TLS: e.tlsOpts()}},
		{"mqtt", client.Options{}},
	} {
		t.Run(tt.listener, func(t *testing.T) {
			c, rec := e.mustDial(t, tt.listener, tt.opts)
			if tt.opts.ClientID != "" && c.ClientID() != tt.opts.ClientID {
				t.Errorf("ClientID() = %q, want %q", c.ClientID(), tt.opts.ClientID)
			}
			if !strings.HasPrefix(c.ClientID(), "playground-") && tt.opts.ClientID == "" {
				t.Errorf("ClientID() = %q, want the picked playground-… id", c.ClientID())
			}
			random := c.ClientRandom()
			key := c.ClientID() // how the broker finds a connection without TLS
			if tt.opts.TLS == nil {
				if random != nil {
					t.Errorf("ClientRandom() = %x without TLS, want nil", random)
				}
			} else {
				if len(random) != 32 {
					t.Fatalf("ClientRandom() = %x, want 32 bytes", random)
				}
				key = hex.EncodeToString(random)
				if !strings.Contains(rec.Recording().KeyLog, " "+key+" ") {
					t.Errorf("the key log does not name client random %s:\n%s", key, rec.Recording().KeyLog)
				}
			}
			brokertest.WaitFor(t, patience, "the broker to find the connection by "+key, func() bool {
				info, ok := e.Broker.Find(key)
				return ok && info.ClientID == c.ClientID()
			})
		})
	}
}

func TestRoundTrip(t *testing.T) {
	e := newEnv(t)
	for _, listener := range []string{"mqtt", "mqtts"} {
		for _, version := range []int{4, 5} {
			for _, qos := range []byte{0, 1, 2} {
				t.Run(fmt.Sprintf("%s/v%d/qos%d", listener, version, qos), func(t *testing.T) {
					opts := client.Options{ClientID: fmt.Sprintf("rt-%s-%d-%d", listener, version, qos), MQTTVersion: version}
					if listener == "mqtts" {
						opts.TLS = e.tlsOpts()
					}
					c, rec := e.mustDial(t, listener, opts)
					ctx := ctxT(t)
					topic := fmt.Sprintf("rt/%s/v%d/q%d", listener, version, qos)
					granted, err := c.Subscribe(ctx, topic, qos)
					if err != nil {
						t.Fatalf("Subscribe: %v", err)
					}
					if granted != qos {
						t.Errorf("granted QoS %d, want %d", granted, qos)
					}
					for i := range 3 {
						payload := fmt.Appendf(nil, "message %d at qos %d", i, qos)
						if err := c.Publish(ctx, topic, payload, qos, false); err != nil {
							t.Fatalf("Publish %d: %v", i, err)
						}
						m, err := c.NextMessage(ctx)
						if err != nil {
							t.Fatalf("NextMessage %d: %v", i, err)
						}
						if m.Topic != topic || string(m.Payload) != string(payload) || m.QoS != qos || m.Retain {
							t.Errorf("got %+v, want %s %q qos %d", m, topic, payload, qos)
						}
					}
					// The trace shows each step of the QoS flow, both ways. The
					// client acknowledges a message after handing it over, so the
					// last acknowledgement may still be on its way.
					want := map[byte][]string{0: {"PUBLISH"}, 1: {"PUBLISH", "PUBACK"}, 2: {"PUBLISH", "PUBREC", "PUBREL", "PUBCOMP"}}[qos]
					var events []trace.Event
					complete := func() bool {
						events = trace.Decode(rec.Recording())
						for _, typ := range want {
							for _, dir := range []trace.Dir{trace.Send, trace.Recv} {
								if countEvents(events, trace.LayerMQTT, typ, dir) != 3 {
									return false
								}
							}
						}
						return true
					}
					brokertest.WaitFor(t, patience, "3 of each of "+strings.Join(want, ", ")+" both ways", complete)
					for _, ev := range events {
						if ev.Error != "" {
							t.Errorf("%s %s %s: %s", ev.Dir, ev.Layer, ev.Type, ev.Error)
						}
					}
				})
			}
		}
	}
}

func TestRetainedMessage(t *testing.T) {
	e := newEnv(t)
	pub, _ := e.mustDial(t, "mqtt", client.Options{ClientID: "retain-pub"})
	ctx := ctxT(t)
	if err := pub.Publish(ctx, "retained/t", []byte("kept"), 1, true); err != nil {
		t.Fatal(err)
	}
	sub, _ := e.mustDial(t, "mqtts", client.Options{ClientID: "retain-sub", TLS: e.tlsOpts(), MQTTVersion: 4})
	if _, err := sub.Subscribe(ctx, "retained/#", 1); err != nil {
		t.Fatal(err)
	}
	m, err := sub.NextMessage(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if m.Topic != "retained/t" || string(m.Payload) != "kept" || !m.Retain || m.QoS != 1 {
		t.Errorf("got %+v, want the retained message", m)
	}
}

func countEvents(events []trace.Event, layer trace.Layer, typ string, dir trace.Dir) int {
	n := 0
	for _, e := range events {
		if e.Layer == layer && e.Type == typ && e.Dir == dir {
			n++
		}
	}
	return n
}

func findEvent(events []trace.Event, layer trace.Layer, typ string, dir trace.Dir) (trace.Event, bool) {
	for _, e := range events {
		if e.Layer == layer && e.Type == typ && e.Dir == dir {
			return e, true
		}
	}
	return trace.Event{}, false
}

func fieldValue(e trace.Event, name string) (string, bool) {
	for _, f := range e.Fields {
		if f.Name == name {
			return f.Value, true
		}
	}
	return "", false
}

func summarize(events []trace.Event) string {
	var s []string
	for _, e := range events {
		s = append(s, fmt.Sprintf("%d %s %s %s", e.Seq, e.Dir, e.Layer, e.Type))
	}
	return "[" + strings.Join(s, "; ") + "]"
}

func TestTraceAndClose(t *testing.T) {
	e := newEnv(t)
	c, rec := e.mustDial(t, "mqtts", client.Options{ClientID: "tracer", TLS: e.tlsOpts()})
	ctx := ctxT(t)
	if _, err := c.Subscribe(ctx, "trace/me", 1); err != nil {
		t.Fatal(err)
	}
	if err := c.Publish(ctx, "trace/me", []byte("hello"), 1, false); err != nil {
		t.Fatal(err)
	}
	if _, err := c.NextMessage(ctx); err != nil {
		t.Fatal(err)
	}
	if c.Recorder() != rec {
		t.Error("Recorder() is not the recorder given to Dial")
	}
	if err := c.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if !errors.Is(c.Err(), client.ErrClosed) {
		t.Errorf("Err() after Close = %v, want ErrClosed", c.Err())
	}
	if err := c.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if _, err := c.NextMessage(ctx); !errors.Is(err, client.ErrClosed) {
		t.Errorf("NextMessage after Close = %v, want ErrClosed", err)
	}
	if err := c.Publish(ctx, "trace/me", []byte("late"), 0, false); err == nil {
		t.Error("Publish after Close succeeded")
	}
	if _, err := c.Subscribe(ctx, "trace/late", 1); err == nil {
		t.Error("Subscribe after Close succeeded")
	}

	events := trace.Decode(rec.Recording())
	order := []struct {
		layer trace.Layer
		typ   string
		dir   trace.Dir
	}{
		{trace.LayerTLS, "ClientHello", trace.Send},
		{trace.LayerTLS, "ServerHello", trace.Recv},
		{trace.LayerTLS, "EncryptedExtensions", trace.Recv},
		{trace.LayerTLS, "Certificate", trace.Recv},
		{trace.LayerTLS, "CertificateVerify", trace.Recv},
		{trace.LayerTLS, "Finished", trace.Recv},
		{trace.LayerTLS, "Finished", trace.Send},
		{trace.LayerMQTT, "CONNECT", trace.Send},
		{trace.LayerMQTT, "CONNACK", trace.Recv},
		{trace.LayerMQTT, "SUBSCRIBE", trace.Send},
		{trace.LayerMQTT, "SUBACK", trace.Recv},
		{trace.LayerMQTT, "PUBLISH", trace.Send},
		{trace.LayerMQTT, "DISCONNECT", trace.Send},
		{trace.LayerTLS, "Alert", trace.Send},
	}
	last := 0
	for _, w := range order {
		found := false
		for _, ev := range events {
			if ev.Seq > last && ev.Layer == w.layer && ev.Type == w.typ && ev.Dir == w.dir {
				last, found = ev.Seq, true
				break
			}
		}
		if !found {
			t.Fatalf("no %s %s %s after event %d in %s", w.dir, w.layer, w.typ, last, summarize(events))
		}
	}
	for _, typ := range []string{"NewSessionTicket", "Certificate", "Finished"} {
		ev, ok := findEvent(events, trace.LayerTLS, typ, trace.Recv)
		if !ok || !ev.Encrypted || ev.Plain == "" || ev.Error != "" {
			t.Errorf("%s: found %v, encrypted %v, error %q; want it decrypted", typ, ok, ev.Encrypted, ev.Error)
		}
	}
	if ev, _ := findEvent(events, trace.LayerMQTT, "CONNECT", trace.Send); !strings.Contains(must(fieldValue(ev, "Client Identifier")), "tracer") {
		t.Errorf("CONNECT fields %+v, want Client Identifier tracer", ev.Fields)
	}
	for _, dir := range []trace.Dir{trace.Send, trace.Recv} {
		ev, ok := findEvent(events, trace.LayerMQTT, "PUBLISH", dir)
		if !ok || !strings.Contains(must(fieldValue(ev, "Topic Name")), "trace/me") {
			t.Errorf("PUBLISH %s: found %v, fields %+v; want Topic Name trace/me", dir, ok, ev.Fields)
		}
	}
	var alert trace.Event
	for _, ev := range events {
		if ev.Layer == trace.LayerTLS && ev.Type == "Alert" && ev.Dir == trace.Send {
			alert = ev
		}
	}
	if !strings.Contains(must(fieldValue(alert, "description")), "close_notify") || !alert.Encrypted {
		t.Errorf("last alert sent: %+v, want an encrypted close_notify", alert)
	}

	// The broker saw a clean end.
	var ci broker.ConnInfo
	brokertest.WaitFor(t, patience, "the broker to see the end", func() bool {
		for _, x := range e.Broker.Conns() {
			if x.ClientID == "tracer" {
				ci = x
				return !x.Ended.IsZero()
			}
		}
		return false
	})
	if ci.Err != "" {
		t.Errorf("broker recorded error %q for a clean close", ci.Err)
	}
}

func must(s string, _ bool) string { return s }

func TestDialErrors(t *testing.T) {
	e := newEnv(t)
	other := brokertest.NewCA(t)
	otherCert, otherKey := clientCert(t, other, "stranger")
	goodCert, goodKey := clientCert(t, e.CA, "device")
	tests := []struct {
		name     string
		listener string
		opts     client.Options
		prefix   string   // the error starts with this
		want     []string // and contains these
		noBytes  bool     // nothing reaches the wire
	}{
		{"wrong CA", "mqtts", client.Options{TLS: &client.TLSOptions{CAPEM: string(other.RootPEM())}},
			"certificate signed by unknown authority", []string{`chain leads to "MQTTS Playground Root CA"`, "tls.caPEM"}, false},
		{"wrong server name", "mqtts", client.Options{TLS: &client.TLSOptions{CAPEM: e.rootPEM(), ServerName: "broker.example"}},
			"certificate is not valid for", []string{`"broker.example"`, "localhost, 127.0.0.1"}, false},
		{"TLS to a plain listener", "mqtt", client.Options{TLS: e.tlsOpts()},
			"", []string{"does not speak TLS"}, false},
		{"plain to a TLS listener", "mqtts", client.Options{},
			"", []string{"TLS listener reached without TLS"}, false},
		{"mutual TLS without certificate", "mtls", client.Options{TLS: e.tlsOpts()},
			"", []string{"client certificate", "tls.certPEM"}, false},
		{"mutual TLS with a certificate of another CA", "mtls", client.Options{TLS: &client.TLSOptions{CAPEM: e.rootPEM(), CertPEM: otherCert, KeyPEM: otherKey}},
			"", []string{"does not trust the CA that issued the client certificate"}, false},
		{"mutual TLS, TLS 1.2, without certificate", "mtls", client.Options{TLS: &client.TLSOptions{CAPEM: e.rootPEM(), MaxVersion: "1.2"}},
			"", []string{"client certificate", "tls.certPEM"}, false},
		{"no common TLS version", "tls12", client.Options{TLS: &client.TLSOptions{CAPEM: e.rootPEM(), MinVersion: "1.3"}},
			"", []string{"protocol version", "minVersion"}, false},
		{"bad CA PEM", "mqtts", client.Options{TLS: &client.TLSOptions{CAPEM: "not a certificate"}},
			"tls.caPEM holds no PEM certificate", nil, true},
		{"bad minVersion", "mqtts", client.Options{TLS: &client.TLSOptions{CAPEM: e.rootPEM(), MinVersion: "1.4"}},
			`tls.minVersion "1.4" is not a TLS version`, nil, true},
		{"bad maxVersion", "mqtts", client.Options{TLS: &client.TLSOptions{CAPEM: e.rootPEM(), MaxVersion: "SSLv3"}},
			`tls.maxVersion "SSLv3" is not a TLS version`, nil, true},
		{"key without certificate", "mtls", client.Options{TLS: &client.TLSOptions{CAPEM: e.rootPEM(), KeyPEM: goodKey}},
			"client certificate unusable", []string{"tls.certPEM"}, true},
		{"key of another certificate", "mtls", client.Options{TLS: &client.TLSOptions{CAPEM: e.rootPEM(), CertPEM: goodCert, KeyPEM: otherKey}},
			"client certificate unusable", []string{"must belong to the certificate"}, true},
		{"MQTT version 3", "mqtt", client.Options{MQTTVersion: 3},
			"mqttVersion 3 is not supported", nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, rec, err := e.dial(t, tt.listener, tt.opts)
			if err == nil {
				t.Fatalf("Dial succeeded (checks %+v), want an error", c.Checks())
			}
			if c != nil {
				t.Error("Dial returned a connection with its error")
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, tt.prefix) {
				t.Errorf("error %q does not start with %q", msg, tt.prefix)
			}
			for _, w := range tt.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q lacks %q", msg, w)
				}
			}
			// What happened on the wire stays in the recording.
			sent := len(rec.Recording().Chunks) > 0
			if sent == tt.noBytes {
				t.Errorf("recorded chunks: %v, want %v", sent, !tt.noBytes)
			}
			// Once bytes went out, the error carries the checks so far and
			// the client random that names the attempt at the broker.
			var de *client.DialError
			switch {
			case tt.noBytes:
			case !errors.As(err, &de):
				t.Errorf("error %T is not a *client.DialError", err)
			case (tt.opts.TLS != nil) != (len(de.ClientRandom) == 32):
				t.Errorf("client random %x for TLS options %v", de.ClientRandom, tt.opts.TLS != nil)
			case tt.prefix != "" && strings.HasPrefix(tt.prefix, "certificate") && !slices.ContainsFunc(de.Checks, func(c client.Check) bool { return !c.OK }):
				t.Errorf("checks %+v: want the failed step", de.Checks)
			}
		})
	}
}

func TestInsecureSkipVerify(t *testing.T) {
	e := newEnv(t)
	other := brokertest.NewCA(t)
	tests := []struct {
		name       string
		tls        client.TLSOptions
		failedStep string // "" when every check passes
	}{
		{"wrong CA", client.TLSOptions{CAPEM: string(other.RootPEM()), InsecureSkipVerify: true}, "chain to a trusted CA"},
		{"wrong name", client.TLSOptions{CAPEM: e.rootPEM(), ServerName: "elsewhere.example", InsecureSkipVerify: true}, "name matches"},
		{"all fine", client.TLSOptions{CAPEM: e.rootPEM(), InsecureSkipVerify: true}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, _ := e.mustDial(t, "mqtts", client.Options{TLS: &tt.tls})
			checks := c.Checks()
			if want := append(slices.Clone(allSteps), "verification skipped"); !slices.Equal(steps(checks), want) {
				t.Fatalf("steps %q, want %q", steps(checks), want)
			}
			for _, ch := range checks {
				wantOK := ch.Step != tt.failedStep && ch.Step != "verification skipped"
				if ch.OK != wantOK {
					t.Errorf("%s: OK = %v, want %v (%s)", ch.Step, ch.OK, wantOK, ch.Detail)
				}
			}
			if tt.failedStep == "chain to a trusted CA" {
				if ch, _ := checkOf(checks, tt.failedStep); !strings.HasPrefix(ch.Detail, "certificate signed by unknown authority") {
					t.Errorf("chain detail %q", ch.Detail)
				}
			}
			if ch, _ := checkOf(checks, "verification skipped"); !strings.Contains(ch.Detail, "insecureSkipVerify") {
				t.Errorf("skip detail %q", ch.Detail)
			}
			// The connection works.
			if _, err := c.Subscribe(ctxT(t), "insecure", 0); err != nil {
				t.Errorf("Subscribe: %v", err)
			}
		})
	}
}

func TestMutualTLS(t *testing.T) {
	e := newEnv(t)
	certPEM, keyPEM := clientCert(t, e.CA, "device-42")
	for _, maxVersion := range []string{"1.2", "1.3"} {
		t.Run("TLS "+maxVersion, func(t *testing.T) {
			id := "mtls-" + maxVersion
			c, _ := e.mustDial(t, "mtls", client.Options{ClientID: id, TLS: &client.TLSOptions{CAPEM: e.rootPEM(), CertPEM: certPEM, KeyPEM: keyPEM, MaxVersion: maxVersion}})
			ctx := ctxT(t)
			if _, err := c.Subscribe(ctx, "mtls/"+maxVersion, 1); err != nil {
				t.Fatal(err)
			}
			if got := tls.VersionName(c.TLSState().Version); got != "TLS "+maxVersion {
				t.Errorf("version %s, want TLS %s", got, maxVersion)
			}
			var ci broker.ConnInfo
			brokertest.WaitFor(t, patience, "the broker's record", func() bool {
				for _, x := range e.Broker.Conns() {
					if x.ClientID == id {
						ci = x
						return true
					}
				}
				return false
			})
			if ci.PeerCN != "device-42" || ci.Listener != "mtls" {
				t.Errorf("broker saw %+v, want peer device-42 on mtls", ci)
			}
		})
	}
}

func TestResumption(t *testing.T) {
	e := newEnv(t)
	// A server name no other test uses: the ticket cache is per process.
	opts := client.Options{TLS: &client.TLSOptions{CAPEM: e.rootPEM(), ServerName: "127.0.0.1"}}
	first, _ := e.mustDial(t, "mqtts", opts)
	if first.TLSState().DidResume {
		t.Fatal("first connection resumed")
	}
	// Dial read the CONNACK, and with it the ticket the broker sent before.
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	second, rec := e.mustDial(t, "mqtts", opts)
	if !second.TLSState().DidResume {
		t.Fatal("second connection did not resume")
	}
	// Resumption still shows the certificate checks: those of the full
	// handshake that began the session, word for word.
	if !slices.Equal(second.Checks(), first.Checks()) {
		t.Errorf("resumed checks %+v, want those of the full handshake %+v", second.Checks(), first.Checks())
	}
	if !slices.Equal(steps(second.Checks()), allSteps) {
		t.Errorf("steps %q, want %q", steps(second.Checks()), allSteps)
	}
	for _, ch := range second.Checks() {
		if !ch.OK {
			t.Errorf("check %+v failed", ch)
		}
	}
	events := trace.Decode(rec.Recording())
	if _, ok := findEvent(events, trace.LayerTLS, "Certificate", trace.Recv); ok {
		t.Error("a resumed handshake carried a Certificate")
	}
	hello, _ := findEvent(events, trace.LayerTLS, "ClientHello", trace.Send)
	if !strings.Contains(fmt.Sprint(hello.Fields), "pre_shared_key") {
		t.Errorf("ClientHello offers no pre_shared_key: %+v", hello.Fields)
	}
	// A wrong CA must not slip through on a resumed session.
	other := brokertest.NewCA(t)
	_, _, err := e.dial(t, "mqtts", client.Options{TLS: &client.TLSOptions{CAPEM: string(other.RootPEM()), ServerName: "127.0.0.1"}})
	if err == nil || !strings.HasPrefix(err.Error(), "certificate signed by unknown authority") {
		t.Errorf("resumable session with a wrong CA: %v, want unknown authority", err)
	}
}

func TestBrokerShutdown(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		version int
		want    string
	}{
		{5, "the broker disconnected: Server shutting down"},
		{4, "connection lost"},
	}
	conns := map[int]*client.Conn{}
	for _, tt := range tests {
		c, _ := e.mustDial(t, "mqtts", client.Options{MQTTVersion: tt.version, TLS: e.tlsOpts()})
		if _, err := c.Subscribe(ctxT(t), "shutdown", 0); err != nil {
			t.Fatal(err)
		}
		conns[tt.version] = c
	}
	if err := e.Broker.Close(); err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		c := conns[tt.version]
		_, err := c.NextMessage(ctxT(t))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("v%d: NextMessage after broker shutdown = %v, want %q", tt.version, err, tt.want)
		}
		if c.Err() == nil || c.Err().Error() != err.Error() {
			t.Errorf("v%d: Err() = %v, want %v", tt.version, c.Err(), err)
		}
		if err := c.Close(); err != nil {
			t.Errorf("v%d: Close after the connection ended = %v, want nil", tt.version, err)
		}
	}
}

func TestTimeouts(t *testing.T) {
	// A listener that accepts and never answers.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	accepted := make(chan net.Conn, 8)
	t.Cleanup(func() {
		ln.Close()
		for c := range accepted {
			c.Close()
		}
	})
	go func() {
		defer close(accepted)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepted <- c
		}
	}()
	tests := []struct {
		name string
		opts client.Options
		want string
	}{
		{"TLS handshake", client.Options{Timeout: 50 * time.Millisecond, TLS: &client.TLSOptions{}}, "the TLS handshake did not finish in time"},
		{"CONNACK", client.Options{Timeout: 50 * time.Millisecond}, "waiting for CONNACK failed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			raw, err := net.Dial("tcp", ln.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			defer raw.Close()
			c, err := client.Dial(context.Background(), raw, trace.NewRecorder(trace.Client, 0), tt.opts)
			if err == nil {
				c.Close()
				t.Fatal("Dial succeeded against a silent listener")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q, want %q", err, tt.want)
			}
		})
	}
}

func TestCallErrors(t *testing.T) {
	e := newEnv(t)
	c, _ := e.mustDial(t, "mqtt", client.Options{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := c.NextMessage(ctx); err == nil || !strings.Contains(err.Error(), "no message arrived") {
		t.Errorf("NextMessage with a done context = %v", err)
	}
	if _, err := c.Subscribe(ctxT(t), "x", 3); err == nil || !strings.Contains(err.Error(), "qos 3 is not 0, 1 or 2") {
		t.Errorf("Subscribe qos 3 = %v", err)
	}
	if err := c.Publish(ctxT(t), "x", nil, 3, false); err == nil || !strings.Contains(err.Error(), "qos 3 is not 0, 1 or 2") {
		t.Errorf("Publish qos 3 = %v", err)
	}
	if _, err := c.Subscribe(ctxT(t), "bad/#/filter", 0); err == nil {
		t.Error("Subscribe to an invalid filter succeeded")
	}
}

func TestKeepAlive(t *testing.T) {
	e := newEnv(t)
	// The client pings at 3/4 of the keep-alive; mochi drops a client
	// silent for keepAlive+keepAlive/2 whole seconds. 4 s leaves a margin
	// of 3 s for a busy machine, where 1 s would leave a quarter second.
	c, rec := e.mustDial(t, "mqtt", client.Options{KeepAlive: 4})
	brokertest.WaitFor(t, patience, "a PINGREQ", func() bool {
		return countEvents(trace.Decode(rec.Recording()), trace.LayerMQTT, "PINGREQ", trace.Send) > 0
	})
	brokertest.WaitFor(t, patience, "a PINGRESP or the end of the connection", func() bool {
		return c.Err() != nil || countEvents(trace.Decode(rec.Recording()), trace.LayerMQTT, "PINGRESP", trace.Recv) > 0
	})
	if c.Err() != nil {
		t.Errorf("connection ended: %v", c.Err())
	}
	if _, err := c.Subscribe(ctxT(t), "after/ping", 0); err != nil {
		t.Errorf("Subscribe after a ping: %v", err)
	}
}

// TestVerifyServer checks the step-by-step verification on its own.
func TestVerifyServer(t *testing.T) {
	ca := brokertest.NewCA(t)
	other := brokertest.NewCA(t)
	issue := func(l pki.Leaf) []*x509.Certificate {
		c, err := ca.Issue(l)
		if err != nil {
			t.Fatal(err)
		}
		return []*x509.Certificate{c.Leaf, ca.Intermediate}
	}
	good := issue(pki.Leaf{CommonName: "srv", Names: []string{"localhost"}, Server: true})
	restricted, restrictedRoots := clientOnlyCAChain(t)
	now := time.Now()
	tests := []struct {
		name   string
		chain  []*x509.Certificate
		roots  *x509.CertPool
		host   string
		at     time.Time
		failed []string // steps that fail
		prefix string   // error prefix, "" for success
	}{
		{"good", good, ca.Pool(), "localhost", now, nil, ""},
		{"no certificate", nil, ca.Pool(), "localhost", now, []string{"certificate received"}, "the broker sent no certificate"},
		{"unknown CA", good, other.Pool(), "localhost", now, []string{"chain to a trusted CA"}, "certificate signed by unknown authority"},
		{"missing intermediate", good[:1], ca.Pool(), "localhost", now, []string{"chain to a trusted CA"}, "certificate signed by unknown authority"},
		{"wrong name", good, ca.Pool(), "example.com", now, []string{"name matches"}, `certificate is not valid for "example.com"`},
		{"expired", good, ca.Pool(), "localhost", now.Add(400 * 24 * time.Hour), []string{"validity window", "chain to a trusted CA"}, "certificate has expired or is not yet valid"},
		{"not yet valid", good, ca.Pool(), "localhost", now.Add(-24 * time.Hour), []string{"validity window", "chain to a trusted CA"}, "certificate has expired or is not yet valid"},
		{"client certificate", issue(pki.Leaf{CommonName: "dev", Names: []string{"localhost"}}), ca.Pool(), "localhost", now, []string{"key usage"}, "certificate is not for servers"},
		// Every certificate of the chain must allow serverAuth: the leaf's
		// own is not enough.
		{"a CA for clients only", restricted, restrictedRoots, "localhost", now, []string{"key usage"}, "certificate is not for servers: the broker's certificate allows serverAuth, but CN=clients-only CA"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checks, err := client.VerifyServer(tt.chain, tt.roots, tt.host, tt.at)
			if tt.prefix == "" {
				if err != nil {
					t.Errorf("error %v, want none", err)
				}
			} else if err == nil || !strings.HasPrefix(err.Error(), tt.prefix) {
				t.Errorf("error %v, want it to start with %q", err, tt.prefix)
			}
			if len(tt.chain) > 0 && !slices.Equal(steps(checks), allSteps) {
				t.Errorf("steps %q, want %q", steps(checks), allSteps)
			}
			for _, ch := range checks {
				wantOK := !slices.Contains(tt.failed, ch.Step)
				if ch.OK != wantOK {
					t.Errorf("%s: OK = %v, want %v (%s)", ch.Step, ch.OK, wantOK, ch.Detail)
				}
				if ch.Detail == "" {
					t.Errorf("%s: no detail", ch.Step)
				}
			}
		})
	}
}

// clientOnlyCAChain is a server certificate (serverAuth, localhost) from an
// intermediate CA whose extended key usage is clientAuth only, and the pool
// of its root.
func clientOnlyCAChain(t *testing.T) ([]*x509.Certificate, *x509.CertPool) {
	t.Helper()
	mk := func(tmpl, parent *x509.Certificate, parentKey *ecdsa.PrivateKey) (*x509.Certificate, *ecdsa.PrivateKey) {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		if parent == nil {
			parent, parentKey = tmpl, key
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, key.Public(), parentKey)
		if err != nil {
			t.Fatal(err)
		}
		c, err := x509.ParseCertificate(der)
		if err != nil {
			t.Fatal(err)
		}
		return c, key
	}
	now := time.Now()
	ca := func(serial int64, cn string, eku ...x509.ExtKeyUsage) *x509.Certificate {
		return &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: cn}, NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour),
			IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign, ExtKeyUsage: eku}
	}
	root, rootKey := mk(ca(1, "root"), nil, nil)
	inter, interKey := mk(ca(2, "clients-only CA", x509.ExtKeyUsageClientAuth), root, rootKey)
	leaf, _ := mk(&x509.Certificate{SerialNumber: big.NewInt(3), Subject: pkix.Name{CommonName: "srv"}, DNSNames: []string{"localhost"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour), KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}, inter, interKey)
	pool := x509.NewCertPool()
	pool.AddCert(root)
	return []*x509.Certificate{leaf, inter}, pool
}

// With Resume false a later connection makes a full handshake (the broker
// sends its certificate again) though an earlier one left a ticket.
func TestResumeOff(t *testing.T) {
	env := newEnv(t)
	off := false
	for i, resume := range []*bool{nil, nil, &off} {
		c, _, err := env.dial(t, "mqtts", client.Options{TLS: &client.TLSOptions{ServerName: "127.0.0.1", CAPEM: env.rootPEM(), Resume: resume}})
		if err != nil {
			t.Fatal(err)
		}
		// Wait for the ticket: the read loop takes it in with the first ack.
		if _, err := c.Subscribe(context.Background(), "x/resume", 0); err != nil {
			t.Fatal(err)
		}
		// The first may resume a ticket an earlier test left; the second
		// must resume, the third must not.
		if got := c.TLSState().DidResume; i > 0 && got != (i == 1) {
			t.Errorf("connection %d: resumed %v, want %v", i+1, got, i == 1)
		}
		if i == 2 {
			// Resume off still keeps the new ticket for the next connection.
			c.Close()
			next, _, err := env.dial(t, "mqtts", client.Options{TLS: &client.TLSOptions{ServerName: "127.0.0.1", CAPEM: env.rootPEM()}})
			if err != nil {
				t.Fatal(err)
			}
			if !next.TLSState().DidResume {
				t.Error("the connection after one with resume off did not resume its ticket")
			}
			// Another scope does not see it.
			other, _, err := env.dial(t, "mqtts", client.Options{TLS: &client.TLSOptions{ServerName: "127.0.0.1", CAPEM: env.rootPEM(), SessionScope: "elsewhere"}})
			if err != nil {
				t.Fatal(err)
			}
			if other.TLSState().DidResume {
				t.Error("a connection in another session scope resumed")
			}
		}
		c.Close()
	}
}

// Groups chooses the key shares offered: without X25519MLKEM768 the
// ClientHello loses its ~1.2 KB post-quantum share.
func TestGroups(t *testing.T) {
	env := newEnv(t)
	hello := func(groups []string) (int, tls.CurveID) {
		c, rec, err := env.dial(t, "mqtts", client.Options{TLS: &client.TLSOptions{CAPEM: env.rootPEM(), Groups: groups, Resume: new(bool)}})
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range rec.Events() {
			if e.Type == "ClientHello" {
				return e.Length, c.TLSState().CurveID
			}
		}
		t.Fatal("no ClientHello")
		return 0, 0
	}
	withPQ, g1 := hello(nil)
	classic, g2 := hello([]string{"X25519"})
	if g1 != tls.X25519MLKEM768 || g2 != tls.X25519 {
		t.Errorf("groups %v, %v", g1, g2)
	}
	if withPQ-classic < 1100 {
		t.Errorf("ClientHello %d bytes with ML-KEM, %d without: want about 1.2 KB saved", withPQ, classic)
	}
	if _, _, err := env.dial(t, "mqtts", client.Options{TLS: &client.TLSOptions{CAPEM: env.rootPEM(), Groups: []string{"X448"}}}); err == nil || !strings.Contains(err.Error(), `"X448" is not a group`) {
		t.Errorf("unknown group: %v", err)
	}
}

// TestWillOnDrop: a client that gives a will and drops its connection (no
// DISCONNECT) has its will published; one that closes normally does not.
func TestWillOnDrop(t *testing.T) {
	e := newEnv(t)
	watcher, _ := e.mustDial(t, "mqtt", client.Options{ClientID: "watcher"})
	if _, err := watcher.Subscribe(ctxT(t), "wills/#", 1); err != nil {
		t.Fatal(err)
	}
	will := &client.Will{Topic: "wills/device", Payload: "device gone", QoS: 1}
	polite, _ := e.mustDial(t, "mqtt", client.Options{ClientID: "polite", Will: will})
	polite.Close()
	crash, _ := e.mustDial(t, "mqtts", client.Options{ClientID: "crash", Will: will, TLS: e.tlsOpts()})
	crash.Drop()
	m, err := watcher.NextMessage(ctxT(t))
	if err != nil || m.Topic != "wills/device" || string(m.Payload) != "device gone" {
		t.Fatalf("message %+v, %v; want the will of the dropped client", m, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	if m, err := watcher.NextMessage(ctx); err == nil {
		t.Errorf("a second will %+v: the client that closed normally must not leave one", m)
	}
}

// TestSessionResumed: with cleanStart false and a session expiry the broker
// keeps the subscription, queues a message while the client is away, and
// says Session Present when it comes back.
func TestSessionResumed(t *testing.T) {
	e := newEnv(t)
	keep := false
	opts := client.Options{ClientID: "sleeper", CleanStart: &keep, SessionExpiry: 60}
	c, _ := e.mustDial(t, "mqtt", opts)
	if _, err := c.Subscribe(ctxT(t), "queued/#", 1); err != nil {
		t.Fatal(err)
	}
	c.Close()
	pub, _ := e.mustDial(t, "mqtt", client.Options{ClientID: "publisher"})
	if err := pub.Publish(ctxT(t), "queued/a", []byte("while you slept"), 1, false); err != nil {
		t.Fatal(err)
	}
	c, rec := e.mustDial(t, "mqtt", opts)
	m, err := c.NextMessage(ctxT(t))
	if err != nil || string(m.Payload) != "while you slept" {
		t.Fatalf("message %+v, %v; want the queued one", m, err)
	}
	var present string
	for _, ev := range rec.Events() {
		if ev.Type == "CONNACK" {
			for _, f := range ev.Fields {
				if f.Name == "Session Present" {
					present = f.Value
				}
			}
		}
	}
	if !strings.HasPrefix(present, "1") {
		t.Errorf("CONNACK Session Present %q, want 1", present)
	}
}

// TestALPN offers "mqtt" and reads back the broker's choice.
func TestALPN(t *testing.T) {
	e := newEnv(t)
	o := e.tlsOpts()
	o.ALPN = []string{"mqtt"}
	c, _ := e.mustDial(t, "mqtts", client.Options{TLS: o})
	if got := c.TLSState().NegotiatedProtocol; got != "mqtt" {
		t.Errorf("negotiated %q, want mqtt", got)
	}
}

// TestIntermediatesPEM: a broker that sends its certificate without the
// intermediate is refused, unless the client brings the intermediate itself;
// it is not trusted for that (the root still is the anchor).
func TestIntermediatesPEM(t *testing.T) {
	p := brokertest.NewPKI(t)
	b := brokertest.NewBroker(t, broker.Options{})
	bare := p.Server
	bare.Certificate = bare.Certificate[:1]
	if err := b.Add(broker.Listener{Name: "bare", Addr: "127.0.0.1:0", TLS: &tls.Config{Certificates: []tls.Certificate{bare}}}); err != nil {
		t.Fatal(err)
	}
	e := &env{&brokertest.Server{Broker: b, PKI: p, Addrs: map[string]string{"bare": brokertest.Addr(t, b, "bare")}}}
	if _, _, err := e.dial(t, "bare", client.Options{TLS: e.tlsOpts()}); err == nil || !strings.Contains(err.Error(), "unknown authority") {
		t.Fatalf("without the intermediate: %v, want unknown authority", err)
	}
	o := e.tlsOpts()
	o.IntermediatesPEM = string(pki.CertPEM(p.CA.Intermediate))
	c, _ := e.mustDial(t, "bare", client.Options{TLS: o})
	ch, _ := checkOf(c.Checks(), "chain to a trusted CA")
	if !ch.OK || !strings.Contains(ch.Detail, "the client brought 1 intermediate") {
		t.Errorf("chain check %+v", ch)
	}
	// An intermediate given as intermediate does not become a trust anchor.
	if _, _, err := e.dial(t, "bare", client.Options{TLS: &client.TLSOptions{IntermediatesPEM: string(pki.CertPEM(p.CA.Intermediate)), CAPEM: string(pki.CertPEM(mustSelfSigned(t)))}}); err == nil {
		t.Error("connected with the intermediate given only as an untrusted one and an unrelated root")
	}
}

// mustSelfSigned makes an unrelated CA certificate.
func mustSelfSigned(t *testing.T) *x509.Certificate {
	t.Helper()
	return brokertest.NewCA(t).Root
}

// TestStapledRevocation: the client refuses a certificate whose stapled OCSP
// response says revoked, and notes the check.
func TestStapledRevocation(t *testing.T) {
	p := brokertest.NewPKI(t)
	sc, err := p.CA.Scenario(pki.ScenarioRevoked, []string{"localhost"})
	if err != nil {
		t.Fatal(err)
	}
	b := brokertest.NewBroker(t, broker.Options{})
	if err := b.Add(broker.Listener{Name: "revoked", Addr: "127.0.0.1:0", TLS: &tls.Config{Certificates: []tls.Certificate{sc.Chain}}}); err != nil {
		t.Fatal(err)
	}
	e := &env{&brokertest.Server{Broker: b, PKI: p, Addrs: map[string]string{"revoked": brokertest.Addr(t, b, "revoked")}}}
	_, _, err = e.dial(t, "revoked", client.Options{TLS: &client.TLSOptions{CAPEM: e.rootPEM(), ServerName: "localhost"}})
	if err == nil || !strings.HasPrefix(err.Error(), "certificate revoked: the OCSP response the broker stapled") {
		t.Fatalf("error %v, want the stapled revocation", err)
	}
	c, _ := e.mustDial(t, "revoked", client.Options{TLS: &client.TLSOptions{CAPEM: e.rootPEM(), ServerName: "localhost", InsecureSkipVerify: true}})
	ch, ok := checkOf(c.Checks(), "revocation (stapled OCSP)")
	if !ok || ch.OK || !strings.Contains(ch.Detail, "keyCompromise") {
		t.Errorf("check %+v", ch)
	}
}

// TestAuthMethodRefused: the broker implements no enhanced authentication,
// so a CONNECT naming a method is refused with 0x8C (MQTT 5.0 §4.12).
func TestAuthMethodRefused(t *testing.T) {
	e := newEnv(t)
	_, _, err := e.dial(t, "mqtt", client.Options{AuthMethod: "SCRAM-SHA-256"})
	if err == nil || !strings.Contains(err.Error(), "(0x8c)") {
		t.Fatalf("error %v, want a refusal with 0x8c", err)
	}
}
