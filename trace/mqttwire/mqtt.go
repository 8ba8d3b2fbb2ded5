package mqttwire

import (
	"encoding/hex"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/mqtts-playground/playground/trace/field"
)

// Packet is one decoded MQTT control packet.
type Packet struct {
	// Type names the packet: "CONNECT", "CONNACK", "PUBLISH", "PUBACK",
	// "PUBREC", "PUBREL", "PUBCOMP", "SUBSCRIBE", "SUBACK", "UNSUBSCRIBE",
	// "UNSUBACK", "PINGREQ", "PINGRESP", "DISCONNECT", "AUTH"; a reserved
	// type reads "Reserved(0)", or "Reserved(15)" before MQTT 5.0.
	Type string
	// Version is the protocol level the packet was decoded with: 3 (3.1),
	// 4 (3.1.1) or 5 (5.0).
	Version byte
	// Summary is one line for a sequence diagram, such as
	// `PUBLISH "x/y" qos1 id=3 (5 bytes)` or `CONNACK Success`.
	Summary string
	// Fields annotate the packet's bytes: Start and End are offsets into the
	// packet itself (the fixed header byte is offset 0), fields are ordered
	// by Start with a parent before its parts, and In is always empty.
	Fields []field.Field
	// Err is non-nil when the body breaks a rule of the specification; it
	// names the rule (with its conformance ID, such as [MQTT-3.1.2-3], when
	// there is one). Fields then holds what was decoded.
	Err error

	// Topic is the Topic Name of a PUBLISH.
	Topic string
	// Payload is a copy of the application message of a PUBLISH.
	Payload []byte
	// PacketID is the Packet Identifier of the packets that carry one.
	PacketID uint16
	// ClientID is the Client Identifier of a CONNECT.
	ClientID string
	// Username is the User Name of a CONNECT, when its flag is set.
	Username string
	// Password is the Password of a CONNECT, when its flag is set.
	Password []byte
	// ReasonCode is the return or reason code of a CONNACK, PUBACK, PUBREC,
	// PUBREL, PUBCOMP, DISCONNECT or AUTH (0 when the packet omits it), or
	// the first code of a SUBACK or UNSUBACK.
	ReasonCode byte
}

// Decode decodes the first MQTT control packet in b.
//
// version is the protocol level in force on the connection: 4 for 3.1.1, 5
// for 5.0, 3 for 3.1, or 0 when it is not known yet (decoded as 4; any other
// value is also treated as 4). A CONNECT packet is decoded with the protocol
// level it carries itself, when that level is 3, 4 or 5.
//
// It returns the packet and its total length n (fixed header plus remaining
// length). When b holds only the beginning of a packet it returns n == 0 and
// err == io.ErrUnexpectedEOF, so the caller can wait for more bytes. When the
// fixed header cannot be followed (a remaining length longer than 4 bytes) it
// returns n == 0 and an error that says what was wrong and at which offset;
// the stream cannot be decoded further. In both cases p is the zero value.
//
// When the fixed header is sound but the body is not, it returns the full n,
// err == nil and p.Err describing the broken rule, so the caller can go on
// with the next packet. Decode never reads past b[:n].
func Decode(b []byte, version byte) (p Packet, n int, err error) {
	if len(b) == 0 {
		return Packet{}, 0, io.ErrUnexpectedEOF
	}
	rl, vlen := 0, 0
	for i, mult := 1, 1; ; i, mult = i+1, mult*128 {
		if i > 4 {
			return Packet{}, 0, fmt.Errorf("trace: mqtt: remaining length at offset 1 exceeds 4 bytes")
		}
		if i >= len(b) {
			return Packet{}, 0, io.ErrUnexpectedEOF
		}
		rl += int(b[i]&0x7f) * mult
		if b[i]&0x80 == 0 {
			vlen = i
			break
		}
	}
	n = 1 + vlen + rl
	if len(b) < n {
		return Packet{}, 0, io.ErrUnexpectedEOF
	}
	d := &mqttDecoder{b: b[:n:n], end: n, typ: b[0] >> 4, flags: b[0] & 0x0f, ver: 4}
	if version == 3 || version == 5 {
		d.ver = version
	}
	d.decode(vlen, rl)
	return d.p, n, nil
}

// MQTT control packet types (the high nibble of the first byte).
const (
	mqttConnect     byte = 1
	mqttConnack     byte = 2
	mqttPublish     byte = 3
	mqttPuback      byte = 4
	mqttPubrec      byte = 5
	mqttPubrel      byte = 6
	mqttPubcomp     byte = 7
	mqttSubscribe   byte = 8
	mqttSuback      byte = 9
	mqttUnsubscribe byte = 10
	mqttUnsuback    byte = 11
	mqttPingreq     byte = 12
	mqttPingresp    byte = 13
	mqttDisconnect  byte = 14
	mqttAuth        byte = 15

	// mqttWill stands for the Will Properties of a CONNECT payload where a
	// packet type is expected (property tables).
	mqttWill byte = 16
)

var mqttTypeNames = [16]string{
	"", "CONNECT", "CONNACK", "PUBLISH", "PUBACK", "PUBREC", "PUBREL", "PUBCOMP",
	"SUBSCRIBE", "SUBACK", "UNSUBSCRIBE", "UNSUBACK", "PINGREQ", "PINGRESP", "DISCONNECT", "AUTH",
}

// mqttTypeAbout says in a few words what each packet type is for.
var mqttTypeAbout = [16]string{
	"a reserved value that no packet may use",
	"the client asks the broker to open an MQTT session",
	"the broker answers the client's CONNECT",
	"an application message sent to a topic",
	"acknowledges a QoS 1 PUBLISH",
	"first answer to a QoS 2 PUBLISH: the message arrived",
	"second step of QoS 2: the sender releases the message",
	"last step of QoS 2: delivery is complete",
	"the client asks for the messages of some topic filters",
	"the broker answers a SUBSCRIBE, one code per filter",
	"the client cancels some of its subscriptions",
	"the broker confirms an UNSUBSCRIBE",
	"the client checks that the connection is still alive",
	"the broker answers a PINGREQ",
	"the sender closes the connection on purpose",
	"a step of an MQTT 5 extended authentication exchange",
}

func mqttTypeName(t, ver byte) string {
	if t == 0 || (t == mqttAuth && ver != 5) {
		return fmt.Sprintf("Reserved(%d)", t)
	}
	return mqttTypeNames[t]
}

// mqttStop is panicked (and recovered in decode) to abandon a packet whose
// body cannot be followed any further.
type mqttStop struct{}

// mqttDecoder holds the state of decoding one packet.
type mqttDecoder struct {
	b     []byte // exactly the packet's bytes
	pos   int    // next byte to read
	end   int    // reads must stay below end: len(b), or the end of a property block
	scope string // what end delimits, for error messages ("" means the packet)
	typ   byte
	flags byte
	ver   byte
	p     Packet

	// values collected for the summary
	qos        byte
	hasKeep    bool
	keepAlive  uint16
	hasClient  bool
	hasUser    bool
	hasWill    bool
	willTopic  string
	hasTopic   bool
	hasPID     bool
	hasPayload bool
	alias      uint16
	hasReason  bool
	sessPres   bool
	codes      []string // SUBACK / UNSUBACK code names, SUBSCRIBE / UNSUBSCRIBE filters
	authMethod string
}

// sec cites a section of the specification the packet is decoded with.
func (d *mqttDecoder) sec(s311, s5 string) string {
	if d.ver == 5 {
		return "MQTT 5.0 §" + s5
	}
	return "MQTT 3.1.1 §" + s311
}

// rule formats a conformance statement ID for the version in force, or
// nothing when that version has none for the rule.
func (d *mqttDecoder) rule(id311, id5 string) string {
	id := id311
	if d.ver == 5 {
		id = id5
	}
	if id == "" {
		return ""
	}
	return " [MQTT-" + id + "]"
}

// violate records the first broken rule and carries on decoding.
func (d *mqttDecoder) violate(format string, args ...any) {
	if d.p.Err == nil {
		d.p.Err = fmt.Errorf("trace: mqtt: "+format, args...)
	}
}

// fail records the first broken rule and abandons the packet.
func (d *mqttDecoder) fail(format string, args ...any) {
	d.violate(format, args...)
	panic(mqttStop{})
}

func (d *mqttDecoder) add(f field.Field) int {
	d.p.Fields = append(d.p.Fields, f)
	return len(d.p.Fields) - 1
}

