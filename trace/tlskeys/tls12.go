package tlskeys

import (
	"bytes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"

	"github.com/mqtts-playground/playground/trace/tlswire"
	"golang.org/x/crypto/chacha20poly1305"
)

// suite12 describes the record protection of a TLS 1.2 AEAD cipher suite.
type suite12 struct {
	keyLen int
	// ivLen is the fixed_iv_length taken from the key block: the 4-byte
	// salt of AES-GCM (RFC 5288 §3), or the whole 12-byte nonce base of
	// ChaCha20-Poly1305 (RFC 7905 §2).
	ivLen int
	// explicit is the number of nonce_explicit bytes that open each record:
	// 8 for AES-GCM, none for ChaCha20-Poly1305.
	explicit int
	// hash is the hash of the suite's PRF (RFC 5246 §5).
	hash func() hash.Hash
	aead func(key []byte) (cipher.AEAD, error)
}

var (
	gcm128   = suite12{16, 4, 8, sha256.New, aesGCM}
	gcm256   = suite12{32, 4, 8, sha512.New384, aesGCM}
	chacha12 = suite12{32, 12, 0, sha256.New, chacha20poly1305.New}
)

// suites12 are the TLS 1.2 suites the trace can decrypt: the AEAD ones.
// CBC and RC4 suites (MAC-then-encrypt) are not decrypted.
var suites12 = map[uint16]suite12{
	0x009c: gcm128,   // TLS_RSA_WITH_AES_128_GCM_SHA256 (RFC 5288)
	0x009d: gcm256,   // TLS_RSA_WITH_AES_256_GCM_SHA384
	0x009e: gcm128,   // TLS_DHE_RSA_WITH_AES_128_GCM_SHA256
	0x009f: gcm256,   // TLS_DHE_RSA_WITH_AES_256_GCM_SHA384
	0xc02b: gcm128,   // TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 (RFC 5289)
	0xc02c: gcm256,   // TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384
	0xc02f: gcm128,   // TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256
	0xc030: gcm256,   // TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384
	0xcca8: chacha12, // TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256 (RFC 7905)
	0xcca9: chacha12, // TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256
	0xccaa: chacha12, // TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256
}

// prf12 is the TLS 1.2 PRF of RFC 5246 §5: P_hash(secret, label + seed)
// cut to n bytes, where P_hash chains HMACs: A(0) = label + seed,
// A(i) = HMAC(secret, A(i-1)), output = HMAC(secret, A(1) + label + seed) + …
func prf12(h func() hash.Hash, secret []byte, label string, seed []byte, n int) []byte {
	labelSeed := append([]byte(label), seed...)
	mac := hmac.New(h, secret)
	out := make([]byte, 0, n+mac.Size())
	a := labelSeed
	for len(out) < n {
		mac.Reset()
		mac.Write(a)
		a = mac.Sum(nil)
		mac.Reset()
		mac.Write(a)
		mac.Write(labelSeed)
		out = mac.Sum(out)
	}
	return out[:n]
}

// Keys12 decrypts the records of both directions of a TLS 1.2 connection
// with keys derived from its master secret (RFC 5246 §6.3). Index 0 of each
// array is the client's direction (client_write), 1 the server's.
type Keys12 struct {
	// Seq counts each direction's records from 0 at the first record after
	// its ChangeCipherSpec (RFC 5246 §6.1): the sequence number of the next
	// record to open.
	Seq [2]uint64

	suite suite12
	aead  [2]cipher.AEAD
	iv    [2][]byte
}

// masterSecretLen is the length of a TLS 1.2 master secret (RFC 5246 §8.1).
const masterSecretLen = 48

// Hello is what the hellos of a TLS 1.2 connection say that its keys
// derive from.
type Hello struct {
	ClientRandom []byte // from the ClientHello; nil when none was seen
	ServerRandom []byte // from the ServerHello; nil when none was seen
	Version      uint16 // negotiated, from the ServerHello
	CipherSuite  uint16 // negotiated, from the ServerHello
}

// AEAD12 reports whether the trace decrypts TLS 1.2 records of cipher
// suite id, and how many nonce_explicit bytes open each of its records.
func AEAD12(id uint16) (explicitNonce int, ok bool) {
	s, ok := suites12[id]
	return s.explicit, ok
}

