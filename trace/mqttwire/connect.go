package mqttwire

import (
	"fmt"

	"github.com/mqtts-playground/playground/trace/field"
)

// connectFlags are the bits of a CONNECT's Connect Flags byte (MQTT 3.1.1
// §3.1.2.3).
type connectFlags struct {
	user, pass, willRetain, willQoS, will, clean, reserved byte
}

// connect decodes a CONNECT (MQTT 3.1.1 §3.1, MQTT 5.0 §3.1).
func (d *decoder) connect() bool {
	if !d.protocol() {
		return false
	}
	fl, ok := d.connectFlags()
	if !ok || !d.keepAliveField() {
		return false
	}
	if d.ver == 5 && !d.properties(TypeConnect, "Properties") {
		return false
	}
	return d.connectPayload(fl)
}

// protocol reads the Protocol Name and Level, which set how the rest of
// the packet reads.
func (d *decoder) protocol() bool {
	pname, ok := d.str(field.Field{Name: "Protocol Name",
		About: `Fixed string that marks the start of an MQTT connection: "MQTT" ("MQIsdp" in MQTT 3.1).`,
		Spec:  d.sec("3.1.2.1", "3.1.2.1")})
	if !ok {
		return false
	}
	level := field.Field{Name: "Protocol Level",
		About: "Revision of MQTT the client speaks: 3 is 3.1, 4 is 3.1.1, 5 is 5.0.",
		Spec:  d.sec("3.1.2.2", "3.1.2.2")}
	if d.ver == 5 {
		level.Name = "Protocol Version"
	}
	lvl, s, ok := d.u8(level)
	if !ok {
		return false
	}
	known := lvl >= 3 && lvl <= 5
	lv := fmt.Sprintf("%d (unknown)", lvl)
	if known {
		lv = fmt.Sprintf("%d (MQTT %s)", lvl, [...]string{3: "3.1", 4: "3.1.1", 5: "5.0"}[lvl])
	}
	d.put(level, s, s+1, lv)
	if !known {
		return d.fail("CONNECT at offset %d asks for protocol level %d, which this decoder does not know (3, 4 and 5 exist)%s",
			s, lvl, d.rule("3.1.2-2", "3.1.2-2"))
	}
	wantName := "MQTT"
	if lvl == 3 {
		wantName = "MQIsdp"
	}
	if pname != wantName {
		d.violate("CONNECT protocol name is %q but level %d uses %q%s", pname, lvl, wantName, d.rule("3.1.2-1", "3.1.2-1"))
	}
	return true
}

// connectFlags reads the Connect Flags byte, a field for each flag, and
// checks their combination.
func (d *decoder) connectFlags() (connectFlags, bool) {
	flags := field.Field{Name: "Connect Flags",
		About: "Bit flags saying which optional fields the payload holds and how the session starts.",
		Spec:  d.sec("3.1.2.3", "3.1.2.3")}
	b, s, ok := d.u8(flags)
	if !ok {
		return connectFlags{}, false
	}
	d.put(flags, s, s+1, fmt.Sprintf("0b%08b", b))
	fl := connectFlags{user: b >> 7 & 1, pass: b >> 6 & 1, willRetain: b >> 5 & 1, willQoS: b >> 3 & 3, will: b >> 2 & 1, clean: b >> 1 & 1, reserved: b & 1}
	clean := field.Field{Name: "Clean Session", Value: onOff(fl.clean), Spec: d.sec("3.1.2.4", ""),
		About: "Bit 1: set to start a fresh session that is discarded when the connection ends."}
	if d.ver == 5 {
		clean = field.Field{Name: "Clean Start", Value: onOff(fl.clean), Spec: d.sec("", "3.1.2.4"),
			About: "Bit 1: set to throw away any session the broker kept for this client and start afresh."}
	}
	d.bits(s,
		field.Field{Name: "User Name Flag", Value: onOff(fl.user), Spec: d.sec("3.1.2.8", "3.1.2.8"),
			About: "Bit 7: set when the payload carries a User Name."},
		field.Field{Name: "Password Flag", Value: onOff(fl.pass), Spec: d.sec("3.1.2.9", "3.1.2.9"),
			About: "Bit 6: set when the payload carries a Password."},
		field.Field{Name: "Will Retain", Value: onOff(fl.willRetain), Spec: d.sec("3.1.2.7", "3.1.2.7"),
			About: "Bit 5: set when the Will Message is to be published as a retained message."},
		field.Field{Name: "Will QoS", Value: qosNames[fl.willQoS], Spec: d.sec("3.1.2.6", "3.1.2.6"),
			About: "Bits 4-3: the QoS the broker uses when it publishes the Will Message."},
		field.Field{Name: "Will Flag", Value: onOff(fl.will), Spec: d.sec("3.1.2.5", "3.1.2.5"),
			About: "Bit 2: set when the client leaves a Will, a message the broker publishes if the client vanishes without a DISCONNECT."},
		clean,
		field.Field{Name: "Reserved", Value: fmt.Sprintf("%d", fl.reserved), Spec: d.sec("3.1.2.3", "3.1.2.3"),
			About: "Bit 0 is reserved and must be 0."})
	d.checkConnectFlags(fl, s)
	return fl, true
}

