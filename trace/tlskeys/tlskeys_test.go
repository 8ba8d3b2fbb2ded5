package tlskeys

import (
	"bytes"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"hash"
	"strings"
	"testing"

	"github.com/mqtts-playground/playground/trace/tlswire"
)

// TestPRF12 checks the TLS 1.2 PRF against the P_SHA256 and P_SHA384
// vectors posted to the IETF TLS list
// (https://www.ietf.org/mail-archive/web/tls/current/msg03416.html), which
// many TLS libraries test against.
func TestPRF12(t *testing.T) {
	tests := []struct {
		name               string
		hash               func() hash.Hash
		secret, seed, want string
	}{
		{"P_SHA256", sha256.New, "9bbe436ba940f017b17652849a71db35", "a0ba9f936cda311827a6f796ffd5198c",
			"e3f229ba727be17b8d122620557cd453c2aab21d07c3d495329b52d4e61edb5a" +
				"6b301791e90d35c9c9a46b4e14baf9af0fa022f7077def17abfd3797c0564bab" +
				"4fbc91666e9def9b97fce34f796789baa48082d122ee42c5a72e5a5110fff701" +
				"87347b66"},
		{"P_SHA384", sha512.New384, "b80b733d6ceefcdc71566ea48e5567df", "cd665cf6a8447dd6ff8b27555edb7465",
			"7b0c18e9ced410ed1804f2cfa34a336a1c14dffb4900bb5fd7942107e81c83cd" +
				"e9ca0faa60be9fe34f82b1233c9146a0e534cb400fed2700884f9dc236f80edd" +
				"8bfa961144c9e8d792eca722a7b32fc3d416d473ebc2c5fd4abfdad05d918425" +
				"9b5bf8cd4d90fa0d31e2dec479e4f1a26066f2eea9a69236a3e52655c9e9aee6" +
				"91c8f3a26854308d5eaa3be85e0990703d73e56f"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			secret, _ := hex.DecodeString(tt.secret)
			seed, _ := hex.DecodeString(tt.seed)
			want, _ := hex.DecodeString(tt.want)
			if got := prf12(tt.hash, secret, "test label", seed, len(want)); !bytes.Equal(got, want) {
				t.Errorf("got  %x\nwant %x", got, want)
			}
			// A shorter output is a prefix of the longer one.
			if got := prf12(tt.hash, secret, "test label", seed, 7); !bytes.Equal(got, want[:7]) {
				t.Errorf("7 bytes: got %x, want %x", got, want[:7])
			}
		})
	}
}

func TestKeyLog(t *testing.T) {
	r := strings.Repeat("ab", 32)
	kl := ParseKeyLog([]byte("# comment\nCLIENT_HANDSHAKE_TRAFFIC_SECRET " + r + " 0102\nbroken line\nSERVER_TRAFFIC_SECRET_0 zz 01\n"))
	random, _ := hex.DecodeString(r)
	if got := kl.Secret(LabelClientHandshake, random); hex.EncodeToString(got) != "0102" {
		t.Errorf("secret %x", got)
	}
	if got := kl.Secret(LabelClientHandshake, nil); hex.EncodeToString(got) != "0102" {
		t.Errorf("secret without random %x", got)
	}
	if got := kl.Secret(LabelServerTraffic, random); got != nil {
		t.Errorf("malformed line parsed: %x", got)
	}
}

func TestSealOpen13(t *testing.T) {
	for _, suite := range []uint16{0x1301, 0x1302, 0x1303} {
		size := 32
		if suite == 0x1302 {
			size = 48
		}
		secret := bytes.Repeat([]byte{7}, size)
		seal, err := NewKeys13(suite, secret, LabelServerTraffic)
		if err != nil {
			t.Fatal(err)
		}
		open, _ := NewKeys13(suite, secret, LabelServerTraffic)
		for i, msg := range []string{"first", "second"} {
			rec := seal.Seal(tlswire.RecordAlert, []byte(msg))
			inner, err := open.Open(rec)
			if err != nil {
				t.Fatalf("suite %04x record %d: %v", suite, i, err)
			}
			if want := msg + "\x15"; string(inner) != want {
				t.Errorf("suite %04x record %d: inner %q, want %q", suite, i, inner, want)
			}
		}
		if seal.Seq != 2 || open.Seq != 2 {
			t.Errorf("suite %04x: Seq %d/%d after two records, want 2", suite, seal.Seq, open.Seq)
		}
	}
	if _, err := NewKeys13(0x1301, make([]byte, 48), LabelServerTraffic); err == nil {
		t.Error("a 48-byte secret for a SHA-256 suite was accepted")
	}
	if _, err := NewKeys13(0xc02f, make([]byte, 32), LabelServerTraffic); err == nil {
		t.Error("a TLS 1.2 suite was accepted")
	}
}

// A line longer than any buffer (a pasted file, a long comment) is skipped
// like any other line it cannot read; the lines after it still count.
func TestKeyLogLongLine(t *testing.T) {
	r := strings.Repeat("ab", 32)
	kl := ParseKeyLog([]byte("# " + strings.Repeat("x", 100<<10) + "\nCLIENT_RANDOM " + r + " 0102\n"))
	random, _ := hex.DecodeString(r)
	if got := kl.Secret(LabelClientRandom, random); hex.EncodeToString(got) != "0102" {
		t.Errorf("secret after a long line: %x, want 0102", got)
	}
}