// Keys12 derives the record keys of the TLS 1.2 connection h describes
// from the master secret the log holds for it; the error says why they
// cannot be had.
func (kl *KeyLog) Keys12(h Hello) (*Keys12, error) {
	if h.ServerRandom == nil {
		return nil, errors.New("no ServerHello was seen, so the cipher suite and the server random the keys derive from are unknown")
	}
	s, ok := suites12[h.CipherSuite]
	if !ok {
		return nil, fmt.Errorf("cipher suite %s protects records with CBC or a stream cipher; the trace decrypts only AEAD suites (GCM, ChaCha20-Poly1305)", tlswire.CipherSuiteName(h.CipherSuite))
	}
	if h.Version != tls.VersionTLS12 {
		return nil, fmt.Errorf("the trace decrypts TLS 1.2 and TLS 1.3 records only, not %s", tlswire.VersionName(h.Version))
	}
	if h.ClientRandom == nil {
		return nil, errors.New("no ClientHello was seen, so the client random the keys derive from is unknown")
	}
	master := kl.Secret(LabelClientRandom, h.ClientRandom)
	if master == nil {
		return nil, fmt.Errorf("the key log has no %s for this connection", LabelClientRandom)
	}
	if len(master) != masterSecretLen {
		return nil, fmt.Errorf("the key log's %s secret has %d bytes, not the %d of a master secret", LabelClientRandom, len(master), masterSecretLen)
	}
	// key_block = PRF(master_secret, "key expansion", server_random +
	// client_random), cut into client_write_key, server_write_key,
	// client_write_IV, server_write_IV: AEAD suites have no MAC keys.
	seed := append(bytes.Clone(h.ServerRandom), h.ClientRandom...)
	kb := prf12(s.hash, master, "key expansion", seed, 2*s.keyLen+2*s.ivLen)
	k := &Keys12{suite: s}
	for i := range 2 {
		aead, err := s.aead(kb[i*s.keyLen : (i+1)*s.keyLen])
		if err != nil {
			return nil, err
		}
		iv := kb[2*s.keyLen+i*s.ivLen:]
		k.aead[i], k.iv[i] = aead, iv[:s.ivLen:s.ivLen]
	}
	return k, nil
}

// Open decrypts one TLS 1.2 AEAD record (header included) sent by the
// client (dir 0) or the server (dir 1), and returns its content. The
// record's sequence number is Seq[dir], which advances whether or not it
// decrypts: the sender numbered the record all the same.
func (k *Keys12) Open(dir int, r tlswire.Record) ([]byte, error) {
	seq := k.Seq[dir]
	k.Seq[dir]++
	aead, body := k.aead[dir], r.Body()
	if len(body) < k.suite.explicit+aead.Overhead() {
		return nil, fmt.Errorf("record of %d bytes is shorter than its %d-byte nonce and tag", len(body), k.suite.explicit+aead.Overhead())
	}
	var nonce [12]byte
	copy(nonce[:], k.iv[dir])
	if k.suite.explicit > 0 {
		// AES-GCM: salt from the key block + nonce_explicit from the record.
		copy(nonce[len(k.iv[dir]):], body[:k.suite.explicit])
	} else {
		// ChaCha20-Poly1305: the IV XOR the padded sequence number.
		for i := range 8 {
			nonce[4+i] ^= byte(seq >> (56 - 8*i))
		}
	}
	sealed := body[k.suite.explicit:]
	// additional_data = seq_num + type + version + length of the plaintext
	// (RFC 5246 §6.2.3.3).
	ad := binary.BigEndian.AppendUint64(make([]byte, 0, 13), seq)
	ad = append(ad, r.Type)
	ad = binary.BigEndian.AppendUint16(ad, r.Version)
	ad = binary.BigEndian.AppendUint16(ad, uint16(len(sealed)-aead.Overhead()))
	plain, err := aead.Open(nil, nonce[:], sealed, ad)
	if err != nil {
		return nil, fmt.Errorf("%s keys, sequence number %d: %w", LabelClientRandom, seq, errBadRecordMAC)
	}
	if plain == nil {
		plain = []byte{} // an empty record still decrypted
	}
	return plain, nil
}
