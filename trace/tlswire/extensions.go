package tlswire

import (
	"crypto/x509/pkix"
	"encoding/asn1"
	"fmt"
	"strings"

	"github.com/mqtts-playground/playground/trace/field"
)

// extCtx is the message an extension block belongs to: several extensions
// have a different layout in each (RFC 8446 §4.2 lists which go where).
type extCtx int

const (
	inClientHello extCtx = iota
	inServerHello
	inHelloRetryRequest
	inEncryptedExtensions
	inCertificateRequest
	inNewSessionTicket
	inCertificate
)

// Extension types (IANA "TLS ExtensionType Values").
const (
	extServerName               = 0
	extStatusRequest            = 5
	extSupportedGroups          = 10
	extECPointFormats           = 11
	extSignatureAlgorithms      = 13
	extALPN                     = 16
	extSCT                      = 18
	extPadding                  = 21
	extEncryptThenMAC           = 22
	extExtendedMasterSecret     = 23
	extCompressCertificate      = 27
	extRecordSizeLimit          = 28
	extSessionTicket            = 35
	extPreSharedKey             = 41
	extEarlyData                = 42
	extSupportedVersions        = 43
	extCookie                   = 44
	extPSKModes                 = 45
	extCertificateAuthorities   = 47
	extPostHandshakeAuth        = 49
	extSignatureAlgorithmsCert  = 50
	extKeyShare                 = 51
	extEncryptedClientHello     = 0xfe0d
	extRenegotiationInfo        = 0xff01
	extQUICTransportParameters  = 57
	extECHOuterExtensions       = 0xfd00
	extApplicationSettings      = 17513
	extApplicationSettingsNew   = 17613
	extDelegatedCredential      = 34
	extConnectionID             = 54
	extTicketRequest            = 58
	extMaxFragmentLength        = 1
	extStatusRequestV2          = 17
	extHeartbeat                = 15
	extUseSRTP                  = 14
	extClientCertificateType    = 19
	extServerCertificateType    = 20
	extOIDFilters               = 48
	extTransparencyInfo         = 52
	extDNSSECChain              = 59
	extTokenBinding             = 24
	extCachedInfo               = 25
	extCertificateTypeExtension = 9
)

// extInfo names an extension and says what it is for and where it is
// defined.
type extInfo struct{ name, about, spec string }

var extInfos = map[uint16]extInfo{
	extServerName: {"server_name",
		"Server Name Indication (SNI): the host name the client wants, so one address can serve many names", "RFC 6066 §3"},
	extMaxFragmentLength: {"max_fragment_length",
		"Asks for smaller records, for constrained clients", "RFC 6066 §4"},
	extStatusRequest: {"status_request",
		"OCSP stapling: the client asks the server to include a fresh, CA-signed statement that its certificate is not revoked", "RFC 6066 §8"},
	extCertificateTypeExtension: {"cert_type",
		"OpenPGP certificate negotiation (obsolete)", "RFC 6091"},
	extSupportedGroups: {"supported_groups",
		"The key-exchange groups (elliptic curves, finite fields, post-quantum hybrids) the sender supports, most preferred first", "RFC 8446 §4.2.7"},
	extECPointFormats: {"ec_point_formats",
		"Elliptic-curve point encodings the sender can read (TLS 1.2); only uncompressed is still used", "RFC 8422 §5.1.2"},
	extSignatureAlgorithms: {"signature_algorithms",
		"The signature schemes the sender accepts for handshake signatures (CertificateVerify, and ServerKeyExchange in TLS 1.2)", "RFC 8446 §4.2.3"},
	extUseSRTP: {"use_srtp",
		"Negotiates SRTP keys for DTLS-protected media", "RFC 5764 §4.1"},
	extHeartbeat: {"heartbeat",
		"Negotiates the TLS heartbeat (keep-alive) extension, of Heartbleed fame", "RFC 6520 §2"},
	extALPN: {"application_layer_protocol_negotiation",
		"ALPN: the application protocols the client can speak inside TLS (such as mqtt), and the one the server picked", "RFC 7301 §3.1"},
	extStatusRequestV2: {"status_request_v2",
		"OCSP stapling for every certificate of the chain", "RFC 6961"},
	extSCT: {"signed_certificate_timestamp",
		"Certificate Transparency: proofs that the certificate was published in public logs", "RFC 6962 §3.3"},
	extClientCertificateType: {"client_certificate_type",
		"Certificate formats the client can send (X.509 or raw public key)", "RFC 7250 §3"},
	extServerCertificateType: {"server_certificate_type",
		"Certificate formats the client accepts from the server (X.509 or raw public key)", "RFC 7250 §3"},
	extPadding: {"padding",
		"Zero bytes that grow the ClientHello past sizes some broken middleboxes choke on", "RFC 7685 §3"},
	extEncryptThenMAC: {"encrypt_then_mac",
		"For TLS 1.2 CBC suites: compute the MAC over the ciphertext instead of the plaintext, which closes padding-oracle attacks", "RFC 7366 §2"},
	extExtendedMasterSecret: {"extended_master_secret",
		"Makes the TLS 1.2 master secret depend on the whole handshake, so two connections cannot share keys (triple-handshake attack)", "RFC 7627 §5.1"},
	extTokenBinding: {"token_binding",
		"Negotiates Token Binding", "RFC 8472"},
	extCachedInfo: {"cached_info",
		"Lets the client say which server data it has cached", "RFC 7924"},
	extCompressCertificate: {"compress_certificate",
		"The algorithms the sender can decompress certificates with", "RFC 8879 §3"},
	extRecordSizeLimit: {"record_size_limit",
		"The largest record the sender is willing to receive", "RFC 8449 §4"},
	extDelegatedCredential: {"delegated_credential",
		"Short-lived credentials the certificate owner delegates to a server", "RFC 9345"},
	extSessionTicket: {"session_ticket",
		"TLS 1.2 stateless resumption: empty to ask for a ticket, or a ticket from an earlier connection to resume it", "RFC 5077 §3.2"},
	extPreSharedKey: {"pre_shared_key",
		"Resumption (or an external key): the tickets the client offers, or the index of the one the server accepts", "RFC 8446 §4.2.11"},
	extEarlyData: {"early_data",
		"0-RTT: the client sends application data before the handshake ends, or a ticket says how much it may send", "RFC 8446 §4.2.10"},
	extSupportedVersions: {"supported_versions",
		"The real version negotiation of TLS 1.3: the versions the client offers, or the one the server picked", "RFC 8446 §4.2.1"},
	extCookie: {"cookie",
		"A value the server asks the client to echo in its second ClientHello, e.g. to check the client's address or to stay stateless", "RFC 8446 §4.2.2"},
	extPSKModes: {"psk_key_exchange_modes",
		"How the client is willing to use a resumption key: alone, or combined with a fresh (EC)DHE exchange", "RFC 8446 §4.2.9"},
	extCertificateAuthorities: {"certificate_authorities",
		"The certificate authorities the sender trusts, to help the peer choose which certificate to send", "RFC 8446 §4.2.4"},
	extOIDFilters: {"oid_filters",
		"Certificate extension values the server wants the client certificate to match", "RFC 8446 §4.2.5"},
	extPostHandshakeAuth: {"post_handshake_auth",
		"The client is willing to be asked for a certificate after the handshake", "RFC 8446 §4.2.6"},
	extSignatureAlgorithmsCert: {"signature_algorithms_cert",
		"The signature schemes the sender accepts inside certificates, when they differ from signature_algorithms", "RFC 8446 §4.2.3"},
	extKeyShare: {"key_share",
		"Key-exchange public values: the client guesses groups and sends keys for them, so the keys are agreed in one round trip", "RFC 8446 §4.2.8"},
	extTransparencyInfo: {"transparency_info",
		"Certificate Transparency 2.0 information", "RFC 9162"},
	extConnectionID: {"connection_id",
		"DTLS connection IDs", "RFC 9146 §3"},
	extQUICTransportParameters: {"quic_transport_parameters",
		"QUIC connection settings carried in the TLS handshake", "RFC 9001 §8.2"},
	extTicketRequest: {"ticket_request",
		"How many session tickets the client would like", "RFC 9149"},
	extDNSSECChain: {"dnssec_chain",
		"A DNSSEC chain that authenticates the server's key", "RFC 9102"},
	extApplicationSettings: {"application_settings",
		"ALPS: application settings sent during the handshake (draft)", "draft-vvv-tls-alps"},
	extApplicationSettingsNew: {"application_settings",
		"ALPS: application settings sent during the handshake (draft, new code point)", "draft-vvv-tls-alps"},
	extECHOuterExtensions: {"ech_outer_extensions",
		"Inside an encrypted ClientHello: extensions copied from the outer ClientHello", "draft-ietf-tls-esni §5.1"},
	extEncryptedClientHello: {"encrypted_client_hello",
		"ECH: the real ClientHello, SNI included, encrypted to a key the server published in DNS", "draft-ietf-tls-esni §5"},
	extRenegotiationInfo: {"renegotiation_info",
		"Secure renegotiation: ties a renegotiation to the connection it happens in; empty on a first handshake", "RFC 5746 §3.2"},
}

