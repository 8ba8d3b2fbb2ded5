package trace

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"fmt"
	"io"
	"math/big"
	"net"
	"slices"
	"strings"
	"testing"
	"time"
)

// testCert makes a self-signed ECDSA certificate for "localhost".
func testCert(t testing.TB) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "localhost"},
		DNSNames: []string{"localhost"}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, IsCA: true, BasicConstraintsValid: true,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool
}

// Minimal MQTT 3.1.1 packets for the sessions below.
var (
	connectPkt = []byte{0x10, 0x10, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x04, 0x02, 0x00, 0x3c, 0x00, 0x04, 't', 'e', 's', 't'}
	connackPkt = []byte{0x20, 0x02, 0x00, 0x00}
	publishPkt = []byte{0x30, 0x0a, 0x00, 0x03, 'a', '/', 'b', 'h', 'e', 'l', 'l', 'o'}
)

// session runs one TLS connection over loopback TCP with both ends
// recorded: the client sends CONNECT and PUBLISH, the server CONNACK.
func session(t *testing.T, ccfg, scfg *tls.Config) (client, server Recording, resumed bool) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	srec := NewRecorder(Broker, 0)
	done := make(chan error, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			done <- err
			return
		}
		defer c.Close()
		cfg := scfg.Clone()
		cfg.KeyLogWriter = srec.KeyLogWriter()
		tc := tls.Server(srec.Wire(c), cfg)
		app := srec.App(tc)
		buf := make([]byte, len(connectPkt))
		if _, err := io.ReadFull(app, buf); err != nil {
			done <- err
			return
		}
		if _, err := app.Write(connackPkt); err != nil {
			done <- err
			return
		}
		buf = make([]byte, len(publishPkt))
		_, err = io.ReadFull(app, buf)
		done <- err
	}()
	raw, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	crec := NewRecorder(Client, 0)
	cfg := ccfg.Clone()
	cfg.KeyLogWriter = crec.KeyLogWriter()
	tc := tls.Client(crec.Wire(raw), cfg)
	app := crec.App(tc)
	if _, err := app.Write(connectPkt); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, len(connackPkt))
	if _, err := io.ReadFull(app, buf); err != nil {
		t.Fatal(err)
	}
	if _, err := app.Write(publishPkt); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	resumed = tc.ConnectionState().DidResume
	tc.Close()
	return crec.Recording(), srec.Recording(), resumed
}

// kinds lists events as "dir layer type" for comparison.
func kinds(events []Event) []string {
	var out []string
	for _, e := range events {
		out = append(out, string(e.Dir)+" "+string(e.Layer)+" "+e.Type)
	}
	return out
}

func requireClean(t *testing.T, events []Event) {
	t.Helper()
	for _, e := range events {
		if e.Error != "" {
			t.Errorf("event %d %s: error %q", e.Seq, e.Type, e.Error)
		}
		if e.Encrypted && e.Plain == "" {
			t.Errorf("event %d %s: encrypted but not decrypted", e.Seq, e.Type)
		}
		if err := checkRanges(e); err != nil {
			t.Error(err)
		}
	}
}

// checkRanges reports a field whose byte range lies outside its event's
// bytes (or plain bytes).
func checkRanges(e Event) error {
	wire, plain := len(e.Bytes)/2, len(e.Plain)/2
	for _, f := range e.Fields {
		limit := wire
		if f.In == "plain" {
			limit = plain
		}
		if f.Start < 0 || f.Start > f.End || f.End > limit {
			return fmt.Errorf("event %d %s: field %s range [%d,%d) outside [0,%d)", e.Seq, e.Type, f.Name, f.Start, f.End, limit)
		}
	}
	return nil
}

