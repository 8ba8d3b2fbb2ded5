// Package listenerset opens the playground's broker listeners on a
// broker: mqtt, mqtts, mtls (client certificates from the CA, revocations
// refused on every handshake) and the lesson listeners, each deliberately
// broken in one way (see pki.Scenario), the man-in-the-middle relay and
// the key-type listeners. The server and the static build (the broker
// inside the page, ./wasm/static) both open them with Add, so both run
// the same listeners.
//
// It does not make the CA or the broker certificate (package pki and its
// caller do) and does not open listeners that depend on a web server
// (MQTT over WebSocket is the server's).
//
// Lesson certificates are made on the first handshake of their listener
// and kept (see Config.Warm): some take long to make (RSA keys), and a
// page must not wait for them before its first handshake on mqtts.
package listenerset

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync"

	"github.com/mqtts-playground/playground/broker"
	"github.com/mqtts-playground/playground/broker/pki"
	"github.com/mqtts-playground/playground/trace/explain"
)

// RogueRelay is the name of the man-in-the-middle lesson listener.
const RogueRelay = "rogue-relay"

// keyListeners are lesson listeners with sound certificates whose keys are
// of another type than mqtts's ECDSA P-256, for comparing handshake costs.
var keyListeners = map[string]string{"key-rsa2048": pki.KeyRSA2048, "key-ed25519": pki.KeyEd25519}

// LessonNames lists the lesson listeners in port order. A new listener
// goes at the end, so that the others keep their ports.
func LessonNames() []string {
	return []string{
		pki.ScenarioExpired, pki.ScenarioNotYetValid, pki.ScenarioWrongHost, pki.ScenarioIPMismatch,
		pki.ScenarioSelfSigned, pki.ScenarioUnknownCA, pki.ScenarioMissingIntermediate,
		pki.ScenarioWeakKey, pki.ScenarioSHA1Signature, pki.ScenarioTLS12Only,
		RogueRelay, "key-rsa2048", "key-ed25519",
		pki.ScenarioCNOnly, pki.ScenarioRevoked,
	}
}

// Config says which CA, certificate and addresses the listeners use.
type Config struct {
	// CA issues the lesson certificates and checks mtls clients (their
	// chain, and revocation on every handshake).
	CA *pki.CA
	// Rotator holds the broker certificate mqtts and mtls serve; it may be
	// swapped while they run (pki.CA.Rotate).
	Rotator *pki.Rotator
	// Names are the DNS names and IP addresses the broker is reached by:
	// the lesson certificates are made for them.
	Names []string
	// MQTT, MQTTS and MTLS are the TCP addresses of the main listeners;
	// "" for a listener reached only in-process (broker.Serve).
	MQTT, MQTTS, MTLS string
	// LessonPorts is the address of the first lesson listener, the others
	// taking the next ports in turn (port 0: each a free port); "" or
	// "off" for none, the listeners then reached only in-process.
	LessonPorts string
	// Warm makes every lesson certificate in Add, which then fails when
	// one cannot be made (the server, where start-up may take a moment).
	// Otherwise each is made on the first handshake of its listener, and
	// until then Broker.Listeners shows no certNotAfter for it.
	Warm bool
}

// Add opens the main and lesson listeners on b.
func Add(b *broker.Broker, c Config) error {
	if c.CA == nil || c.Rotator == nil || len(c.Names) == 0 {
		return errors.New("listenerset: Config needs a CA, a Rotator and the broker's names")
	}
	// GetCertificate, not Certificates: the certificate may be rotated
	// for new handshakes while connections stay up.
	serverTLS := &tls.Config{GetCertificate: c.Rotator.GetCertificate, MinVersion: tls.VersionTLS12}
	mtls := serverTLS.Clone()
	mtls.ClientAuth = tls.RequireAndVerifyClientCert
	mtls.ClientCAs = c.CA.Pool()
	// Devices often send their certificate without the intermediate.
	mtls.ClientCAs.AddCert(c.CA.Intermediate)
	// Checked on every handshake, resumed ones included (which skip
	// VerifyPeerCertificate), so a revocation takes effect at once.
	mtls.VerifyConnection = func(cs tls.ConnectionState) error {
		if len(cs.PeerCertificates) == 0 {
			return nil
		}
		return c.CA.VerifyClient([][]byte{cs.PeerCertificates[0].Raw}, nil)
	}
	for _, l := range []broker.Listener{
		{Name: "mqtt", Addr: c.MQTT, About: "plain MQTT, no TLS: anyone on the path can read every byte, password included"},
		{Name: "mqtts", Addr: c.MQTTS, TLS: serverTLS, About: "MQTT over TLS: the broker proves who it is with a certificate from the local CA"},
		{Name: "mtls", Addr: c.MTLS, TLS: mtls, About: "MQTT over mutual TLS: clients must present a certificate issued by the local CA"},
	} {
		if err := b.Add(l); err != nil {
			return err
		}
	}
	return addLessons(b, c)
}