// ExtensionName returns the name of a TLS extension type, such as
// "server_name" or "key_share", "GREASE" for the reserved GREASE values, or
// "unknown (N)" with N in decimal when it is not known.
func ExtensionName(id uint16) string {
	if e, ok := extInfos[id]; ok {
		return e.name
	}
	if isGREASE(id) {
		return "GREASE"
	}
	return fmt.Sprintf("unknown (%d)", id)
}

// extValue shows an extension type: "server_name (0)", "GREASE (0x0a0a)" or
// "unknown (N)".
func extValue(id uint16) string {
	if e, ok := extInfos[id]; ok {
		return fmt.Sprintf("%s (%d)", e.name, id)
	}
	if isGREASE(id) {
		return fmt.Sprintf("GREASE (0x%04x)", id)
	}
	return fmt.Sprintf("unknown (%d)", id)
}

func extAboutSpec(id uint16) (string, string) {
	if e, ok := extInfos[id]; ok {
		return e.about, e.spec
	}
	if isGREASE(id) {
		return "GREASE: an extension with a reserved, meaningless type, sent so servers keep ignoring extensions they do not know", "RFC 8701 §2"
	}
	return "An extension this decoder does not know; a receiver ignores extensions it does not recognise, which is how TLS grows new features", "RFC 8446 §4.2"
}

// extensions decodes an extension block (RFC 8446 §4.2, RFC 5246
// §7.4.1.4): annotated as "extensions" at depth, each extension at depth+1
// and its parts at depth+2 and deeper. Like crypto/tls, it rejects duplicate
// extensions and requires each extension's data to be fully consumed.
func (d *decoder) extensions(r *span, depth int, ctx extCtx) bool {
	about := "The extensions: typed, length-prefixed blocks that carry most of what the two sides negotiate"
	spec := "RFC 8446 §4.2"
	switch ctx {
	case inEncryptedExtensions:
		about, spec = "The server's answers to client extensions that do not affect the keys, sent encrypted", "RFC 8446 §4.3.1"
	case inCertificateRequest:
		about, spec = "What the server wants in a client certificate: signature schemes, accepted CAs …", "RFC 8446 §4.3.2"
	case inNewSessionTicket:
		about, spec = "Extensions for this ticket, such as how much 0-RTT data it allows", "RFC 8446 §4.6.1"
	case inCertificate:
		about, spec = "Extensions for this certificate, such as a stapled OCSP response", "RFC 8446 §4.4.2"
	}
	exts, idx, ok := d.vector(r, vec{size: 2}, field.Field{Name: "extensions", Depth: depth, About: about, Spec: spec})
	if !ok {
		return false
	}
	seen := make(map[uint16]bool)
	n := 0
	for ; !exts.empty(); n++ {
		start := exts.off
		id, data, pidx, ok := d.extensionHeader(&exts, depth+1)
		if !ok {
			return false
		}
		d.ext = data
		what := fmt.Sprintf("extension %d", id)
		if seen[id] {
			return d.failf(start, what, "duplicate")
		}
		seen[id] = true
		if ctx == inClientHello && id == extPreSharedKey && !exts.empty() {
			return d.failf(start, what, "pre_shared_key must be the last extension")
		}
		summary, ok := d.extension(&d.ext, depth+2, id, ctx)
		if !ok {
			return false
		}
		if summary != "" {
			d.fields[pidx].Value += ": " + summary
		}
		if !d.ext.empty() {
			return d.failf(start, what, "%s left over at offset %d", nbytes(d.ext.left()), d.ext.off)
		}
	}
	d.facts.extensions = n
	d.set(idx, count(n, "extension"), "")
	return true
}

