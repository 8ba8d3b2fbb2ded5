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
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/mqtts-playground/playground/trace/field"
	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// HandshakeMessage is one decoded TLS handshake message.
type HandshakeMessage struct {
	// Type names the message: "HelloRequest", "ClientHello", "ServerHello",
	// "HelloRetryRequest" (a ServerHello whose random is the special value of
	// RFC 8446 §4.1.3), "NewSessionTicket", "EndOfEarlyData",
	// "EncryptedExtensions", "Certificate", "ServerKeyExchange",
	// "CertificateRequest", "ServerHelloDone", "CertificateVerify",
	// "ClientKeyExchange", "Finished", "CertificateStatus", "KeyUpdate",
	// "MessageHash", else "Unknown(N)" with N the msg_type ("Unknown" when
	// not even the msg_type byte is there).
	Type string
	// Summary is one line for a sequence diagram, such as
	// "TLS 1.3 offered, SNI localhost, 2 key shares (X25519MLKEM768, x25519)".
	Summary string
	// Fields annotate the message. Start and End are offsets into the message
	// bytes as passed to DecodeHandshake (offset 0 is the msg_type byte of the
	// 4-byte handshake header). Fields are ordered by Start, a parent before
	// its children. In is empty: the caller fixes offsets and In up.
	Fields []field.Field
	// Err is non-nil when the message is malformed; Fields then holds what
	// decoded before the problem.
	Err error

	// The values below let the record layer follow the connection.

	// Random is the 32-byte random of a ClientHello or ServerHello (a copy).
	Random []byte
	// SessionID is the legacy_session_id of a ClientHello or ServerHello
	// (a copy).
	SessionID []byte
	// Version is, for a ServerHello or HelloRetryRequest, the negotiated
	// version (supported_versions when present, else legacy_version) and, for
	// a ClientHello, the highest version offered.
	Version uint16
	// CipherSuite is the suite a ServerHello or HelloRetryRequest chose.
	CipherSuite uint16
	// Certificates is the chain of a Certificate message, leaf first, with a
	// nil entry for each certificate that does not parse.
	Certificates []*x509.Certificate
}

// Handshake message types (RFC 8446 §4, RFC 5246 §7.4 and the IANA registry).
const (
	typeHelloRequest        = 0
	typeClientHello         = 1
	typeServerHello         = 2
	typeNewSessionTicket    = 4
	typeEndOfEarlyData      = 5
	typeEncryptedExtensions = 8
	typeCertificate         = 11
	typeServerKeyExchange   = 12
	typeCertificateRequest  = 13
	typeServerHelloDone     = 14
	typeCertificateVerify   = 15
	typeClientKeyExchange   = 16
	typeFinished            = 20
	typeCertificateStatus   = 22
	typeKeyUpdate           = 24
	typeMessageHash         = 254
)

// hsTypes maps a msg_type to the Type this package reports (empty for the
// types it does not decode) and to its name in the specifications.
var hsTypes = map[uint8]struct{ typ, wire string }{
	typeHelloRequest:        {"HelloRequest", "hello_request"},
	typeClientHello:         {"ClientHello", "client_hello"},
	typeServerHello:         {"ServerHello", "server_hello"},
	3:                       {"", "hello_verify_request"},
	typeNewSessionTicket:    {"NewSessionTicket", "new_session_ticket"},
	typeEndOfEarlyData:      {"EndOfEarlyData", "end_of_early_data"},
	6:                       {"", "hello_retry_request (draft value)"},
	typeEncryptedExtensions: {"EncryptedExtensions", "encrypted_extensions"},
	typeCertificate:         {"Certificate", "certificate"},
	typeServerKeyExchange:   {"ServerKeyExchange", "server_key_exchange"},
	typeCertificateRequest:  {"CertificateRequest", "certificate_request"},
	typeServerHelloDone:     {"ServerHelloDone", "server_hello_done"},
	typeCertificateVerify:   {"CertificateVerify", "certificate_verify"},
	typeClientKeyExchange:   {"ClientKeyExchange", "client_key_exchange"},
	typeFinished:            {"Finished", "finished"},
	21:                      {"", "certificate_url"},
	typeCertificateStatus:   {"CertificateStatus", "certificate_status"},
	23:                      {"", "supplemental_data"},
	typeKeyUpdate:           {"KeyUpdate", "key_update"},
	25:                      {"", "compressed_certificate"},
	typeMessageHash:         {"MessageHash", "message_hash"},
}

// hrrRandom is the random of a HelloRetryRequest: SHA-256("HelloRetryRequest"),
// RFC 8446 §4.1.3.
var hrrRandom = []byte{
	0xCF, 0x21, 0xAD, 0x74, 0xE5, 0x9A, 0x61, 0x11,
	0xBE, 0x1D, 0x8C, 0x02, 0x1E, 0x65, 0xB8, 0x91,
	0xC2, 0xA2, 0x11, 0x16, 0x7A, 0xBB, 0x8C, 0x5E,
	0x07, 0x9E, 0x09, 0xE2, 0xC8, 0xA8, 0x33, 0x9C,
}

// The last 8 bytes of a ServerHello random from a TLS 1.3 server that
// negotiated an older version (RFC 8446 §4.1.3).
var (
	downgradeTLS12 = []byte("DOWNGRD\x01")
	downgradeTLS11 = []byte("DOWNGRD\x00")
)

// DecodeHandshake decodes one complete handshake message msg (4-byte header
// included).
//
// version is the protocol version negotiated so far: 0 before the
// ServerHello, tls.VersionTLS12 or tls.VersionTLS13 after. It matters because
// Certificate, CertificateRequest and NewSessionTicket have different layouts
// in TLS 1.2 and 1.3 (and CertificateVerify, CertificateRequest and
// ServerKeyExchange carry no signature algorithm before TLS 1.2). When version
// is 0 for one of those messages, the TLS 1.3 layout is tried first and the
// TLS 1.2 one if that fails.
//
// It never panics. Errors are lowercase, start with "trace: tls: ", and name
// the offset of the offending bytes, e.g.
// "trace: tls: ClientHello: extension 43 at offset 120: duplicate".
func DecodeHandshake(msg []byte, version uint16) HandshakeMessage {
	if version == 0 && len(msg) > 0 {
		switch msg[0] {
		case typeNewSessionTicket, typeCertificate, typeCertificateRequest:
			m := decodeHandshake(msg, tls.VersionTLS13)
			if m.Err == nil {
				return m
			}
			if alt := decodeHandshake(msg, tls.VersionTLS12); alt.Err == nil {
				return alt
			}
			return m
		}
	}
	return decodeHandshake(msg, version)
}

// hsDecoder holds the state of one DecodeHandshake call.
type hsDecoder struct {
	msg     []byte
	version uint16
	name    string // the message Type, for error text
	m       *HandshakeMessage
	fields  []field.Field
	err     error
	facts   hsFacts
}

// hsFacts are what the extensions said, gathered for Summary and for the
// values of HandshakeMessage.
type hsFacts struct {
	sni             string
	alpn            []string
	versions        []uint16 // ClientHello supported_versions
	selectedVersion uint16   // ServerHello supported_versions
	keyShares       []uint16 // ClientHello key_share groups
	serverGroup     uint16   // ServerHello key_share group
	hasServerGroup  bool
	hrrGroup        uint16 // HelloRetryRequest selected_group
	hasHRRGroup     bool
	psk             bool
	ticket          int // ClientHello session_ticket size
	cookie          bool
	earlyData       bool
	maxEarlyData    uint32
	ech             bool
	sigSchemes      int
	authorities     int
	extensions      int
}

