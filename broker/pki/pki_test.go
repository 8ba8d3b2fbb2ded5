package pki

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// newCA makes a fresh CA in a folder LoadOrCreate has to create itself.
func newCA(t *testing.T) *CA {
	t.Helper()
	ca, created, err := LoadOrCreate(filepath.Join(t.TempDir(), "ca"))
	if err != nil {
		t.Fatalf("LoadOrCreate: %v", err)
	}
	if !created {
		t.Fatal("LoadOrCreate on an empty folder: created = false, want true")
	}
	return ca
}

// verify checks cert's chain against the CA's pool for usage (and name,
// when not empty).
func verify(ca *CA, cert tls.Certificate, usage x509.ExtKeyUsage, name string) error {
	leaf, err := x509.ParseCertificate(cert.Certificate[0])
	if err != nil {
		return err
	}
	inter := x509.NewCertPool()
	for _, der := range cert.Certificate[1:] {
		c, err := x509.ParseCertificate(der)
		if err != nil {
			return err
		}
		inter.AddCert(c)
	}
	_, err = leaf.Verify(x509.VerifyOptions{Roots: ca.Pool(), Intermediates: inter, DNSName: name, KeyUsages: []x509.ExtKeyUsage{usage}})
	return err
}

func TestLoadOrCreateCreatesThenReuses(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data", "ca")
	ca1, created, err := LoadOrCreate(dir)
	if err != nil {
		t.Fatalf("first LoadOrCreate: %v", err)
	}
	if !created {
		t.Error("first LoadOrCreate: created = false, want true")
	}
	if ca1.Dir() != dir {
		t.Errorf("Dir() = %q, want %q", ca1.Dir(), dir)
	}
	for _, f := range []string{RootCertFile, RootKeyFile, IntermediateCertFile, IntermediateKeyFile} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("after creation: %v", err)
		}
	}
	if !ca1.Root.IsCA || !ca1.Intermediate.IsCA {
		t.Errorf("IsCA: root %v, intermediate %v; want both true", ca1.Root.IsCA, ca1.Intermediate.IsCA)
	}
	if err := ca1.Root.CheckSignatureFrom(ca1.Root); err != nil {
		t.Errorf("root is not self-signed: %v", err)
	}
	if err := ca1.Intermediate.CheckSignatureFrom(ca1.Root); err != nil {
		t.Errorf("intermediate is not signed by the root: %v", err)
	}
	if _, err := ca1.Intermediate.Verify(x509.VerifyOptions{Roots: ca1.Pool(), KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}); err != nil {
		t.Errorf("intermediate does not verify against Pool(): %v", err)
	}
	if got := ca1.RootPEM(); string(got) != string(CertPEM(ca1.Root)) {
		t.Error("RootPEM differs from CertPEM(Root)")
	}
	onDisk, err := os.ReadFile(filepath.Join(dir, RootCertFile))
	if err != nil || string(onDisk) != string(ca1.RootPEM()) {
		t.Errorf("%s on disk differs from RootPEM (err %v)", RootCertFile, err)
	}

	ca2, created, err := LoadOrCreate(dir)
	if err != nil {
		t.Fatalf("second LoadOrCreate: %v", err)
	}
	if created {
		t.Error("second LoadOrCreate: created = true, want false")
	}
	if ca2.Root.SerialNumber.Cmp(ca1.Root.SerialNumber) != 0 {
		t.Errorf("root serial changed: %v then %v", ca1.Root.SerialNumber, ca2.Root.SerialNumber)
	}
	if ca2.Intermediate.SerialNumber.Cmp(ca1.Intermediate.SerialNumber) != 0 {
		t.Errorf("intermediate serial changed: %v then %v", ca1.Intermediate.SerialNumber, ca2.Intermediate.SerialNumber)
	}
	// The reloaded keys still sign: a leaf from ca2 verifies against ca1's pool.
	cert, err := ca2.Issue(Leaf{CommonName: "reloaded", Names: []string{"localhost"}, Server: true})
	if err != nil {
		t.Fatalf("Issue after reload: %v", err)
	}
	if err := verify(ca1, cert, x509.ExtKeyUsageServerAuth, "localhost"); err != nil {
		t.Errorf("leaf of the reloaded CA does not verify against the first pool: %v", err)
	}
}

