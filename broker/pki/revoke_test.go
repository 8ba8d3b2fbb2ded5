package pki

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// clientCert makes a client certificate through SignCSR, as a device gets one.
func clientCert(t *testing.T, ca *CA, name string) tls.Certificate {
	t.Helper()
	chainPEM, _, err := ca.SignCSR(makeCSR(t, testP256, cn(name)), CSROptions{})
	if err != nil {
		t.Fatal(err)
	}
	keyPEM, err := KeyPEM(testP256)
	if err != nil {
		t.Fatal(err)
	}
	c, err := tls.X509KeyPair(chainPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestRevoke(t *testing.T) {
	ca := newCA(t)
	a, b := clientCert(t, ca, "device-a"), clientCert(t, ca, "device-b")
	if ca.IsRevoked(a.Leaf.SerialNumber) || ca.IsRevoked(nil) {
		t.Fatal("revoked before Revoke")
	}
	crl0, err := ca.CRL()
	if err != nil {
		t.Fatalf("CRL with nothing revoked: %v", err)
	}
	before := time.Now().Truncate(time.Second)
	if err := ca.Revoke(a.Leaf, ReasonKeyCompromise); err != nil {
		t.Fatalf("Revoke: %v", err)
	}
	if !ca.IsRevoked(a.Leaf.SerialNumber) || ca.IsRevoked(b.Leaf.SerialNumber) {
		t.Fatal("IsRevoked: wrong after Revoke")
	}
	if !ca.IsRevoked(new(big.Int).Set(a.Leaf.SerialNumber)) {
		t.Error("IsRevoked depends on the big.Int's identity")
	}
	if err := ca.Revoke(a.Leaf, ReasonSuperseded); err != nil {
		t.Errorf("revoking again: %v", err)
	}
	revs := ca.Revocations()
	if len(revs) != 1 || revs[0].Reason != ReasonKeyCompromise || revs[0].Subject != "device-a" || revs[0].RevokedAt.Before(before) {
		t.Errorf("Revocations() = %+v", revs)
	}

	checkCRL := func(t *testing.T, ca *CA, der []byte, serials ...*big.Int) *x509.RevocationList {
		t.Helper()
		crl, err := x509.ParseRevocationList(der)
		if err != nil {
			t.Fatalf("ParseRevocationList: %v", err)
		}
		if err := crl.CheckSignatureFrom(ca.Intermediate); err != nil {
			t.Errorf("CRL not signed by the intermediate: %v", err)
		}
		if d := crl.NextUpdate.Sub(crl.ThisUpdate); d != 24*time.Hour {
			t.Errorf("NextUpdate - ThisUpdate = %v, want a day", d)
		}
		if len(crl.RevokedCertificateEntries) != len(serials) {
			t.Fatalf("%d entries, want %d", len(crl.RevokedCertificateEntries), len(serials))
		}
		// Entries are ordered by revocation time, which a CRL keeps to the
		// second: revocations within one second may come in either order.
		for _, s := range serials {
			found := false
			for _, e := range crl.RevokedCertificateEntries {
				found = found || e.SerialNumber.Cmp(s) == 0
			}
			if !found {
				t.Errorf("CRL lacks serial %X", s)
			}
		}
		return crl
	}
	crl1der, err := ca.CRL()
	if err != nil {
		t.Fatal(err)
	}
	crl0p := checkCRL(t, ca, crl0)
	crl1 := checkCRL(t, ca, crl1der, a.Leaf.SerialNumber)
	if crl1.RevokedCertificateEntries[0].ReasonCode != ReasonKeyCompromise {
		t.Errorf("reason %d, want keyCompromise", crl1.RevokedCertificateEntries[0].ReasonCode)
	}
	if crl1.Number.Cmp(crl0p.Number) <= 0 {
		t.Errorf("CRL number %v after %v", crl1.Number, crl0p.Number)
	}
	if again, _ := ca.CRL(); string(again) != string(crl1der) {
		t.Error("CRL rebuilt without a revocation")
	}
	// Half a day later it is rebuilt, with a higher number.
	ca.now = func() time.Time { return time.Now().Add(13 * time.Hour) }
	later, err := ca.CRL()
	if err != nil {
		t.Fatal(err)
	}
	ca.now = time.Now
	if l := checkCRL(t, ca, later, a.Leaf.SerialNumber); l.Number.Cmp(crl1.Number) <= 0 || !l.ThisUpdate.After(crl1.ThisUpdate) {
		t.Errorf("CRL after 13h: number %v (was %v), ThisUpdate %v", l.Number, crl1.Number, l.ThisUpdate)
	}

	// revoked.json: 0644, and read again by LoadOrCreate.
	fi, err := os.Stat(filepath.Join(ca.Dir(), RevokedFile))
	if err != nil || fi.Mode().Perm() != 0o644 {
		t.Errorf("%s: %v %v", RevokedFile, err, fi)
	}
	ca2, _, err := LoadOrCreate(ca.Dir())
	if err != nil {
		t.Fatal(err)
	}
	if !ca2.IsRevoked(a.Leaf.SerialNumber) || ca2.IsRevoked(b.Leaf.SerialNumber) {
		t.Error("revocation lost on reload")
	}
	if err := ca2.Revoke(b.Leaf, ReasonCessationOfOperation); err != nil {
		t.Fatal(err)
	}
	crl2der, err := ca2.CRL()
	if err != nil {
		t.Fatal(err)
	}
	if crl2 := checkCRL(t, ca2, crl2der, a.Leaf.SerialNumber, b.Leaf.SerialNumber); crl2.Number.Cmp(crl1.Number) <= 0 {
		t.Errorf("CRL number after a restart %v, not above %v", crl2.Number, crl1.Number)
	}
}

func TestRevokeRefuses(t *testing.T) {
	ca := newCA(t)
	other := newCA(t)
	foreign := clientCert(t, other, "stranger")
	mine := clientCert(t, ca, "device-1")
	tests := []struct {
		name   string
		cert   *x509.Certificate
		reason int
		want   string
	}{
		{"foreign certificate", foreign.Leaf, 0, `pki: certificate "stranger" (serial ` + strings.ToUpper(foreign.Leaf.SerialNumber.Text(16)) + `) was not issued by "MQTTS Playground Intermediate CA": only certificates this CA issued can be revoked`},
		{"the intermediate", ca.Intermediate, 0, `pki: "MQTTS Playground Intermediate CA" is a CA certificate`},
		{"the root", ca.Root, 0, "is a CA certificate"},
		{"nil", nil, 0, "pki: no certificate to revoke"},
		{"reason 7", mine.Leaf, 7, "pki: 7 is not a revocation reason"},
		{"reason removeFromCRL", mine.Leaf, ReasonRemoveFromCRL, "pki: 8 is not a revocation reason"},
		{"reason -1", mine.Leaf, -1, "is not a revocation reason"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := ca.Revoke(tt.cert, tt.reason)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Revoke: %v, want an error containing %q", err, tt.want)
			}
		})
	}
	if len(ca.Revocations()) != 0 {
		t.Error("a refused revocation was recorded")
	}
	if _, err := os.Stat(filepath.Join(ca.Dir(), RevokedFile)); err == nil {
		t.Errorf("%s written without a revocation", RevokedFile)
	}
}

