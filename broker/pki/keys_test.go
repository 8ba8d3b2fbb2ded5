package pki

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"strings"
	"testing"
)

func TestIssueKeyTypes(t *testing.T) {
	ca := newCA(t)
	tests := []struct {
		keyType string
		weak    bool
		check   func(crypto.PublicKey) bool
		want    string // error; "" for success
	}{
		{"", false, isECDSA(elliptic.P256()), ""},
		{KeyECDSAP256, false, isECDSA(elliptic.P256()), ""},
		{KeyRSA2048, false, isRSA(2048), ""},
		{KeyRSA3072, false, isRSA(3072), ""},
		{KeyEd25519, false, func(k crypto.PublicKey) bool { _, ok := k.(ed25519.PublicKey); return ok }, ""},
		{KeyRSA1024, true, isRSA(1024), ""},
		{KeyRSA1024, false, nil, "pki: key type rsa-1024 is too weak for real use: it is only for the weak-key lesson (set Leaf.Weak)"},
		{"rsa-4096", false, nil, `pki: unknown key type "rsa-4096": use one of ecdsa-p256, rsa-2048, rsa-3072, rsa-1024, ed25519`},
		{"ECDSA-P256", false, nil, "pki: unknown key type"},
	}
	for _, tt := range tests {
		t.Run(tt.keyType+map[bool]string{true: ",weak"}[tt.weak], func(t *testing.T) {
			cert, err := ca.Issue(Leaf{CommonName: "k", Names: []string{"localhost"}, Server: true, KeyType: tt.keyType, Weak: tt.weak})
			if tt.want != "" {
				if err == nil || !strings.Contains(err.Error(), tt.want) {
					t.Errorf("Issue: %v, want an error containing %q", err, tt.want)
				}
				return
			}
			if err != nil {
				t.Fatalf("Issue: %v", err)
			}
			if !tt.check(cert.Leaf.PublicKey) {
				t.Errorf("key %T, not %q", cert.Leaf.PublicKey, tt.keyType)
			}
			if !publicKeysEqual(cert.PrivateKey.(crypto.Signer).Public(), cert.Leaf.PublicKey) {
				t.Error("PrivateKey does not match")
			}
			_, isRSA := cert.Leaf.PublicKey.(*rsa.PublicKey)
			if got := cert.Leaf.KeyUsage&x509.KeyUsageKeyEncipherment != 0; got != isRSA {
				t.Errorf("keyEncipherment %v for %T", got, cert.Leaf.PublicKey)
			}
			// It serves TLS 1.3 and 1.2 to a Go client.
			for _, v := range []uint16{tls.VersionTLS13, tls.VersionTLS12} {
				srv := serveTLS(t, &tls.Config{Certificates: []tls.Certificate{cert}, MaxVersion: v})
				c, err := dialTLS(srv.addr, &tls.Config{RootCAs: ca.Pool(), ServerName: "localhost"})
				if err != nil {
					t.Errorf("%s handshake: %v", tls.VersionName(v), err)
					continue
				}
				if err := echo(c, "x"); err != nil {
					t.Errorf("%s: %v", tls.VersionName(v), err)
				}
				c.Close()
			}
		})
	}
	t.Run("given weak RSA key", func(t *testing.T) {
		_, err := ca.Issue(Leaf{CommonName: "k", Key: testRSA1024.Public()})
		if err == nil || !strings.Contains(err.Error(), "pki: RSA key of 1024 bits is too weak: use at least 2048 bits") {
			t.Errorf("without Weak: %v", err)
		}
		if _, err := ca.Issue(Leaf{CommonName: "k", Key: testRSA1024.Public(), Weak: true}); err != nil {
			t.Errorf("with Weak: %v", err)
		}
	})
	t.Run("given unusable key", func(t *testing.T) {
		_, err := ca.Issue(Leaf{CommonName: "k", Key: "not a key"})
		if err == nil || !strings.Contains(err.Error(), "pki: cannot certify a key of type string") {
			t.Errorf("%v", err)
		}
	})
	t.Run("KeyType ignored with Key", func(t *testing.T) {
		c, err := ca.Issue(Leaf{CommonName: "k", Key: testP256.Public(), KeyType: KeyRSA2048})
		if err != nil || !publicKeysEqual(c.Leaf.PublicKey, testP256.Public()) {
			t.Errorf("%v", err)
		}
	})
}

func isECDSA(c elliptic.Curve) func(crypto.PublicKey) bool {
	return func(k crypto.PublicKey) bool { e, ok := k.(*ecdsa.PublicKey); return ok && e.Curve == c }
}

func isRSA(bits int) func(crypto.PublicKey) bool {
	return func(k crypto.PublicKey) bool { r, ok := k.(*rsa.PublicKey); return ok && r.N.BitLen() == bits }
}