func TestFileModes(t *testing.T) {
	ca := newCA(t)
	if _, _, err := ca.ServerCertificate([]string{"localhost"}); err != nil {
		t.Fatalf("ServerCertificate: %v", err)
	}
	tests := []struct {
		name string
		want fs.FileMode
		dir  bool
	}{
		{"", 0o700, true},
		{RootKeyFile, 0o600, false},
		{IntermediateKeyFile, 0o600, false},
		{ServerKeyFile, 0o600, false},
		{RootCertFile, 0o644, false},
		{IntermediateCertFile, 0o644, false},
		{ServerCertFile, 0o644, false},
	}
	for _, tt := range tests {
		t.Run("file="+tt.name, func(t *testing.T) {
			fi, err := os.Stat(filepath.Join(ca.Dir(), tt.name))
			if err != nil {
				t.Fatal(err)
			}
			if fi.IsDir() != tt.dir {
				t.Errorf("IsDir = %v, want %v", fi.IsDir(), tt.dir)
			}
			if got := fi.Mode().Perm(); got != tt.want {
				t.Errorf("mode = %#o, want %#o", got, tt.want)
			}
		})
	}
	// No temporary files are left behind by the atomic writes.
	entries, err := os.ReadDir(ca.Dir())
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") {
			t.Errorf("left-over temporary file %s", e.Name())
		}
	}
}

func TestServerCertificate(t *testing.T) {
	ca := newCA(t)
	first, issued, err := ca.ServerCertificate([]string{"localhost", "127.0.0.1"})
	if err != nil {
		t.Fatalf("first ServerCertificate: %v", err)
	}
	if !issued {
		t.Error("first ServerCertificate: issued = false, want true")
	}
	if first.PrivateKey == nil || first.Leaf == nil || len(first.Certificate) != 2 {
		t.Fatalf("certificate incomplete: key %v, leaf %v, chain of %d", first.PrivateKey != nil, first.Leaf != nil, len(first.Certificate))
	}
	serial := first.Leaf.SerialNumber

	tests := []struct {
		name       string
		names      []string
		wantIssued bool
	}{
		{"same names", []string{"localhost", "127.0.0.1"}, false},
		{"subset", []string{"127.0.0.1"}, false},
		{"no names", nil, false},
		{"new DNS name", []string{"localhost", "broker.example"}, true},
		// the re-issued certificate covers only the names asked last time
		{"old name dropped by re-issue", []string{"127.0.0.1"}, true},
		{"new IP", []string{"127.0.0.1", "::1"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cert, issued, err := ca.ServerCertificate(tt.names)
			if err != nil {
				t.Fatalf("ServerCertificate(%v): %v", tt.names, err)
			}
			if issued != tt.wantIssued {
				t.Errorf("issued = %v, want %v", issued, tt.wantIssued)
			}
			if sameSerial := cert.Leaf.SerialNumber.Cmp(serial) == 0; sameSerial == issued {
				t.Errorf("issued = %v but serial %v (previous %v)", issued, cert.Leaf.SerialNumber, serial)
			}
			serial = cert.Leaf.SerialNumber
			for _, n := range tt.names {
				if err := verify(ca, cert, x509.ExtKeyUsageServerAuth, n); err != nil {
					t.Errorf("certificate does not verify for %q: %v", n, err)
				}
			}
			// What is on disk is what was returned, and it works with crypto/tls.
			disk, err := tls.LoadX509KeyPair(filepath.Join(ca.Dir(), ServerCertFile), filepath.Join(ca.Dir(), ServerKeyFile))
			if err != nil {
				t.Fatalf("stored pair: %v", err)
			}
			if string(disk.Certificate[0]) != string(cert.Certificate[0]) {
				t.Error("stored certificate differs from the returned one")
			}
		})
	}

	// Another process (a new CA value) reuses the stored certificate.
	again, _, err := LoadOrCreate(ca.Dir())
	if err != nil {
		t.Fatal(err)
	}
	cert, issued, err := again.ServerCertificate([]string{"::1"})
	if err != nil {
		t.Fatal(err)
	}
	if issued || cert.Leaf.SerialNumber.Cmp(serial) != 0 {
		t.Errorf("after reload: issued = %v, serial %v; want reuse of %v", issued, cert.Leaf.SerialNumber, serial)
	}
}

