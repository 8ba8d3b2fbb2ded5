package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/mqtts-playground/playground/broker/pki"
	"github.com/mqtts-playground/playground/wasm/client"
)

func csrPEM(t *testing.T, cn string) ([]byte, *ecdsa.PrivateKey) {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: cn}}, key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der}), key
}

func post(t *testing.T, c *http.Client, url string, body []byte, header map[string]string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("POST", url, bytes.NewReader(body))
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// issue asks POST /pki/csr for a client certificate and returns it with its
// key as client options for the mtls listener.
func issue(t *testing.T, app *App, cn string) (*x509.Certificate, *ecdsa.PrivateKey, client.TLSOptions) {
	t.Helper()
	csr, key := csrPEM(t, cn)
	code, chain := post(t, http.DefaultClient, "http://"+app.httpAddr+"/pki/csr", csr, nil)
	if code != 200 {
		t.Fatalf("POST /pki/csr: %d %s", code, chain)
	}
	block, _ := pem.Decode([]byte(chain))
	leaf, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	keyPEM, _ := pki.KeyPEM(key)
	return leaf, key, client.TLSOptions{ServerName: "localhost", CAPEM: string(app.ca.RootPEM()), CertPEM: chain, KeyPEM: string(keyPEM)}
}

func TestPKIEndpoints(t *testing.T) {
	cfg := testConfig(t)
	cfg.Token = "teach-me"
	app := startApp(t, cfg, false)
	base := "http://" + app.httpAddr
	ctx := context.Background()

	// A certificate from a CSR works on mtls, and its CN is the user name.
	leaf, key, opts := issue(t, app, "learner-7")
	if leaf.Subject.CommonName != "learner-7" || leaf.ExtKeyUsage[0] != x509.ExtKeyUsageClientAuth {
		t.Fatalf("issued %v %v", leaf.Subject, leaf.ExtKeyUsage)
	}
	c, _, err := dialTunnel(t, app, "mtls", client.Options{ClientID: "dev-7", TLS: &opts})
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	if _, _, err := dialTunnel(t, app, "mtls", client.Options{Username: "someone-else", TLS: &opts}); err == nil || !strings.Contains(err.Error(), "Bad User Name or Password") {
		t.Errorf("user name other than the certificate's CN: %v", err)
	}

	// Refusals say why.
	for _, tt := range []struct {
		body, want string
		code       int
	}{
		{"not pem", "pki:", 400},
		{strings.Repeat("A", pki.MaxCSRSize+10), "larger than", 413},
	} {
		if code, body := post(t, http.DefaultClient, base+"/pki/csr", []byte(tt.body), nil); code != tt.code || !strings.Contains(body, tt.want) {
			t.Errorf("POST /pki/csr %q…: %d %q", tt.body[:min(10, len(tt.body))], code, body)
		}
	}
	bad, _ := csrPEM(t, "$SYS")
	if code, body := post(t, http.DefaultClient, base+"/pki/csr", bad, nil); code != 400 || !strings.Contains(body, "$") {
		t.Errorf("forbidden name: %d %q", code, body)
	}

	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: leaf.Raw})
	// No proof: refused.
	if code, body := post(t, http.DefaultClient, base+"/pki/revoke", certPEM, nil); code != 403 || !strings.Contains(body, "prove you hold") {
		t.Errorf("revoke without proof: %d %q", code, body)
	}
	// A proof signed by another key: refused.
	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if code, body := post(t, http.DefaultClient, base+"/pki/revoke", certPEM, proof(t, other, leaf, time.Now())); code != 403 || !strings.Contains(body, "not signed by this certificate's key") {
		t.Errorf("revoke with a foreign proof: %d %q", code, body)
	}
	// A stale proof: refused.
	if code, body := post(t, http.DefaultClient, base+"/pki/revoke", certPEM, proof(t, key, leaf, time.Now().Add(-time.Hour))); code != 403 || !strings.Contains(body, "five minutes") {
		t.Errorf("revoke with a stale proof: %d %q", code, body)
	}
	// The key holder's proof: revoked, and the CRL lists it.
	if code, body := post(t, http.DefaultClient, base+"/pki/revoke", certPEM, proof(t, key, leaf, time.Now())); code != 200 || !strings.Contains(body, "signed proof") {
		t.Fatalf("revoke with proof: %d %q", code, body)
	}
	resp, crlDER := get(t, base+"/pki/crl")
	crl, err := x509.ParseRevocationList(crlDER)
	if err != nil || resp.Header.Get("Content-Type") != "application/pkix-crl" || len(crl.RevokedCertificateEntries) != 1 || crl.RevokedCertificateEntries[0].SerialNumber.Cmp(leaf.SerialNumber) != 0 {
		t.Fatalf("CRL: %v %v", crl, err)
	}
	// The next handshake with it is refused with alert 44 (not the generic
	// bad_certificate), though the client could resume its session.
	if _, _, err := dialTunnel(t, app, "mtls", client.Options{TLS: &opts}); err == nil || !strings.Contains(err.Error(), "revoked certificate") {
		t.Errorf("connect with a revoked certificate: %v", err)
	}

	// The instructor token revokes any certificate; a wrong one does not.
	leaf2, _, _ := issue(t, app, "learner-8")
	cert2 := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: leaf2.Raw})
	if code, body := post(t, http.DefaultClient, base+"/pki/revoke", cert2, map[string]string{"Authorization": "Bearer nope"}); code != 403 || !strings.Contains(body, "wrong instructor token") {
		t.Errorf("wrong token: %d %q", code, body)
	}
	if code, body := post(t, http.DefaultClient, base+"/pki/revoke", cert2, map[string]string{"Authorization": "Bearer teach-me"}); code != 200 || !strings.Contains(body, "instructor token") {
		t.Errorf("instructor token: %d %q", code, body)
	}

	// Over HTTPS, presenting the certificate itself proves possession.
	leaf3, key3, _ := issue(t, app, "learner-9")
	https := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{
		RootCAs: app.ca.Pool(), ServerName: "localhost",
		Certificates: []tls.Certificate{{Certificate: [][]byte{leaf3.Raw, app.ca.Intermediate.Raw}, PrivateKey: key3}},
	}}}
	cert3 := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: leaf3.Raw})
	if code, body := post(t, https, "https://"+app.httpsAddr+"/pki/revoke", cert3, nil); code != 200 || !strings.Contains(body, "TLS client certificate") {
		t.Errorf("revoke over HTTPS with the certificate: %d %q", code, body)
	}
	_ = ctx
}