func (d *mqttDecoder) where() string {
	if d.scope == "" {
		return "packet"
	}
	return d.scope
}

// take reserves k bytes at the read position, or abandons the packet when
// fewer are left; a cut-off field still gets a field over its bytes.
func (d *mqttDecoder) take(k int, name string, depth int, sec string) int {
	if d.end-d.pos < k {
		left := d.end - d.pos
		if left > 0 {
			d.add(field.Field{Name: name, Value: "(cut short)", Start: d.pos, End: d.end, Depth: depth,
				About: "The bytes run out before this field is complete.", Spec: sec})
		}
		d.fail("%s at offset %d needs %d bytes but only %d remain in the %s", name, d.pos, k, left, d.where())
	}
	s := d.pos
	d.pos += k
	return s
}

func (d *mqttDecoder) u8(name string, depth int, sec string) (byte, int) {
	s := d.take(1, name, depth, sec)
	return d.b[s], s
}

func (d *mqttDecoder) u16(name string, depth int, sec string) (uint16, int) {
	s := d.take(2, name, depth, sec)
	return uint16(d.b[s])<<8 | uint16(d.b[s+1]), s
}

func (d *mqttDecoder) u32(name string, depth int, sec string) (uint32, int) {
	s := d.take(4, name, depth, sec)
	return uint32(d.b[s])<<24 | uint32(d.b[s+1])<<16 | uint32(d.b[s+2])<<8 | uint32(d.b[s+3]), s
}

// varint reads a Variable Byte Integer: 7 bits per byte, least significant
// group first, the top bit saying another byte follows.
func (d *mqttDecoder) varint(name string, depth int, sec string) (v, start, size int) {
	start = d.pos
	mult := 1
	for i := 0; ; i++ {
		if i == 4 {
			d.add(field.Field{Name: name, Value: "(longer than 4 bytes)", Start: start, End: d.pos, Depth: depth,
				About: "A variable byte integer may use at most 4 bytes.", Spec: sec})
			d.fail("%s at offset %d exceeds 4 bytes", name, start)
		}
		if d.pos >= d.end {
			if d.pos > start {
				d.add(field.Field{Name: name, Value: "(cut short)", Start: start, End: d.pos, Depth: depth,
					About: "The bytes run out before this field is complete.", Spec: sec})
			}
			d.fail("%s at offset %d is cut short: the %s ends at offset %d", name, start, d.where(), d.end)
		}
		c := d.b[d.pos]
		d.pos++
		v += int(c&0x7f) * mult
		mult *= 128
		if c&0x80 == 0 {
			break
		}
	}
	size = d.pos - start
	if size > mqttVarintLen(v) && d.ver == 5 {
		d.violate("%s at offset %d uses %d bytes where %d would do [MQTT-1.5.5-1]", name, start, size, mqttVarintLen(v))
	}
	return v, start, size
}

func mqttVarintLen(v int) int {
	switch {
	case v < 128:
		return 1
	case v < 16384:
		return 2
	case v < 2097152:
		return 3
	}
	return 4
}

func mqttVarintNote(v, size int) string {
	note := fmt.Sprintf("%d (%d byte%s, varint", v, size, mqttPlural(size))
	if size > mqttVarintLen(v) {
		note += ", longer than needed"
	}
	return note + ")"
}

func mqttPlural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// lenPrefixed reads a two-byte length and the bytes it announces. With
// parent set it adds a field named name over both at depth, and "length" and
// "value" parts at depth+1; without, only the parts, at depth. value formats
// the bytes for display.
func (d *mqttDecoder) lenPrefixed(name string, depth int, parent bool, about, sec, partAbout string, value func([]byte) string) ([]byte, int) {
	s := d.take(2, name, depth, sec)
	l := int(d.b[s])<<8 | int(d.b[s+1])
	pd := depth
	if parent {
		pd++
	}
	lengthField := field.Field{Name: "length", Value: fmt.Sprintf("%d", l), Start: s, End: s + 2, Depth: pd,
		About: "Two-byte big-endian count of the bytes that follow.", Spec: sec}
	if d.end-d.pos < l {
		left := d.end - d.pos
		cut := fmt.Sprintf("(cut short: %d bytes announced, %d remain)", l, left)
		if parent {
			d.add(field.Field{Name: name, Value: cut, Start: s, End: d.end, Depth: depth, About: about, Spec: sec})
		}
		d.add(lengthField)
		if !parent && left > 0 {
			d.add(field.Field{Name: "value", Value: cut, Start: d.pos, End: d.end, Depth: pd, About: partAbout, Spec: sec})
		}
		d.fail("%s at offset %d announces %d bytes but only %d remain in the %s", name, s, l, left, d.where())
	}
	v := d.b[d.pos : d.pos+l]
	d.pos += l
	shown := value(v)
	if parent {
		d.add(field.Field{Name: name, Value: shown, Start: s, End: d.pos, Depth: depth, About: about, Spec: sec})
	}
	d.add(lengthField)
	if l > 0 {
		d.add(field.Field{Name: "value", Value: shown, Start: s + 2, End: d.pos, Depth: pd, About: partAbout, Spec: sec})
	}
	return v, s
}

// str reads a UTF-8 Encoded String (adding a field for it, see lenPrefixed)
// and checks that it is well formed.
func (d *mqttDecoder) str(name string, depth int, about, sec string) string {
	return d.strOpt(name, depth, true, about, sec)
}

func (d *mqttDecoder) strOpt(name string, depth int, parent bool, about, sec string) string {
	v, s := d.lenPrefixed(name, depth, parent, about, sec, "The characters, encoded as UTF-8.", func(b []byte) string {
		return mqttQuote(string(b))
	})
	d.checkUTF8(name, s, v)
	return string(v)
}

// bin reads Binary Data (adding a field for it, see lenPrefixed); the result
// is a copy.
func (d *mqttDecoder) bin(name string, depth int, parent bool, about, sec string) []byte {
	v, _ := d.lenPrefixed(name, depth, parent, about, sec, "The bytes themselves.", mqttShowBytes)
	return append([]byte{}, v...)
}

func (d *mqttDecoder) checkUTF8(name string, at int, v []byte) {
	if !utf8.Valid(v) {
		d.violate("%s at offset %d is not well-formed UTF-8%s", name, at, d.rule("1.5.3-1", "1.5.4-1"))
	} else if strings.IndexByte(string(v), 0) >= 0 {
		d.violate("%s at offset %d contains the null character U+0000%s", name, at, d.rule("1.5.3-2", "1.5.4-2"))
	}
}

const mqttShowMax = 200

// quoteShort quotes a string for display, cutting it after mqttShowMax runes.
func mqttQuote(s string) string {
	cut := false
	if utf8.RuneCountInString(s) > mqttShowMax {
		i, r := 0, 0
		for i = range s {
			if r == mqttShowMax {
				break
			}
			r++
		}
		s, cut = s[:i], true
	}
	q := strconv.Quote(s)
	if cut {
		q += "…"
	}
	return q
}

// mqttShowBytes shows binary data as its text when it is printable UTF-8 and as
// hex otherwise, cut after about mqttShowMax characters.
func mqttShowBytes(b []byte) string {
	if len(b) == 0 {
		return "(empty)"
	}
	if utf8.Valid(b) && mqttPrintable(b) {
		s := string(b)
		if utf8.RuneCountInString(s) > mqttShowMax {
			r := 0
			for i := range s {
				if r == mqttShowMax {
					return s[:i] + "…"
				}
				r++
			}
		}
		return s
	}
	if len(b) > mqttShowMax/2 {
		return "0x" + hex.EncodeToString(b[:mqttShowMax/2]) + "…"
	}
	return "0x" + hex.EncodeToString(b)
}

func mqttPrintable(b []byte) bool {
	for _, r := range string(b) {
		if !unicode.IsPrint(r) && r != '\n' && r != '\r' && r != '\t' {
			return false
		}
	}
	return true
}

func mqttOnOff(v byte) string {
	if v != 0 {
		return "1 (set)"
	}
	return "0 (not set)"
}

var mqttQoSNames = [4]string{"0 (at most once)", "1 (at least once)", "2 (exactly once)", "3 (invalid)"}