func TestRevokedFileDamaged(t *testing.T) {
	for _, tt := range []struct{ name, content, want string }{
		{"not JSON", "{", "revoked.json does not parse"},
		{"bad serial", `{"revoked":[{"serial":"xyz"}]}`, `entry 1 has serial "xyz", not a positive hexadecimal number`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ca := newCA(t)
			os.WriteFile(filepath.Join(ca.Dir(), RevokedFile), []byte(tt.content), 0o644)
			_, _, err := LoadOrCreate(ca.Dir())
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("LoadOrCreate: %v, want an error containing %q", err, tt.want)
			}
		})
	}
	t.Run("file is valid JSON", func(t *testing.T) {
		ca := newCA(t)
		c := clientCert(t, ca, "device-1")
		ca.Revoke(c.Leaf, ReasonKeyCompromise)
		b, _ := os.ReadFile(filepath.Join(ca.Dir(), RevokedFile))
		var f revocationFile
		if err := json.Unmarshal(b, &f); err != nil || len(f.Revoked) != 1 || f.Revoked[0].Serial != c.Leaf.SerialNumber.Text(16) {
			t.Errorf("%s = %s (%v)", RevokedFile, b, err)
		}
	})
}

// TestVerifyClient runs real mutual-TLS handshakes against a listener
// using VerifyClient: a good certificate gets in, a revoked one is refused
// from the next handshake on, without a restart.
func TestVerifyClient(t *testing.T) {
	ca := newCA(t)
	server, _, err := ca.ServerCertificate([]string{"localhost"})
	if err != nil {
		t.Fatal(err)
	}
	srv := serveTLS(t, &tls.Config{
		Certificates:          []tls.Certificate{server},
		ClientAuth:            tls.RequireAndVerifyClientCert,
		ClientCAs:             ca.Pool(),
		VerifyPeerCertificate: ca.VerifyClient,
	})
	good, bad := clientCert(t, ca, "device-good"), clientCert(t, ca, "device-bad")
	connect := func(c tls.Certificate) (conn *tls.Conn, clientErr, serverErr error) {
		conn, err := dialTLS(srv.addr, &tls.Config{RootCAs: ca.Pool(), ServerName: "localhost", Certificates: []tls.Certificate{c}})
		if err == nil {
			// TLS 1.3: the server checks the client's certificate after the
			// client finished; its verdict arrives with the first read.
			err = echo(conn, "hello")
		}
		select {
		case serverErr = <-srv.handshakes:
		case <-time.After(10 * time.Second):
			t.Fatal("no server handshake")
		}
		return conn, err, serverErr
	}
	early, cErr, sErr := connect(bad)
	if cErr != nil || sErr != nil {
		t.Fatalf("before revocation: client %v, server %v", cErr, sErr)
	}
	defer early.Close()
	if err := ca.Revoke(bad.Leaf, ReasonKeyCompromise); err != nil {
		t.Fatal(err)
	}
	r := ca.Revocations()[0]
	_, cErr, sErr = connect(bad)
	want := "pki: certificate serial " + strings.ToUpper(bad.Leaf.SerialNumber.Text(16)) + " was revoked at " + r.RevokedAt.UTC().Format(time.RFC3339)
	if sErr == nil || !strings.Contains(sErr.Error(), want) {
		t.Errorf("server handshake with a revoked certificate: %v, want %q", sErr, want)
	}
	t.Logf("server: %v", sErr)
	t.Logf("client: %v", cErr)
	if cErr == nil || !strings.Contains(cErr.Error(), "bad certificate") {
		t.Errorf("client with a revoked certificate: %v, want a bad certificate alert", cErr)
	}
	if c, cErr, sErr := connect(good); cErr != nil || sErr != nil {
		t.Errorf("good certificate: client %v, server %v", cErr, sErr)
	} else {
		c.Close()
	}
	// The connection made before the revocation is not cut.
	if err := echo(early, "still here"); err != nil {
		t.Errorf("connection made before the revocation: %v", err)
	}

	// Direct calls.
	if err := ca.VerifyClient(nil, nil); err != nil {
		t.Errorf("no certificate: %v", err)
	}
	if err := ca.VerifyClient([][]byte{bad.Leaf.Raw}, nil); err == nil {
		t.Error("raw revoked certificate accepted")
	}
	if err := ca.VerifyClient([][]byte{{1, 2, 3}}, nil); err == nil || !strings.Contains(err.Error(), "pki: the client certificate does not parse") {
		t.Errorf("garbage certificate: %v", err)
	}
}

func TestRevokeConcurrent(t *testing.T) {
	ca := newCA(t)
	var certs []*x509.Certificate
	for range 8 {
		c, err := ca.Issue(Leaf{CommonName: "c"})
		if err != nil {
			t.Fatal(err)
		}
		certs = append(certs, c.Leaf)
	}
	var wg sync.WaitGroup
	for _, c := range certs {
		wg.Go(func() {
			if err := ca.Revoke(c, ReasonUnspecified); err != nil {
				t.Error(err)
			}
		})
		wg.Go(func() {
			ca.IsRevoked(c.SerialNumber)
			if _, err := ca.CRL(); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	der, err := ca.CRL()
	if err != nil {
		t.Fatal(err)
	}
	crl, err := x509.ParseRevocationList(der)
	if err != nil || len(crl.RevokedCertificateEntries) != len(certs) {
		t.Fatalf("CRL with %d entries (%v), want %d", len(crl.RevokedCertificateEntries), err, len(certs))
	}
	ca2, _, err := LoadOrCreate(ca.Dir())
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range certs {
		if !ca2.IsRevoked(c.SerialNumber) {
			t.Errorf("serial %X lost", c.SerialNumber)
		}
	}
}
