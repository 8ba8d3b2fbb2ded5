package trace

import (
	"bytes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/tls"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"

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

// keys12 decrypts the records of both directions of a TLS 1.2 connection
// with keys derived from its master secret (RFC 5246 §6.3). Index 0 of each
// array is the client's direction (client_write), 1 the server's.
type keys12 struct {
	suite suite12
	aead  [2]cipher.AEAD
	iv    [2][]byte
	// seq counts each direction's records from 0 at the first record after
	// its ChangeCipherSpec (RFC 5246 §6.1).
	seq [2]uint64
	// err says why the connection's records cannot be decrypted.
	err error
}

// masterSecretLen is the length of a TLS 1.2 master secret (RFC 5246 §8.1).
const masterSecretLen = 48

// loadKeys12 returns the connection's TLS 1.2 record keys, deriving them on
// first use; when they cannot be had, err of the result says why.
func (c *tlsConn) loadKeys12() *keys12 {
	if c.keys12 == nil {
		k, err := c.newKeys12()
		if err != nil {
			k = &keys12{err: err}
		}
		c.keys12 = k
	}
	return c.keys12
}

func (c *tlsConn) newKeys12() (*keys12, error) {
	if c.serverRandom == nil {
		return nil, errors.New("no ServerHello was seen, so the cipher suite and the server random the keys derive from are unknown")
	}
	s, ok := suites12[c.suite]
	if !ok {
		return nil, fmt.Errorf("cipher suite %s protects records with CBC or a stream cipher; the trace decrypts only AEAD suites (GCM, ChaCha20-Poly1305)", CipherSuiteName(c.suite))
	}
	if c.version != tls.VersionTLS12 {
		return nil, fmt.Errorf("the trace decrypts TLS 1.2 and TLS 1.3 records only, not %s", VersionName(c.version))
	}
	if c.clientRandom == nil {
		return nil, errors.New("no ClientHello was seen, so the client random the keys derive from is unknown")
	}
	master := c.kl.Secret(labelClientRandom, c.clientRandom)
	if master == nil {
		return nil, fmt.Errorf("the key log has no %s for this connection", labelClientRandom)
	}
	if len(master) != masterSecretLen {
		return nil, fmt.Errorf("the key log's %s secret has %d bytes, not the %d of a master secret", labelClientRandom, len(master), masterSecretLen)
	}
	// key_block = PRF(master_secret, "key expansion", server_random +
	// client_random), cut into client_write_key, server_write_key,
	// client_write_IV, server_write_IV: AEAD suites have no MAC keys.
	seed := append(bytes.Clone(c.serverRandom), c.clientRandom...)
	kb := prf12(s.hash, master, "key expansion", seed, 2*s.keyLen+2*s.ivLen)
	k := &keys12{suite: s}
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

// open decrypts one TLS 1.2 AEAD record (header included) sent by the
// client (dir 0) or the server (dir 1), and returns its content.
func (k *keys12) open(dir int, r record) ([]byte, error) {
	// The sender numbered the record whether or not it decrypts here.
	seq := k.seq[dir]
	k.seq[dir]++
	aead, body := k.aead[dir], r.body()
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
	ad = append(ad, r.typ)
	ad = binary.BigEndian.AppendUint16(ad, r.version)
	ad = binary.BigEndian.AppendUint16(ad, uint16(len(sealed)-aead.Overhead()))
	plain, err := aead.Open(nil, nonce[:], sealed, ad)
	if err != nil {
		return nil, fmt.Errorf("%s keys, sequence number %d: %w", labelClientRandom, seq, errBadRecordMAC)
	}
	if plain == nil {
		plain = []byte{} // an empty record still decrypted
	}
	return plain, nil
}

// record12 decodes a TLS 1.2 record sent after its side's ChangeCipherSpec:
// it annotates the protected part, decrypts it when the suite is an AEAD one
// and the key log holds the connection's master secret, and decodes the
// content. header holds the fields of the 5-byte record header.
func (d *tlsDir) record12(r record, header []Field) {
	s, aead := suites12[d.c.suite]
	sealedAt := 5
	if aead && s.explicit > 0 && len(r.wire) >= 5+s.explicit {
		sealedAt += s.explicit
		header = append(header, Field{Name: "nonce_explicit", Value: hex.EncodeToString(r.wire[5:sealedAt]), Start: 5, End: sealedAt,
			About: "The per-record part of the AES-GCM nonce, sent in the clear: joined to the 4-byte salt from the key block it makes the 12-byte nonce; it must never repeat under one key (Go sends the sequence number).",
			Spec:  "RFC 5288 §3"})
	}
	sealed := Field{Name: "encrypted_record", Value: fmt.Sprintf("%d bytes", len(r.wire)-sealedAt), Start: sealedAt, End: len(r.wire),
		About: "The encrypted content followed by an authentication tag that exposes any change in transit; unlike TLS 1.3, the content type stays readable in the header.",
		Spec:  "RFC 5246 §6.2.3.3"}
	if !aead {
		sealed.About = "The protected content: encrypted with a MAC (and, for block ciphers, padding) added; the content type stays readable in the header."
		sealed.Spec = "RFC 5246 §6.2.3"
	}
	header = append(header, sealed)
	dir := 1
	if d.fromClient {
		dir = 0
	}
	k := d.c.loadKeys12()
	err := k.err
	var plain []byte
	if err == nil {
		plain, err = k.open(dir, r)
	}
	if err != nil {
		// Name what the record must be: after ChangeCipherSpec the only
		// handshake message is Finished (barring renegotiation).
		typ := contentTypeName(r.typ)
		if r.typ == recordHandshake {
			typ = "Finished"
		}
		d.emit(Event{Type: typ, Length: len(r.wire), Bytes: hex.EncodeToString(r.wire), Encrypted: true, Fields: header,
			Summary: "encrypted " + typ, Error: "not decrypted: " + err.Error()}, r)
		return
	}
	// TLS 1.2 has no inner content type: the plaintext is the content.
	d.content(r, r.typ, plain, plain, header)
}
