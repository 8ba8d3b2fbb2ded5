package tlswire

import "time"

// CertInfo is what one certificate of a Certificate message says, as data
// for views that draw the chain (the fields annotate the same facts over
// the certificate's bytes, worded for people). Its JSON form is part of
// the event schema (web/src/gen/tlswire.ts is generated from this file).
type CertInfo struct {
	// Field is the index, among the event's fields, of the certificate's
	// cert_data field: where its bytes are.
	Field int `json:"field"`
	// Error says why the certificate could not be parsed; the other
	// facts are then empty.
	Error string `json:"error,omitempty"`
	// Subject and Issuer are the distinguished names (RFC 4514 strings, as
	// crypto/x509 writes them); SubjectCN and IssuerCN their common names,
	// empty when they have none. A certificate follows its issuer in a
	// chain when the issuer's Subject equals its Issuer.
	Subject   string `json:"subject"`
	SubjectCN string `json:"subjectCN,omitempty"`
	Issuer    string `json:"issuer"`
	IssuerCN  string `json:"issuerCN,omitempty"`
	// SelfSigned is true when subject and issuer are the same name (a root,
	// or a certificate nobody vouches for).
	SelfSigned bool `json:"selfSigned,omitempty"`
	// CA is true when basicConstraints marks the certificate as a CA.
	CA bool `json:"ca,omitempty"`
	// NotBefore and NotAfter bound the validity window.
	NotBefore time.Time `json:"notBefore"`
	NotAfter  time.Time `json:"notAfter"`
	// Names are the subjectAltName entries: DNS names, IP addresses, URIs
	// and e-mail addresses.
	Names []string `json:"names,omitempty"`
	// Key names the public key: "ECDSA P-256", "RSA 2048", "Ed25519".
	Key string `json:"key"`
	// Signature is the algorithm the issuer signed with: "ECDSA-SHA256",
	// "SHA1-RSA" …
	Signature string `json:"signature"`
	// Serial is the serial number, colon-separated hex.
	Serial string `json:"serial"`
	// Fingerprint is the SHA-256 of the whole certificate, colon-separated
	// hex: a short name to compare with one published out of band.
	Fingerprint string `json:"fingerprint"`
}
