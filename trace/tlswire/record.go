package tlswire

import (
	"encoding/binary"
	"fmt"

	"github.com/mqtts-playground/playground/trace/field"
)

// TLS record content types (RFC 8446 §5.1, RFC 5246 §6.2.1).
const (
	RecordChangeCipherSpec byte = 20
	RecordAlert            byte = 21
	RecordHandshake        byte = 22
	RecordApplicationData  byte = 23
	RecordHeartbeat        byte = 24
)

// HeaderLen is the size of a record header: type, version, length.
const HeaderLen = 5

// MaxRecordLen bounds a record body: 2^14 plus the largest expansion any
// version allows (RFC 5246 §6.2.3 allows 2048 bytes of it).
const MaxRecordLen = 16384 + 2048

// ContentTypeName names a record content type: "Handshake", "Alert" …,
// or "Unknown(N)".
func ContentTypeName(t byte) string {
	switch t {
	case RecordChangeCipherSpec:
		return "ChangeCipherSpec"
	case RecordAlert:
		return "Alert"
	case RecordHandshake:
		return "Handshake"
	case RecordApplicationData:
		return "ApplicationData"
	case RecordHeartbeat:
		return "Heartbeat"
	}
	return fmt.Sprintf("Unknown(%d)", t)
}

// Record is one TLS record cut from a byte stream.
type Record struct {
	Type    byte   // content type
	Version uint16 // legacy_record_version
	Wire    []byte // header and body as on the wire
	End     int    // stream offset just past the record
}

// Body returns the record's bytes after the 5-byte header.
func (r Record) Body() []byte { return r.Wire[HeaderLen:] }

// BodyLen reads a record header h (at least HeaderLen bytes) and returns
// the length of the body that follows, or false when h does not look like
// a TLS record header: a content type from 20 to 24, a major version of 3
// and a length of at most MaxRecordLen.
func BodyLen(h []byte) (int, bool) {
	n := int(binary.BigEndian.Uint16(h[3:]))
	return n, h[0] >= RecordChangeCipherSpec && h[0] <= RecordHeartbeat && h[1] == 3 && n <= MaxRecordLen
}

// SplitRecords cuts a stream into whole TLS records. It returns the records,
// the number of bytes of an incomplete record left at the end, and an error
// when the stream stops looking like TLS.
func SplitRecords(b []byte) (recs []Record, rest int, err error) {
	return SplitRecordsAt(b, 0)
}

// SplitRecordsAt is [SplitRecords] for b, the bytes of a stream from offset
// at on: an error names the offset in the stream (the records' End still
// counts from the start of b). It lets a decoder go on splitting a growing
// stream where it stopped.
func SplitRecordsAt(b []byte, at int) (recs []Record, rest int, err error) {
	off := 0
	for len(b)-off >= HeaderLen {
		n, ok := BodyLen(b[off:])
		if !ok {
			return recs, 0, headerError(b[off:], at+off)
		}
		if len(b)-off < HeaderLen+n {
			break
		}
		end := off + HeaderLen + n
		recs = append(recs, Record{Type: b[off], Version: binary.BigEndian.Uint16(b[off+1:]), Wire: b[off:end], End: end})
		off = end
	}
	return recs, len(b) - off, nil
}

// headerError says why h, at offset off, is not a record header that
// BodyLen accepts.
func headerError(h []byte, off int) error {
	typ, ver, n := h[0], binary.BigEndian.Uint16(h[1:]), int(binary.BigEndian.Uint16(h[3:]))
	if typ < RecordChangeCipherSpec || typ > RecordHeartbeat || ver>>8 != 3 {
		return fmt.Errorf("trace: tls: bytes at offset %d are not a TLS record header (type %d, version %#04x)", off, typ, ver)
	}
	return fmt.Errorf("trace: tls: record at offset %d claims %d bytes, more than the %d a record may hold", off, n, MaxRecordLen)
}

// RecordHeaderFields annotates the 5-byte header of r, a record of a TLS 1.3
// connection when tls13 is set, that travels encrypted when encrypted is.
func RecordHeaderFields(r Record, encrypted bool, tls13 bool) []field.Field {
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
	return []field.Field{
		{Name: typeName, Value: fmt.Sprintf("%s (%d)", ContentTypeName(r.Type), r.Type), Start: 0, End: 1, About: typeAbout, Spec: spec},
		{Name: "legacy_record_version", Value: VersionName(r.Version), Start: 1, End: 3, About: verAbout, Spec: spec},
		{Name: "length", Value: fmt.Sprintf("%d bytes", len(r.Wire)-HeaderLen), Start: 3, End: HeaderLen, About: "How many bytes of record body follow this 5-byte header.", Spec: spec},
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

// DecodeAlert annotates a two-byte alert (RFC 8446 §6, RFC 5246 §7.2) found
// at offset base of the bytes that In in names (see [field.Field]).
func DecodeAlert(b []byte, base int, in string) (summary string, fields []field.Field, err error) {
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
	fields = []field.Field{
		{Name: "level", Value: fmt.Sprintf("%s (%d)", level, b[0]), Start: base, End: base + 1, In: in, About: "Fatal alerts end the connection at once; in TLS 1.3 every alert but close_notify and user_canceled is fatal.", Spec: "RFC 8446 §6"},
		{Name: "description", Value: fmt.Sprintf("%s (%d)", AlertName(b[1]), b[1]), Start: base + 1, End: base + 2, In: in, About: cause, Spec: "RFC 8446 §6"},
	}
	return fmt.Sprintf("%s %s", level, AlertName(b[1])), fields, nil
}

// SplitInner splits a TLSInnerPlaintext into its content and content type
// (RFC 8446 §5.2): the type is the last non-zero byte, the zeros after it
// are padding. It returns false when plain is all zeros.
func SplitInner(plain []byte) (content []byte, typ byte, ok bool) {
	i := len(plain) - 1
	for i >= 0 && plain[i] == 0 {
		i--
	}
	if i < 0 {
		return nil, 0, false
	}
	return plain[:i], plain[i], true
}