// span is a cursor over part of a message: the bytes not read yet and the
// offset of the first of them in the whole message.
type span struct {
	s   cryptobyte.String
	off int
}

func (r *span) empty() bool { return r.s.Empty() }
func (r *span) left() int   { return len(r.s) }

func decodeHandshake(msg []byte, version uint16) HandshakeMessage {
	m := HandshakeMessage{Type: "Unknown"}
	d := &hsDecoder{msg: msg, version: version, m: &m, name: "handshake message"}
	d.decode()
	m.Fields = d.fields
	m.Err = d.err
	if m.Err != nil {
		m.Summary = "malformed: " + strings.TrimPrefix(m.Err.Error(), "trace: tls: "+d.name+": ")
	}
	return m
}

// decode reads the handshake header and hands the body to the decoder of its
// message type.
func (d *hsDecoder) decode() {
	// RFC 8446 §4 (and RFC 5246 §7.4): every handshake message starts with a
	// 1-byte msg_type and a 3-byte length.
	r := span{s: d.msg}
	var typ uint8
	if !r.s.ReadUint8(&typ) {
		d.failf(0, "msg_type", "truncated: need 1 byte, have 0")
		return
	}
	r.off = 1
	t, known := hsTypes[typ]
	d.m.Type = t.typ
	if d.m.Type == "" {
		d.m.Type = fmt.Sprintf("Unknown(%d)", typ)
	}
	if typ == typeServerHello && len(d.msg) >= 38 && bytes.Equal(d.msg[6:38], hrrRandom) {
		d.m.Type = "HelloRetryRequest"
	}
	d.name = d.m.Type
	wire := t.wire
	if !known {
		wire = "unknown"
	}
	about := "Which handshake message this is"
	if d.m.Type == "HelloRetryRequest" {
		about = "A HelloRetryRequest travels as a server_hello; only its special random tells them apart"
	}
	spec := "RFC 8446 §4"
	switch typ {
	case typeHelloRequest, typeServerKeyExchange, typeServerHelloDone, typeClientKeyExchange, typeCertificateStatus:
		spec = "RFC 5246 §7.4" // TLS 1.2 and older only
	case typeCertificate, typeCertificateRequest, typeCertificateVerify, typeFinished, typeNewSessionTicket:
		if d.version != 0 && d.version <= tls.VersionTLS12 {
			spec = "RFC 5246 §7.4"
		}
	}
	d.add(0, 0, 1, "msg_type", fmt.Sprintf("%s (%d)", wire, typ), about, spec)

	var length uint32
	if !d.readUint(&r, 3, "length", &length) {
		return
	}
	d.add(0, 1, 4, "length", nbytes(int(length)),
		"Size of the message body that follows this 4-byte header; one message may span several records", spec)
	body := span{s: r.s, off: 4}
	if int(length) > r.left() {
		d.failf(1, "length", "says %d bytes but %d follow", length, r.left())
	} else {
		body.s = r.s[:length]
	}

	ok := true
	switch typ {
	case typeHelloRequest: // RFC 5246 §7.4.1.1
		ok = d.emptyBody(&body, "server asks the client to start a new handshake", "RFC 5246 §7.4.1.1")
	case typeClientHello: // RFC 8446 §4.1.2, RFC 5246 §7.4.1.2
		ok = d.clientHello(&body)
	case typeServerHello: // RFC 8446 §4.1.3 and §4.1.4, RFC 5246 §7.4.1.3
		ok = d.serverHello(&body, d.m.Type == "HelloRetryRequest")
	case typeNewSessionTicket: // RFC 8446 §4.6.1, RFC 5077 §3.3
		if d.version == tls.VersionTLS13 {
			ok = d.newSessionTicket13(&body)
		} else {
			ok = d.newSessionTicket12(&body)
		}
	case typeEndOfEarlyData: // RFC 8446 §4.5
		ok = d.emptyBody(&body, "the client has sent all its 0-RTT data", "RFC 8446 §4.5")
	case typeEncryptedExtensions: // RFC 8446 §4.3.1
		ok = d.encryptedExtensions(&body)
	case typeCertificate: // RFC 8446 §4.4.2, RFC 5246 §7.4.2
		ok = d.certificate(&body)
	case typeServerKeyExchange: // RFC 8422 §5.4, RFC 5246 §7.4.3
		ok = d.serverKeyExchange(&body)
	case typeCertificateRequest: // RFC 8446 §4.3.2, RFC 5246 §7.4.4
		if d.version == tls.VersionTLS13 {
			ok = d.certificateRequest13(&body)
		} else {
			ok = d.certificateRequest12(&body)
		}
	case typeServerHelloDone: // RFC 5246 §7.4.5
		ok = d.emptyBody(&body, "the server has sent all its hello messages", "RFC 5246 §7.4.5")
	case typeCertificateVerify: // RFC 8446 §4.4.3, RFC 5246 §7.4.8
		ok = d.certificateVerify(&body)
	case typeClientKeyExchange: // RFC 8422 §5.7, RFC 5246 §7.4.7
		ok = d.clientKeyExchange(&body)
	case typeFinished: // RFC 8446 §4.4.4, RFC 5246 §7.4.9
		ok = d.finished(&body)
	case typeCertificateStatus: // RFC 6066 §8
		ok = d.certificateStatus(&body)
	case typeKeyUpdate: // RFC 8446 §4.6.3
		ok = d.keyUpdate(&body)
	case typeMessageHash: // RFC 8446 §4.4.1
		ok = d.messageHash(&body)
	default:
		ok = d.unknownBody(&body, wire)
	}
	if ok && !body.empty() {
		d.failf(body.off, "trailing data", "%s after the end of the %s", nbytes(body.left()), d.name)
	}
	if ok && int(length) < r.left() {
		d.failf(4+int(length), "trailing data", "%s beyond the %d-byte body the length field announced", nbytes(r.left()-int(length)), length)
	}
}

// failf records the first error, naming what was being read and where it
// starts. It returns false so callers can return its result.
func (d *hsDecoder) failf(off int, what, format string, args ...any) bool {
	if d.err == nil {
		d.err = fmt.Errorf("trace: tls: %s: %s at offset %d: %s", d.name, what, off, fmt.Sprintf(format, args...))
	}
	return false
}

// add appends a field and returns its index, so its Value can be set once
// its children are decoded.
func (d *hsDecoder) add(depth, start, end int, name, value, about, spec string) int {
	d.fields = append(d.fields, field.Field{Name: name, Value: value, Start: start, End: end, Depth: depth, About: about, Spec: spec})
	return len(d.fields) - 1
}

// need reports whether r holds n more bytes, recording a truncation error
// about what when it does not.
func (d *hsDecoder) need(r *span, n int, what string) bool {
	if n <= r.left() {
		return true
	}
	return d.failf(r.off, what, "truncated: need %s, have %d", nbytes(n), r.left())
}

// readUint reads a big-endian unsigned integer of size bytes (1 to 4).
func (d *hsDecoder) readUint(r *span, size int, what string, out *uint32) bool {
	if !d.need(r, size, what) {
		return false
	}
	switch size {
	case 1:
		var v uint8
		r.s.ReadUint8(&v)
		*out = uint32(v)
	case 2:
		var v uint16
		r.s.ReadUint16(&v)
		*out = uint32(v)
	case 3:
		r.s.ReadUint24(out)
	case 4:
		r.s.ReadUint32(out)
	}
	r.off += size
	return true
}

