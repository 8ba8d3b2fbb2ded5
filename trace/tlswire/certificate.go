package tlswire

import (
	"bytes"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/asn1"
	"fmt"
	"strings"
	"time"

	"github.com/mqtts-playground/playground/trace/explain"
	"github.com/mqtts-playground/playground/trace/field"
	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// certificate decodes a Certificate message: RFC 8446 §4.4.2 for TLS 1.3,
// RFC 5246 §7.4.2 before.
func (d *decoder) certificate(r *span) bool {
	tls13 := d.version == tls.VersionTLS13
	spec := "RFC 5246 §7.4.2"
	if tls13 {
		spec = "RFC 8446 §4.4.2"
		if _, _, ok := d.opaque(r, vec{size: 1, max: 255}, field.Field{Name: "certificate_request_context", About: "Empty from a server; from a client, the context of the CertificateRequest it answers", Spec: spec}); !ok {
			return false
		}
	}
	list, idx, ok := d.vector(r, vec{size: 3}, field.Field{Name: "certificate_list", About: "The certificate chain: the sender's own certificate first, then the ones that vouch for it", Spec: spec})
	if !ok {
		return false
	}
	var names []string
	for !list.empty() {
		der, i, ok := d.opaque(&list, vec{size: 3, min: 1}, field.Field{Name: "cert_data", Depth: 1, About: "One X.509 certificate in DER encoding", Spec: spec})
		if !ok {
			return false
		}
		cert, err := d.certData(der, d.fields[i].Start, i, 2)
		d.m.Certificates = append(d.m.Certificates, cert)
		if err != nil {
			d.failf(d.fields[i].Start, "cert_data", "%v", err)
			names = append(names, "?")
		} else {
			names = append(names, shortName(cert.Subject.CommonName, cert.Subject.String()))
		}
		if tls13 && !d.extensions(&list, 1, inCertificate) {
			return false
		}
	}
	n := len(d.m.Certificates)
	d.set(idx, count(n, "certificate"), "")
	if n == 0 {
		d.m.Summary = "no certificates"
	} else {
		d.m.Summary = count(n, "certificate") + ": " + strings.Join(names, " ← ")
	}
	return true
}

// certData annotates the DER certificate der, which starts at offset off, with
// depth-deep fields for its parts, and sets the Value of the field at index
// idx to "subject issued by issuer". It returns the parsed certificate.
func (d *decoder) certData(der []byte, off, idx, depth int) (*x509.Certificate, error) {
	sum := sha256.Sum256(der)
	d.add(field.Field{Name: "SHA-256 fingerprint", Depth: depth, About: "SHA-256 of the whole certificate: a short, unique name for it (not part of the bytes, computed from them)", Spec: "RFC 5280 §4.1"}, off, off+len(der), colonHex(sum[:]))
	cert, err := x509.ParseCertificate(bytes.Clone(der))
	if err != nil {
		d.set(idx, "unparseable certificate", "")
		return nil, err
	}
	value := shortName(cert.Subject.CommonName, cert.Subject.String()) + " issued by " +
		shortName(cert.Issuer.CommonName, cert.Issuer.String())
	if bytes.Equal(cert.RawSubject, cert.RawIssuer) {
		value += " (self-signed)"
	}
	d.set(idx, value, "")
	d.x509Parts(der, off, depth, cert)
	return cert, nil
}

// certParts annotates the parts of one DER certificate, der, which starts
// at offset off of the message. Every cryptobyte.String it reads is a
// reslice of der, so its offset in der is the difference of the
// capacities.
type certParts struct {
	d   *decoder
	der []byte
	off int
}

// add annotates the DER element s as the field of template f.
func (p certParts) add(s cryptobyte.String, f field.Field, value string) {
	o := cap(p.der) - cap(s)
	if o < 0 || o+len(s) > len(p.der) {
		return
	}
	p.d.add(f, p.off+o, p.off+o+len(s), value)
}

// tbsParts are the fields of a TBSCertificate (RFC 5280 §4.1.2) after its
// optional version, in order.
var tbsParts = []struct {
	tag   cbasn1.Tag
	f     field.Field
	value func(c *x509.Certificate) string
}{
	{cbasn1.INTEGER, field.Field{Name: "serialNumber", Spec: "RFC 5280 §4.1.2.2",
		About: "A number the issuer gives this certificate, unique among all it issues"},
		func(c *x509.Certificate) string { return colonHex(c.SerialNumber.Bytes()) }},
	{cbasn1.SEQUENCE, field.Field{Name: "signature", Spec: "RFC 5280 §4.1.2.3",
		About: "The algorithm the issuer signs with, repeated inside the signed part so it cannot be swapped"},
		func(c *x509.Certificate) string { return c.SignatureAlgorithm.String() }},
	{cbasn1.SEQUENCE, field.Field{Name: "issuer", Spec: "RFC 5280 §4.1.2.4",
		About: "Who issued and signed this certificate: the subject of the next certificate up the chain"},
		func(c *x509.Certificate) string { return c.Issuer.String() }},
	{cbasn1.SEQUENCE, field.Field{Name: "validity", Spec: "RFC 5280 §4.1.2.5",
		About: "The time window in which the certificate may be trusted"},
		func(c *x509.Certificate) string {
			return c.NotBefore.UTC().Format(time.DateTime) + " to " + c.NotAfter.UTC().Format(time.DateTime) + " UTC"
		}},
	{cbasn1.SEQUENCE, field.Field{Name: "subject", Spec: "RFC 5280 §4.1.2.6",
		About: "Who this certificate is about; for TLS servers the names that count are in subjectAltName"},
		func(c *x509.Certificate) string { return c.Subject.String() }},
	{cbasn1.SEQUENCE, field.Field{Name: "subjectPublicKeyInfo", Spec: "RFC 5280 §4.1.2.7",
		About: "The subject's public key; the matching private key signs CertificateVerify (or ServerKeyExchange in TLS 1.2)"},
		publicKeyName},
}

// x509Parts walks the DER of a certificate that x509.ParseCertificate
// accepted, to annotate each part of RFC 5280 §4.1 over its own bytes, at
// depth.
func (d *decoder) x509Parts(der []byte, off, depth int, c *x509.Certificate) {
	p := certParts{d: d, der: der, off: off}
	in := cryptobyte.String(der)
	var certificate, tbsElem, tbs, el cryptobyte.String
	if !in.ReadASN1(&certificate, cbasn1.SEQUENCE) ||
		!certificate.ReadASN1Element(&tbsElem, cbasn1.SEQUENCE) ||
		!tbsElem.ReadASN1(&tbs, cbasn1.SEQUENCE) {
		return
	}
	if !p.tbs(&tbs, depth, c) {
		return
	}
	if certificate.ReadASN1Element(&el, cbasn1.SEQUENCE) {
		p.add(el, field.Field{Name: "signatureAlgorithm", Depth: depth, Spec: "RFC 5280 §4.1.1.2",
			About: "The algorithm of the issuer's signature that follows"}, c.SignatureAlgorithm.String())
	}
	if certificate.ReadASN1Element(&el, cbasn1.BIT_STRING) {
		p.add(el, field.Field{Name: "signatureValue", Depth: depth, Spec: "RFC 5280 §4.1.1.3",
			About: "The issuer's signature over everything above: checking it with the issuer's public key proves the issuer vouches for this certificate"},
			fmt.Sprintf("%d-byte signature", len(c.Signature)))
	}
}

// tbs annotates the parts of a TBSCertificate; it returns false when they
// do not read as RFC 5280 lays them out.
func (p certParts) tbs(tbs *cryptobyte.String, depth int, c *x509.Certificate) bool {
	var el cryptobyte.String
	if explicit := cbasn1.Tag(0).Constructed().ContextSpecific(); tbs.PeekASN1Tag(explicit) {
		if !tbs.ReadASN1Element(&el, explicit) {
			return false
		}
		p.add(el, field.Field{Name: "version", Depth: depth, Spec: "RFC 5280 §4.1.2.1",
			About: "The X.509 format version; v3 adds extensions"}, fmt.Sprintf("v%d", c.Version))
	}
	for _, part := range tbsParts {
		if !tbs.ReadASN1Element(&el, part.tag) {
			return false
		}
		f := part.f
		f.Depth = depth
		p.add(el, f, part.value(c))
		if f.Name == "validity" {
			p.validity(el, depth+1, c)
		}
	}
	for !tbs.Empty() {
		var tag cbasn1.Tag
		if !tbs.ReadAnyASN1Element(&el, &tag) {
			return false
		}
		if tag != cbasn1.Tag(3).Constructed().ContextSpecific() {
			continue // issuerUniqueID, subjectUniqueID: obsolete
		}
		if !p.extensions(el, tag, depth, c) {
			return false
		}
	}
	return true
}

// validity annotates notBefore and notAfter in the Validity element el.
func (p certParts) validity(el cryptobyte.String, depth int, c *x509.Certificate) {
	var seq, when cryptobyte.String
	var tag cbasn1.Tag
	if el.ReadASN1(&seq, cbasn1.SEQUENCE) && seq.ReadAnyASN1Element(&when, &tag) {
		p.add(when, field.Field{Name: "notBefore", Depth: depth, About: "Not valid before this time", Spec: "RFC 5280 §4.1.2.5"},
			c.NotBefore.UTC().Format(time.RFC3339))
		if seq.ReadAnyASN1Element(&when, &tag) {
			p.add(when, field.Field{Name: "notAfter", Depth: depth, About: "Not valid after this time; clients reject expired certificates", Spec: "RFC 5280 §4.1.2.5"},
				c.NotAfter.UTC().Format(time.RFC3339))
		}
	}
}

// extensions annotates each extension of the [3] EXPLICIT Extensions
// element el.
func (p certParts) extensions(el cryptobyte.String, tag cbasn1.Tag, depth int, c *x509.Certificate) bool {
	var explicit, exts, ext cryptobyte.String
	if !el.ReadASN1(&explicit, tag) || !explicit.ReadASN1(&exts, cbasn1.SEQUENCE) {
		return false
	}
	for !exts.Empty() {
		if !exts.ReadASN1Element(&ext, cbasn1.SEQUENCE) {
			return false
		}
		f := x509Extension(ext, c)
		f.Depth = depth
		p.add(ext, f, f.Value)
	}
	return true
}

// certExtension names and describes a certificate extension.
type certExtension struct {
	name, spec, about string
	value             func(c *x509.Certificate) string
}

// certExtensions are the extensions this decoder describes, by OID.
var certExtensions = map[string]certExtension{
	"2.5.29.17": {"subjectAltName", "RFC 5280 §4.2.1.6",
		"The names this certificate is valid for; a TLS client checks the server name it dialed against these", altNames},
	"2.5.29.15": {"keyUsage", "RFC 5280 §4.2.1.3",
		"What the key may be used for (signing, key encipherment, signing certificates …)",
		func(c *x509.Certificate) string { return keyUsageValue(c.KeyUsage) }},
	"2.5.29.37": {"extKeyUsage", "RFC 5280 §4.2.1.12",
		"The purposes the certificate is for, such as serverAuth (TLS server) or clientAuth (TLS client)", extKeyUsageValue},
	"2.5.29.19": {"basicConstraints", "RFC 5280 §4.2.1.9", "", basicConstraintsValue},
	"2.5.29.14": {"subjectKeyIdentifier", "RFC 5280 §4.2.1.2",
		"An identifier of this certificate's public key, used to find the certificates it issued",
		func(c *x509.Certificate) string { return colonHex(c.SubjectKeyId) }},
	"2.5.29.35": {"authorityKeyIdentifier", "RFC 5280 §4.2.1.1",
		"Identifies the issuer's key, to find the next certificate up the chain",
		func(c *x509.Certificate) string { return colonHex(c.AuthorityKeyId) }},
	"2.5.29.31": {"cRLDistributionPoints", "RFC 5280 §4.2.1.13",
		"Where to download the list of certificates the issuer has revoked",
		func(c *x509.Certificate) string { return strings.Join(c.CRLDistributionPoints, ", ") }},
	"2.5.29.32": {"certificatePolicies", "RFC 5280 §4.2.1.4",
		"The policies under which the certificate was issued", nil},
	"2.5.29.30": {"nameConstraints", "RFC 5280 §4.2.1.10",
		"Limits the names the certificates below this CA may carry", nil},
	"1.3.6.1.5.5.7.1.1": {"authorityInfoAccess", "RFC 5280 §4.2.2.1",
		"Where to find the issuer's certificate and its OCSP responder",
		func(c *x509.Certificate) string {
			return strings.Join(append(append([]string{}, c.OCSPServer...), c.IssuingCertificateURL...), ", ")
		}},
	"1.3.6.1.4.1.11129.2.4.2": {"signedCertificateTimestampList", "RFC 6962 §3.3",
		"Proofs that the certificate was logged in public Certificate Transparency logs", nil},
}

// x509Extension names and describes one certificate extension, whose DER
// element is ext, using the values c parsed from it: the result has Name,
// Value, About and Spec set.
func x509Extension(ext cryptobyte.String, c *x509.Certificate) field.Field {
	var body cryptobyte.String
	var oid asn1.ObjectIdentifier
	critical := false
	if !ext.ReadASN1(&body, cbasn1.SEQUENCE) || !body.ReadASN1ObjectIdentifier(&oid) {
		return field.Field{Name: "extension", About: "A certificate extension", Spec: "RFC 5280 §4.1.2.9"}
	}
	if body.PeekASN1Tag(cbasn1.BOOLEAN) {
		body.ReadASN1Boolean(&critical)
	}
	f := field.Field{Name: "extension", Value: oid.String(), About: "A certificate extension this decoder does not describe", Spec: "RFC 5280 §4.1.2.9"}
	if e, ok := certExtensions[oid.String()]; ok {
		f = field.Field{Name: e.name, About: e.about, Spec: e.spec}
		if e.value != nil {
			f.Value = e.value(c)
		}
		if e.name == "basicConstraints" {
			f.About = basicConstraintsAbout(c)
		}
	}
	if critical {
		f.Value += " (critical)"
		f.About += "; critical: a verifier that does not understand it must reject the certificate"
	}
	return f
}

// altNames lists the names of a subjectAltName.
func altNames(c *x509.Certificate) string { return strings.Join(altNameList(c), ", ") }

// altNameList is each name of a subjectAltName, with its kind: "DNS:…",
// "IP:…", "URI:…", "email:…".
func altNameList(c *x509.Certificate) []string {
	var names []string
	for _, n := range c.DNSNames {
		names = append(names, "DNS:"+n)
	}
	for _, ip := range c.IPAddresses {
		names = append(names, "IP:"+ip.String())
	}
	for _, u := range c.URIs {
		names = append(names, "URI:"+u.String())
	}
	for _, e := range c.EmailAddresses {
		names = append(names, "email:"+e)
	}
	return names
}

// CertInfos describes the certificates of a Certificate message: certs
// is its chain as decoded ([HandshakeMessage.Certificates], nil for one
// that does not parse) and fields the fields of the event that carries
// it, whose cert_data fields they pair with in order.
func CertInfos(fields []field.Field, certs []*x509.Certificate) []CertInfo {
	var out []CertInfo
	i := 0
	for fi, f := range fields {
		if f.Name != "cert_data" || i >= len(certs) {
			continue
		}
		c := certs[i]
		i++
		if c == nil {
			out = append(out, CertInfo{Field: fi, Error: "the certificate does not parse as X.509"})
			continue
		}
		sum := sha256.Sum256(c.Raw)
		out = append(out, CertInfo{
			Field: fi, Subject: c.Subject.String(), SubjectCN: c.Subject.CommonName,
			Issuer: c.Issuer.String(), IssuerCN: c.Issuer.CommonName,
			SelfSigned: bytes.Equal(c.RawSubject, c.RawIssuer), CA: c.IsCA,
			NotBefore: c.NotBefore.UTC(), NotAfter: c.NotAfter.UTC(), Names: altNameList(c),
			Key: publicKeyName(c), Signature: c.SignatureAlgorithm.String(),
			Serial: colonHex(c.SerialNumber.Bytes()), Fingerprint: colonHex(sum[:]),
		})
	}
	return out
}

func basicConstraintsValue(c *x509.Certificate) string {
	if !c.IsCA {
		return "CA: no"
	}
	v := "CA: yes"
	if c.MaxPathLen > 0 || c.MaxPathLenZero {
		v += fmt.Sprintf(", path length %d", c.MaxPathLen)
	}
	return v
}

func basicConstraintsAbout(c *x509.Certificate) string {
	if c.IsCA {
		return "This is a CA certificate: its key may sign other certificates"
	}
	return "An end-entity certificate: its key must not sign other certificates"
}

// distinguishedName decodes one opaque DistinguishedName<1..2^16-1>, a DER
// X.501 Name, as used in certificate_authorities.
func (d *decoder) distinguishedName(r *span, depth int, spec string) bool {
	b, idx, ok := d.opaque(r, vec{size: 2, min: 1}, field.Field{Name: "DistinguishedName", Depth: depth, About: "The name of one acceptable certificate authority (a DER X.501 Name)", Spec: spec})
	if !ok {
		return false
	}
	if name, ok := dnString(b); ok {
		d.set(idx, name, "")
	}
	return true
}

// publicKeyName describes a certificate key as "ECDSA P-256", "RSA 2048" …
func publicKeyName(c *x509.Certificate) string {
	switch k := c.PublicKey.(type) {
	case *ecdsa.PublicKey:
		return "ECDSA " + k.Curve.Params().Name
	case *rsa.PublicKey:
		return fmt.Sprintf("RSA %d", k.N.BitLen())
	case ed25519.PublicKey:
		return "Ed25519"
	case *ecdh.PublicKey:
		return fmt.Sprint(k.Curve())
	}
	return c.PublicKeyAlgorithm.String()
}

func keyUsageValue(k x509.KeyUsage) string {
	names := []string{"digitalSignature", "contentCommitment", "keyEncipherment", "dataEncipherment",
		"keyAgreement", "keyCertSign", "cRLSign", "encipherOnly", "decipherOnly"}
	var out []string
	for i, n := range names {
		if k&(1<<i) != 0 {
			out = append(out, n)
		}
	}
	return strings.Join(out, ", ")
}

func extKeyUsageValue(c *x509.Certificate) string {
	return strings.Join(explain.ExtKeyUsageNames(c), ", ")
}

// shortName shows a certificate name as "CN=…" when it has a common name.
func shortName(cn, full string) string {
	switch {
	case cn != "":
		return "CN=" + cn
	case full != "":
		return full
	}
	return "(empty name)"
}