func TestServerCertificateRenewal(t *testing.T) {
	tests := []struct {
		name  string
		alter func(t *testing.T, ca *CA) *CA
	}{
		{"close to expiry", func(t *testing.T, ca *CA) *CA {
			ca.now = func() time.Time { return time.Now().Add(leafValidity - renewBefore + time.Hour) }
			return ca
		}},
		{"new intermediate", func(t *testing.T, ca *CA) *CA {
			for _, f := range []string{IntermediateCertFile, IntermediateKeyFile} {
				if err := os.Remove(filepath.Join(ca.Dir(), f)); err != nil {
					t.Fatal(err)
				}
			}
			ca2, created, err := LoadOrCreate(ca.Dir())
			if err != nil {
				t.Fatal(err)
			}
			if created {
				t.Error("replacing only the intermediate: created = true, want false")
			}
			if ca2.Root.SerialNumber.Cmp(ca.Root.SerialNumber) != 0 {
				t.Error("replacing the intermediate changed the root")
			}
			if ca2.Intermediate.SerialNumber.Cmp(ca.Intermediate.SerialNumber) == 0 {
				t.Error("intermediate not replaced")
			}
			return ca2
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ca := newCA(t)
			first, _, err := ca.ServerCertificate([]string{"localhost"})
			if err != nil {
				t.Fatal(err)
			}
			ca = tt.alter(t, ca)
			cert, issued, err := ca.ServerCertificate([]string{"localhost"})
			if err != nil {
				t.Fatal(err)
			}
			if !issued || cert.Leaf.SerialNumber.Cmp(first.Leaf.SerialNumber) == 0 {
				t.Errorf("issued = %v, serial unchanged = %v; want a new certificate", issued, cert.Leaf.SerialNumber.Cmp(first.Leaf.SerialNumber) == 0)
			}
			if err := cert.Leaf.CheckSignatureFrom(ca.Intermediate); err != nil {
				t.Errorf("new certificate not signed by the current intermediate: %v", err)
			}
		})
	}
}