// LessonAddr is the address of the i-th lesson listener for
// Config.LessonPorts base: "" when base is "" or "off".
func LessonAddr(base string, i int) (string, error) {
	if base == "" || base == "off" {
		return "", nil
	}
	host, port, err := net.SplitHostPort(base)
	if err != nil {
		return "", fmt.Errorf("listenerset: lesson ports (--lesson-ports) %q: %v", base, err)
	}
	p, err := strconv.Atoi(port)
	if err != nil || p < 0 || p+i > 65535 {
		return "", fmt.Errorf("listenerset: lesson ports (--lesson-ports) %q: bad port", base)
	}
	if p == 0 {
		return net.JoinHostPort(host, "0"), nil
	}
	return net.JoinHostPort(host, strconv.Itoa(p+i)), nil
}

// addLessons opens the deliberately broken listeners. Each serves a
// certificate that is wrong in one way (see pki.Scenario), is marked as a
// lesson listener, and its clients may use only lesson/ topics.
func addLessons(b *broker.Broker, c Config) error {
	for i, name := range LessonNames() {
		addr, err := LessonAddr(c.LessonPorts, i)
		if err != nil {
			return err
		}
		l := broker.Listener{Name: name, Addr: addr, Lesson: true}
		fault, ok := explain.LessonFault(name)
		if !ok {
			return fmt.Errorf("listenerset: lesson listener %q has no fault described in trace/explain", name)
		}
		l.Fault = &fault
		var cert *lazyCert
		switch kt, isKey := keyListeners[name]; {
		case isKey:
			// Issued once, kept for the life of the broker.
			var kept *tls.Certificate
			cert = &lazyCert{make: func() (*tls.Certificate, error) {
				if kept == nil {
					issued, err := c.CA.Issue(pki.Leaf{CommonName: "MQTTS Playground broker (" + kt + ")", Names: c.Names, Server: true, KeyType: kt})
					if err != nil {
						return nil, err
					}
					kept = &issued
				}
				return kept, nil
			}}
			l.TLS = &tls.Config{GetCertificate: cert.GetCertificate, MinVersion: tls.VersionTLS12}
			l.About = "LESSON ONLY: a sound certificate with a " + kt + " key, to compare what each key type costs in a handshake (mqtts uses ECDSA P-256)"
		case name == RogueRelay:
			// A convincing fake: the right names, from a CA nobody trusts.
			cert = scenarioCert(c, pki.ScenarioUnknownCA)
			l.TLS = &tls.Config{GetCertificate: cert.GetCertificate, MinVersion: tls.VersionTLS12}
			l.RelayTo = "mqtts"
			l.RelayTLS = &tls.Config{RootCAs: c.CA.Pool(), ServerName: "localhost"}
			l.About = "LESSON ONLY, a man in the middle: presents a fake certificate for the broker's names, then relays to mqtts and shows what it read. A verifying client refuses it; one that skips verification hands over everything."
		default:
			sc, err := pki.ScenarioInfo(name)
			if err != nil {
				return err
			}
			// Scenario certificates are remade from time to time
			// (not-yet-valid must stay ahead of the clock): the CA
			// keeps each for some hours.
			cert = scenarioCert(c, name)
			l.TLS = &tls.Config{GetCertificate: cert.GetCertificate, MinVersion: tls.VersionTLS12, MaxVersion: sc.MaxVersion}
			l.About = "LESSON ONLY, deliberately broken: " + sc.About
		}
		if c.Warm {
			if _, err := cert.get(); err != nil {
				return err
			}
		}
		if err := b.Add(l); err != nil {
			return err
		}
	}
	return nil
}

// scenarioCert is the certificate of the scenario called name, as the CA
// keeps (and from time to time remakes) it.
func scenarioCert(c Config, name string) *lazyCert {
	return &lazyCert{make: func() (*tls.Certificate, error) {
		s, err := c.CA.Scenario(name, c.Names)
		if err != nil {
			return nil, err
		}
		return &s.Chain, nil
	}}
}

// lazyCert is a lesson listener's certificate, made on the first handshake
// that needs it.
type lazyCert struct {
	make func() (*tls.Certificate, error)

	mu   sync.Mutex // held while making: handshakes that need it wait
	made bool
}

// get makes (or asks again for) the certificate.
func (z *lazyCert) get() (*tls.Certificate, error) {
	z.mu.Lock()
	defer z.mu.Unlock()
	c, err := z.make()
	if err != nil {
		return nil, err
	}
	z.made = true
	return c, nil
}

// GetCertificate has the signature of tls.Config.GetCertificate. A call
// from outside a handshake (no hello.Conn: the broker looking up when the
// certificate expires, for Broker.Listeners) does not make it: until a
// handshake has, it returns no certificate and no error.
func (z *lazyCert) GetCertificate(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
	if hello.Conn == nil {
		z.mu.Lock()
		made := z.made
		z.mu.Unlock()
		if !made {
			return nil, nil
		}
	}
	return z.get()
}
