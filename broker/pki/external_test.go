package pki

import (
	"crypto"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// extCA makes a CA certificate for pub, signed by parent (self-signed when
// parent is nil), changed by edit.
func extCA(t *testing.T, cn string, pub crypto.PublicKey, parent *x509.Certificate, parentKey crypto.Signer, edit func(*x509.Certificate)) *x509.Certificate {
	t.Helper()
	tmpl := &x509.Certificate{
		Subject:               pkix.Name{CommonName: cn, Organization: []string{"Example Org"}},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(365 * 24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	if edit != nil {
		edit(tmpl)
	}
	if parent == nil {
		parent = tmpl
	}
	c, err := sign(tmpl, parent, pub, parentKey)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// writeExternal writes certs and key PEM to files in a new folder.
func writeExternal(t *testing.T, keyPEM []byte, certs ...*x509.Certificate) (certFile, keyFile string) {
	t.Helper()
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "ext-ca.pem"), filepath.Join(dir, "ext-ca.key")
	if err := os.WriteFile(certFile, CertPEM(certs...), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, keyPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile
}

func pkcs8(t *testing.T, k crypto.Signer) []byte {
	t.Helper()
	b, err := KeyPEM(k)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// exerciseCA checks what the playground does with a CA: server and
// client certificates that verify, revocation with a CRL, and every
// lesson scenario with its client error.
func exerciseCA(t *testing.T, ca *CA, wantChain int) {
	t.Helper()
	server, issued, err := ca.ServerCertificate([]string{"localhost", "127.0.0.1"})
	if err != nil || !issued {
		t.Fatalf("ServerCertificate: issued %v, %v", issued, err)
	}
	if len(server.Certificate) != 1+wantChain {
		t.Errorf("server chain of %d certificates, want %d", len(server.Certificate), 1+wantChain)
	}
	if _, err := os.Stat(filepath.Join(ca.Dir(), ServerKeyFile)); err != nil {
		t.Errorf("server key not in the data folder: %v", err)
	}
	if err := verify(ca, server, x509.ExtKeyUsageServerAuth, "localhost"); err != nil {
		t.Errorf("server certificate: %v", err)
	}
	chainPEM, leaf, err := ca.SignCSR(makeCSR(t, testP256, cn("device-1")), CSROptions{})
	if err != nil {
		t.Fatalf("SignCSR: %v", err)
	}
	if n := len(parseChain(t, chainPEM)); n != 1+wantChain {
		t.Errorf("client chain of %d certificates, want %d", n, 1+wantChain)
	}
	// mTLS with a revocation, against the external CA.
	srv := serveTLS(t, &tls.Config{Certificates: []tls.Certificate{server}, ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: ca.Pool(), VerifyPeerCertificate: ca.VerifyClient})
	keyPEM := pkcs8(t, testP256)
	client, err := tls.X509KeyPair(chainPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	dial := func() error {
		c, err := dialTLS(srv.addr, &tls.Config{RootCAs: ca.Pool(), ServerName: "localhost", Certificates: []tls.Certificate{client}})
		if err != nil {
			return err
		}
		defer c.Close()
		return echo(c, "hi")
	}
	if err := dial(); err != nil {
		t.Errorf("mTLS: %v", err)
	}
	if err := ca.Revoke(leaf, ReasonKeyCompromise); err != nil {
		t.Fatalf("Revoke: %v", err)
	}
	if err := dial(); err == nil {
		t.Error("mTLS with a revoked certificate succeeded")
	}
	if der, err := ca.CRL(); err != nil {
		t.Errorf("CRL: %v", err)
	} else if crl, err := x509.ParseRevocationList(der); err != nil || crl.CheckSignatureFrom(ca.Intermediate) != nil || len(crl.RevokedCertificateEntries) != 1 {
		t.Errorf("CRL does not parse, verify or list the revocation (%v)", err)
	}
	for _, name := range ScenarioNames {
		sc, err := ca.Scenario(name, []string{"localhost", "127.0.0.1"})
		if err != nil {
			t.Errorf("Scenario(%s): %v", name, err)
			continue
		}
		s := serveTLS(t, &tls.Config{Certificates: []tls.Certificate{sc.Chain}, MaxVersion: sc.MaxVersion})
		c, err := dialTLS(s.addr, &tls.Config{RootCAs: ca.Pool(), ServerName: "localhost"})
		switch {
		case sc.ExpectClientError == "" && err != nil:
			t.Errorf("%s: %v, want no error", name, err)
		case sc.ExpectClientError != "" && (err == nil || !strings.Contains(err.Error(), sc.ExpectClientError)):
			t.Errorf("%s: %v, want %q", name, err, sc.ExpectClientError)
		}
		if c != nil {
			c.Close()
		}
	}
}

func TestLoadExternal(t *testing.T) {
	t.Run("ECDSA root, PKCS #8 key", func(t *testing.T) {
		k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		root := extCA(t, "Example Root", k.Public(), nil, k, nil)
		certFile, keyFile := writeExternal(t, pkcs8(t, k), root)
		dir := filepath.Join(t.TempDir(), "data")
		ca, err := LoadExternal(certFile, keyFile, dir)
		if err != nil {
			t.Fatalf("LoadExternal: %v", err)
		}
		if ca.Root != ca.Intermediate || !ca.Root.Equal(root) || ca.Dir() != dir {
			t.Error("a root CA is not both Root and Intermediate")
		}
		exerciseCA(t, ca, 0)
		for _, f := range []string{RootKeyFile, IntermediateKeyFile, RootCertFile} {
			if _, err := os.Stat(filepath.Join(dir, f)); err == nil {
				t.Errorf("%s written for an external CA", f)
			}
		}
		// A restart keeps the revocation.
		revoked := ca.Revocations()
		ca2, err := LoadExternal(certFile, keyFile, dir)
		if err != nil {
			t.Fatal(err)
		}
		if len(revoked) != 1 || !ca2.IsRevoked(revoked[0].Serial) {
			t.Error("revocation lost after LoadExternal again")
		}
	})
	t.Run("RSA root, PKCS #1 key", func(t *testing.T) {
		root := extCA(t, "Example RSA Root", testRSA2048.Public(), nil, testRSA2048, nil)
		keyPEM := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(testRSA2048)})
		certFile, keyFile := writeExternal(t, keyPEM, root)
		ca, err := LoadExternal(certFile, keyFile, t.TempDir())
		if err != nil {
			t.Fatalf("LoadExternal: %v", err)
		}
		exerciseCA(t, ca, 0)
	})
	t.Run("Ed25519 root", func(t *testing.T) {
		_, k, _ := ed25519.GenerateKey(rand.Reader)
		root := extCA(t, "Example Ed25519 Root", k.Public(), nil, k, nil)
		certFile, keyFile := writeExternal(t, pkcs8(t, k), root)
		ca, err := LoadExternal(certFile, keyFile, t.TempDir())
		if err != nil {
			t.Fatalf("LoadExternal: %v", err)
		}
		exerciseCA(t, ca, 0)
	})
	t.Run("intermediate with root, SEC 1 key after EC PARAMETERS", func(t *testing.T) {
		rk, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
		root := extCA(t, "Example Root", rk.Public(), nil, rk, nil)
		ik, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		inter := extCA(t, "Example Issuing CA", ik.Public(), root, rk, nil)
		sec1, _ := x509.MarshalECPrivateKey(ik)
		keyPEM := append([]byte("-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\n"),
			pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: sec1})...)
		certFile, keyFile := writeExternal(t, keyPEM, inter, root)
		ca, err := LoadExternal(certFile, keyFile, t.TempDir())
		if err != nil {
			t.Fatalf("LoadExternal: %v", err)
		}
		if !ca.Root.Equal(root) || !ca.Intermediate.Equal(inter) {
			t.Error("Root or Intermediate wrong")
		}
		exerciseCA(t, ca, 1)
	})
	t.Run("no cRLSign: loads, CRL explains", func(t *testing.T) {
		k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		root := extCA(t, "No CRL Root", k.Public(), nil, k, func(c *x509.Certificate) { c.KeyUsage = x509.KeyUsageCertSign })
		certFile, keyFile := writeExternal(t, pkcs8(t, k), root)
		ca, err := LoadExternal(certFile, keyFile, t.TempDir())
		if err != nil {
			t.Fatalf("LoadExternal: %v", err)
		}
		c, _ := ca.Issue(Leaf{CommonName: "d"})
		if err := ca.Revoke(c.Leaf, 0); err != nil || !ca.IsRevoked(c.Leaf.SerialNumber) {
			t.Errorf("Revoke: %v", err)
		}
		if _, err := ca.CRL(); err == nil || !strings.Contains(err.Error(), `pki: CA "No CRL Root" has no cRLSign key usage, so it cannot sign a CRL: reissue it with keyUsage keyCertSign, cRLSign`) {
			t.Errorf("CRL: %v", err)
		}
	})
}

func TestLoadExternalErrors(t *testing.T) {
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	k2, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	root := extCA(t, "Example Root", k.Public(), nil, k, nil)
	inter := extCA(t, "Example Issuing CA", k2.Public(), root, k, nil)
	leafOnly := extCA(t, "server.example", k2.Public(), root, k, func(c *x509.Certificate) {
		c.IsCA, c.KeyUsage, c.ExtKeyUsage = false, x509.KeyUsageDigitalSignature, []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
	})
	noCertSign := extCA(t, "Signing Forbidden", k.Public(), nil, k, func(c *x509.Certificate) { c.KeyUsage = x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature })
	expired := extCA(t, "Old Root", k.Public(), nil, k, func(c *x509.Certificate) {
		c.NotBefore, c.NotAfter = time.Now().Add(-48*time.Hour), time.Now().Add(-24*time.Hour)
	})
	x, _ := ecdh.X25519().GenerateKey(rand.Reader)
	xDER, _ := x509.MarshalPKCS8PrivateKey(x)
	encrypted := pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Headers: map[string]string{"Proc-Type": "4,ENCRYPTED", "DEK-Info": "AES-128-CBC,00"}, Bytes: []byte{1}})

	tests := []struct {
		name  string
		files func(t *testing.T) (string, string)
		want  string
	}{
		{"certificate file missing", func(t *testing.T) (string, string) {
			_, kf := writeExternal(t, pkcs8(t, k), root)
			return filepath.Join(t.TempDir(), "nope.pem"), kf
		}, "pki: read the external CA certificate: open "},
		{"key file missing", func(t *testing.T) (string, string) {
			cf, _ := writeExternal(t, pkcs8(t, k), root)
			return cf, filepath.Join(t.TempDir(), "nope.key")
		}, "pki: read the external CA key: open "},
		{"certificate file not PEM", func(t *testing.T) (string, string) {
			cf, kf := writeExternal(t, pkcs8(t, k), root)
			os.WriteFile(cf, root.Raw, 0o644)
			return cf, kf
		}, "pki: ext-ca.pem holds no PEM certificate: give the CA certificate"},
		{"certificate corrupt", func(t *testing.T) (string, string) {
			cf, kf := writeExternal(t, pkcs8(t, k), root)
			os.WriteFile(cf, pemOf("CERTIFICATE", root.Raw[:100]), 0o644)
			return cf, kf
		}, "pki: ext-ca.pem: certificate 1 does not parse"},
		{"key not PEM", func(t *testing.T) (string, string) { return writeExternal(t, []byte("secret"), root) }, "pki: ext-ca.key holds no PEM private key"},
		{"key encrypted", func(t *testing.T) (string, string) { return writeExternal(t, encrypted, root) }, "pki: ext-ca.key is encrypted: decrypt it first"},
		{"key corrupt", func(t *testing.T) (string, string) { return writeExternal(t, pemOf("PRIVATE KEY", []byte{1, 2}), root) }, `pki: ext-ca.key: the PRIVATE KEY block does not parse`},
		{"key of another certificate", func(t *testing.T) (string, string) { return writeExternal(t, pkcs8(t, k2), root) }, "pki: ext-ca.key does not match the certificate in ext-ca.pem: give the key of that CA certificate"},
		{"not a CA", func(t *testing.T) (string, string) { return writeExternal(t, pkcs8(t, k2), leafOnly, root) }, `pki: ext-ca.pem is not a CA certificate ("server.example" has no basic constraints CA:TRUE)`},
		{"CA without keyCertSign", func(t *testing.T) (string, string) { return writeExternal(t, pkcs8(t, k), noCertSign) }, `pki: ext-ca.pem: CA "Signing Forbidden" may not sign certificates (its key usage lacks keyCertSign)`},
		{"expired CA", func(t *testing.T) (string, string) { return writeExternal(t, pkcs8(t, k), expired) }, `pki: ext-ca.pem: CA "Old Root" expired on `},
		{"intermediate without its root", func(t *testing.T) (string, string) { return writeExternal(t, pkcs8(t, k2), inter) }, `pki: ext-ca.pem holds intermediate CA "Example Issuing CA" but not the root it chains to: append`},
		{"chain out of order", func(t *testing.T) (string, string) { return writeExternal(t, pkcs8(t, k2), inter, inter, root) }, `pki: ext-ca.pem: certificate 1 ("Example Issuing CA") is not signed by certificate 2 ("Example Issuing CA"): put the CAs in order`},
		{"key that cannot sign", func(t *testing.T) (string, string) { return writeExternal(t, pemOf("PRIVATE KEY", xDER), root) }, "pki: ext-ca.key: a key of type *ecdh.PrivateKey cannot sign certificates"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cf, kf := tt.files(t)
			ca, err := LoadExternal(cf, kf, filepath.Join(t.TempDir(), "data"))
			if err == nil {
				t.Fatalf("LoadExternal succeeded (%v), want an error containing %q", ca.Intermediate.Subject, tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q\ndoes not contain %q", err, tt.want)
			}
		})
	}
	t.Run("data folder unusable", func(t *testing.T) {
		cf, kf := writeExternal(t, pkcs8(t, k), root)
		_, err := LoadExternal(cf, kf, filepath.Join(cf, "data"))
		if err == nil || !strings.Contains(err.Error(), "pki: create data folder") {
			t.Errorf("%v", err)
		}
	})
}
