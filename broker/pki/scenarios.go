package pki

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"strings"
	"time"

	"golang.org/x/crypto/ocsp"
)

// Files of the lesson CAs in the data folder. They are kept so that what
// learners see (and may have saved) stays the same across restarts; nothing
// trusts them.
const (
	ImpostorCertFile = "impostor-ca.pem" // the unknown-ca scenario's CA
	ImpostorKeyFile  = "impostor-ca.key"
	LegacyCertFile   = "legacy-ca.pem" // the RSA CA signing with SHA-1
	LegacyKeyFile    = "legacy-ca.key"
)

// Scenario names: each is a lesson listener whose certificate is broken
// in one way.
const (
	ScenarioExpired             = "expired"
	ScenarioNotYetValid         = "not-yet-valid"
	ScenarioWrongHost           = "wrong-host"
	ScenarioIPMismatch          = "ip-mismatch"
	ScenarioSelfSigned          = "self-signed"
	ScenarioUnknownCA           = "unknown-ca"
	ScenarioMissingIntermediate = "missing-intermediate"
	ScenarioWeakKey             = "weak-key"
	ScenarioSHA1Signature       = "sha1-signature"
	ScenarioTLS12Only           = "tls12-only"
	ScenarioCNOnly              = "cn-only"
	ScenarioRevoked             = "revoked"
)

// ScenarioNames lists the names Scenario accepts, in lesson order. The
// names are a contract with the lessons and the web page.
var ScenarioNames = []string{
	ScenarioExpired, ScenarioNotYetValid, ScenarioWrongHost, ScenarioIPMismatch,
	ScenarioSelfSigned, ScenarioUnknownCA, ScenarioMissingIntermediate,
	ScenarioWeakKey, ScenarioSHA1Signature, ScenarioTLS12Only,
	ScenarioCNOnly, ScenarioRevoked,
}

// Scenario is the certificate (and TLS settings) of a lesson listener.
type Scenario struct {
	Name  string
	About string // what is wrong and what a client does about it, for learners
	// Chain is the certificate chain and key the listener serves, exactly
	// as sent (for missing-intermediate, without the intermediate). Callers
	// must not modify it.
	Chain tls.Certificate
	// MaxVersion is the listener's tls.Config.MaxVersion: tls.VersionTLS12
	// for tls12-only, 0 (the default) for the others.
	MaxVersion uint16
	// ExpectClientError is a substring of the error a Go crypto/tls client
	// trusting the playground root (RootCAs = CA.Pool()) and dialing with
	// ServerName "localhost" gets; "" when the handshake succeeds.
	ExpectClientError string
}

