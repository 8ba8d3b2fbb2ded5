package tlswire

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mqtts-playground/playground/trace/field"
	"github.com/mqtts-playground/playground/trace/internal/golden"
	"golang.org/x/crypto/cryptobyte"
)

// recordMessages makes the capture tests store the messages they capture as
// testdata/*.hex, the input of TestHandshakeGolden. Captures hold
// fresh randoms and keys, so they are recorded once and kept.
var recordMessages = flag.Bool("handshake.record", false, "write captured handshake messages to testdata")

// testPKI is a small certificate hierarchy, all ECDSA P-256: a root CA, an
// intermediate CA, a server leaf for localhost and a client leaf.
type testPKI struct {
	root, inter *x509.Certificate
	server      tls.Certificate // leaf and intermediate
	client      tls.Certificate // leaf and intermediate
	roots       *x509.CertPool
}

var newTestPKI = sync.OnceValues(func() (*testPKI, error) {
	now := time.Now()
	issue := func(tmpl, parent *x509.Certificate, parentKey *ecdsa.PrivateKey) (*x509.Certificate, *ecdsa.PrivateKey, error) {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return nil, nil, err
		}
		tmpl.NotBefore, tmpl.NotAfter = now.Add(-time.Hour), now.Add(24*time.Hour)
		if parent == nil {
			parent, parentKey = tmpl, key
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, parentKey)
		if err != nil {
			return nil, nil, err
		}
		cert, err := x509.ParseCertificate(der)
		return cert, key, err
	}
	ca := func(serial int64, cn string) *x509.Certificate {
		return &x509.Certificate{
			SerialNumber:          big.NewInt(serial),
			Subject:               pkix.Name{CommonName: cn, Organization: []string{"MQTTS Playground"}},
			KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
			BasicConstraintsValid: true,
			IsCA:                  true,
		}
	}
	root, rootKey, err := issue(ca(1, "Playground Root CA"), nil, nil)
	if err != nil {
		return nil, err
	}
	interTmpl := ca(2, "Playground Intermediate CA")
	interTmpl.MaxPathLenZero = true
	inter, interKey, err := issue(interTmpl, root, rootKey)
	if err != nil {
		return nil, err
	}
	leaf := func(serial int64, cn string, usage x509.ExtKeyUsage) (tls.Certificate, error) {
		tmpl := &x509.Certificate{
			SerialNumber:          big.NewInt(serial),
			Subject:               pkix.Name{CommonName: cn},
			DNSNames:              []string{cn},
			KeyUsage:              x509.KeyUsageDigitalSignature,
			ExtKeyUsage:           []x509.ExtKeyUsage{usage},
			BasicConstraintsValid: true,
		}
		if usage == x509.ExtKeyUsageServerAuth {
			tmpl.IPAddresses = []net.IP{net.IPv4(127, 0, 0, 1)}
		}
		cert, key, err := issue(tmpl, inter, interKey)
		if err != nil {
			return tls.Certificate{}, err
		}
		return tls.Certificate{Certificate: [][]byte{cert.Raw, inter.Raw}, PrivateKey: key, Leaf: cert}, nil
	}
	p := &testPKI{root: root, inter: inter, roots: x509.NewCertPool()}
	p.roots.AddCert(root)
	if p.server, err = leaf(3, "localhost", x509.ExtKeyUsageServerAuth); err != nil {
		return nil, err
	}
	if p.client, err = leaf(4, "playground-client", x509.ExtKeyUsageClientAuth); err != nil {
		return nil, err
	}
	return p, nil
})

func getPKI(t testing.TB) *testPKI {
	t.Helper()
	p, err := newTestPKI()
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// configs returns a client and a server configuration that trust each
// other; mTLS makes the server ask for the client's certificate.
func configs(t testing.TB, mTLS bool) (client, server *tls.Config) {
	p := getPKI(t)
	client = &tls.Config{ServerName: "localhost", RootCAs: p.roots}
	server = &tls.Config{Certificates: []tls.Certificate{p.server}}
	if mTLS {
		client.Certificates = []tls.Certificate{p.client}
		server.ClientAuth = tls.RequireAndVerifyClientCert
		server.ClientCAs = p.roots
	}
	return client, server
}

// recordingConn keeps a copy of everything written to it.
type recordingConn struct {
	net.Conn
	mu  sync.Mutex
	buf bytes.Buffer
}

func (c *recordingConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	c.buf.Write(p)
	c.mu.Unlock()
	return c.Conn.Write(p)
}

func (c *recordingConn) bytes() []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	return bytes.Clone(c.buf.Bytes())
}

// connPair returns the two ends of a loopback TCP connection. Unlike
// net.Pipe, they buffer, so both sides may write at once (as TLS 1.3 peers do
// around a HelloRetryRequest).
func connPair(t *testing.T) (client, server net.Conn) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, _ := l.Accept()
		accepted <- c
	}()
	client, err = net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	server = <-accepted
	if server == nil {
		t.Fatal("accept failed")
	}
	t.Cleanup(func() { client.Close(); server.Close() })
	return client, server
}

// runHandshake runs a real crypto/tls handshake over loopback TCP and returns the
// bytes each side wrote. The server then sends a few bytes that the client
// reads, so the client also processes any TLS 1.3 NewSessionTicket.
func runHandshake(t *testing.T, ccfg, scfg *tls.Config) (c2s, s2c []byte, state tls.ConnectionState) {
	t.Helper()
	cRaw, sRaw := connPair(t)
	for _, c := range []net.Conn{cRaw, sRaw} {
		c.SetDeadline(time.Now().Add(30 * time.Second))
	}
	cw, sw := &recordingConn{Conn: cRaw}, &recordingConn{Conn: sRaw}
	srv, cli := tls.Server(sw, scfg), tls.Client(cw, ccfg)
	done := make(chan error, 1)
	go func() {
		err := srv.Handshake()
		if err == nil {
			_, err = srv.Write([]byte("ping"))
		}
		done <- err
	}()
	if err := cli.Handshake(); err != nil {
		t.Fatalf("client handshake: %v", err)
	}
	if _, err := io.ReadFull(cli, make([]byte, 4)); err != nil {
		t.Fatalf("client read: %v", err)
	}
	if err := <-done; err != nil {
		t.Fatalf("server: %v", err)
	}
	return cw.bytes(), sw.bytes(), cli.ConnectionState()
}

// plaintextMessages splits one direction of a connection into TLS records
// (5-byte header: type, version, uint16 length) and returns the handshake
// messages of its plaintext handshake records. In TLS 1.2 the records after
// ChangeCipherSpec are encrypted, so it stops there; in TLS 1.3 encrypted
// records travel as application_data and are skipped.
func plaintextMessages(t *testing.T, stream []byte, tls13 bool) [][]byte {
	t.Helper()
	var hs []byte
	for len(stream) > 0 {
		if len(stream) < 5 {
			t.Fatalf("truncated record header: % x", stream)
		}
		typ, n := stream[0], int(stream[3])<<8|int(stream[4])
		if len(stream) < 5+n {
			t.Fatalf("truncated record: want %d bytes, have %d", n, len(stream)-5)
		}
		body := stream[5 : 5+n]
		stream = stream[5+n:]
		if typ == 20 && !tls13 {
			break
		}
		if typ == 22 {
			hs = append(hs, body...)
		}
	}
	return splitMessages(t, hs)
}

