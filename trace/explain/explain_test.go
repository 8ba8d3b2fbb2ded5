package explain

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"strings"
	"testing"
	"time"
)

// pkiForTest is a root, an intermediate and helpers to issue leaves.
type pkiForTest struct {
	t          *testing.T
	root, int1 *x509.Certificate
	rootKey    *ecdsa.PrivateKey
	intKey     *ecdsa.PrivateKey
}

func newKey(t *testing.T) *ecdsa.PrivateKey {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func sign(t *testing.T, tmpl, parent *x509.Certificate, pub any, priv *ecdsa.PrivateKey) *x509.Certificate {
	t.Helper()
	tmpl.SerialNumber = big.NewInt(time.Now().UnixNano())
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, pub, priv)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func newPKI(t *testing.T) *pkiForTest {
	p := &pkiForTest{t: t, rootKey: newKey(t), intKey: newKey(t)}
	now := time.Now()
	ca := func(cn string) *x509.Certificate {
		return &x509.Certificate{Subject: pkix.Name{CommonName: cn}, NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
			IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	}
	rt := ca("Test Root")
	p.root = sign(t, rt, rt, p.rootKey.Public(), p.rootKey)
	p.int1 = sign(t, ca("Test Intermediate"), p.root, p.intKey.Public(), p.rootKey)
	return p
}

type leafOpt func(*x509.Certificate)

func (p *pkiForTest) leaf(opts ...leafOpt) *x509.Certificate {
	now := time.Now()
	tmpl := &x509.Certificate{Subject: pkix.Name{CommonName: "broker"}, DNSNames: []string{"localhost"}, IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour), ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, KeyUsage: x509.KeyUsageDigitalSignature}
	for _, o := range opts {
		o(tmpl)
	}
	return sign(p.t, tmpl, p.int1, newKey(p.t).Public(), p.intKey)
}

// verify runs crypto/x509 as crypto/tls does for a client.
func (p *pkiForTest) verify(chain []*x509.Certificate, name string, now time.Time) error {
	roots := x509.NewCertPool()
	roots.AddCert(p.root)
	inter := x509.NewCertPool()
	for _, c := range chain[1:] {
		inter.AddCert(c)
	}
	_, err := chain[0].Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter, DNSName: name, CurrentTime: now})
	return err
}

func TestVerify(t *testing.T) {
	p := newPKI(t)
	other := newPKI(t)
	now := time.Now()
	good := p.leaf()
	selfKey := newKey(t)
	selfTmpl := &x509.Certificate{Subject: pkix.Name{CommonName: "self"}, DNSNames: []string{"localhost"}, NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour)}
	self := sign(t, selfTmpl, selfTmpl, selfKey.Public(), selfKey)
	tests := []struct {
		name       string
		chain      []*x509.Certificate
		serverName string
		now        time.Time
		cause      string
		detail     string
		fix        string // in Message("playground")
	}{
		{"other CA", []*x509.Certificate{other.leaf(), other.int1}, "localhost", now, "certificate signed by unknown authority", `leads to "Test Root"`, "tls.caPEM"},
		{"self-signed", []*x509.Certificate{self}, "localhost", now, "certificate signed by unknown authority", "is self-signed", "do not switch verification off"},
		{"missing intermediate", []*x509.Certificate{good}, "localhost", now, "certificate signed by unknown authority", "without the intermediate CA", "serve the full chain"},
		{"wrong host", []*x509.Certificate{good, p.int1}, "broker.example", now, `certificate is not valid for "broker.example"`, "it covers localhost, 127.0.0.1", "tls.serverName: localhost, 127.0.0.1"},
		{"wrong IP", []*x509.Certificate{good, p.int1}, "192.0.2.7", now, `certificate is not valid for "192.0.2.7"`, "it covers", "tls.serverName"},
		{"expired", []*x509.Certificate{good, p.int1}, "localhost", now.Add(3 * time.Hour), "certificate has expired or is not yet valid", "CN=broker has expired", "check the computer's clock"},
		{"not yet valid", []*x509.Certificate{good, p.int1}, "localhost", now.Add(-3 * time.Hour), "certificate has expired or is not yet valid", "is not yet valid", "clock"},
		{"client certificate as server's", []*x509.Certificate{p.leaf(func(c *x509.Certificate) { c.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth} }), p.int1}, "localhost", now, "certificate is not for servers", "lacks serverAuth", "serverAuth"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			roots := x509.NewCertPool()
			roots.AddCert(p.root)
			inter := x509.NewCertPool()
			for _, c := range tt.chain[1:] {
				inter.AddCert(c)
			}
			_, err := tt.chain[0].Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter, DNSName: tt.serverName, CurrentTime: tt.now, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}})
			if err == nil {
				t.Fatal("the chain verified; the case is wrong")
			}
			e := Verify(err, tt.chain, tt.serverName, tt.now)
			msg := e.Message("playground")
			if e.Cause != tt.cause || !strings.Contains(e.Detail, tt.detail) || !strings.Contains(msg, tt.fix) || e.Why == "" {
				t.Errorf("Verify(%v):\n cause %q\ndetail %q\n   msg %q\nwant cause %q, detail ~ %q, fix ~ %q", err, e.Cause, e.Detail, msg, tt.cause, tt.detail, tt.fix)
			}
			if !strings.HasPrefix(msg, tt.cause) {
				t.Errorf("message %q does not start with the cause", msg)
			}
		})
	}
	// Other clients get their own fix.
	err := p.verify([]*x509.Certificate{other.leaf(), other.int1}, "localhost", now)
	e := Verify(err, nil, "localhost", now)
	for client, want := range map[string]string{"mosquitto": "--cafile", "mqtt.js": "ca:", "paho": "tls_set", "go": "RootCAs"} {
		if !strings.Contains(e.Message(client), want) {
			t.Errorf("fix for %s: %q lacks %q", client, e.Message(client), want)
		}
	}
	if txt := e.Text(); !strings.Contains(txt, "  mosquitto: compare the CA's SHA-256 fingerprint") || strings.Index(txt, "playground:") > strings.Index(txt, "go:") {
		t.Errorf("Text():\n%s", txt)
	}
	sha1 := Verify(x509.InsecureAlgorithmError(x509.SHA1WithRSA), nil, "localhost", now)
	if sha1.Cause != "certificate signed with an insecure algorithm" || !strings.Contains(sha1.Message("playground"), "SHA-256") {
		t.Errorf("sha1: %+v", sha1)
	}
}

