package pki

import (
	"bytes"
	"crypto"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ocsp"
)

// pool makes a pool of certs.
func pool(certs ...*x509.Certificate) *x509.CertPool {
	p := x509.NewCertPool()
	for _, c := range certs {
		p.AddCert(c)
	}
	return p
}

var lessonNames = []string{"localhost", "127.0.0.1", "::1"}

// TestScenarios serves each scenario on loopback and connects with a Go
// client that trusts the playground root, dialing "localhost": the client
// gets exactly ExpectClientError (or no error when it is "").
func TestScenarios(t *testing.T) {
	ca := newCA(t)
	if len(ScenarioNames) != 12 {
		t.Fatalf("ScenarioNames has %d names, want the 12 of the contract", len(ScenarioNames))
	}
	now := time.Now()
	tests := []struct {
		name string
		// check looks at what the scenario serves: chain[0] is the leaf.
		check func(t *testing.T, chain []*x509.Certificate)
		// also: another ServerName and the error it gets.
		alsoName, alsoErr string
	}{
		{ScenarioExpired, func(t *testing.T, c []*x509.Certificate) {
			if !c[0].NotAfter.Before(now) || !c[0].NotBefore.Before(c[0].NotAfter) {
				t.Errorf("window %v to %v is not in the past", c[0].NotBefore, c[0].NotAfter)
			}
		}, "", ""},
		{ScenarioNotYetValid, func(t *testing.T, c []*x509.Certificate) {
			if d := c[0].NotBefore.Sub(now); d < 23*time.Hour || d > 25*time.Hour {
				t.Errorf("NotBefore %v is not tomorrow", c[0].NotBefore)
			}
		}, "", ""},
		{ScenarioWrongHost, func(t *testing.T, c []*x509.Certificate) {
			if !slices.Equal(c[0].DNSNames, []string{"wrong-host.invalid"}) || len(c[0].IPAddresses) != 0 {
				t.Errorf("names %q %v, want only wrong-host.invalid", c[0].DNSNames, c[0].IPAddresses)
			}
		}, "127.0.0.1", "x509: cannot validate certificate for 127.0.0.1 because it doesn't contain any IP SANs"},
		{ScenarioIPMismatch, func(t *testing.T, c []*x509.Certificate) {
			if len(c[0].DNSNames) != 0 || len(c[0].IPAddresses) != 1 || !c[0].IPAddresses[0].Equal(net.ParseIP("192.0.2.1")) {
				t.Errorf("names %q %v, want only IP 192.0.2.1", c[0].DNSNames, c[0].IPAddresses)
			}
		}, "127.0.0.1", "x509: certificate is valid for 192.0.2.1, not 127.0.0.1"},
		{ScenarioSelfSigned, func(t *testing.T, c []*x509.Certificate) {
			if len(c) != 1 || c[0].IsCA || !bytes.Equal(c[0].RawIssuer, c[0].RawSubject) ||
				c[0].CheckSignature(c[0].SignatureAlgorithm, c[0].RawTBSCertificate, c[0].Signature) != nil {
				t.Error("not a lone self-signed leaf")
			}
			if c[0].VerifyHostname("localhost") != nil || c[0].VerifyHostname("127.0.0.1") != nil {
				t.Error("not for the broker's names")
			}
		}, "", ""},
		{ScenarioUnknownCA, func(t *testing.T, c []*x509.Certificate) {
			if len(c) != 2 || c[1].Subject.CommonName != "MQTTS Playground Impostor CA" || c[0].CheckSignatureFrom(c[1]) != nil {
				t.Error("not a leaf signed by the impostor CA, followed by it")
			}
		}, "", ""},
		{ScenarioMissingIntermediate, func(t *testing.T, c []*x509.Certificate) {
			if len(c) != 1 {
				t.Fatalf("%d certificates sent, want the leaf alone", len(c))
			}
			// With the intermediate the leaf is fine.
			inter := x509.NewCertPool()
			inter.AddCert(ca.Intermediate)
			if _, err := c[0].Verify(x509.VerifyOptions{Roots: ca.Pool(), Intermediates: inter, DNSName: "localhost"}); err != nil {
				t.Errorf("leaf with its intermediate: %v", err)
			}
		}, "", ""},
		{ScenarioWeakKey, func(t *testing.T, c []*x509.Certificate) {
			k, ok := c[0].PublicKey.(*rsa.PublicKey)
			if !ok || k.N.BitLen() != 1024 {
				t.Errorf("key %T, want RSA-1024", c[0].PublicKey)
			}
		}, "", ""},
		{ScenarioSHA1Signature, func(t *testing.T, c []*x509.Certificate) {
			if len(c) != 2 || c[0].SignatureAlgorithm != x509.SHA1WithRSA {
				t.Fatalf("%d certificates, leaf signed with %v; want leaf (SHA1-RSA) and legacy CA", len(c), c[0].SignatureAlgorithm)
			}
			var ia x509.InsecureAlgorithmError
			if err := c[0].CheckSignatureFrom(c[1]); !errors.As(err, &ia) {
				t.Errorf("CheckSignatureFrom: %v, want InsecureAlgorithmError", err)
			}
			// The SHA-1 signature itself is genuine.
			h := sha1.Sum(c[0].RawTBSCertificate)
			if err := rsa.VerifyPKCS1v15(c[1].PublicKey.(*rsa.PublicKey), crypto.SHA1, h[:], c[0].Signature); err != nil {
				t.Errorf("SHA-1 signature does not verify: %v", err)
			}
			if err := c[1].CheckSignatureFrom(ca.Root); err != nil {
				t.Errorf("legacy CA not under the root: %v", err)
			}
		}, "", ""},
		{ScenarioTLS12Only, nil, "", ""},
		{ScenarioCNOnly, func(t *testing.T, c []*x509.Certificate) {
			if c[0].Subject.CommonName != "localhost" || len(c[0].DNSNames)+len(c[0].IPAddresses) != 0 {
				t.Errorf("CN %q, SANs %q %v; want CN=localhost and no SAN", c[0].Subject.CommonName, c[0].DNSNames, c[0].IPAddresses)
			}
		}, "", ""},
		{ScenarioRevoked, func(t *testing.T, c []*x509.Certificate) {
			sc, _ := ca.Scenario(ScenarioRevoked, lessonNames)
			r, err := ocsp.ParseResponseForCert(sc.Chain.OCSPStaple, c[0], ca.Intermediate)
			if err != nil || r.Status != ocsp.Revoked || r.RevocationReason != ocsp.KeyCompromise {
				t.Errorf("staple: %+v, %v; want a revoked status signed by the intermediate", r, err)
			}
			if _, err := c[0].Verify(x509.VerifyOptions{Roots: ca.Pool(), Intermediates: pool(c[1:]...), DNSName: "localhost"}); err != nil {
				t.Errorf("the certificate itself should verify: %v", err)
			}
		}, "", ""},
	}
	var covered []string
	for _, tt := range tests {
		covered = append(covered, tt.name)
		t.Run(tt.name, func(t *testing.T) {
			sc, err := ca.Scenario(tt.name, lessonNames)
			if err != nil {
				t.Fatalf("Scenario: %v", err)
			}
			if sc.Name != tt.name || sc.About == "" {
				t.Errorf("Name %q, About %q", sc.Name, sc.About)
			}
			wantMax := uint16(0)
			if tt.name == ScenarioTLS12Only {
				wantMax = tls.VersionTLS12
			}
			if sc.MaxVersion != wantMax {
				t.Errorf("MaxVersion %x, want %x", sc.MaxVersion, wantMax)
			}
			chain := make([]*x509.Certificate, len(sc.Chain.Certificate))
			for i, der := range sc.Chain.Certificate {
				if chain[i], err = x509.ParseCertificate(der); err != nil {
					t.Fatal(err)
				}
			}
			if !publicKeysEqual(sc.Chain.PrivateKey.(crypto.Signer).Public(), chain[0].PublicKey) {
				t.Fatal("private key does not match the leaf")
			}
			if tt.check != nil {
				tt.check(t, chain)
			}

			srv := serveTLS(t, &tls.Config{Certificates: []tls.Certificate{sc.Chain}, MaxVersion: sc.MaxVersion})
			handshake := func(serverName string, min uint16) (*tls.Conn, error) {
				c, err := dialTLS(srv.addr, &tls.Config{RootCAs: ca.Pool(), ServerName: serverName, MinVersion: min})
				if err == nil {
					t.Cleanup(func() { c.Close() })
				}
				return c, err
			}
			c, err := handshake("localhost", 0)
			t.Logf("client error: %v", err)
			if sc.ExpectClientError == "" {
				if err != nil {
					t.Fatalf("handshake: %v, want no error", err)
				}
				if err := echo(c, "ping"); err != nil {
					t.Errorf("after the handshake: %v", err)
				}
			} else if err == nil || !strings.Contains(err.Error(), sc.ExpectClientError) {
				t.Errorf("handshake: %v, want an error containing %q", err, sc.ExpectClientError)
			}
			if tt.alsoName != "" {
				_, err := handshake(tt.alsoName, 0)
				if err == nil || !strings.Contains(err.Error(), tt.alsoErr) {
					t.Errorf("handshake for %s: %v, want an error containing %q", tt.alsoName, err, tt.alsoErr)
				}
			}
			switch tt.name {
			case ScenarioTLS12Only:
				if v := c.ConnectionState().Version; v != tls.VersionTLS12 {
					t.Errorf("negotiated %s, want TLS 1.2", tls.VersionName(v))
				}
				_, err := handshake("localhost", tls.VersionTLS13)
				t.Logf("client with MinVersion TLS 1.3: %v", err)
				if err == nil || !strings.Contains(err.Error(), "protocol version") {
					t.Errorf("client requiring TLS 1.3: %v, want a protocol version error", err)
				}
			case ScenarioWeakKey:
				k := c.ConnectionState().PeerCertificates[0].PublicKey.(*rsa.PublicKey)
				if k.N.BitLen() != 1024 {
					t.Errorf("client saw a %d-bit key", k.N.BitLen())
				}
			}
		})
	}
	if !slices.Equal(covered, ScenarioNames) {
		t.Errorf("tested %q, ScenarioNames is %q", covered, ScenarioNames)
	}
}