// splitMessages splits concatenated handshake messages.
func splitMessages(t *testing.T, b []byte) [][]byte {
	t.Helper()
	var msgs [][]byte
	for len(b) > 0 {
		if len(b) < 4 {
			t.Fatalf("truncated handshake header: % x", b)
		}
		n := 4 + (int(b[1])<<16 | int(b[2])<<8 | int(b[3]))
		if len(b) < n {
			t.Fatalf("truncated handshake message: want %d bytes, have %d", n, len(b))
		}
		msgs = append(msgs, b[:n:n])
		b = b[n:]
	}
	return msgs
}

// quicHandshake runs a TLS 1.3 handshake through crypto/tls's QUIC API, which hands
// over the handshake messages in plaintext, encrypted ones included, and
// returns the messages each side sent. The server sends a session ticket
// that allows early data.
func quicHandshake(t *testing.T, ccfg, scfg *tls.Config) (c2s, s2c [][]byte) {
	t.Helper()
	ccfg, scfg = ccfg.Clone(), scfg.Clone()
	ccfg.MinVersion, scfg.MinVersion = tls.VersionTLS13, tls.VersionTLS13
	ccfg.NextProtos, scfg.NextProtos = []string{"mqtt"}, []string{"mqtt"}
	conns := [2]*tls.QUICConn{
		tls.QUICClient(&tls.QUICConfig{TLSConfig: ccfg}),
		tls.QUICServer(&tls.QUICConfig{TLSConfig: scfg}),
	}
	var sent [2][]byte
	for _, c := range conns {
		c.SetTransportParameters(nil)
		if err := c.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
	}
	a, idle := 0, 0
	for idle < 2 {
		e := conns[a].NextEvent()
		if e.Kind == tls.QUICNoEvent {
			idle++
			a = 1 - a
			continue
		}
		idle = 0
		switch e.Kind {
		case tls.QUICWriteData:
			sent[a] = append(sent[a], e.Data...)
			if err := conns[1-a].HandleData(e.Level, e.Data); err != nil {
				t.Fatalf("HandleData: %v", err)
			}
		case tls.QUICHandshakeDone:
			if a == 1 {
				if err := conns[1].SendSessionTicket(tls.QUICSessionTicketOptions{EarlyData: true}); err != nil {
					t.Fatal(err)
				}
			}
		case tls.QUICErrorEvent:
			t.Fatalf("QUIC handshake: %v", e.Err)
		}
	}
	return splitMessages(t, sent[0]), splitMessages(t, sent[1])
}

// decodeWhole decodes msg, which must be one whole message.
func decodeWhole(t testing.TB, msg []byte, version uint16) HandshakeMessage {
	t.Helper()
	m, n, err := DecodeHandshake(msg, version)
	if err != nil || n != len(msg) {
		t.Fatalf("DecodeHandshake(%d bytes) = n %d, err %v; want the whole message", len(msg), n, err)
	}
	return m
}

// decodeCaptured decodes msg, checks the structural invariants and that it is
// well-formed and of the wanted type, and records it when -handshake.record
// is set.
func decodeCaptured(t *testing.T, name string, msg []byte, version uint16, wantType string) HandshakeMessage {
	t.Helper()
	m := decodeWhole(t, msg, version)
	if m.Err != nil {
		t.Fatalf("%s: %v", name, m.Err)
	}
	if m.Type != wantType {
		t.Fatalf("%s: Type = %q, want %q", name, m.Type, wantType)
	}
	if err := checkInvariants(msg, m); err != nil {
		t.Errorf("%s: %v", name, err)
	}
	if *recordMessages {
		writeHex(t, name, msg, version)
	}
	return m
}

// checkInvariants checks what DecodeHandshake promises about Fields: ranges
// within the message, ordered by Start, each child inside its parent (the
// nearest earlier field one level up), every field named, explained and
// cited, errors prefixed; and, for a well-formed message, every byte
// covered by a leaf field.
func checkInvariants(msg []byte, m HandshakeMessage) error {
	var stack []field.Field
	for i, f := range m.Fields {
		switch {
		case f.Start < 0 || f.End < f.Start || f.End > len(msg):
			return fmt.Errorf("field %d %q: range [%d, %d) outside [0, %d]", i, f.Name, f.Start, f.End, len(msg))
		case i > 0 && f.Start < m.Fields[i-1].Start:
			return fmt.Errorf("field %d %q starts at %d, before field %d at %d", i, f.Name, f.Start, i-1, m.Fields[i-1].Start)
		case f.Depth < 0 || f.Depth > len(stack):
			return fmt.Errorf("field %d %q: depth %d with no parent", i, f.Name, f.Depth)
		case f.In != "":
			return fmt.Errorf("field %d %q: In = %q", i, f.Name, f.In)
		case f.Name == "" || f.About == "" || f.Spec == "":
			return fmt.Errorf("field %d %+v: missing Name, About or Spec", i, f)
		}
		stack = stack[:f.Depth]
		if f.Depth > 0 {
			if p := stack[f.Depth-1]; f.Start < p.Start || f.End > p.End {
				return fmt.Errorf("field %d %q [%d, %d) outside its parent %q [%d, %d)", i, f.Name, f.Start, f.End, p.Name, p.Start, p.End)
			}
		}
		stack = append(stack, f)
	}
	if m.Err != nil {
		if s := m.Err.Error(); !strings.HasPrefix(s, "trace: tls: ") || !strings.Contains(s, " at offset ") {
			return fmt.Errorf("error %q lacks the prefix or the offset", s)
		}
		return nil
	}
	covered := make([]bool, len(msg))
	for i, f := range m.Fields {
		if i+1 < len(m.Fields) && m.Fields[i+1].Depth > f.Depth {
			continue // not a leaf
		}
		for j := f.Start; j < f.End; j++ {
			covered[j] = true
		}
	}
	if i := slices.Index(covered, false); i >= 0 {
		return fmt.Errorf("byte %d is not covered by any leaf field", i)
	}
	return nil
}

// find returns the first field called name, failing the test if there is
// none.
func find(t *testing.T, m HandshakeMessage, name string) field.Field {
	t.Helper()
	for _, f := range m.Fields {
		if f.Name == name {
			return f
		}
	}
	t.Fatalf("%s: no field %q", m.Type, name)
	return field.Field{}
}

// values returns the values of all fields called name.
func values(m HandshakeMessage, name string) []string {
	var vs []string
	for _, f := range m.Fields {
		if f.Name == name {
			vs = append(vs, f.Value)
		}
	}
	return vs
}

func wantEqual(t *testing.T, what, got, want string) {
	t.Helper()
	if got != want {
		t.Errorf("%s = %q, want %q", what, got, want)
	}
}

