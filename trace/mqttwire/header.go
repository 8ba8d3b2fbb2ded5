package mqttwire

import (
	"fmt"

	"github.com/mqtts-playground/playground/trace/field"
)

// decode decodes the packet whose fixed header announced rl bytes after a
// vlen-byte remaining length.
func (d *decoder) decode(vlen, rl int) {
	if d.typ == TypeConnect {
		d.peekLevel(1 + vlen)
	}
	d.p.Version = d.ver
	d.p.Type = typeName(d.typ, d.ver)
	if d.fixedHeader(vlen, rl) && d.body() {
		d.end, d.scope = len(d.b), ""
		d.unexpected()
	}
	d.undecoded()
	d.p.Version = d.ver
	d.p.Type = typeName(d.typ, d.ver)
	d.p.Summary = d.summary()
}

// unexpected flags the bytes left after the last field a well-formed body
// can hold.
func (d *decoder) unexpected() {
	n := len(d.b) - d.pos
	if n <= 0 {
		return
	}
	d.add(field.Field{Name: "Unexpected bytes", Value: fmt.Sprintf("%d byte%s", n, plural(n)),
		Start: d.pos, End: len(d.b), About: "Bytes left over after the last field this packet can hold.",
		Spec: d.packetSec()})
	d.violate("%s has %d unexpected byte%s at offset %d after its last field", d.p.Type, n, plural(n), d.pos)
}

// undecoded marks, after an error, the bytes no field explains.
func (d *decoder) undecoded() {
	last := 0
	for _, f := range d.p.Fields {
		last = max(last, f.End)
	}
	if n := len(d.b) - last; n > 0 {
		d.add(field.Field{Name: "Undecoded", Value: fmt.Sprintf("%d byte%s", n, plural(n)),
			Start: last, End: len(d.b), About: "Bytes the decoder could not interpret after the error above.",
			Spec: d.packetSec()})
	}
}