// TestScenarioLessonCAsPersist: the impostor and legacy CAs are stored in
// the data folder and reused after a restart; the leaves are remade.
func TestScenarioLessonCAsPersist(t *testing.T) {
	ca := newCA(t)
	caOf := func(ca *CA, name string) *x509.Certificate {
		t.Helper()
		sc, err := ca.Scenario(name, lessonNames)
		if err != nil {
			t.Fatal(err)
		}
		c, err := x509.ParseCertificate(sc.Chain.Certificate[1])
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	imp1, leg1 := caOf(ca, ScenarioUnknownCA), caOf(ca, ScenarioSHA1Signature)
	for _, f := range []string{ImpostorCertFile, LegacyCertFile} {
		if fi, err := os.Stat(filepath.Join(ca.Dir(), f)); err != nil || fi.Mode().Perm() != 0o644 {
			t.Errorf("%s: %v, %v", f, err, fi)
		}
	}
	for _, f := range []string{ImpostorKeyFile, LegacyKeyFile} {
		if fi, err := os.Stat(filepath.Join(ca.Dir(), f)); err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: %v, %v", f, err, fi)
		}
	}
	ca2, created, err := LoadOrCreate(ca.Dir())
	if err != nil || created {
		t.Fatalf("reload: created %v, %v", created, err)
	}
	imp2, leg2 := caOf(ca2, ScenarioUnknownCA), caOf(ca2, ScenarioSHA1Signature)
	if !imp1.Equal(imp2) || !leg1.Equal(leg2) {
		t.Error("lesson CAs changed after a restart")
	}
	if _, ok := leg2.PublicKey.(*rsa.PublicKey); !ok {
		t.Errorf("legacy CA key %T, want RSA", leg2.PublicKey)
	}

	// A lesson CA made for another root is replaced, not used.
	other := newCA(t)
	copyFile(t, filepath.Join(other.Dir(), IntermediateCertFile), filepath.Join(ca.Dir(), LegacyCertFile))
	copyFile(t, filepath.Join(other.Dir(), IntermediateKeyFile), filepath.Join(ca.Dir(), LegacyKeyFile))
	ca3, _, err := LoadOrCreate(ca.Dir())
	if err != nil {
		t.Fatal(err)
	}
	leg3 := caOf(ca3, ScenarioSHA1Signature)
	if leg3.CheckSignatureFrom(ca3.Root) != nil || leg3.Equal(leg1) {
		t.Error("legacy CA of another root was not replaced")
	}
	// A damaged one is reported.
	os.WriteFile(filepath.Join(ca.Dir(), ImpostorKeyFile), []byte("junk"), 0o600)
	ca4, _, err := LoadOrCreate(ca.Dir())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ca4.Scenario(ScenarioUnknownCA, lessonNames); err == nil || !strings.Contains(err.Error(), "remove "+ImpostorCertFile+" and "+ImpostorKeyFile) {
		t.Errorf("damaged impostor key: %v", err)
	}
}