func TestHandshakeTLS13Defaults(t *testing.T) {
	ccfg, scfg := configs(t, false)
	c2s, s2c, state := runHandshake(t, ccfg, scfg)
	if state.Version != tls.VersionTLS13 || state.CurveID != tls.X25519MLKEM768 {
		t.Fatalf("negotiated %x with group %v, want TLS 1.3 with X25519MLKEM768", state.Version, state.CurveID)
	}
	clientMsgs, serverMsgs := plaintextMessages(t, c2s, true), plaintextMessages(t, s2c, true)
	if len(clientMsgs) != 1 || len(serverMsgs) != 1 {
		t.Fatalf("got %d client and %d server plaintext messages, want 1 and 1", len(clientMsgs), len(serverMsgs))
	}

	ch := decodeCaptured(t, "tls13_client_hello", clientMsgs[0], 0, "ClientHello")
	wantEqual(t, "ClientHello Summary", ch.Summary, "TLS 1.3 offered, SNI localhost, 2 key shares (X25519MLKEM768, x25519)")
	if ch.Version != tls.VersionTLS13 || !bytes.Equal(ch.Random, clientMsgs[0][6:38]) || len(ch.SessionID) != 32 {
		t.Errorf("ClientHello Version %x, Random %x, SessionID %x", ch.Version, ch.Random, ch.SessionID)
	}
	wantEqual(t, "host_name", find(t, ch, "host_name").Value, "localhost")
	shares := values(ch, "KeyShareEntry")
	if !slices.Equal(shares, []string{"X25519MLKEM768, 1216-byte key", "x25519, 32-byte key"}) {
		t.Errorf("key shares = %q", shares)
	}
	if ek := find(t, ch, "ML-KEM-768 encapsulation key"); ek.End-ek.Start != 1184 || ek.Depth != 4 {
		t.Errorf("ML-KEM-768 encapsulation key = %+v, want 1184 bytes at depth 4", ek)
	}
	groups := values(ch, "named_group")
	if len(groups) == 0 || groups[0] != "X25519MLKEM768 (0x11ec)" {
		t.Errorf("named groups = %q", groups)
	}
	if f := find(t, ch, "named_group"); !strings.Contains(f.About, "post-quantum") {
		t.Errorf("X25519MLKEM768 About = %q, want it to mention post-quantum", f.About)
	}
	if vs := values(ch, "version"); !slices.Equal(vs, []string{"TLS 1.3 (0x0304)", "TLS 1.2 (0x0303)"}) {
		t.Errorf("supported_versions = %q", vs)
	}
	wantEqual(t, "first extension", find(t, ch, "extension").Value, "server_name (0): localhost")
	if f := find(t, ch, "cipher_suites"); f.Depth != 0 || !strings.HasSuffix(f.Value, "cipher suites") {
		t.Errorf("cipher_suites = %+v", f)
	}

	sh := decodeCaptured(t, "tls13_server_hello", serverMsgs[0], 0, "ServerHello")
	suite := tls.CipherSuiteName(state.CipherSuite)
	wantEqual(t, "ServerHello Summary", sh.Summary, "TLS 1.3, "+suite+", X25519MLKEM768")
	if sh.Version != tls.VersionTLS13 || sh.CipherSuite != state.CipherSuite || !bytes.Equal(sh.SessionID, ch.SessionID) {
		t.Errorf("ServerHello Version %x, CipherSuite %x, SessionID %x", sh.Version, sh.CipherSuite, sh.SessionID)
	}
	wantEqual(t, "server_share", find(t, sh, "server_share").Value, "X25519MLKEM768, 1120-byte key")
	wantEqual(t, "selected_version", find(t, sh, "selected_version").Value, "TLS 1.3 (0x0304)")
	wantEqual(t, "legacy_version", find(t, sh, "legacy_version").Value, "TLS 1.2 (0x0303)")
	wantEqual(t, "cipher_suite", find(t, sh, "cipher_suite").Value, fmt.Sprintf("%s (0x%04x)", suite, state.CipherSuite))
}

func TestHandshakeHelloRetryRequest(t *testing.T) {
	ccfg, scfg := configs(t, false)
	// The client's key shares are for X25519MLKEM768 and X25519; a server
	// that only takes P-256 must ask for another share.
	scfg.CurvePreferences = []tls.CurveID{tls.CurveP256}
	c2s, s2c, state := runHandshake(t, ccfg, scfg)
	if !state.HelloRetryRequest {
		t.Fatal("no HelloRetryRequest")
	}
	clientMsgs, serverMsgs := plaintextMessages(t, c2s, true), plaintextMessages(t, s2c, true)
	if len(clientMsgs) != 2 || len(serverMsgs) != 2 {
		t.Fatalf("got %d client and %d server plaintext messages, want 2 and 2", len(clientMsgs), len(serverMsgs))
	}
	decodeCaptured(t, "tls13_hrr_client_hello1", clientMsgs[0], 0, "ClientHello")
	hrr := decodeCaptured(t, "tls13_hello_retry_request", serverMsgs[0], 0, "HelloRetryRequest")
	suite := tls.CipherSuiteName(state.CipherSuite)
	wantEqual(t, "HRR Summary", hrr.Summary, "TLS 1.3, "+suite+", retry with secp256r1")
	wantEqual(t, "selected_group", find(t, hrr, "selected_group").Value, "secp256r1 (0x0017)")
	wantEqual(t, "HRR random", find(t, hrr, "random").Value, `HelloRetryRequest marker (SHA-256 of "HelloRetryRequest")`)
	wantEqual(t, "msg_type", find(t, hrr, "msg_type").Value, "server_hello (2)")
	if hrr.Version != tls.VersionTLS13 || hrr.CipherSuite != state.CipherSuite {
		t.Errorf("HRR Version %x, CipherSuite %x", hrr.Version, hrr.CipherSuite)
	}

	ch2 := decodeCaptured(t, "tls13_hrr_client_hello2", clientMsgs[1], tls.VersionTLS13, "ClientHello")
	wantEqual(t, "ClientHello2 Summary", ch2.Summary, "TLS 1.3 offered, SNI localhost, 1 key share (secp256r1)")
	wantEqual(t, "KeyShareEntry", find(t, ch2, "KeyShareEntry").Value, "secp256r1, 65-byte key")
	sh := decodeCaptured(t, "tls13_hrr_server_hello", serverMsgs[1], tls.VersionTLS13, "ServerHello")
	wantEqual(t, "ServerHello Summary", sh.Summary, "TLS 1.3, "+suite+", secp256r1")
}

// staple makes the server send a (fake) stapled OCSP response and two
// (fake) signed certificate timestamps, which clients do not check.
func staple(scfg *tls.Config) {
	scfg.Certificates[0].OCSPStaple = []byte("not a real OCSP response")
	scfg.Certificates[0].SignedCertificateTimestamps = [][]byte{[]byte("not a real SCT 1"), []byte("not a real SCT 2")}
}

