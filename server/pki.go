package main

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/mqtts-playground/playground/broker/pki"
	"golang.org/x/time/rate"
)

// pkiAPI lets learners and devices get client certificates from the local CA,
// revoke their own, fetch the revocation list, and (for the rotation lesson)
// have the broker's certificate replaced while clients stay connected.
//
// Rotation is for the instructor only (see instructor), revocation for the
// certificate's holder or the instructor's token; no action is taken for a
// page of another site (crossSite). When the data folder cannot be written,
// the actions that write to it answer 503 and say so.
type pkiAPI struct {
	ca       *pki.CA
	rot      *pki.Rotator
	names    []string
	boss     instructor
	writable func() error // nil when the data folder can be written; else why not
	log      *slog.Logger
	csr      *clientLimiter // certificate requests, per client
	rotate   *rate.Limiter  // broker certificate rotations, for everyone
	now      func() time.Time
}

// newPKIAPI serves ca's endpoints; rot holds the broker certificate, which
// covers names; boss says who the instructor is.
func newPKIAPI(ca *pki.CA, rot *pki.Rotator, names []string, boss instructor, log *slog.Logger) *pkiAPI {
	return &pkiAPI{ca: ca, rot: rot, names: names, boss: boss, log: log, writable: func() error { return nil },
		// Ten at once, then one every six seconds: a workshop table
		// enrolling its devices, not a loop filling the CA's index.
		csr:    newClientLimiter(6*time.Second, 10, 10000),
		rotate: rate.NewLimiter(rate.Every(5*time.Second), 1),
		now:    time.Now}
}

// withWritable sets what says whether the data folder can be written (nil)
// or why not.
func (p *pkiAPI) withWritable(f func() error) *pkiAPI {
	p.writable = f
	return p
}

func (p *pkiAPI) register(mux *http.ServeMux) {
	mux.Handle("POST /pki/csr", crossSite.Handler(http.HandlerFunc(p.signCSR)))
	mux.Handle("POST /pki/revoke", crossSite.Handler(http.HandlerFunc(p.revoke)))
	mux.HandleFunc("GET /pki/crl", p.crl)
	mux.Handle("POST /pki/rotate", crossSite.Handler(http.HandlerFunc(p.rotateCert)))
}

// storageError answers an error of the CA: 503 with the reason when the data
// folder cannot be written (a read-only mount, wrong owner), else code.
func (p *pkiAPI) storageError(w http.ResponseWriter, err error, code int) {
	if errors.Is(err, fs.ErrPermission) || errors.Is(err, syscall.EROFS) {
		code = http.StatusServiceUnavailable
		err = fmt.Errorf("pki: the data folder %s cannot be written, so the CA cannot record this (%w); the person running the playground must make it writable", p.ca.Dir(), err)
	}
	http.Error(w, err.Error(), code)
}

// needWritable answers 503 when the data folder is known to be read-only.
func (p *pkiAPI) needWritable(w http.ResponseWriter) bool {
	if err := p.writable(); err != nil {
		p.storageError(w, err, http.StatusServiceUnavailable)
		return false
	}
	return true
}

// clientIP is the address a request came from, for the log.
func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

func readPEMBody(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, pki.MaxCSRSize+1))
	if err != nil {
		http.Error(w, fmt.Sprintf("pki: the request body is larger than %d bytes", pki.MaxCSRSize), http.StatusRequestEntityTooLarge)
		return nil, false
	}
	return body, true
}

// signCSR answers POST /pki/csr: body a PEM certificate request; response
// the PEM chain, leaf first. The common name becomes the MQTT user name on
// the mtls listener.
func (p *pkiAPI) signCSR(w http.ResponseWriter, r *http.Request) {
	if ok, wait := p.csr.allow(r); !ok {
		w.Header().Set("Retry-After", retryAfter(wait))
		http.Error(w, fmt.Sprintf("pki: too many certificate requests from this address; try again in %s seconds", retryAfter(wait)), http.StatusTooManyRequests)
		return
	}
	body, ok := readPEMBody(w, r)
	if !ok {
		return
	}
	chain, leaf, err := p.ca.SignCSR(body, pki.CSROptions{})
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	p.log.Info("issued a client certificate", "cn", leaf.Subject.CommonName, "serial", leaf.SerialNumber.Text(16), "for", clientIP(r))
	w.Header().Set("Content-Type", "application/x-pem-file")
	w.Write(chain)
}

// RevokeProofPrefix starts the text a key holder signs to prove possession
// when revoking without TLS client authentication (the browser's keys live
// in the page, not in the browser's TLS stack): the prefix, the serial in
// hex, a space and the Unix time.
const RevokeProofPrefix = "mqtts-playground revoke "

