package pki

import (
	"crypto"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"sync/atomic"
)

// Rotator holds the broker's current server certificate so it can be
// replaced while listeners run. Use its GetCertificate method as
// tls.Config.GetCertificate, and CA.Rotate to replace the certificate.
//
// Replacing the certificate does not disturb connections already up, by
// design: a TLS server uses its certificate only in the handshake, to prove
// who it is; once the handshake is done, the connection is protected by keys
// derived from it and never looks at the certificate again. So only
// handshakes that start after the swap see the new certificate. (A session
// resumed from a ticket does not show a certificate at all; its ticket was
// issued under the certificate of the original handshake.)
//
// The zero Rotator holds no certificate; its GetCertificate returns an
// error until Set or CA.Rotate stores one. A Rotator is safe for
// concurrent use.
type Rotator struct {
	cur atomic.Pointer[tls.Certificate]
}

// NewRotator returns a Rotator holding cert, for instance the one
// CA.ServerCertificate returned.
func NewRotator(cert tls.Certificate) *Rotator {
	r := new(Rotator)
	r.Set(cert)
	return r
}

// Set replaces the certificate new handshakes use.
func (r *Rotator) Set(cert tls.Certificate) {
	if cert.Leaf == nil && len(cert.Certificate) > 0 {
		cert.Leaf, _ = x509.ParseCertificate(cert.Certificate[0])
	}
	r.cur.Store(&cert)
}

// GetCertificate returns the current certificate; it has the signature of
// tls.Config.GetCertificate.
func (r *Rotator) GetCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	c := r.cur.Load()
	if c == nil {
		return nil, errors.New("pki: the broker has no server certificate yet: call Rotator.Set or CA.Rotate before accepting connections")
	}
	return c, nil
}

// Current returns the current certificate, nil if none was set. Callers
// must not modify it.
func (r *Rotator) Current() *tls.Certificate { return r.cur.Load() }

// Rotate issues a new server certificate (new key, new serial) for names,
// stores it as ServerCertFile and ServerKeyFile, then swaps it into r, and
// returns its leaf. Handshakes from then on get the new certificate;
// connections already up are unaffected (see Rotator). When storing fails,
// r keeps the old certificate.
func (ca *CA) Rotate(r *Rotator, names []string) (*x509.Certificate, error) {
	if r == nil {
		return nil, errors.New("pki: Rotate needs a Rotator: make one with NewRotator")
	}
	if len(names) == 0 {
		return nil, errors.New("pki: Rotate needs the names the broker is reached by: pass HostNames()")
	}
	ca.rotMu.Lock()
	defer ca.rotMu.Unlock()
	cert, err := ca.Issue(Leaf{CommonName: "MQTTS Playground broker", Names: names, Server: true})
	if err != nil {
		return nil, err
	}
	if err := ca.writePair(ServerCertFile, ServerKeyFile, certsOf(cert), cert.PrivateKey.(crypto.Signer)); err != nil {
		return nil, err
	}
	r.Set(cert)
	return cert.Leaf, nil
}
