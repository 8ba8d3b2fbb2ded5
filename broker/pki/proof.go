package pki

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
	"slices"
	"strconv"
	"time"
)

// RevokeProofPrefix starts the text a key holder signs to prove possession
// when revoking without TLS client authentication (a browser's keys live
// in the page, not in the browser's TLS stack): the prefix, the serial in
// hex, a space and the Unix time.
const RevokeProofPrefix = "mqtts-playground revoke "

// ErrNotClientCertificate is wrapped by the error of ParseRevocable for a
// certificate that is not a client certificate: a refusal, not bad input.
var ErrNotClientCertificate = errors.New("pki: not a client certificate")

// ParseRevocable reads the certificate a holder asks to revoke: one PEM
// CERTIFICATE block holding a client certificate (clientAuth and not
// serverAuth). The broker's own certificate is never revocable this way:
// revoked, it would break every TLS listener; for such a certificate the
// error wraps ErrNotClientCertificate. It checks nothing about who asks
// (see CheckRevokeProof) nor who issued it (see Revoke).
func ParseRevocable(body []byte) (*x509.Certificate, error) {
	block, _ := pem.Decode(body)
	if block == nil || block.Type != "CERTIFICATE" {
		return nil, errors.New("pki: send the certificate to revoke as PEM (-----BEGIN CERTIFICATE-----)")
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return nil, errors.New("pki: the certificate does not parse: " + err.Error())
	}
	if !slices.Contains(cert.ExtKeyUsage, x509.ExtKeyUsageClientAuth) || slices.Contains(cert.ExtKeyUsage, x509.ExtKeyUsageServerAuth) {
		return nil, fmt.Errorf("pki: %q is not a client certificate: only client certificates can be revoked here (the broker's own certificate is replaced with POST /pki/rotate)%.0w", cert.Subject.CommonName, ErrNotClientCertificate)
	}
	return cert, nil
}

// CheckRevokeProof verifies a possession proof: proof is a base64
// signature by cert's key over RevokeProofPrefix + hex serial + " " +
// unixTime, and unixTime is within five minutes of now.
func CheckRevokeProof(cert *x509.Certificate, proof, unixTime string, now time.Time) error {
	ts, err := strconv.ParseInt(unixTime, 10, 64)
	if err != nil {
		return errors.New("pki: X-Revoke-Time must be the Unix time the proof was signed")
	}
	if d := now.Sub(time.Unix(ts, 0)); d > 5*time.Minute || d < -5*time.Minute {
		return errors.New("pki: the revocation proof is more than five minutes old or ahead: sign a fresh one (and check the clock)")
	}
	sig, err := base64.StdEncoding.DecodeString(proof)
	if err != nil {
		return errors.New("pki: X-Revoke-Proof must be base64")
	}
	msg := []byte(RevokeProofPrefix + cert.SerialNumber.Text(16) + " " + unixTime)
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