// revoke answers POST /pki/revoke: body the PEM certificate to revoke. It is
// allowed when the request proves possession of the certificate's key — as
// the TLS client certificate of an HTTPS request (curl --cert c.pem --key
// c.key), or with X-Revoke-Proof (a signature over RevokeProofPrefix +
// serial + " " + X-Revoke-Time) — or carries the instructor token
// (Authorization: Bearer …).
func (p *pkiAPI) revoke(w http.ResponseWriter, r *http.Request) {
	body, ok := readPEMBody(w, r)
	if !ok {
		return
	}
	block, _ := pem.Decode(body)
	if block == nil || block.Type != "CERTIFICATE" {
		http.Error(w, "pki: send the certificate to revoke as PEM (-----BEGIN CERTIFICATE-----)", http.StatusBadRequest)
		return
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		http.Error(w, "pki: the certificate does not parse: "+err.Error(), http.StatusBadRequest)
		return
	}
	if !slices.Contains(cert.ExtKeyUsage, x509.ExtKeyUsageClientAuth) || slices.Contains(cert.ExtKeyUsage, x509.ExtKeyUsageServerAuth) {
		// The broker's own certificate is the instructor's to rotate, not
		// anyone's to revoke: revoked, it would break every TLS listener.
		http.Error(w, fmt.Sprintf("pki: %q is not a client certificate: only client certificates can be revoked here (the broker's own certificate is replaced with POST /pki/rotate)", cert.Subject.CommonName), http.StatusForbidden)
		return
	}
	how, err := p.authorizeRevoke(r, cert)
	if err != nil {
		http.Error(w, err.Error(), http.StatusForbidden)
		return
	}
	reason := pki.ReasonUnspecified
	if s := r.URL.Query().Get("reason"); s != "" {
		if reason, err = strconv.Atoi(s); err != nil {
			http.Error(w, "pki: reason must be a CRL reason code (0, 1, 4, 5 …)", http.StatusBadRequest)
			return
		}
	}
	if !p.needWritable(w) {
		return
	}
	if err := p.ca.Revoke(cert, reason); err != nil {
		p.storageError(w, err, http.StatusBadRequest)
		return
	}
	p.log.Info("revoked a client certificate", "cn", cert.Subject.CommonName, "serial", cert.SerialNumber.Text(16), "proof", how)
	writeJSON(w, map[string]string{"revoked": cert.SerialNumber.Text(16), "cn": cert.Subject.CommonName, "proof": how})
}

func (p *pkiAPI) authorizeRevoke(r *http.Request, cert *x509.Certificate) (string, error) {
	if r.TLS != nil && len(r.TLS.PeerCertificates) > 0 && r.TLS.PeerCertificates[0].Equal(cert) {
		return "TLS client certificate", nil
	}
	if auth := r.Header.Get("Authorization"); p.boss.token != "" && strings.HasPrefix(auth, "Bearer ") {
		if err := p.boss.check(r); err != nil {
			return "", fmt.Errorf("pki: %w", err)
		}
		return "instructor token", nil
	}
	if proof := r.Header.Get("X-Revoke-Proof"); proof != "" {
		if err := p.checkProof(cert, proof, r.Header.Get("X-Revoke-Time")); err != nil {
			return "", err
		}
		return "signed proof", nil
	}
	return "", errors.New("pki: prove you hold the certificate's key (present it as the TLS client certificate: curl --cert c.pem --key c.key https://…/pki/revoke, or sign a revocation proof), or send the instructor token")
}

// checkProof verifies a possession proof: a base64 signature by the
// certificate's key over RevokeProofPrefix + hex serial + " " + unix time,
// made within five minutes of now.
func (p *pkiAPI) checkProof(cert *x509.Certificate, proof, when string) error {
	ts, err := strconv.ParseInt(when, 10, 64)
	if err != nil {
		return errors.New("pki: X-Revoke-Time must be the Unix time the proof was signed")
	}
	if d := p.now().Sub(time.Unix(ts, 0)); d > 5*time.Minute || d < -5*time.Minute {
		return errors.New("pki: the revocation proof is more than five minutes old or ahead: sign a fresh one (and check the clock)")
	}
	sig, err := base64.StdEncoding.DecodeString(proof)
	if err != nil {
		return errors.New("pki: X-Revoke-Proof must be base64")
	}
	msg := []byte(RevokeProofPrefix + cert.SerialNumber.Text(16) + " " + when)
	sum := sha256.Sum256(msg)
	ok := false
	switch pub := cert.PublicKey.(type) {
	case *ecdsa.PublicKey:
		ok = ecdsa.VerifyASN1(pub, sum[:], sig)
	case ed25519.PublicKey:
		ok = ed25519.Verify(pub, msg, sig)
	case *rsa.PublicKey:
		ok = rsa.VerifyPKCS1v15(pub, crypto.SHA256, sum[:], sig) == nil
	}
	if !ok {
		return errors.New("pki: the revocation proof was not signed by this certificate's key")
	}
	return nil
}

func (p *pkiAPI) crl(w http.ResponseWriter, r *http.Request) {
	der, err := p.ca.CRL()
	if err != nil {
		p.storageError(w, err, http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/pkix-crl")
	w.Header().Set("Cache-Control", "no-cache")
	w.Write(der)
}

// rotateCert answers POST /pki/rotate: the broker gets a new certificate
// (new serial, same names); connections already up keep theirs.
func (p *pkiAPI) rotateCert(w http.ResponseWriter, r *http.Request) {
	if err := p.boss.check(r); err != nil {
		p.log.Warn("refused a broker certificate rotation", "from", clientIP(r), "err", err)
		http.Error(w, "pki: rotating the broker certificate: "+err.Error(), http.StatusForbidden)
		return
	}
	if !p.needWritable(w) {
		return
	}
	if !p.rotate.Allow() {
		w.Header().Set("Retry-After", "10")
		http.Error(w, "pki: the broker certificate was just rotated; try again in a few seconds", http.StatusTooManyRequests)
		return
	}
	leaf, err := p.ca.Rotate(p.rot, p.names)
	if err != nil {
		p.storageError(w, err, http.StatusInternalServerError)
		return
	}
	p.log.Info("rotated the broker certificate", "serial", leaf.SerialNumber.Text(16))
	writeJSON(w, map[string]string{"serial": leaf.SerialNumber.Text(16), "notAfter": leaf.NotAfter.UTC().Format(time.RFC3339)})
}