// decode decodes the packet whose fixed header announced rl bytes after a
// vlen-byte remaining length.
func (d *mqttDecoder) decode(vlen, rl int) {
	if d.typ == mqttConnect {
		d.peekLevel(1 + vlen)
	}
	d.p.Version = d.ver
	d.p.Type = mqttTypeName(d.typ, d.ver)
	func() {
		defer func() {
			if r := recover(); r != nil {
				if _, ok := r.(mqttStop); !ok {
					panic(r)
				}
			}
		}()
		d.fixedHeader(vlen, rl)
		d.body()
		d.end, d.scope = len(d.b), ""
		if d.pos < len(d.b) {
			d.add(field.Field{Name: "Unexpected bytes", Value: fmt.Sprintf("%d byte%s", len(d.b)-d.pos, mqttPlural(len(d.b)-d.pos)),
				Start: d.pos, End: len(d.b), About: "Bytes left over after the last field this packet can hold.",
				Spec: d.packetSec()})
			d.violate("%s has %d unexpected byte%s at offset %d after its last field", d.p.Type, len(d.b)-d.pos, mqttPlural(len(d.b)-d.pos), d.pos)
		}
	}()
	// After an error, mark the bytes nothing explained.
	last := 0
	for _, f := range d.p.Fields {
		last = max(last, f.End)
	}
	if last < len(d.b) {
		d.add(field.Field{Name: "Undecoded", Value: fmt.Sprintf("%d byte%s", len(d.b)-last, mqttPlural(len(d.b)-last)),
			Start: last, End: len(d.b), About: "Bytes the decoder could not interpret after the error above.",
			Spec: d.packetSec()})
	}
	d.p.Version = d.ver
	d.p.Type = mqttTypeName(d.typ, d.ver)
	d.p.Summary = d.summary()
}

// peekLevel looks ahead at a CONNECT's protocol level, so every field of the
// packet is explained for the version it carries.
func (d *mqttDecoder) peekLevel(at int) {
	if at+2 > len(d.b) {
		return
	}
	lp := at + 2 + (int(d.b[at])<<8 | int(d.b[at+1]))
	if lp < len(d.b) {
		if l := d.b[lp]; l == 3 || l == 4 || l == 5 {
			d.ver = l
		}
	}
}

var mqttPacketSec311 = [16]string{"2.2.1", "3.1", "3.2", "3.3", "3.4", "3.5", "3.6", "3.7", "3.8", "3.9", "3.10", "3.11", "3.12", "3.13", "3.14", "2.2.1"}

// packetSec cites the section about the whole packet type.
func (d *mqttDecoder) packetSec() string {
	if d.typ == 0 || (d.typ == mqttAuth && d.ver != 5) {
		return d.sec("2.2.1", "2.1.2")
	}
	s := mqttPacketSec311[d.typ]
	if d.typ == mqttAuth {
		s = "3.15"
	}
	return d.sec(s, s)
}

func (d *mqttDecoder) fixedHeader(vlen, rl int) {
	name := mqttTypeName(d.typ, d.ver)
	d.add(field.Field{Name: "Packet type", Value: fmt.Sprintf("%s (%d)", name, d.typ), Start: 0, End: 1,
		About: "High 4 bits of the first byte: the packet type. " + mqttCapitalize(mqttTypeAbout[d.typ]) + ".",
		Spec:  d.sec("2.2.1", "2.1.2")})
	f := d.flags
	bits := fmt.Sprintf("0b%04b", f)
	want, wantID311, wantID5 := byte(0), "2.2.2-1", "2.1.3-1"
	switch d.typ {
	case mqttPubrel:
		want, wantID311, wantID5 = 2, "3.6.1-1", "3.6.1-1"
	case mqttSubscribe:
		want, wantID311, wantID5 = 2, "3.8.1-1", "3.8.1-1"
	case mqttUnsubscribe:
		want, wantID311, wantID5 = 2, "3.10.1-1", "3.10.1-1"
	}
	reserved := d.typ == 0 || (d.typ == mqttAuth && d.ver != 5)
	switch {
	case d.typ == mqttPublish:
		d.qos = (f >> 1) & 3
		d.add(field.Field{Name: "Flags", Value: bits, Start: 0, End: 1,
			About: "Low 4 bits of the first byte: for PUBLISH they hold DUP, QoS and RETAIN.",
			Spec:  d.sec("2.2.2", "2.1.3")})
		d.add(field.Field{Name: "DUP", Value: mqttOnOff(f >> 3 & 1), Start: 0, End: 1, Depth: 1,
			About: "Set when this PUBLISH is a resend of one that may not have been acknowledged.",
			Spec:  d.sec("3.3.1.1", "3.3.1.1")})
		d.add(field.Field{Name: "QoS", Value: mqttQoSNames[d.qos], Start: 0, End: 1, Depth: 1,
			About: "Delivery guarantee: 0 at most once, 1 at least once, 2 exactly once.",
			Spec:  d.sec("3.3.1.2", "3.3.1.2")})
		d.add(field.Field{Name: "RETAIN", Value: mqttOnOff(f & 1), Start: 0, End: 1, Depth: 1,
			About: "When set, the broker keeps this message and gives it to future subscribers of the topic.",
			Spec:  d.sec("3.3.1.3", "3.3.1.3")})
	case reserved:
		d.add(field.Field{Name: "Flags", Value: bits, Start: 0, End: 1,
			About: "Low 4 bits of the first byte; a reserved packet type gives them no meaning.",
			Spec:  d.sec("2.2.2", "2.1.3")})
	default:
		v := bits + " (reserved)"
		if f != want {
			v = fmt.Sprintf("%s (reserved, must be 0b%04b)", bits, want)
		}
		d.add(field.Field{Name: "Flags", Value: v, Start: 0, End: 1,
			About: fmt.Sprintf("Low 4 bits of the first byte; %s gives them no meaning, so they must be 0b%04b.", name, want),
			Spec:  d.sec("2.2.2", "2.1.3")})
	}
	d.add(field.Field{Name: "Remaining Length", Value: mqttVarintNote(rl, vlen), Start: 1, End: 1 + vlen,
		About: "How many bytes follow this field (variable header and payload), 7 bits per byte.",
		Spec:  d.sec("2.2.3", "2.1.4")})
	if vlen > mqttVarintLen(rl) && d.ver == 5 {
		d.violate("remaining length at offset 1 uses %d bytes where %d would do [MQTT-1.5.5-1]", vlen, mqttVarintLen(rl))
	}
	d.pos = 1 + vlen
	switch {
	case reserved:
		if d.typ == mqttAuth {
			d.fail("packet type 15 is reserved before MQTT 5.0")
		}
		d.fail("packet type 0 is reserved")
	case d.typ == mqttPublish && d.qos == 3:
		d.fail("PUBLISH has both QoS bits set: QoS 3 does not exist%s", d.rule("3.3.1-4", "3.3.1-4"))
	case d.typ == mqttPublish && d.qos == 0 && f&8 != 0:
		d.violate("PUBLISH with QoS 0 has the DUP flag set%s", d.rule("3.3.1-2", "3.3.1-2"))
	case d.typ != mqttPublish && f != want:
		d.violate("%s fixed header flags are %s but must be 0b%04b%s", name, bits, want, d.rule(wantID311, wantID5))
	}
}

func mqttCapitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

func (d *mqttDecoder) body() {
	switch d.typ {
	case mqttConnect:
		d.connect()
	case mqttConnack:
		d.connack()
	case mqttPublish:
		d.publish()
	case mqttPuback, mqttPubrec, mqttPubrel, mqttPubcomp:
		d.pubAck()
	case mqttSubscribe:
		d.subscribe()
	case mqttSuback:
		d.suback()
	case mqttUnsubscribe:
		d.unsubscribe()
	case mqttUnsuback:
		d.unsuback()
	case mqttPingreq, mqttPingresp:
		// No variable header and no payload.
	case mqttDisconnect:
		d.disconnect()
	case mqttAuth:
		d.auth()
	}
}

// packetID reads a Packet Identifier; zero is refused where the sender picks
// the identifier.
func (d *mqttDecoder) packetID(about, sec string, mustBeNonZero bool) {
	v, s := d.u16("Packet Identifier", 0, sec)
	d.add(field.Field{Name: "Packet Identifier", Value: fmt.Sprintf("%d", v), Start: s, End: s + 2, About: about, Spec: sec})
	d.p.PacketID, d.hasPID = v, true
	if mustBeNonZero && v == 0 {
		d.violate("%s Packet Identifier at offset %d is 0, which is not allowed%s", d.p.Type, s, d.rule("2.3.1-1", "2.2.1-3"))
	}
}

