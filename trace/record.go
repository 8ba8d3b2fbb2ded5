package trace

import (
	"encoding/binary"
	"fmt"
)

// TLS record content types (RFC 8446 §5.1, RFC 5246 §6.2.1).
const (
	recordChangeCipherSpec byte = 20
	recordAlert            byte = 21
	recordHandshake        byte = 22
	recordApplicationData  byte = 23
)

// maxRecordLen bounds a record body: 2^14 plus the largest expansion any
// version allows (RFC 5246 §6.2.3 allows 2048 bytes of it).
const maxRecordLen = 16384 + 2048

// contentTypeName names a record content type.
func contentTypeName(t byte) string {
	switch t {
	case recordChangeCipherSpec:
		return "ChangeCipherSpec"
	case recordAlert:
		return "Alert"
	case recordHandshake:
		return "Handshake"
	case recordApplicationData:
		return "ApplicationData"
	case 24:
		return "Heartbeat"
	}
	return fmt.Sprintf("Unknown(%d)", t)
}

// record is one TLS record cut from a byte stream.
type record struct {
	typ     byte
	version uint16
	wire    []byte // header and body as on the wire
	end     int    // stream offset just past the record
}

func (r record) body() []byte { return r.wire[5:] }

// splitRecords cuts a stream into whole TLS records. It returns the records,
// the number of bytes of an incomplete record left at the end, and an error
// when the stream stops looking like TLS.
func splitRecords(b []byte) (recs []record, rest int, err error) {
	off := 0
	for len(b)-off >= 5 {
		typ := b[off]
		ver := binary.BigEndian.Uint16(b[off+1:])
		n := int(binary.BigEndian.Uint16(b[off+3:]))
		if typ < 20 || typ > 24 || ver>>8 != 3 {
			return recs, 0, fmt.Errorf("trace: tls: bytes at offset %d are not a TLS record header (type %d, version %#04x)", off, typ, ver)
		}
		if n > maxRecordLen {
			return recs, 0, fmt.Errorf("trace: tls: record at offset %d claims %d bytes, more than the %d a record may hold", off, n, maxRecordLen)
		}
		if len(b)-off < 5+n {
			break
		}
		recs = append(recs, record{typ: typ, version: ver, wire: b[off : off+5+n], end: off + 5 + n})
		off += 5 + n
	}
	return recs, len(b) - off, nil
}

// recordHeaderFields annotates the 5-byte record header.
func recordHeaderFields(r record, encrypted bool, tls13 bool) []Field {
	spec := "RFC 5246 §6.2.1"
	typeName, typeAbout := "type", "What the record carries: handshake, alert, change_cipher_spec or application data."
	if tls13 {
		spec = "RFC 8446 §5.1"
		if encrypted {
			spec = "RFC 8446 §5.2"
			typeName = "opaque_type"
			typeAbout = "Always application_data (23) once encryption is on, so an observer cannot tell handshake messages, alerts and data apart; the real type is inside the encrypted part."
		}
	}
	verAbout := "Kept for compatibility with old middleboxes; the real version is negotiated in the hello messages."
	if !tls13 {
		verAbout = "The protocol version of this record."
	}
	return []Field{
		{Name: typeName, Value: fmt.Sprintf("%s (%d)", contentTypeName(r.typ), r.typ), Start: 0, End: 1, About: typeAbout, Spec: spec},
		{Name: "legacy_record_version", Value: VersionName(r.version), Start: 1, End: 3, About: verAbout, Spec: spec},
		{Name: "length", Value: fmt.Sprintf("%d bytes", len(r.wire)-5), Start: 3, End: 5, About: "How many bytes of record body follow this 5-byte header.", Spec: spec},
	}
}