// num reads a size-byte integer and annotates it at depth with its decimal
// value; callers replace the value with something friendlier when there is.
func (d *hsDecoder) num(r *span, depth, size int, name, about, spec string) (uint32, int, bool) {
	start := r.off
	var v uint32
	if !d.readUint(r, size, name, &v) {
		return 0, -1, false
	}
	return v, d.add(depth, start, r.off, name, strconv.FormatUint(uint64(v), 10), about, spec), true
}

// fixed reads n bytes and annotates them at depth.
func (d *hsDecoder) fixed(r *span, depth, n int, name, about, spec string) ([]byte, int, bool) {
	start := r.off
	if !d.need(r, n, name) {
		return nil, -1, false
	}
	var b []byte
	r.s.ReadBytes(&b, n)
	r.off += n
	return b, d.add(depth, start, r.off, name, hexValue(b), about, spec), true
}

// vector reads a TLS vector: a size-byte length and the bytes it counts,
// which sub spans for the caller to decode. When about is not empty, the
// whole vector is annotated as name at depth (its Value is the byte count
// until the caller replaces it through the returned index), with the length
// as "<name> length" at depth+1, where the caller also puts the elements.
// With an empty about, only the length is annotated, at depth, and the
// caller puts the elements next to it. The byte count must be within
// [minLen, maxLen] (no maximum when maxLen is 0).
func (d *hsDecoder) vector(r *span, depth, size int, name string, minLen, maxLen int, about, spec string) (sub span, idx int, ok bool) {
	start := r.off
	var n uint32
	if !d.readUint(r, size, name, &n) {
		return span{}, -1, false
	}
	lenName := name + " length"
	lenAbout := "How many bytes of " + name + " follow, so a reader knows where it ends"
	if int(n) > r.left() {
		d.add(depth, start, r.off, lenName, nbytes(int(n)), lenAbout, spec)
		return span{}, -1, d.failf(start, name, "length %d exceeds the %s left", n, nbytes(r.left()))
	}
	end := r.off + int(n)
	idx = -1
	lenDepth := depth
	if about != "" {
		idx = d.add(depth, start, end, name, nbytes(int(n)), about, spec)
		lenDepth = depth + 1
	}
	d.add(lenDepth, start, r.off, lenName, nbytes(int(n)), lenAbout, spec)
	sub = span{s: r.s[:n], off: r.off}
	r.s = r.s[n:]
	r.off = end
	if int(n) < minLen {
		return sub, idx, d.failf(start, name, "length %d is below the minimum of %d", n, minLen)
	}
	if maxLen > 0 && int(n) > maxLen {
		return sub, idx, d.failf(start, name, "length %d is above the maximum of %d", n, maxLen)
	}
	return sub, idx, true
}

// opaque reads a variable-length byte string (opaque name<minLen..maxLen>
// with a size-byte length) and annotates "<name> length" and, unless it is
// empty, name, both at depth. idx is the index of the name field, -1 when
// the string is empty.
func (d *hsDecoder) opaque(r *span, depth, size int, name string, minLen, maxLen int, about, spec string) (b []byte, idx int, ok bool) {
	start := r.off
	sub, _, ok := d.vector(r, depth, size, name, 0, 0, "", spec)
	if !ok {
		return nil, -1, false
	}
	b = sub.s
	idx = -1
	if len(b) > 0 {
		idx = d.add(depth, sub.off, sub.off+len(b), name, hexValue(b), about, spec)
	}
	if len(b) < minLen {
		return b, idx, d.failf(start, name, "length %d is below the minimum of %d", len(b), minLen)
	}
	if maxLen > 0 && len(b) > maxLen {
		return b, idx, d.failf(start, name, "length %d is above the maximum of %d", len(b), maxLen)
	}
	return b, idx, true
}

// rest annotates whatever is left in r as one field.
func (d *hsDecoder) rest(r *span, depth int, name, about, spec string) ([]byte, int) {
	b := []byte(r.s)
	idx := -1
	if len(b) > 0 {
		idx = d.add(depth, r.off, r.off+len(b), name, hexValue(b), about, spec)
	}
	r.s = r.s[len(b):]
	r.off += len(b)
	return b, idx
}

// index returns the index of the first field called name, or -1.
func (d *hsDecoder) index(name string) int {
	for i, f := range d.fields {
		if f.Name == name {
			return i
		}
	}
	return -1
}

func (d *hsDecoder) set(idx int, value, about string) {
	if idx < 0 {
		return
	}
	if value != "" {
		d.fields[idx].Value = value
	}
	if about != "" {
		d.fields[idx].About = about
	}
}

// emptyBody decodes the messages that have no body at all.
func (d *hsDecoder) emptyBody(r *span, summary, spec string) bool {
	d.m.Summary = summary
	if !r.empty() {
		return d.failf(r.off, "body", "%s where the message must be empty (%s)", nbytes(r.left()), spec)
	}
	return true
}

// unknownBody annotates the body of a message type this package does not
// decode.
func (d *hsDecoder) unknownBody(r *span, wire string) bool {
	b, _ := d.rest(r, 0, "body", "The body of a "+wire+" message, which this decoder does not take apart", "RFC 8446 §4")
	d.m.Summary = nbytes(len(b)) + " body"
	return true
}

// clientHello decodes a ClientHello: RFC 8446 §4.1.2 for TLS 1.3, which
// keeps the TLS 1.2 layout of RFC 5246 §7.4.1.2 and renames its fields.
func (d *hsDecoder) clientHello(r *span) bool {
	const spec = "RFC 8446 §4.1.2"
	v, idx, ok := d.num(r, 0, 2, "legacy_version", "", spec)
	if !ok {
		return false
	}
	d.set(idx, versionValue(uint16(v)),
		"The highest version in the old TLS 1.2 style; a TLS 1.3 client puts TLS 1.2 here and lists its real versions in supported_versions")
	d.m.Version = uint16(v)

	random, _, ok := d.fixed(r, 0, 32, "random",
		"32 fresh random bytes; they make this handshake's keys unique even if everything else repeats", spec)
	if !ok {
		return false
	}
	d.m.Random = bytes.Clone(random)

	sid, _, ok := d.opaque(r, 0, 1, "legacy_session_id", 0, 32,
		"A TLS 1.2 session to resume, or (in TLS 1.3 middlebox-compatibility mode) 32 random bytes the server echoes back", spec)
	if sid != nil {
		d.m.SessionID = bytes.Clone(sid)
	}
	if !ok {
		return false
	}

	suites, idx, ok := d.vector(r, 0, 2, "cipher_suites", 2, 0xfffe,
		"The cipher suites the client can use, most preferred first; the server picks one", spec)
	if !ok {
		return false
	}
	n := 0
	for !suites.empty() {
		id, i, ok := d.num(&suites, 1, 2, "cipher_suite", "", spec)
		if !ok {
			return false
		}
		d.set(i, suiteValue(uint16(id)), suiteAbout(uint16(id)))
		n++
	}
	d.set(idx, count(n, "cipher suite"), "")

	comp, idx, ok := d.vector(r, 0, 1, "legacy_compression_methods", 1, 0,
		"Compression methods the client supports; compression is unsafe with encryption (CRIME), so this is just null (0)", spec)
	if !ok {
		return false
	}
	var names []string
	for !comp.empty() {
		c, i, _ := d.num(&comp, 1, 1, "compression_method", "", spec)
		d.set(i, compressionValue(uint8(c)), "One compression method; null (0) means no compression")
		names = append(names, compressionName(uint8(c)))
	}
	d.set(idx, strings.Join(names, ", "), "")

	if r.empty() {
		// Extensions are optional in a TLS 1.2 ClientHello (RFC 5246 §7.4.1.2).
		d.set(d.index("legacy_version"), "", "The highest version the client supports: without supported_versions, this is the real offer")
		d.clientHelloSummary()
		return true
	}
	if !d.extensions(r, 0, inClientHello) {
		return false
	}
	for _, v := range d.facts.versions {
		if !isGREASE(v) && v > d.m.Version {
			d.m.Version = v
		}
	}
	if d.facts.versions == nil {
		d.set(d.index("legacy_version"), "", "The highest version the client supports: without supported_versions, this is the real offer")
	}
	d.clientHelloSummary()
	return true
}