func (d *mqttDecoder) connect() {
	const depth = 0
	nameSec := d.sec("3.1.2.1", "3.1.2.1")
	pname := d.str("Protocol Name", depth,
		`Fixed string that marks the start of an MQTT connection: "MQTT" ("MQIsdp" in MQTT 3.1).`, nameSec)
	levelName := "Protocol Level"
	if d.ver == 5 {
		levelName = "Protocol Version"
	}
	lvl, s := d.u8(levelName, depth, d.sec("3.1.2.2", "3.1.2.2"))
	known := lvl >= 3 && lvl <= 5
	lv := fmt.Sprintf("%d (unknown)", lvl)
	if known {
		lv = fmt.Sprintf("%d (MQTT %s)", lvl, [...]string{3: "3.1", 4: "3.1.1", 5: "5.0"}[lvl])
	}
	d.add(field.Field{Name: levelName, Value: lv, Start: s, End: s + 1,
		About: "Revision of MQTT the client speaks: 3 is 3.1, 4 is 3.1.1, 5 is 5.0.",
		Spec:  d.sec("3.1.2.2", "3.1.2.2")})
	if !known {
		d.fail("CONNECT at offset %d asks for protocol level %d, which this decoder does not know (3, 4 and 5 exist)%s",
			s, lvl, d.rule("3.1.2-2", "3.1.2-2"))
	}
	wantName := "MQTT"
	if lvl == 3 {
		wantName = "MQIsdp"
	}
	if pname != wantName {
		d.violate("CONNECT protocol name is %q but level %d uses %q%s", pname, lvl, wantName, d.rule("3.1.2-1", "3.1.2-1"))
	}

	fl, s := d.u8("Connect Flags", depth, d.sec("3.1.2.3", "3.1.2.3"))
	d.add(field.Field{Name: "Connect Flags", Value: fmt.Sprintf("0b%08b", fl), Start: s, End: s + 1,
		About: "Bit flags saying which optional fields the payload holds and how the session starts.",
		Spec:  d.sec("3.1.2.3", "3.1.2.3")})
	userF, passF, willRetain, willQoS, willF, clean, res := fl>>7&1, fl>>6&1, fl>>5&1, fl>>3&3, fl>>2&1, fl>>1&1, fl&1
	flag := func(name, value, about, s311, s5 string) {
		d.add(field.Field{Name: name, Value: value, Start: s, End: s + 1, Depth: 1, About: about, Spec: d.sec(s311, s5)})
	}
	flag("User Name Flag", mqttOnOff(userF), "Bit 7: set when the payload carries a User Name.", "3.1.2.8", "3.1.2.8")
	flag("Password Flag", mqttOnOff(passF), "Bit 6: set when the payload carries a Password.", "3.1.2.9", "3.1.2.9")
	flag("Will Retain", mqttOnOff(willRetain), "Bit 5: set when the Will Message is to be published as a retained message.", "3.1.2.7", "3.1.2.7")
	flag("Will QoS", mqttQoSNames[willQoS], "Bits 4-3: the QoS the broker uses when it publishes the Will Message.", "3.1.2.6", "3.1.2.6")
	flag("Will Flag", mqttOnOff(willF), "Bit 2: set when the client leaves a Will, a message the broker publishes if the client vanishes without a DISCONNECT.", "3.1.2.5", "3.1.2.5")
	if d.ver == 5 {
		flag("Clean Start", mqttOnOff(clean), "Bit 1: set to throw away any session the broker kept for this client and start afresh.", "", "3.1.2.4")
	} else {
		flag("Clean Session", mqttOnOff(clean), "Bit 1: set to start a fresh session that is discarded when the connection ends.", "3.1.2.4", "")
	}
	flag("Reserved", fmt.Sprintf("%d", res), "Bit 0 is reserved and must be 0.", "3.1.2.3", "3.1.2.3")
	switch {
	case res != 0:
		d.violate("CONNECT flags at offset %d have the reserved bit 0 set%s", s, d.rule("3.1.2-3", "3.1.2-3"))
	case willF == 0 && willQoS != 0:
		d.violate("CONNECT flags at offset %d set Will QoS %d without the Will Flag%s", s, willQoS, d.rule("3.1.2-13", "3.1.2-11"))
	case willF == 1 && willQoS == 3:
		d.violate("CONNECT flags at offset %d set Will QoS 3, which does not exist%s", s, d.rule("3.1.2-14", "3.1.2-12"))
	case willF == 0 && willRetain != 0:
		d.violate("CONNECT flags at offset %d set Will Retain without the Will Flag%s", s, d.rule("3.1.2-15", "3.1.2-13"))
	case d.ver != 5 && userF == 0 && passF == 1:
		d.violate("CONNECT flags at offset %d set the Password Flag without the User Name Flag%s", s, d.rule("3.1.2-22", ""))
	}

	ka, s := d.u16("Keep Alive", depth, d.sec("3.1.2.10", "3.1.2.10"))
	kv := fmt.Sprintf("%d seconds", ka)
	if ka == 0 {
		kv = "0 (keep alive off)"
	}
	d.add(field.Field{Name: "Keep Alive", Value: kv, Start: s, End: s + 2,
		About: "Longest silence in seconds the client promises between its packets; with nothing to send it sends PINGREQ.",
		Spec:  d.sec("3.1.2.10", "3.1.2.10")})
	d.keepAlive, d.hasKeep = ka, true

	if d.ver == 5 {
		d.properties(mqttConnect, "Properties")
	}

	d.p.ClientID = d.str("Client Identifier", depth,
		"Name of this client; the broker keeps the client's session under it.", d.sec("3.1.3.1", "3.1.3.1"))
	d.hasClient = true
	if willF == 1 {
		d.hasWill = true
		if d.ver == 5 {
			d.properties(mqttWill, "Will Properties")
		}
		d.willTopic = d.str("Will Topic", depth,
			"Topic the Will Message is published to if the client disappears.", d.sec("3.1.3.2", "3.1.3.3"))
		if d.ver == 5 {
			d.bin("Will Payload", depth, true, "Content of the Will Message.", d.sec("", "3.1.3.4"))
		} else {
			d.bin("Will Message", depth, true, "Content of the Will Message.", d.sec("3.1.3.3", ""))
		}
	}
	if userF == 1 {
		d.p.Username = d.str("User Name", depth,
			"Name the broker can use to authenticate the client.", d.sec("3.1.3.4", "3.1.3.5"))
		d.hasUser = true
	}
	if passF == 1 {
		d.p.Password = d.bin("Password", depth, true,
			"Secret that authenticates the client; MQTT does not hide it, so without TLS anyone on the path can read it.",
			d.sec("3.1.3.5", "3.1.3.6"))
	}
}

// mqttConnackCodes311 names the CONNACK return codes of MQTT 3.1.1.
var mqttConnackCodes311 = []string{
	"Connection Accepted",
	"Connection Refused: unacceptable protocol version",
	"Connection Refused: identifier rejected",
	"Connection Refused: server unavailable",
	"Connection Refused: bad user name or password",
	"Connection Refused: not authorized",
}

func (d *mqttDecoder) connack() {
	fl, s := d.u8("Connect Acknowledge Flags", 0, d.sec("3.2.2.1", "3.2.2.1"))
	d.add(field.Field{Name: "Connect Acknowledge Flags", Value: fmt.Sprintf("0b%08b", fl), Start: s, End: s + 1,
		About: "Byte of flags; only bit 0, Session Present, is in use.", Spec: d.sec("3.2.2.1", "3.2.2.1")})
	d.add(field.Field{Name: "Reserved", Value: fmt.Sprintf("0b%07b", fl>>1), Start: s, End: s + 1, Depth: 1,
		About: "Bits 7-1 are reserved and must be 0.", Spec: d.sec("3.2.2.1", "3.2.2.1")})
	d.add(field.Field{Name: "Session Present", Value: mqttOnOff(fl & 1), Start: s, End: s + 1, Depth: 1,
		About: "Set when the broker resumed a session it still held for this client; clear when the session is new.",
		Spec:  d.sec("3.2.2.2", "3.2.2.1.1")})
	d.sessPres = fl&1 == 1
	if fl&0xfe != 0 {
		d.violate("CONNACK acknowledge flags at offset %d have reserved bits set%s", s, d.rule("", "3.2.2-1"))
	}

	codeName := "Return Code"
	if d.ver == 5 {
		codeName = "Reason Code"
	}
	code, s := d.u8(codeName, 0, d.sec("3.2.2.3", "3.2.2.2"))
	d.p.ReasonCode, d.hasReason = code, true
	if d.ver == 5 {
		d.reasonField(code, s, 0, "Broker's verdict on the CONNECT: 0x00 accepts it; 0x80 and above refuse it and the broker then closes the connection.",
			"3.2.2.2")
	} else {
		name := fmt.Sprintf("Reserved (%d)", code)
		if int(code) < len(mqttConnackCodes311) {
			name = mqttConnackCodes311[code]
		}
		d.add(field.Field{Name: "Return Code", Value: fmt.Sprintf("0x%02X %s", code, name), Start: s, End: s + 1,
			About: "Broker's verdict on the CONNECT: 0 accepts the connection, any other value refuses it.",
			Spec:  d.sec("3.2.2.3", "")})
	}
	if code != 0 && d.sessPres {
		d.violate("CONNACK refuses the connection but sets Session Present%s", d.rule("3.2.2-4", "3.2.2-6"))
	}
	if d.ver == 5 {
		d.properties(mqttConnack, "Properties")
	}
}

