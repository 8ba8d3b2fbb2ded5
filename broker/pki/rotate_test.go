package pki

import (
	"crypto/tls"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// TestRotator: a client connected before a rotation keeps exchanging bytes
// on the same connection; a client connecting after sees the new serial.
func TestRotator(t *testing.T) {
	ca := newCA(t)
	names := []string{"localhost", "127.0.0.1"}
	first, _, err := ca.ServerCertificate(names)
	if err != nil {
		t.Fatal(err)
	}
	r := NewRotator(first)
	srv := serveTLS(t, &tls.Config{GetCertificate: r.GetCertificate})
	client := &tls.Config{RootCAs: ca.Pool(), ServerName: "localhost"}

	old, err := dialTLS(srv.addr, client)
	if err != nil {
		t.Fatal(err)
	}
	defer old.Close()
	if err := echo(old, "before"); err != nil {
		t.Fatal(err)
	}
	oldSerial := old.ConnectionState().PeerCertificates[0].SerialNumber
	if oldSerial.Cmp(first.Leaf.SerialNumber) != 0 {
		t.Fatal("first client did not get the first certificate")
	}

	leaf, err := ca.Rotate(r, names)
	if err != nil {
		t.Fatalf("Rotate: %v", err)
	}
	if leaf.SerialNumber.Cmp(oldSerial) == 0 {
		t.Fatal("Rotate kept the serial")
	}
	if cur := r.Current(); cur == nil || !cur.Leaf.Equal(leaf) {
		t.Error("Current() is not the new certificate")
	}
	// Stored: ServerCertificate (the next start) loads the rotated one.
	again, issued, err := ca.ServerCertificate(names)
	if err != nil || issued || !again.Leaf.Equal(leaf) {
		t.Errorf("after Rotate, ServerCertificate: issued %v, err %v, same %v", issued, err, err == nil && again.Leaf.Equal(leaf))
	}
	if fi, err := os.Stat(filepath.Join(ca.Dir(), ServerKeyFile)); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("%s: %v %v", ServerKeyFile, err, fi)
	}

	// The connection made before still works, with its certificate.
	if err := echo(old, "after rotation, same connection"); err != nil {
		t.Errorf("old connection after rotation: %v", err)
	}
	if s := old.ConnectionState().PeerCertificates[0].SerialNumber; s.Cmp(oldSerial) != 0 {
		t.Error("old connection's certificate changed")
	}
	// A new client gets the new certificate.
	fresh, err := dialTLS(srv.addr, client)
	if err != nil {
		t.Fatal(err)
	}
	defer fresh.Close()
	if err := echo(fresh, "new"); err != nil {
		t.Fatal(err)
	}
	if s := fresh.ConnectionState().PeerCertificates[0].SerialNumber; s.Cmp(leaf.SerialNumber) != 0 {
		t.Errorf("new client got serial %X, want the rotated %X", s, leaf.SerialNumber)
	}
}

func TestRotatorErrors(t *testing.T) {
	ca := newCA(t)
	var zero Rotator
	if c, err := zero.GetCertificate(nil); c != nil || err == nil || !strings.Contains(err.Error(), "pki: the broker has no server certificate yet") {
		t.Errorf("zero Rotator: %v, %v", c, err)
	}
	if zero.Current() != nil {
		t.Error("zero Rotator has a certificate")
	}
	if _, err := ca.Rotate(nil, []string{"localhost"}); err == nil || !strings.Contains(err.Error(), "pki: Rotate needs a Rotator") {
		t.Errorf("nil Rotator: %v", err)
	}
	if _, err := ca.Rotate(&zero, nil); err == nil || !strings.Contains(err.Error(), "needs the names") {
		t.Errorf("no names: %v", err)
	}
	// Storing fails: the old certificate stays.
	first, err := ca.Rotate(&zero, []string{"localhost"})
	if err != nil {
		t.Fatal(err)
	}
	dir := ca.dir
	ca.dir = filepath.Join(t.TempDir(), "missing")
	if _, err := ca.Rotate(&zero, []string{"localhost"}); err == nil {
		t.Error("Rotate into a missing folder succeeded")
	}
	ca.dir = dir
	if !zero.Current().Leaf.Equal(first) {
		t.Error("a failed Rotate swapped the certificate")
	}
	// Concurrent rotations and handshakes.
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			if _, err := ca.Rotate(&zero, []string{"localhost"}); err != nil {
				t.Error(err)
			}
		})
		wg.Go(func() {
			if c, err := zero.GetCertificate(nil); c == nil || err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	stored, _, err := ca.ServerCertificate([]string{"localhost"})
	if err != nil || !stored.Leaf.Equal(zero.Current().Leaf) {
		t.Errorf("after concurrent rotations the stored and current certificates differ (%v)", err)
	}
}
