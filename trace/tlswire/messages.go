package tlswire

import (
	"bytes"
	"crypto/tls"
	"fmt"
	"strings"

	"github.com/mqtts-playground/playground/trace/field"
)

// emptyBody returns the decoder of a message that has no body at all,
// summarized as summary, defined in spec.
func emptyBody(summary, spec string) func(d *decoder, r *span) bool {
	return func(d *decoder, r *span) bool {
		d.m.Summary = summary
		if !r.empty() {
			return d.failf(r.off, "body", "%s where the message must be empty (%s)", nbytes(r.left()), spec)
		}
		return true
	}
}

// unknownBody returns the decoder of a message type, called wire in the
// specifications, that this package does not take apart.
func unknownBody(wire string) func(d *decoder, r *span) bool {
	return func(d *decoder, r *span) bool {
		b, _ := d.rest(r, field.Field{Name: "body", About: "The body of a " + wire + " message, which this decoder does not take apart", Spec: "RFC 8446 §4"})
		d.m.Summary = nbytes(len(b)) + " body"
		return true
	}
}

// encryptedExtensions decodes RFC 8446 §4.3.1: the server's answers to the
// client's extensions that do not shape the keys, sent encrypted.
func (d *decoder) encryptedExtensions(r *span) bool {
	if !d.extensions(r, 0, inEncryptedExtensions) {
		return false
	}
	s := count(d.facts.extensions, "extension")
	if d.facts.extensions == 0 {
		s = "no extensions"
	}
	if len(d.facts.alpn) > 0 {
		s = "ALPN " + d.facts.alpn[0] + ", " + s
	}
	d.m.Summary = s
	return true
}

// newSessionTicket13 decodes a TLS 1.3 NewSessionTicket (RFC 8446 §4.6.1).
func (d *decoder) newSessionTicket13(r *span) bool {
	const spec = "RFC 8446 §4.6.1"
	life, idx, ok := d.num(r, 4, field.Field{Name: "ticket_lifetime", Spec: spec})
	if !ok {
		return false
	}
	d.set(idx, seconds(life), "How long, in seconds, the client may use this ticket; at most 7 days")
	_, idx, ok = d.num(r, 4, field.Field{Name: "ticket_age_add", Spec: spec})
	if !ok {
		return false
	}
	d.set(idx, hexValue(d.msg[d.fields[idx].Start:d.fields[idx].End]),
		"A random number the client adds to the ticket's age when it resumes, so an eavesdropper cannot link the two connections")
	if _, _, ok := d.opaque(r, vec{size: 1, max: 255}, field.Field{Name: "ticket_nonce", About: "Makes the resumption key of each ticket different, even when a server sends several in one connection", Spec: spec}); !ok {
		return false
	}
	ticket, _, ok := d.opaque(r, vec{size: 2, min: 1}, field.Field{Name: "ticket", About: "The ticket itself: opaque to the client, usually the session state encrypted with a key only the server knows", Spec: spec})
	if !ok {
		return false
	}
	if !d.extensions(r, 0, inNewSessionTicket) {
		return false
	}
	s := fmt.Sprintf("ticket of %s, lifetime %s", nbytes(len(ticket)), seconds(life))
	if d.facts.earlyData {
		s += fmt.Sprintf(", early data up to %s", nbytes(int(d.facts.maxEarlyData)))
	}
	d.m.Summary = s
	return true
}

// newSessionTicket12 decodes a TLS 1.2 NewSessionTicket (RFC 5077 §3.3).
func (d *decoder) newSessionTicket12(r *span) bool {
	const spec = "RFC 5077 §3.3"
	life, idx, ok := d.num(r, 4, field.Field{Name: "ticket_lifetime_hint", Spec: spec})
	if !ok {
		return false
	}
	hint := seconds(life)
	if life == 0 {
		hint = "unspecified"
	}
	d.set(idx, hint, "A hint of how many seconds the ticket stays valid; 0 means unspecified")
	ticket, _, ok := d.opaque(r, vec{size: 2}, field.Field{Name: "ticket", About: "The session state, encrypted with a key only the server knows; the client stores it and sends it back to resume", Spec: spec})
	if !ok {
		return false
	}
	d.m.Summary = fmt.Sprintf("ticket of %s, lifetime hint %s", nbytes(len(ticket)), hint)
	return true
}

