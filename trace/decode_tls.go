package trace

import (
	"encoding/hex"
	"fmt"

	"github.com/mqtts-playground/playground/trace/field"
	"github.com/mqtts-playground/playground/trace/tlskeys"
	"github.com/mqtts-playground/playground/trace/tlswire"
)

// tlsConn is what the decoder knows of one TLS connection.
type tlsConn struct {
	side         Side
	kl           *tlskeys.KeyLog
	clientRandom []byte
	serverRandom []byte          // from the ServerHello: TLS 1.2 keys derive from it
	version      uint16          // negotiated version, from the ServerHello
	suite        uint16          // negotiated cipher suite
	keys12       *tlskeys.Keys12 // TLS 1.2 record keys, derived on first use
	keys12Err    error           // why keys12 cannot be had
	keys12Tried  bool
}

func (c *tlsConn) tls13() bool { return c.version == 0x0304 }

// tlsDir follows one direction of a TLS connection.
type tlsDir struct {
	c          *tlsConn
	s          *stream
	fromClient bool
	phase      int // 0: plaintext, 1: handshake traffic keys, 2: application traffic keys
	keys       *tlskeys.Keys13
	ccs        bool   // TLS 1.2: a ChangeCipherSpec was seen, records are encrypted now
	hs         []byte // handshake bytes waiting for the rest of their message
	hsRecords  int    // records that contributed to hs
	finished   bool   // the last record held this side's Finished
	keyUpdate  bool   // the last record held a KeyUpdate
	index      int64  // index of the direction's next record, to resume after a gap (gap.go)
	out        *sink

	// Where decoding stands, for the next update: the records before it
	// are decoded for good.
	seg     int  // the stretch of the stream it is in: the one after gap seg (-1: the first)
	entered bool // the stretch's first record was decoded (after a gap: resumed at)
	at      int  // when entered, the stream offset of the next record
}

// tlsState follows both directions of a TLS connection from one update of
// a [Decoder] to the next.
type tlsState struct {
	c       tlsConn
	dirs    [2]tlsDir
	hello   [2]bool // the ClientHello, the ServerHello was found
	decoded bool    // records were decoded: the hellos may no longer change
}

func newTLSState(side Side, keyLog string, wire *[2]stream) *tlsState {
	t := &tlsState{c: tlsConn{side: side, kl: tlskeys.ParseKeyLog([]byte(keyLog))}}
	for k := range t.dirs {
		t.dirs[k] = tlsDir{c: &t.c, s: &wire[k], fromClient: k == 0, seg: -1}
	}
	return t
}

// update decodes the records of both directions that the last update did
// not reach, into out. It returns false when a hello turned up after
// records were decoded without it: all must be decoded again.
func (t *tlsState) update(out *[2]sink) bool {
	// Each direction is cut into records between the recorder's gaps.
	var segs [2][]tlsSegment
	for k := range t.dirs {
		segs[k] = t.dirs[k].segments()
	}
	// The hellos travel in the clear: read the client random (to find the
	// connection's secrets in the key log) and the negotiated version and
	// cipher suite before following either direction.
	if m, ok := t.firstHandshake(0, segs[0], "ClientHello"); ok {
		if t.decoded {
			return false
		}
		t.c.clientRandom = m.Random
	}
	if m, ok := t.firstHandshake(1, segs[1], "ServerHello"); ok {
		if t.decoded {
			return false
		}
		t.c.version, t.c.suite, t.c.serverRandom = m.Version, m.CipherSuite, m.Random
	}
	for k := range t.dirs {
		d := &t.dirs[k]
		d.out = &out[k]
		if d.decode(segs[k]) {
			t.decoded = true
		}
		d.out = nil
	}
	return true
}

// firstHandshake looks for the hello of type typ among the new records of
// the first stretch of direction k, unless it was found before.
func (t *tlsState) firstHandshake(k int, segs []tlsSegment, typ string) (tlswire.HandshakeMessage, bool) {
	if t.hello[k] || segs[0].gap >= 0 {
		return tlswire.HandshakeMessage{}, false
	}
	m, ok := firstHandshake(segs[0].recs, typ)
	t.hello[k] = ok
	return m, ok
}

