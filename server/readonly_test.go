package main

import (
	"crypto/ecdsa"
	"encoding/pem"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mqtts-playground/playground/broker/pki"
)

// readOnlyEnv names the data folder the child run of
// TestReadOnlyDataFolder works on.
const readOnlyEnv = "PLAYGROUND_TEST_READONLY_DATA"

// Issue 9 #12: with a data folder the server cannot write, the actions
// that write to it answer 503 and say why (not 500 or 400 with "permission
// denied"), and the server says so at start.
//
// Root writes anywhere, so as root the test runs itself again as the user
// nobody, for whom the folder is read-only.
func TestReadOnlyDataFolder(t *testing.T) {
	if dir := os.Getenv(readOnlyEnv); dir != "" {
		readOnlyChecks(t, dir)
		return
	}
	data := filepath.Join(t.TempDir(), "data")
	cfg := testConfig(t)
	cfg.Data = data
	app := startApp(t, cfg, false) // the CA, the broker and lesson certificates, all written
	app.Close()
	if os.Geteuid() != 0 {
		if err := os.Chmod(data, 0o500); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.Chmod(data, 0o700) })
		readOnlyChecks(t, data)
		return
	}
	const nobody = 65534
	// The child reads the folder but may not write it, and runs a copy of
	// this test binary from a folder it may enter.
	bin := filepath.Join(t.TempDir(), "server.test")
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	copyFile(t, self, bin, 0o755)
	for _, d := range []string{filepath.Dir(bin), filepath.Dir(data), filepath.Dir(filepath.Dir(data))} {
		os.Chmod(d, 0o755)
	}
	filepath.Walk(data, func(p string, fi os.FileInfo, err error) error {
		if err == nil {
			os.Chown(p, nobody, nobody)
		}
		return nil
	})
	os.Chmod(data, 0o500)
	cmd := exec.Command(bin, "-test.run=^TestReadOnlyDataFolder$", "-test.v", "-test.count=1")
	cmd.Env = append(os.Environ(), readOnlyEnv+"="+data, "HOME=/nonexistent", "TMPDIR="+os.TempDir())
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: nobody, Gid: nobody}}
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "--- PASS: TestReadOnlyDataFolder") {
		t.Fatalf("the run as nobody on a read-only data folder failed (%v):\n%s", err, out)
	}
}

func readOnlyChecks(t *testing.T, data string) {
	if checkWritable(data) == nil {
		t.Fatalf("%s is writable: the test needs it read-only", data)
	}
	cfg := testConfig(t)
	cfg.Data = data
	logs := &recordLog{}
	app, err := newApp(cfg, nil, slog.New(logs))
	if err != nil {
		t.Fatalf("start with a read-only data folder: %v", err)
	}
	defer app.Close()
	logs.mu.Lock()
	warned := false
	for _, r := range logs.recs {
		warned = warned || r.Level == slog.LevelWarn && strings.Contains(r.Message, "cannot be written")
	}
	logs.mu.Unlock()
	if !warned {
		t.Errorf("no warning at start that the data folder cannot be written")
	}
	base := "http://" + app.httpAddr
	c := http.DefaultClient
	if code, body := post(t, c, base+"/pki/rotate", nil, nil); code != 503 || !strings.Contains(body, "cannot be written") {
		t.Errorf("POST /pki/rotate: %d %s, want 503 saying the data folder cannot be written", code, body)
	}
	cert, err := app.ca.Issue(pki.Leaf{CommonName: "ro-device"})
	if err != nil {
		t.Fatal(err)
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Certificate[0]})
	if code, body := post(t, c, base+"/pki/revoke", certPEM, proof(t, cert.PrivateKey.(*ecdsa.PrivateKey), cert.Leaf, time.Now())); code != 503 || !strings.Contains(body, "cannot be written") {
		t.Errorf("POST /pki/revoke with a valid proof: %d %s, want 503 saying the data folder cannot be written", code, body)
	}
	// Signing a request writes nothing: it still works.
	csr, _ := csrPEM(t, "ro-csr")
	if code, body := post(t, c, base+"/pki/csr", csr, nil); code != 200 {
		t.Errorf("POST /pki/csr: %d %s", code, body)
	}
	resp, err := c.Get(base + "/pki/crl")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 && (resp.StatusCode != 503 || !strings.Contains(string(b), "cannot be written")) {
		t.Errorf("GET /pki/crl: %d %s, want the CRL or 503 saying why", resp.StatusCode, b)
	}
}

func copyFile(t *testing.T, from, to string, mode os.FileMode) {
	t.Helper()
	in, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, mode)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}