// serverKeyExchange decodes a TLS 1.2 ServerKeyExchange: ECDHE parameters
// (RFC 8422 §5.4) when curve_type is named_curve (3), else finite-field DHE
// parameters (RFC 5246 §7.4.3), then the signature over them.
func (d *decoder) serverKeyExchange(r *span) bool {
	var kx string
	if r.left() > 0 && r.s[0] == 3 {
		const spec = "RFC 8422 §5.4"
		_, idx, _ := d.num(r, 1, field.Field{Name: "curve_type", Spec: spec})
		d.set(idx, "named_curve (3)", "The key-exchange curve is given by name (the only form still allowed)")
		g, idx, ok := d.num(r, 2, field.Field{Name: "namedcurve", Spec: spec})
		if !ok {
			return false
		}
		d.set(idx, groupValue(uint16(g)), "The group of this ephemeral ECDHE exchange. "+groupAbout(uint16(g)))
		pub, _, ok := d.opaque(r, vec{size: 1, min: 1}, field.Field{Name: "public", About: "The server's ephemeral public key for this connection only (fresh keys give forward secrecy)", Spec: spec})
		if !ok {
			return false
		}
		kx = fmt.Sprintf("ECDHE %s, %d-byte public key", GroupName(uint16(g)), len(pub))
	} else {
		const spec = "RFC 5246 §7.4.3"
		p, _, ok := d.opaque(r, vec{size: 2, min: 1}, field.Field{Name: "dh_p", About: "The prime modulus of the Diffie-Hellman group", Spec: spec})
		if !ok {
			return false
		}
		if _, _, ok := d.opaque(r, vec{size: 2, min: 1}, field.Field{Name: "dh_g", About: "The generator of the Diffie-Hellman group", Spec: spec}); !ok {
			return false
		}
		if _, _, ok := d.opaque(r, vec{size: 2, min: 1}, field.Field{Name: "dh_Ys", About: "The server's ephemeral Diffie-Hellman public value", Spec: spec}); !ok {
			return false
		}
		kx = fmt.Sprintf("DHE %d-bit group", 8*len(bytes.TrimLeft(p, "\x00")))
	}
	if r.empty() {
		d.m.Summary = kx + ", unsigned"
		return true
	}
	alg, ok := d.signature(r, "The server's signature over both randoms and these parameters, made with its certificate key: proves the parameters come from the certificate's owner")
	if !ok {
		return false
	}
	d.m.Summary = kx + alg
	return true
}

// signature decodes a TLS 1.2 digitally-signed struct (RFC 5246 §4.7): the
// algorithm (from TLS 1.2 on) and the signature. It returns a summary tail.
func (d *decoder) signature(r *span, about string) (string, bool) {
	spec := "RFC 5246 §7.4.3"
	tail := ""
	if d.version == 0 || d.version >= tls.VersionTLS12 {
		alg, idx, ok := d.num(r, 2, field.Field{Name: "algorithm", Spec: spec})
		if !ok {
			return "", false
		}
		d.set(idx, schemeValue(uint16(alg)), "How the signature is made. "+schemeAbout(uint16(alg)))
		tail = ", signed with " + SignatureSchemeName(uint16(alg))
	}
	if _, _, ok := d.opaque(r, vec{size: 2}, field.Field{Name: "signature", About: about, Spec: spec}); !ok {
		return "", false
	}
	return tail, true
}

// certificateRequest13 decodes a TLS 1.3 CertificateRequest (RFC 8446 §4.3.2).
func (d *decoder) certificateRequest13(r *span) bool {
	const spec = "RFC 8446 §4.3.2"
	if _, _, ok := d.opaque(r, vec{size: 1, max: 255}, field.Field{Name: "certificate_request_context", About: "Chosen by the server and echoed in the client's Certificate, to match answers to requests after the handshake; empty during it", Spec: spec}); !ok {
		return false
	}
	if !d.extensions(r, 0, inCertificateRequest) {
		return false
	}
	s := "client certificate requested"
	if d.facts.sigSchemes > 0 {
		s += ", " + count(d.facts.sigSchemes, "signature scheme")
	}
	if d.facts.authorities > 0 {
		s += ", " + count(d.facts.authorities, "accepted CA")
	}
	d.m.Summary = s
	return true
}

