package client

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/binary"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/mqtts-playground/playground/trace"
	"github.com/mqtts-playground/playground/trace/explain"
	"golang.org/x/crypto/ocsp"
)

// Check is one step of the verification of the broker's certificate.
type Check struct {
	// Step names the check: "certificate received", "validity window",
	// "chain to a trusted CA", "name matches", "key usage".
	Step string `json:"step"`
	// OK says whether the step passed.
	OK bool `json:"ok"`
	// Detail gives the certificate fields that decided it.
	Detail string `json:"detail"`
}

// VerifyServer checks a server's certificate chain as crypto/tls would for
// a client, step by step. It returns every step and the error crypto/tls
// would have returned (explained in plain words), or nil. extra are
// intermediate CA certificates the client brings itself, for a server that
// does not send its own; they help build the path but are not trusted.
func VerifyServer(chain []*x509.Certificate, roots *x509.CertPool, serverName string, now time.Time, extra ...*x509.Certificate) ([]Check, error) {
	if len(chain) == 0 {
		return []Check{{Step: "certificate received", Detail: "the broker sent no certificate"}},
			errors.New("the broker sent no certificate")
	}
	leaf := chain[0]
	var checks []Check
	var names []string
	for _, c := range chain {
		names = append(names, name(c.Subject.String()))
	}
	checks = append(checks, Check{Step: "certificate received", OK: true,
		Detail: fmt.Sprintf("%d certificate(s): %s", len(chain), strings.Join(names, " ← "))})

	valid := Check{Step: "validity window", OK: true}
	var windows []string
	for _, c := range chain {
		w := fmt.Sprintf("%s: %s to %s", name(c.Subject.String()), c.NotBefore.UTC().Format(time.DateOnly), c.NotAfter.UTC().Format(time.DateOnly))
		switch {
		case now.Before(c.NotBefore):
			valid.OK = false
			w += " (not valid yet)"
		case now.After(c.NotAfter):
			valid.OK = false
			w += " (expired)"
		}
		windows = append(windows, w)
	}
	valid.Detail = strings.Join(windows, "; ")
	checks = append(checks, valid)

	inter := x509.NewCertPool()
	for _, c := range append(chain[1:len(chain):len(chain)], extra...) {
		inter.AddCert(c)
	}
	// The verdict is the one crypto/tls would reach: the chain, the name
	// and serverAuth at once. When it passes, its path answers the chain
	// step too; only when it fails is the chain checked alone (any name,
	// any use) to tell that step apart from the name and the usage. A
	// verification checks each signature of the path again, about half of
	// this function's time.
	opts := x509.VerifyOptions{Roots: roots, Intermediates: inter, CurrentTime: now,
		DNSName: serverName, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	paths, verdict := leaf.Verify(opts)
	chainErr := verdict
	if verdict != nil {
		opts.DNSName, opts.KeyUsages = "", []x509.ExtKeyUsage{x509.ExtKeyUsageAny}
		paths, chainErr = leaf.Verify(opts)
	}
	chainCheck := Check{Step: "chain to a trusted CA"}
	if chainErr == nil {
		var p []string
		for _, c := range paths[0] {
			p = append(p, name(c.Subject.String()))
		}
		chainCheck.OK = true
		chainCheck.Detail = strings.Join(p, " ← ") + " (trusted)"
		if len(extra) > 0 {
			chainCheck.Detail += fmt.Sprintf("; the client brought %d intermediate(s) itself", len(extra))
		}
	} else {
		chainCheck.Detail = explain.Verify(chainErr, chain, serverName, now).Message("playground")
	}
	checks = append(checks, chainCheck)

	nameCheck := Check{Step: "name matches", Detail: fmt.Sprintf("%q is in the certificate (%s)", serverName, explain.Names(leaf))}
	if err := leaf.VerifyHostname(serverName); err == nil {
		nameCheck.OK = true
	} else {
		nameCheck.Detail = fmt.Sprintf("%q is not among the names the certificate covers (%s)", serverName, explain.Names(leaf))
	}
	checks = append(checks, nameCheck)

	usage := Check{Step: "key usage", Detail: "the certificate does not allow server authentication (extended key usage)"}
	if len(leaf.ExtKeyUsage) == 0 {
		usage.OK, usage.Detail = true, "no extended key usage: any use allowed"
	}
	for _, u := range leaf.ExtKeyUsage {
		if u == x509.ExtKeyUsageServerAuth || u == x509.ExtKeyUsageAny {
			usage.OK, usage.Detail = true, "extended key usage includes serverAuth"
		}
	}
	// Every certificate of the chain must allow the use, not the leaf
	// alone: when the verdict is that, a CA that rules out serverAuth fails
	// this step.
	var ci x509.CertificateInvalidError
	if errors.As(verdict, &ci) && ci.Reason == x509.IncompatibleUsage && usage.OK {
		ca := explain.RestrictingCA(append(chain[:len(chain):len(chain)], extra...))
		usage.OK, usage.Detail = false, "a CA certificate above it does not allow server authentication (its extended key usage): every certificate of the chain must allow it"
		if ca != nil {
			usage.Detail = fmt.Sprintf("the certificate allows serverAuth, but %s, a CA above it, limits its extended key usage to %s: every certificate of the chain must allow it",
				name(ca.Subject.String()), strings.Join(explain.ExtKeyUsageNames(ca), ", "))
		}
	}
	checks = append(checks, usage, keyStrength(leaf))

	if verdict != nil {
		return checks, errors.New(explain.Verify(verdict, chain, serverName, now).Message("playground"))
	}
	return checks, nil
}

// parseCerts reads the certificates of a PEM text (none for "").
func parseCerts(pemText string) ([]*x509.Certificate, error) {
	var out []*x509.Certificate
	rest := []byte(pemText)
	for {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		if b.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	if len(out) == 0 && strings.TrimSpace(pemText) != "" {
		return nil, errors.New("no PEM certificate in the text: give certificates starting with -----BEGIN CERTIFICATE-----")
	}
	return out, nil
}

// checkStaple checks the OCSP response the server stapled to its
// certificate (RFC 6066 §8; in TLS 1.3 inside the Certificate message, RFC
// 8446 §4.4.2.1). crypto/tls asks for it but leaves it to the application;
// this client does what a browser does with it: a response signed by the
// certificate's issuer that says "revoked" ends the handshake, one it cannot
// verify is noted and ignored.
func checkStaple(der []byte, chain, extra []*x509.Certificate, now time.Time) (Check, error) {
	ch := Check{Step: "revocation (stapled OCSP)"}
	leaf := chain[0]
	var issuer *x509.Certificate
	for _, c := range append(chain[1:len(chain):len(chain)], extra...) {
		if leaf.CheckSignatureFrom(c) == nil {
			issuer = c
			break
		}
	}
	if issuer == nil {
		ch.Detail = "the broker stapled an OCSP response, but without the issuer's certificate it cannot be checked: ignored"
		return ch, nil
	}
	r, err := ocsp.ParseResponseForCert(der, leaf, issuer)
	if err != nil {
		ch.Detail = fmt.Sprintf("the stapled OCSP response cannot be verified (%v): ignored", err)
		return ch, nil
	}
	when := fmt.Sprintf("signed by %s, produced %s", name(issuer.Subject.String()), r.ProducedAt.UTC().Format(time.RFC3339))
	if !r.NextUpdate.IsZero() && now.After(r.NextUpdate) {
		ch.Detail = "the stapled OCSP response is out of date (next update was " + r.NextUpdate.UTC().Format(time.RFC3339) + "): ignored"
		return ch, nil
	}
	switch r.Status {
	case ocsp.Good:
		ch.OK, ch.Detail = true, "the stapled OCSP response says good; "+when
		return ch, nil
	case ocsp.Revoked:
		ch.Detail = fmt.Sprintf("the stapled OCSP response says revoked since %s (reason %s); %s",
			r.RevokedAt.UTC().Format(time.RFC3339), revocationReason(r.RevocationReason), when)
		return ch, fmt.Errorf("certificate revoked: the OCSP response the broker stapled to its own certificate says the CA revoked it on %s", r.RevokedAt.UTC().Format(time.DateOnly))
	default:
		ch.Detail = "the stapled OCSP response says unknown: the responder does not know this certificate; ignored"
		return ch, nil
	}
}

// revocationReason names a CRLReason (RFC 5280 §5.3.1).
func revocationReason(r int) string {
	names := []string{"unspecified", "keyCompromise", "cACompromise", "affiliationChanged", "superseded", "cessationOfOperation", "certificateHold", "7", "removeFromCRL", "privilegeWithdrawn", "aACompromise"}
	if r >= 0 && r < len(names) {
		return names[r]
	}
	return fmt.Sprint(r)
}

// name shortens a distinguished name to its CN when it has one.
func name(dn string) string {
	for _, part := range strings.Split(dn, ",") {
		if strings.HasPrefix(part, "CN=") {
			return part
		}
	}
	return dn
}

// explainHandshake turns a TLS handshake error into plain words.
func (c *Conn) explainHandshake(err error, ctx context.Context) error {
	var alert tls.AlertError
	var rhe tls.RecordHeaderError
	var ve *tls.CertificateVerificationError
	msg := explain.Ended(err, "the broker") // unless a case below says better
	switch {
	case errors.As(err, &ve):
		msg = ve.Err.Error()
	case strings.Contains(err.Error(), "remote error: tls: "):
		msg = c.explainAlert(err.Error())
	case errors.As(err, &alert):
		msg = "TLS alert: " + alert.Error()
	case errors.As(err, &rhe):
		msg = "the listener does not speak TLS: its first bytes are not a TLS record (is it a plain MQTT port?)"
	case (errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed)) && !c.heardFromBroker():
		// A TLS server answers a ClientHello, if only with an alert; an
		// MQTT broker drops it as a malformed packet without a word.
		msg = "the broker closed the connection without answering the TLS ClientHello: the listener does not speak TLS (is it a plain MQTT port?)"
	case errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed):
		msg = "the broker closed the connection during the TLS handshake"
	case ctx.Err() != nil:
		msg = "the TLS handshake did not finish in time"
	}
	return fmt.Errorf("%s", msg)
}