// peekLevel looks ahead at a CONNECT's protocol level, so every field of the
// packet is explained for the version it carries.
func (d *decoder) peekLevel(at int) {
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

// packetSec cites the section about the whole packet type.
func (d *decoder) packetSec() string {
	if reserved(d.typ, d.ver) {
		return d.sec("2.2.1", "2.1.2")
	}
	s := packetSec311[d.typ]
	if d.typ == TypeAuth {
		s = "3.15"
	}
	return d.sec(s, s)
}

// fixedHeader annotates the fixed header (MQTT 3.1.1 §2.2, MQTT 5.0 §2.1)
// and checks its flags.
func (d *decoder) fixedHeader(vlen, rl int) bool {
	d.add(field.Field{Name: "Packet type", Value: fmt.Sprintf("%s (%d)", typeName(d.typ, d.ver), d.typ), Start: 0, End: 1,
		About: "High 4 bits of the first byte: the packet type. " + capitalize(typeAbout[d.typ]) + ".",
		Spec:  d.sec("2.2.1", "2.1.2")})
	d.flagFields()
	d.add(field.Field{Name: "Remaining Length", Value: varintNote(rl, vlen), Start: 1, End: 1 + vlen,
		About: "How many bytes follow this field (variable header and payload), 7 bits per byte.",
		Spec:  d.sec("2.2.3", "2.1.4")})
	if vlen > varintLen(rl) && d.ver == 5 {
		d.violate("remaining length at offset 1 uses %d bytes where %d would do [MQTT-1.5.5-1]", vlen, varintLen(rl))
	}
	d.pos = 1 + vlen
	return d.checkFlags()
}

// wantFlags gives the fixed header flags of packet types other than
// PUBLISH, and the conformance IDs of the rule that sets them.
func (d *decoder) wantFlags() (want byte, id311, id5 string) {
	switch d.typ {
	case TypePubrel:
		return 2, "3.6.1-1", "3.6.1-1"
	case TypeSubscribe:
		return 2, "3.8.1-1", "3.8.1-1"
	case TypeUnsubscribe:
		return 2, "3.10.1-1", "3.10.1-1"
	}
	return 0, "2.2.2-1", "2.1.3-1"
}

// flagFields annotates the low 4 bits of the first byte.
func (d *decoder) flagFields() {
	f := d.flags
	flags := field.Field{Name: "Flags", Value: fmt.Sprintf("0b%04b", f), Start: 0, End: 1, Spec: d.sec("2.2.2", "2.1.3")}
	switch {
	case d.typ == TypePublish:
		d.qos = (f >> 1) & 3
		d.p.QoS = d.qos
		flags.About = "Low 4 bits of the first byte: for PUBLISH they hold DUP, QoS and RETAIN."
		d.add(flags)
		d.bits(0,
			field.Field{Name: "DUP", Value: onOff(f >> 3 & 1), Spec: d.sec("3.3.1.1", "3.3.1.1"),
				About: "Set when this PUBLISH is a resend of one that may not have been acknowledged."},
			field.Field{Name: "QoS", Value: qosNames[d.qos], Spec: d.sec("3.3.1.2", "3.3.1.2"),
				About: "Delivery guarantee: 0 at most once, 1 at least once, 2 exactly once."},
			field.Field{Name: "RETAIN", Value: onOff(f & 1), Spec: d.sec("3.3.1.3", "3.3.1.3"),
				About: "When set, the broker keeps this message and gives it to future subscribers of the topic."})
	case reserved(d.typ, d.ver):
		flags.About = "Low 4 bits of the first byte; a reserved packet type gives them no meaning."
		d.add(flags)
	default:
		want, _, _ := d.wantFlags()
		flags.Value += " (reserved)"
		if f != want {
			flags.Value = fmt.Sprintf("0b%04b (reserved, must be 0b%04b)", f, want)
		}
		flags.About = fmt.Sprintf("Low 4 bits of the first byte; %s gives them no meaning, so they must be 0b%04b.", typeName(d.typ, d.ver), want)
		d.add(flags)
	}
}

// checkFlags enforces the rules of the packet type and its flags; it fails
// when the body cannot be decoded at all.
func (d *decoder) checkFlags() bool {
	f := d.flags
	want, id311, id5 := d.wantFlags()
	switch {
	case reserved(d.typ, d.ver) && d.typ == TypeAuth:
		return d.fail("packet type 15 is reserved before MQTT 5.0")
	case reserved(d.typ, d.ver):
		return d.fail("packet type 0 is reserved")
	case d.typ == TypePublish && d.qos == 3:
		return d.fail("PUBLISH has both QoS bits set: QoS 3 does not exist%s", d.rule("3.3.1-4", "3.3.1-4"))
	case d.typ == TypePublish && d.qos == 0 && f&8 != 0:
		d.violate("PUBLISH with QoS 0 has the DUP flag set%s", d.rule("3.3.1-2", "3.3.1-2"))
	case d.typ != TypePublish && f != want:
		d.violate("%s fixed header flags are %s but must be 0b%04b%s", typeName(d.typ, d.ver), fmt.Sprintf("0b%04b", f), want, d.rule(id311, id5))
	}
	return true
}

// body decodes the variable header and payload of the packet.
func (d *decoder) body() bool {
	switch d.typ {
	case TypeConnect:
		return d.connect()
	case TypeConnack:
		return d.connack()
	case TypePublish:
		return d.publish()
	case TypePuback, TypePubrec, TypePubrel, TypePubcomp:
		return d.pubAck()
	case TypeSubscribe:
		return d.subscribe()
	case TypeSuback:
		return d.suback()
	case TypeUnsubscribe:
		return d.unsubscribe()
	case TypeUnsuback:
		return d.unsuback()
	case TypeDisconnect:
		return d.disconnect()
	case TypeAuth:
		return d.auth()
	}
	return true // PINGREQ, PINGRESP: no variable header and no payload
}

// packetID reads a Packet Identifier; zero is refused where the sender picks
// the identifier.
func (d *decoder) packetID(about, sec string, mustBeNonZero bool) bool {
	f := field.Field{Name: "Packet Identifier", About: about, Spec: sec}
	v, s, ok := d.u16(f)
	if !ok {
		return false
	}
	d.put(f, s, s+2, fmt.Sprintf("%d", v))
	d.p.PacketID, d.hasPID = v, true
	if mustBeNonZero && v == 0 {
		d.violate("%s Packet Identifier at offset %d is 0, which is not allowed%s", d.p.Type, s, d.rule("2.3.1-1", "2.2.1-3"))
	}
	return true
}
