package pki

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"strings"
)

// Key types for Leaf.KeyType.
const (
	KeyECDSAP256 = "ecdsa-p256" // the default: small, fast, accepted everywhere
	KeyRSA2048   = "rsa-2048"
	KeyRSA3072   = "rsa-3072"
	KeyRSA1024   = "rsa-1024" // too weak; needs Leaf.Weak (weak-key lesson)
	KeyEd25519   = "ed25519"
)

// KeyTypes lists the values Leaf.KeyType accepts ("" means KeyECDSAP256).
var KeyTypes = []string{KeyECDSAP256, KeyRSA2048, KeyRSA3072, KeyRSA1024, KeyEd25519}

// minRSABits is the smallest RSA key the CA certifies without Leaf.Weak
// and accepts in a certificate request.
const minRSABits = 2048

// generateKey makes a new private key of keyType ("" is KeyECDSAP256).
func generateKey(keyType string, weak bool) (crypto.Signer, error) {
	var (
		k   crypto.Signer
		err error
	)
	switch keyType {
	case "", KeyECDSAP256:
		return newKey()
	case KeyRSA2048:
		k, err = rsa.GenerateKey(rand.Reader, 2048)
	case KeyRSA3072:
		k, err = rsa.GenerateKey(rand.Reader, 3072)
	case KeyRSA1024:
		if !weak {
			return nil, fmt.Errorf("pki: key type %s is too weak for real use: it is only for the weak-key lesson (set Leaf.Weak), use %s otherwise", KeyRSA1024, KeyRSA2048)
		}
		k, err = rsa.GenerateKey(rand.Reader, 1024)
	case KeyEd25519:
		_, k, err = ed25519.GenerateKey(rand.Reader)
	default:
		return nil, fmt.Errorf("pki: unknown key type %q: use one of %s", keyType, strings.Join(KeyTypes, ", "))
	}
	if err != nil {
		return nil, fmt.Errorf("pki: generate %s key: %w", keyType, err)
	}
	return k, nil
}

// checkKey refuses a given public key the CA should not certify: an RSA
// key under 2048 bits unless weak is set, or a type crypto/x509 cannot
// encode.
func checkKey(pub crypto.PublicKey, weak bool) error {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		if k.N == nil {
			return fmt.Errorf("pki: the RSA public key is empty: give a complete key")
		}
		if bits := k.N.BitLen(); bits < minRSABits && !weak {
			return fmt.Errorf("pki: RSA key of %d bits is too weak: use at least %d bits (weak keys are only for the weak-key lesson: set Leaf.Weak)", bits, minRSABits)
		}
	case *ecdsa.PublicKey, ed25519.PublicKey:
	default:
		return fmt.Errorf("pki: cannot certify a key of type %T: use an ECDSA, RSA or Ed25519 key", pub)
	}
	return nil
}

// curveName names an ECDSA curve for messages.
func curveName(c elliptic.Curve) string {
	if c == nil || c.Params() == nil {
		return "unknown"
	}
	return c.Params().Name
}

// parseAnyKeyPEM reads a private key in PKCS #8, PKCS #1 (RSA) or SEC 1 (EC)
// PEM form, skipping other blocks such as "EC PARAMETERS". name is the file
// name for messages.
func parseAnyKeyPEM(data []byte, name string) (crypto.Signer, error) {
	for rest := data; ; {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			return nil, fmt.Errorf("pki: %s holds no PEM private key: give the CA's key in PEM form (-----BEGIN PRIVATE KEY-----)", name)
		}
		if b.Type == "ENCRYPTED PRIVATE KEY" || b.Headers["Proc-Type"] != "" {
			return nil, fmt.Errorf("pki: %s is encrypted: decrypt it first (openssl pkey -in %s -out plain.key) and keep the copy private", name, name)
		}
		var (
			k   any
			err error
		)
		switch b.Type {
		case "PRIVATE KEY":
			k, err = x509.ParsePKCS8PrivateKey(b.Bytes)
		case "RSA PRIVATE KEY":
			k, err = x509.ParsePKCS1PrivateKey(b.Bytes)
		case "EC PRIVATE KEY":
			k, err = x509.ParseECPrivateKey(b.Bytes)
		default:
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("pki: %s: the %s block does not parse (%v): give an unencrypted PEM private key", name, b.Type, err)
		}
		s, ok := k.(crypto.Signer)
		if !ok {
			return nil, fmt.Errorf("pki: %s: a key of type %T cannot sign certificates: give an ECDSA, RSA or Ed25519 key", name, k)
		}
		return s, nil
	}
}