func TestRemote(t *testing.T) {
	tests := []struct {
		alert    string
		gaveCert bool
		want     string
	}{
		{"remote error: tls: certificate required", false, "requires a client certificate"},
		{"bad certificate", false, "tls.certPEM and tls.keyPEM"},
		{"bad certificate", true, "refused the client certificate"},
		{"handshake failure", true, "tls.minVersion"},
		{"unknown certificate authority", true, "does not trust the CA"},
		{"certificate revoked", true, "was revoked"},
		{"revoked certificate", true, "client certificate was revoked"},                              // Go's name of alert 44
		{"revoked certificate", false, "of the earlier session this connection resumed was revoked"}, // no certificate sent: it came from the session
		{"expired certificate", true, "outside its validity window"},
		{"protocol version not supported", true, "share no TLS version"},
		{"internal error", true, `the alert "internal error"`},
	}
	for _, tt := range tests {
		if got := Remote(tt.alert, tt.gaveCert).Message("playground"); !strings.Contains(got, tt.want) || !strings.HasPrefix(got, "the broker rejected the handshake") {
			t.Errorf("Remote(%q, %v) = %q, want it to contain %q", tt.alert, tt.gaveCert, got, tt.want)
		}
	}
}

func TestBroker(t *testing.T) {
	tests := []struct {
		err   error
		cause string
		fix   string // mosquitto's, or the broker's
	}{
		{errors.New("tls: first record does not look like a TLS handshake"), "the client did not speak TLS", "--cafile"},
		{errors.New("tls: client didn't provide a certificate"), "the client sent no certificate", "--cert client.pem --key client.key"},
		{errors.New("remote error: tls: bad certificate"), "the client rejected the broker's certificate", "--cafile ca.pem"},
		{errors.New("remote error: tls: unknown certificate authority"), "the client rejected the broker's certificate", "--cafile ca.pem"},
		{errors.New("tls: failed to verify certificate: x509: certificate signed by unknown authority"), "the client's certificate was refused", "fresh certificate"},
		{errors.New("tls: client offered only unsupported versions: [301]"), "no common TLS version", "--tls-version"},
		{errors.New("tls: client offered only unsupported versions: [304]"), "no common TLS version", "offered only TLS 1.3, which this listener does not accept"},
		{fmt.Errorf("read: %w", io.EOF), "the client closed the connection during the handshake", "--cafile"},
		{errors.New("read tcp: i/o timeout"), "the handshake timed out", ""},
		{errors.New("local error: tls: bad record MAC"), "the client aborted the handshake", "--cafile"},
		{errors.New("something new"), "TLS handshake failed", ""},
	}
	for _, tt := range tests {
		e := Broker(tt.err)
		if e.Cause != tt.cause || !strings.Contains(e.Message("mosquitto"), tt.fix) {
			t.Errorf("Broker(%q) = cause %q message %q; want %q with %q", tt.err, e.Cause, e.Message("mosquitto"), tt.cause, tt.fix)
		}
	}
}

