package trace

import (
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"sort"
	"time"
)

// stream is the bytes of one direction of one layer of a recording, with
// the chunk each byte came from.
type stream struct {
	data  []byte
	ends  []int // ends[i]: offset just past chunk i
	order []int // index of chunk i in the recording
	times []time.Time
	gaps  []gap // where the recorder dropped bytes, by offset (gap.go)
}

func (s *stream) add(index int, c Chunk) {
	s.data = append(s.data, c.Data...)
	s.ends = append(s.ends, len(s.data))
	s.order = append(s.order, index)
	s.times = append(s.times, c.Time)
}

// at returns the recording index and time of the chunk that holds the
// byte just before offset end: the moment a message ending there was seen.
func (s *stream) at(end int) (int, time.Time) {
	i := sort.SearchInts(s.ends, end)
	if i >= len(s.ends) {
		i = len(s.ends) - 1
	}
	if i < 0 {
		return 0, time.Time{}
	}
	return s.order[i], s.times[i]
}

// placed is an event with the position that orders it among the others.
type placed struct {
	ev    Event
	order int // recording index of the chunk with the event's last byte
	pos   int // offset of that byte in its stream, to order within a chunk
}

// Decode turns a recording into events, ordered as their last bytes were
// seen. It never fails: what cannot be decoded becomes an event with Error
// set, and decoding of that stream stops there.
func Decode(rec Recording) []Event {
	// Index 0 holds what the client sent, index 1 what the broker sent.
	var wire, app [2]stream
	for i, c := range rec.Chunks {
		k := 1
		if (c.Dir == Send) == (rec.Side == Client) {
			k = 0
		}
		s := &wire[k]
		if c.App {
			s = &app[k]
		}
		if c.Gap > 0 {
			s.addGap(i, c)
		} else {
			s.add(i, c)
		}
	}
	var out []placed
	switch sniff(wire) {
	case LayerTLS:
		out = append(out, decodeTLSConn(rec, wire)...)
	case LayerMQTT:
		out = append(out, decodeMQTTConn(rec.Side, wire)...)
	}
	out = append(out, decodeMQTTConn(rec.Side, app)...)
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].order != out[j].order {
			return out[i].order < out[j].order
		}
		return out[i].pos < out[j].pos
	})
	events := make([]Event, len(out))
	for i, p := range out {
		p.ev.Seq = i + 1
		p.ev.Side = rec.Side
		if p.ev.Fields == nil {
			p.ev.Fields = []Field{}
		}
		events[i] = p.ev
	}
	return events
}

// sniff tells from the first bytes the client sent whether the wire carries
// TLS or bare MQTT.
func sniff(wire [2]stream) Layer {
	first := func(s stream) (byte, bool) {
		if len(s.gaps) > 0 && s.gaps[0].off == 0 {
			// The start was not recorded: only a TLS stream has records
			// to resume at.
			return recordHandshake, s.gaps[0].next != nil
		}
		if len(s.data) == 0 {
			return 0, false
		}
		return s.data[0], true
	}
	b, ok := first(wire[0])
	if !ok {
		if b, ok = first(wire[1]); !ok {
			return ""
		}
	}
	if b == recordHandshake || b == recordAlert {
		return LayerTLS
	}
	return LayerMQTT
}

// dirOf gives the direction of bytes from the client (fromClient) or from
// the broker, as seen by side.
func dirOf(side Side, fromClient bool) Dir {
	if (side == Client) == fromClient {
		return Send
	}
	return Recv
}

// decodeMQTTConn decodes both directions of an MQTT byte stream. The client's
// direction goes first: its CONNECT sets the protocol version the broker's
// packets are read with. After a gap, decoding resumes at the first chunk
// that starts a packet.
func decodeMQTTConn(side Side, s [2]stream) []placed {
	var out []placed
	var version byte
	for k := range s {
		off, resync := 0, false
		for g := 0; ; g++ {
			end := s[k].segmentEnd(g)
			out = append(out, decodeMQTTSegment(side, &s[k], k == 0, off, end, resync, &version)...)
			if g == len(s[k].gaps) {
				break
			}
			out = append(out, s[k].gapEvent(g, side, k == 0, LayerMQTT))
			off, resync = end, true
		}
	}
	return out
}

