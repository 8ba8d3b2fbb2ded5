package pki

import (
	"bytes"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// LoadExternal uses an existing CA, whose certificate and private key are
// the PEM files certPEMFile and keyPEMFile, as the issuing CA instead of the
// playground's own. dir is the data folder: it still holds the broker
// certificate (ServerCertFile, ServerKeyFile), the revocation list and the
// lesson CAs, but never a copy of the external key.
//
// The first certificate in certPEMFile is the issuing CA and must match the
// key. When it is a root (self-signed), leaves are issued directly from it:
// Root and Intermediate are then the same certificate, and chains hold the
// leaf alone. When it is an intermediate, certPEMFile must also hold the
// CAs above it up to the root, in order; they are sent after each leaf
// (except the root, which clients must already trust).
//
// The key may be PKCS #8, PKCS #1 (RSA) or SEC 1 (EC) PEM, unencrypted.
// LoadExternal fails when the key does not match the certificate, the
// certificate is not a CA, is expired, or may not or cannot sign
// certificates. A CA without the cRLSign key usage loads, but its CRL
// method fails.
func LoadExternal(certPEMFile, keyPEMFile string, dir string) (*CA, error) {
	certData, err := os.ReadFile(certPEMFile)
	if err != nil {
		return nil, fmt.Errorf("pki: read the external CA certificate: %w: give the path of its PEM file", err)
	}
	keyData, err := os.ReadFile(keyPEMFile)
	if err != nil {
		return nil, fmt.Errorf("pki: read the external CA key: %w: give the path of its PEM file", err)
	}
	certName, keyName := filepath.Base(certPEMFile), filepath.Base(keyPEMFile)
	chain, err := parseCertsPEM(certData)
	if err != nil {
		return nil, fmt.Errorf("pki: %s: %v: give PEM certificates", certName, err)
	}
	if len(chain) == 0 {
		return nil, fmt.Errorf("pki: %s holds no PEM certificate: give the CA certificate (-----BEGIN CERTIFICATE-----)", certName)
	}
	key, err := parseAnyKeyPEM(keyData, keyName)
	if err != nil {
		return nil, err
	}
	issuer := chain[0]
	if !publicKeysEqual(key.Public(), issuer.PublicKey) {
		return nil, fmt.Errorf("pki: %s does not match the certificate in %s: give the key of that CA certificate (the first in the file)", keyName, certName)
	}
	if !issuer.BasicConstraintsValid || !issuer.IsCA {
		return nil, fmt.Errorf("pki: %s is not a CA certificate (%q has no basic constraints CA:TRUE): give a CA certificate, not a server or client one", certName, issuer.Subject.CommonName)
	}
	if issuer.KeyUsage != 0 && issuer.KeyUsage&x509.KeyUsageCertSign == 0 {
		return nil, fmt.Errorf("pki: %s: CA %q may not sign certificates (its key usage lacks keyCertSign): reissue it with keyUsage keyCertSign, cRLSign", certName, issuer.Subject.CommonName)
	}
	now := time.Now()
	if now.After(issuer.NotAfter) {
		return nil, fmt.Errorf("pki: %s: CA %q expired on %s: give a valid CA, or renew this one", certName, issuer.Subject.CommonName, issuer.NotAfter.UTC().Format(time.RFC3339))
	}
	if now.Before(issuer.NotBefore) {
		return nil, fmt.Errorf("pki: %s: CA %q is not valid before %s: check the clock, or give a CA valid now", certName, issuer.Subject.CommonName, issuer.NotBefore.UTC().Format(time.RFC3339))
	}
	ca := &CA{dir: dir, now: time.Now, external: true, Intermediate: issuer, intermediateKey: key}
	if selfSigned(issuer) {
		ca.Root, ca.rootKey = issuer, key
	} else {
		for i := 1; i < len(chain); i++ {
			if err := chain[i-1].CheckSignatureFrom(chain[i]); err != nil {
				return nil, fmt.Errorf("pki: %s: certificate %d (%q) is not signed by certificate %d (%q): put the CAs in order, issuing CA first and root last: %v", certName, i, chain[i-1].Subject.CommonName, i+1, chain[i].Subject.CommonName, err)
			}
			if selfSigned(chain[i]) {
				ca.Root = chain[i]
				ca.extChain = chain[:i]
				break
			}
		}
		if ca.Root == nil {
			return nil, fmt.Errorf("pki: %s holds intermediate CA %q but not the root it chains to: append the CA certificates above it, up to and including the root, to %s", certName, issuer.Subject.CommonName, certName)
		}
	}
	// A signature proves the key can sign what the CA issues.
	if err := ca.probe(); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("pki: create data folder: %w", err)
	}
	if err := ca.loadRevocations(); err != nil {
		return nil, err
	}
	return ca, nil
}

// selfSigned reports whether c is a root: issued by itself, with a
// signature its own key verifies.
func selfSigned(c *x509.Certificate) bool {
	return bytes.Equal(c.RawIssuer, c.RawSubject) && c.CheckSignatureFrom(c) == nil
}

// probe issues a throwaway leaf and checks its signature.
func (ca *CA) probe() error {
	k, err := newKey()
	if err != nil {
		return err
	}
	now := ca.now()
	tmpl := &x509.Certificate{
		Subject:   pkix.Name{CommonName: "MQTTS Playground probe"},
		NotBefore: now.Add(-time.Minute), NotAfter: minTime(now.Add(time.Hour), ca.Intermediate.NotAfter),
		KeyUsage: x509.KeyUsageDigitalSignature,
	}
	leaf, err := sign(tmpl, ca.Intermediate, k.Public(), ca.intermediateKey)
	if err == nil {
		err = leaf.CheckSignatureFrom(ca.Intermediate)
	}
	if err != nil {
		var ia x509.InsecureAlgorithmError
		if errors.As(err, &ia) {
			return fmt.Errorf("pki: CA %q cannot sign certificates clients accept (%v): use a CA with an ECDSA, Ed25519 or RSA (2048 bits or more) key", ca.Intermediate.Subject.CommonName, err)
		}
		return fmt.Errorf("pki: CA %q cannot sign with its key (%v): use a CA with an ECDSA, Ed25519 or RSA (2048 bits or more) key", ca.Intermediate.Subject.CommonName, err)
	}
	return nil
}