// An unknown authority is not blindly the client's fault: the advice is to
// check the CA out of band, since a man in the middle looks the same.
func TestVerifyUnknownAuthorityOutOfBand(t *testing.T) {
	p, other := newPKI(t), newPKI(t)
	err := p.verify([]*x509.Certificate{other.leaf(), other.int1}, "localhost", time.Now())
	e := Verify(err, []*x509.Certificate{other.leaf(), other.int1}, "localhost", time.Now())
	if !strings.Contains(e.Why, "man in the middle") {
		t.Errorf("why %q does not say a man in the middle looks the same", e.Why)
	}
	for _, client := range Clients {
		if !strings.Contains(e.Message(client), "fingerprint") || !strings.Contains(e.Message(client), "out of band") {
			t.Errorf("fix for %s: %q, want a fingerprint compared out of band", client, e.Message(client))
		}
	}
}

func TestEnded(t *testing.T) {
	for _, tt := range []struct {
		err  error
		want string
	}{
		{nil, ""},
		{errors.New("failed to get reader: context canceled"), "the WebSocket tunnel the connection ran in was closed"},
		{fmt.Errorf("read: %w", io.EOF), "the client closed the connection"},
		{net.ErrClosed, "the client closed the connection"},
		{errors.New("read tcp 127.0.0.1:1->127.0.0.1:2: read: connection reset by peer"), "the client dropped the connection without closing it"},
		{errors.New("read tcp 127.0.0.1:1: i/o timeout"), "nothing arrived from the client in time"},
		{errors.New("remote error: tls: revoked certificate"), `the client ended the connection with the TLS alert "revoked certificate"`},
		{errors.New("local error: tls: bad record MAC"), "a TLS record failed its integrity check"},
		{errors.New("something new"), "something new"},
	} {
		if got := Ended(tt.err, "the client"); got != tt.want && !strings.HasPrefix(got, tt.want) {
			t.Errorf("Ended(%v) = %q, want %q", tt.err, got, tt.want)
		}
	}
}

// Every lesson listener has its fault, and the broker's explanation of a
// refused handshake there names it instead of the generic advice.
func TestFaults(t *testing.T) {
	seen := map[string]bool{}
	for _, f := range Faults {
		if f.Listener == "" || f.What == "" || f.Meets == "" || f.Advice == "" || seen[f.Listener] {
			t.Errorf("fault %+v: incomplete or repeated", f)
		}
		seen[f.Listener] = true
		for _, g := range Faults {
			if g.Listener != f.Listener && strings.Contains(g.What, f.What) {
				t.Errorf("%s's fault %q is part of %s's %q: a log line could not tell them apart", f.Listener, f.What, g.Listener, g.What)
			}
		}
		if got, ok := LessonFault(f.Listener); !ok || got != f {
			t.Errorf("LessonFault(%q) = %+v, %v", f.Listener, got, ok)
		}
	}
	f, _ := LessonFault("unknown-ca")
	e := f.OnBroker(errors.New("remote error: tls: bad certificate"))
	if !strings.Contains(e.Detail, "certificate from an untrusted CA") || !strings.Contains(e.Fix["broker"], "out of band") || strings.Contains(e.Why, "Most often the client does not have") {
		t.Errorf("unknown-ca refused: %+v", e)
	}
	if e := f.OnBroker(errors.New("read: i/o timeout")); strings.Contains(e.Detail, f.What) {
		t.Errorf("a timeout on unknown-ca blamed on its fault: %+v", e)
	}
	if e := f.OnBroker(nil); !strings.Contains(e.Detail, f.What) {
		t.Errorf("a handshake done on unknown-ca: %+v", e)
	}
	if _, ok := LessonFault("mqtts"); ok {
		t.Error("mqtts has a fault")
	}
}
