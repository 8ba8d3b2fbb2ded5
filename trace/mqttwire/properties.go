package mqttwire

import (
	"fmt"

	"github.com/mqtts-playground/playground/trace/field"
)

// MQTT 5 property value types (§2.2.2.2).
const (
	propByte = iota
	propU16
	propU32
	propVarint
	propString
	propBinary
	propPair
)

var propKindAbout = [...]string{
	propByte:   "One byte.",
	propU16:    "Two-byte big-endian integer.",
	propU32:    "Four-byte big-endian integer.",
	propVarint: "Variable byte integer, 7 bits per byte.",
}

type propDef struct {
	name  string
	kind  int
	about string
	rule  propRule // what the value must be, beyond its encoding
}

// propRule is a constraint MQTT 5.0 puts on an integer property's value.
type propRule int

const (
	anyValue  propRule = iota
	zeroOrOne          // a yes/no property: 0 or 1
	nonZero            // 0 is a protocol error
)

var props = map[byte]propDef{
	0x01: {"Payload Format Indicator", propByte, "Says whether the payload is UTF-8 text (1) or bytes of no stated format (0).", zeroOrOne},
	0x02: {"Message Expiry Interval", propU32, "Seconds the message stays deliverable; after that the broker drops it.", anyValue},
	0x03: {"Content Type", propString, "Free-form description of the payload's content, such as a MIME type.", anyValue},
	0x08: {"Response Topic", propString, "Topic the receiver should publish its reply to, for request/response.", anyValue},
	0x09: {"Correlation Data", propBinary, "Bytes the requester uses to match a reply with its request.", anyValue},
	0x0B: {"Subscription Identifier", propVarint, "Number tagging a subscription; messages delivered for it carry the number back.", nonZero},
	0x11: {"Session Expiry Interval", propU32, "Seconds the session outlives the connection before the broker forgets it.", anyValue},
	0x12: {"Assigned Client Identifier", propString, "Client Identifier the broker picked because the client sent an empty one.", anyValue},
	0x13: {"Server Keep Alive", propU16, "Keep Alive the broker imposes instead of the one the client asked for.", anyValue},
	0x15: {"Authentication Method", propString, "Name of the extended authentication method in use, such as SCRAM-SHA-1.", anyValue},
	0x16: {"Authentication Data", propBinary, "Bytes whose meaning the authentication method defines.", anyValue},
	0x17: {"Request Problem Information", propByte, "Whether the client wants a Reason String and User Properties when something fails.", zeroOrOne},
	0x18: {"Will Delay Interval", propU32, "Seconds the broker waits after losing the client before it publishes the Will.", anyValue},
	0x19: {"Request Response Information", propByte, "Whether the client asks the broker for Response Information in the CONNACK.", zeroOrOne},
	0x1A: {"Response Information", propString, "Starting point the broker suggests for building response topics.", anyValue},
	0x1C: {"Server Reference", propString, "Another broker the client should use instead of this one.", anyValue},
	0x1F: {"Reason String", propString, "Human-readable explanation of the reason code, meant for diagnostics.", anyValue},
	0x21: {"Receive Maximum", propU16, "How many QoS 1 and 2 messages the sender of this packet is ready to have unacknowledged at once.", nonZero},
	0x22: {"Topic Alias Maximum", propU16, "Highest Topic Alias the sender of this packet accepts; 0 means none.", anyValue},
	0x23: {"Topic Alias", propU16, "Number standing in for the Topic Name, so later PUBLISH packets can leave the name out.", nonZero},
	0x24: {"Maximum QoS", propByte, "Highest QoS the broker supports.", zeroOrOne},
	0x25: {"Retain Available", propByte, "Whether the broker supports retained messages.", zeroOrOne},
	0x26: {"User Property", propPair, "Name/value pair defined by the application; MQTT itself gives it no meaning.", anyValue},
	0x27: {"Maximum Packet Size", propU32, "Largest packet in bytes the sender of this packet will accept.", nonZero},
	0x28: {"Wildcard Subscription Available", propByte, "Whether the broker accepts topic filters with wildcards.", zeroOrOne},
	0x29: {"Subscription Identifier Available", propByte, "Whether the broker supports Subscription Identifiers.", zeroOrOne},
	0x2A: {"Shared Subscription Available", propByte, "Whether the broker supports shared subscriptions.", zeroOrOne},
}