// heardFromBroker reports whether any byte came from the broker (true when
// the recorder was too full to tell).
func (c *Conn) heardFromBroker() bool {
	rec := c.rec.Recording()
	if rec.Dropped > 0 {
		return true
	}
	for _, ch := range rec.Chunks {
		if ch.Dir == trace.Recv && !ch.App {
			return true
		}
	}
	return false
}

// explainAlert explains an error holding a TLS alert from the broker
// ("remote error: tls: …"). In TLS 1.3 the broker checks the client
// certificate after the client's side of the handshake is done, so the
// alert can also arrive on the first read after it.
func (c *Conn) explainAlert(msg string) string {
	name := strings.TrimPrefix(msg[strings.Index(msg, "remote error: tls: "):], "remote error: tls: ")
	gave := c.haveCert
	if name == "handshake failure" && !c.certAsked {
		gave = true // not about client certificates: the broker never asked for one
	}
	return explain.Remote(name, gave).Message("playground")
}

// keyStrength checks the size of the leaf's key. Go accepts RSA keys of
// 1024 bits and up; OpenSSL-based clients (mosquitto, paho for Python) at
// their default security level refuse anything under 2048, so the check
// fails below that without failing the handshake.
func keyStrength(leaf *x509.Certificate) Check {
	c := Check{Step: "key strength", OK: true}
	switch k := leaf.PublicKey.(type) {
	case *rsa.PublicKey:
		bits := k.N.BitLen()
		c.Detail = fmt.Sprintf("RSA %d-bit key", bits)
		if bits < 2048 {
			c.OK = false
			c.Detail += ": too weak — Go still accepts 1024 bits, but OpenSSL clients such as mosquitto refuse keys under 2048 bits (\"ee key too small\"), and such keys can be factored with enough computing power"
		}
	case *ecdsa.PublicKey:
		c.Detail = "ECDSA " + k.Curve.Params().Name + " key"
	case ed25519.PublicKey:
		c.Detail = "Ed25519 key"
	default:
		c.Detail = fmt.Sprintf("%T key", k)
	}
	return c
}

