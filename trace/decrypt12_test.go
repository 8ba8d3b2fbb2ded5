package trace

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"math/big"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mqtts-playground/playground/trace/tlskeys"
	"github.com/mqtts-playground/playground/trace/tlswire"
)

// testRSACert makes a self-signed RSA certificate for "localhost", for the
// ECDHE_RSA and RSA key exchange suites.
func testRSACert(t testing.TB) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "localhost"},
		DNSNames: []string{"localhost"}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment | x509.KeyUsageCertSign,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, IsCA: true, BasicConstraintsValid: true,
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

// session12 runs a TLS 1.2 session with the cipher suite forced on both
// ends (the client too, as Go offers no RSA key exchange suites by default).
func session12(t *testing.T, suite uint16, cert tls.Certificate, pool *x509.CertPool) (client, server Recording) {
	t.Helper()
	client, server, _ = session(t,
		&tls.Config{RootCAs: pool, ServerName: "localhost", MaxVersion: tls.VersionTLS12, CipherSuites: []uint16{suite}},
		&tls.Config{Certificates: []tls.Certificate{cert}, CipherSuites: []uint16{suite}})
	return client, server
}

// fieldNamed returns the first field of e named name.
func fieldNamed(e Event, name string) (Field, bool) {
	for _, f := range e.Fields {
		if f.Name == name {
			return f, true
		}
	}
	return Field{}, false
}

// checkDecrypted12 checks the events of one side of a TLS 1.2 session whose
// records should all have been decrypted.
func checkDecrypted12(t *testing.T, events []Event, suite uint16) {
	t.Helper()
	requireClean(t, events)
	side := events[0].Side
	toBroker := Send // the direction of the client's bytes, as side sees them
	if side == Broker {
		toBroker = Recv
	}
	hello := slices.IndexFunc(events, func(e Event) bool { return e.Type == "ServerHello" })
	if hello < 0 {
		t.Fatalf("%s: no ServerHello: %q", side, kinds(events))
	}
	if f, ok := fieldNamed(events[hello], "cipher_suite"); !ok || !strings.Contains(f.Value, tlswire.CipherSuiteName(suite)) {
		t.Errorf("%s: ServerHello cipher_suite %q, want %s", side, f.Value, tlswire.CipherSuiteName(suite))
	}
	explicit, _ := tlskeys.AEAD12(suite)
	gcm := explicit > 0
	finished := map[Dir]int{}
	var data [][]byte
	for _, e := range events {
		if e.Layer != LayerTLS || !e.Encrypted {
			continue
		}
		if e.Plain == "" || e.Bytes == "" {
			t.Errorf("%s: event %d %s: plain %q bytes %q", side, e.Seq, e.Type, e.Plain, e.Bytes)
			continue
		}
		// Header, then the explicit nonce for AES-GCM, then the sealed part.
		want := []string{"type", "legacy_record_version", "length", "encrypted_record"}
		if gcm {
			want = []string{"type", "legacy_record_version", "length", "nonce_explicit", "encrypted_record"}
		}
		var names []string
		for _, f := range e.Fields {
			if f.In == "" {
				names = append(names, f.Name)
			}
		}
		if !slices.Equal(names, want) {
			t.Errorf("%s: event %d %s: wire fields %q, want %q", side, e.Seq, e.Type, names, want)
		}
		if f, _ := fieldNamed(e, "encrypted_record"); f.Spec != "RFC 5246 §6.2.3.3" || f.End != e.Length || (gcm && f.Start != 13) || (!gcm && f.Start != 5) {
			t.Errorf("%s: event %d %s: encrypted_record %+v", side, e.Seq, e.Type, f)
		}
		switch e.Type {
		case "Finished":
			finished[e.Dir]++
			if f, ok := fieldNamed(e, "verify_data"); !ok || f.In != "plain" || f.End-f.Start != 12 {
				t.Errorf("%s: Finished %s: verify_data %+v", side, e.Dir, f)
			}
		case "ApplicationData":
			plain, _ := hex.DecodeString(e.Plain)
			data = append(data, plain)
		case "Alert":
			if e.Summary != "warning close_notify" {
				t.Errorf("%s: alert %q", side, e.Summary)
			}
		default:
			t.Errorf("%s: unexpected encrypted %s", side, e.Type)
		}
	}
	if finished[Send] != 1 || finished[Recv] != 1 {
		t.Errorf("%s: Finished events by direction %v, want one each way", side, finished)
	}
	all := bytes.Join(data, nil)
	for _, pkt := range [][]byte{connectPkt, connackPkt, publishPkt} {
		if !bytes.Contains(all, pkt) {
			t.Errorf("%s: decrypted application data %x lacks %x", side, all, pkt)
		}
	}
	// The MQTT packets decoded from above TLS are there too.
	got := kinds(events)
	for _, k := range []string{string(toBroker) + " mqtt CONNECT", string(toBroker) + " mqtt PUBLISH"} {
		if !slices.Contains(got, k) {
			t.Errorf("%s: no %q in %q", side, k, got)
		}
	}
}

