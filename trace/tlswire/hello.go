package tlswire

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/mqtts-playground/playground/trace/field"
)

// clientHello decodes a ClientHello: RFC 8446 §4.1.2 for TLS 1.3, which
// keeps the TLS 1.2 layout of RFC 5246 §7.4.1.2 and renames its fields.
func (d *decoder) clientHello(r *span) bool {
	const spec = "RFC 8446 §4.1.2"
	v, idx, ok := d.num(r, 2, field.Field{Name: "legacy_version", Spec: spec})
	if !ok {
		return false
	}
	d.set(idx, versionValue(uint16(v)),
		"The highest version in the old TLS 1.2 style; a TLS 1.3 client puts TLS 1.2 here and lists its real versions in supported_versions")
	d.m.Version = uint16(v)

	random, _, ok := d.fixed(r, 32, field.Field{Name: "random", About: "32 fresh random bytes; they make this handshake's keys unique even if everything else repeats", Spec: spec})
	if !ok {
		return false
	}
	d.m.Random = bytes.Clone(random)

	sid, _, ok := d.opaque(r, vec{size: 1, max: 32}, field.Field{Name: "legacy_session_id", About: "A TLS 1.2 session to resume, or (in TLS 1.3 middlebox-compatibility mode) 32 random bytes the server echoes back", Spec: spec})
	if sid != nil {
		d.m.SessionID = bytes.Clone(sid)
	}
	if !ok {
		return false
	}

	if !d.offers(r, spec) {
		return false
	}

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

// offers decodes what a ClientHello offers the server to choose from: its
// cipher suites and compression methods.
func (d *decoder) offers(r *span, spec string) bool {
	suites, idx, ok := d.vector(r, vec{size: 2, min: 2, max: 0xfffe}, field.Field{Name: "cipher_suites", About: "The cipher suites the client can use, most preferred first; the server picks one", Spec: spec})
	if !ok {
		return false
	}
	n := 0
	for !suites.empty() {
		id, i, ok := d.num(&suites, 2, field.Field{Name: "cipher_suite", Depth: 1, Spec: spec})
		if !ok {
			return false
		}
		d.set(i, suiteValue(uint16(id)), suiteAbout(uint16(id)))
		n++
	}
	d.set(idx, count(n, "cipher suite"), "")

	comp, idx, ok := d.vector(r, vec{size: 1, min: 1}, field.Field{Name: "legacy_compression_methods", About: "Compression methods the client supports; compression is unsafe with encryption (CRIME), so this is just null (0)", Spec: spec})
	if !ok {
		return false
	}
	var names []string
	for !comp.empty() {
		c, i, _ := d.num(&comp, 1, field.Field{Name: "compression_method", Depth: 1, Spec: spec})
		d.set(i, compressionValue(uint8(c)), "One compression method; null (0) means no compression")
		names = append(names, compressionName(uint8(c)))
	}
	d.set(idx, strings.Join(names, ", "), "")
	return true
}

func (d *decoder) clientHelloSummary() {
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
func (d *decoder) serverHello(r *span) bool {
	hrr := d.m.Type == "HelloRetryRequest"
	spec := "RFC 8446 §4.1.3"
	v, idx, ok := d.num(r, 2, field.Field{Name: "legacy_version", Spec: spec})
	if !ok {
		return false
	}
	d.set(idx, versionValue(uint16(v)),
		"The version in the old TLS 1.2 style; a TLS 1.3 server says TLS 1.2 here and puts the real version in supported_versions")
	d.m.Version = uint16(v)

	if !d.serverRandom(r, spec, hrr) {
		return false
	}

	sid, _, ok := d.opaque(r, vec{size: 1, max: 32}, field.Field{Name: "legacy_session_id_echo", About: "The client's legacy_session_id sent back unchanged (TLS 1.2: the session ID, equal to the client's when resuming)", Spec: spec})
	if sid != nil {
		d.m.SessionID = bytes.Clone(sid)
	}
	if !ok {
		return false
	}

	suite, idx, ok := d.num(r, 2, field.Field{Name: "cipher_suite", Spec: spec})
	if !ok {
		return false
	}
	d.set(idx, suiteValue(uint16(suite)), "The cipher suite the server chose from the client's list. "+suiteAbout(uint16(suite)))
	d.m.CipherSuite = uint16(suite)

	c, idx, ok := d.num(r, 1, field.Field{Name: "legacy_compression_method", Spec: spec})
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
	d.serverHelloSummary(hrr)
	return true
}

// serverRandom decodes the random of a ServerHello, which is a fixed
// marker in a HelloRetryRequest and may carry a downgrade sentinel.
func (d *decoder) serverRandom(r *span, spec string, hrr bool) bool {
	random, idx, ok := d.fixed(r, 32, field.Field{Name: "random", About: "32 fresh random bytes from the server; with the client's random they make this handshake's keys unique", Spec: spec})
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
	return true
}

// serverHelloSummary settles the negotiated version and sums up what the
// server chose.
func (d *decoder) serverHelloSummary(hrr bool) {
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
}
