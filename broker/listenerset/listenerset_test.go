package listenerset_test

import (
	"crypto/tls"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mqtts-playground/playground/broker"
	"github.com/mqtts-playground/playground/broker/listenerset"
	"github.com/mqtts-playground/playground/broker/pki"
)

var names = []string{"localhost", "127.0.0.1"}

// open makes a memory CA and a broker, and adds the set with cfg's
// addresses and Warm.
func open(t *testing.T, cfg listenerset.Config) (*broker.Broker, *pki.CA) {
	t.Helper()
	ca, err := pki.NewMemory()
	if err != nil {
		t.Fatal(err)
	}
	cert, _, err := ca.ServerCertificate(names)
	if err != nil {
		t.Fatal(err)
	}
	b, err := broker.New(broker.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	cfg.CA, cfg.Rotator, cfg.Names = ca, pki.NewRotator(cert), names
	if err := listenerset.Add(b, cfg); err != nil {
		t.Fatalf("Add: %v", err)
	}
	return b, ca
}

// handshake runs a TLS handshake with the named listener through
// broker.Serve and returns the broker's certificate.
func handshake(t *testing.T, b *broker.Broker, listener string) *tls.Certificate {
	t.Helper()
	c, s := net.Pipe()
	go b.Serve(listener, s)
	tc := tls.Client(c, &tls.Config{InsecureSkipVerify: true, ServerName: "localhost"})
	defer tc.Close()
	tc.SetDeadline(time.Now().Add(10 * time.Second))
	if err := tc.Handshake(); err != nil {
		t.Fatalf("handshake with %s: %v", listener, err)
	}
	st := tc.ConnectionState()
	return &tls.Certificate{Certificate: [][]byte{st.PeerCertificates[0].Raw}}
}

func TestAdd(t *testing.T) {
	for _, tt := range []struct {
		name string
		cfg  listenerset.Config
		// made: lesson listeners show a certificate before any handshake.
		made bool
		// ports: every listener has a TCP address.
		ports bool
	}{
		{"in the page: no ports, certificates on demand", listenerset.Config{}, false, false},
		{"lesson ports off", listenerset.Config{LessonPorts: "off"}, false, false},
		{"the server: ports, certificates at once", listenerset.Config{MQTT: "127.0.0.1:0", MQTTS: "127.0.0.1:0", MTLS: "127.0.0.1:0", LessonPorts: "127.0.0.1:0", Warm: true}, true, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			b, _ := open(t, tt.cfg)
			ls := b.Listeners()
			want := append([]string{"mqtt", "mqtts", "mtls"}, listenerset.LessonNames()...)
			slices.Sort(want)
			var got []string
			for _, l := range ls {
				got = append(got, l.Name)
				if (l.Addr != "") != tt.ports {
					t.Errorf("%s: addr %q, want a port: %v", l.Name, l.Addr, tt.ports)
				}
				if l.Lesson && (l.Fault == nil || !strings.HasPrefix(l.About, "LESSON ONLY")) {
					t.Errorf("%s: a lesson listener without its fault or warning: %+v", l.Name, l)
				}
				if l.Lesson && !l.CertNotAfter.IsZero() != tt.made {
					t.Errorf("%s: certificate made before a handshake: %v, want %v", l.Name, !l.CertNotAfter.IsZero(), tt.made)
				}
				if !l.Lesson && l.TLS && l.CertNotAfter.IsZero() {
					t.Errorf("%s: no certificate", l.Name)
				}
			}
			if !slices.Equal(got, want) {
				t.Errorf("listeners %v, want %v", got, want)
			}
		})
	}
}

// TestLazyCertificates: a lesson certificate is made by the first
// handshake that needs it, kept for the next, and then shown.
func TestLazyCertificates(t *testing.T) {
	b, _ := open(t, listenerset.Config{})
	for _, name := range []string{"key-rsa2048", "weak-key", "sha1-signature", "tls12-only"} {
		t.Run(name, func(t *testing.T) {
			first := handshake(t, b, name)
			if again := handshake(t, b, name); string(again.Certificate[0]) != string(first.Certificate[0]) {
				t.Error("a second handshake got another certificate: it must be kept")
			}
			for _, l := range b.Listeners() {
				if l.Name == name && l.CertNotAfter.IsZero() {
					t.Error("no certNotAfter after a handshake")
				}
			}
		})
	}
}

func TestLessonAddr(t *testing.T) {
	for _, tt := range []struct {
		base string
		i    int
		want string
		err  string
	}{
		{"127.0.0.1:8900", 0, "127.0.0.1:8900", ""},
		{"127.0.0.1:8900", 14, "127.0.0.1:8914", ""},
		{"[::1]:0", 3, "[::1]:0", ""},
		{"off", 2, "", ""},
		{"", 2, "", ""},
		{"localhost", 0, "", "missing port"},
		{"127.0.0.1:65535", 1, "", "bad port"},
		{"127.0.0.1:x", 0, "", "bad port"},
	} {
		got, err := listenerset.LessonAddr(tt.base, tt.i)
		if got != tt.want || (err == nil) != (tt.err == "") || (err != nil && !strings.Contains(err.Error(), tt.err)) {
			t.Errorf("LessonAddr(%q, %d) = %q, %v; want %q, error with %q", tt.base, tt.i, got, err, tt.want, tt.err)
		}
	}
}

func TestAddNeedsConfig(t *testing.T) {
	b, err := broker.New(broker.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if err := listenerset.Add(b, listenerset.Config{}); err == nil || !strings.Contains(err.Error(), "needs a CA") {
		t.Errorf("Add with no CA: %v", err)
	}
}

// TestLazyCertificateConcurrentFirstHandshakes: handshakes that arrive
// together before a lesson certificate exists all wait for the one that
// makes it, and all get that one (run with -race).
func TestLazyCertificateConcurrentFirstHandshakes(t *testing.T) {
	b, _ := open(t, listenerset.Config{})
	const n = 8
	for _, name := range []string{"key-ed25519", "expired"} {
		t.Run(name, func(t *testing.T) {
			certs := make(chan []byte, n)
			errs := make(chan error, n)
			// The broker's side ends before the broker closes (a Serve
			// still starting while Broker.Close runs races in the core).
			var served sync.WaitGroup
			defer served.Wait()
			for range n {
				go func() {
					c, s := net.Pipe()
					served.Go(func() { b.Serve(name, s) })
					tc := tls.Client(c, &tls.Config{InsecureSkipVerify: true, ServerName: "localhost"})
					defer tc.Close()
					tc.SetDeadline(time.Now().Add(20 * time.Second))
					if err := tc.Handshake(); err != nil {
						errs <- err
						return
					}
					certs <- tc.ConnectionState().PeerCertificates[0].Raw
				}()
			}
			var first []byte
			for range n {
				select {
				case err := <-errs:
					t.Fatalf("handshake with %s: %v", name, err)
				case c := <-certs:
					if first == nil {
						first = c
					} else if string(c) != string(first) {
						t.Fatal("concurrent first handshakes got different certificates: one must be made and kept")
					}
				}
			}
		})
	}
}
