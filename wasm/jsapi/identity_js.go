//go:build js && wasm

package jsapi

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"sync"
	"syscall/js"
	"time"
)

// An identity is a key pair made in the page and, once the CA has signed
// its request, the certificate for it. The private key stays in this Go
// program's memory; it is written out only when the learner asks to keep it
// (exportIdentity, which the page stores in IndexedDB).
type identity struct {
	name string
	key  *ecdsa.PrivateKey
	cert *tls.Certificate
}

var identities = struct {
	sync.Mutex
	m map[string]*identity
}{m: map[string]*identity{}}

func lookupIdentity(id string) (*identity, error) {
	identities.Lock()
	defer identities.Unlock()
	idn := identities.m[id]
	if idn == nil {
		return nil, fmt.Errorf("no identity %q in this page (identities live until the page is closed, unless saved)", id)
	}
	if idn.cert == nil {
		return nil, fmt.Errorf("identity %q has no certificate yet: send its CSR to POST /pki/csr first", id)
	}
	return idn, nil
}

func newID() string {
	var b [8]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// newIdentity(name) → IdentityRequest: a fresh ECDSA P-256 key and a
// certificate signing request for it with CN=name.
func newIdentity(this js.Value, args []js.Value) any {
	if len(args) != 1 || args[0].Type() != js.TypeString {
		return rejected("usage: newIdentity(name)")
	}
	name := args[0].String()
	return promise(func() (any, error) {
		// The CA checks the name (POST /pki/csr says what is allowed).
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return nil, err
		}
		der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: name}}, key)
		if err != nil {
			return nil, err
		}
		id := newID()
		identities.Lock()
		identities.m[id] = &identity{name: name, key: key}
		identities.Unlock()
		return jsonValue(IdentityRequest{ID: id, CSRPEM: string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der}))}), nil
	})
}

// setIdentityCert(id, chainPEM) → Identity: attaches the chain the CA
// returned (leaf first) to the identity.
func setIdentityCert(this js.Value, args []js.Value) any {
	if len(args) != 2 {
		return rejected("usage: setIdentityCert(id, chainPEM)")
	}
	id, chainPEM := args[0].String(), args[1].String()
	return promise(func() (any, error) {
		identities.Lock()
		idn := identities.m[id]
		identities.Unlock()
		if idn == nil {
			return nil, fmt.Errorf("no identity %q in this page", id)
		}
		keyDER, err := x509.MarshalPKCS8PrivateKey(idn.key)
		if err != nil {
			return nil, err
		}
		cert, err := tls.X509KeyPair([]byte(chainPEM), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}))
		if err != nil {
			return nil, fmt.Errorf("the certificate does not fit this identity's key: %v", err)
		}
		identities.Lock()
		idn.cert = &cert
		identities.Unlock()
		return jsonValue(idn.public(id)), nil
	})
}

// public describes the identity for the page: no private key.
func (idn *identity) public(id string) Identity {
	c := idn.cert.Leaf
	return Identity{
		ID:       id,
		Name:     idn.name,
		Subject:  c.Subject.String(),
		Issuer:   c.Issuer.String(),
		Serial:   c.SerialNumber.Text(16),
		NotAfter: c.NotAfter.UTC().Format(time.RFC3339),
		ChainPEM: string(chainPEM(idn.cert)),
	}
}

// chainPEM encodes a certificate chain, leaf first.
func chainPEM(c *tls.Certificate) []byte {
	var chain []byte
	for _, der := range c.Certificate {
		chain = append(chain, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})...)
	}
	return chain
}

// exportIdentity(id) → SavedIdentity: for keeping the identity in this
// browser when the learner asks.
func exportIdentity(this js.Value, args []js.Value) any {
	if len(args) != 1 {
		return rejected("usage: exportIdentity(id)")
	}
	id := args[0].String()
	return promise(func() (any, error) {
		idn, err := lookupIdentity(id)
		if err != nil {
			return nil, err
		}
		keyDER, err := x509.MarshalPKCS8PrivateKey(idn.key)
		if err != nil {
			return nil, err
		}
		return jsonValue(SavedIdentity{Name: idn.name, KeyPEM: string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})), ChainPEM: string(chainPEM(idn.cert))}), nil
	})
}

// importIdentity(keyPEM, chainPEM) → Identity: brings back a saved identity.
func importIdentity(this js.Value, args []js.Value) any {
	if len(args) != 2 {
		return rejected("usage: importIdentity(keyPEM, chainPEM)")
	}
	keyPEM, chainPEM := args[0].String(), args[1].String()
	return promise(func() (any, error) {
		cert, err := tls.X509KeyPair([]byte(chainPEM), []byte(keyPEM))
		if err != nil {
			return nil, fmt.Errorf("saved identity unusable: %v", err)
		}
		key, ok := cert.PrivateKey.(*ecdsa.PrivateKey)
		if !ok {
			return nil, errors.New("saved identity unusable: not an ECDSA key")
		}
		id := newID()
		idn := &identity{name: cert.Leaf.Subject.CommonName, key: key, cert: &cert}
		identities.Lock()
		identities.m[id] = idn
		identities.Unlock()
		return jsonValue(idn.public(id)), nil
	})
}

// signRevocation(id, unixTime) → RevocationProof: proves to POST
// /pki/revoke that this page holds the identity's key (see the server's
// RevokeProofPrefix).
func signRevocation(this js.Value, args []js.Value) any {
	if len(args) != 2 {
		return rejected("usage: signRevocation(id, unixTime)")
	}
	id, when := args[0].String(), args[1].String()
	return promise(func() (any, error) {
		idn, err := lookupIdentity(id)
		if err != nil {
			return nil, err
		}
		msg := "mqtts-playground revoke " + idn.cert.Leaf.SerialNumber.Text(16) + " " + when
		sum := sha256.Sum256([]byte(msg))
		sig, err := ecdsa.SignASN1(rand.Reader, idn.key, sum[:])
		if err != nil {
			return nil, err
		}
		certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: idn.cert.Leaf.Raw})
		return jsonValue(RevocationProof{CertPEM: string(certPEM), Proof: base64.StdEncoding.EncodeToString(sig)}), nil
	})
}