// decode decodes the records of segs, the stretches of the direction from
// where it stands on, and reports whether it decoded any (or resumed after
// a gap). What follows a gap waits for the first record after it, which
// tells how to resume; a Malformed event at the end of the stream is
// made again on each update, as the stream grows.
func (d *tlsDir) decode(segs []tlsSegment) (decoded bool) {
	for i, sg := range segs {
		closed := i < len(segs)-1
		if !d.entered {
			if sg.gap >= 0 {
				if len(sg.recs) == 0 && !closed {
					d.out.open = true
					d.out.add(d.s.gapEvent(sg.gap, d.c.side, d.fromClient, LayerTLS))
					d.malformed(sg)
					return decoded
				}
				d.resume(sg)
				decoded = true
			}
			d.entered, d.at = true, sg.from
		}
		for _, r := range sg.recs {
			d.record(r)
			d.index++
			d.at = r.End
			decoded = true
		}
		if sg.err != nil && !closed {
			d.out.open = true
		}
		d.malformed(sg)
		if closed {
			d.seg, d.entered = sg.gap+1, false
		}
	}
	return decoded
}

// malformed shows the bytes of sg from where its records stop looking like
// TLS records, if they do.
func (d *tlsDir) malformed(sg tlsSegment) {
	if sg.err == nil {
		return
	}
	end := sg.at
	if n := len(sg.recs); n > 0 {
		end = sg.recs[n-1].End
	}
	order, t := d.s.at(sg.end)
	d.out.add(placed{ev: Event{
		Time: t, Dir: dirOf(d.c.side, d.fromClient), Layer: LayerTLS, Type: "Malformed",
		Length: sg.end - end, Bytes: hex.EncodeToString(d.s.data[end:sg.end]),
		Error: sg.err.Error(),
	}, order: order, pos: sg.end})
}

// firstHandshake finds the first plaintext handshake message of type typ
// (ServerHello skips HelloRetryRequests) at the start of a record.
func firstHandshake(recs []tlswire.Record, typ string) (tlswire.HandshakeMessage, bool) {
	for _, r := range recs {
		if r.Type != tlswire.RecordHandshake {
			continue
		}
		for b := r.Body(); ; {
			m, n, err := tlswire.DecodeHandshake(b, 0)
			if err != nil {
				break
			}
			if m.Type == typ && m.Err == nil {
				return m, true
			}
			b = b[n:]
		}
	}
	return tlswire.HandshakeMessage{}, false
}

// secretLabel names the key log entry for this direction and phase.
func (d *tlsDir) secretLabel(phase int) string {
	switch {
	case phase == 1 && d.fromClient:
		return tlskeys.LabelClientHandshake
	case phase == 1:
		return tlskeys.LabelServerHandshake
	case d.fromClient:
		return tlskeys.LabelClientTraffic
	default:
		return tlskeys.LabelServerTraffic
	}
}

// loadKeys returns the traffic keys of phase for this direction.
func (d *tlsDir) loadKeys(phase int) (*tlskeys.Keys13, error) {
	return d.c.kl.Keys13(d.c.suite, d.c.clientRandom, d.secretLabel(phase))
}

// decrypt opens an encrypted TLS 1.3 record, moving to the next phase's keys
// when the current ones do not fit (the first encrypted record of a
// direction, or the first after the handshake).
func (d *tlsDir) decrypt(r tlswire.Record) ([]byte, error) {
	var firstErr error
	for phase := max(d.phase, 1); phase <= 2; phase++ {
		if phase != d.phase || d.keys == nil {
			k, err := d.loadKeys(phase)
			if err != nil {
				if firstErr == nil {
					firstErr = err
				}
				continue
			}
			d.keys, d.phase = k, phase
		}
		plain, err := d.keys.Open(r.Wire)
		if err == nil {
			return plain, nil
		}
		if firstErr == nil {
			firstErr = fmt.Errorf("%s: %w", d.keys.Label(), err)
		}
	}
	return nil, firstErr
}

func (d *tlsDir) emit(ev Event, r tlswire.Record) {
	order, t := d.s.at(r.End)
	ev.Time, ev.Dir, ev.Layer = t, dirOf(d.c.side, d.fromClient), LayerTLS
	d.out.add(placed{ev: ev, order: order, pos: r.End})
}