func TestIntermediateRenewedBeforeExpiry(t *testing.T) {
	ca := newCA(t)
	// Replace the intermediate by one that expires in 10 days.
	key, err := newKey()
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		Subject:   pkix.Name{CommonName: "short-lived intermediate"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(10 * 24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign,
		BasicConstraintsValid: true, IsCA: true, MaxPathLenZero: true,
	}
	short, err := sign(tmpl, ca.Root, key.Public(), ca.rootKey)
	if err != nil {
		t.Fatal(err)
	}
	if err := ca.writePair(IntermediateCertFile, IntermediateKeyFile, []*x509.Certificate{short}, key); err != nil {
		t.Fatal(err)
	}
	ca2, created, err := LoadOrCreate(ca.Dir())
	if err != nil {
		t.Fatal(err)
	}
	if created {
		t.Error("created = true, want false")
	}
	if ca2.Intermediate.SerialNumber.Cmp(short.SerialNumber) == 0 {
		t.Fatal("an intermediate 10 days from expiry was kept")
	}
	if !ca2.Intermediate.NotAfter.After(time.Now().Add(renewBefore)) {
		t.Errorf("renewed intermediate expires %v, too soon", ca2.Intermediate.NotAfter)
	}
	// and the renewal was stored
	ca3, _, err := LoadOrCreate(ca.Dir())
	if err != nil {
		t.Fatal(err)
	}
	if ca3.Intermediate.SerialNumber.Cmp(ca2.Intermediate.SerialNumber) != 0 {
		t.Error("renewed intermediate not stored")
	}
}

func TestIssue(t *testing.T) {
	ca := newCA(t)
	tests := []struct {
		name     string
		leaf     Leaf
		usage    x509.ExtKeyUsage // must verify
		notUsage x509.ExtKeyUsage // must not verify
		host     string
	}{
		{"server DNS", Leaf{CommonName: "srv", Names: []string{"localhost", "127.0.0.1", "::1"}, Server: true}, x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth, "localhost"},
		{"server IPv4", Leaf{CommonName: "srv", Names: []string{"localhost", "127.0.0.1", "::1"}, Server: true}, x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth, "127.0.0.1"},
		{"server IPv6", Leaf{CommonName: "srv", Names: []string{"localhost", "127.0.0.1", "::1"}, Server: true}, x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth, "::1"},
		{"client", Leaf{CommonName: "device-1"}, x509.ExtKeyUsageClientAuth, x509.ExtKeyUsageServerAuth, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cert, err := ca.Issue(tt.leaf)
			if err != nil {
				t.Fatalf("Issue: %v", err)
			}
			if cert.Leaf.Subject.CommonName != tt.leaf.CommonName {
				t.Errorf("CN = %q, want %q", cert.Leaf.Subject.CommonName, tt.leaf.CommonName)
			}
			if _, ok := cert.PrivateKey.(*ecdsa.PrivateKey); !ok {
				t.Fatalf("PrivateKey is %T, want a new *ecdsa.PrivateKey", cert.PrivateKey)
			}
			if !publicKeysEqual(cert.PrivateKey.(crypto.Signer).Public(), cert.Leaf.PublicKey) {
				t.Error("PrivateKey does not belong to the certificate")
			}
			if string(cert.Certificate[1]) != string(ca.Intermediate.Raw) || len(cert.Certificate) != 2 {
				t.Errorf("chain is not leaf + intermediate (%d certificates)", len(cert.Certificate))
			}
			if err := verify(ca, cert, tt.usage, tt.host); err != nil {
				t.Errorf("does not verify for its usage: %v", err)
			}
			if err := verify(ca, cert, tt.notUsage, tt.host); err == nil {
				t.Error("verifies for the other usage too")
			}
			if cert.Leaf.NotAfter.After(ca.Intermediate.NotAfter) {
				t.Errorf("leaf outlives its intermediate: %v > %v", cert.Leaf.NotAfter, ca.Intermediate.NotAfter)
			}
			if cert.Leaf.IsCA {
				t.Error("leaf is a CA")
			}
			// The pair works with crypto/tls as PEM, as clients load it.
			keyPEM, err := KeyPEM(cert.PrivateKey.(crypto.Signer))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := tls.X509KeyPair(CertPEM(cert.Leaf, ca.Intermediate), keyPEM); err != nil {
				t.Errorf("X509KeyPair(CertPEM, KeyPEM): %v", err)
			}
		})
	}
	t.Run("wrong host", func(t *testing.T) {
		cert, err := ca.Issue(Leaf{CommonName: "srv", Names: []string{"localhost"}, Server: true})
		if err != nil {
			t.Fatal(err)
		}
		var he x509.HostnameError
		if err := verify(ca, cert, x509.ExtKeyUsageServerAuth, "example.com"); !errors.As(err, &he) {
			t.Errorf("verify for example.com: %v, want a HostnameError", err)
		}
	})
	t.Run("validity override", func(t *testing.T) {
		nb, na := time.Now().Add(-48*time.Hour).Truncate(time.Second), time.Now().Add(-24*time.Hour).Truncate(time.Second)
		cert, err := ca.Issue(Leaf{CommonName: "expired", Server: true, Names: []string{"localhost"}, NotBefore: nb, NotAfter: na})
		if err != nil {
			t.Fatal(err)
		}
		if !cert.Leaf.NotBefore.Equal(nb) || !cert.Leaf.NotAfter.Equal(na) {
			t.Errorf("validity %v to %v, want %v to %v", cert.Leaf.NotBefore, cert.Leaf.NotAfter, nb, na)
		}
		var ci x509.CertificateInvalidError
		if err := verify(ca, cert, x509.ExtKeyUsageServerAuth, "localhost"); !errors.As(err, &ci) || ci.Reason != x509.Expired {
			t.Errorf("verify of an expired leaf: %v, want Expired", err)
		}
	})
}

func TestIssueExternalKey(t *testing.T) {
	ca := newCA(t)
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	_, edKey, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	// A certificate request, as a device would send it.
	csrDER, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: "device-csr"}}, ecKey)
	if err != nil {
		t.Fatal(err)
	}
	csr, err := x509.ParseCertificateRequest(csrDER)
	if err != nil {
		t.Fatal(err)
	}
	if err := csr.CheckSignature(); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name        string
		key         crypto.Signer
		pub         crypto.PublicKey
		server      bool
		keyEncipher bool
		usage       x509.ExtKeyUsage
	}{
		{"ECDSA from CSR, client", ecKey, csr.PublicKey, false, false, x509.ExtKeyUsageClientAuth},
		{"RSA, server", rsaKey, rsaKey.Public(), true, true, x509.ExtKeyUsageServerAuth},
		{"Ed25519, client", edKey, edKey.Public(), false, false, x509.ExtKeyUsageClientAuth},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cert, err := ca.Issue(Leaf{CommonName: "external", Names: []string{"localhost"}, Server: tt.server, Key: tt.pub})
			if err != nil {
				t.Fatalf("Issue: %v", err)
			}
			if cert.PrivateKey != nil {
				t.Errorf("PrivateKey = %T, want nil for an external key", cert.PrivateKey)
			}
			if !publicKeysEqual(tt.key.Public(), cert.Leaf.PublicKey) {
				t.Error("certificate is not for the given public key")
			}
			if got := cert.Leaf.KeyUsage&x509.KeyUsageKeyEncipherment != 0; got != tt.keyEncipher {
				t.Errorf("keyEncipherment = %v, want %v", got, tt.keyEncipher)
			}
			if cert.Leaf.KeyUsage&x509.KeyUsageDigitalSignature == 0 {
				t.Error("digitalSignature missing")
			}
			if err := verify(ca, cert, tt.usage, ""); err != nil {
				t.Errorf("verify: %v", err)
			}
			// The owner of the key can use the certificate.
			cert.PrivateKey = tt.key
			keyPEM, err := KeyPEM(tt.key)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := tls.X509KeyPair(CertPEM(cert.Leaf, ca.Intermediate), keyPEM); err != nil {
				t.Errorf("X509KeyPair with the owner's key: %v", err)
			}
		})
	}
}