func (d *hsDecoder) clientHelloSummary() {
	f := &d.facts
	parts := []string{VersionName(d.m.Version) + " offered"}
	if f.sni != "" {
		parts = append(parts, "SNI "+f.sni)
	}
	if len(f.keyShares) > 0 {
		var groups []string
		for i, g := range f.keyShares {
			if i == 2 {
				groups[1] += "…"
				break
			}
			groups = append(groups, GroupName(g))
		}
		parts = append(parts, fmt.Sprintf("%s (%s)", count(len(f.keyShares), "key share"), strings.Join(groups, ", ")))
	}
	if len(f.alpn) > 0 {
		parts = append(parts, "ALPN "+strings.Join(f.alpn, "/"))
	}
	if f.ticket > 0 {
		parts = append(parts, "session ticket")
	}
	if f.psk {
		parts = append(parts, "PSK resumption")
	}
	if f.earlyData {
		parts = append(parts, "early data")
	}
	if f.ech {
		parts = append(parts, "ECH")
	}
	d.m.Summary = strings.Join(parts, ", ")
}

// serverHello decodes a ServerHello (RFC 8446 §4.1.3, RFC 5246 §7.4.1.3) or a
// HelloRetryRequest, which has the same layout (RFC 8446 §4.1.4).
func (d *hsDecoder) serverHello(r *span, hrr bool) bool {
	spec := "RFC 8446 §4.1.3"
	v, idx, ok := d.num(r, 0, 2, "legacy_version", "", spec)
	if !ok {
		return false
	}
	d.set(idx, versionValue(uint16(v)),
		"The version in the old TLS 1.2 style; a TLS 1.3 server says TLS 1.2 here and puts the real version in supported_versions")
	d.m.Version = uint16(v)

	random, idx, ok := d.fixed(r, 0, 32, "random",
		"32 fresh random bytes from the server; with the client's random they make this handshake's keys unique", spec)
	if !ok {
		return false
	}
	d.m.Random = bytes.Clone(random)
	switch {
	case hrr:
		d.set(idx, "HelloRetryRequest marker (SHA-256 of \"HelloRetryRequest\")",
			"Not random at all: this fixed value turns the ServerHello into a HelloRetryRequest, asking the client to try again")
	case bytes.HasSuffix(random, downgradeTLS12):
		d.set(idx, hexValue(random)+" (ends in DOWNGRD 01)",
			"Random bytes ending in \"DOWNGRD\" 01: a TLS 1.3 server negotiated TLS 1.2, and a TLS 1.3 client must abort, suspecting a downgrade attack")
	case bytes.HasSuffix(random, downgradeTLS11):
		d.set(idx, hexValue(random)+" (ends in DOWNGRD 00)",
			"Random bytes ending in \"DOWNGRD\" 00: a TLS 1.3 server negotiated TLS 1.1 or older, and a newer client must abort, suspecting a downgrade attack")
	}

	sid, _, ok := d.opaque(r, 0, 1, "legacy_session_id_echo", 0, 32,
		"The client's legacy_session_id sent back unchanged (TLS 1.2: the session ID, equal to the client's when resuming)", spec)
	if sid != nil {
		d.m.SessionID = bytes.Clone(sid)
	}
	if !ok {
		return false
	}

	suite, idx, ok := d.num(r, 0, 2, "cipher_suite", "", spec)
	if !ok {
		return false
	}
	d.set(idx, suiteValue(uint16(suite)), "The cipher suite the server chose from the client's list. "+suiteAbout(uint16(suite)))
	d.m.CipherSuite = uint16(suite)

	c, idx, ok := d.num(r, 0, 1, "legacy_compression_method", "", spec)
	if !ok {
		return false
	}
	d.set(idx, compressionValue(uint8(c)), "The compression method chosen; always null (0) today")

	if !r.empty() {
		ctx := inServerHello
		if hrr {
			ctx = inHelloRetryRequest
		}
		if !d.extensions(r, 0, ctx) {
			return false
		}
	}
	f := &d.facts
	if f.selectedVersion != 0 {
		d.m.Version = f.selectedVersion
	} else {
		d.set(d.index("legacy_version"), "", "The version the server chose: without supported_versions, this is the negotiated version")
	}
	parts := []string{VersionName(d.m.Version), CipherSuiteName(d.m.CipherSuite)}
	switch {
	case hrr && f.hasHRRGroup:
		parts = append(parts, "retry with "+GroupName(f.hrrGroup))
	case f.hasServerGroup:
		parts = append(parts, GroupName(f.serverGroup))
	}
	if hrr && f.cookie {
		parts = append(parts, "cookie")
	}
	if f.psk {
		parts = append(parts, "PSK")
	}
	if len(f.alpn) > 0 {
		parts = append(parts, "ALPN "+f.alpn[0])
	}
	d.m.Summary = strings.Join(parts, ", ")
	return true
}