// record decodes one record of this direction into events.
func (d *tlsDir) record(r tlswire.Record) {
	tls13 := d.c.tls13()
	encrypted := (tls13 && r.Type == tlswire.RecordApplicationData) || (!tls13 && d.ccs)
	header := tlswire.RecordHeaderFields(r, encrypted, tls13)
	if !encrypted {
		d.content(r, r.Type, r.Body(), nil, header)
		return
	}
	if !tls13 {
		d.record12(r, header) // decrypt12.go
		return
	}
	sealed := Field{Name: "encrypted_record", Value: fmt.Sprintf("%d bytes", len(r.Wire)-5), Start: 5, End: len(r.Wire),
		About: "The protected content: the real data and content type, encrypted and followed by an authentication tag that exposes any change in transit.",
		Spec:  "RFC 8446 §5.2"}
	header = append(header, sealed)
	plain, err := d.decrypt(r)
	if err != nil {
		d.emit(Event{Type: "ApplicationData", Length: len(r.Wire), Bytes: hex.EncodeToString(r.Wire), Encrypted: true,
			Fields: header, Summary: fmt.Sprintf("%d encrypted bytes", len(r.Wire)-5),
			Error: "not decrypted: " + err.Error()}, r)
		return
	}
	content, typ, ok := tlswire.SplitInner(plain)
	if !ok {
		d.emit(Event{Type: "ApplicationData", Length: len(r.Wire), Bytes: hex.EncodeToString(r.Wire), Encrypted: true,
			Plain: hex.EncodeToString(plain), Fields: header, Error: "decrypted record has no content type (all zeros)"}, r)
		return
	}
	inner := Field{Name: "content_type", Value: fmt.Sprintf("%s (%d)", tlswire.ContentTypeName(typ), typ), Start: len(content), End: len(content) + 1, In: "plain",
		About: "The record's real content type, hidden inside the encryption.", Spec: "RFC 8446 §5.2"}
	header = append(header, inner)
	if pad := len(plain) - len(content) - 1; pad > 0 {
		header = append(header, Field{Name: "zeros", Value: fmt.Sprintf("%d bytes of padding", pad), Start: len(content) + 1, End: len(plain), In: "plain",
			About: "Optional padding that hides the true length of the content.", Spec: "RFC 8446 §5.4"})
	}
	d.content(r, typ, content, plain, header)
	if d.phase == 1 && d.finished {
		// After its Finished a side switches to application traffic keys.
		d.finished = false
		d.keys, d.phase = nil, 2
		if k, err := d.loadKeys(2); err == nil {
			d.keys = k
		}
	}
	if d.keyUpdate && d.keys != nil {
		d.keyUpdate = false
		if k, err := d.keys.Next(); err == nil {
			d.keys = k
		}
	}
}