func TestDecodeTLS12Suites(t *testing.T) {
	ecdsa, ecdsaPool := testCert(t)
	rsaCert, rsaPool := testRSACert(t)
	tests := []struct {
		suite uint16
		cert  tls.Certificate
		pool  *x509.CertPool
	}{
		{tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, ecdsa, ecdsaPool},
		{tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, ecdsa, ecdsaPool},
		{tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256, ecdsa, ecdsaPool},
		{tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, rsaCert, rsaPool},
		{tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256, rsaCert, rsaPool},
		{tls.TLS_RSA_WITH_AES_128_GCM_SHA256, rsaCert, rsaPool},
		{tls.TLS_RSA_WITH_AES_256_GCM_SHA384, rsaCert, rsaPool},
	}
	for _, tt := range tests {
		t.Run(tlswire.CipherSuiteName(tt.suite), func(t *testing.T) {
			client, server := session12(t, tt.suite, tt.cert, tt.pool)
			checkDecrypted12(t, Decode(client), tt.suite)
			checkDecrypted12(t, Decode(server), tt.suite)
		})
	}
}

// encryptedEvents returns the encrypted TLS events, checking that none was
// decrypted, that each carries an error containing reason, and that field
// ranges hold.
func encryptedEvents(t *testing.T, events []Event, reason string) []Event {
	t.Helper()
	var out []Event
	for _, e := range events {
		if err := checkRanges(e); err != nil {
			t.Error(err)
		}
		if !e.Encrypted {
			if e.Error != "" {
				t.Errorf("event %d %s: error %q", e.Seq, e.Type, e.Error)
			}
			continue
		}
		out = append(out, e)
		if e.Plain != "" || !strings.Contains(e.Error, reason) {
			t.Errorf("event %d %s: plain %q error %q, want %q", e.Seq, e.Type, e.Plain, e.Error, reason)
		}
	}
	return out
}

func TestDecodeTLS12CBCNotDecrypted(t *testing.T) {
	cert, pool := testCert(t)
	suite := tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA
	client, _ := session12(t, suite, cert, pool)
	events := Decode(client)
	reason := "not decrypted: cipher suite TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA protects records with CBC or a stream cipher; the trace decrypts only AEAD suites (GCM, ChaCha20-Poly1305)"
	enc := encryptedEvents(t, events, reason)
	var types []string
	for _, e := range enc {
		types = append(types, string(e.Dir)+" "+e.Type)
		if f, _ := fieldNamed(e, "encrypted_record"); f.Start != 5 || f.End != e.Length || f.Spec != "RFC 5246 §6.2.3" {
			t.Errorf("event %d: encrypted_record %+v", e.Seq, f)
		}
		if _, ok := fieldNamed(e, "nonce_explicit"); ok {
			t.Errorf("event %d: a CBC record has no nonce_explicit", e.Seq)
		}
	}
	want := []string{"send Finished", "recv Finished", "send ApplicationData", "recv ApplicationData", "send ApplicationData", "send Alert"}
	if !slices.Equal(types, want) {
		t.Errorf("encrypted events %q, want %q", types, want)
	}
	if !slices.Contains(kinds(events), "recv mqtt CONNACK") {
		t.Errorf("no CONNACK: %q", kinds(events))
	}
}

