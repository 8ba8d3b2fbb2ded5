package pki

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"
)

// MaxCSRSize is the largest certificate request SignCSR reads, in bytes of
// PEM.
const MaxCSRSize = 16 << 10

// DefaultCSRValidity is how long a client certificate from SignCSR is
// valid when CSROptions.Validity is zero.
const DefaultCSRValidity = 30 * 24 * time.Hour

// maxRSABits bounds the RSA keys SignCSR accepts.
const maxRSABits = 8192

// DefaultForbidden are the names SignCSR refuses as a client identity when
// CSROptions.Forbidden is nil. Names starting with "$" are always refused.
var DefaultForbidden = []string{"admin", "broker"}

// isClientName reports whether cn may be a client identity (the CSR's
// common name): ^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$, checked by hand so that
// the static build's wasm does without package regexp (a quarter of a
// megabyte).
func isClientName(cn string) bool {
	if cn == "" || len(cn) > 64 {
		return false
	}
	for i := 0; i < len(cn); i++ {
		switch c := cn[i]; {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case i > 0 && (c == '.' || c == '_' || c == '-'):
		default:
			return false
		}
	}
	return true
}

// CSROptions tunes SignCSR.
type CSROptions struct {
	// Validity is how long the certificate is valid; 0 means
	// DefaultCSRValidity. It never outlives the issuing CA.
	Validity time.Duration
	// Forbidden are reserved identities, compared without regard to case;
	// nil means DefaultForbidden, an empty slice reserves none. Names
	// starting with "$" are reserved in any case.
	Forbidden []string
}