func TestHandshakeTLS12(t *testing.T) {
	ccfg, scfg := configs(t, true)
	staple(scfg)
	ccfg.MaxVersion = tls.VersionTLS12
	scfg.CipherSuites = []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256}
	ccfg.ClientSessionCache = tls.NewLRUClientSessionCache(1)
	c2s, s2c, state := runHandshake(t, ccfg, scfg)
	if state.Version != tls.VersionTLS12 {
		t.Fatalf("negotiated %x, want TLS 1.2", state.Version)
	}
	clientMsgs, serverMsgs := plaintextMessages(t, c2s, false), plaintextMessages(t, s2c, false)
	var types []string
	for _, m := range serverMsgs {
		types = append(types, decodeWhole(t, m, tls.VersionTLS12).Type)
	}
	for _, m := range clientMsgs {
		types = append(types, decodeWhole(t, m, tls.VersionTLS12).Type)
	}
	want := []string{"ServerHello", "Certificate", "CertificateStatus", "ServerKeyExchange", "CertificateRequest", "ServerHelloDone", "NewSessionTicket",
		"ClientHello", "Certificate", "ClientKeyExchange", "CertificateVerify"}
	if !slices.Equal(types, want) {
		t.Fatalf("messages = %q, want %q", types, want)
	}
	const v = tls.VersionTLS12
	cs := decodeCaptured(t, "tls12_certificate_status", serverMsgs[2], v, "CertificateStatus")
	wantEqual(t, "CertificateStatus Summary", cs.Summary, "OCSP response, 24 bytes")
	serverMsgs = slices.Delete(serverMsgs, 2, 3)

	ch := decodeCaptured(t, "tls12_client_hello", clientMsgs[0], 0, "ClientHello")
	wantEqual(t, "ClientHello Summary", ch.Summary, "TLS 1.2 offered, SNI localhost")
	for _, name := range []string{"extended_master_secret (23)", "renegotiation_info (65281): initial handshake", "session_ticket (35): empty, asks for a ticket"} {
		if !slices.Contains(values(ch, "extension"), name) {
			t.Errorf("ClientHello lacks extension %q; has %q", name, values(ch, "extension"))
		}
	}

	sh := decodeCaptured(t, "tls12_server_hello", serverMsgs[0], 0, "ServerHello")
	wantEqual(t, "ServerHello Summary", sh.Summary, "TLS 1.2, TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256")
	if sh.Version != v || sh.CipherSuite != tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 {
		t.Errorf("ServerHello Version %x, CipherSuite %x", sh.Version, sh.CipherSuite)
	}
	for _, name := range []string{"status_request (5): a CertificateStatus will follow", "signed_certificate_timestamp (18): 2 SCTs"} {
		if !slices.Contains(values(sh, "extension"), name) {
			t.Errorf("ServerHello lacks extension %q; has %q", name, values(sh, "extension"))
		}
	}
	if r := find(t, sh, "random"); !strings.HasSuffix(r.Value, "(ends in DOWNGRD 01)") {
		t.Errorf("random = %q, want the TLS 1.2 downgrade sentinel", r.Value)
	}

	cert := decodeCaptured(t, "tls12_certificate", serverMsgs[1], v, "Certificate")
	wantEqual(t, "Certificate Summary", cert.Summary, "2 certificates: CN=localhost ← CN=Playground Intermediate CA")
	if len(cert.Certificates) != 2 || cert.Certificates[0].Subject.CommonName != "localhost" {
		t.Errorf("Certificates = %v", cert.Certificates)
	}
	if vs := values(cert, "cert_data"); !slices.Equal(vs, []string{
		"CN=localhost issued by CN=Playground Intermediate CA",
		"CN=Playground Intermediate CA issued by CN=Playground Root CA",
	}) {
		t.Errorf("cert_data values = %q", vs)
	}
	for name, want := range map[string]string{
		"subjectAltName":       "DNS:localhost, IP:127.0.0.1",
		"subjectPublicKeyInfo": "ECDSA P-256",
		"signatureAlgorithm":   "ECDSA-SHA256",
		"subject":              "CN=localhost",
		"issuer":               "CN=Playground Intermediate CA,O=MQTTS Playground",
		"serialNumber":         "03",
		"extKeyUsage":          "serverAuth",
		"basicConstraints":     "CA: no (critical)",
		"keyUsage":             "digitalSignature (critical)",
	} {
		wantEqual(t, name, find(t, cert, name).Value, want)
	}
	if f := find(t, cert, "subject"); f.Depth != 2 {
		t.Errorf("subject depth = %d, want 2", f.Depth)
	}
	if vs := values(cert, "basicConstraints"); len(vs) != 2 || vs[1] != "CA: yes, path length 0 (critical)" {
		t.Errorf("basicConstraints = %q", vs)
	}

	ske := decodeCaptured(t, "tls12_server_key_exchange", serverMsgs[2], v, "ServerKeyExchange")
	wantEqual(t, "ServerKeyExchange Summary", ske.Summary, "ECDHE x25519, 32-byte public key, signed with ecdsa_secp256r1_sha256")
	wantEqual(t, "namedcurve", find(t, ske, "namedcurve").Value, "x25519 (0x001d)")

	cr := decodeCaptured(t, "tls12_certificate_request", serverMsgs[3], v, "CertificateRequest")
	if !strings.HasPrefix(cr.Summary, "client certificate requested: rsa_sign, ecdsa_sign, ") {
		t.Errorf("CertificateRequest Summary = %q", cr.Summary)
	}
	if vs := values(cr, "DistinguishedName"); !slices.Contains(vs, "CN=Playground Root CA,O=MQTTS Playground") {
		t.Errorf("certificate_authorities = %q", vs)
	}
	decodeCaptured(t, "tls12_server_hello_done", serverMsgs[4], v, "ServerHelloDone")
	nst := decodeCaptured(t, "tls12_new_session_ticket", serverMsgs[5], v, "NewSessionTicket")
	if !strings.HasPrefix(nst.Summary, "ticket of ") || !strings.HasSuffix(nst.Summary, ", lifetime hint unspecified") {
		t.Errorf("NewSessionTicket Summary = %q", nst.Summary)
	}

	ccert := decodeCaptured(t, "tls12_client_certificate", clientMsgs[1], v, "Certificate")
	wantEqual(t, "client Certificate Summary", ccert.Summary, "2 certificates: CN=playground-client ← CN=Playground Intermediate CA")
	cke := decodeCaptured(t, "tls12_client_key_exchange", clientMsgs[2], v, "ClientKeyExchange")
	wantEqual(t, "ClientKeyExchange Summary", cke.Summary, "ECDHE public key, 32 bytes")
	cv := decodeCaptured(t, "tls12_certificate_verify", clientMsgs[3], v, "CertificateVerify")
	if !strings.HasPrefix(cv.Summary, "ecdsa_secp256r1_sha256, ") {
		t.Errorf("CertificateVerify Summary = %q", cv.Summary)
	}

	// Without the version, the TLS 1.2 layout is found by trying.
	if m := decodeWhole(t, serverMsgs[1], 0); m.Err != nil || m.Summary != cert.Summary {
		t.Errorf("Certificate with version 0: %q, %v", m.Summary, m.Err)
	}

	// Resume with the ticket.
	c2s, _, state = runHandshake(t, ccfg, scfg)
	if !state.DidResume {
		t.Fatal("did not resume")
	}
	ch = decodeCaptured(t, "tls12_client_hello_ticket", plaintextMessages(t, c2s, false)[0], 0, "ClientHello")
	wantEqual(t, "resuming ClientHello Summary", ch.Summary, "TLS 1.2 offered, SNI localhost, session ticket")
	if f := find(t, ch, "ticket"); f.End-f.Start < 32 {
		t.Errorf("ticket = %+v", f)
	}
}