func TestDecodeTLS12WithoutClientRandom(t *testing.T) {
	cert, pool := testCert(t)
	client, _ := session12(t, tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, cert, pool)
	const reason = "not decrypted: the key log has no CLIENT_RANDOM for this connection"
	for name, keylog := range map[string]string{
		"empty": "",
		// A line for another connection, and TLS 1.3 labels for this one.
		"other connection": "CLIENT_RANDOM " + strings.Repeat("ab", 32) + " " + strings.Repeat("cd", 48) + "\n" +
			strings.ReplaceAll(client.KeyLog, "CLIENT_RANDOM", tlskeys.LabelClientTraffic),
	} {
		t.Run(name, func(t *testing.T) {
			rec := client
			rec.KeyLog = keylog
			enc := encryptedEvents(t, Decode(rec), reason)
			if len(enc) != 6 {
				t.Errorf("%d encrypted events, want 6", len(enc))
			}
			for _, e := range enc {
				if e.Error != reason {
					t.Errorf("event %d %s: error %q, want %q", e.Seq, e.Type, e.Error, reason)
				}
			}
		})
	}
}

// TestDecodeTLS12Tampered flips a bit of one record's tag: that record
// fails, and the next ones, numbered on, still decrypt.
func TestDecodeTLS12Tampered(t *testing.T) {
	cert, pool := testCert(t)
	for _, suite := range []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256} {
		t.Run(tlswire.CipherSuiteName(suite), func(t *testing.T) {
			client, _ := session12(t, suite, cert, pool)
			events := Decode(client)
			i := slices.IndexFunc(events, func(e Event) bool { return e.Type == "ApplicationData" && e.Dir == Send })
			if i < 0 {
				t.Fatalf("no sent ApplicationData: %q", kinds(events))
			}
			wire, _ := hex.DecodeString(events[i].Bytes)
			rec := client
			rec.Chunks = slices.Clone(rec.Chunks)
			tampered := false
			for j, c := range rec.Chunks {
				if k := bytes.Index(c.Data, wire); k >= 0 && !c.App && c.Dir == Send {
					data := slices.Clone(c.Data)
					data[k+len(wire)-1] ^= 1
					rec.Chunks[j].Data, tampered = data, true
					break
				}
			}
			if !tampered {
				t.Fatal("record not found in the chunks")
			}
			var failed, clean int
			for _, e := range Decode(rec) {
				if !e.Encrypted || e.Dir != Send {
					continue
				}
				if e.Error != "" {
					failed++
					if !strings.Contains(e.Error, "authentication tag does not match") || !strings.Contains(e.Error, "sequence number 1") {
						t.Errorf("event %d %s: error %q", e.Seq, e.Type, e.Error)
					}
				} else if e.Plain != "" {
					clean++
				}
			}
			// Finished (0) decrypts, CONNECT (1) fails, PUBLISH (2) and
			// close_notify (3) decrypt.
			if failed != 1 || clean != 3 {
				t.Errorf("%d failed, %d decrypted; want 1, 3", failed, clean)
			}
		})
	}
}

// clientHelloRandom returns the client random of a recording's ClientHello.
func clientHelloRandom(t *testing.T, rec Recording) []byte {
	t.Helper()
	var sent []byte
	for _, c := range rec.Chunks {
		if !c.App && c.Dir == Send {
			sent = append(sent, c.Data...)
		}
	}
	recs, _, _ := tlswire.SplitRecords(sent)
	m, ok := firstHandshake(recs, "ClientHello")
	if !ok {
		t.Fatal("no ClientHello")
	}
	return m.Random
}