// scenarioInfo is what does not depend on the certificates.
var scenarioInfo = map[string]struct{ about, expect string }{
	ScenarioExpired: {
		"The certificate's validity window lies entirely in the past (it expired yesterday). Clients compare NotAfter with their clock and refuse it: a certificate is only a promise for a period of time.",
		"x509: certificate has expired or is not yet valid"},
	ScenarioNotYetValid: {
		"The certificate only becomes valid tomorrow (NotBefore is in the future). Clients refuse it; in real life this is most often a wrong clock on the client or the server.",
		"x509: certificate has expired or is not yet valid"},
	ScenarioWrongHost: {
		"The certificate is signed by the right CA but names only wrong-host.invalid, not the host the client dialed. A valid signature is not enough: the certificate must name the server the client wants.",
		"x509: certificate is valid for wrong-host.invalid, not localhost"},
	ScenarioIPMismatch: {
		"The certificate names only the IP address 192.0.2.1 (a documentation address) and no DNS name. A client dialing localhost finds no name to match; one dialing 127.0.0.1 is told the certificate is valid for 192.0.2.1, not 127.0.0.1. IP addresses must be in the certificate as IP SANs, exactly.",
		"x509: certificate is not valid for any names, but wanted to match localhost"},
	ScenarioSelfSigned: {
		"The certificate names the right host but signed itself: no CA vouches for it, so a client that trusts only the playground root cannot tell it from an attacker's.",
		"x509: certificate signed by unknown authority"},
	ScenarioUnknownCA: {
		"The chain is complete and well formed but ends in the \"MQTTS Playground Impostor CA\", which the client does not trust. Names in a certificate prove nothing; only a signature chain up to a trusted root does.",
		"x509: certificate signed by unknown authority"},
	ScenarioMissingIntermediate: {
		"The server certificate is the right one, but the server forgets to send the intermediate CA after it. The client trusts only the root and cannot link the certificate to it. Some browsers hide this by fetching or caching intermediates; MQTT clients usually do not.",
		"x509: certificate signed by unknown authority"},
	ScenarioWeakKey: {
		"The certificate has a 1024-bit RSA key, long considered breakable. Go accepts RSA keys from 1024 bits on, so a Go client connects without complaint; OpenSSL at security level 2 (the default on Debian and Ubuntu) refuses it (\"EE certificate key too weak\"), and public CAs have not issued such certificates since 2013. The lesson: what one client accepts another refuses.",
		""},
	ScenarioSHA1Signature: {
		"The certificate is signed with SHA-1 (sha1WithRSAEncryption) by a legacy RSA CA under the playground root. SHA-1 collisions can be made, so clients no longer accept SHA-1 certificate signatures: the signature is there, but the client refuses to rely on it.",
		"x509: certificate signed by unknown authority (possibly because of \"x509: cannot verify signature: insecure algorithm SHA1-RSA\""},
	ScenarioCNOnly: {
		"The certificate names the host only in its subject's common name (CN=localhost) and has no subjectAltName at all. Go and browsers refuse it: names must be in the SAN (RFC 9525). OpenSSL's host check, and so mosquitto_pub, Python's ssl and mbedTLS, still fall back to the CN when there is no DNS SAN, and accept it. Put names in the SAN; never rely on the fallback.",
		"x509: certificate relies on legacy Common Name field, use SANs instead"},
	ScenarioRevoked: {
		"A sound certificate that its CA has revoked, and the listener says so itself: it staples the CA's signed OCSP response (status revoked, reason keyCompromise) to the handshake (RFC 6066 §8, RFC 8446 §4.4.2.1). Go's crypto/tls asks for the staple but leaves checking it to the application, so a plain Go client connects; the playground's client checks it and refuses, as browsers do.",
		""},
	ScenarioTLS12Only: {
		"A good certificate, but the listener speaks at most TLS 1.2. A default client connects without error: the lesson is in what is negotiated (version, cipher suite, key exchange), so compare the handshake with a TLS 1.3 listener. A client that requires TLS 1.3 (MinVersion) gets a \"protocol version\" alert.",
		""},
}

// ScenarioInfo returns the Scenario called name without its certificate
// (Chain is empty): what a listener needs to be described and configured
// before its first handshake, at no cost. It fails for a name that is not
// one of ScenarioNames.
func ScenarioInfo(name string) (Scenario, error) {
	info, ok := scenarioInfo[name]
	if !ok {
		return Scenario{}, fmt.Errorf("pki: unknown scenario %q: use one of %s", name, strings.Join(ScenarioNames, ", "))
	}
	s := Scenario{Name: name, About: info.about, ExpectClientError: info.expect}
	if name == ScenarioTLS12Only {
		s.MaxVersion = tls.VersionTLS12
	}
	return s, nil
}

// scenarioTTL is how long a made scenario is reused: short enough that
// not-yet-valid stays in the future and expired stays in the past.
const scenarioTTL = 6 * time.Hour

type cachedScenario struct {
	s    Scenario
	made time.Time
}