func TestHandshakeTLS13Resumption(t *testing.T) {
	ccfg, scfg := configs(t, false)
	ccfg.ClientSessionCache = tls.NewLRUClientSessionCache(1)
	runHandshake(t, ccfg, scfg)
	c2s, s2c, state := runHandshake(t, ccfg, scfg)
	if !state.DidResume {
		t.Fatal("did not resume")
	}
	ch := decodeCaptured(t, "tls13_client_hello_psk", plaintextMessages(t, c2s, true)[0], 0, "ClientHello")
	wantEqual(t, "ClientHello Summary", ch.Summary, "TLS 1.3 offered, SNI localhost, 2 key shares (X25519MLKEM768, x25519), PSK resumption")
	exts := values(ch, "extension")
	wantEqual(t, "last extension", exts[len(exts)-1], "pre_shared_key (41): 1 identity")
	wantEqual(t, "ke_mode", find(t, ch, "ke_mode").Value, "psk_dhe_ke (1)")
	if b := find(t, ch, "binder"); b.End-b.Start != 32 {
		t.Errorf("binder = %+v, want 32 bytes", b)
	}
	find(t, ch, "obfuscated_ticket_age")

	sh := decodeCaptured(t, "tls13_server_hello_psk", plaintextMessages(t, s2c, true)[0], 0, "ServerHello")
	if !strings.HasSuffix(sh.Summary, ", X25519MLKEM768, PSK") {
		t.Errorf("ServerHello Summary = %q", sh.Summary)
	}
	wantEqual(t, "selected_identity", find(t, sh, "selected_identity").Value, "0")
}

// TestHandshakeTLS13Encrypted decodes the messages TLS 1.3 encrypts, taken
// in plaintext from crypto/tls's QUIC API, with client authentication.
func TestHandshakeTLS13Encrypted(t *testing.T) {
	ccfg, scfg := configs(t, true)
	staple(scfg)
	c2s, s2c := quicHandshake(t, ccfg, scfg)
	const v = tls.VersionTLS13
	var types []string
	for _, m := range append(slices.Clone(s2c), c2s...) {
		types = append(types, decodeWhole(t, m, v).Type)
	}
	want := []string{"ServerHello", "EncryptedExtensions", "CertificateRequest", "Certificate", "CertificateVerify", "Finished", "NewSessionTicket",
		"ClientHello", "Certificate", "CertificateVerify", "Finished"}
	if !slices.Equal(types, want) {
		t.Fatalf("messages = %q, want %q", types, want)
	}

	ch := decodeCaptured(t, "tls13_quic_client_hello", c2s[0], 0, "ClientHello")
	if !strings.Contains(ch.Summary, ", ALPN mqtt") {
		t.Errorf("ClientHello Summary = %q", ch.Summary)
	}
	ee := decodeCaptured(t, "tls13_encrypted_extensions", s2c[1], v, "EncryptedExtensions")
	wantEqual(t, "EncryptedExtensions Summary", ee.Summary, "ALPN mqtt, 3 extensions")
	wantEqual(t, "protocol_name", find(t, ee, "protocol_name").Value, "mqtt")

	cr := decodeCaptured(t, "tls13_certificate_request", s2c[2], v, "CertificateRequest")
	if !strings.HasPrefix(cr.Summary, "client certificate requested, ") || !strings.HasSuffix(cr.Summary, "signature schemes, 1 accepted CA") {
		t.Errorf("CertificateRequest Summary = %q", cr.Summary)
	}
	wantEqual(t, "DistinguishedName", find(t, cr, "DistinguishedName").Value, "CN=Playground Root CA,O=MQTTS Playground")

	cert := decodeCaptured(t, "tls13_certificate", s2c[3], v, "Certificate")
	wantEqual(t, "Certificate Summary", cert.Summary, "2 certificates: CN=localhost ← CN=Playground Intermediate CA")
	wantEqual(t, "certificate_request_context length", find(t, cert, "certificate_request_context length").Value, "0 bytes")
	if vs := values(cert, "extensions"); !slices.Equal(vs, []string{"2 extensions", "0 extensions"}) {
		t.Errorf("per-certificate extension blocks: %q, want 2 extensions for the leaf, none for the intermediate", vs)
	}
	if vs := values(cert, "extension"); !slices.Equal(vs, []string{"status_request (5): OCSP response, 24 bytes", "signed_certificate_timestamp (18): 2 SCTs"}) {
		t.Errorf("leaf certificate extensions: %q", vs)
	}

	cv := decodeCaptured(t, "tls13_certificate_verify", s2c[4], v, "CertificateVerify")
	if !strings.HasPrefix(cv.Summary, "ecdsa_secp256r1_sha256, ") || !strings.HasSuffix(cv.Summary, " signature") {
		t.Errorf("CertificateVerify Summary = %q", cv.Summary)
	}
	fin := decodeCaptured(t, "tls13_finished", s2c[5], v, "Finished")
	wantEqual(t, "Finished Summary", fin.Summary, "32 bytes verify_data")
	if a := find(t, fin, "verify_data").About; !strings.Contains(a, "HMAC") {
		t.Errorf("verify_data About = %q", a)
	}
	nst := decodeCaptured(t, "tls13_new_session_ticket", s2c[6], v, "NewSessionTicket")
	if !strings.HasSuffix(nst.Summary, ", lifetime 604800 s (7 days), early data up to 4294967295 bytes") {
		t.Errorf("NewSessionTicket Summary = %q", nst.Summary)
	}

	ccert := decodeCaptured(t, "tls13_client_certificate", c2s[1], v, "Certificate")
	wantEqual(t, "client Certificate Summary", ccert.Summary, "2 certificates: CN=playground-client ← CN=Playground Intermediate CA")
	decodeCaptured(t, "tls13_client_certificate_verify", c2s[2], v, "CertificateVerify")
	decodeCaptured(t, "tls13_client_finished", c2s[3], v, "Finished")
}

// litField is the part of a Field the literal tests spell out.
type litField struct {
	name, value string
	start, end  int
	depth       int
}