// extensionHeader reads the type and length of the next extension of exts
// and annotates the extension at depth, its type and length one level
// deeper. It returns the extension type, its data and the index of its
// field.
func (d *decoder) extensionHeader(exts *span, depth int) (id uint16, data span, idx int, ok bool) {
	start := exts.off
	var typ uint32
	if !d.readUint(exts, 2, "extension_type", &typ) {
		return 0, span{}, -1, false
	}
	id = uint16(typ)
	about, spec := extAboutSpec(id)
	ext := field.Field{Name: "extension", Depth: depth, About: about, Spec: spec, ExtName: extInfos[id].name}
	length := field.Field{Name: "extension_data length", Depth: depth + 1, About: "How many bytes of extension data follow", Spec: "RFC 8446 §4.2"}
	lenStart := exts.off
	var size uint32
	read := d.readUint(exts, 2, "extension_data length", &size)
	if !read || int(size) > exts.left() {
		ext.Name = "extension_type"
		d.add(ext, start, lenStart, extValue(id))
		if !read {
			return 0, span{}, -1, false
		}
		length.Depth = depth
		d.add(length, lenStart, exts.off, nbytes(int(size)))
		return 0, span{}, -1, d.failf(lenStart, "extension_data", "length %d exceeds the %s left", size, nbytes(exts.left()))
	}
	data = span{s: exts.s[:size], off: exts.off}
	exts.skip(int(size))
	idx = d.add(ext, start, exts.off, extValue(id))
	d.add(field.Field{Name: "extension_type", Depth: depth + 1, About: "Which extension this is", Spec: "RFC 8446 §4.2"}, start, lenStart, extValue(id))
	d.add(length, lenStart, data.off, nbytes(int(size)))
	return id, data, idx, true
}

// extDecoder decodes the data of an extension into fields at depth and
// returns a short summary for the extension's own field.
type extDecoder func(d *decoder, r *span, depth int) (string, bool)

// ctxSet is a set of extension contexts.
type ctxSet uint8

// in makes the set of ctxs.
func in(ctxs ...extCtx) ctxSet {
	var s ctxSet
	for _, c := range ctxs {
		s |= 1 << c
	}
	return s
}

// anywhere holds every context.
const anywhere = ^ctxSet(0)

// extLayout is how an extension reads in some of the messages it appears
// in.
type extLayout struct {
	in     ctxSet
	decode extDecoder
}

// extLayouts gives, for each extension whose data this package takes
// apart, its layout in each kind of message (RFC 8446 §4.2 lists which
// extension may go where). The data of the others is shown whole.
var extLayouts = map[uint16][]extLayout{
	extServerName: {
		{in(inClientHello), (*decoder).extServerName},
		{in(inServerHello, inEncryptedExtensions), says("name accepted")}, // RFC 6066 §3: empty
	},
	extStatusRequest: {
		{in(inClientHello), (*decoder).extStatusRequest},
		{in(inCertificate), (*decoder).extOCSPResponse},
		{in(inServerHello), says("a CertificateStatus will follow")},   // RFC 6066 §8: empty
		{in(inCertificateRequest), says("the client may staple OCSP")}, // RFC 8446 §4.4.2.1: empty
	},
	extSupportedGroups:         {{in(inClientHello, inEncryptedExtensions), (*decoder).extSupportedGroups}},
	extECPointFormats:          {{in(inClientHello, inServerHello), (*decoder).extPointFormats}},
	extSignatureAlgorithms:     {{in(inClientHello, inCertificateRequest), (*decoder).extSignatureAlgorithms}},
	extSignatureAlgorithmsCert: {{in(inClientHello, inCertificateRequest), (*decoder).extSignatureAlgorithms}},
	extALPN: {
		{in(inClientHello), alpn(false)},
		{in(inServerHello, inEncryptedExtensions), alpn(true)},
	},
	extSCT: {
		{in(inServerHello, inCertificate), (*decoder).extSCTList},
		{in(inClientHello, inCertificateRequest), says("")}, // RFC 6962 §3.3.1: empty
	},
	extPadding:             {{in(inClientHello), (*decoder).extPadding}},
	extCompressCertificate: {{in(inClientHello, inCertificateRequest), (*decoder).extCompressCertificate}},
	extRecordSizeLimit:     {{in(inClientHello, inServerHello, inEncryptedExtensions), (*decoder).extRecordSizeLimit}},
	extSessionTicket: {
		{in(inClientHello), (*decoder).extSessionTicket},
		{in(inServerHello), says("a NewSessionTicket will follow")}, // RFC 5077 §3.2: empty
	},
	extPreSharedKey: {
		{in(inClientHello), (*decoder).extPreSharedKey},
		{in(inServerHello), (*decoder).extSelectedIdentity},
	},
	extEarlyData: {
		{in(inNewSessionTicket), (*decoder).extMaxEarlyData},
		{in(inClientHello), earlyData("0-RTT data follows")},          // RFC 8446 §4.2.10: empty
		{in(inEncryptedExtensions), earlyData("0-RTT data accepted")}, // RFC 8446 §4.2.10: empty
	},
	extSupportedVersions: {
		{in(inClientHello), (*decoder).extSupportedVersions},
		{in(inServerHello, inHelloRetryRequest), (*decoder).extSelectedVersion},
	},
	extCookie:                 {{in(inClientHello, inHelloRetryRequest), (*decoder).extCookie}},
	extPSKModes:               {{in(inClientHello), (*decoder).extPSKModes}},
	extCertificateAuthorities: {{in(inClientHello, inCertificateRequest), (*decoder).extCertificateAuthorities}},
	extKeyShare: {
		{in(inClientHello), (*decoder).extKeyShareClient},
		{in(inServerHello), (*decoder).extKeyShareServer},
		{in(inHelloRetryRequest), (*decoder).extSelectedGroup},
	},
	extRenegotiationInfo: {{in(inClientHello, inServerHello), (*decoder).extRenegotiationInfo}},
	extEncryptedClientHello: {
		{in(inClientHello), (*decoder).extECH},
		{in(inHelloRetryRequest), (*decoder).extECHConfirmation},
	},
	// No data: being there is the message (RFC 7627 §5.1, RFC 7366 §2,
	// RFC 8446 §4.2.6).
	extExtendedMasterSecret: {{anywhere, says("")}},
	extEncryptThenMAC:       {{anywhere, says("")}},
	extPostHandshakeAuth:    {{anywhere, says("")}},
}