// decodeMQTTSegment decodes the packets of one direction between stream
// offsets off and end. With resync, off follows a gap: a chunk that does
// not start a packet there is skipped.
func decodeMQTTSegment(side Side, st *stream, fromClient bool, off, end int, resync bool, version *byte) []placed {
	var out []placed
	data := st.data[:end]
	for off < len(data) {
		p, n, err := DecodeMQTT(data[off:], *version)
		if resync && (err != nil || p.Err != nil) {
			// Not a packet start after all: try the next chunk.
			off = st.nextChunk(off, end)
			continue
		}
		if errors.Is(err, io.ErrUnexpectedEOF) {
			break
		}
		resync = false
		order, t := st.at(off + max(n, 1))
		ev := Event{Time: t, Dir: dirOf(side, fromClient), Layer: LayerMQTT}
		if err != nil {
			ev.Type = "Malformed"
			ev.Length = len(data) - off
			ev.Bytes = hex.EncodeToString(data[off:])
			ev.Error = err.Error()
			out = append(out, placed{ev, order, off + 1})
			break
		}
		if p.Type == "CONNECT" && p.Version >= 3 && p.Version <= 5 {
			// Even a CONNECT that breaks a rule says which version the
			// rest of the connection speaks.
			*version = p.Version
		}
		ev.Type, ev.Length, ev.Summary, ev.Fields = p.Type, n, p.Summary, p.Fields
		ev.Bytes = hex.EncodeToString(data[off : off+n])
		if p.Err != nil {
			ev.Error = p.Err.Error()
		}
		out = append(out, placed{ev, order, off + n})
		off += n
	}
	return out
}

// tlsConn is what the decoder knows of one TLS connection.
type tlsConn struct {
	side         Side
	kl           *KeyLog
	clientRandom []byte
	serverRandom []byte  // from the ServerHello: TLS 1.2 keys derive from it
	version      uint16  // negotiated version, from the ServerHello
	suite        uint16  // negotiated cipher suite
	keys12       *keys12 // TLS 1.2 record keys, derived on first use
}

func (c *tlsConn) tls13() bool { return c.version == 0x0304 }

// tlsDir follows one direction of a TLS connection.
type tlsDir struct {
	c          *tlsConn
	s          *stream
	fromClient bool
	phase      int // 0: plaintext, 1: handshake traffic keys, 2: application traffic keys
	keys       *trafficKeys
	ccs        bool   // TLS 1.2: a ChangeCipherSpec was seen, records are encrypted now
	hs         []byte // handshake bytes waiting for the rest of their message
	hsRecords  int    // records that contributed to hs
	finished   bool   // the last record held this side's Finished
	keyUpdate  bool   // the last record held a KeyUpdate
	index      int64  // index of the direction's next record, to resume after a gap (gap.go)
	out        []placed
}

// decodeTLSConn decodes both directions of a TLS connection.
func decodeTLSConn(rec Recording, wire [2]stream) []placed {
	c := &tlsConn{side: rec.Side, kl: ParseKeyLog([]byte(rec.KeyLog))}
	// Each direction is cut into records between the recorder's gaps.
	var segs [2][]tlsSegment
	for k := range wire {
		segs[k] = wire[k].tlsSegments()
	}
	// The hellos travel in the clear: read the client random (to find the
	// connection's secrets in the key log) and the negotiated version and
	// cipher suite before following either direction.
	if m, ok := firstHandshake(segs[0][0].recs, "ClientHello"); ok {
		c.clientRandom = m.Random
	}
	if m, ok := firstHandshake(segs[1][0].recs, "ServerHello"); ok {
		c.version, c.suite, c.serverRandom = m.Version, m.CipherSuite, m.Random
	}
	var out []placed
	for k := range wire {
		d := &tlsDir{c: c, s: &wire[k], fromClient: k == 0}
		for _, sg := range segs[k] {
			if sg.gap >= 0 {
				d.resume(sg)
			}
			for _, r := range sg.recs {
				d.record(r)
				d.index++
			}
			if sg.err != nil {
				end := sg.from
				if n := len(sg.recs); n > 0 {
					end = sg.recs[n-1].end
				}
				order, t := wire[k].at(sg.end)
				d.out = append(d.out, placed{Event{
					Time: t, Dir: dirOf(c.side, d.fromClient), Layer: LayerTLS, Type: "Malformed",
					Length: sg.end - end, Bytes: hex.EncodeToString(wire[k].data[end:sg.end]),
					Error: sg.err.Error(),
				}, order, sg.end})
			}
		}
		out = append(out, d.out...)
	}
	return out
}