func literalHex(t *testing.T, s string) []byte {
	t.Helper()
	var clean strings.Builder
	for _, line := range strings.Split(s, "\n") {
		line, _, _ = strings.Cut(line, "//")
		clean.WriteString(strings.Join(strings.Fields(line), ""))
	}
	b, err := hex.DecodeString(clean.String())
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestHandshakeLiterals decodes small messages written out byte by byte,
// and checks every field.
func TestHandshakeLiterals(t *testing.T) {
	tests := []struct {
		name    string
		version uint16
		hex     string
		typ     string
		summary string
		fields  []litField
	}{{
		name:    "Finished",
		version: tls.VersionTLS13,
		hex: `
			14        // msg_type: finished (20)
			000020    // length: 32
			000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f // verify_data`,
		typ:     "Finished",
		summary: "32 bytes verify_data",
		fields: []litField{
			{"msg_type", "finished (20)", 0, 1, 0},
			{"length", "32 bytes", 1, 4, 0},
			{"verify_data", "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f", 4, 36, 0},
		},
	}, {
		name:    "KeyUpdate",
		version: tls.VersionTLS13,
		hex: `
			18        // msg_type: key_update (24)
			000001    // length: 1
			01        // request_update: update_requested`,
		typ:     "KeyUpdate",
		summary: "update_requested",
		fields: []litField{
			{"msg_type", "key_update (24)", 0, 1, 0},
			{"length", "1 byte", 1, 4, 0},
			{"request_update", "update_requested (1)", 4, 5, 0},
		},
	}, {
		name:    "NewSessionTicket13",
		version: tls.VersionTLS13,
		hex: `
			04        // msg_type: new_session_ticket (4)
			00001a    // length: 26
			00001c20  // ticket_lifetime: 7200 s
			01020304  // ticket_age_add
			01 00     // ticket_nonce: length 1, 00
			0004 aabbccdd   // ticket: length 4, aabbccdd
			0008      // extensions: length 8
			002a 0004 // extension early_data (42), length 4
			00004000  // max_early_data_size: 16384`,
		typ:     "NewSessionTicket",
		summary: "ticket of 4 bytes, lifetime 7200 s (2 hours), early data up to 16384 bytes",
		fields: []litField{
			{"msg_type", "new_session_ticket (4)", 0, 1, 0},
			{"length", "26 bytes", 1, 4, 0},
			{"ticket_lifetime", "7200 s (2 hours)", 4, 8, 0},
			{"ticket_age_add", "01020304", 8, 12, 0},
			{"ticket_nonce length", "1 byte", 12, 13, 0},
			{"ticket_nonce", "00", 13, 14, 0},
			{"ticket length", "4 bytes", 14, 16, 0},
			{"ticket", "aabbccdd", 16, 20, 0},
			{"extensions", "1 extension", 20, 30, 0},
			{"extensions length", "8 bytes", 20, 22, 1},
			{"extension", "early_data (42): up to 16384 bytes", 22, 30, 1},
			{"extension_type", "early_data (42)", 22, 24, 2},
			{"extension_data length", "4 bytes", 24, 26, 2},
			{"max_early_data_size", "16384 bytes", 26, 30, 2},
		},
	}, {
		name:    "EncryptedExtensionsALPN",
		version: tls.VersionTLS13,
		hex: `
			08        // msg_type: encrypted_extensions (8)
			00000d    // length: 13
			000b      // extensions: length 11
			0010 0007 // extension application_layer_protocol_negotiation (16), length 7
			0005      // protocol_name_list: length 5
			04 6d717474 // protocol_name: length 4, "mqtt"`,
		typ:     "EncryptedExtensions",
		summary: "ALPN mqtt, 1 extension",
		fields: []litField{
			{"msg_type", "encrypted_extensions (8)", 0, 1, 0},
			{"length", "13 bytes", 1, 4, 0},
			{"extensions", "1 extension", 4, 17, 0},
			{"extensions length", "11 bytes", 4, 6, 1},
			{"extension", "application_layer_protocol_negotiation (16): mqtt", 6, 17, 1},
			{"extension_type", "application_layer_protocol_negotiation (16)", 6, 8, 2},
			{"extension_data length", "7 bytes", 8, 10, 2},
			{"protocol_name_list length", "5 bytes", 10, 12, 2},
			{"protocol_name length", "4 bytes", 12, 13, 2},
			{"protocol_name", "mqtt", 13, 17, 2},
		},
	}, {
		name:    "EncryptedExtensionsUnknownAndGREASE",
		version: tls.VersionTLS13,
		hex: `
			08        // msg_type: encrypted_extensions (8)
			00000d    // length: 13
			000b      // extensions: length 11
			1234 0002 abcd // extension 4660 (unknown), length 2, data
			3a3a 0001 00   // extension GREASE, length 1, data`,
		typ:     "EncryptedExtensions",
		summary: "2 extensions",
		fields: []litField{
			{"msg_type", "encrypted_extensions (8)", 0, 1, 0},
			{"length", "13 bytes", 1, 4, 0},
			{"extensions", "2 extensions", 4, 17, 0},
			{"extensions length", "11 bytes", 4, 6, 1},
			{"extension", "unknown (4660): 2 bytes", 6, 12, 1},
			{"extension_type", "unknown (4660)", 6, 8, 2},
			{"extension_data length", "2 bytes", 8, 10, 2},
			{"extension_data", "abcd", 10, 12, 2},
			{"extension", "GREASE (0x3a3a): 1 byte", 12, 17, 1},
			{"extension_type", "GREASE (0x3a3a)", 12, 14, 2},
			{"extension_data length", "1 byte", 14, 16, 2},
			{"extension_data", "00", 16, 17, 2},
		},
	}, {
		name: "ServerHelloDone",
		hex: `
			0e 000000 // msg_type server_hello_done (14), length 0`,
		typ:     "ServerHelloDone",
		summary: "the server has sent all its hello messages",
		fields: []litField{
			{"msg_type", "server_hello_done (14)", 0, 1, 0},
			{"length", "0 bytes", 1, 4, 0},
		},
	}, {
		name: "UnknownType",
		hex: `
			63 000002 // msg_type 99, length 2
			beef      // body`,
		typ:     "Unknown(99)",
		summary: "2 bytes body",
		fields: []litField{
			{"msg_type", "unknown (99)", 0, 1, 0},
			{"length", "2 bytes", 1, 4, 0},
			{"body", "beef", 4, 6, 0},
		},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			msg := literalHex(t, tt.hex)
			m := decodeWhole(t, msg, tt.version)
			if m.Err != nil {
				t.Fatal(m.Err)
			}
			if err := checkInvariants(msg, m); err != nil {
				t.Error(err)
			}
			wantEqual(t, "Type", m.Type, tt.typ)
			wantEqual(t, "Summary", m.Summary, tt.summary)
			var got []litField
			for _, f := range m.Fields {
				got = append(got, litField{f.Name, f.Value, f.Start, f.End, f.Depth})
			}
			if !slices.Equal(got, tt.fields) {
				t.Errorf("fields:\n%s\nwant:\n%s", fieldList(got), fieldList(tt.fields))
			}
		})
	}
}

func fieldList(fs []litField) string {
	var b strings.Builder
	for _, f := range fs {
		fmt.Fprintf(&b, "\t%s%q %q [%d, %d)\n", strings.Repeat("  ", f.depth), f.name, f.value, f.start, f.end)
	}
	return b.String()
}

// clientHelloWith builds a ClientHello with the given extension block bytes.
func clientHelloWith(exts []byte) []byte {
	var b cryptobyte.Builder
	b.AddUint8(typeClientHello)
	b.AddUint24LengthPrefixed(func(b *cryptobyte.Builder) {
		b.AddUint16(tls.VersionTLS12)
		b.AddBytes(make([]byte, 32)) // random
		b.AddUint8(0)                // legacy_session_id
		b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) {
			b.AddUint16(tls.TLS_AES_128_GCM_SHA256)
		})
		b.AddUint8LengthPrefixed(func(b *cryptobyte.Builder) { b.AddUint8(0) })
		if exts != nil {
			b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes(exts) })
		}
	})
	return b.BytesOrPanic()
}

// In clientHelloWith's messages the extensions length is at offset 45 and the
// first extension at 47.