// says decodes an extension that carries no data, summarized as summary;
// data left over is an error of the caller's.
func says(summary string) extDecoder {
	return func(*decoder, *span, int) (string, bool) { return summary, true }
}

// extension decodes the data of one extension of type id, in a message of
// kind ctx, into fields at depth. It returns a short summary for the
// extension's own field.
func (d *decoder) extension(r *span, depth int, id uint16, ctx extCtx) (string, bool) {
	for _, l := range extLayouts[id] {
		if l.in&(1<<ctx) != 0 {
			return l.decode(d, r, depth)
		}
	}
	return d.extOpaque(r, depth, id)
}

// extRecordSizeLimit decodes a RecordSizeLimit (RFC 8449 §4).
func (d *decoder) extRecordSizeLimit(r *span, depth int) (string, bool) {
	v, idx, ok := d.num(r, 2, field.Field{Name: "record_size_limit", Depth: depth, Spec: "RFC 8449 §4"})
	d.set(idx, nbytes(int(v)), "The largest record plaintext the sender will accept")
	return nbytes(int(v)), ok
}

// extSessionTicket decodes a ClientHello's SessionTicket (RFC 5077 §3.2).
func (d *decoder) extSessionTicket(r *span, depth int) (string, bool) {
	b, idx := d.rest(r, field.Field{Name: "ticket", Depth: depth, Spec: "RFC 5077 §3.2"})
	d.set(idx, "", "A ticket the server issued earlier: the client wants to resume that session")
	d.facts.ticket = len(b)
	if len(b) == 0 {
		return "empty, asks for a ticket", true
	}
	return nbytes(len(b)) + " ticket", true
}

// extSelectedIdentity decodes a ServerHello's pre_shared_key (RFC 8446
// §4.2.11).
func (d *decoder) extSelectedIdentity(r *span, depth int) (string, bool) {
	v, idx, ok := d.num(r, 2, field.Field{Name: "selected_identity", Depth: depth, Spec: "RFC 8446 §4.2.11"})
	d.set(idx, fmt.Sprintf("%d", v), "Which of the client's offered identities (counting from 0) the server accepted: the session resumes")
	d.facts.psk = ok
	return fmt.Sprintf("identity %d accepted", v), ok
}

// extMaxEarlyData decodes a NewSessionTicket's early_data (RFC 8446
// §4.2.10).
func (d *decoder) extMaxEarlyData(r *span, depth int) (string, bool) {
	v, idx, ok := d.num(r, 4, field.Field{Name: "max_early_data_size", Depth: depth, Spec: "RFC 8446 §4.2.10"})
	d.set(idx, nbytes(int(v)), "How much 0-RTT data the client may send when it resumes with this ticket")
	d.facts.earlyData, d.facts.maxEarlyData = ok, v
	return "up to " + nbytes(int(v)), ok
}

// earlyData decodes the empty early_data of a ClientHello or of
// EncryptedExtensions (RFC 8446 §4.2.10).
func earlyData(summary string) extDecoder {
	return func(d *decoder, _ *span, _ int) (string, bool) {
		d.facts.earlyData = true
		return summary, true
	}
}

// extSelectedVersion decodes the supported_versions of a ServerHello or
// HelloRetryRequest (RFC 8446 §4.2.1).
func (d *decoder) extSelectedVersion(r *span, depth int) (string, bool) {
	v, idx, ok := d.num(r, 2, field.Field{Name: "selected_version", Depth: depth, Spec: "RFC 8446 §4.2.1"})
	d.set(idx, versionValue(uint16(v)), "The version the server chose; this, not legacy_version, is the version of the connection")
	if ok {
		d.facts.selectedVersion = uint16(v)
	}
	return VersionName(uint16(v)), ok
}

// extCookie decodes a Cookie (RFC 8446 §4.2.2).
func (d *decoder) extCookie(r *span, depth int) (string, bool) {
	b, _, ok := d.opaque(r, vec{size: 2, min: 1}, field.Field{Name: "cookie", Depth: depth,
		About: "Opaque to the client: it returns the server's cookie unchanged in its second ClientHello", Spec: "RFC 8446 §4.2.2"})
	d.facts.cookie = ok
	return nbytes(len(b)), ok
}

// extKeyShareServer decodes a KeyShareServerHello (RFC 8446 §4.2.8).
func (d *decoder) extKeyShareServer(r *span, depth int) (string, bool) {
	return d.keyShareEntry(r, depth, "server_share", false)
}

// extSelectedGroup decodes a KeyShareHelloRetryRequest (RFC 8446 §4.2.8).
func (d *decoder) extSelectedGroup(r *span, depth int) (string, bool) {
	g, idx, ok := d.num(r, 2, field.Field{Name: "selected_group", Depth: depth, Spec: "RFC 8446 §4.2.8"})
	d.set(idx, groupValue(uint16(g)), "The group the server wants: none of the client's key shares suited it, so the client must send a new one for this group")
	if ok {
		d.facts.hrrGroup, d.facts.hasHRRGroup = uint16(g), true
	}
	return GroupName(uint16(g)), ok
}