// propSections gives, per packet type (and typeWill), the section of its
// properties and the identifiers it allows in the order the specification
// describes them, so that the n-th one is in subsection n+2.
var propSections = map[byte]struct {
	sec string
	ids []byte
}{
	TypeConnect:     {"3.1.2.11", []byte{0x11, 0x21, 0x27, 0x22, 0x19, 0x17, 0x26, 0x15, 0x16}},
	typeWill:        {"3.1.3.2", []byte{0x18, 0x01, 0x02, 0x03, 0x08, 0x09, 0x26}},
	TypeConnack:     {"3.2.2.3", []byte{0x11, 0x21, 0x24, 0x25, 0x27, 0x12, 0x22, 0x1F, 0x26, 0x28, 0x29, 0x2A, 0x13, 0x1A, 0x1C, 0x15, 0x16}},
	TypePublish:     {"3.3.2.3", []byte{0x01, 0x02, 0x23, 0x08, 0x09, 0x26, 0x0B, 0x03}},
	TypePuback:      {"3.4.2.2", []byte{0x1F, 0x26}},
	TypePubrec:      {"3.5.2.2", []byte{0x1F, 0x26}},
	TypePubrel:      {"3.6.2.2", []byte{0x1F, 0x26}},
	TypePubcomp:     {"3.7.2.2", []byte{0x1F, 0x26}},
	TypeSubscribe:   {"3.8.2.1", []byte{0x0B, 0x26}},
	TypeSuback:      {"3.9.2.1", []byte{0x1F, 0x26}},
	TypeUnsubscribe: {"3.10.2.1", []byte{0x26}},
	TypeUnsuback:    {"3.11.2.1", []byte{0x1F, 0x26}},
	TypeDisconnect:  {"3.14.2.2", []byte{0x11, 0x1F, 0x26, 0x1C}},
	TypeAuth:        {"3.15.2.2", []byte{0x15, 0x16, 0x1F, 0x26}},
}