func (d *mqttDecoder) publish() {
	sec := d.sec
	topicAt := d.pos
	d.p.Topic = d.str("Topic Name", 0,
		"Topic the message is published to; every subscription whose filter matches it receives the message.",
		sec("3.3.2.1", "3.3.2.1"))
	d.hasTopic = true
	if strings.ContainsAny(d.p.Topic, "+#") {
		d.violate("PUBLISH Topic Name at offset %d contains a wildcard character%s", topicAt, d.rule("3.3.2-2", "3.3.2-2"))
	}
	if d.ver != 5 && d.p.Topic == "" {
		d.violate("PUBLISH Topic Name at offset %d is empty%s", topicAt, d.rule("4.7.3-1", ""))
	}
	if d.qos > 0 {
		d.packetID("Number the sender chose to pair this QoS 1 or 2 message with its acknowledgements.",
			sec("3.3.2.2", "3.3.2.2"), true)
	}
	if d.ver == 5 {
		d.properties(mqttPublish, "Properties")
		if d.p.Topic == "" && d.alias == 0 {
			d.violate("PUBLISH has an empty Topic Name and no Topic Alias")
		}
	}
	payload := d.b[d.pos:d.end]
	d.p.Payload = append([]byte{}, payload...)
	d.hasPayload = true
	d.add(field.Field{Name: "Payload", Value: mqttShowBytes(payload), Start: d.pos, End: d.end,
		About: "The application message itself; MQTT carries these bytes without looking into them.",
		Spec:  sec("3.3.3", "3.3.3")})
	d.pos = d.end
}

// pubAck decodes PUBACK, PUBREC, PUBREL and PUBCOMP, which share a layout.
func (d *mqttDecoder) pubAck() {
	about := map[byte]string{
		mqttPuback:  "Identifier of the QoS 1 PUBLISH this packet acknowledges.",
		mqttPubrec:  "Identifier of the QoS 2 PUBLISH that has been received.",
		mqttPubrel:  "Identifier of the QoS 2 PUBLISH whose delivery is released.",
		mqttPubcomp: "Identifier of the QoS 2 exchange that is now complete.",
	}[d.typ]
	vh := fmt.Sprintf("3.%d.2", d.typ) // sections 3.4 to 3.7
	d.packetID(about, d.sec(vh, vh), false)
	if d.ver != 5 {
		return
	}
	if d.pos == d.end {
		d.hasReason = true // omitted: 0x00 Success
		return
	}
	code, s := d.u8("Reason Code", 0, "MQTT 5.0 §"+vh+".1")
	d.p.ReasonCode, d.hasReason = code, true
	d.reasonField(code, s, 0, "Outcome of this step of the delivery: below 0x80 it succeeded, 0x80 and above it failed.", vh+".1")
	if d.pos == d.end {
		return
	}
	d.properties(d.typ, "Properties")
}

func (d *mqttDecoder) subscribe() {
	d.packetID("Number the SUBACK will carry back, pairing it with this request.", d.sec("3.8.2", "3.8.2"), true)
	if d.ver == 5 {
		d.properties(mqttSubscribe, "Properties")
	}
	for d.pos < d.end {
		at := d.pos
		filter := d.str("Topic Filter", 0,
			"Pattern of topics to subscribe to: '+' matches one level, '#' every level below.",
			d.sec("3.8.3", "3.8.3"))
		if filter == "" {
			d.violate("SUBSCRIBE Topic Filter at offset %d is empty%s", at, d.rule("4.7.3-1", "4.7.3-1"))
		}
		var qos byte
		if d.ver == 5 {
			o, s := d.u8("Subscription Options", 0, d.sec("", "3.8.3.1"))
			qos = o & 3
			d.add(field.Field{Name: "Subscription Options", Value: fmt.Sprintf("0b%08b", o), Start: s, End: s + 1,
				About: "Byte with the QoS wanted for this filter and the MQTT 5 delivery options.",
				Spec:  d.sec("", "3.8.3.1")})
			sub := func(name, value, about string) {
				d.add(field.Field{Name: name, Value: value, Start: s, End: s + 1, Depth: 1, About: about, Spec: d.sec("", "3.8.3.1")})
			}
			rh := o >> 4 & 3
			rhNames := [4]string{"0 (send retained messages at subscribe)", "1 (send retained messages only for a new subscription)",
				"2 (do not send retained messages)", "3 (invalid)"}
			sub("Reserved", fmt.Sprintf("0b%02b", o>>6), "Bits 7-6 are reserved and must be 0.")
			sub("Retain Handling", rhNames[rh], "Bits 5-4: whether the broker sends the topic's retained messages when this subscription is made.")
			sub("Retain As Published", mqttOnOff(o>>3&1), "Bit 3: when set, forwarded messages keep the RETAIN flag they were published with.")
			sub("No Local", mqttOnOff(o>>2&1), "Bit 2: when set, the client does not receive the messages it publishes itself.")
			sub("Maximum QoS", mqttQoSNames[qos], "Bits 1-0: the highest QoS the client accepts for messages on this filter.")
			switch {
			case o&0xc0 != 0:
				d.violate("SUBSCRIBE options at offset %d have reserved bits set%s", s, d.rule("", "3.8.3-5"))
			case qos == 3:
				d.violate("SUBSCRIBE options at offset %d ask for QoS 3, which does not exist", s)
			case rh == 3:
				d.violate("SUBSCRIBE options at offset %d use Retain Handling 3, which does not exist", s)
			case o&4 != 0 && strings.HasPrefix(filter, "$share/"):
				d.violate("SUBSCRIBE options at offset %d set No Local on a shared subscription%s", s, d.rule("", "3.8.3-4"))
			}
		} else {
			o, s := d.u8("Requested QoS", 0, d.sec("3.8.3", ""))
			qos = o & 3
			v := mqttQoSNames[qos]
			if o&0xfc != 0 {
				v = fmt.Sprintf("0x%02X (reserved bits set)", o)
			}
			d.add(field.Field{Name: "Requested QoS", Value: v, Start: s, End: s + 1,
				About: "Highest QoS the client wants for messages that match this filter; the upper 6 bits are reserved.",
				Spec:  d.sec("3.8.3", "")})
			if o&0xfc != 0 || qos == 3 {
				d.violate("SUBSCRIBE Requested QoS at offset %d is 0x%02X: reserved bits must be 0 and QoS at most 2%s", s, o, d.rule("3.8.3-4", ""))
			}
		}
		d.codes = append(d.codes, fmt.Sprintf("%s qos%d", mqttQuote(filter), qos))
	}
	if len(d.codes) == 0 {
		d.violate("SUBSCRIBE has no topic filter%s", d.rule("3.8.3-3", "3.8.3-2"))
	}
}

// mqttSubackCodes311 names the SUBACK return codes of MQTT 3.1.1.
var mqttSubackCodes311 = map[byte]string{
	0x00: "Success - Maximum QoS 0",
	0x01: "Success - Maximum QoS 1",
	0x02: "Success - Maximum QoS 2",
	0x80: "Failure",
}

