package pki

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"os"
	"testing"
)

// TestNewMemory runs what the static build asks of its CA on one made by
// NewMemory, in an empty working folder that must stay empty: nothing is
// written anywhere, and what a CA in a folder keeps in files (the broker
// certificate, the lesson CAs, the revocations and the CRL number) is kept
// in memory instead.
func TestNewMemory(t *testing.T) {
	t.Chdir(t.TempDir())
	ca, err := NewMemory()
	if err != nil {
		t.Fatalf("NewMemory: %v", err)
	}
	if ca.Dir() != "" {
		t.Errorf("Dir() = %q, want \"\"", ca.Dir())
	}
	if err := ca.Intermediate.CheckSignatureFrom(ca.Root); err != nil {
		t.Fatalf("intermediate not signed by the root: %v", err)
	}
	names := []string{"localhost", "127.0.0.1"}
	var server, client *x509.Certificate
	steps := []struct {
		name string
		run  func(t *testing.T)
	}{
		{"server certificate issued, then kept", func(t *testing.T) {
			c1, issued1, err := ca.ServerCertificate(names)
			if err != nil || !issued1 {
				t.Fatalf("first ServerCertificate: issued %v, err %v; want issued", issued1, err)
			}
			c2, issued2, err := ca.ServerCertificate(names)
			if err != nil || issued2 || !c2.Leaf.Equal(c1.Leaf) {
				t.Fatalf("second ServerCertificate: issued %v, same %v, err %v; want the kept one", issued2, c2.Leaf.Equal(c1.Leaf), err)
			}
			if err := verify(ca, c1, x509.ExtKeyUsageServerAuth, "localhost"); err != nil {
				t.Fatalf("server certificate does not verify: %v", err)
			}
			server = c1.Leaf
		}},
		{"rotate swaps the kept certificate", func(t *testing.T) {
			r := NewRotator(mustServer(t, ca, names))
			leaf, err := ca.Rotate(r, names)
			if err != nil {
				t.Fatalf("Rotate: %v", err)
			}
			c, issued, err := ca.ServerCertificate(names)
			if err != nil || issued || !c.Leaf.Equal(leaf) || leaf.Equal(server) {
				t.Fatalf("after Rotate, ServerCertificate: issued %v, err %v; want the rotated one, not the first", issued, err)
			}
		}},
		{"every scenario, lesson CAs kept", func(t *testing.T) {
			for _, n := range ScenarioNames {
				if _, err := ca.Scenario(n, names); err != nil {
					t.Errorf("Scenario(%s): %v", n, err)
				}
			}
			imp1, _, err := ca.impostorCA()
			if err != nil {
				t.Fatal(err)
			}
			imp2, _, err := ca.impostorCA()
			if err != nil || !imp1.Equal(imp2) {
				t.Fatalf("impostor CA made again (err %v): it must be kept in memory", err)
			}
		}},
		{"sign a CSR", func(t *testing.T) {
			key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
			if err != nil {
				t.Fatal(err)
			}
			_, leaf, err := ca.SignCSR(makeCSR(t, key, csrReq{subject: pkix.Name{CommonName: "device-1"}}), CSROptions{})
			if err != nil {
				t.Fatalf("SignCSR: %v", err)
			}
			client = leaf
		}},
		{"revoke, refused from then on, CRL numbers grow", func(t *testing.T) {
			crl1, err := ca.CRL()
			if err != nil {
				t.Fatal(err)
			}
			if err := ca.Revoke(client, ReasonKeyCompromise); err != nil {
				t.Fatalf("Revoke: %v", err)
			}
			if !ca.IsRevoked(client.SerialNumber) || ca.VerifyClient([][]byte{client.Raw}, nil) == nil {
				t.Fatal("revoked certificate still accepted")
			}
			crl2, err := ca.CRL()
			if err != nil {
				t.Fatal(err)
			}
			l1, err1 := x509.ParseRevocationList(crl1)
			l2, err2 := x509.ParseRevocationList(crl2)
			if err1 != nil || err2 != nil {
				t.Fatalf("CRLs do not parse: %v, %v", err1, err2)
			}
			if l2.Number.Cmp(l1.Number) <= 0 || len(l2.RevokedCertificateEntries) != 1 {
				t.Errorf("CRL after Revoke: number %v (before %v), %d entries; want a higher number and 1 entry", l2.Number, l1.Number, len(l2.RevokedCertificateEntries))
			}
		}},
	}
	for _, s := range steps {
		t.Run(s.name, s.run)
	}
	if files, err := os.ReadDir("."); err != nil || len(files) != 0 {
		t.Errorf("the working folder holds %d files (err %v): a memory CA must write nothing", len(files), err)
	}
	other, err := NewMemory()
	if err != nil {
		t.Fatal(err)
	}
	if other.Root.Equal(ca.Root) || other.IsRevoked(client.SerialNumber) {
		t.Error("two memory CAs share their root or revocations")
	}
}

// mustServer returns the CA's broker certificate for names.
func mustServer(t *testing.T, ca *CA, names []string) tls.Certificate {
	t.Helper()
	c, _, err := ca.ServerCertificate(names)
	if err != nil {
		t.Fatalf("ServerCertificate: %v", err)
	}
	return c
}
