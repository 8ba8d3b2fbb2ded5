package tlswire

import (
	"bytes"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/asn1"
	"fmt"
	"strings"
	"time"

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

// x509Parts walks the DER of a certificate that x509.ParseCertificate
// accepted, to annotate each part of RFC 5280 §4.1 over its own bytes.
func (d *decoder) x509Parts(der []byte, off, depth int, c *x509.Certificate) {
	// Every String below is a reslice of der, so its offset in der is the
	// difference of the capacities.
	add := func(s cryptobyte.String, dep int, name, value, about, spec string) {
		o := cap(der) - cap(s)
		if o < 0 || o+len(s) > len(der) {
			return
		}
		d.add(field.Field{Name: name, Depth: dep, About: about, Spec: spec}, off+o, off+o+len(s), value)
	}
	in := cryptobyte.String(der)
	var certificate, tbsElem, tbs, el cryptobyte.String
	if !in.ReadASN1(&certificate, cbasn1.SEQUENCE) ||
		!certificate.ReadASN1Element(&tbsElem, cbasn1.SEQUENCE) {
		return
	}
	t := tbsElem
	if !t.ReadASN1(&tbs, cbasn1.SEQUENCE) {
		return
	}
	if tbs.PeekASN1Tag(cbasn1.Tag(0).Constructed().ContextSpecific()) {
		if !tbs.ReadASN1Element(&el, cbasn1.Tag(0).Constructed().ContextSpecific()) {
			return
		}
		add(el, depth, "version", fmt.Sprintf("v%d", c.Version), "The X.509 format version; v3 adds extensions", "RFC 5280 §4.1.2.1")
	}
	if !tbs.ReadASN1Element(&el, cbasn1.INTEGER) {
		return
	}
	add(el, depth, "serialNumber", colonHex(c.SerialNumber.Bytes()),
		"A number the issuer gives this certificate, unique among all it issues", "RFC 5280 §4.1.2.2")
	if !tbs.ReadASN1Element(&el, cbasn1.SEQUENCE) {
		return
	}
	add(el, depth, "signature", c.SignatureAlgorithm.String(),
		"The algorithm the issuer signs with, repeated inside the signed part so it cannot be swapped", "RFC 5280 §4.1.2.3")
	if !tbs.ReadASN1Element(&el, cbasn1.SEQUENCE) {
		return
	}
	add(el, depth, "issuer", c.Issuer.String(),
		"Who issued and signed this certificate: the subject of the next certificate up the chain", "RFC 5280 §4.1.2.4")
	if !tbs.ReadASN1Element(&el, cbasn1.SEQUENCE) {
		return
	}
	add(el, depth, "validity", c.NotBefore.UTC().Format(time.DateTime)+" to "+c.NotAfter.UTC().Format(time.DateTime)+" UTC",
		"The time window in which the certificate may be trusted", "RFC 5280 §4.1.2.5")
	validity := el
	var seq, when cryptobyte.String
	var tag cbasn1.Tag
	if validity.ReadASN1(&seq, cbasn1.SEQUENCE) && seq.ReadAnyASN1Element(&when, &tag) {
		add(when, depth+1, "notBefore", c.NotBefore.UTC().Format(time.RFC3339), "Not valid before this time", "RFC 5280 §4.1.2.5")
		if seq.ReadAnyASN1Element(&when, &tag) {
			add(when, depth+1, "notAfter", c.NotAfter.UTC().Format(time.RFC3339), "Not valid after this time; clients reject expired certificates", "RFC 5280 §4.1.2.5")
		}
	}
	if !tbs.ReadASN1Element(&el, cbasn1.SEQUENCE) {
		return
	}
	add(el, depth, "subject", c.Subject.String(),
		"Who this certificate is about; for TLS servers the names that count are in subjectAltName", "RFC 5280 §4.1.2.6")
	if !tbs.ReadASN1Element(&el, cbasn1.SEQUENCE) {
		return
	}
	add(el, depth, "subjectPublicKeyInfo", publicKeyName(c),
		"The subject's public key; the matching private key signs CertificateVerify (or ServerKeyExchange in TLS 1.2)", "RFC 5280 §4.1.2.7")
	for !tbs.Empty() {
		if !tbs.ReadAnyASN1Element(&el, &tag) {
			return
		}
		if tag != cbasn1.Tag(3).Constructed().ContextSpecific() {
			continue // issuerUniqueID, subjectUniqueID: obsolete
		}
		var explicit, exts, ext cryptobyte.String
		e := el
		if !e.ReadASN1(&explicit, tag) || !explicit.ReadASN1(&exts, cbasn1.SEQUENCE) {
			return
		}
		for !exts.Empty() {
			if !exts.ReadASN1Element(&ext, cbasn1.SEQUENCE) {
				return
			}
			name, value, about, spec := x509Extension(ext, c)
			add(ext, depth, name, value, about, spec)
		}
	}
	if certificate.ReadASN1Element(&el, cbasn1.SEQUENCE) {
		add(el, depth, "signatureAlgorithm", c.SignatureAlgorithm.String(),
			"The algorithm of the issuer's signature that follows", "RFC 5280 §4.1.1.2")
	}
	if certificate.ReadASN1Element(&el, cbasn1.BIT_STRING) {
		add(el, depth, "signatureValue", fmt.Sprintf("%d-byte signature", len(c.Signature)),
			"The issuer's signature over everything above: checking it with the issuer's public key proves the issuer vouches for this certificate", "RFC 5280 §4.1.1.3")
	}
}

// x509Extension names and describes one certificate extension, whose DER
// element is ext, using the values c parsed from it.
func x509Extension(ext cryptobyte.String, c *x509.Certificate) (name, value, about, spec string) {
	var body cryptobyte.String
	var oid asn1.ObjectIdentifier
	critical := false
	if !ext.ReadASN1(&body, cbasn1.SEQUENCE) || !body.ReadASN1ObjectIdentifier(&oid) {
		return "extension", "", "A certificate extension", "RFC 5280 §4.1.2.9"
	}
	if body.PeekASN1Tag(cbasn1.BOOLEAN) {
		body.ReadASN1Boolean(&critical)
	}
	id := oid.String()
	switch id {
	case "2.5.29.17":
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
		name, value, spec = "subjectAltName", strings.Join(names, ", "), "RFC 5280 §4.2.1.6"
		about = "The names this certificate is valid for; a TLS client checks the server name it dialed against these"
	case "2.5.29.15":
		name, value, spec = "keyUsage", keyUsageValue(c.KeyUsage), "RFC 5280 §4.2.1.3"
		about = "What the key may be used for (signing, key encipherment, signing certificates …)"
	case "2.5.29.37":
		name, value, spec = "extKeyUsage", extKeyUsageValue(c), "RFC 5280 §4.2.1.12"
		about = "The purposes the certificate is for, such as serverAuth (TLS server) or clientAuth (TLS client)"
	case "2.5.29.19":
		name, spec = "basicConstraints", "RFC 5280 §4.2.1.9"
		if c.IsCA {
			value = "CA: yes"
			if c.MaxPathLen > 0 || c.MaxPathLenZero {
				value += fmt.Sprintf(", path length %d", c.MaxPathLen)
			}
			about = "This is a CA certificate: its key may sign other certificates"
		} else {
			value = "CA: no"
			about = "An end-entity certificate: its key must not sign other certificates"
		}
	case "2.5.29.14":
		name, value, spec = "subjectKeyIdentifier", colonHex(c.SubjectKeyId), "RFC 5280 §4.2.1.2"
		about = "An identifier of this certificate's public key, used to find the certificates it issued"
	case "2.5.29.35":
		name, value, spec = "authorityKeyIdentifier", colonHex(c.AuthorityKeyId), "RFC 5280 §4.2.1.1"
		about = "Identifies the issuer's key, to find the next certificate up the chain"
	case "2.5.29.31":
		name, value, spec = "cRLDistributionPoints", strings.Join(c.CRLDistributionPoints, ", "), "RFC 5280 §4.2.1.13"
		about = "Where to download the list of certificates the issuer has revoked"
	case "2.5.29.32":
		name, value, spec = "certificatePolicies", "", "RFC 5280 §4.2.1.4"
		about = "The policies under which the certificate was issued"
	case "2.5.29.30":
		name, value, spec = "nameConstraints", "", "RFC 5280 §4.2.1.10"
		about = "Limits the names the certificates below this CA may carry"
	case "1.3.6.1.5.5.7.1.1":
		name, value, spec = "authorityInfoAccess", strings.Join(append(append([]string{}, c.OCSPServer...), c.IssuingCertificateURL...), ", "), "RFC 5280 §4.2.2.1"
		about = "Where to find the issuer's certificate and its OCSP responder"
	case "1.3.6.1.4.1.11129.2.4.2":
		name, value, spec = "signedCertificateTimestampList", "", "RFC 6962 §3.3"
		about = "Proofs that the certificate was logged in public Certificate Transparency logs"
	default:
		name, value, spec = "extension", id, "RFC 5280 §4.1.2.9"
		about = "A certificate extension this decoder does not describe"
	}
	if critical {
		value += " (critical)"
		about += "; critical: a verifier that does not understand it must reject the certificate"
	}
	return name, value, about, spec
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
