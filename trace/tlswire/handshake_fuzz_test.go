package tlswire

import (
	"bytes"
	"crypto/tls"
	"errors"
	"io"
	"testing"
)

// FuzzDecodeHandshake feeds DecodeHandshake arbitrary bytes and versions,
// starting from the recorded messages of testdata, and checks that
// it does not panic and keeps its promises about fields: ranges within the
// message, ordered by Start, children inside their parents, errors with the
// "trace: tls: " prefix and an offset, and every byte of a well-formed
// message annotated.
func FuzzDecodeHandshake(f *testing.F) {
	_, msgs, versions := corpus(f)
	for i, msg := range msgs {
		f.Add(msg, versions[i])
	}
	for _, seed := range []struct {
		msg     []byte
		version uint16
	}{
		{[]byte{24, 0, 0, 1, 1}, tls.VersionTLS13},                                            // KeyUpdate
		{[]byte{20, 0, 0, 4, 1, 2, 3, 4}, tls.VersionTLS12},                                   // Finished
		{[]byte{8, 0, 0, 2, 0, 0}, tls.VersionTLS13},                                          // EncryptedExtensions, empty
		{[]byte{22, 0, 0, 5, 1, 0, 0, 1, 0x30}, tls.VersionTLS12},                             // CertificateStatus
		{[]byte{12, 0, 0, 9, 0, 1, 0xff, 0, 1, 2, 0, 1, 5}, tls.VersionTLS11},                 // DHE ServerKeyExchange
		{[]byte{15, 0, 0, 4, 0, 2, 0xaa, 0xbb}, tls.VersionTLS10},                             // CertificateVerify without algorithm
		{[]byte{13, 0, 0, 6, 1, 64, 0, 2, 0, 0}, tls.VersionTLS11},                            // CertificateRequest without algorithms
		{[]byte{254, 0, 0, 4, 1, 2, 3, 4}, tls.VersionTLS13},                                  // message_hash
		{[]byte{4, 0, 0, 8, 0, 0, 0, 0, 0, 2, 0xaa, 0xbb}, tls.VersionTLS12},                  // NewSessionTicket 1.2
		{[]byte{16, 0, 0, 4, 0, 2, 0xaa, 0xbb}, tls.VersionTLS12},                             // ClientKeyExchange, RSA
		{clientHelloWith([]byte{0xfe, 0x0d, 0, 1, 1, 0x0a, 0x0a, 0, 0}), 0},                   // ECH inner, GREASE
		{clientHelloWith([]byte{0, 21, 0, 3, 0, 0, 0, 0, 28, 0, 2, 0x40, 0}), 0},              // padding, record_size_limit
		{clientHelloWith([]byte{0, 27, 0, 3, 2, 0, 2, 0, 49, 0, 0, 0, 44, 0, 3, 0, 1, 7}), 0}, // compress_certificate, post_handshake_auth, cookie
	} {
		f.Add(seed.msg, seed.version)
	}
	f.Fuzz(func(t *testing.T, msg []byte, version uint16) {
		// As the bytes come: a message is cut from them, or they wait for
		// more.
		m, n, err := DecodeHandshake(msg, version)
		if err != nil {
			if n != 0 || !errors.Is(err, io.ErrUnexpectedEOF) || m.Type != "" || m.Fields != nil {
				t.Fatalf("n %d, err %v, Type %q: want 0, io.ErrUnexpectedEOF and a zero message", n, err, m.Type)
			}
		} else {
			checkFuzzed(t, msg[:n], m)
		}
		// With the length set to cover the rest, so that every input
		// reaches the decoder of its body.
		if len(msg) >= HandshakeHeaderLen {
			whole := bytes.Clone(msg)
			body := len(whole) - HandshakeHeaderLen
			whole[1], whole[2], whole[3] = byte(body>>16), byte(body>>8), byte(body)
			if body < 1<<24 {
				checkFuzzed(t, whole, decodeWhole(t, whole, version))
			}
		}
	})
}

// checkFuzzed checks the promises DecodeHandshake keeps for any message.
func checkFuzzed(t *testing.T, msg []byte, m HandshakeMessage) {
	t.Helper()
	if m.Type == "" {
		t.Fatal("empty Type")
	}
	if m.Err == nil && m.Summary == "" {
		t.Fatalf("%s: empty Summary", m.Type)
	}
	if err := checkInvariants(msg, m); err != nil {
		t.Fatalf("%s: %v (Err: %v)", m.Type, err, m.Err)
	}
}

// BenchmarkDecodeHandshake decodes every recorded message of testdata.
func BenchmarkDecodeHandshake(b *testing.B) {
	_, msgs, versions := corpus(b)
	var n int64
	for _, m := range msgs {
		n += int64(len(m))
	}
	b.SetBytes(n)
	b.ReportAllocs()
	for b.Loop() {
		for i, m := range msgs {
			DecodeHandshake(m, versions[i])
		}
	}
}