// checkConnectFlags flags the first rule the Connect Flags at offset s
// break.
func (d *decoder) checkConnectFlags(fl connectFlags, s int) {
	switch {
	case fl.reserved != 0:
		d.violate("CONNECT flags at offset %d have the reserved bit 0 set%s", s, d.rule("3.1.2-3", "3.1.2-3"))
	case fl.will == 0 && fl.willQoS != 0:
		d.violate("CONNECT flags at offset %d set Will QoS %d without the Will Flag%s", s, fl.willQoS, d.rule("3.1.2-13", "3.1.2-11"))
	case fl.will == 1 && fl.willQoS == 3:
		d.violate("CONNECT flags at offset %d set Will QoS 3, which does not exist%s", s, d.rule("3.1.2-14", "3.1.2-12"))
	case fl.will == 0 && fl.willRetain != 0:
		d.violate("CONNECT flags at offset %d set Will Retain without the Will Flag%s", s, d.rule("3.1.2-15", "3.1.2-13"))
	case d.ver != 5 && fl.user == 0 && fl.pass == 1:
		d.violate("CONNECT flags at offset %d set the Password Flag without the User Name Flag%s", s, d.rule("3.1.2-22", ""))
	}
}

func (d *decoder) keepAliveField() bool {
	f := field.Field{Name: "Keep Alive",
		About: "Longest silence in seconds the client promises between its packets; with nothing to send it sends PINGREQ.",
		Spec:  d.sec("3.1.2.10", "3.1.2.10")}
	ka, s, ok := d.u16(f)
	if !ok {
		return false
	}
	kv := fmt.Sprintf("%d seconds", ka)
	if ka == 0 {
		kv = "0 (keep alive off)"
	}
	d.put(f, s, s+2, kv)
	d.keepAlive, d.hasKeep = ka, true
	return true
}

// connectPayload reads what the flags say the payload holds: the Client
// Identifier, then the Will, User Name and Password.
func (d *decoder) connectPayload(fl connectFlags) bool {
	var ok bool
	d.p.ClientID, ok = d.str(field.Field{Name: "Client Identifier",
		About: "Name of this client; the broker keeps the client's session under it.", Spec: d.sec("3.1.3.1", "3.1.3.1")})
	if !ok {
		return false
	}
	d.hasClient = true
	if fl.will == 1 && !d.will() {
		return false
	}
	if fl.user == 1 {
		if d.p.Username, ok = d.str(field.Field{Name: "User Name",
			About: "Name the broker can use to authenticate the client.", Spec: d.sec("3.1.3.4", "3.1.3.5")}); !ok {
			return false
		}
		d.hasUser = true
	}
	if fl.pass == 1 {
		pass, ok := d.bin(field.Field{Name: "Password",
			About: "Secret that authenticates the client; MQTT does not hide it, so without TLS anyone on the path can read it.",
			Spec:  d.sec("3.1.3.5", "3.1.3.6")}, true)
		if !ok {
			return false
		}
		d.p.Password = pass
	}
	return true
}

// will reads the Will Properties, Topic and Payload of a CONNECT.
func (d *decoder) will() bool {
	d.hasWill = true
	if d.ver == 5 && !d.properties(typeWill, "Will Properties") {
		return false
	}
	var ok bool
	if d.willTopic, ok = d.str(field.Field{Name: "Will Topic",
		About: "Topic the Will Message is published to if the client disappears.", Spec: d.sec("3.1.3.2", "3.1.3.3")}); !ok {
		return false
	}
	payload := field.Field{Name: "Will Message", About: "Content of the Will Message.", Spec: d.sec("3.1.3.3", "")}
	if d.ver == 5 {
		payload.Name, payload.Spec = "Will Payload", d.sec("", "3.1.3.4")
	}
	_, ok = d.bin(payload, true)
	return ok
}