// firstHandshake finds the first plaintext handshake message of type typ
// (ServerHello skips HelloRetryRequests) at the start of a record.
func firstHandshake(recs []record, typ string) (HandshakeMessage, bool) {
	for _, r := range recs {
		if r.typ != recordHandshake {
			continue
		}
		b := r.body()
		for len(b) >= 4 {
			n := handshakeLen(b)
			if len(b) < n {
				break
			}
			m := DecodeHandshake(b[:n], 0)
			if m.Type == typ && m.Err == nil {
				return m, true
			}
			b = b[n:]
		}
	}
	return HandshakeMessage{}, false
}

// secretLabel names the key log entry for this direction and phase.
func (d *tlsDir) secretLabel(phase int) string {
	switch {
	case phase == 1 && d.fromClient:
		return labelClientHandshake
	case phase == 1:
		return labelServerHandshake
	case d.fromClient:
		return labelClientTraffic
	default:
		return labelServerTraffic
	}
}

// loadKeys returns the traffic keys of phase for this direction.
func (d *tlsDir) loadKeys(phase int) (*trafficKeys, error) {
	suite, ok := suites13[d.c.suite]
	if !ok {
		return nil, fmt.Errorf("cipher suite %s is not one the trace can decrypt", CipherSuiteName(d.c.suite))
	}
	label := d.secretLabel(phase)
	secret := d.c.kl.Secret(label, d.c.clientRandom)
	if secret == nil {
		return nil, fmt.Errorf("the key log has no %s for this connection", label)
	}
	return newTrafficKeys(suite, secret, label)
}

// decrypt opens an encrypted TLS 1.3 record, moving to the next phase's keys
// when the current ones do not fit (the first encrypted record of a
// direction, or the first after the handshake).
func (d *tlsDir) decrypt(r record) ([]byte, error) {
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
		seq := d.keys.seq
		plain, err := d.keys.open(r.wire)
		if err == nil {
			return plain, nil
		}
		d.keys.seq = seq
		if firstErr == nil {
			firstErr = fmt.Errorf("%s: %w", d.keys.label, err)
		}
	}
	return nil, firstErr
}

func (d *tlsDir) emit(ev Event, r record) {
	order, t := d.s.at(r.end)
	ev.Time, ev.Dir, ev.Layer = t, dirOf(d.c.side, d.fromClient), LayerTLS
	d.out = append(d.out, placed{ev, order, r.end})
}

// record decodes one record of this direction into events.
func (d *tlsDir) record(r record) {
	tls13 := d.c.tls13()
	encrypted := (tls13 && r.typ == recordApplicationData) || (!tls13 && d.ccs)
	header := recordHeaderFields(r, encrypted, tls13)
	if !encrypted {
		d.content(r, r.typ, r.body(), nil, header)
		return
	}
	if !tls13 {
		d.record12(r, header) // decrypt12.go
		return
	}
	sealed := Field{Name: "encrypted_record", Value: fmt.Sprintf("%d bytes", len(r.wire)-5), Start: 5, End: len(r.wire),
		About: "The protected content: the real data and content type, encrypted and followed by an authentication tag that exposes any change in transit.",
		Spec:  "RFC 8446 §5.2"}
	header = append(header, sealed)
	plain, err := d.decrypt(r)
	if err != nil {
		d.emit(Event{Type: "ApplicationData", Length: len(r.wire), Bytes: hex.EncodeToString(r.wire), Encrypted: true,
			Fields: header, Summary: fmt.Sprintf("%d encrypted bytes", len(r.wire)-5),
			Error: "not decrypted: " + err.Error()}, r)
		return
	}
	content, typ, ok := innerType(plain)
	if !ok {
		d.emit(Event{Type: "ApplicationData", Length: len(r.wire), Bytes: hex.EncodeToString(r.wire), Encrypted: true,
			Plain: hex.EncodeToString(plain), Fields: header, Error: "decrypted record has no content type (all zeros)"}, r)
		return
	}
	inner := Field{Name: "content_type", Value: fmt.Sprintf("%s (%d)", contentTypeName(typ), typ), Start: len(content), End: len(content) + 1, In: "plain",
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
		if k, err := d.keys.next(); err == nil {
			d.keys = k
		}
	}
}