// writePEM writes PEM blocks of typ holding each der to dir/name.
func writePEM(t *testing.T, dir, name, typ string, ders ...[]byte) {
	t.Helper()
	var out []byte
	for _, d := range ders {
		out = append(out, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: d})...)
	}
	if err := os.WriteFile(filepath.Join(dir, name), out, 0o600); err != nil {
		t.Fatal(err)
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestLoadOrCreateBadFiles(t *testing.T) {
	otherKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	otherKeyDER, err := x509.MarshalPKCS8PrivateKey(otherKey)
	if err != nil {
		t.Fatal(err)
	}
	ecDER, err := x509.MarshalECPrivateKey(otherKey)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		corrupt func(t *testing.T, dir string)
		want    []string // all must be in the error
	}{
		{"root key of another certificate", func(t *testing.T, dir string) {
			writePEM(t, dir, RootKeyFile, "PRIVATE KEY", otherKeyDER)
		}, []string{RootKeyFile + " does not match the certificate in " + RootCertFile}},
		{"intermediate key of another certificate", func(t *testing.T, dir string) {
			writePEM(t, dir, IntermediateKeyFile, "PRIVATE KEY", otherKeyDER)
		}, []string{IntermediateKeyFile + " does not match the certificate in " + IntermediateCertFile}},
		{"root certificate not PEM", func(t *testing.T, dir string) {
			os.WriteFile(filepath.Join(dir, RootCertFile), []byte("not a certificate\n"), 0o644)
		}, []string{RootCertFile + " holds no certificate"}},
		{"root certificate PEM of a key", func(t *testing.T, dir string) {
			writePEM(t, dir, RootCertFile, "PRIVATE KEY", otherKeyDER)
		}, []string{RootCertFile + " holds no certificate"}},
		{"root certificate corrupt DER", func(t *testing.T, dir string) {
			writePEM(t, dir, RootCertFile, "CERTIFICATE", []byte{0x30, 0x03, 0x02, 0x01})
		}, []string{"pki: " + RootCertFile + ": certificate 1 does not parse (x509: "}},
		{"root key not PEM", func(t *testing.T, dir string) {
			os.WriteFile(filepath.Join(dir, RootKeyFile), []byte("garbage"), 0o600)
		}, []string{RootKeyFile + " holds no PEM key"}},
		{"root key corrupt DER", func(t *testing.T, dir string) {
			writePEM(t, dir, RootKeyFile, "PRIVATE KEY", []byte{1, 2, 3})
		}, []string{"pki: " + RootKeyFile + ": not a PKCS #8 private key"}},
		{"root key in SEC 1 form", func(t *testing.T, dir string) {
			writePEM(t, dir, RootKeyFile, "EC PRIVATE KEY", ecDER)
		}, []string{"pki: " + RootKeyFile + ": not a PKCS #8 private key"}},
		{"intermediate certificate not PEM", func(t *testing.T, dir string) {
			os.WriteFile(filepath.Join(dir, IntermediateCertFile), []byte("-----BEGIN CERT"), 0o644)
		}, []string{IntermediateCertFile + " holds no certificate"}},
		{"intermediate of another root", func(t *testing.T, dir string) {
			other := newCA(t)
			copyFile(t, filepath.Join(other.Dir(), IntermediateCertFile), filepath.Join(dir, IntermediateCertFile))
			copyFile(t, filepath.Join(other.Dir(), IntermediateKeyFile), filepath.Join(dir, IntermediateKeyFile))
		}, []string{"pki: " + IntermediateCertFile + " is not signed by " + RootCertFile}},
		{"root key missing", func(t *testing.T, dir string) {
			os.Remove(filepath.Join(dir, RootKeyFile))
		}, []string{RootCertFile + " exists but " + RootKeyFile + " does not"}},
		{"root certificate missing", func(t *testing.T, dir string) {
			os.Remove(filepath.Join(dir, RootCertFile))
		}, []string{RootKeyFile + " exists but " + RootCertFile + " does not"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ca := newCA(t)
			before := map[string][]byte{}
			for _, f := range []string{RootCertFile, RootKeyFile} {
				before[f], _ = os.ReadFile(filepath.Join(ca.Dir(), f))
			}
			tt.corrupt(t, ca.Dir())
			for f := range before { // what the test left in place
				if b, err := os.ReadFile(filepath.Join(ca.Dir(), f)); err == nil {
					before[f] = b
				} else {
					delete(before, f)
				}
			}
			got, created, err := LoadOrCreate(ca.Dir())
			if err == nil {
				t.Fatalf("LoadOrCreate succeeded (created=%v, root %v), want an error", created, got.Root.Subject)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
			// A broken CA is reported, never silently replaced.
			for f, b := range before {
				now, _ := os.ReadFile(filepath.Join(ca.Dir(), f))
				if string(now) != string(b) {
					t.Errorf("%s was overwritten", f)
				}
			}
		})
	}
}

func TestServerCertificateBadFiles(t *testing.T) {
	tests := []struct {
		name    string
		corrupt func(t *testing.T, ca *CA)
		want    string
	}{
		{"key of another certificate", func(t *testing.T, ca *CA) {
			copyFile(t, filepath.Join(ca.Dir(), IntermediateKeyFile), filepath.Join(ca.Dir(), ServerKeyFile))
		}, ServerKeyFile + " does not match the certificate in " + ServerCertFile},
		{"certificate not PEM", func(t *testing.T, ca *CA) {
			os.WriteFile(filepath.Join(ca.Dir(), ServerCertFile), []byte("oops"), 0o644)
		}, ServerCertFile + " holds no certificate"},
		{"key not PEM", func(t *testing.T, ca *CA) {
			os.WriteFile(filepath.Join(ca.Dir(), ServerKeyFile), nil, 0o600)
		}, ServerKeyFile + " holds no PEM key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ca := newCA(t)
			if _, _, err := ca.ServerCertificate([]string{"localhost"}); err != nil {
				t.Fatal(err)
			}
			tt.corrupt(t, ca)
			_, _, err := ca.ServerCertificate([]string{"localhost"})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("ServerCertificate: %v, want an error containing %q", err, tt.want)
			}
		})
	}
	t.Run("missing files are issued", func(t *testing.T) {
		ca := newCA(t)
		_, issued, err := ca.ServerCertificate([]string{"localhost"})
		if err != nil || !issued {
			t.Fatalf("issued = %v, err = %v", issued, err)
		}
		os.Remove(filepath.Join(ca.Dir(), ServerKeyFile))
		_, issued, err = ca.ServerCertificate([]string{"localhost"})
		if err != nil || !issued {
			t.Errorf("without %s: issued = %v, err = %v; want a new certificate", ServerKeyFile, issued, err)
		}
	})
}

func TestLoadOrCreateUnusableFolder(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	_, _, err := LoadOrCreate(filepath.Join(file, "ca"))
	if err == nil || !strings.Contains(err.Error(), "pki: create data folder") {
		t.Errorf("LoadOrCreate under a file: %v, want a create data folder error", err)
	}
}

func TestHostNames(t *testing.T) {
	tests := []struct {
		extra []string
		want  []string
	}{
		{nil, []string{"localhost", "127.0.0.1", "::1"}},
		{[]string{"broker.lan", "", "localhost", "broker.lan", "10.0.0.2"}, []string{"localhost", "127.0.0.1", "::1", "broker.lan", "10.0.0.2"}},
	}
	host, _ := os.Hostname()
	for _, tt := range tests {
		got := HostNames(tt.extra...)
		for _, w := range append(tt.want, host) {
			if w != "" && !slices.Contains(got, w) {
				t.Errorf("HostNames(%q) = %q, missing %q", tt.extra, got, w)
			}
		}
		seen := map[string]bool{}
		for _, n := range got {
			if n == "" || seen[n] {
				t.Errorf("HostNames(%q) = %q: empty or repeated %q", tt.extra, got, n)
			}
			seen[n] = true
		}
	}
}