// A resumed TLS 1.3 handshake carries no certificate: the session ticket
// stands for the chain the client checked when the session began, and
// crypto/tls hands VerifyConnection that chain again. Checking its
// signatures again costs as much as the rest of the resumed handshake
// (BenchmarkVerifyServer: about 3 ms of wasm), so a resumed handshake
// takes the outcome of the full one instead, as crypto/tls does for its
// own verified sessions, when the chain, the trust settings and the server
// name are the same and every certificate involved is still inside its
// validity window: the checks then come out the same, word for word. A
// full handshake always checks in full.

// verifiedChain is the outcome of VerifyServer for one chain and trust.
type verifiedChain struct {
	checks      []Check
	err         error
	from, until time.Time // when every certificate involved is valid
}

var (
	verifiedMu sync.Mutex
	verified   = map[[32]byte]verifiedChain{}
)

// maxVerified bounds the remembered outcomes (a learner meets a handful of
// chains); past it they are forgotten at once.
const maxVerified = 64

// trustKey digests what a check depends on besides the chain and the time.
func trustKey(caPEM, intermediatesPEM, serverName string) [32]byte {
	h := sha256.New()
	for _, s := range []string{caPEM, intermediatesPEM, serverName} {
		h.Write(binary.BigEndian.AppendUint64(nil, uint64(len(s))))
		h.Write([]byte(s))
	}
	return [32]byte(h.Sum(nil))
}