// handshakeLen is the full length of the handshake message starting b, whose
// 4-byte header (type, uint24 length) must be present.
func handshakeLen(b []byte) int {
	return 4 + (int(b[1])<<16 | int(b[2])<<8 | int(b[3]))
}

// shift moves message fields into the event's coordinates.
func shift(fields []Field, by int, in string) []Field {
	out := make([]Field, len(fields))
	for i, f := range fields {
		f.Start += by
		f.End += by
		f.In = in
		out[i] = f
	}
	return out
}

func (d *tlsDir) handshake(msg []byte) HandshakeMessage {
	m := DecodeHandshake(msg, d.c.version)
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

// content decodes what one record carries: the body of a plaintext record,
// or the decrypted content of an encrypted one (then plain is the whole
// TLSInnerPlaintext and field offsets point into it).
func (d *tlsDir) content(r record, typ byte, content, plain []byte, header []Field) {
	enc := plain != nil
	ev := Event{Length: len(r.wire), Bytes: hex.EncodeToString(r.wire), Encrypted: enc}
	in, off := "", 5
	if enc {
		ev.Plain = hex.EncodeToString(plain)
		in, off = "plain", 0
	}
	switch typ {
	case recordHandshake:
		if len(d.hs) == 0 && len(content) >= 4 && handshakeLen(content) == len(content) {
			// The usual case: one whole message in one record.
			m := d.handshake(content)
			ev.Type, ev.Summary, ev.Error = m.Type, m.Summary, errString(m.Err)
			ev.Fields = append(header, shift(m.Fields, off, in)...)
			d.emit(ev, r)
			return
		}
		d.hs = append(d.hs, content...)
		d.hsRecords++
		for len(d.hs) >= 4 && len(d.hs) >= handshakeLen(d.hs) {
			n := handshakeLen(d.hs)
			msg := d.hs[:n]
			m := d.handshake(msg)
			note := " (shares its record with other messages)"
			if d.hsRecords > 1 {
				note = fmt.Sprintf(" (spread over %d records)", d.hsRecords)
			}
			part := Event{Type: m.Type, Length: n, Encrypted: enc, Summary: m.Summary + note, Error: errString(m.Err)}
			if enc {
				part.Plain, part.Fields = hex.EncodeToString(msg), shift(m.Fields, 0, "plain")
			} else {
				part.Bytes, part.Fields = hex.EncodeToString(msg), m.Fields
			}
			d.emit(part, r)
			d.hs = d.hs[n:]
			d.hsRecords = 1
		}
		if len(d.hs) == 0 {
			d.hs, d.hsRecords = nil, 0
		}
	case recordAlert:
		summary, fields, err := decodeAlert(content, off, in)
		ev.Type, ev.Summary, ev.Error = "Alert", summary, errString(err)
		ev.Fields = append(header, fields...)
		d.emit(ev, r)
	case recordChangeCipherSpec:
		about := "From the next record on, this side encrypts with the keys just agreed."
		if d.c.tls13() {
			about = "TLS 1.3 sends this only so that the connection looks like TLS 1.2 to old middleboxes; it changes nothing (RFC 8446 §D.4)."
		} else {
			d.ccs = true
		}
		ev.Type, ev.Summary = "ChangeCipherSpec", "change_cipher_spec"
		ev.Fields = append(header, Field{Name: "change_cipher_spec", Value: fmt.Sprint(content), Start: off, End: off + len(content), In: in, About: about, Spec: "RFC 5246 §7.1"})
		d.emit(ev, r)
	case recordApplicationData:
		ev.Type = "ApplicationData"
		ev.Summary = fmt.Sprintf("%d bytes of application data", len(content))
		about := "Application bytes (MQTT here); the MQTT events show them decoded."
		if !enc {
			about = "Application bytes the trace could not decrypt."
		}
		ev.Fields = append(header, Field{Name: "application_data", Value: fmt.Sprintf("%d bytes", len(content)), Start: off, End: off + len(content), In: in, About: about, Spec: "RFC 8446 §5.1"})
		d.emit(ev, r)
	default:
		ev.Type = contentTypeName(typ)
		ev.Fields = header
		ev.Error = fmt.Sprintf("trace: tls: content type %d is not decoded", typ)
		d.emit(ev, r)
	}
}