// handshake decodes the handshake message msg, noting a Finished or a
// KeyUpdate, after which the direction's keys change.
func (d *tlsDir) handshake(msg []byte) tlswire.HandshakeMessage {
	m, _, _ := tlswire.DecodeHandshake(msg, d.c.version)
	switch m.Type {
	case "Finished":
		d.finished = true
	case "KeyUpdate":
		d.keyUpdate = true
	}
	return m
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// reassemble adds the handshake bytes of record r to those waiting for the
// rest of their message, and emits an event for each message they
// complete (of the decrypted content when enc is set).
func (d *tlsDir) reassemble(r tlswire.Record, content []byte, enc bool) {
	d.hs = append(d.hs, content...)
	d.hsRecords++
	for {
		n, ok := tlswire.HandshakeLen(d.hs)
		if !ok || len(d.hs) < n {
			break
		}
		msg := d.hs[:n]
		m := d.handshake(msg)
		note := " (shares its record with other messages)"
		if d.hsRecords > 1 {
			note = fmt.Sprintf(" (spread over %d records)", d.hsRecords)
		}
		part := Event{Type: m.Type, Length: n, Encrypted: enc, Summary: m.Summary + note, Error: errString(m.Err)}
		if enc {
			part.Plain, part.Fields = hex.EncodeToString(msg), field.Shift(m.Fields, 0, field.Plain)
		} else {
			part.Bytes, part.Fields = hex.EncodeToString(msg), m.Fields
		}
		part.Certs = tlswire.CertInfos(part.Fields, m.Certificates)
		d.emit(part, r)
		d.hs = d.hs[n:]
		d.hsRecords = 1
	}
	if len(d.hs) == 0 {
		d.hs, d.hsRecords = nil, 0
	}
}

// content decodes what one record carries: the body of a plaintext record,
// or the decrypted content of an encrypted one (then plain is the whole
// TLSInnerPlaintext and field offsets point into it).
func (d *tlsDir) content(r tlswire.Record, typ byte, content, plain []byte, header []Field) {
	enc := plain != nil
	ev := Event{Length: len(r.Wire), Bytes: hex.EncodeToString(r.Wire), Encrypted: enc}
	in, off := "", 5
	if enc {
		ev.Plain = hex.EncodeToString(plain)
		in, off = "plain", 0
	}
	switch typ {
	case tlswire.RecordHandshake:
		if n, ok := tlswire.HandshakeLen(content); ok && len(d.hs) == 0 && n == len(content) {
			// The usual case: one whole message in one record.
			m := d.handshake(content)
			ev.Type, ev.Summary, ev.Error = m.Type, m.Summary, errString(m.Err)
			ev.Fields = append(header, field.Shift(m.Fields, off, in)...)
			ev.Certs = tlswire.CertInfos(ev.Fields, m.Certificates)
			d.emit(ev, r)
			return
		}
		d.reassemble(r, content, enc)
	case tlswire.RecordAlert:
		summary, fields, err := tlswire.DecodeAlert(content, off, in)
		ev.Type, ev.Summary, ev.Error = "Alert", summary, errString(err)
		ev.Fields = append(header, fields...)
		d.emit(ev, r)
	case tlswire.RecordChangeCipherSpec:
		about := "From the next record on, this side encrypts with the keys just agreed."
		if d.c.tls13() {
			about = "TLS 1.3 sends this only so that the connection looks like TLS 1.2 to old middleboxes; it changes nothing (RFC 8446 §D.4)."
		} else {
			d.ccs = true
		}
		ev.Type, ev.Summary = "ChangeCipherSpec", "change_cipher_spec"
		ev.Fields = append(header, Field{Name: "change_cipher_spec", Value: fmt.Sprint(content), Start: off, End: off + len(content), In: in, About: about, Spec: "RFC 5246 §7.1"})
		d.emit(ev, r)
	case tlswire.RecordApplicationData:
		ev.Type = "ApplicationData"
		ev.Summary = fmt.Sprintf("%d bytes of application data", len(content))
		about := "Application bytes (MQTT here); the MQTT events show them decoded."
		if !enc {
			about = "Application bytes the trace could not decrypt."
		}
		ev.Fields = append(header, Field{Name: "application_data", Value: fmt.Sprintf("%d bytes", len(content)), Start: off, End: off + len(content), In: in, About: about, Spec: "RFC 8446 §5.1"})
		d.emit(ev, r)
	default:
		ev.Type = tlswire.ContentTypeName(typ)
		ev.Fields = header
		ev.Error = fmt.Sprintf("trace: tls: content type %d is not decoded", typ)
		d.emit(ev, r)
	}
}

// record12 decodes a TLS 1.2 record sent after its side's ChangeCipherSpec:
// it annotates the protected part, decrypts it when the suite is an AEAD one
// and the key log holds the connection's master secret, and decodes the
// content. header holds the fields of the 5-byte record header.
func (d *tlsDir) record12(r tlswire.Record, header []Field) {
	explicit, aead := tlskeys.AEAD12(d.c.suite)
	sealedAt := tlswire.HeaderLen
	if aead && explicit > 0 && len(r.Wire) >= tlswire.HeaderLen+explicit {
		sealedAt += explicit
		header = append(header, Field{Name: "nonce_explicit", Value: hex.EncodeToString(r.Wire[5:sealedAt]), Start: 5, End: sealedAt,
			About: "The per-record part of the AES-GCM nonce, sent in the clear: joined to the 4-byte salt from the key block it makes the 12-byte nonce; it must never repeat under one key (Go sends the sequence number).",
			Spec:  "RFC 5288 §3"})
	}
	sealed := Field{Name: "encrypted_record", Value: fmt.Sprintf("%d bytes", len(r.Wire)-sealedAt), Start: sealedAt, End: len(r.Wire),
		About: "The encrypted content followed by an authentication tag that exposes any change in transit; unlike TLS 1.3, the content type stays readable in the header.",
		Spec:  "RFC 5246 §6.2.3.3"}
	if !aead {
		sealed.About = "The protected content: encrypted with a MAC (and, for block ciphers, padding) added; the content type stays readable in the header."
		sealed.Spec = "RFC 5246 §6.2.3"
	}
	header = append(header, sealed)
	dir := 1
	if d.fromClient {
		dir = 0
	}
	k, err := d.c.loadKeys12()
	var plain []byte
	if err == nil {
		plain, err = k.Open(dir, r)
	}
	if err != nil {
		// Name what the record must be: after ChangeCipherSpec the only
		// handshake message is Finished (barring renegotiation).
		typ := tlswire.ContentTypeName(r.Type)
		if r.Type == tlswire.RecordHandshake {
			typ = "Finished"
		}
		d.emit(Event{Type: typ, Length: len(r.Wire), Bytes: hex.EncodeToString(r.Wire), Encrypted: true, Fields: header,
			Summary: "encrypted " + typ, Error: "not decrypted: " + err.Error()}, r)
		return
	}
	// TLS 1.2 has no inner content type: the plaintext is the content.
	d.content(r, r.Type, plain, plain, header)
}

// loadKeys12 returns the connection's TLS 1.2 record keys, deriving them on
// first use, or the reason they cannot be had.
func (c *tlsConn) loadKeys12() (*tlskeys.Keys12, error) {
	if !c.keys12Tried {
		c.keys12Tried = true
		c.keys12, c.keys12Err = c.kl.Keys12(tlskeys.Hello{ClientRandom: c.clientRandom, ServerRandom: c.serverRandom, Version: c.version, CipherSuite: c.suite})
	}
	return c.keys12, c.keys12Err
}