// Scenario returns the lesson listener setup called name, one of
// ScenarioNames, for a broker reached by names (DNS names and IP
// addresses, as for ServerCertificate). Certificates are made in memory,
// and remade after some hours or when names change; only the impostor and
// legacy CAs are stored in the data folder.
func (ca *CA) Scenario(name string, names []string) (Scenario, error) {
	s, err := ScenarioInfo(name)
	if err != nil {
		return Scenario{}, err
	}
	if len(names) == 0 {
		return Scenario{}, fmt.Errorf("pki: scenario %q needs the names the broker is reached by: pass HostNames()", name)
	}
	key := name + "\x00" + strings.Join(names, "\x00")
	ca.scenMu.Lock()
	defer ca.scenMu.Unlock()
	now := ca.now()
	if c, ok := ca.scenario[key]; ok && now.Sub(c.made) < scenarioTTL && !now.Before(c.made) {
		return c.s, nil
	}
	chain, err := ca.scenarioChain(name, names, now)
	if err != nil {
		return Scenario{}, err
	}
	s.Chain = chain
	if ca.scenario == nil {
		ca.scenario = map[string]cachedScenario{}
	}
	ca.scenario[key] = cachedScenario{s, now}
	return s, nil
}

// scenarioCN is the common name of a scenario's leaf.
func scenarioCN(name string) string { return "MQTTS Playground lesson: " + name }

func (ca *CA) scenarioChain(name string, names []string, now time.Time) (tls.Certificate, error) {
	l := Leaf{CommonName: scenarioCN(name), Names: names, Server: true}
	switch name {
	case ScenarioExpired:
		l.NotBefore, l.NotAfter = now.Add(-31*24*time.Hour), now.Add(-24*time.Hour)
	case ScenarioNotYetValid:
		l.NotBefore, l.NotAfter = now.Add(24*time.Hour), now.Add(31*24*time.Hour)
	case ScenarioWrongHost:
		l.Names = []string{"wrong-host.invalid"}
	case ScenarioIPMismatch:
		l.Names = []string{"192.0.2.1"}
	case ScenarioWeakKey:
		l.KeyType, l.Weak = KeyRSA1024, true
	case ScenarioTLS12Only:
	case ScenarioCNOnly:
		l.CommonName, l.Names = cnOnlyName(names), nil
	case ScenarioRevoked:
		c, err := ca.Issue(l)
		if err != nil {
			return tls.Certificate{}, err
		}
		c.OCSPStaple, err = ca.revokedStaple(c.Leaf, now)
		return c, err
	case ScenarioMissingIntermediate:
		return ca.missingIntermediate(l, now)
	case ScenarioSelfSigned:
		k, err := newKey()
		if err != nil {
			return tls.Certificate{}, err
		}
		tmpl := serverTemplate(l.CommonName, names, now)
		leaf, err := sign(tmpl, tmpl, k.Public(), k)
		if err != nil {
			return tls.Certificate{}, err
		}
		return tlsCert([]*x509.Certificate{leaf}, k), nil
	case ScenarioUnknownCA:
		imp, impKey, err := ca.impostorCA()
		if err != nil {
			return tls.Certificate{}, err
		}
		return issueUnder(l.CommonName, names, now, imp, impKey)
	case ScenarioSHA1Signature:
		legacy, legacyKey, above, err := ca.legacyCA()
		if err != nil {
			return tls.Certificate{}, err
		}
		k, err := newKey()
		if err != nil {
			return tls.Certificate{}, err
		}
		tmpl := serverTemplate(l.CommonName, names, now)
		tmpl.NotAfter = minTime(tmpl.NotAfter, legacy.NotAfter)
		tmpl.SignatureAlgorithm = x509.SHA1WithRSA
		leaf, err := sign(tmpl, legacy, k.Public(), legacyKey)
		if err != nil {
			return tls.Certificate{}, err
		}
		return tlsCert(append([]*x509.Certificate{leaf, legacy}, above...), k), nil
	}
	return ca.Issue(l)
}