// encryptedExtensions decodes RFC 8446 §4.3.1: the server's answers to the
// client's extensions that do not shape the keys, sent encrypted.
func (d *hsDecoder) encryptedExtensions(r *span) bool {
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
func (d *hsDecoder) newSessionTicket13(r *span) bool {
	const spec = "RFC 8446 §4.6.1"
	life, idx, ok := d.num(r, 0, 4, "ticket_lifetime", "", spec)
	if !ok {
		return false
	}
	d.set(idx, seconds(life), "How long, in seconds, the client may use this ticket; at most 7 days")
	_, idx, ok = d.num(r, 0, 4, "ticket_age_add", "", spec)
	if !ok {
		return false
	}
	d.set(idx, hexValue(d.msg[d.fields[idx].Start:d.fields[idx].End]),
		"A random number the client adds to the ticket's age when it resumes, so an eavesdropper cannot link the two connections")
	if _, _, ok := d.opaque(r, 0, 1, "ticket_nonce", 0, 255,
		"Makes the resumption key of each ticket different, even when a server sends several in one connection", spec); !ok {
		return false
	}
	ticket, _, ok := d.opaque(r, 0, 2, "ticket", 1, 0,
		"The ticket itself: opaque to the client, usually the session state encrypted with a key only the server knows", spec)
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
func (d *hsDecoder) newSessionTicket12(r *span) bool {
	const spec = "RFC 5077 §3.3"
	life, idx, ok := d.num(r, 0, 4, "ticket_lifetime_hint", "", spec)
	if !ok {
		return false
	}
	hint := seconds(life)
	if life == 0 {
		hint = "unspecified"
	}
	d.set(idx, hint, "A hint of how many seconds the ticket stays valid; 0 means unspecified")
	ticket, _, ok := d.opaque(r, 0, 2, "ticket", 0, 0,
		"The session state, encrypted with a key only the server knows; the client stores it and sends it back to resume", spec)
	if !ok {
		return false
	}
	d.m.Summary = fmt.Sprintf("ticket of %s, lifetime hint %s", nbytes(len(ticket)), hint)
	return true
}

// certificate decodes a Certificate message: RFC 8446 §4.4.2 for TLS 1.3,
// RFC 5246 §7.4.2 before.
func (d *hsDecoder) certificate(r *span) bool {
	tls13 := d.version == tls.VersionTLS13
	spec := "RFC 5246 §7.4.2"
	if tls13 {
		spec = "RFC 8446 §4.4.2"
		if _, _, ok := d.opaque(r, 0, 1, "certificate_request_context", 0, 255,
			"Empty from a server; from a client, the context of the CertificateRequest it answers", spec); !ok {
			return false
		}
	}
	list, idx, ok := d.vector(r, 0, 3, "certificate_list", 0, 0,
		"The certificate chain: the sender's own certificate first, then the ones that vouch for it", spec)
	if !ok {
		return false
	}
	var names []string
	for !list.empty() {
		der, i, ok := d.opaque(&list, 1, 3, "cert_data", 1, 0,
			"One X.509 certificate in DER encoding", spec)
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
func (d *hsDecoder) certData(der []byte, off, idx, depth int) (*x509.Certificate, error) {
	sum := sha256.Sum256(der)
	d.add(depth, off, off+len(der), "SHA-256 fingerprint", colonHex(sum[:]),
		"SHA-256 of the whole certificate: a short, unique name for it (not part of the bytes, computed from them)", "RFC 5280 §4.1")
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
func (d *hsDecoder) x509Parts(der []byte, off, depth int, c *x509.Certificate) {
	// Every String below is a reslice of der, so its offset in der is the
	// difference of the capacities.
	add := func(s cryptobyte.String, dep int, name, value, about, spec string) {
		o := cap(der) - cap(s)
		if o < 0 || o+len(s) > len(der) {
			return
		}
		d.add(dep, off+o, off+o+len(s), name, value, about, spec)
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

// serverKeyExchange decodes a TLS 1.2 ServerKeyExchange: ECDHE parameters
// (RFC 8422 §5.4) when curve_type is named_curve (3), else finite-field DHE
// parameters (RFC 5246 §7.4.3), then the signature over them.
func (d *hsDecoder) serverKeyExchange(r *span) bool {
	var kx string
	if r.left() > 0 && r.s[0] == 3 {
		const spec = "RFC 8422 §5.4"
		_, idx, _ := d.num(r, 0, 1, "curve_type", "", spec)
		d.set(idx, "named_curve (3)", "The key-exchange curve is given by name (the only form still allowed)")
		g, idx, ok := d.num(r, 0, 2, "namedcurve", "", spec)
		if !ok {
			return false
		}
		d.set(idx, groupValue(uint16(g)), "The group of this ephemeral ECDHE exchange. "+groupAbout(uint16(g)))
		pub, _, ok := d.opaque(r, 0, 1, "public", 1, 0,
			"The server's ephemeral public key for this connection only (fresh keys give forward secrecy)", spec)
		if !ok {
			return false
		}
		kx = fmt.Sprintf("ECDHE %s, %d-byte public key", GroupName(uint16(g)), len(pub))
	} else {
		const spec = "RFC 5246 §7.4.3"
		p, _, ok := d.opaque(r, 0, 2, "dh_p", 1, 0, "The prime modulus of the Diffie-Hellman group", spec)
		if !ok {
			return false
		}
		if _, _, ok := d.opaque(r, 0, 2, "dh_g", 1, 0, "The generator of the Diffie-Hellman group", spec); !ok {
			return false
		}
		if _, _, ok := d.opaque(r, 0, 2, "dh_Ys", 1, 0, "The server's ephemeral Diffie-Hellman public value", spec); !ok {
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
func (d *hsDecoder) signature(r *span, about string) (string, bool) {
	spec := "RFC 5246 §7.4.3"
	tail := ""
	if d.version == 0 || d.version >= tls.VersionTLS12 {
		alg, idx, ok := d.num(r, 0, 2, "algorithm", "", spec)
		if !ok {
			return "", false
		}
		d.set(idx, schemeValue(uint16(alg)), "How the signature is made. "+schemeAbout(uint16(alg)))
		tail = ", signed with " + SignatureSchemeName(uint16(alg))
	}
	if _, _, ok := d.opaque(r, 0, 2, "signature", 0, 0, about, spec); !ok {
		return "", false
	}
	return tail, true
}

// certificateRequest13 decodes a TLS 1.3 CertificateRequest (RFC 8446 §4.3.2).
func (d *hsDecoder) certificateRequest13(r *span) bool {
	const spec = "RFC 8446 §4.3.2"
	if _, _, ok := d.opaque(r, 0, 1, "certificate_request_context", 0, 255,
		"Chosen by the server and echoed in the client's Certificate, to match answers to requests after the handshake; empty during it", spec); !ok {
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
func (d *hsDecoder) certificateRequest12(r *span) bool {
	const spec = "RFC 5246 §7.4.4"
	types, idx, ok := d.vector(r, 0, 1, "certificate_types", 1, 0,
		"The kinds of key the client certificate may have", spec)
	if !ok {
		return false
	}
	var names []string
	for !types.empty() {
		t, i, _ := d.num(&types, 1, 1, "certificate_type", "", spec)
		name := certTypeName(uint8(t))
		d.set(i, fmt.Sprintf("%s (%d)", name, t), "One acceptable client certificate type")
		names = append(names, name)
	}
	d.set(idx, strings.Join(names, ", "), "")
	n := 0
	if d.version == 0 || d.version >= tls.VersionTLS12 {
		algs, idx, ok := d.vector(r, 0, 2, "supported_signature_algorithms", 2, 0xfffe,
			"The signature algorithms the server accepts in the client's CertificateVerify", spec)
		if !ok {
			return false
		}
		for !algs.empty() {
			a, i, ok := d.num(&algs, 1, 2, "signature_algorithm", "", spec)
			if !ok {
				return false
			}
			d.set(i, schemeValue(uint16(a)), schemeAbout(uint16(a)))
			n++
		}
		d.set(idx, count(n, "algorithm"), "")
	}
	cas, idx, ok := d.vector(r, 0, 2, "certificate_authorities", 0, 0,
		"Names of the CAs whose certificates the server accepts; empty means any", spec)
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
func (d *hsDecoder) certificateVerify(r *span) bool {
	spec, about := "RFC 8446 §4.4.3",
		"A signature over the hash of the handshake so far, made with the private key of the certificate just sent: proves the sender owns that certificate"
	if d.version != 0 && d.version <= tls.VersionTLS12 {
		spec, about = "RFC 5246 §7.4.8",
			"The client's signature over all handshake messages so far, made with its certificate's private key: proves it owns that certificate"
	}
	s := ""
	if d.version == 0 || d.version >= tls.VersionTLS12 {
		alg, idx, ok := d.num(r, 0, 2, "algorithm", "", spec)
		if !ok {
			return false
		}
		d.set(idx, schemeValue(uint16(alg)), "The signature scheme used. "+schemeAbout(uint16(alg)))
		s = SignatureSchemeName(uint16(alg)) + ", "
	}
	sig, _, ok := d.opaque(r, 0, 2, "signature", 0, 0, about, spec)
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
func (d *hsDecoder) clientKeyExchange(r *span) bool {
	if r.left() > 1 && int(r.s[0]) == r.left()-1 {
		pub, _, ok := d.opaque(r, 0, 1, "ecdh_Yc", 1, 0,
			"The client's ephemeral ECDHE public key; combined with the server's, it gives both sides the same premaster secret", "RFC 8422 §5.7")
		if !ok {
			return false
		}
		d.m.Summary = "ECDHE public key, " + nbytes(len(pub))
		return true
	}
	b, _, ok := d.opaque(r, 0, 2, "exchange_keys", 1, 0,
		"RSA key exchange: the premaster secret encrypted to the server's certificate key (no forward secrecy); with a DHE suite, the client's DH public value instead", "RFC 5246 §7.4.7")
	if !ok {
		return false
	}
	d.m.Summary = "encrypted premaster secret or DH public value, " + nbytes(len(b))
	return true
}

// finished decodes RFC 8446 §4.4.4 and RFC 5246 §7.4.9.
func (d *hsDecoder) finished(r *span) bool {
	spec, about := "RFC 8446 §4.4.4",
		"An HMAC over the transcript hash keyed from the handshake secret: proves the sender saw the same handshake and holds the same keys"
	if d.version != 0 && d.version <= tls.VersionTLS12 {
		spec, about = "RFC 5246 §7.4.9",
			"PRF(master_secret, label, hash of the handshake messages): proves the sender saw the same handshake and holds the same keys"
	}
	b, _ := d.rest(r, 0, "verify_data", about, spec)
	if len(b) == 0 {
		return d.failf(4, "verify_data", "empty")
	}
	d.m.Summary = nbytes(len(b)) + " verify_data"
	return true
}

// certificateStatus decodes the stapled OCSP response of RFC 6066 §8.
func (d *hsDecoder) certificateStatus(r *span) bool {
	const spec = "RFC 6066 §8"
	t, idx, ok := d.num(r, 0, 1, "status_type", "", spec)
	if !ok {
		return false
	}
	d.set(idx, statusTypeValue(uint8(t)), "The kind of status information; ocsp (1) is the one defined")
	if t != 1 {
		return d.failf(4, "status_type", "unsupported value %d", t)
	}
	resp, _, ok := d.opaque(r, 0, 3, "response", 1, 0,
		"A DER OCSP response, signed by the CA, saying the certificate is not revoked (stapled so the client need not ask the CA)", spec)
	if !ok {
		return false
	}
	d.m.Summary = "OCSP response, " + nbytes(len(resp))
	return true
}

// keyUpdate decodes RFC 8446 §4.6.3.
func (d *hsDecoder) keyUpdate(r *span) bool {
	const spec = "RFC 8446 §4.6.3"
	v, idx, ok := d.num(r, 0, 1, "request_update", "", spec)
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
func (d *hsDecoder) messageHash(r *span) bool {
	b, _ := d.rest(r, 0, "hash", "The hash of the first ClientHello; after a HelloRetryRequest the transcript keeps only this, never sent on the wire", "RFC 8446 §4.4.1")
	d.m.Summary = "hash of ClientHello1, " + nbytes(len(b))
	return true
}

// distinguishedName decodes one opaque DistinguishedName<1..2^16-1>, a DER
// X.501 Name, as used in certificate_authorities.
func (d *hsDecoder) distinguishedName(r *span, depth int, spec string) bool {
	b, idx, ok := d.opaque(r, depth, 2, "DistinguishedName", 1, 0, "The name of one acceptable certificate authority (a DER X.501 Name)", spec)
	if !ok {
		return false
	}
	if name, ok := dnString(b); ok {
		d.set(idx, name, "")
	}
	return true
}

// Name tables.

// VersionName returns the name of a protocol version, such as "TLS 1.3",
// "TLS 1.2" … "SSL 3.0", "GREASE", or "0x%04X" when it is not one.
func VersionName(v uint16) string {
	if s, ok := versionName(v); ok {
		return s
	}
	return fmt.Sprintf("0x%04X", v)
}

func versionName(v uint16) (string, bool) {
	switch v {
	case tls.VersionTLS13:
		return "TLS 1.3", true
	case tls.VersionTLS12:
		return "TLS 1.2", true
	case tls.VersionTLS11:
		return "TLS 1.1", true
	case tls.VersionTLS10:
		return "TLS 1.0", true
	case 0x0300:
		return "SSL 3.0", true
	case 0xfeff:
		return "DTLS 1.0", true
	case 0xfefd:
		return "DTLS 1.2", true
	case 0xfefc:
		return "DTLS 1.3", true
	}
	if isGREASE(v) {
		return "GREASE", true
	}
	if v>>8 == 0x7f {
		return fmt.Sprintf("TLS 1.3 draft %d", v&0xff), true
	}
	return "", false
}

// isGREASE reports whether v is one of the reserved values 0x0A0A, 0x1A1A …
// 0xFAFA that clients sprinkle in lists to keep servers tolerant of unknown
// values (RFC 8701 §2).
func isGREASE(v uint16) bool {
	return v&0x0f0f == 0x0a0a && v>>8 == v&0xff
}

// extraSuites names cipher suites crypto/tls does not implement.
var extraSuites = map[uint16]string{
	0x0000: "TLS_NULL_WITH_NULL_NULL",
	0x0033: "TLS_DHE_RSA_WITH_AES_128_CBC_SHA",
	0x0039: "TLS_DHE_RSA_WITH_AES_256_CBC_SHA",
	0x003d: "TLS_RSA_WITH_AES_256_CBC_SHA256",
	0x0067: "TLS_DHE_RSA_WITH_AES_128_CBC_SHA256",
	0x006b: "TLS_DHE_RSA_WITH_AES_256_CBC_SHA256",
	0x009e: "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256",
	0x009f: "TLS_DHE_RSA_WITH_AES_256_GCM_SHA384",
	0x00ff: "TLS_EMPTY_RENEGOTIATION_INFO_SCSV",
	0x1304: "TLS_AES_128_CCM_SHA256",
	0x1305: "TLS_AES_128_CCM_8_SHA256",
	0x5600: "TLS_FALLBACK_SCSV",
	0xc024: "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384",
	0xc028: "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384",
	0xc0ac: "TLS_ECDHE_ECDSA_WITH_AES_128_CCM",
	0xc0ad: "TLS_ECDHE_ECDSA_WITH_AES_256_CCM",
	0xc0ae: "TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8",
	0xc0af: "TLS_ECDHE_ECDSA_WITH_AES_256_CCM_8",
	0xccaa: "TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
}

// CipherSuiteName returns the standard name of a cipher suite, such as
// "TLS_AES_128_GCM_SHA256", "GREASE" for the reserved GREASE values, or
// "0x%04X" when it is not known.
func CipherSuiteName(id uint16) string {
	s, _ := cipherSuiteName(id)
	return s
}

func cipherSuiteName(id uint16) (string, bool) {
	if s, ok := extraSuites[id]; ok {
		return s, true
	}
	if isGREASE(id) {
		return "GREASE", true
	}
	s := tls.CipherSuiteName(id)
	return s, !strings.HasPrefix(s, "0x")
}

var groupNames = map[uint16]string{
	0x0017: "secp256r1",
	0x0018: "secp384r1",
	0x0019: "secp521r1",
	0x001d: "x25519",
	0x001e: "x448",
	0x001f: "brainpoolP256r1tls13",
	0x0020: "brainpoolP384r1tls13",
	0x0021: "brainpoolP512r1tls13",
	0x0100: "ffdhe2048",
	0x0101: "ffdhe3072",
	0x0102: "ffdhe4096",
	0x0103: "ffdhe6144",
	0x0104: "ffdhe8192",
	0x0200: "MLKEM512",
	0x0201: "MLKEM768",
	0x0202: "MLKEM1024",
	0x11eb: "SecP256r1MLKEM768",
	0x11ec: "X25519MLKEM768",
	0x11ed: "SecP384r1MLKEM1024",
	0x6399: "X25519Kyber768Draft00",
}

// GroupName returns the name of a key-exchange group (a supported_groups
// NamedGroup), such as "x25519", "secp256r1" or "X25519MLKEM768", "GREASE"
// for the reserved GREASE values, or "0x%04X" when it is not known.
func GroupName(id uint16) string {
	s, _ := groupName(id)
	return s
}

func groupName(id uint16) (string, bool) {
	if s, ok := groupNames[id]; ok {
		return s, true
	}
	if isGREASE(id) {
		return "GREASE", true
	}
	return fmt.Sprintf("0x%04X", id), false
}

var schemeNames = map[uint16]string{
	0x0201: "rsa_pkcs1_sha1",
	0x0203: "ecdsa_sha1",
	0x0401: "rsa_pkcs1_sha256",
	0x0403: "ecdsa_secp256r1_sha256",
	0x0501: "rsa_pkcs1_sha384",
	0x0503: "ecdsa_secp384r1_sha384",
	0x0601: "rsa_pkcs1_sha512",
	0x0603: "ecdsa_secp521r1_sha512",
	0x0804: "rsa_pss_rsae_sha256",
	0x0805: "rsa_pss_rsae_sha384",
	0x0806: "rsa_pss_rsae_sha512",
	0x0807: "ed25519",
	0x0808: "ed448",
	0x0809: "rsa_pss_pss_sha256",
	0x080a: "rsa_pss_pss_sha384",
	0x080b: "rsa_pss_pss_sha512",
	0x081a: "ecdsa_brainpoolP256r1tls13_sha256",
	0x081b: "ecdsa_brainpoolP384r1tls13_sha384",
	0x081c: "ecdsa_brainpoolP512r1tls13_sha512",
	0x0904: "mldsa44",
	0x0905: "mldsa65",
	0x0906: "mldsa87",
}

// SignatureSchemeName returns the RFC 8446 name of a signature scheme, such
// as "ecdsa_secp256r1_sha256" or "rsa_pss_rsae_sha256"; the TLS 1.2
// hash/signature pairs without one are named like "dsa_sha256". It returns
// "GREASE" for the reserved GREASE values and "0x%04X" when it is not known.
func SignatureSchemeName(id uint16) string {
	s, _ := schemeName(id)
	return s
}

func schemeName(id uint16) (string, bool) {
	if s, ok := schemeNames[id]; ok {
		return s, true
	}
	if isGREASE(id) {
		return "GREASE", true
	}
	// RFC 5246 §7.4.1.4.1: a hash byte (1 md5 … 6 sha512) and a signature
	// byte (1 rsa, 2 dsa, 3 ecdsa).
	hashes := []string{1: "md5", 2: "sha1", 3: "sha224", 4: "sha256", 5: "sha384", 6: "sha512"}
	sigs := []string{1: "rsa_pkcs1", 2: "dsa", 3: "ecdsa"}
	h, s := int(id>>8), int(id&0xff)
	if h >= 1 && h <= 6 && s >= 1 && s <= 3 {
		return sigs[s] + "_" + hashes[h], true
	}
	return fmt.Sprintf("0x%04X", id), false
}

// Formatting helpers.

func nbytes(n int) string {
	if n == 1 {
		return "1 byte"
	}
	return strconv.Itoa(n) + " bytes"
}

// count says "1 thing" or "n things".
func count(n int, thing string) string {
	if n == 1 {
		return "1 " + thing
	}
	if len(thing) > 1 && thing[len(thing)-1] == 'y' && !strings.ContainsRune("aeiou", rune(thing[len(thing)-2])) {
		return strconv.Itoa(n) + " " + strings.TrimSuffix(thing, "y") + "ies"
	}
	return strconv.Itoa(n) + " " + thing + "s"
}

// hexValue shows bytes in hex, the first 16 of them when there are many.
func hexValue(b []byte) string {
	if len(b) <= 32 {
		return hex.EncodeToString(b)
	}
	return hex.EncodeToString(b[:16]) + "… (" + nbytes(len(b)) + ")"
}

func colonHex(b []byte) string {
	var sb strings.Builder
	for i, c := range b {
		if i > 0 {
			sb.WriteByte(':')
		}
		fmt.Fprintf(&sb, "%02X", c)
	}
	return sb.String()
}

// textValue shows bytes that should be text: as they are when printable,
// quoted otherwise.
func textValue(b []byte) string {
	s := string(b)
	if !utf8.ValidString(s) {
		return strconv.Quote(s)
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f || r == '"' {
			return strconv.Quote(s)
		}
	}
	return s
}

func seconds(s uint32) string {
	v := strconv.FormatUint(uint64(s), 10) + " s"
	switch {
	case s >= 86400 && s%86400 == 0:
		v += " (" + count(int(s/86400), "day") + ")"
	case s >= 3600 && s%3600 == 0:
		v += " (" + count(int(s/3600), "hour") + ")"
	}
	return v
}

func versionValue(v uint16) string {
	if s, ok := versionName(v); ok {
		return fmt.Sprintf("%s (0x%04x)", s, v)
	}
	return fmt.Sprintf("unknown (0x%04x)", v)
}

func suiteValue(id uint16) string {
	if s, ok := cipherSuiteName(id); ok {
		return fmt.Sprintf("%s (0x%04x)", s, id)
	}
	return fmt.Sprintf("unknown (0x%04x)", id)
}

func groupValue(id uint16) string {
	if s, ok := groupName(id); ok {
		return fmt.Sprintf("%s (0x%04x)", s, id)
	}
	return fmt.Sprintf("unknown (0x%04x)", id)
}

func schemeValue(id uint16) string {
	if s, ok := schemeName(id); ok {
		return fmt.Sprintf("%s (0x%04x)", s, id)
	}
	return fmt.Sprintf("unknown (0x%04x)", id)
}

func compressionName(c uint8) string {
	switch c {
	case 0:
		return "null"
	case 1:
		return "DEFLATE"
	}
	return "unknown"
}

func compressionValue(c uint8) string {
	return fmt.Sprintf("%s (%d)", compressionName(c), c)
}

func statusTypeValue(t uint8) string {
	switch t {
	case 1:
		return "ocsp (1)"
	case 2:
		return "ocsp_multi (2)"
	}
	return fmt.Sprintf("unknown (%d)", t)
}

// certTypeName names a TLS 1.2 ClientCertificateType (RFC 5246 §7.4.4,
// RFC 8422 §5.5).
func certTypeName(t uint8) string {
	switch t {
	case 1:
		return "rsa_sign"
	case 2:
		return "dss_sign"
	case 3:
		return "rsa_fixed_dh"
	case 4:
		return "dss_fixed_dh"
	case 64:
		return "ecdsa_sign"
	case 65:
		return "rsa_fixed_ecdh"
	case 66:
		return "ecdsa_fixed_ecdh"
	}
	return "unknown"
}

// suiteAbout explains a cipher suite from its name.
func suiteAbout(id uint16) string {
	name, ok := cipherSuiteName(id)
	switch {
	case !ok:
		return "A cipher suite this decoder does not know; a server skips suites it does not support"
	case name == "GREASE":
		return "GREASE: a reserved value with no meaning, sent so servers keep ignoring values they do not know (RFC 8701)"
	case id == 0x00ff:
		return "Not a real suite: tells the server the client supports secure renegotiation (RFC 5746 §3.3)"
	case id == 0x5600:
		return "Not a real suite: says this is a fallback retry with a lower version, so a server supporting more can detect a downgrade (RFC 7507)"
	case id>>8 == 0x13:
		aead, hash, _ := strings.Cut(strings.TrimPrefix(name, "TLS_"), "_SHA")
		return fmt.Sprintf("A TLS 1.3 suite: %s encrypts the records and SHA-%s derives the keys; key exchange and signatures are negotiated separately", strings.ReplaceAll(aead, "_", "-"), hash)
	}
	kx, cipher, found := strings.Cut(strings.TrimPrefix(name, "TLS_"), "_WITH_")
	if !found {
		return "A cipher suite of TLS 1.2 or older"
	}
	var how string
	switch kx {
	case "ECDHE_ECDSA":
		how = "ephemeral ECDHE key exchange signed with an ECDSA certificate"
	case "ECDHE_RSA":
		how = "ephemeral ECDHE key exchange signed with an RSA certificate"
	case "DHE_RSA":
		how = "ephemeral finite-field DHE key exchange signed with an RSA certificate"
	case "RSA":
		how = "RSA key exchange, with no forward secrecy"
	default:
		how = strings.ReplaceAll(kx, "_", "-") + " key exchange"
	}
	if i := strings.LastIndex(cipher, "_SHA"); i > 0 {
		enc, hash := strings.ReplaceAll(cipher[:i], "_", "-"), "SHA-"+cipher[i+4:]
		if hash == "SHA-" { // plain _SHA means SHA-1
			hash = "SHA-1"
		}
		if strings.Contains(enc, "CBC") {
			return fmt.Sprintf("A TLS 1.2 suite: %s; records encrypted with %s and authenticated with HMAC-%s", how, enc, hash)
		}
		return fmt.Sprintf("A TLS 1.2 suite: %s; records encrypted with %s, keys derived with %s", how, enc, hash)
	}
	return fmt.Sprintf("A TLS 1.2 suite: %s; records protected with %s", how, strings.ReplaceAll(cipher, "_", "-"))
}

// groupAbout explains a key-exchange group.
func groupAbout(id uint16) string {
	switch id {
	case 0x11ec:
		return "Hybrid post-quantum key agreement: ML-KEM-768 (FIPS 203) plus X25519, safe unless both are broken, so recorded traffic stays secret even from a future quantum computer"
	case 0x11eb:
		return "Hybrid post-quantum key agreement: P-256 ECDH plus ML-KEM-768 (FIPS 203), safe unless both are broken"
	case 0x11ed:
		return "Hybrid post-quantum key agreement: P-384 ECDH plus ML-KEM-1024 (FIPS 203), safe unless both are broken"
	case 0x0200, 0x0201, 0x0202:
		return "Post-quantum key agreement with ML-KEM (FIPS 203) alone, without a classical curve"
	case 0x6399:
		return "An early draft of the X25519 + Kyber hybrid, replaced by X25519MLKEM768"
	case 0x001d:
		return "Elliptic-curve Diffie-Hellman on Curve25519 (RFC 7748): fast, with 32-byte keys; not safe against quantum computers"
	case 0x001e:
		return "Elliptic-curve Diffie-Hellman on Curve448 (RFC 7748)"
	case 0x0017:
		return "Elliptic-curve Diffie-Hellman on the NIST P-256 curve"
	case 0x0018:
		return "Elliptic-curve Diffie-Hellman on the NIST P-384 curve"
	case 0x0019:
		return "Elliptic-curve Diffie-Hellman on the NIST P-521 curve"
	case 0x001f, 0x0020, 0x0021:
		return "Elliptic-curve Diffie-Hellman on a Brainpool curve (RFC 8734)"
	case 0x0100, 0x0101, 0x0102, 0x0103, 0x0104:
		return "Finite-field Diffie-Hellman over a fixed, published group (RFC 7919)"
	}
	if isGREASE(id) {
		return "GREASE: a reserved value with no meaning, sent so servers keep ignoring groups they do not know (RFC 8701)"
	}
	return "A group this decoder does not know; a peer skips groups it does not support"
}

// schemeAbout explains a signature scheme.
func schemeAbout(id uint16) string {
	name, ok := schemeName(id)
	switch {
	case !ok:
		return "A signature scheme this decoder does not know"
	case name == "GREASE":
		return "GREASE: a reserved value with no meaning (RFC 8701)"
	case name == "ed25519" || name == "ed448":
		return "EdDSA signature (RFC 8032)"
	case strings.HasPrefix(name, "mldsa"):
		return "Post-quantum ML-DSA signature (FIPS 204)"
	case strings.HasPrefix(name, "rsa_pss_rsae"):
		return "RSA-PSS signature made with an ordinary RSA key (rsaEncryption certificate)"
	case strings.HasPrefix(name, "rsa_pss_pss"):
		return "RSA-PSS signature made with an RSA key restricted to PSS (RSASSA-PSS certificate)"
	case strings.HasSuffix(name, "sha1") || strings.HasSuffix(name, "md5"):
		return "A legacy signature with a broken hash; accepted at most for old TLS 1.2 peers"
	case strings.HasPrefix(name, "rsa_pkcs1"):
		return "RSA PKCS #1 v1.5 signature; TLS 1.3 allows it only inside certificates"
	case strings.HasPrefix(name, "ecdsa_secp"):
		curve, hash, _ := strings.Cut(strings.TrimPrefix(name, "ecdsa_secp"), "r1_sha")
		return fmt.Sprintf("ECDSA signature on the P-%s curve with SHA-%s", curve, hash)
	case strings.HasPrefix(name, "ecdsa"):
		return "ECDSA signature"
	}
	return "A legacy TLS 1.2 hash and signature pair"
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
	names := map[x509.ExtKeyUsage]string{
		x509.ExtKeyUsageAny:             "any",
		x509.ExtKeyUsageServerAuth:      "serverAuth",
		x509.ExtKeyUsageClientAuth:      "clientAuth",
		x509.ExtKeyUsageCodeSigning:     "codeSigning",
		x509.ExtKeyUsageEmailProtection: "emailProtection",
		x509.ExtKeyUsageTimeStamping:    "timeStamping",
		x509.ExtKeyUsageOCSPSigning:     "OCSPSigning",
	}
	var out []string
	for _, u := range c.ExtKeyUsage {
		if n, ok := names[u]; ok {
			out = append(out, n)
		} else {
			out = append(out, fmt.Sprintf("usage %d", u))
		}
	}
	for _, oid := range c.UnknownExtKeyUsage {
		out = append(out, oid.String())
	}
	return strings.Join(out, ", ")
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