// chainKey adds the chain to trust.
func chainKey(trust [32]byte, chain []*x509.Certificate) [32]byte {
	h := sha256.New()
	h.Write(trust[:])
	for _, c := range chain {
		h.Write(binary.BigEndian.AppendUint64(nil, uint64(len(c.Raw))))
		h.Write(c.Raw)
	}
	return [32]byte(h.Sum(nil))
}

// verifyOnce is VerifyServer, except that a resumed handshake reuses the
// outcome of the full handshake that checked the same chain with the same
// trust (see above). caPEM gives the trusted certificates' validity.
func verifyOnce(resumed bool, trust [32]byte, chain []*x509.Certificate, roots *x509.CertPool, serverName string, now time.Time, extra []*x509.Certificate, caPEM string) ([]Check, error) {
	key := chainKey(trust, chain)
	if resumed {
		verifiedMu.Lock()
		v, ok := verified[key]
		verifiedMu.Unlock()
		if ok && !now.Before(v.from) && !now.After(v.until) {
			return append([]Check(nil), v.checks...), v.err
		}
	}
	checks, err := VerifyServer(chain, roots, serverName, now, extra...)
	if len(chain) == 0 {
		return checks, err
	}
	trusted, _ := parseCerts(caPEM) // those AppendCertsFromPEM took; unreadable ones play no part
	v := verifiedChain{checks: checks, err: err, from: chain[0].NotBefore, until: chain[0].NotAfter}
	for _, c := range slices.Concat(chain, extra, trusted) {
		if c.NotBefore.After(v.from) {
			v.from = c.NotBefore
		}
		if c.NotAfter.Before(v.until) {
			v.until = c.NotAfter
		}
	}
	if now.Before(v.from) || now.After(v.until) {
		return checks, err // the outcome depends on the time: not kept
	}
	verifiedMu.Lock()
	if len(verified) >= maxVerified {
		clear(verified)
	}
	verified[key] = verifiedChain{checks: append([]Check(nil), checks...), err: err, from: v.from, until: v.until}
	verifiedMu.Unlock()
	return checks, err
}