// extRenegotiationInfo decodes a RenegotiationInfo (RFC 5746 §3.2).
func (d *decoder) extRenegotiationInfo(r *span, depth int) (string, bool) {
	b, _, ok := d.opaque(r, vec{size: 1, max: 255}, field.Field{Name: "renegotiated_connection", Depth: depth,
		About: "Empty on a first handshake; when renegotiating, the Finished messages of the previous handshake", Spec: "RFC 5746 §3.2"})
	if len(b) == 0 {
		return "initial handshake", ok
	}
	return "renegotiation", ok
}

// extECHConfirmation decodes the encrypted_client_hello of a
// HelloRetryRequest (draft-ietf-tls-esni §5).
func (d *decoder) extECHConfirmation(r *span, depth int) (string, bool) {
	_, _, ok := d.fixed(r, 8, field.Field{Name: "confirmation", Depth: depth,
		About: "Proves the server decrypted the inner ClientHello", Spec: "draft-ietf-tls-esni §5"})
	return "", ok
}

// extOpaque shows the data of an extension that is not decoded further.
func (d *decoder) extOpaque(r *span, depth int, id uint16) (string, bool) {
	about, spec := extAboutSpec(id)
	if _, ok := extInfos[id]; ok {
		about = "The data of this extension, not decoded further here"
	}
	b, _ := d.rest(r, field.Field{Name: "extension_data", Depth: depth, About: about, Spec: spec})
	if len(b) == 0 {
		return "", true
	}
	return nbytes(len(b)), true
}

// extServerName decodes a ServerNameList (RFC 6066 §3).
func (d *decoder) extServerName(r *span, depth int) (string, bool) {
	const spec = "RFC 6066 §3"
	list, ok := d.list(r, vec{size: 2, min: 1}, field.Field{Name: "server_name_list", Depth: depth, Spec: spec})
	if !ok {
		return "", false
	}
	var names []string
	for !list.empty() {
		t, idx, ok := d.num(&list, 1, field.Field{Name: "name_type", Depth: depth, Spec: spec})
		if !ok {
			return "", false
		}
		if t == 0 {
			d.set(idx, "host_name (0)", "The kind of name that follows; host_name is the only kind defined")
		} else {
			d.set(idx, fmt.Sprintf("unknown (%d)", t), "A kind of name this decoder does not know")
		}
		b, idx, ok := d.opaque(&list, vec{size: 2, min: 1}, field.Field{Name: "host_name", Depth: depth, About: "The DNS name the client is connecting to, in ASCII, without a trailing dot; the server uses it to pick a certificate", Spec: spec})
		if !ok {
			return "", false
		}
		d.set(idx, textValue(b), "")
		if t == 0 {
			names = append(names, textValue(b))
			if d.facts.sni == "" {
				d.facts.sni = textValue(b)
			}
		}
	}
	return strings.Join(names, ", "), true
}

// extStatusRequest decodes a CertificateStatusRequest (RFC 6066 §8).
func (d *decoder) extStatusRequest(r *span, depth int) (string, bool) {
	const spec = "RFC 6066 §8"
	t, idx, ok := d.num(r, 1, field.Field{Name: "status_type", Depth: depth, Spec: spec})
	if !ok {
		return "", false
	}
	d.set(idx, statusTypeValue(uint8(t)), "The kind of status wanted; ocsp (1)")
	if t != 1 {
		d.rest(r, field.Field{Name: "request", Depth: depth, About: "A status request of a kind this decoder does not know", Spec: spec})
		return "", true
	}
	if _, _, ok := d.opaque(r, vec{size: 2}, field.Field{Name: "responder_id_list", Depth: depth, About: "OCSP responders the client trusts; usually empty, meaning the server knows which", Spec: spec}); !ok {
		return "", false
	}
	if _, _, ok := d.opaque(r, vec{size: 2}, field.Field{Name: "request_extensions", Depth: depth, About: "Extensions for the OCSP request, such as a nonce; usually empty", Spec: spec}); !ok {
		return "", false
	}
	return "OCSP", true
}

// extOCSPResponse decodes the CertificateStatus in a TLS 1.3 certificate
// entry (RFC 8446 §4.4.2.1, layout of RFC 6066 §8).
func (d *decoder) extOCSPResponse(r *span, depth int) (string, bool) {
	const spec = "RFC 8446 §4.4.2.1"
	t, idx, ok := d.num(r, 1, field.Field{Name: "status_type", Depth: depth, Spec: spec})
	if !ok {
		return "", false
	}
	d.set(idx, statusTypeValue(uint8(t)), "The kind of status information; ocsp (1)")
	b, _, ok := d.opaque(r, vec{size: 3, min: 1}, field.Field{Name: "response", Depth: depth, About: "A DER OCSP response, signed by the CA, saying this certificate is not revoked", Spec: spec})
	return "OCSP response, " + nbytes(len(b)), ok
}

// extSupportedGroups decodes a NamedGroupList (RFC 8446 §4.2.7).
func (d *decoder) extSupportedGroups(r *span, depth int) (string, bool) {
	const spec = "RFC 8446 §4.2.7"
	list, ok := d.list(r, vec{size: 2, min: 2}, field.Field{Name: "named_group_list", Depth: depth, Spec: spec})
	if !ok {
		return "", false
	}
	var names []string
	for !list.empty() {
		g, idx, ok := d.num(&list, 2, field.Field{Name: "named_group", Depth: depth, Spec: spec})
		if !ok {
			return "", false
		}
		d.set(idx, groupValue(uint16(g)), groupAbout(uint16(g)))
		names = append(names, GroupName(uint16(g)))
	}
	return shortList(names, 3), true
}

// extPointFormats decodes ECPointFormatList (RFC 8422 §5.1.2).
func (d *decoder) extPointFormats(r *span, depth int) (string, bool) {
	const spec = "RFC 8422 §5.1.2"
	list, ok := d.list(r, vec{size: 1, min: 1}, field.Field{Name: "ec_point_format_list", Depth: depth, Spec: spec})
	if !ok {
		return "", false
	}
	var names []string
	for !list.empty() {
		f, idx, _ := d.num(&list, 1, field.Field{Name: "ec_point_format", Depth: depth, Spec: spec})
		name := "unknown"
		switch f {
		case 0:
			name = "uncompressed"
		case 1:
			name = "ansiX962_compressed_prime"
		case 2:
			name = "ansiX962_compressed_char2"
		}
		d.set(idx, fmt.Sprintf("%s (%d)", name, f), "One point encoding; uncompressed (0) is the one everybody uses")
		names = append(names, name)
	}
	return strings.Join(names, ", "), true
}

