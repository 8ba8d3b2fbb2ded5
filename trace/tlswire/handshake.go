// Package tlswire decodes the TLS wire format into annotated fields: the
// records of a byte stream (RFC 8446 §5, RFC 5246 §6.2), alerts, and the
// handshake messages of TLS 1.0 to 1.3 with their extensions and
// certificates; and it names versions, cipher suites, groups, signature
// schemes and extensions.
//
// It decodes what it is handed, record by record and message by message;
// it does not decrypt (package tlskeys does), follow a connection (package
// trace does) or speak TLS.
package tlswire

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"strings"

	"github.com/mqtts-playground/playground/trace/field"
)

// HandshakeMessage is one decoded TLS handshake message.
type HandshakeMessage struct {
	// Type names the message: "HelloRequest", "ClientHello", "ServerHello",
	// "HelloRetryRequest" (a ServerHello whose random is the special value of
	// RFC 8446 §4.1.3), "NewSessionTicket", "EndOfEarlyData",
	// "EncryptedExtensions", "Certificate", "ServerKeyExchange",
	// "CertificateRequest", "ServerHelloDone", "CertificateVerify",
	// "ClientKeyExchange", "Finished", "CertificateStatus", "KeyUpdate",
	// "MessageHash", else "Unknown(N)" with N the msg_type.
	Type string
	// Summary is one line for a sequence diagram, such as
	// "TLS 1.3 offered, SNI localhost, 2 key shares (X25519MLKEM768, x25519)".
	Summary string
	// Fields annotate the message. Start and End are offsets into the message
	// (offset 0 is the msg_type byte of the 4-byte handshake header). Fields
	// are ordered by Start, a parent before its children. In is empty: the
	// caller fixes offsets and In up.
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

// msgType is what the decoder knows of a msg_type: the Type it reports
// (empty for the types it does not decode), the name in the specifications,
// and the decoder of the body.
type msgType struct {
	typ, wire string
	body      func(d *decoder, r *span) bool
}

var msgTypes = map[uint8]msgType{
	typeHelloRequest: {"HelloRequest", "hello_request", // RFC 5246 §7.4.1.1
		emptyBody("server asks the client to start a new handshake", "RFC 5246 §7.4.1.1")},
	typeClientHello: {"ClientHello", "client_hello", (*decoder).clientHello}, // RFC 8446 §4.1.2, RFC 5246 §7.4.1.2
	typeServerHello: {"ServerHello", "server_hello", (*decoder).serverHello}, // RFC 8446 §4.1.3 and §4.1.4, RFC 5246 §7.4.1.3
	3:               {"", "hello_verify_request", nil},
	typeNewSessionTicket: {"NewSessionTicket", "new_session_ticket", // RFC 8446 §4.6.1, RFC 5077 §3.3
		byVersion((*decoder).newSessionTicket13, (*decoder).newSessionTicket12)},
	typeEndOfEarlyData: {"EndOfEarlyData", "end_of_early_data", // RFC 8446 §4.5
		emptyBody("the client has sent all its 0-RTT data", "RFC 8446 §4.5")},
	6:                       {"", "hello_retry_request (draft value)", nil},
	typeEncryptedExtensions: {"EncryptedExtensions", "encrypted_extensions", (*decoder).encryptedExtensions}, // RFC 8446 §4.3.1
	typeCertificate:         {"Certificate", "certificate", (*decoder).certificate},                          // RFC 8446 §4.4.2, RFC 5246 §7.4.2
	typeServerKeyExchange:   {"ServerKeyExchange", "server_key_exchange", (*decoder).serverKeyExchange},      // RFC 8422 §5.4, RFC 5246 §7.4.3
	typeCertificateRequest: {"CertificateRequest", "certificate_request", // RFC 8446 §4.3.2, RFC 5246 §7.4.4
		byVersion((*decoder).certificateRequest13, (*decoder).certificateRequest12)},
	typeServerHelloDone: {"ServerHelloDone", "server_hello_done", // RFC 5246 §7.4.5
		emptyBody("the server has sent all its hello messages", "RFC 5246 §7.4.5")},
	typeCertificateVerify: {"CertificateVerify", "certificate_verify", (*decoder).certificateVerify},  // RFC 8446 §4.4.3, RFC 5246 §7.4.8
	typeClientKeyExchange: {"ClientKeyExchange", "client_key_exchange", (*decoder).clientKeyExchange}, // RFC 8422 §5.7, RFC 5246 §7.4.7
	typeFinished:          {"Finished", "finished", (*decoder).finished},                              // RFC 8446 §4.4.4, RFC 5246 §7.4.9
	21:                    {"", "certificate_url", nil},
	typeCertificateStatus: {"CertificateStatus", "certificate_status", (*decoder).certificateStatus}, // RFC 6066 §8
	23:                    {"", "supplemental_data", nil},
	typeKeyUpdate:         {"KeyUpdate", "key_update", (*decoder).keyUpdate}, // RFC 8446 §4.6.3
	25:                    {"", "compressed_certificate", nil},
	typeMessageHash:       {"MessageHash", "message_hash", (*decoder).messageHash}, // RFC 8446 §4.4.1
}

// byVersion picks the body decoder of the TLS 1.3 layout or of the older
// one, by the version being decoded.
func byVersion(tls13, older func(d *decoder, r *span) bool) func(d *decoder, r *span) bool {
	return func(d *decoder, r *span) bool {
		if d.version == tls.VersionTLS13 {
			return tls13(d, r)
		}
		return older(d, r)
	}
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

// HandshakeHeaderLen is the size of a handshake message header: msg_type
// and a 3-byte length.
const HandshakeHeaderLen = 4

// HandshakeLen returns the length, header included, of the handshake
// message that starts b, or false when b is shorter than the header.
func HandshakeLen(b []byte) (int, bool) {
	if len(b) < HandshakeHeaderLen {
		return 0, false
	}
	return HandshakeHeaderLen + (int(b[1])<<16 | int(b[2])<<8 | int(b[3])), true
}

// DecodeHandshake decodes the first handshake message in b (4-byte header
// included), following the convention of package field: it returns the
// message and its length n; when b holds only the start of a message, n is
// 0, err is io.ErrUnexpectedEOF and m is the zero value. A message that
// breaks a rule comes back with Err set.
//
// version is the protocol version negotiated so far: 0 before the
// ServerHello, tls.VersionTLS12 or tls.VersionTLS13 after. It matters because
// Certificate, CertificateRequest and NewSessionTicket have different layouts
// in TLS 1.2 and 1.3 (and CertificateVerify, CertificateRequest and
// ServerKeyExchange carry no signature algorithm before TLS 1.2). When version
// is 0 for one of those messages, the TLS 1.3 layout is tried first and the
// TLS 1.2 one if that fails.
//
// It never panics and never reads past b[:n]. Errors are lowercase, start
// with "trace: tls: ", and name the offset of the offending bytes, e.g.
// "trace: tls: ClientHello: extension 43 at offset 120: duplicate".
func DecodeHandshake(b []byte, version uint16) (m HandshakeMessage, n int, err error) {
	n, ok := HandshakeLen(b)
	if !ok || len(b) < n {
		return HandshakeMessage{}, 0, io.ErrUnexpectedEOF
	}
	msg := b[:n:n]
	if version == 0 {
		switch msg[0] {
		case typeNewSessionTicket, typeCertificate, typeCertificateRequest:
			m := decodeHandshake(msg, tls.VersionTLS13)
			if m.Err == nil {
				return m, n, nil
			}
			if alt := decodeHandshake(msg, tls.VersionTLS12); alt.Err == nil {
				return alt, n, nil
			}
			return m, n, nil
		}
	}
	return decodeHandshake(msg, version), n, nil
}

// decoder holds the state of decoding one handshake message.
type decoder struct {
	msg     []byte
	version uint16
	name    string // the message Type, for error text
	m       *HandshakeMessage
	fields  []field.Field
	err     error
	facts   facts

	// The bytes the body decoder and an extension decoder read, which they
	// get through a table: kept here, not on the stack, as a pointer passed
	// to a function value would move them to the heap.
	body, ext span
}

// facts are what the extensions said, gathered for Summary and for the
// values of HandshakeMessage.
type facts struct {
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

// decodeHandshake decodes msg, a whole message, with the layouts of
// version.
func decodeHandshake(msg []byte, version uint16) HandshakeMessage {
	var m HandshakeMessage
	d := &decoder{msg: msg, version: version, m: &m}
	d.decode()
	m.Fields = d.fields
	m.Err = d.err
	if m.Err != nil {
		m.Summary = "malformed: " + strings.TrimPrefix(m.Err.Error(), "trace: tls: "+d.name+": ")
	}
	return m
}

// decode annotates the handshake header and hands the body to the decoder
// of its message type.
func (d *decoder) decode() {
	typ := d.msg[0]
	t, known := msgTypes[typ]
	d.m.Type = t.typ
	if d.m.Type == "" {
		d.m.Type = fmt.Sprintf("Unknown(%d)", typ)
	}
	if typ == typeServerHello && len(d.msg) >= 38 && bytes.Equal(d.msg[6:38], hrrRandom) {
		d.m.Type = "HelloRetryRequest"
	}
	d.name = d.m.Type
	if !known {
		t.wire = "unknown"
	}
	d.header(typ, t.wire)
	d.body = span{s: d.msg[HandshakeHeaderLen:], off: HandshakeHeaderLen}
	decodeBody := t.body
	if decodeBody == nil {
		decodeBody = unknownBody(t.wire)
	}
	if decodeBody(d, &d.body) && !d.body.empty() {
		d.failf(d.body.off, "trailing data", "%s after the end of the %s", nbytes(d.body.left()), d.name)
	}
}

// header annotates the 4-byte header (RFC 8446 §4, RFC 5246 §7.4): a
// 1-byte msg_type and a 3-byte length.
func (d *decoder) header(typ uint8, wire string) {
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
	d.add(field.Field{Name: "msg_type", About: about, Spec: spec}, 0, 1, fmt.Sprintf("%s (%d)", wire, typ))
	d.add(field.Field{Name: "length", About: "Size of the message body that follows this 4-byte header; one message may span several records", Spec: spec},
		1, HandshakeHeaderLen, nbytes(len(d.msg)-HandshakeHeaderLen))
}