// SignCSR issues a client certificate (clientAuth only) for a PEM
// certificate request, as a device or a learner's tool sends it, and returns
// the chain in PEM, the leaf first then the intermediate (the leaf alone
// for an external root CA, see LoadExternal), and the parsed leaf.
//
// The identity is the request's subject common name, which must match
// ^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$ and not be reserved (see
// CSROptions.Forbidden). The certificate holds only that common name, and
// the URI mqtt://user/<CN> when the request has that URI for the same name;
// every other subject field, name (DNS names and IP addresses in
// particular) and extension the request asks for is left out.
//
// It refuses a request over MaxCSRSize bytes, one that is not a single PEM
// "CERTIFICATE REQUEST" block of valid DER, whose signature does not
// verify, or whose key is not ECDSA P-256 or P-384, RSA of 2048 to 8192
// bits, or Ed25519. The error says which, and what to do.
func (ca *CA) SignCSR(csrPEM []byte, opts CSROptions) (chainPEM []byte, leaf *x509.Certificate, err error) {
	csr, err := parseCSR(csrPEM)
	if err != nil {
		return nil, nil, err
	}
	if err := checkCSRKey(csr); err != nil {
		return nil, nil, err
	}
	if err := csr.CheckSignature(); err != nil {
		return nil, nil, fmt.Errorf("pki: the certificate request's signature does not verify (%v): it was changed after signing or signed with another key; make it again", err)
	}
	cn := csr.Subject.CommonName
	if err := checkClientName(cn, opts.Forbidden); err != nil {
		return nil, nil, err
	}
	validity := opts.Validity
	switch {
	case validity == 0:
		validity = DefaultCSRValidity
	case validity < 0:
		return nil, nil, fmt.Errorf("pki: CSROptions.Validity is negative (%v): give a positive duration, or 0 for %v", validity, DefaultCSRValidity)
	}
	now := ca.now()
	tmpl := &x509.Certificate{
		Subject:     pkix.Name{CommonName: cn},
		NotBefore:   now.Add(-time.Hour),
		NotAfter:    minTime(now.Add(validity), ca.Intermediate.NotAfter),
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	if _, ok := csr.PublicKey.(*rsa.PublicKey); ok {
		tmpl.KeyUsage |= x509.KeyUsageKeyEncipherment
	}
	for _, u := range csr.URIs {
		if isUserURI(u, cn) {
			tmpl.URIs = []*url.URL{userURI(cn)}
			break
		}
	}
	leaf, err = sign(tmpl, ca.Intermediate, csr.PublicKey, ca.intermediateKey)
	if err != nil {
		return nil, nil, err
	}
	return CertPEM(append([]*x509.Certificate{leaf}, ca.chain()...)...), leaf, nil
}

// userURI is the SAN URI naming an MQTT user.
func userURI(cn string) *url.URL { return &url.URL{Scheme: "mqtt", Host: "user", Path: "/" + cn} }

// isUserURI reports whether u is exactly mqtt://user/<cn>.
func isUserURI(u *url.URL, cn string) bool {
	return u != nil && u.Scheme == "mqtt" && u.Opaque == "" && u.User == nil && u.Host == "user" &&
		u.Path == "/"+cn && u.RawPath == "" && !u.ForceQuery && u.RawQuery == "" && u.Fragment == ""
}

// parseCSR decodes and parses one PEM certificate request.
func parseCSR(data []byte) (*x509.CertificateRequest, error) {
	if len(data) > MaxCSRSize {
		return nil, fmt.Errorf("pki: the certificate request is %d bytes, over the %d KiB limit: send only the PEM request", len(data), MaxCSRSize>>10)
	}
	b, rest := pem.Decode(data)
	if b == nil {
		return nil, errors.New("pki: no PEM block found: send the request in PEM form, starting with -----BEGIN CERTIFICATE REQUEST-----")
	}
	switch {
	case b.Type == "CERTIFICATE REQUEST" || b.Type == "NEW CERTIFICATE REQUEST":
	case strings.Contains(b.Type, "PRIVATE KEY"):
		return nil, fmt.Errorf("pki: that is a private key (PEM %q), not a certificate request: never send a private key anywhere; send the request made with it (openssl req -new -key ...)", b.Type)
	default:
		return nil, fmt.Errorf("pki: the PEM block is a %q, not a certificate request: send the CSR (-----BEGIN CERTIFICATE REQUEST-----)", b.Type)
	}
	if len(b.Headers) > 0 {
		return nil, errors.New("pki: the PEM certificate request has headers: send a plain request without them")
	}
	if p, _ := pem.Decode(rest); p != nil {
		return nil, fmt.Errorf("pki: more than one PEM block found (a %q follows the request): send the certificate request alone", p.Type)
	}
	csr, err := x509.ParseCertificateRequest(b.Bytes)
	if err != nil {
		return nil, fmt.Errorf("pki: the PEM block holds no valid certificate request (bad DER: %v): make the request again (openssl req -new)", err)
	}
	return csr, nil
}

// checkCSRKey accepts ECDSA P-256 and P-384, RSA of 2048 to 8192 bits and
// Ed25519 keys.
func checkCSRKey(csr *x509.CertificateRequest) error {
	switch k := csr.PublicKey.(type) {
	case *ecdsa.PublicKey:
		if k.Curve != elliptic.P256() && k.Curve != elliptic.P384() {
			return fmt.Errorf("pki: ECDSA curve %s is not accepted: use P-256 (openssl ecparam -name prime256v1) or P-384", curveName(k.Curve))
		}
	case *rsa.PublicKey:
		bits := k.N.BitLen()
		if bits < minRSABits {
			return fmt.Errorf("pki: RSA key of %d bits is too weak: use at least %d bits (openssl genrsa 2048), or better an ECDSA P-256 key", bits, minRSABits)
		}
		if bits > maxRSABits {
			return fmt.Errorf("pki: RSA key of %d bits is over the %d-bit limit: use 2048 to 4096 bits, or an ECDSA P-256 key", bits, maxRSABits)
		}
	case ed25519.PublicKey:
	default:
		return fmt.Errorf("pki: the request's key (%s) is not a supported type: use ECDSA P-256 or P-384, RSA (2048 bits or more) or Ed25519", keyAlgorithm(csr))
	}
	return nil
}

// keyAlgorithm names the request's key algorithm for messages, by its
// object identifier when crypto/x509 does not know it.
func keyAlgorithm(csr *x509.CertificateRequest) string {
	if csr.PublicKeyAlgorithm != x509.UnknownPublicKeyAlgorithm {
		return fmt.Sprintf("%s, %T", csr.PublicKeyAlgorithm, csr.PublicKey)
	}
	var spki struct {
		Algorithm pkix.AlgorithmIdentifier
		PublicKey asn1.BitString
	}
	if _, err := asn1.Unmarshal(csr.RawSubjectPublicKeyInfo, &spki); err != nil {
		return "unknown algorithm"
	}
	return "unknown algorithm " + spki.Algorithm.Algorithm.String()
}

// checkClientName checks a client identity against the allowed form and
// the reserved names (forbidden, nil meaning DefaultForbidden).
func checkClientName(cn string, forbidden []string) error {
	if forbidden == nil {
		forbidden = DefaultForbidden
	}
	switch {
	case cn == "":
		return errors.New("pki: the request has no subject common name: set the CN to the client's user name (openssl req -subj /CN=device-1)")
	case strings.HasPrefix(cn, "$"):
		return fmt.Errorf("pki: common name %q is reserved (names starting with \"$\" belong to the broker): choose another name", cn)
	case !isClientName(cn):
		return fmt.Errorf("pki: common name %q is not allowed: use 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit", cn)
	}
	for _, f := range forbidden {
		if strings.EqualFold(cn, f) {
			return fmt.Errorf("pki: common name %q is reserved: choose another name", cn)
		}
	}
	return nil
}