// certificateRequest12 decodes a TLS 1.2 CertificateRequest (RFC 5246 §7.4.4;
// TLS 1.0 and 1.1 lack supported_signature_algorithms).
func (d *decoder) certificateRequest12(r *span) bool {
	const spec = "RFC 5246 §7.4.4"
	types, idx, ok := d.vector(r, vec{size: 1, min: 1}, field.Field{Name: "certificate_types", About: "The kinds of key the client certificate may have", Spec: spec})
	if !ok {
		return false
	}
	var names []string
	for !types.empty() {
		t, i, _ := d.num(&types, 1, field.Field{Name: "certificate_type", Depth: 1, Spec: spec})
		name := certTypeName(uint8(t))
		d.set(i, fmt.Sprintf("%s (%d)", name, t), "One acceptable client certificate type")
		names = append(names, name)
	}
	d.set(idx, strings.Join(names, ", "), "")
	n := 0
	if d.version == 0 || d.version >= tls.VersionTLS12 {
		algs, idx, ok := d.vector(r, vec{size: 2, min: 2, max: 0xfffe}, field.Field{Name: "supported_signature_algorithms", About: "The signature algorithms the server accepts in the client's CertificateVerify", Spec: spec})
		if !ok {
			return false
		}
		for !algs.empty() {
			a, i, ok := d.num(&algs, 2, field.Field{Name: "signature_algorithm", Depth: 1, Spec: spec})
			if !ok {
				return false
			}
			d.set(i, schemeValue(uint16(a)), schemeAbout(uint16(a)))
			n++
		}
		d.set(idx, count(n, "algorithm"), "")
	}
	cas, idx, ok := d.vector(r, vec{size: 2}, field.Field{Name: "certificate_authorities", About: "Names of the CAs whose certificates the server accepts; empty means any", Spec: spec})
	if !ok {
		return false
	}
	k := 0
	for !cas.empty() {
		if !d.distinguishedName(&cas, 1, spec) {
			return false
		}
		k++
	}
	d.set(idx, count(k, "authority"), "")
	s := "client certificate requested: " + strings.Join(names, ", ")
	if n > 0 {
		s += ", " + count(n, "signature algorithm")
	}
	if k > 0 {
		s += ", " + count(k, "accepted CA")
	}
	d.m.Summary = s
	return true
}

// certificateVerify decodes RFC 8446 §4.4.3 and RFC 5246 §7.4.8.
func (d *decoder) certificateVerify(r *span) bool {
	spec, about := "RFC 8446 §4.4.3",
		"A signature over the hash of the handshake so far, made with the private key of the certificate just sent: proves the sender owns that certificate"
	if d.version != 0 && d.version <= tls.VersionTLS12 {
		spec, about = "RFC 5246 §7.4.8",
			"The client's signature over all handshake messages so far, made with its certificate's private key: proves it owns that certificate"
	}
	s := ""
	if d.version == 0 || d.version >= tls.VersionTLS12 {
		alg, idx, ok := d.num(r, 2, field.Field{Name: "algorithm", Spec: spec})
		if !ok {
			return false
		}
		d.set(idx, schemeValue(uint16(alg)), "The signature scheme used. "+schemeAbout(uint16(alg)))
		s = SignatureSchemeName(uint16(alg)) + ", "
	}
	sig, _, ok := d.opaque(r, vec{size: 2}, field.Field{Name: "signature", About: about, Spec: spec})
	if !ok {
		return false
	}
	d.m.Summary = fmt.Sprintf("%s%d-byte signature", s, len(sig))
	return true
}