// cnOnlyName is the name the cn-only certificate puts in its CN: the first
// DNS name the broker is reached by (localhost on most machines).
func cnOnlyName(names []string) string {
	for _, n := range names {
		if net.ParseIP(n) == nil && n != "" {
			return n
		}
	}
	return "localhost"
}

// revokedStaple is an OCSP response (RFC 6960) for leaf that says the CA
// revoked it an hour ago. A delegated responder signs it (§4.2.2.2): an
// ECDSA certificate the issuing CA gives the OCSPSigning usage, sent inside
// the response, so any CA key type works (x/crypto/ocsp signs with RSA and
// ECDSA only).
func (ca *CA) revokedStaple(leaf *x509.Certificate, now time.Time) ([]byte, error) {
	k, err := newKey()
	if err != nil {
		return nil, err
	}
	responder, err := sign(&x509.Certificate{
		Subject:     pkix.Name{CommonName: "MQTTS Playground OCSP responder (lesson)"},
		NotBefore:   now.Add(-time.Hour),
		NotAfter:    minTime(now.Add(scenarioTTL+48*time.Hour), ca.Intermediate.NotAfter),
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageOCSPSigning},
	}, ca.Intermediate, k.Public(), ca.intermediateKey)
	if err != nil {
		return nil, err
	}
	der, err := ocsp.CreateResponse(ca.Intermediate, responder, ocsp.Response{
		Status:           ocsp.Revoked,
		SerialNumber:     leaf.SerialNumber,
		RevokedAt:        now.Add(-time.Hour).Truncate(time.Second),
		RevocationReason: ocsp.KeyCompromise,
		ThisUpdate:       now.Add(-time.Hour).Truncate(time.Second),
		NextUpdate:       now.Add(scenarioTTL + 24*time.Hour).Truncate(time.Second),
		Certificate:      responder,
	}, k)
	if err != nil {
		return nil, fmt.Errorf("pki: OCSP response for the revoked scenario: %w", err)
	}
	return der, nil
}

