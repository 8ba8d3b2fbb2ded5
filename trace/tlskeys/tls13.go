package tlskeys

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

	"github.com/mqtts-playground/playground/trace/tlswire"
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

// Keys13 decrypts the records protected by one TLS 1.3 traffic secret in
// one direction (RFC 8446 §5.2, §5.3, §7.3).
type Keys13 struct {
	// Seq is the sequence number of the next record to open: the number of
	// records sent under these keys before it.
	Seq uint64

	suite  suite13
	secret []byte
	aead   cipher.AEAD
	iv     []byte
	label  string // key log label the secret came from, for messages
}

// Keys13 returns the keys of the connection whose ClientHello carried
// clientRandom, negotiated cipher suite suite, for the traffic secret the
// log holds under label (one of the TLS 1.3 Label constants).
func (kl *KeyLog) Keys13(suite uint16, clientRandom []byte, label string) (*Keys13, error) {
	s, ok := suites13[suite]
	if !ok {
		return nil, fmt.Errorf("cipher suite %s is not one the trace can decrypt", tlswire.CipherSuiteName(suite))
	}
	secret := kl.Secret(label, clientRandom)
	if secret == nil {
		return nil, fmt.Errorf("the key log has no %s for this connection", label)
	}
	return newKeys13(s, secret, label)
}

// NewKeys13 returns the keys of one TLS 1.3 traffic secret (as crypto/tls
// logs it under label) for the cipher suite suite, for a party that holds
// the secret itself rather than a key log.
func NewKeys13(suite uint16, secret []byte, label string) (*Keys13, error) {
	s, ok := suites13[suite]
	if !ok {
		return nil, fmt.Errorf("cipher suite %s is not a TLS 1.3 suite", tlswire.CipherSuiteName(suite))
	}
	if len(secret) != s.hash().Size() {
		return nil, fmt.Errorf("a %s secret of %d bytes does not fit %s", label, len(secret), tlswire.CipherSuiteName(suite))
	}
	return newKeys13(s, secret, label)
}

func newKeys13(s suite13, secret []byte, label string) (*Keys13, error) {
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
	return &Keys13{suite: s, secret: secret, aead: aead, iv: iv, label: label}, nil
}

// Label is the key log label of the secret the keys derive from, with
// " (updated)" for each KeyUpdate since.
func (k *Keys13) Label() string { return k.label }

// Next returns the keys after a KeyUpdate (RFC 8446 §7.2).
func (k *Keys13) Next() (*Keys13, error) {
	h := k.suite.hash()
	secret, err := expandLabel(k.suite.hash, k.secret, "traffic upd", nil, h.Size())
	if err != nil {
		return nil, err
	}
	return newKeys13(k.suite, secret, k.label+" (updated)")
}

var errBadRecordMAC = errors.New("authentication tag does not match (wrong key or corrupted record)")

// Open decrypts one TLSCiphertext record (header included) with sequence
// number Seq and returns the TLSInnerPlaintext: content, content type byte,
// zero padding (see [tlswire.SplitInner]). Seq advances only when the
// record decrypts.
func (k *Keys13) Open(record []byte) ([]byte, error) {
	if len(record) < tlswire.HeaderLen+k.aead.Overhead() {
		return nil, fmt.Errorf("record of %d bytes is shorter than the %d-byte tag", len(record), k.aead.Overhead())
	}
	plain, err := k.aead.Open(nil, k.nonce(), record[tlswire.HeaderLen:], record[:tlswire.HeaderLen])
	if err != nil {
		return nil, errBadRecordMAC
	}
	k.Seq++
	return plain, nil
}

// nonce is the per-record nonce: the IV XORed with the sequence number
// (RFC 8446 §5.3).
func (k *Keys13) nonce() []byte {
	nonce := make([]byte, len(k.iv))
	copy(nonce, k.iv)
	var seq [8]byte
	binary.BigEndian.PutUint64(seq[:], k.Seq)
	for i := range seq {
		nonce[len(nonce)-8+i] ^= seq[i]
	}
	return nonce
}

// Seal protects content of the inner content type typ as one TLSCiphertext
// record (header included, no padding) with sequence number Seq, and
// advances Seq (RFC 8446 §5.2).
func (k *Keys13) Seal(typ byte, content []byte) []byte {
	inner := append(append(make([]byte, 0, len(content)+1), content...), typ)
	n := len(inner) + k.aead.Overhead()
	header := []byte{tlswire.RecordApplicationData, 3, 3, byte(n >> 8), byte(n)}
	record := k.aead.Seal(header, k.nonce(), inner, header)
	k.Seq++
	return record
}