// extSignatureAlgorithms decodes a SignatureSchemeList (RFC 8446 §4.2.3),
// for both signature_algorithms and signature_algorithms_cert.
func (d *decoder) extSignatureAlgorithms(r *span, depth int) (string, bool) {
	const spec = "RFC 8446 §4.2.3"
	list, ok := d.list(r, vec{size: 2, min: 2, max: 0xfffe}, field.Field{Name: "supported_signature_algorithms", Depth: depth, Spec: spec})
	if !ok {
		return "", false
	}
	n := 0
	for !list.empty() {
		s, idx, ok := d.num(&list, 2, field.Field{Name: "signature_scheme", Depth: depth, Spec: spec})
		if !ok {
			return "", false
		}
		d.set(idx, schemeValue(uint16(s)), schemeAbout(uint16(s)))
		n++
	}
	d.facts.sigSchemes = n
	return count(n, "scheme"), true
}

// alpn decodes the application_layer_protocol_negotiation of a client, or
// of a server, whose answer must hold exactly one name.
func alpn(server bool) extDecoder {
	return func(d *decoder, r *span, depth int) (string, bool) { return d.extALPN(r, depth, server) }
}

// extALPN decodes a ProtocolNameList (RFC 7301 §3.1); in a server's answer
// it must hold exactly one name.
func (d *decoder) extALPN(r *span, depth int, server bool) (string, bool) {
	const spec = "RFC 7301 §3.1"
	start := r.off
	list, ok := d.list(r, vec{size: 2, min: 2}, field.Field{Name: "protocol_name_list", Depth: depth, Spec: spec})
	if !ok {
		return "", false
	}
	about := "An application protocol the client offers, by its IANA-registered name"
	if server {
		about = "The application protocol the server chose; both sides now speak it inside TLS"
	}
	var names []string
	for !list.empty() {
		b, idx, ok := d.opaque(&list, vec{size: 1, min: 1}, field.Field{Name: "protocol_name", Depth: depth, About: about, Spec: spec})
		if !ok {
			return "", false
		}
		d.set(idx, textValue(b), "")
		names = append(names, textValue(b))
	}
	if server && len(names) != 1 {
		return "", d.failf(start, "protocol_name_list", "%d protocols where the server must choose exactly one", len(names))
	}
	d.facts.alpn = names
	return strings.Join(names, ", "), true
}

// extSCTList decodes a SignedCertificateTimestampList (RFC 6962 §3.3).
func (d *decoder) extSCTList(r *span, depth int) (string, bool) {
	const spec = "RFC 6962 §3.3"
	list, ok := d.list(r, vec{size: 2, min: 1}, field.Field{Name: "sct_list", Depth: depth, Spec: spec})
	if !ok {
		return "", false
	}
	n := 0
	for !list.empty() {
		if _, _, ok := d.opaque(&list, vec{size: 2, min: 1}, field.Field{Name: "SerializedSCT", Depth: depth, About: "One log's signed promise to publish the certificate", Spec: spec}); !ok {
			return "", false
		}
		n++
	}
	return count(n, "SCT"), true
}

// extPadding shows the padding bytes (RFC 7685 §3), which must be zero.
func (d *decoder) extPadding(r *span, depth int) (string, bool) {
	b, idx := d.rest(r, field.Field{Name: "padding", Depth: depth, Spec: "RFC 7685 §3"})
	zero := true
	for _, c := range b {
		zero = zero && c == 0
	}
	v := count(len(b), "zero byte")
	if !zero {
		v = nbytes(len(b)) + ", not all zero"
	}
	d.set(idx, v, "Filler with no meaning; it must be all zeros")
	return v, true
}

// extCompressCertificate decodes CertificateCompressionAlgorithms (RFC 8879
// §3).
func (d *decoder) extCompressCertificate(r *span, depth int) (string, bool) {
	const spec = "RFC 8879 §3"
	list, ok := d.list(r, vec{size: 1, min: 2, max: 254}, field.Field{Name: "algorithms", Depth: depth, Spec: spec})
	if !ok {
		return "", false
	}
	var names []string
	for !list.empty() {
		a, idx, ok := d.num(&list, 2, field.Field{Name: "algorithm", Depth: depth, Spec: spec})
		if !ok {
			return "", false
		}
		name := "unknown"
		switch a {
		case 1:
			name = "zlib"
		case 2:
			name = "brotli"
		case 3:
			name = "zstd"
		}
		if isGREASE(uint16(a)) {
			name = "GREASE"
		}
		d.set(idx, fmt.Sprintf("%s (%d)", name, a), "A compression algorithm for Certificate messages")
		names = append(names, name)
	}
	return strings.Join(names, ", "), true
}

// extPreSharedKey decodes an OfferedPsks (RFC 8446 §4.2.11).
func (d *decoder) extPreSharedKey(r *span, depth int) (string, bool) {
	const spec = "RFC 8446 §4.2.11"
	ids, ok := d.list(r, vec{size: 2, min: 7}, field.Field{Name: "identities", Depth: depth, Spec: spec})
	if !ok {
		return "", false
	}
	n := 0
	for !ids.empty() {
		b, _, ok := d.opaque(&ids, vec{size: 2, min: 1}, field.Field{Name: "identity", Depth: depth, About: "A key the client wants to resume with: usually a ticket from an earlier NewSessionTicket", Spec: spec})
		if !ok {
			return "", false
		}
		_ = b
		_, idx, ok := d.num(&ids, 4, field.Field{Name: "obfuscated_ticket_age", Depth: depth, Spec: spec})
		if !ok {
			return "", false
		}
		d.set(idx, hexValue(d.msg[d.fields[idx].Start:d.fields[idx].End]),
			"How long the client has held the ticket, in milliseconds, plus the ticket's ticket_age_add, so observers cannot link connections")
		n++
	}
	binders, ok := d.list(r, vec{size: 2, min: 33}, field.Field{Name: "binders", Depth: depth, Spec: spec})
	if !ok {
		return "", false
	}
	for !binders.empty() {
		if _, _, ok := d.opaque(&binders, vec{size: 1, min: 32}, field.Field{Name: "binder", Depth: depth, About: "An HMAC over this ClientHello (up to the binders) keyed from the offered PSK: proves the client really holds that key", Spec: "RFC 8446 §4.2.11.2"}); !ok {
			return "", false
		}
	}
	d.facts.psk = true
	return count(n, "identity"), true
}