func (d *mqttDecoder) suback() {
	d.packetID("Identifier of the SUBSCRIBE this packet answers.", d.sec("3.9.2", "3.9.2"), false)
	if d.ver == 5 {
		d.properties(mqttSuback, "Properties")
	}
	for i := 0; d.pos < d.end; i++ {
		code, s := d.u8("Reason Code", 0, d.sec("3.9.3", "3.9.3"))
		if i == 0 {
			d.p.ReasonCode = code
		}
		if d.ver == 5 {
			name := d.reasonField(code, s, 0, "Result for one topic filter of the SUBSCRIBE, in the same order: the QoS granted, or an error from 0x80 up.", "3.9.3")
			d.codes = append(d.codes, name)
			continue
		}
		name, ok := mqttSubackCodes311[code]
		if !ok {
			name = "Reserved"
			d.violate("SUBACK return code 0x%02X at offset %d is reserved%s", code, s, d.rule("3.9.3-2", ""))
		}
		d.codes = append(d.codes, name)
		d.add(field.Field{Name: "Return Code", Value: fmt.Sprintf("0x%02X %s", code, name), Start: s, End: s + 1,
			About: "Result for one topic filter of the SUBSCRIBE, in the same order: the QoS granted, or 0x80 for failure.",
			Spec:  d.sec("3.9.3", "")})
	}
	if len(d.codes) == 0 {
		d.violate("SUBACK has no return code: it needs one per topic filter of the SUBSCRIBE")
	}
}

func (d *mqttDecoder) unsubscribe() {
	d.packetID("Number the UNSUBACK will carry back, pairing it with this request.", d.sec("3.10.2", "3.10.2"), true)
	if d.ver == 5 {
		d.properties(mqttUnsubscribe, "Properties")
	}
	for d.pos < d.end {
		at := d.pos
		filter := d.str("Topic Filter", 0,
			"Filter of a subscription to remove; it has to equal the subscribed filter exactly.",
			d.sec("3.10.3", "3.10.3"))
		if filter == "" {
			d.violate("UNSUBSCRIBE Topic Filter at offset %d is empty%s", at, d.rule("4.7.3-1", "4.7.3-1"))
		}
		d.codes = append(d.codes, mqttQuote(filter))
	}
	if len(d.codes) == 0 {
		d.violate("UNSUBSCRIBE has no topic filter%s", d.rule("3.10.3-2", "3.10.3-2"))
	}
}

func (d *mqttDecoder) unsuback() {
	d.packetID("Identifier of the UNSUBSCRIBE this packet answers.", d.sec("3.11.2", "3.11.2"), false)
	if d.ver != 5 {
		return
	}
	d.properties(mqttUnsuback, "Properties")
	for i := 0; d.pos < d.end; i++ {
		code, s := d.u8("Reason Code", 0, d.sec("", "3.11.3"))
		if i == 0 {
			d.p.ReasonCode = code
		}
		d.codes = append(d.codes, d.reasonField(code, s, 0, "Result for one topic filter of the UNSUBSCRIBE, in the same order.", "3.11.3"))
	}
	if len(d.codes) == 0 {
		d.violate("UNSUBACK has no reason code: it needs one per topic filter of the UNSUBSCRIBE")
	}
}

func (d *mqttDecoder) disconnect() {
	if d.ver != 5 {
		return
	}
	d.hasReason = true
	if d.pos == d.end {
		return // omitted: 0x00 Normal disconnection
	}
	code, s := d.u8("Reason Code", 0, d.sec("", "3.14.2.1"))
	d.p.ReasonCode = code
	d.reasonField(code, s, 0, "Why the connection is being closed; 0x04 asks the broker to publish the Will all the same.", "3.14.2.1")
	if d.pos < d.end {
		d.properties(mqttDisconnect, "Properties")
	}
}

func (d *mqttDecoder) auth() {
	d.hasReason = true
	if d.pos == d.end {
		return // omitted: 0x00 Success
	}
	code, s := d.u8("Reason Code", 0, d.sec("", "3.15.2.1"))
	d.p.ReasonCode = code
	d.reasonField(code, s, 0, "Step of the authentication exchange: 0x18 continue, 0x19 start again, 0x00 done.", "3.15.2.1")
	if d.pos < d.end {
		d.properties(mqttAuth, "Properties")
	}
}

// mqttReason describes an MQTT 5 reason code: its name, and the packet types
// that may carry it (a bit per type).
type mqttReason struct {
	name    string
	packets uint16
}

func mqttIn(types ...byte) uint16 {
	var m uint16
	for _, t := range types {
		m |= 1 << t
	}
	return m
}

var (
	mqttCommonErr = mqttIn(mqttConnack, mqttPuback, mqttPubrec, mqttSuback, mqttUnsuback, mqttDisconnect)
	mqttConnDisc  = mqttIn(mqttConnack, mqttDisconnect)

	// mqttReasons lists the MQTT 5.0 reason codes (§2.4); 0x00 is named per
	// packet type by mqttReasonName.
	mqttReasons = map[byte]mqttReason{
		0x00: {"Success", mqttIn(mqttConnack, mqttPuback, mqttPubrec, mqttPubrel, mqttPubcomp, mqttSuback, mqttUnsuback, mqttDisconnect, mqttAuth)},
		0x01: {"Granted QoS 1", mqttIn(mqttSuback)},
		0x02: {"Granted QoS 2", mqttIn(mqttSuback)},
		0x04: {"Disconnect with Will Message", mqttIn(mqttDisconnect)},
		0x10: {"No matching subscribers", mqttIn(mqttPuback, mqttPubrec)},
		0x11: {"No subscription existed", mqttIn(mqttUnsuback)},
		0x18: {"Continue authentication", mqttIn(mqttAuth)},
		0x19: {"Re-authenticate", mqttIn(mqttAuth)},
		0x80: {"Unspecified error", mqttCommonErr},
		0x81: {"Malformed Packet", mqttConnDisc},
		0x82: {"Protocol Error", mqttConnDisc},
		0x83: {"Implementation specific error", mqttCommonErr},
		0x84: {"Unsupported Protocol Version", mqttIn(mqttConnack)},
		0x85: {"Client Identifier not valid", mqttIn(mqttConnack)},
		0x86: {"Bad User Name or Password", mqttIn(mqttConnack)},
		0x87: {"Not authorized", mqttCommonErr},
		0x88: {"Server unavailable", mqttIn(mqttConnack)},
		0x89: {"Server busy", mqttConnDisc},
		0x8A: {"Banned", mqttIn(mqttConnack)},
		0x8B: {"Server shutting down", mqttIn(mqttDisconnect)},
		0x8C: {"Bad authentication method", mqttConnDisc},
		0x8D: {"Keep Alive timeout", mqttIn(mqttDisconnect)},
		0x8E: {"Session taken over", mqttIn(mqttDisconnect)},
		0x8F: {"Topic Filter invalid", mqttIn(mqttSuback, mqttUnsuback, mqttDisconnect)},
		0x90: {"Topic Name invalid", mqttIn(mqttConnack, mqttPuback, mqttPubrec, mqttDisconnect)},
		0x91: {"Packet Identifier in use", mqttIn(mqttPuback, mqttPubrec, mqttSuback, mqttUnsuback)},
		0x92: {"Packet Identifier not found", mqttIn(mqttPubrel, mqttPubcomp)},
		0x93: {"Receive Maximum exceeded", mqttIn(mqttDisconnect)},
		0x94: {"Topic Alias invalid", mqttIn(mqttDisconnect)},
		0x95: {"Packet too large", mqttConnDisc},
		0x96: {"Message rate too high", mqttIn(mqttDisconnect)},
		0x97: {"Quota exceeded", mqttIn(mqttConnack, mqttPuback, mqttPubrec, mqttSuback, mqttDisconnect)},
		0x98: {"Administrative action", mqttIn(mqttDisconnect)},
		0x99: {"Payload format invalid", mqttIn(mqttConnack, mqttPuback, mqttPubrec, mqttDisconnect)},
		0x9A: {"Retain not supported", mqttConnDisc},
		0x9B: {"QoS not supported", mqttConnDisc},
		0x9C: {"Use another server", mqttConnDisc},
		0x9D: {"Server moved", mqttConnDisc},
		0x9E: {"Shared Subscriptions not supported", mqttIn(mqttSuback, mqttDisconnect)},
		0x9F: {"Connection rate exceeded", mqttConnDisc},
		0xA0: {"Maximum connect time", mqttIn(mqttDisconnect)},
		0xA1: {"Subscription Identifiers not supported", mqttIn(mqttSuback, mqttDisconnect)},
		0xA2: {"Wildcard Subscriptions not supported", mqttIn(mqttSuback, mqttDisconnect)},
	}
)

// mqttReasonName names an MQTT 5 reason code as packet type t uses it, and
// says whether t may carry it.
func mqttReasonName(code, t byte) (string, bool) {
	r, ok := mqttReasons[code]
	if !ok {
		return "Unknown", false
	}
	if code == 0 {
		switch t {
		case mqttSuback:
			return "Granted QoS 0", true
		case mqttDisconnect:
			return "Normal disconnection", true
		}
	}
	return r.name, r.packets&(1<<t) != 0
}

