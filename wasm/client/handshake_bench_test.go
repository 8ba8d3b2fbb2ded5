package client

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"testing"
	"time"

	"github.com/mqtts-playground/playground/broker/brokertest"
	"github.com/mqtts-playground/playground/trace"
	"github.com/mqtts-playground/playground/wasm/memconn"
)

// BenchmarkHandshake times the client's TLS handshake alone, ClientHello to
// Finished, with everything the client does in it (taps, key log, the
// step-by-step certificate check), against a crypto/tls server holding a
// certificate from the broker's CA (leaf ← intermediate ← root, ECDSA
// P-256), over an in-memory buffered conn: no WebSocket, no TCP, no MQTT.
// The server's work is in the time too; both run in this process, in
// parallel where GOMAXPROCS allows (under js/wasm one after the other).
//
//	go test ./wasm/client -run '^$' -bench Handshake
//	GOOS=js GOARCH=wasm go test ./wasm/client -run '^$' -bench Handshake -exec "$(go env GOROOT)/lib/wasm/go_js_wasm_exec"
//
// "full" offers no ticket; "resumed" offers the ticket of the connection
// before (TLS 1.3 PSK with (EC)DHE: the key exchange, X25519MLKEM768 by
// default, still runs; the certificate and its signature are not sent).
// "groups=X25519" offers only X25519, to show what the hybrid key
// exchange costs.
func BenchmarkHandshake(b *testing.B) {
	p := brokertest.NewPKI(b)
	server := p.ServerTLS(tls.NoClientCert)
	ca := string(p.CA.RootPEM())
	for _, bc := range []struct {
		name   string
		resume bool
		groups []string
	}{
		{"full", false, nil},
		{"resumed", true, nil},
		{"full/groups=X25519", false, []string{"X25519"}},
		{"resumed/groups=X25519", true, []string{"X25519"}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			opts := &TLSOptions{CAPEM: ca, Resume: &bc.resume, SessionScope: b.Name(), Groups: bc.groups}
			if bc.resume {
				handshakeOnce(b, server, opts, nil) // leaves a ticket
			}
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				handshakeOnce(b, server, opts, &bc.resume)
			}
		})
	}
}

// handshakeOnce runs one handshake (timed) and then reads what the server
// sends after it (untimed), taking the session ticket into the cache as
// the MQTT CONNACK read does in a real connection. With wantResumed set it
// fails unless the handshake did (or did not) resume.
func handshakeOnce(b *testing.B, server *tls.Config, opts *TLSOptions, wantResumed *bool) {
	b.StopTimer()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cli, srv := memconn.Pipe(memconn.Addr("client"), memconn.Addr("broker"))
	served := make(chan error, 1)
	go func() {
		s := tls.Server(srv, server)
		err := s.HandshakeContext(ctx)
		if err == nil {
			_, err = s.Write([]byte{0})
		}
		served <- err
	}()
	rec := trace.NewRecorder(trace.Client, 0)
	c := &Conn{rec: rec, raw: cli, conn: rec.Wire(cli)}
	cfg, err := c.tlsConfig(opts)
	if err != nil {
		b.Fatal(err)
	}
	b.StartTimer()
	err = c.handshake(ctx, cfg)
	b.StopTimer()
	if err != nil {
		b.Fatalf("handshake: %v", err)
	}
	if wantResumed != nil && c.state.DidResume != *wantResumed {
		b.Fatalf("resumed %v, want %v", c.state.DidResume, *wantResumed)
	}
	if _, err := c.conn.Read(make([]byte, 1)); err != nil {
		b.Fatalf("reading after the handshake: %v", err)
	}
	if err := <-served; err != nil {
		b.Fatalf("server: %v", err)
	}
	cli.Close()
	srv.Close()
	b.StartTimer()
}

// BenchmarkVerifyServer times the client's step-by-step check of a
// broker's chain (leaf ← intermediate, root trusted) alone.
func BenchmarkVerifyServer(b *testing.B) {
	p := brokertest.NewPKI(b)
	chain := serverChain(b, p)
	roots := p.CA.Pool()
	now := time.Now()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := VerifyServer(chain, roots, "localhost", now); err != nil {
			b.Fatal(err)
		}
	}
}

func TestVerifyOnce(t *testing.T) {
	p := brokertest.NewPKI(t)
	chain := serverChain(t, p)
	caPEM := string(p.CA.RootPEM())
	good, empty := p.CA.Pool(), x509.NewCertPool()
	now := time.Now()
	trust := trustKey(caPEM, "", "localhost")
	// Each case starts after a full handshake that checked the chain with
	// the CA (its outcome kept), then checks with an empty pool: the chain
	// fails if it is checked again.
	tests := []struct {
		name    string
		resumed bool
		trust   [32]byte
		now     time.Time
		reused  bool
	}{
		{"resumed, same trust", true, trust, now, true},
		{"full handshake", false, trust, now, false},
		{"resumed, another CA text", true, trustKey(caPEM+"\n", "", "localhost"), now, false},
		{"resumed, intermediates given", true, trustKey(caPEM, caPEM, "localhost"), now, false},
		{"resumed, another name", true, trustKey(caPEM, "", "127.0.0.1"), now, false},
		{"resumed, after a certificate expired", true, trust, chain[0].NotAfter.Add(time.Second), false},
		{"resumed, before a certificate was valid", true, trust, chain[0].NotBefore.Add(-time.Second), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := verifyOnce(false, trust, chain, good, "localhost", now, nil, caPEM); err != nil {
				t.Fatal(err)
			}
			checks, err := verifyOnce(tt.resumed, tt.trust, chain, empty, "localhost", tt.now, nil, caPEM)
			if reused := err == nil; reused != tt.reused {
				t.Errorf("outcome reused: %v, want %v (%v; %+v)", reused, tt.reused, err, checks)
			}
		})
	}
	// What a full handshake found failing is reused as failing.
	other := trustKey("other", "", "localhost")
	_, want := verifyOnce(false, other, chain, empty, "localhost", now, nil, caPEM)
	if _, err := verifyOnce(true, other, chain, good, "localhost", now, nil, caPEM); err == nil || err.Error() != want.Error() {
		t.Errorf("resumed after a failed check: %v, want %v", err, want)
	}
}

// serverChain parses the chain of p's server certificate.
func serverChain(tb testing.TB, p *brokertest.PKI) []*x509.Certificate {
	tb.Helper()
	var chain []*x509.Certificate
	for _, der := range p.Server.Certificate {
		c, err := x509.ParseCertificate(der)
		if err != nil {
			tb.Fatal(err)
		}
		chain = append(chain, c)
	}
	return chain
}