func TestScenarioCacheAndErrors(t *testing.T) {
	ca := newCA(t)
	a, err := ca.Scenario(ScenarioExpired, lessonNames)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := ca.Scenario(ScenarioExpired, lessonNames)
	if !a.Chain.Leaf.Equal(b.Chain.Leaf) {
		t.Error("the same scenario was made twice")
	}
	c, _ := ca.Scenario(ScenarioExpired, []string{"localhost"})
	if a.Chain.Leaf.Equal(c.Chain.Leaf) {
		t.Error("other names gave the same certificate")
	}
	// After the cache period, not-yet-valid is remade, still in the future.
	n1, _ := ca.Scenario(ScenarioNotYetValid, lessonNames)
	later := time.Now().Add(20 * time.Hour)
	ca.now = func() time.Time { return later }
	n2, err := ca.Scenario(ScenarioNotYetValid, lessonNames)
	if err != nil {
		t.Fatal(err)
	}
	if n1.Chain.Leaf.Equal(n2.Chain.Leaf) || !n2.Chain.Leaf.NotBefore.After(later) {
		t.Errorf("not-yet-valid not remade: NotBefore %v at %v", n2.Chain.Leaf.NotBefore, later)
	}
	ca.now = time.Now

	for _, tt := range []struct {
		name  string
		names []string
		want  string
	}{
		{"expird", lessonNames, `pki: unknown scenario "expird": use one of expired, not-yet-valid,`},
		{"", lessonNames, "pki: unknown scenario"},
		{ScenarioExpired, nil, `pki: scenario "expired" needs the names`},
	} {
		if _, err := ca.Scenario(tt.name, tt.names); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Scenario(%q, %q): %v, want %q", tt.name, tt.names, err, tt.want)
		}
	}
}

// TestScenarioInfo checks that ScenarioInfo is Scenario without the
// certificate, for every scenario, and refuses an unknown name.
func TestScenarioInfo(t *testing.T) {
	ca := newCA(t)
	for _, name := range ScenarioNames {
		info, err := ScenarioInfo(name)
		if err != nil {
			t.Fatalf("ScenarioInfo(%s): %v", name, err)
		}
		full, err := ca.Scenario(name, []string{"localhost"})
		if err != nil {
			t.Fatalf("Scenario(%s): %v", name, err)
		}
		full.Chain = tls.Certificate{}
		if !reflect.DeepEqual(info, full) {
			t.Errorf("ScenarioInfo(%s) = %+v, want %+v", name, info, full)
		}
	}
	if _, err := ScenarioInfo("no-such"); err == nil || !strings.Contains(err.Error(), "unknown scenario") {
		t.Errorf("ScenarioInfo(no-such): err %v, want unknown scenario", err)
	}
}