// extSupportedVersions decodes a ClientHello's version list (RFC 8446
// §4.2.1).
func (d *decoder) extSupportedVersions(r *span, depth int) (string, bool) {
	const spec = "RFC 8446 §4.2.1"
	list, ok := d.list(r, vec{size: 1, min: 2, max: 254}, field.Field{Name: "versions", Depth: depth, Spec: spec})
	if !ok {
		return "", false
	}
	var names []string
	for !list.empty() {
		v, idx, ok := d.num(&list, 2, field.Field{Name: "version", Depth: depth, Spec: spec})
		if !ok {
			return "", false
		}
		about := "A version the client supports, most preferred first"
		if isGREASE(uint16(v)) {
			about = "GREASE: a reserved, meaningless version, sent so servers keep ignoring versions they do not know (RFC 8701)"
		}
		d.set(idx, versionValue(uint16(v)), about)
		d.facts.versions = append(d.facts.versions, uint16(v))
		names = append(names, VersionName(uint16(v)))
	}
	return strings.Join(names, ", "), true
}

// extPSKModes decodes a PskKeyExchangeModes (RFC 8446 §4.2.9).
func (d *decoder) extPSKModes(r *span, depth int) (string, bool) {
	const spec = "RFC 8446 §4.2.9"
	list, ok := d.list(r, vec{size: 1, min: 1}, field.Field{Name: "ke_modes", Depth: depth, Spec: spec})
	if !ok {
		return "", false
	}
	var names []string
	for !list.empty() {
		m, idx, _ := d.num(&list, 1, field.Field{Name: "ke_mode", Depth: depth, Spec: spec})
		switch m {
		case 0:
			d.set(idx, "psk_ke (0)", "Resume with the PSK alone: one less computation, but no forward secrecy")
			names = append(names, "psk_ke")
		case 1:
			d.set(idx, "psk_dhe_ke (1)", "Resume with the PSK plus a fresh (EC)DHE exchange, which keeps forward secrecy")
			names = append(names, "psk_dhe_ke")
		default:
			d.set(idx, fmt.Sprintf("unknown (%d)", m), "A mode this decoder does not know")
			names = append(names, "unknown")
		}
	}
	return strings.Join(names, ", "), true
}

// extCertificateAuthorities decodes a CertificateAuthoritiesExtension (RFC
// 8446 §4.2.4).
func (d *decoder) extCertificateAuthorities(r *span, depth int) (string, bool) {
	const spec = "RFC 8446 §4.2.4"
	list, ok := d.list(r, vec{size: 2, min: 3}, field.Field{Name: "authorities", Depth: depth, Spec: spec})
	if !ok {
		return "", false
	}
	n := 0
	for !list.empty() {
		if !d.distinguishedName(&list, depth, spec) {
			return "", false
		}
		n++
	}
	d.facts.authorities = n
	return count(n, "CA"), true
}

// extKeyShareClient decodes a KeyShareClientHello (RFC 8446 §4.2.8).
func (d *decoder) extKeyShareClient(r *span, depth int) (string, bool) {
	const spec = "RFC 8446 §4.2.8"
	list, ok := d.list(r, vec{size: 2}, field.Field{Name: "client_shares", Depth: depth, Spec: spec})
	if !ok {
		return "", false
	}
	var names []string
	for !list.empty() {
		if _, ok := d.keyShareEntry(&list, depth, "KeyShareEntry", true); !ok {
			return "", false
		}
		g := d.facts.keyShares[len(d.facts.keyShares)-1]
		names = append(names, GroupName(g))
	}
	if len(names) == 0 {
		return "empty: the client lets the server pick a group", true
	}
	return strings.Join(names, ", "), true
}

// keyShareEntry decodes one KeyShareEntry (RFC 8446 §4.2.8), annotated as
// name at depth with its parts one level deeper, and the two halves of a
// hybrid post-quantum share deeper still.
func (d *decoder) keyShareEntry(r *span, depth int, name string, client bool) (string, bool) {
	const spec = "RFC 8446 §4.2.8"
	start := r.off
	var g32 uint32
	if !d.readUint(r, 2, "group", &g32) {
		return "", false
	}
	g := uint16(g32)
	lenStart := r.off
	var size uint32
	if !d.readUint(r, 2, "key_exchange", &size) || int(size) > r.left() || size == 0 {
		d.add(field.Field{Name: "group", Depth: depth, About: groupAbout(g), Spec: spec}, start, lenStart, groupValue(g))
		if d.err != nil {
			return "", false
		}
		d.add(field.Field{Name: "key_exchange length", Depth: depth, About: "How many bytes of key_exchange follow", Spec: spec}, lenStart, r.off, nbytes(int(size)))
		if size == 0 {
			return "", d.failf(lenStart, "key_exchange", "empty")
		}
		return "", d.failf(lenStart, "key_exchange", "length %d exceeds the %s left", size, nbytes(r.left()))
	}
	keyStart := r.off
	r.skip(int(size))
	value := fmt.Sprintf("%s, %d-byte key", GroupName(g), size)
	about := "The client's public key for one group it guesses the server will pick. " + groupAbout(g)
	if !client {
		about = "The server's key share for the group it picked, from the client's list. " + groupAbout(g)
	}
	d.add(field.Field{Name: name, Depth: depth, About: about, Spec: spec}, start, r.off, value)
	d.add(field.Field{Name: "group", Depth: depth + 1, About: "The group this key belongs to", Spec: spec}, start, lenStart, groupValue(g))
	d.add(field.Field{Name: "key_exchange length", Depth: depth + 1, About: "How many bytes of key_exchange follow", Spec: spec}, lenStart, keyStart, nbytes(int(size)))
	d.add(field.Field{Name: "key_exchange", Depth: depth + 1, About: keyExchangeAbout(g, client), Spec: spec}, keyStart, r.off, hexValue(d.msg[keyStart:r.off]))
	d.hybridParts(g, client, keyStart, r.off, depth+2)
	if client {
		d.facts.keyShares = append(d.facts.keyShares, g)
	} else {
		d.facts.serverGroup, d.facts.hasServerGroup = g, true
	}
	return value, true
}