// serverTemplate is a server leaf for names, valid for 90 days.
func serverTemplate(cn string, names []string, now time.Time) *x509.Certificate {
	tmpl := &x509.Certificate{
		Subject:     pkix.Name{CommonName: cn},
		NotBefore:   now.Add(-time.Hour),
		NotAfter:    now.Add(90 * 24 * time.Hour),
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	for _, n := range names {
		if ip := net.ParseIP(n); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else if n != "" {
			tmpl.DNSNames = append(tmpl.DNSNames, n)
		}
	}
	return tmpl
}

// issueUnder issues an ECDSA server leaf from parent and returns it with
// parent after it.
func issueUnder(cn string, names []string, now time.Time, parent *x509.Certificate, parentKey crypto.Signer) (tls.Certificate, error) {
	k, err := newKey()
	if err != nil {
		return tls.Certificate{}, err
	}
	tmpl := serverTemplate(cn, names, now)
	tmpl.NotAfter = minTime(tmpl.NotAfter, parent.NotAfter)
	leaf, err := sign(tmpl, parent, k.Public(), parentKey)
	if err != nil {
		return tls.Certificate{}, err
	}
	return tlsCert([]*x509.Certificate{leaf, parent}, k), nil
}

// missingIntermediate issues a good leaf and leaves out the CA
// certificates after it. When the issuing CA is itself a root (an external
// root CA), it first makes a lesson intermediate under it, in memory, so
// that there is an intermediate to leave out.
func (ca *CA) missingIntermediate(l Leaf, now time.Time) (tls.Certificate, error) {
	if len(ca.chain()) > 0 {
		c, err := ca.Issue(l)
		if err != nil {
			return tls.Certificate{}, err
		}
		c.Certificate = c.Certificate[:1]
		return c, nil
	}
	k, err := newKey()
	if err != nil {
		return tls.Certificate{}, err
	}
	inter, err := sign(caTemplate("MQTTS Playground Lesson Intermediate CA", now, ca.Root.NotAfter, true), ca.Root, k.Public(), ca.rootKey)
	if err != nil {
		return tls.Certificate{}, err
	}
	c, err := issueUnder(l.CommonName, l.Names, now, inter, k)
	if err != nil {
		return tls.Certificate{}, err
	}
	c.Certificate = c.Certificate[:1]
	return c, nil
}

// caTemplate is a CA certificate valid from now to at most notAfter.
func caTemplate(cn string, now, notAfter time.Time, pathLenZero bool) *x509.Certificate {
	return &x509.Certificate{
		Subject:               pkix.Name{CommonName: cn, Organization: []string{"MQTTS Playground (local, for learning)"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              minTime(now.Add(intermediateValidity), notAfter),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        pathLenZero,
	}
}

// impostorCA loads or makes the unknown-ca scenario's self-signed CA.
// Called with scenMu held.
func (ca *CA) impostorCA() (*x509.Certificate, crypto.Signer, error) {
	return ca.lessonCA(ImpostorCertFile, ImpostorKeyFile,
		func(c *x509.Certificate) bool { return selfSigned(c) },
		func(now time.Time) (*x509.Certificate, crypto.Signer, error) {
			k, err := newKey()
			if err != nil {
				return nil, nil, err
			}
			tmpl := caTemplate("MQTTS Playground Impostor CA", now, now.Add(rootValidity), false)
			tmpl.MaxPathLen = 1
			c, err := sign(tmpl, tmpl, k.Public(), k)
			return c, k, err
		})
}

// legacyCA loads or makes the sha1-signature scenario's RSA CA, under the
// root (or under the issuing CA, for an external intermediate whose root
// key is not here), and returns it with the CAs to send after it. Called
// with scenMu held.
func (ca *CA) legacyCA() (*x509.Certificate, crypto.Signer, []*x509.Certificate, error) {
	parent, parentKey, above := ca.Root, ca.rootKey, []*x509.Certificate(nil)
	if parentKey == nil {
		parent, parentKey, above = ca.Intermediate, ca.intermediateKey, ca.extChain
	}
	c, k, err := ca.lessonCA(LegacyCertFile, LegacyKeyFile,
		func(c *x509.Certificate) bool {
			_, isRSA := c.PublicKey.(*rsa.PublicKey)
			return isRSA && c.CheckSignatureFrom(parent) == nil
		},
		func(now time.Time) (*x509.Certificate, crypto.Signer, error) {
			k, err := rsa.GenerateKey(rand.Reader, 2048)
			if err != nil {
				return nil, nil, fmt.Errorf("pki: generate the legacy CA key: %w", err)
			}
			c, err := sign(caTemplate("MQTTS Playground Legacy CA (RSA, SHA-1)", now, parent.NotAfter, true), parent, k.Public(), parentKey)
			return c, k, err
		})
	return c, k, above, err
}

// lessonCA loads a lesson CA from certFile and keyFile, or makes and
// stores a new one when there is none, when ok rejects it (made for
// another CA) or when it is close to expiry. Damaged files are reported.
func (ca *CA) lessonCA(certFile, keyFile string, ok func(*x509.Certificate) bool, create func(time.Time) (*x509.Certificate, crypto.Signer, error)) (*x509.Certificate, crypto.Signer, error) {
	now := ca.now()
	chain, key, err := ca.loadPair(certFile, keyFile)
	switch {
	case err == nil && ok(chain[0]) && now.Add(renewBefore).Before(chain[0].NotAfter):
		return chain[0], key, nil
	case err != nil && !errors.Is(err, fs.ErrNotExist):
		return nil, nil, fmt.Errorf("%w (remove %s and %s to make a new lesson CA)", err, certFile, keyFile)
	}
	c, k, err := create(now)
	if err != nil {
		return nil, nil, err
	}
	if err := ca.writePair(certFile, keyFile, []*x509.Certificate{c}, k); err != nil {
		return nil, nil, err
	}
	return c, k, nil
}