func proof(t *testing.T, key *ecdsa.PrivateKey, leaf *x509.Certificate, at time.Time) map[string]string {
	when := fmt.Sprint(at.Unix())
	sum := sha256.Sum256([]byte(RevokeProofPrefix + leaf.SerialNumber.Text(16) + " " + when))
	sig, err := ecdsa.SignASN1(rand.Reader, key, sum[:])
	if err != nil {
		t.Fatal(err)
	}
	return map[string]string{"X-Revoke-Proof": base64.StdEncoding.EncodeToString(sig), "X-Revoke-Time": when}
}

func TestCSRRateLimit(t *testing.T) {
	app := startApp(t, testConfig(t), false)
	var codes []int
	for range 12 {
		code, _ := post(t, http.DefaultClient, "http://"+app.httpAddr+"/pki/csr", []byte("x"), nil)
		codes = append(codes, code)
	}
	if codes[9] != 400 || codes[10] != 429 {
		t.Errorf("codes %v: want 10 answered, then 429", codes)
	}
}

// Rotation: a connected client keeps publishing across it; a new client
// gets the new certificate.
func TestRotation(t *testing.T) {
	app := startApp(t, testConfig(t), false)
	ctx := context.Background()
	opts := client.Options{TLS: &client.TLSOptions{ServerName: "localhost", CAPEM: string(app.ca.RootPEM()), Resume: new(bool)}}
	before, _, err := dialTunnel(t, app, "mqtts", opts)
	if err != nil {
		t.Fatal(err)
	}
	oldSerial := before.TLSState().PeerCertificates[0].SerialNumber
	if _, err := before.Subscribe(ctx, "x/rotate", 1); err != nil {
		t.Fatal(err)
	}
	code, body := post(t, http.DefaultClient, "http://"+app.httpAddr+"/pki/rotate", nil, nil)
	if code != 200 || !strings.Contains(body, `"serial"`) {
		t.Fatalf("rotate: %d %s", code, body)
	}
	if code, _ := post(t, http.DefaultClient, "http://"+app.httpAddr+"/pki/rotate", nil, nil); code != 429 {
		t.Errorf("a second rotation at once: %d, want 429", code)
	}
	for i := range 3 {
		if err := before.Publish(ctx, "x/rotate", []byte(fmt.Sprint(i)), 1, false); err != nil {
			t.Fatalf("publish after rotation on the old connection: %v", err)
		}
		if _, err := before.NextMessage(ctx); err != nil {
			t.Fatal(err)
		}
	}
	after, _, err := dialTunnel(t, app, "mqtts", opts)
	if err != nil {
		t.Fatal(err)
	}
	newSerial := after.TLSState().PeerCertificates[0].SerialNumber
	if newSerial.Cmp(oldSerial) == 0 || !strings.Contains(body, newSerial.Text(16)) {
		t.Errorf("new client sees serial %x (old %x, rotate said %s)", newSerial, oldSerial, body)
	}
}