// hybridParts splits the key_exchange of a hybrid post-quantum group in its
// two halves when it has the expected size (draft-ietf-tls-ecdhe-mlkem):
// X25519MLKEM768 puts ML-KEM first, the NIST-curve hybrids put ECDH first.
func (d *decoder) hybridParts(g uint16, client bool, start, end, depth int) {
	type part struct {
		name  string
		size  int
		about string
	}
	kem := func(level string, ek, ct int) part {
		if client {
			return part{"ML-KEM-" + level + " encapsulation key", ek, "The client's ML-KEM public key: the server uses it to encapsulate a shared secret"}
		}
		return part{"ML-KEM-" + level + " ciphertext", ct, "The shared secret encapsulated to the client's ML-KEM key; only the client can open it"}
	}
	var parts []part
	switch g {
	case 0x11ec:
		parts = []part{kem("768", 1184, 1088), {"X25519 public key", 32, "The classical half: an X25519 Diffie-Hellman public key"}}
	case 0x11eb:
		parts = []part{{"P-256 public key", 65, "The classical half: an uncompressed P-256 ECDH public key"}, kem("768", 1184, 1088)}
	case 0x11ed:
		parts = []part{{"P-384 public key", 97, "The classical half: an uncompressed P-384 ECDH public key"}, kem("1024", 1568, 1568)}
	default:
		return
	}
	if parts[0].size+parts[1].size != end-start {
		return
	}
	for _, p := range parts {
		d.add(field.Field{Name: p.name, Depth: depth, About: p.about, Spec: "draft-ietf-tls-ecdhe-mlkem"}, start, start+p.size, hexValue(d.msg[start:start+p.size]))
		start += p.size
	}
}

func keyExchangeAbout(g uint16, client bool) string {
	switch {
	case g == 0x11ec && client:
		return "An ML-KEM-768 encapsulation key (1184 bytes) followed by an X25519 public key (32 bytes)"
	case g == 0x11ec:
		return "An ML-KEM-768 ciphertext (1088 bytes) followed by the server's X25519 public key (32 bytes)"
	case g == 0x001d:
		return "A 32-byte X25519 public key"
	case g == 0x0017 || g == 0x0018 || g == 0x0019:
		return "An uncompressed elliptic-curve point: 0x04, then the x and y coordinates"
	}
	return "The public value for this group"
}

// extECH decodes an ECHClientHello (draft-ietf-tls-esni §5).
func (d *decoder) extECH(r *span, depth int) (string, bool) {
	const spec = "draft-ietf-tls-esni §5"
	t, idx, ok := d.num(r, 1, field.Field{Name: "type", Depth: depth, Spec: spec})
	if !ok {
		return "", false
	}
	switch t {
	case 1:
		d.set(idx, "inner (1)", "Marks the encrypted, inner ClientHello")
		return "inner", true
	case 0:
		d.set(idx, "outer (0)", "This is the outer ClientHello; the real one is encrypted in payload")
	default:
		d.set(idx, fmt.Sprintf("unknown (%d)", t), "An ECH type this decoder does not know")
		d.rest(r, field.Field{Name: "extension_data", Depth: depth, About: "Not decoded", Spec: spec})
		return "", true
	}
	kdf, idx, ok := d.num(r, 2, field.Field{Name: "kdf_id", Depth: depth, Spec: spec})
	if !ok {
		return "", false
	}
	d.set(idx, hpkeName(uint16(kdf), "HKDF-SHA256", "HKDF-SHA384", "HKDF-SHA512"), "The HPKE key-derivation function (RFC 9180 §7.2)")
	aead, idx, ok := d.num(r, 2, field.Field{Name: "aead_id", Depth: depth, Spec: spec})
	if !ok {
		return "", false
	}
	d.set(idx, hpkeName(uint16(aead), "AES-128-GCM", "AES-256-GCM", "ChaCha20Poly1305"), "The HPKE encryption algorithm (RFC 9180 §7.3)")
	if _, _, ok := d.num(r, 1, field.Field{Name: "config_id", Depth: depth, About: "Which of the server's published ECH configurations the client used", Spec: spec}); !ok {
		return "", false
	}
	if _, _, ok := d.opaque(r, vec{size: 2}, field.Field{Name: "enc", Depth: depth, About: "The client's HPKE encapsulated key", Spec: spec}); !ok {
		return "", false
	}
	b, _, ok := d.opaque(r, vec{size: 2, min: 1}, field.Field{Name: "payload", Depth: depth, About: "The real ClientHello, encrypted", Spec: spec})
	if !ok {
		return "", false
	}
	d.facts.ech = true
	return "outer, " + nbytes(len(b)) + " encrypted", true
}

func hpkeName(id uint16, names ...string) string {
	if id >= 1 && int(id) <= len(names) {
		return fmt.Sprintf("%s (0x%04x)", names[id-1], id)
	}
	return fmt.Sprintf("unknown (0x%04x)", id)
}

// shortList joins the first n names and marks the rest with "…".
func shortList(names []string, n int) string {
	if len(names) <= n {
		return strings.Join(names, ", ")
	}
	return strings.Join(names[:n], ", ") + ", …"
}

// dnString shows a DER X.501 Name as "CN=…,O=…".
func dnString(der []byte) (string, bool) {
	var rdn pkix.RDNSequence
	rest, err := asn1.Unmarshal(der, &rdn)
	if err != nil || len(rest) > 0 {
		return "", false
	}
	var name pkix.Name
	name.FillFromRDNSequence(&rdn)
	return name.String(), true
}