// reasonField adds a field for an MQTT 5 reason code and returns its name.
func (d *mqttDecoder) reasonField(code byte, at, depth int, about, sec5 string) string {
	name, ok := mqttReasonName(code, d.typ)
	v := fmt.Sprintf("0x%02X %s", code, name)
	if !ok {
		v += fmt.Sprintf(" (not valid in %s)", d.p.Type)
		id := ""
		if d.typ == mqttConnack {
			id = " [MQTT-3.2.2-8]"
		}
		d.violate("reason code 0x%02X at offset %d is not valid in %s%s", code, at, d.p.Type, id)
	}
	d.add(field.Field{Name: "Reason Code", Value: v, Start: at, End: at + 1, Depth: depth, About: about, Spec: "MQTT 5.0 §" + sec5})
	return name
}

// MQTT 5 property value types (§2.2.2.2).
const (
	mqttPropByte = iota
	mqttPropU16
	mqttPropU32
	mqttPropVarint
	mqttPropString
	mqttPropBinary
	mqttPropPair
)

var mqttPropKindAbout = [...]string{
	mqttPropByte:   "One byte.",
	mqttPropU16:    "Two-byte big-endian integer.",
	mqttPropU32:    "Four-byte big-endian integer.",
	mqttPropVarint: "Variable byte integer, 7 bits per byte.",
}

type mqttPropDef struct {
	name  string
	kind  int
	about string
}

var mqttProps = map[byte]mqttPropDef{
	0x01: {"Payload Format Indicator", mqttPropByte, "Says whether the payload is UTF-8 text (1) or bytes of no stated format (0)."},
	0x02: {"Message Expiry Interval", mqttPropU32, "Seconds the message stays deliverable; after that the broker drops it."},
	0x03: {"Content Type", mqttPropString, "Free-form description of the payload's content, such as a MIME type."},
	0x08: {"Response Topic", mqttPropString, "Topic the receiver should publish its reply to, for request/response."},
	0x09: {"Correlation Data", mqttPropBinary, "Bytes the requester uses to match a reply with its request."},
	0x0B: {"Subscription Identifier", mqttPropVarint, "Number tagging a subscription; messages delivered for it carry the number back."},
	0x11: {"Session Expiry Interval", mqttPropU32, "Seconds the session outlives the connection before the broker forgets it."},
	0x12: {"Assigned Client Identifier", mqttPropString, "Client Identifier the broker picked because the client sent an empty one."},
	0x13: {"Server Keep Alive", mqttPropU16, "Keep Alive the broker imposes instead of the one the client asked for."},
	0x15: {"Authentication Method", mqttPropString, "Name of the extended authentication method in use, such as SCRAM-SHA-1."},
	0x16: {"Authentication Data", mqttPropBinary, "Bytes whose meaning the authentication method defines."},
	0x17: {"Request Problem Information", mqttPropByte, "Whether the client wants a Reason String and User Properties when something fails."},
	0x18: {"Will Delay Interval", mqttPropU32, "Seconds the broker waits after losing the client before it publishes the Will."},
	0x19: {"Request Response Information", mqttPropByte, "Whether the client asks the broker for Response Information in the CONNACK."},
	0x1A: {"Response Information", mqttPropString, "Starting point the broker suggests for building response topics."},
	0x1C: {"Server Reference", mqttPropString, "Another broker the client should use instead of this one."},
	0x1F: {"Reason String", mqttPropString, "Human-readable explanation of the reason code, meant for diagnostics."},
	0x21: {"Receive Maximum", mqttPropU16, "How many QoS 1 and 2 messages the sender of this packet is ready to have unacknowledged at once."},
	0x22: {"Topic Alias Maximum", mqttPropU16, "Highest Topic Alias the sender of this packet accepts; 0 means none."},
	0x23: {"Topic Alias", mqttPropU16, "Number standing in for the Topic Name, so later PUBLISH packets can leave the name out."},
	0x24: {"Maximum QoS", mqttPropByte, "Highest QoS the broker supports."},
	0x25: {"Retain Available", mqttPropByte, "Whether the broker supports retained messages."},
	0x26: {"User Property", mqttPropPair, "Name/value pair defined by the application; MQTT itself gives it no meaning."},
	0x27: {"Maximum Packet Size", mqttPropU32, "Largest packet in bytes the sender of this packet will accept."},
	0x28: {"Wildcard Subscription Available", mqttPropByte, "Whether the broker accepts topic filters with wildcards."},
	0x29: {"Subscription Identifier Available", mqttPropByte, "Whether the broker supports Subscription Identifiers."},
	0x2A: {"Shared Subscription Available", mqttPropByte, "Whether the broker supports shared subscriptions."},
}

// mqttPropSections gives, per packet type (and mqttWill), the section of its
// properties and the identifiers it allows in the order the specification
// describes them, so that the n-th one is in subsection n+2.
var mqttPropSections = map[byte]struct {
	sec string
	ids []byte
}{
	mqttConnect:     {"3.1.2.11", []byte{0x11, 0x21, 0x27, 0x22, 0x19, 0x17, 0x26, 0x15, 0x16}},
	mqttWill:        {"3.1.3.2", []byte{0x18, 0x01, 0x02, 0x03, 0x08, 0x09, 0x26}},
	mqttConnack:     {"3.2.2.3", []byte{0x11, 0x21, 0x24, 0x25, 0x27, 0x12, 0x22, 0x1F, 0x26, 0x28, 0x29, 0x2A, 0x13, 0x1A, 0x1C, 0x15, 0x16}},
	mqttPublish:     {"3.3.2.3", []byte{0x01, 0x02, 0x23, 0x08, 0x09, 0x26, 0x0B, 0x03}},
	mqttPuback:      {"3.4.2.2", []byte{0x1F, 0x26}},
	mqttPubrec:      {"3.5.2.2", []byte{0x1F, 0x26}},
	mqttPubrel:      {"3.6.2.2", []byte{0x1F, 0x26}},
	mqttPubcomp:     {"3.7.2.2", []byte{0x1F, 0x26}},
	mqttSubscribe:   {"3.8.2.1", []byte{0x0B, 0x26}},
	mqttSuback:      {"3.9.2.1", []byte{0x1F, 0x26}},
	mqttUnsubscribe: {"3.10.2.1", []byte{0x26}},
	mqttUnsuback:    {"3.11.2.1", []byte{0x1F, 0x26}},
	mqttDisconnect:  {"3.14.2.2", []byte{0x11, 0x1F, 0x26, 0x1C}},
	mqttAuth:        {"3.15.2.2", []byte{0x15, 0x16, 0x1F, 0x26}},
}

// properties decodes an MQTT 5 property block: a Property Length, then
// identifier/value pairs. ctx is the packet type, or mqttWill.
func (d *mqttDecoder) properties(ctx byte, name string) {
	ps := mqttPropSections[ctx]
	sec := "MQTT 5.0 §" + ps.sec
	about := "MQTT 5 properties of this packet: their total length, then identifier/value pairs."
	if ctx == mqttWill {
		about = "MQTT 5 properties of the Will Message: their total length, then identifier/value pairs."
	}
	start := d.pos
	parent := d.add(field.Field{Name: name, Value: "(could not be decoded)", Start: start, End: start, About: about, Spec: sec})
	defer d.stretch(parent)
	plen, _, size := d.varint("Property Length", 1, sec+".1")
	d.add(field.Field{Name: "Property Length", Value: mqttVarintNote(plen, size), Start: start, End: d.pos, Depth: 1,
		About: "Number of bytes of properties that follow.", Spec: sec + ".1"})
	if d.end-d.pos < plen {
		left := d.end - d.pos
		d.p.Fields[parent].Value = fmt.Sprintf("(cut short: %d bytes announced, %d remain)", plen, left)
		d.p.Fields[parent].End = d.end
		d.fail("%s at offset %d announce %d bytes but only %d remain in the %s", name, start, plen, left, d.where())
	}
	d.p.Fields[parent].End = d.pos + plen

	outerEnd, outerScope := d.end, d.scope
	d.end, d.scope = d.pos+plen, name
	seen := map[byte]bool{}
	count := 0
	for ; d.pos < d.end; count++ {
		d.property(ctx, ps.ids, ps.sec, seen)
	}
	d.end, d.scope = outerEnd, outerScope
	switch count {
	case 0:
		d.p.Fields[parent].Value = "none"
	case 1:
		d.p.Fields[parent].Value = "1 property"
	default:
		d.p.Fields[parent].Value = fmt.Sprintf("%d properties", count)
	}
}