// clientKeyExchange decodes a TLS 1.2 ClientKeyExchange. The message does
// not say which key exchange it belongs to, so the layout decides: a 1-byte
// length covering the rest is an ECDHE public key (RFC 8422 §5.7), otherwise
// it is a 2-byte-length value: an RSA-encrypted premaster secret (RFC 5246
// §7.4.7.1) or a finite-field DH public value (RFC 5246 §7.4.7.2).
func (d *decoder) clientKeyExchange(r *span) bool {
	if r.left() > 1 && int(r.s[0]) == r.left()-1 {
		pub, _, ok := d.opaque(r, vec{size: 1, min: 1}, field.Field{Name: "ecdh_Yc", About: "The client's ephemeral ECDHE public key; combined with the server's, it gives both sides the same premaster secret", Spec: "RFC 8422 §5.7"})
		if !ok {
			return false
		}
		d.m.Summary = "ECDHE public key, " + nbytes(len(pub))
		return true
	}
	b, _, ok := d.opaque(r, vec{size: 2, min: 1}, field.Field{Name: "exchange_keys", About: "RSA key exchange: the premaster secret encrypted to the server's certificate key (no forward secrecy); with a DHE suite, the client's DH public value instead", Spec: "RFC 5246 §7.4.7"})
	if !ok {
		return false
	}
	d.m.Summary = "encrypted premaster secret or DH public value, " + nbytes(len(b))
	return true
}

// finished decodes RFC 8446 §4.4.4 and RFC 5246 §7.4.9.
func (d *decoder) finished(r *span) bool {
	spec, about := "RFC 8446 §4.4.4",
		"An HMAC over the transcript hash keyed from the handshake secret: proves the sender saw the same handshake and holds the same keys"
	if d.version != 0 && d.version <= tls.VersionTLS12 {
		spec, about = "RFC 5246 §7.4.9",
			"PRF(master_secret, label, hash of the handshake messages): proves the sender saw the same handshake and holds the same keys"
	}
	b, _ := d.rest(r, field.Field{Name: "verify_data", About: about, Spec: spec})
	if len(b) == 0 {
		return d.failf(4, "verify_data", "empty")
	}
	d.m.Summary = nbytes(len(b)) + " verify_data"
	return true
}

// certificateStatus decodes the stapled OCSP response of RFC 6066 §8.
func (d *decoder) certificateStatus(r *span) bool {
	const spec = "RFC 6066 §8"
	t, idx, ok := d.num(r, 1, field.Field{Name: "status_type", Spec: spec})
	if !ok {
		return false
	}
	d.set(idx, statusTypeValue(uint8(t)), "The kind of status information; ocsp (1) is the one defined")
	if t != 1 {
		return d.failf(4, "status_type", "unsupported value %d", t)
	}
	resp, _, ok := d.opaque(r, vec{size: 3, min: 1}, field.Field{Name: "response", About: "A DER OCSP response, signed by the CA, saying the certificate is not revoked (stapled so the client need not ask the CA)", Spec: spec})
	if !ok {
		return false
	}
	d.m.Summary = "OCSP response, " + nbytes(len(resp))
	return true
}

// keyUpdate decodes RFC 8446 §4.6.3.
func (d *decoder) keyUpdate(r *span) bool {
	const spec = "RFC 8446 §4.6.3"
	v, idx, ok := d.num(r, 1, field.Field{Name: "request_update", Spec: spec})
	if !ok {
		return false
	}
	switch v {
	case 0:
		d.set(idx, "update_not_requested (0)", "The sender switched to new keys; the peer need not do the same")
		d.m.Summary = "update_not_requested"
	case 1:
		d.set(idx, "update_requested (1)", "The sender switched to new keys and asks the peer to update its sending keys too")
		d.m.Summary = "update_requested"
	default:
		d.set(idx, fmt.Sprintf("invalid (%d)", v), "Only 0 and 1 are defined")
		return d.failf(4, "request_update", "invalid value %d", v)
	}
	return true
}

// messageHash decodes the synthetic message of RFC 8446 §4.4.1 that stands
// in for the first ClientHello in the transcript after a HelloRetryRequest.
func (d *decoder) messageHash(r *span) bool {
	b, _ := d.rest(r, field.Field{Name: "hash", About: "The hash of the first ClientHello; after a HelloRetryRequest the transcript keeps only this, never sent on the wire", Spec: "RFC 8446 §4.4.1"})
	d.m.Summary = "hash of ClientHello1, " + nbytes(len(b))
	return true
}