// alertDescription names TLS alerts and says what usually causes each.
var alertDescription = map[byte]struct{ name, cause string }{
	0:   {"close_notify", "The sender is closing the connection cleanly; no more data will follow."},
	10:  {"unexpected_message", "A message arrived that the protocol does not allow at this point."},
	20:  {"bad_record_mac", "A record failed its integrity check: wrong keys, or the bytes were changed in transit."},
	22:  {"record_overflow", "A record was longer than the protocol allows."},
	40:  {"handshake_failure", "The two sides found no parameters they both accept (versions, cipher suites, groups), or the client sent no certificate where one is required."},
	42:  {"bad_certificate", "The peer rejected a certificate as corrupt or badly signed; on an mTLS listener, often the client certificate is missing or not trusted."},
	43:  {"unsupported_certificate", "The certificate's type or key is one the peer does not support."},
	44:  {"certificate_revoked", "The certificate was revoked by its issuer."},
	45:  {"certificate_expired", "The certificate is outside its validity window (expired, or not valid yet: check the clock)."},
	46:  {"certificate_unknown", "The certificate was rejected for another reason."},
	47:  {"illegal_parameter", "A field held a value that is out of range or inconsistent with other fields."},
	48:  {"unknown_ca", "The certificate chain does not lead to a CA the peer trusts: the client needs the right CA file."},
	49:  {"access_denied", "The handshake worked, but the peer's policy refuses this connection."},
	50:  {"decode_error", "A message could not be parsed: a length or field was malformed."},
	51:  {"decrypt_error", "A signature or Finished check failed: a key does not match its certificate, or the transcript differs."},
	70:  {"protocol_version", "The peer does not support the offered protocol version (for example TLS 1.2 only against a TLS 1.3-only server)."},
	71:  {"insufficient_security", "The offered parameters are weaker than the peer requires."},
	80:  {"internal_error", "The peer hit a problem of its own, unrelated to the protocol."},
	86:  {"inappropriate_fallback", "A client retried with a lower version although both sides support a higher one."},
	90:  {"user_canceled", "The handshake was cancelled by the application."},
	109: {"missing_extension", "A required extension was absent."},
	110: {"unsupported_extension", "An extension appeared in a message where it is not allowed."},
	112: {"unrecognized_name", "The server has no certificate for the name sent in SNI."},
	113: {"bad_certificate_status_response", "An OCSP response from the server was invalid."},
	115: {"unknown_psk_identity", "The server does not know the pre-shared key identity the client offered."},
	116: {"certificate_required", "The server requires a client certificate (mutual TLS) and the client sent none."},
	120: {"no_application_protocol", "The client and server have no ALPN protocol in common."},
}

// AlertName names a TLS alert description.
func AlertName(d byte) string {
	if a, ok := alertDescription[d]; ok {
		return a.name
	}
	return fmt.Sprintf("unknown(%d)", d)
}

// decodeAlert annotates a two-byte alert (RFC 8446 §6, RFC 5246 §7.2) found
// at offset base.
func decodeAlert(b []byte, base int, in string) (summary string, fields []Field, err error) {
	if len(b) != 2 {
		return "malformed alert", nil, fmt.Errorf("trace: tls: alert of %d bytes, want 2", len(b))
	}
	level := "warning"
	if b[0] == 2 {
		level = "fatal"
	} else if b[0] != 1 {
		level = fmt.Sprintf("unknown(%d)", b[0])
	}
	d := alertDescription[b[1]]
	cause := d.cause
	if cause == "" {
		cause = "An alert this decoder does not know."
	}
	fields = []Field{
		{Name: "level", Value: fmt.Sprintf("%s (%d)", level, b[0]), Start: base, End: base + 1, In: in, About: "Fatal alerts end the connection at once; in TLS 1.3 every alert but close_notify and user_canceled is fatal.", Spec: "RFC 8446 §6"},
		{Name: "description", Value: fmt.Sprintf("%s (%d)", AlertName(b[1]), b[1]), Start: base + 1, End: base + 2, In: in, About: cause, Spec: "RFC 8446 §6"},
	}
	return fmt.Sprintf("%s %s", level, AlertName(b[1])), fields, nil
}