func TestDecodeTLS13Session(t *testing.T) {
	cert, pool := testCert(t)
	client, server, _ := session(t,
		// A session cache makes the client offer resumption, so the server
		// sends a NewSessionTicket.
		&tls.Config{RootCAs: pool, ServerName: "localhost", MinVersion: tls.VersionTLS13, ClientSessionCache: tls.NewLRUClientSessionCache(1)},
		&tls.Config{Certificates: []tls.Certificate{cert}})

	events := Decode(client)
	requireClean(t, events)
	want := []string{
		"send tls ClientHello",
		"recv tls ServerHello",
		"recv tls ChangeCipherSpec",
		"recv tls EncryptedExtensions",
		"recv tls Certificate",
		"recv tls CertificateVerify",
		"recv tls Finished",
		// Go's server sends the ticket right after its Finished, without
		// waiting for the client's.
		"recv tls NewSessionTicket",
		"send tls ChangeCipherSpec",
		"send tls Finished",
		"send mqtt CONNECT",
		"send tls ApplicationData",
		"recv tls ApplicationData",
		"recv mqtt CONNACK",
		"send mqtt PUBLISH",
		"send tls ApplicationData",
		"send tls Alert", // close_notify
	}
	got := kinds(events)
	if !slices.Equal(got, want) {
		t.Errorf("client events:\n got %q\nwant %q", got, want)
	}
	for _, e := range events {
		if e.Side != Client || e.Seq == 0 {
			t.Errorf("event %s: side %q seq %d", e.Type, e.Side, e.Seq)
		}
		if e.Type == "ApplicationData" && e.Dir == Send && !strings.Contains(e.Plain, hex.EncodeToString(connectPkt)) && !strings.Contains(e.Plain, hex.EncodeToString(publishPkt)) {
			t.Errorf("decrypted application data %s holds neither CONNECT nor PUBLISH", e.Plain)
		}
	}

	// The broker's view: same messages, opposite directions.
	bevents := Decode(server)
	requireClean(t, bevents)
	bkinds := kinds(bevents)
	for _, k := range []string{"recv tls ClientHello", "send tls ServerHello", "send tls Certificate", "recv tls Finished", "recv mqtt CONNECT", "send mqtt CONNACK", "recv mqtt PUBLISH"} {
		if !slices.Contains(bkinds, k) {
			t.Errorf("broker events lack %q: %q", k, bkinds)
		}
	}
}

func TestDecodeResumedSession(t *testing.T) {
	cert, pool := testCert(t)
	ccfg := &tls.Config{RootCAs: pool, ServerName: "localhost", ClientSessionCache: tls.NewLRUClientSessionCache(4)}
	scfg := &tls.Config{Certificates: []tls.Certificate{cert}}
	var key [32]byte
	rand.Read(key[:])
	scfg.SetSessionTicketKeys([][32]byte{key})
	session(t, ccfg, scfg)
	client, _, resumed := session(t, ccfg, scfg)
	if !resumed {
		t.Fatal("second connection did not resume")
	}
	events := Decode(client)
	requireClean(t, events)
	got := kinds(events)
	if slices.Contains(got, "recv tls Certificate") {
		t.Errorf("a resumed handshake carries no Certificate: %q", got)
	}
	if !slices.Contains(got, "recv tls Finished") || !slices.Contains(got, "recv mqtt CONNACK") {
		t.Errorf("resumed session lacks Finished or CONNACK: %q", got)
	}
	var hello string
	for _, e := range events {
		if e.Type == "ClientHello" {
			for _, f := range e.Fields {
				hello += f.Name + " " + f.Value + "\n"
			}
		}
	}
	if !strings.Contains(hello, "pre_shared_key") {
		t.Errorf("resuming ClientHello does not offer pre_shared_key:\n%s", hello)
	}
}

func TestDecodeWithoutKeys(t *testing.T) {
	cert, pool := testCert(t)
	client, _, _ := session(t, &tls.Config{RootCAs: pool, ServerName: "localhost"}, &tls.Config{Certificates: []tls.Certificate{cert}})
	client.KeyLog = ""
	events := Decode(client)
	var undecrypted int
	for _, e := range events {
		if e.Encrypted {
			undecrypted++
			if e.Type != "ApplicationData" || !strings.Contains(e.Error, "key log has no") || e.Plain != "" {
				t.Errorf("event %d: type %s error %q plain %q; want undecrypted ApplicationData", e.Seq, e.Type, e.Error, e.Plain)
			}
		}
	}
	if undecrypted < 5 {
		t.Errorf("only %d encrypted events", undecrypted)
	}
	// The MQTT events come from above TLS and need no keys.
	if !slices.Contains(kinds(events), "recv mqtt CONNACK") {
		t.Errorf("no CONNACK: %q", kinds(events))
	}
}

