package pki

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestParseRevocable(t *testing.T) {
	ca := newCA(t)
	client := clientCert(t, ca, "device-a")
	server, _, err := ca.ServerCertificate([]string{"localhost"})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name      string
		body      []byte
		err       string
		notClient bool
	}{
		{"client certificate", CertPEM(client.Leaf), "", false},
		{"not PEM", []byte("hello"), "send the certificate to revoke as PEM", false},
		{"a key", pemOf("PRIVATE KEY", []byte{1}), "send the certificate to revoke as PEM", false},
		{"bad DER", pemOf("CERTIFICATE", []byte{1, 2, 3}), "the certificate does not parse", false},
		{"the broker's certificate", CertPEM(server.Leaf), "is not a client certificate", true},
		{"a CA", CertPEM(ca.Intermediate), "is not a client certificate", true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c, err := ParseRevocable(tt.body)
			if tt.err == "" {
				if err != nil || !c.Equal(client.Leaf) {
					t.Fatalf("ParseRevocable: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.err) || errors.Is(err, ErrNotClientCertificate) != tt.notClient {
				t.Errorf("err %v, want %q (ErrNotClientCertificate: %v)", err, tt.err, tt.notClient)
			}
		})
	}
}

func TestCheckRevokeProof(t *testing.T) {
	ca := newCA(t)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	c, err := ca.Issue(Leaf{CommonName: "device-a", Key: key.Public()})
	if err != nil {
		t.Fatal(err)
	}
	other := clientCert(t, ca, "device-b")
	now := time.Unix(1_800_000_000, 0)
	sign := func(cert *x509.Certificate, when string) string {
		sum := sha256.Sum256([]byte(RevokeProofPrefix + cert.SerialNumber.Text(16) + " " + when))
		sig, err := ecdsa.SignASN1(rand.Reader, key, sum[:])
		if err != nil {
			t.Fatal(err)
		}
		return base64.StdEncoding.EncodeToString(sig)
	}
	at := func(d time.Duration) string { return strconv.FormatInt(now.Add(d).Unix(), 10) }
	for _, tt := range []struct {
		name        string
		cert        *x509.Certificate
		proof, when string
		err         string
	}{
		{"signed now", c.Leaf, sign(c.Leaf, at(0)), at(0), ""},
		{"signed four minutes ago", c.Leaf, sign(c.Leaf, at(-4*time.Minute)), at(-4 * time.Minute), ""},
		{"too old", c.Leaf, sign(c.Leaf, at(-6*time.Minute)), at(-6 * time.Minute), "more than five minutes old or ahead"},
		{"ahead", c.Leaf, sign(c.Leaf, at(6*time.Minute)), at(6 * time.Minute), "more than five minutes old or ahead"},
		{"time not a number", c.Leaf, sign(c.Leaf, "soon"), "soon", "must be the Unix time"},
		{"not base64", c.Leaf, "!!", at(0), "must be base64"},
		{"signed for another time", c.Leaf, sign(c.Leaf, at(-time.Minute)), at(0), "not signed by this certificate's key"},
		{"another certificate's key", other.Leaf, sign(other.Leaf, at(0)), at(0), "not signed by this certificate's key"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckRevokeProof(tt.cert, tt.proof, tt.when, now)
			if (err == nil) != (tt.err == "") || (err != nil && !strings.Contains(err.Error(), tt.err)) {
				t.Errorf("err %v, want %q", err, tt.err)
			}
		})
	}
}