// stretch makes field i span every field added after it (its parts), so a
// parent still covers its parts when decoding stopped half-way through it.
func (d *mqttDecoder) stretch(i int) {
	for _, f := range d.p.Fields[i+1:] {
		d.p.Fields[i].End = max(d.p.Fields[i].End, f.End)
	}
}

// property decodes one property at depth 1, its parts at depth 2.
func (d *mqttDecoder) property(ctx byte, allowed []byte, base string, seen map[byte]bool) {
	start := d.pos
	id := d.b[d.pos]
	def, known := mqttProps[id]
	if !known {
		d.add(field.Field{Name: "Unknown property", Value: fmt.Sprintf("identifier 0x%02X", id), Start: start, End: start + 1, Depth: 1,
			About: "An identifier MQTT 5 does not define, so the length of its value cannot be known.",
			Spec:  "MQTT 5.0 §2.2.2.2"})
		d.fail("unknown property identifier 0x%02X at offset %d", id, start)
	}
	sec := "MQTT 5.0 §2.2.2.2"
	okHere := false
	for i, a := range allowed {
		if a == id {
			sec = fmt.Sprintf("MQTT 5.0 §%s.%d", base, i+2)
			okHere = true
		}
	}
	where := mqttTypeName(ctx&0x0f, 5)
	if ctx == mqttWill {
		where = "Will Properties"
	}
	if !okHere {
		d.violate("property %s (0x%02X) at offset %d is not allowed in %s", def.name, id, start, where)
	}
	if seen[id] && id != 0x26 && !(id == 0x0B && ctx == mqttPublish) {
		d.violate("property %s (0x%02X) at offset %d appears more than once in %s", def.name, id, start, where)
	}
	seen[id] = true

	parent := d.add(field.Field{Name: def.name, Value: "(could not be decoded)", Start: start, End: start + 1, Depth: 1, About: def.about, Spec: sec})
	defer d.stretch(parent)
	d.add(field.Field{Name: "Identifier", Value: fmt.Sprintf("0x%02X (%d)", id, id), Start: start, End: start + 1, Depth: 2,
		About: "Property identifier: says which property this is and so how its value is encoded.", Spec: "MQTT 5.0 §2.2.2.2"})
	d.pos++

	intVal := -1
	var value string
	switch def.kind {
	case mqttPropByte, mqttPropU16, mqttPropU32, mqttPropVarint:
		s := d.pos
		switch def.kind {
		case mqttPropByte:
			v, _ := d.u8(def.name, 2, sec)
			intVal = int(v)
		case mqttPropU16:
			v, _ := d.u16(def.name, 2, sec)
			intVal = int(v)
		case mqttPropU32:
			v, _ := d.u32(def.name, 2, sec)
			intVal = int(v)
		case mqttPropVarint:
			intVal, _, _ = d.varint(def.name, 2, sec)
		}
		value = mqttPropValue(id, intVal)
		d.add(field.Field{Name: "value", Value: value, Start: s, End: d.pos, Depth: 2, About: mqttPropKindAbout[def.kind], Spec: sec})
	case mqttPropString:
		v := d.strOpt(def.name, 2, false, def.about, sec)
		value = mqttQuote(v)
		if id == 0x15 {
			d.authMethod = v
		}
	case mqttPropBinary:
		value = mqttShowBytes(d.bin(def.name, 2, false, def.about, sec))
	case mqttPropPair:
		k := d.str("Name", 2, "Name half of the pair.", sec)
		v := d.str("Value", 2, "Value half of the pair.", sec)
		value = mqttQuote(k) + ": " + mqttQuote(v)
	}
	d.p.Fields[parent].Value = value
	d.p.Fields[parent].End = d.pos

	switch {
	case (id == 0x01 || id == 0x17 || id == 0x19 || id == 0x24 || id == 0x25 || id == 0x28 || id == 0x29 || id == 0x2A) && intVal > 1:
		d.violate("property %s at offset %d must be 0 or 1, not %d", def.name, start, intVal)
	case (id == 0x0B || id == 0x21 || id == 0x23 || id == 0x27) && intVal == 0:
		d.violate("property %s at offset %d must not be 0", def.name, start)
	}
	if id == 0x23 && ctx == mqttPublish {
		d.alias = uint16(intVal)
	}
}

// mqttPropValue formats the value of an integer property.
func mqttPropValue(id byte, v int) string {
	switch id {
	case 0x01:
		switch v {
		case 0:
			return "0 (unspecified bytes)"
		case 1:
			return "1 (UTF-8 text)"
		}
	case 0x17, 0x19, 0x25, 0x28, 0x29, 0x2A:
		switch v {
		case 0:
			return "0 (no)"
		case 1:
			return "1 (yes)"
		}
	case 0x11:
		switch v {
		case 0:
			return "0 (session ends with the connection)"
		case 0xFFFFFFFF:
			return "4294967295 (session never expires)"
		}
		return fmt.Sprintf("%d seconds", v)
	case 0x02, 0x13, 0x18:
		return fmt.Sprintf("%d seconds", v)
	case 0x27:
		return fmt.Sprintf("%d bytes", v)
	}
	return fmt.Sprintf("%d", v)
}

// summary builds the one-line description from what was decoded.
func (d *mqttDecoder) summary() string {
	var b strings.Builder
	b.WriteString(d.p.Type)
	w := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	switch d.typ {
	case mqttConnect:
		if d.hasClient {
			w(" client %s", mqttQuote(d.p.ClientID))
		}
		if d.hasUser {
			w(" user %s", mqttQuote(d.p.Username))
		}
		if d.hasWill {
			w(" will %s", mqttQuote(d.willTopic))
		}
		w(" %s", map[byte]string{3: "v3.1", 4: "v3.1.1", 5: "v5"}[d.ver])
		if d.hasKeep {
			w(" keepalive %d", d.keepAlive)
		}
	case mqttConnack:
		if d.hasReason {
			if d.ver == 5 {
				name, _ := mqttReasonName(d.p.ReasonCode, d.typ)
				w(" %s", name)
			} else if int(d.p.ReasonCode) < len(mqttConnackCodes311) {
				w(" %s", mqttConnackCodes311[d.p.ReasonCode])
			} else {
				w(" Reserved (%d)", d.p.ReasonCode)
			}
		}
		if d.sessPres {
			w(" session-present")
		}
	case mqttPublish:
		if d.hasTopic {
			w(" %s", mqttQuote(d.p.Topic))
		}
		if d.alias != 0 {
			w(" alias=%d", d.alias)
		}
		w(" qos%d", d.qos)
		if d.hasPID {
			w(" id=%d", d.p.PacketID)
		}
		if d.flags&8 != 0 {
			w(" dup")
		}
		if d.flags&1 != 0 {
			w(" retain")
		}
		if d.hasPayload {
			w(" (%d byte%s)", len(d.p.Payload), mqttPlural(len(d.p.Payload)))
		}
	case mqttPuback, mqttPubrec, mqttPubrel, mqttPubcomp, mqttSubscribe, mqttSuback, mqttUnsubscribe, mqttUnsuback:
		if d.hasPID {
			w(" id=%d", d.p.PacketID)
		}
		if d.ver == 5 && d.hasReason {
			name, _ := mqttReasonName(d.p.ReasonCode, d.typ)
			w(" %s", name)
		}
		if len(d.codes) > 0 {
			w(" %s", strings.Join(d.codes, ", "))
		}
	case mqttDisconnect, mqttAuth:
		if d.ver == 5 && d.hasReason {
			name, _ := mqttReasonName(d.p.ReasonCode, d.typ)
			w(" %s", name)
		}
		if d.authMethod != "" {
			w(" method %s", mqttQuote(d.authMethod))
		}
	}
	if d.p.Err != nil {
		b.WriteString(" (malformed)")
	}
	return b.String()
}

// ReasonName names an MQTT 5.0 reason code (MQTT 5.0 §2.4), for messages
// about CONNACK, PUBACK, SUBACK and similar acknowledgements.
func ReasonName(code byte) string {
	if _, ok := mqttReasons[code]; !ok {
		return fmt.Sprintf("unknown reason code 0x%02x", code)
	}
	name, _ := mqttReasonName(code, mqttConnack)
	return name
}