// TestDecodeTLS12Resumed decrypts a TLS 1.2 session resumed from a session
// ticket: the abbreviated handshake, where the server sends its
// ChangeCipherSpec and Finished first, under the original master secret.
func TestDecodeTLS12Resumed(t *testing.T) {
	cert, pool := testCert(t)
	ccfg := &tls.Config{RootCAs: pool, ServerName: "localhost", MaxVersion: tls.VersionTLS12, ClientSessionCache: tls.NewLRUClientSessionCache(4)}
	suite := tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256
	scfg := &tls.Config{Certificates: []tls.Certificate{cert}, CipherSuites: []uint16{suite}}
	var key [32]byte
	rand.Read(key[:])
	scfg.SetSessionTicketKeys([][32]byte{key})
	first, _, _ := session(t, ccfg, scfg)
	client, server, resumed := session(t, ccfg, scfg)
	if !resumed {
		t.Fatal("second connection did not resume")
	}

	// Go's crypto/tls writes CLIENT_RANDOM only after a full handshake, so
	// the resumed connection's key log may lack it. The master secret is
	// the first connection's: log it under this connection's client random,
	// as a key log that covered both would.
	random := clientHelloRandom(t, client)
	master := tlskeys.ParseKeyLog([]byte(first.KeyLog)).Secret(tlskeys.LabelClientRandom, nil)
	if master == nil {
		t.Fatalf("first connection logged no master secret: %q", first.KeyLog)
	}
	if tlskeys.ParseKeyLog([]byte(client.KeyLog)).Secret(tlskeys.LabelClientRandom, random) == nil {
		t.Logf("crypto/tls logged no CLIENT_RANDOM for the resumed connection")
		events := Decode(client)
		if enc := encryptedEvents(t, events, "the key log has no CLIENT_RANDOM"); len(enc) == 0 {
			t.Error("no encrypted events")
		}
		line := tlskeys.LabelClientRandom + " " + hex.EncodeToString(random) + " " + hex.EncodeToString(master) + "\n"
		client.KeyLog += line
		server.KeyLog += line
	}

	events := Decode(client)
	got := kinds(events)
	want := []string{"send tls ClientHello", "recv tls ServerHello", "recv tls ChangeCipherSpec", "recv tls Finished",
		"send tls ChangeCipherSpec", "send tls Finished",
		"send mqtt CONNECT", "send tls ApplicationData", "recv tls ApplicationData", "recv mqtt CONNACK",
		"send mqtt PUBLISH", "send tls ApplicationData", "send tls Alert"}
	// Go's server may send a fresh NewSessionTicket before its
	// ChangeCipherSpec.
	got = slices.DeleteFunc(got, func(k string) bool { return k == "recv tls NewSessionTicket" })
	if !slices.Equal(got, want) {
		t.Errorf("resumed TLS 1.2 events:\n got %q\nwant %q", got, want)
	}
	checkDecrypted12(t, events, suite)
	checkDecrypted12(t, Decode(server), suite)
}

// TestDecodeTLS12ShortRecord appends a record too short to hold the AES-GCM
// nonce and tag: it is reported, and its fields stay within its bytes.
func TestDecodeTLS12ShortRecord(t *testing.T) {
	cert, pool := testCert(t)
	client, _ := session12(t, tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, cert, pool)
	client.Chunks = append(slices.Clone(client.Chunks), Chunk{Dir: Send, Data: []byte{23, 3, 3, 0, 5, 1, 2, 3, 4, 5}})
	events := Decode(client)
	last := events[len(events)-1]
	if err := checkRanges(last); err != nil {
		t.Error(err)
	}
	if last.Type != "ApplicationData" || !last.Encrypted || !strings.Contains(last.Error, "record of 5 bytes is shorter than its 24-byte nonce and tag") {
		t.Errorf("short record: %s encrypted %v error %q", last.Type, last.Encrypted, last.Error)
	}
	if _, ok := fieldNamed(last, "nonce_explicit"); ok {
		t.Error("a 5-byte body has no room for nonce_explicit")
	}
	requireClean(t, events[:len(events)-1])
}