// properties decodes an MQTT 5 property block named name: a Property
// Length, then identifier/value pairs. ctx is the packet type, or typeWill.
func (d *decoder) properties(ctx byte, name string) bool {
	ps := propSections[ctx]
	sec := "MQTT 5.0 §" + ps.sec
	about := "MQTT 5 properties of this packet: their total length, then identifier/value pairs."
	if ctx == typeWill {
		about = "MQTT 5 properties of the Will Message: their total length, then identifier/value pairs."
	}
	start := d.pos
	parent := d.add(field.Field{Name: name, Value: "(could not be decoded)", Start: start, End: start, About: about, Spec: sec})
	defer d.stretch(parent)
	length := field.Field{Name: "Property Length", Depth: 1, About: "Number of bytes of properties that follow.", Spec: sec + ".1"}
	plen, _, size, ok := d.varint(length)
	if !ok {
		return false
	}
	d.put(length, start, d.pos, varintNote(plen, size))
	if left := d.end - d.pos; left < plen {
		d.p.Fields[parent].Value = fmt.Sprintf("(cut short: %d bytes announced, %d remain)", plen, left)
		d.p.Fields[parent].End = d.end
		return d.fail("%s at offset %d announce %d bytes but only %d remain in the %s", name, start, plen, left, d.where())
	}
	d.p.Fields[parent].End = d.pos + plen

	outerEnd, outerScope := d.end, d.scope
	d.end, d.scope = d.pos+plen, name
	seen := map[byte]bool{}
	count := 0
	for ; d.pos < d.end; count++ {
		if !d.property(ctx, seen) {
			return false
		}
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
	return true
}

// stretch makes field i span every field added after it (its parts), so a
// parent still covers its parts when decoding stopped half-way through it.
func (d *decoder) stretch(i int) {
	for _, f := range d.p.Fields[i+1:] {
		d.p.Fields[i].End = max(d.p.Fields[i].End, f.End)
	}
}

// property decodes one property of a block of ctx at depth 1, its parts at
// depth 2; seen holds the identifiers the block had so far.
func (d *decoder) property(ctx byte, seen map[byte]bool) bool {
	start := d.pos
	id := d.b[d.pos]
	def, known := props[id]
	if !known {
		d.add(field.Field{Name: "Unknown property", Value: fmt.Sprintf("identifier 0x%02X", id), Start: start, End: start + 1, Depth: 1,
			About: "An identifier MQTT 5 does not define, so the length of its value cannot be known.",
			Spec:  "MQTT 5.0 §2.2.2.2"})
		return d.fail("unknown property identifier 0x%02X at offset %d", id, start)
	}
	sec := d.checkProperty(ctx, id, def, seen)
	parent := d.add(field.Field{Name: def.name, Value: "(could not be decoded)", Start: start, End: start + 1, Depth: 1, About: def.about, Spec: sec})
	defer d.stretch(parent)
	d.add(field.Field{Name: "Identifier", Value: fmt.Sprintf("0x%02X (%d)", id, id), Start: start, End: start + 1, Depth: 2,
		About: "Property identifier: says which property this is and so how its value is encoded.", Spec: "MQTT 5.0 §2.2.2.2"})
	d.pos++

	value, n, ok := d.propertyValue(id, def, sec)
	if !ok {
		return false
	}
	d.p.Fields[parent].Value = value
	d.p.Fields[parent].End = d.pos
	switch {
	case def.rule == zeroOrOne && n > 1:
		d.violate("property %s at offset %d must be 0 or 1, not %d", def.name, start, n)
	case def.rule == nonZero && n == 0:
		d.violate("property %s at offset %d must not be 0", def.name, start)
	}
	if id == 0x23 && ctx == TypePublish {
		d.alias = uint16(n)
	}
	return true
}

// checkProperty flags property id where ctx does not allow it, or allows
// it only once, and returns the section that defines it there.
func (d *decoder) checkProperty(ctx, id byte, def propDef, seen map[byte]bool) string {
	start := d.pos
	ps := propSections[ctx]
	sec := "MQTT 5.0 §2.2.2.2"
	okHere := false
	for i, a := range ps.ids {
		if a == id {
			sec = fmt.Sprintf("MQTT 5.0 §%s.%d", ps.sec, i+2)
			okHere = true
		}
	}
	where := typeName(ctx&0x0f, 5)
	if ctx == typeWill {
		where = "Will Properties"
	}
	if !okHere {
		d.violate("property %s (0x%02X) at offset %d is not allowed in %s", def.name, id, start, where)
	}
	if seen[id] && id != 0x26 && !(id == 0x0B && ctx == TypePublish) {
		d.violate("property %s (0x%02X) at offset %d appears more than once in %s", def.name, id, start, where)
	}
	seen[id] = true
	return sec
}

// propertyValue reads the value of property id and returns it formatted,
// and as a number for integer properties (-1 for the others).
func (d *decoder) propertyValue(id byte, def propDef, sec string) (string, int, bool) {
	f := field.Field{Name: def.name, Depth: 2, About: def.about, Spec: sec}
	switch def.kind {
	case propString:
		v, ok := d.strParts(f)
		if id == 0x15 && ok {
			d.authMethod = v
		}
		return quote(v), -1, ok
	case propBinary:
		v, ok := d.bin(f, false)
		return showBytes(v), -1, ok
	case propPair:
		k, ok := d.str(field.Field{Name: "Name", Depth: 2, About: "Name half of the pair.", Spec: sec})
		if !ok {
			return "", -1, false
		}
		v, ok := d.str(field.Field{Name: "Value", Depth: 2, About: "Value half of the pair.", Spec: sec})
		return quote(k) + ": " + quote(v), -1, ok
	}
	s := d.pos
	var n int
	var ok bool
	switch def.kind {
	case propByte:
		var v byte
		v, _, ok = d.u8(f)
		n = int(v)
	case propU16:
		var v uint16
		v, _, ok = d.u16(f)
		n = int(v)
	case propU32:
		var v uint32
		v, _, ok = d.u32(f)
		n = int(v)
	case propVarint:
		n, _, _, ok = d.varint(f)
	}
	if !ok {
		return "", -1, false
	}
	value := propValue(id, n)
	d.add(field.Field{Name: "value", Value: value, Start: s, End: d.pos, Depth: 2, About: propKindAbout[def.kind], Spec: sec})
	return value, n, true
}

// propValue formats the value of an integer property.
func propValue(id byte, v int) string {
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