func TestHandshakeMalformed(t *testing.T) {
	tests := []struct {
		name    string
		msg     []byte
		version uint16
		typ     string
		err     string
	}{
		{"empty finished", []byte{20, 0, 0, 0}, 0, "Finished",
			"trace: tls: Finished: verify_data at offset 4: empty"},
		{"key update value", []byte{24, 0, 0, 1, 2}, tls.VersionTLS13, "KeyUpdate",
			"trace: tls: KeyUpdate: request_update at offset 4: invalid value 2"},
		{"key update too long", []byte{24, 0, 0, 2, 0, 0}, tls.VersionTLS13, "KeyUpdate",
			"trace: tls: KeyUpdate: trailing data at offset 5: 1 byte after the end of the KeyUpdate"},
		{"server hello done with body", []byte{14, 0, 0, 1, 0}, tls.VersionTLS12, "ServerHelloDone",
			"trace: tls: ServerHelloDone: body at offset 4: 1 byte where the message must be empty (RFC 5246 §7.4.5)"},
		{"duplicate extension", clientHelloWith([]byte{0, 43, 0, 3, 2, 3, 4, 0, 43, 0, 3, 2, 3, 4}), 0, "ClientHello",
			"trace: tls: ClientHello: extension 43 at offset 54: duplicate"},
		{"extension data left over", clientHelloWith([]byte{0, 23, 0, 1, 0}), 0, "ClientHello",
			"trace: tls: ClientHello: extension 23 at offset 47: 1 byte left over at offset 51"},
		{"pre_shared_key not last", clientHelloWith([]byte{0, 41, 0, 0, 0, 23, 0, 0}), 0, "ClientHello",
			"trace: tls: ClientHello: extension 41 at offset 47: pre_shared_key must be the last extension"},
		{"extension overruns", clientHelloWith([]byte{0, 0, 0, 9, 0}), 0, "ClientHello",
			"trace: tls: ClientHello: extension_data at offset 49: length 9 exceeds the 1 byte left"},
		{"empty key_exchange", clientHelloWith([]byte{0, 51, 0, 6, 0, 4, 0, 29, 0, 0}), 0, "ClientHello",
			"trace: tls: ClientHello: key_exchange at offset 55: empty"},
		{"empty SNI", clientHelloWith([]byte{0, 0, 0, 5, 0, 3, 0, 0, 0}), 0, "ClientHello",
			"trace: tls: ClientHello: host_name at offset 54: length 0 is below the minimum of 1"},
		{"odd cipher_suites", []byte{1, 0, 0, 38, 3, 3,
			0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
			0, 0, 1, 0x13}, 0, "ClientHello",
			"trace: tls: ClientHello: cipher_suites at offset 39: length 1 is below the minimum of 2"},
		{"cipher_suites overrun", []byte{1, 0, 0, 39, 3, 3,
			0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
			0, 1, 0x2c, 0x13, 1}, 0, "ClientHello",
			"trace: tls: ClientHello: cipher_suites at offset 39: length 300 exceeds the 2 bytes left"},
		{"session id too long", append([]byte{1, 0, 0, 68, 3, 3,
			0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
			33}, make([]byte, 33)...), 0, "ClientHello",
			"trace: tls: ClientHello: legacy_session_id at offset 38: length 33 is above the maximum of 32"},
		{"certificate garbage", []byte{11, 0, 0, 11, 0, 0, 0, 7, 0, 0, 2, 0x30, 0, 0, 0}, tls.VersionTLS13, "Certificate",
			"trace: tls: Certificate: cert_data at offset 11: x509: malformed tbs certificate"},
		{"server ALPN with two names", []byte{8, 0, 0, 14, 0, 12, 0, 16, 0, 8, 0, 6, 2, 'h', '2', 2, 'h', '3'}, tls.VersionTLS13, "EncryptedExtensions",
			"trace: tls: EncryptedExtensions: protocol_name_list at offset 10: 2 protocols where the server must choose exactly one"},
		{"certificate status type", []byte{22, 0, 0, 5, 2, 0, 0, 1, 0}, tls.VersionTLS12, "CertificateStatus",
			"trace: tls: CertificateStatus: status_type at offset 4: unsupported value 2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := decodeWhole(t, tt.msg, tt.version)
			if m.Err == nil {
				t.Fatalf("no error; fields:\n%v", m.Fields)
			}
			wantEqual(t, "Err", m.Err.Error(), tt.err)
			wantEqual(t, "Type", m.Type, tt.typ)
			if !strings.HasPrefix(m.Summary, "malformed: ") {
				t.Errorf("Summary = %q", m.Summary)
			}
			if err := checkInvariants(tt.msg, m); err != nil {
				t.Error(err)
			}
		})
	}
}

// corpus returns the recorded messages of testdata with their
// versions, and the literal ones.
func corpus(t testing.TB) (names []string, msgs [][]byte, versions []uint16) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.hex"))
	if err != nil {
		t.Fatal(err)
	}
	for _, file := range files {
		msg, version, err := readHex(file)
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, strings.TrimSuffix(filepath.Base(file), ".hex"))
		msgs = append(msgs, msg)
		versions = append(versions, version)
	}
	return names, msgs, versions
}

// TestHandshakeFraming checks how DecodeHandshake cuts messages: a
// message is the first 4+length bytes, and anything shorter waits for more.
func TestHandshakeFraming(t *testing.T) {
	for _, tt := range []struct {
		name string
		in   []byte
		n    int
	}{
		{"empty", nil, 0},
		{"short header", []byte{20, 0}, 0},
		{"length too long", []byte{20, 0, 0, 5, 1, 2}, 0},
		{"exact", []byte{20, 0, 0, 1, 0xaa}, 5},
		{"bytes after the message", []byte{20, 0, 0, 1, 0xaa, 0xbb}, 5},
		{"two messages", []byte{14, 0, 0, 0, 14, 0, 0, 0}, 4},
	} {
		m, n, err := DecodeHandshake(tt.in, 0)
		switch {
		case tt.n == 0 && (n != 0 || !errors.Is(err, io.ErrUnexpectedEOF) || m.Type != "" || m.Fields != nil):
			t.Errorf("%s: n %d, err %v, Type %q; want 0, io.ErrUnexpectedEOF and a zero message", tt.name, n, err, m.Type)
		case tt.n > 0 && (n != tt.n || err != nil || m.Err != nil):
			t.Errorf("%s: n %d, err %v, m.Err %v; want %d and no errors", tt.name, n, err, m.Err, tt.n)
		}
	}
}

// TestHandshakePrefixes cuts each recorded message short in two ways: a
// proper prefix of the message waits for more bytes, and a message whose
// length says its body is a prefix of the real one decodes without
// breaking the promises about fields (most such bodies are malformed,
// which exercises every early return of the decoder).
func TestHandshakePrefixes(t *testing.T) {
	names, msgs, versions := corpus(t)
	if len(msgs) == 0 {
		t.Fatal("no recorded messages in testdata")
	}
	for i, msg := range msgs {
		failed := 0
		for n := range len(msg) {
			if _, k, err := DecodeHandshake(msg[:n], versions[i]); k != 0 || !errors.Is(err, io.ErrUnexpectedEOF) {
				t.Fatalf("%s: prefix of %d of %d bytes: n %d, err %v", names[i], n, len(msg), k, err)
			}
			if n < HandshakeHeaderLen {
				continue
			}
			cut := bytes.Clone(msg[:n])
			body := n - HandshakeHeaderLen
			cut[1], cut[2], cut[3] = byte(body>>16), byte(body>>8), byte(body)
			m := decodeWhole(t, cut, versions[i])
			if err := checkInvariants(cut, m); err != nil {
				t.Errorf("%s: body cut to %d bytes: %v", names[i], body, err)
			}
			if m.Err != nil {
				failed++
			}
		}
		if len(msg) > 8 && failed == 0 {
			t.Errorf("%s: no cut body fails to decode", names[i])
		}
	}
}

