package trace

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"

	"golang.org/x/crypto/chacha20poly1305"
)

// suite13 describes what the record layer needs of a TLS 1.3 cipher suite.
type suite13 struct {
	keyLen int
	hash   func() hash.Hash
	aead   func(key []byte) (cipher.AEAD, error)
}

func aesGCM(key []byte) (cipher.AEAD, error) {
	b, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(b)
}

// suites13 are the TLS 1.3 suites the trace can decrypt (RFC 8446 §B.4).
var suites13 = map[uint16]suite13{
	0x1301: {16, sha256.New, aesGCM},               // TLS_AES_128_GCM_SHA256
	0x1302: {32, sha512.New384, aesGCM},            // TLS_AES_256_GCM_SHA384
	0x1303: {32, sha256.New, chacha20poly1305.New}, // TLS_CHACHA20_POLY1305_SHA256
}

// expandLabel is HKDF-Expand-Label of RFC 8446 §7.1.
func expandLabel(h func() hash.Hash, secret []byte, label string, context []byte, length int) ([]byte, error) {
	full := "tls13 " + label
	info := make([]byte, 0, 4+len(full)+len(context))
	info = binary.BigEndian.AppendUint16(info, uint16(length))
	info = append(info, byte(len(full)))
	info = append(info, full...)
	info = append(info, byte(len(context)))
	info = append(info, context...)
	return hkdf.Expand(h, secret, string(info), length)
}

// trafficKeys decrypts the records protected by one TLS 1.3 traffic secret
// in one direction (RFC 8446 §5.2, §5.3, §7.3).
type trafficKeys struct {
	suite  suite13
	secret []byte
	aead   cipher.AEAD
	iv     []byte
	seq    uint64
	label  string // key log label the secret came from, for messages
}

func newTrafficKeys(s suite13, secret []byte, label string) (*trafficKeys, error) {
	key, err := expandLabel(s.hash, secret, "key", nil, s.keyLen)
	if err != nil {
		return nil, err
	}
	iv, err := expandLabel(s.hash, secret, "iv", nil, 12)
	if err != nil {
		return nil, err
	}
	aead, err := s.aead(key)
	if err != nil {
		return nil, err
	}
	return &trafficKeys{suite: s, secret: secret, aead: aead, iv: iv, label: label}, nil
}

// next returns the keys after a KeyUpdate (RFC 8446 §7.2).
func (k *trafficKeys) next() (*trafficKeys, error) {
	h := k.suite.hash()
	secret, err := expandLabel(k.suite.hash, k.secret, "traffic upd", nil, h.Size())
	if err != nil {
		return nil, err
	}
	return newTrafficKeys(k.suite, secret, k.label+" (updated)")
}

var errBadRecordMAC = errors.New("authentication tag does not match (wrong key or corrupted record)")

// open decrypts one TLSCiphertext record (header included) and returns the
// TLSInnerPlaintext: content, content type byte, zero padding.
func (k *trafficKeys) open(record []byte) ([]byte, error) {
	if len(record) < 5+k.aead.Overhead() {
		return nil, fmt.Errorf("record of %d bytes is shorter than the %d-byte tag", len(record), k.aead.Overhead())
	}
	nonce := make([]byte, len(k.iv))
	copy(nonce, k.iv)
	var seq [8]byte
	binary.BigEndian.PutUint64(seq[:], k.seq)
	for i := range seq {
		nonce[len(nonce)-8+i] ^= seq[i]
	}
	plain, err := k.aead.Open(nil, nonce, record[5:], record[:5])
	if err != nil {
		return nil, errBadRecordMAC
	}
	k.seq++
	return plain, nil
}

// innerType splits a TLSInnerPlaintext into its content and content type
// (RFC 8446 §5.2): the type is the last non-zero byte.
func innerType(plain []byte) (content []byte, typ byte, ok bool) {
	i := len(plain) - 1
	for i >= 0 && plain[i] == 0 {
		i--
	}
	if i < 0 {
		return nil, 0, false
	}
	return plain[:i], plain[i], true
}
