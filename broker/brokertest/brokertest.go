// Package brokertest starts a broker and a local CA for a test, the way
// net/http/httptest starts an HTTP server: listeners on 127.0.0.1:0, a fresh
// CA in the test's temporary folder, everything closed by t.Cleanup. It
// also has WaitFor, the one polling wait of the tests, for state that offers
// no event to wait on.
//
// It is for tests only: nothing in the product imports it.
package brokertest

import (
	"crypto/tls"
	"slices"
	"testing"
	"time"

	"github.com/mqtts-playground/playground/broker"
	"github.com/mqtts-playground/playground/broker/pki"
)

// Patience bounds the waits of the helpers: a safety net that turns a hang
// into a failure, never a way to synchronise.
const Patience = 10 * time.Second

// PKI is a fresh local CA and a server certificate it issued.
type PKI struct {
	CA *pki.CA
	// Server is issued for localhost and 127.0.0.1 and the extra names
	// given to NewPKI.
	Server tls.Certificate
}

// NewCA creates a local CA (root and intermediate) in a temporary folder
// of t.
func NewCA(t testing.TB) *pki.CA {
	t.Helper()
	ca, _, err := pki.LoadOrCreate(t.TempDir())
	if err != nil {
		t.Fatalf("brokertest: CA: %v", err)
	}
	return ca
}

// NewPKI creates a CA as NewCA does and issues a server certificate for
// localhost, 127.0.0.1 and names.
func NewPKI(t testing.TB, names ...string) *PKI {
	t.Helper()
	ca := NewCA(t)
	cert, _, err := ca.ServerCertificate(append([]string{"localhost", "127.0.0.1"}, names...))
	if err != nil {
		t.Fatalf("brokertest: server certificate: %v", err)
	}
	return &PKI{CA: ca, Server: cert}
}

// ServerTLS is a listener's TLS configuration with the server certificate;
// with a clientAuth that verifies, client certificates must chain to the CA
// (the root, or the intermediate that issues client certificates).
func (p *PKI) ServerTLS(clientAuth tls.ClientAuthType) *tls.Config {
	cfg := &tls.Config{Certificates: []tls.Certificate{p.Server}, ClientAuth: clientAuth}
	if clientAuth != tls.NoClientCert {
		cfg.ClientCAs = p.CA.Pool()
		cfg.ClientCAs.AddCert(p.CA.Intermediate)
	}
	return cfg
}

// ClientTLS trusts the CA and checks the name localhost.
func (p *PKI) ClientTLS() *tls.Config {
	return &tls.Config{RootCAs: p.CA.Pool(), ServerName: "localhost"}
}

// NewBroker starts a broker without listeners; cleanup closes it as Close
// does.
func NewBroker(t testing.TB, opts broker.Options) *broker.Broker {
	t.Helper()
	b, err := broker.New(opts)
	if err != nil {
		t.Fatalf("brokertest: broker.New: %v", err)
	}
	t.Cleanup(func() { Close(t, b) })
	return b
}

// Close closes b and fails the test when Close returns an error or does
// not return within Patience.
func Close(t testing.TB, b *broker.Broker) {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- b.Close() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("brokertest: Broker.Close: %v", err)
		}
	case <-time.After(Patience):
		t.Fatalf("brokertest: Broker.Close did not return within %v", Patience)
	}
}

// The listeners New can start, by name.
const (
	MQTT  = "mqtt"  // plain MQTT
	MQTTS = "mqtts" // MQTT over TLS
	MTLS  = "mtls"  // MQTT over TLS with a client certificate required
	TLS12 = "tls12" // MQTT over TLS 1.2 at most
)

// Options configure New.
type Options struct {
	// Broker is passed to broker.New.
	Broker broker.Options
	// Listeners to start, from MQTT, MQTTS, MTLS and TLS12; empty starts
	// all four.
	Listeners []string
	// Names are extra names for the server certificate.
	Names []string
	// Watch registers a watcher for the whole test (see broker.Broker.Watch):
	// connections record their tail as well as their head.
	Watch bool
}

// Server is a running broker with its CA and listeners.
type Server struct {
	*broker.Broker
	*PKI
	// Addrs maps listener names to their 127.0.0.1 addresses.
	Addrs map[string]string
}

// New starts a broker with the listeners of opts on 127.0.0.1:0 and a fresh
// CA; cleanup closes it.
func New(t testing.TB, opts Options) *Server {
	t.Helper()
	p := NewPKI(t, opts.Names...)
	b := NewBroker(t, opts.Broker)
	if opts.Watch {
		t.Cleanup(b.Watch())
	}
	names := opts.Listeners
	if len(names) == 0 {
		names = []string{MQTT, MQTTS, MTLS, TLS12}
	}
	for _, name := range names {
		l := broker.Listener{Name: name, Addr: "127.0.0.1:0"}
		switch name {
		case MQTT:
		case MQTTS:
			l.TLS = p.ServerTLS(tls.NoClientCert)
		case MTLS:
			l.TLS = p.ServerTLS(tls.RequireAndVerifyClientCert)
		case TLS12:
			l.TLS = p.ServerTLS(tls.NoClientCert)
			l.TLS.MaxVersion = tls.VersionTLS12
		default:
			t.Fatalf("brokertest: no standard listener %q (have %s, %s, %s, %s)", name, MQTT, MQTTS, MTLS, TLS12)
		}
		if err := b.Add(l); err != nil {
			t.Fatalf("brokertest: %v", err)
		}
	}
	s := &Server{Broker: b, PKI: p, Addrs: map[string]string{}}
	for _, l := range b.Listeners() {
		if slices.Contains(names, l.Name) {
			s.Addrs[l.Name] = l.Addr
		}
	}
	return s
}

// Addr returns the address of a listener of b, failing the test when b has
// no such listener or it has no address.
func Addr(t testing.TB, b *broker.Broker, name string) string {
	t.Helper()
	for _, l := range b.Listeners() {
		if l.Name == name {
			if l.Addr == "" {
				t.Fatalf("brokertest: listener %s has no address", name)
			}
			return l.Addr
		}
	}
	t.Fatalf("brokertest: no listener %s in %+v", name, b.Listeners())
	return ""
}

// WaitFor polls cond until it holds and fails the test when it does not
// within timeout; what names the awaited state in the failure. Use it only
// for state that offers nothing to wait on (a broker's connection list, a
// file); it is not a way to let time pass.
func WaitFor(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for wait := time.Millisecond; !cond(); wait = min(2*wait, 20*time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(wait)
	}
}