func TestDecodeTLS12Session(t *testing.T) {
	cert, pool := testCert(t)
	client, _, _ := session(t,
		&tls.Config{RootCAs: pool, ServerName: "localhost", MaxVersion: tls.VersionTLS12},
		&tls.Config{Certificates: []tls.Certificate{cert}})
	events := Decode(client)
	requireClean(t, events)
	got := kinds(events)
	want := []string{"send tls ClientHello", "recv tls ServerHello", "recv tls Certificate", "recv tls ServerKeyExchange", "recv tls ServerHelloDone",
		"send tls ClientKeyExchange", "send tls ChangeCipherSpec", "send tls Finished",
		"recv tls ChangeCipherSpec", "recv tls Finished",
		"send mqtt CONNECT", "send tls ApplicationData", "recv tls ApplicationData", "recv mqtt CONNACK",
		"send mqtt PUBLISH", "send tls ApplicationData", "send tls Alert"}
	if !slices.Equal(got, want) {
		t.Errorf("TLS 1.2 events:\n got %q\nwant %q", got, want)
	}
	// The Finished messages and the MQTT bytes travel encrypted and are
	// decrypted with the key log's CLIENT_RANDOM master secret.
	var finished int
	for _, e := range events {
		if e.Type == "Finished" {
			finished++
			if !e.Encrypted || !strings.HasPrefix(e.Plain, "14") {
				t.Errorf("TLS 1.2 Finished: encrypted %v plain %q", e.Encrypted, e.Plain)
			}
		}
		if e.Type == "ApplicationData" && e.Dir == Send && !strings.Contains(e.Plain, hex.EncodeToString(connectPkt)) && !strings.Contains(e.Plain, hex.EncodeToString(publishPkt)) {
			t.Errorf("decrypted application data %s holds neither CONNECT nor PUBLISH", e.Plain)
		}
	}
	if finished != 2 {
		t.Errorf("%d Finished events, want 2", finished)
	}
}

func TestDecodePlainMQTT(t *testing.T) {
	now := time.Now()
	rec := Recording{Side: Broker, Chunks: []Chunk{
		{Time: now, Dir: Recv, Data: connectPkt[:5]},
		{Time: now.Add(time.Millisecond), Dir: Recv, Data: connectPkt[5:]},
		{Time: now.Add(2 * time.Millisecond), Dir: Send, Data: connackPkt},
		{Time: now.Add(3 * time.Millisecond), Dir: Recv, Data: append(slices.Clone(publishPkt), 0x30)}, // and the first byte of another
	}}
	events := Decode(rec)
	if got, want := kinds(events), []string{"recv mqtt CONNECT", "send mqtt CONNACK", "recv mqtt PUBLISH"}; !slices.Equal(got, want) {
		t.Fatalf("got %q, want %q", got, want)
	}
	if !events[0].Time.Equal(now.Add(time.Millisecond)) {
		t.Errorf("CONNECT time %v, want the time of its last chunk", events[0].Time)
	}
	if events[2].Length != len(publishPkt) || events[2].Bytes != hex.EncodeToString(publishPkt) {
		t.Errorf("PUBLISH length %d bytes %s", events[2].Length, events[2].Bytes)
	}
}

func TestDecodeAlert(t *testing.T) {
	rec := Recording{Side: Client, Chunks: []Chunk{
		{Dir: Send, Data: []byte{22, 3, 1, 0, 4, 1, 0, 0, 0}}, // a (broken) ClientHello, to mark the stream as TLS
		{Dir: Recv, Data: []byte{21, 3, 3, 0, 2, 2, 48}},
	}}
	events := Decode(rec)
	if len(events) != 2 || events[1].Type != "Alert" {
		t.Fatalf("events %q", kinds(events))
	}
	a := events[1]
	if a.Summary != "fatal unknown_ca" {
		t.Errorf("summary %q", a.Summary)
	}
	if f := a.Fields[len(a.Fields)-1]; f.Name != "description" || f.Start != 6 || !strings.Contains(f.About, "CA") {
		t.Errorf("description field %+v", f)
	}
}

func TestRecorderLimit(t *testing.T) {
	// A budget of 10 bytes: a head of 5, a tail of 5 (see TestRecorderRing).
	r := NewRecorder(Client, 10)
	r.add(Send, false, make([]byte, 8))
	r.add(Recv, false, make([]byte, 8))
	r.add(Recv, false, make([]byte, 2))
	rec := r.Recording()
	if len(rec.Chunks) != 3 || rec.Dropped != 16 || len(rec.Chunks[2].Data) != 2 {
		t.Errorf("chunks %q dropped %d; want two gap markers and 2 bytes, 16 dropped", layout(rec), rec.Dropped)
	}
}

// TestDecodeEmpty: an empty recording decodes to no events, not nil (the
// server's cache and the page's JSON tell "not decoded" by nil).
func TestDecodeEmpty(t *testing.T) {
	if ev := Decode(Recording{Side: Client}); ev == nil || len(ev) != 0 {
		t.Errorf("Decode of an empty recording = %#v, want an empty slice", ev)
	}
}
