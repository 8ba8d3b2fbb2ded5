package mqttwire

import (
	"fmt"

	"github.com/mqtts-playground/playground/trace/field"
)

// reason describes an MQTT 5 reason code: its name, and the packet types
// that may carry it (a bit per type).
type reason struct {
	name    string
	packets uint16
}

func carriedBy(types ...byte) uint16 {
	var m uint16
	for _, t := range types {
		m |= 1 << t
	}
	return m
}

var (
	commonErr = carriedBy(TypeConnack, TypePuback, TypePubrec, TypeSuback, TypeUnsuback, TypeDisconnect)
	connDisc  = carriedBy(TypeConnack, TypeDisconnect)

	// reasons lists the MQTT 5.0 reason codes (§2.4); 0x00 is named per
	// packet type by reasonName.
	reasons = map[byte]reason{
		0x00: {"Success", carriedBy(TypeConnack, TypePuback, TypePubrec, TypePubrel, TypePubcomp, TypeSuback, TypeUnsuback, TypeDisconnect, TypeAuth)},
		0x01: {"Granted QoS 1", carriedBy(TypeSuback)},
		0x02: {"Granted QoS 2", carriedBy(TypeSuback)},
		0x04: {"Disconnect with Will Message", carriedBy(TypeDisconnect)},
		0x10: {"No matching subscribers", carriedBy(TypePuback, TypePubrec)},
		0x11: {"No subscription existed", carriedBy(TypeUnsuback)},
		0x18: {"Continue authentication", carriedBy(TypeAuth)},
		0x19: {"Re-authenticate", carriedBy(TypeAuth)},
		0x80: {"Unspecified error", commonErr},
		0x81: {"Malformed Packet", connDisc},
		0x82: {"Protocol Error", connDisc},
		0x83: {"Implementation specific error", commonErr},
		0x84: {"Unsupported Protocol Version", carriedBy(TypeConnack)},
		0x85: {"Client Identifier not valid", carriedBy(TypeConnack)},
		0x86: {"Bad User Name or Password", carriedBy(TypeConnack)},
		0x87: {"Not authorized", commonErr},
		0x88: {"Server unavailable", carriedBy(TypeConnack)},
		0x89: {"Server busy", connDisc},
		0x8A: {"Banned", carriedBy(TypeConnack)},
		0x8B: {"Server shutting down", carriedBy(TypeDisconnect)},
		0x8C: {"Bad authentication method", connDisc},
		0x8D: {"Keep Alive timeout", carriedBy(TypeDisconnect)},
		0x8E: {"Session taken over", carriedBy(TypeDisconnect)},
		0x8F: {"Topic Filter invalid", carriedBy(TypeSuback, TypeUnsuback, TypeDisconnect)},
		0x90: {"Topic Name invalid", carriedBy(TypeConnack, TypePuback, TypePubrec, TypeDisconnect)},
		0x91: {"Packet Identifier in use", carriedBy(TypePuback, TypePubrec, TypeSuback, TypeUnsuback)},
		0x92: {"Packet Identifier not found", carriedBy(TypePubrel, TypePubcomp)},
		0x93: {"Receive Maximum exceeded", carriedBy(TypeDisconnect)},
		0x94: {"Topic Alias invalid", carriedBy(TypeDisconnect)},
		0x95: {"Packet too large", connDisc},
		0x96: {"Message rate too high", carriedBy(TypeDisconnect)},
		0x97: {"Quota exceeded", carriedBy(TypeConnack, TypePuback, TypePubrec, TypeSuback, TypeDisconnect)},
		0x98: {"Administrative action", carriedBy(TypeDisconnect)},
		0x99: {"Payload format invalid", carriedBy(TypeConnack, TypePuback, TypePubrec, TypeDisconnect)},
		0x9A: {"Retain not supported", connDisc},
		0x9B: {"QoS not supported", connDisc},
		0x9C: {"Use another server", connDisc},
		0x9D: {"Server moved", connDisc},
		0x9E: {"Shared Subscriptions not supported", carriedBy(TypeSuback, TypeDisconnect)},
		0x9F: {"Connection rate exceeded", connDisc},
		0xA0: {"Maximum connect time", carriedBy(TypeDisconnect)},
		0xA1: {"Subscription Identifiers not supported", carriedBy(TypeSuback, TypeDisconnect)},
		0xA2: {"Wildcard Subscriptions not supported", carriedBy(TypeSuback, TypeDisconnect)},
	}
)

// reasonName names an MQTT 5 reason code as packet type t uses it, and
// says whether t may carry it.
func reasonName(code, t byte) (string, bool) {
	r, ok := reasons[code]
	if !ok {
		return "Unknown", false
	}
	if code == 0 {
		switch t {
		case TypeSuback:
			return "Granted QoS 0", true
		case TypeDisconnect:
			return "Normal disconnection", true
		}
	}
	return r.name, r.packets&(1<<t) != 0
}

// reasonField adds a field for an MQTT 5 reason code and returns its name.
func (d *decoder) reasonField(code byte, at int, about, sec5 string) string {
	name, ok := reasonName(code, d.typ)
	v := fmt.Sprintf("0x%02X %s", code, name)
	if !ok {
		v += fmt.Sprintf(" (not valid in %s)", d.p.Type)
		id := ""
		if d.typ == TypeConnack {
			id = " [MQTT-3.2.2-8]"
		}
		d.violate("reason code 0x%02X at offset %d is not valid in %s%s", code, at, d.p.Type, id)
	}
	d.add(field.Field{Name: "Reason Code", Value: v, Start: at, End: at + 1, About: about, Spec: "MQTT 5.0 §" + sec5})
	return name
}

// ReasonName names an MQTT 5.0 reason code (MQTT 5.0 §2.4), for messages
// about CONNACK, PUBACK, SUBACK and similar acknowledgements.
func ReasonName(code byte) string {
	if _, ok := reasons[code]; !ok {
		return fmt.Sprintf("unknown reason code 0x%02x", code)
	}
	name, _ := reasonName(code, TypeConnack)
	return name
}