func TestHandshakeNames(t *testing.T) {
	for _, tt := range []struct {
		f    func(uint16) string
		id   uint16
		want string
	}{
		{CipherSuiteName, 0x1301, "TLS_AES_128_GCM_SHA256"},
		{CipherSuiteName, 0x1303, "TLS_CHACHA20_POLY1305_SHA256"},
		{CipherSuiteName, 0x1305, "TLS_AES_128_CCM_8_SHA256"},
		{CipherSuiteName, 0xc02b, "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"},
		{CipherSuiteName, 0xcca8, "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256"},
		{CipherSuiteName, 0x2a2a, "GREASE"},
		{CipherSuiteName, 0x00ff, "TLS_EMPTY_RENEGOTIATION_INFO_SCSV"},
		{CipherSuiteName, 0x1234, "0x1234"},
		{GroupName, 0x11ec, "X25519MLKEM768"},
		{GroupName, 0x001d, "x25519"},
		{GroupName, 0x0017, "secp256r1"},
		{GroupName, 0x0018, "secp384r1"},
		{GroupName, 0x0019, "secp521r1"},
		{GroupName, 0x001e, "x448"},
		{GroupName, 0x0100, "ffdhe2048"},
		{GroupName, 0x0104, "ffdhe8192"},
		{GroupName, 0x0200, "MLKEM512"},
		{GroupName, 0x0201, "MLKEM768"},
		{GroupName, 0x0202, "MLKEM1024"},
		{GroupName, 0x11eb, "SecP256r1MLKEM768"},
		{GroupName, 0x11ed, "SecP384r1MLKEM1024"},
		{GroupName, 0xdada, "GREASE"},
		{GroupName, 0x0a0b, "0x0A0B"},
		{SignatureSchemeName, 0x0403, "ecdsa_secp256r1_sha256"},
		{SignatureSchemeName, 0x0804, "rsa_pss_rsae_sha256"},
		{SignatureSchemeName, 0x0807, "ed25519"},
		{SignatureSchemeName, 0x0402, "dsa_sha256"},
		{SignatureSchemeName, 0xfe00, "0xFE00"},
		{ExtensionName, 0, "server_name"},
		{ExtensionName, 43, "supported_versions"},
		{ExtensionName, 0xff01, "renegotiation_info"},
		{ExtensionName, 0xfe0d, "encrypted_client_hello"},
		{ExtensionName, 0x0a0a, "GREASE"},
		{ExtensionName, 4660, "unknown (4660)"},
		{VersionName, 0x0304, "TLS 1.3"},
		{VersionName, 0x0303, "TLS 1.2"},
		{VersionName, 0x0302, "TLS 1.1"},
		{VersionName, 0x0301, "TLS 1.0"},
		{VersionName, 0x0300, "SSL 3.0"},
		{VersionName, 0x1a1a, "GREASE"},
		{VersionName, 0x0305, "0x0305"},
	} {
		if got := tt.f(tt.id); got != tt.want {
			t.Errorf("name of 0x%04x = %q, want %q", tt.id, got, tt.want)
		}
	}
}

// writeHex stores a captured message as testdata/name.hex.
func writeHex(t *testing.T, name string, msg []byte, version uint16) {
	t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "# %s, captured from a crypto/tls handshake (%s); regenerate with go test -run Handshake -handshake.record\n", name, runtime.Version())
	fmt.Fprintf(&b, "# version 0x%04x\n", version)
	h := hex.EncodeToString(msg)
	for len(h) > 64 {
		b.WriteString(h[:64] + "\n")
		h = h[64:]
	}
	b.WriteString(h + "\n")
	if err := os.WriteFile(filepath.Join("testdata", name+".hex"), []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

// readHex reads a .hex file: "#" comment lines, one of which may be
// "# version 0x0304" (the version to decode with), and hex digits.
func readHex(file string) ([]byte, uint16, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, 0, err
	}
	var version uint16
	var digits strings.Builder
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "# version "); ok {
			n, err := strconv.ParseUint(strings.TrimSpace(v), 0, 16)
			if err != nil {
				return nil, 0, fmt.Errorf("%s: %v", file, err)
			}
			version = uint16(n)
			continue
		}
		if strings.HasPrefix(line, "#") {
			continue
		}
		digits.WriteString(strings.Join(strings.Fields(line), ""))
	}
	msg, err := hex.DecodeString(digits.String())
	if err != nil {
		return nil, 0, fmt.Errorf("%s: %v", file, err)
	}
	return msg, version, nil
}

// goldenMessage is the JSON form of a decoded message in the golden files.
type goldenMessage struct {
	Type         string        `json:"type"`
	Summary      string        `json:"summary"`
	Error        string        `json:"error,omitempty"`
	Version      string        `json:"version,omitempty"`
	CipherSuite  string        `json:"cipher_suite,omitempty"`
	Random       string        `json:"random,omitempty"`
	SessionID    string        `json:"session_id,omitempty"`
	Certificates []string      `json:"certificates,omitempty"`
	Fields       []field.Field `json:"fields"`
}

// TestHandshakeGolden decodes the recorded messages of testdata
// and compares the result with the .golden.json next to each; -update
// rewrites them.
func TestHandshakeGolden(t *testing.T) {
	names, msgs, versions := corpus(t)
	if len(msgs) == 0 {
		t.Fatal("no recorded messages in testdata")
	}
	for i, name := range names {
		t.Run(name, func(t *testing.T) {
			m := decodeWhole(t, msgs[i], versions[i])
			if err := checkInvariants(msgs[i], m); err != nil {
				t.Error(err)
			}
			g := goldenMessage{Type: m.Type, Summary: m.Summary, Fields: m.Fields,
				Random: hex.EncodeToString(m.Random), SessionID: hex.EncodeToString(m.SessionID)}
			if m.Err != nil {
				g.Error = m.Err.Error()
			}
			if m.Version != 0 {
				g.Version = VersionName(m.Version)
			}
			if m.CipherSuite != 0 {
				g.CipherSuite = CipherSuiteName(m.CipherSuite)
			}
			for _, c := range m.Certificates {
				s := "(unparseable)"
				if c != nil {
					s = c.Subject.String()
				}
				g.Certificates = append(g.Certificates, s)
			}
			golden.JSON(t, filepath.Join("testdata", name+".golden.json"), g, "\t")
		})
	}
}

// Field.Ext names an extension as data, whatever Value says for people.
func TestExtKey(t *testing.T) {
	for _, tt := range []struct {
		id   uint16
		want string
	}{
		{51, "key_share"},
		{0, "server_name"},
		{0x0a0a, "GREASE"},
		{0xfe99, "unknown"},
	} {
		if got := extKey(tt.id); got != tt.want {
			t.Errorf("extKey(%d) = %q, want %q", tt.id, got, tt.want)
		}
	}
}
