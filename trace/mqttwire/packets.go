package mqttwire

import (
	"fmt"
	"strings"

	"github.com/mqtts-playground/playground/trace/field"
)

// connackCodes311 names the CONNACK return codes of MQTT 3.1.1.
var connackCodes311 = []string{
	"Connection Accepted",
	"Connection Refused: unacceptable protocol version",
	"Connection Refused: identifier rejected",
	"Connection Refused: server unavailable",
	"Connection Refused: bad user name or password",
	"Connection Refused: not authorized",
}

// connack decodes a CONNACK (MQTT 3.1.1 §3.2, MQTT 5.0 §3.2).
func (d *decoder) connack() bool {
	flags := field.Field{Name: "Connect Acknowledge Flags",
		About: "Byte of flags; only bit 0, Session Present, is in use.", Spec: d.sec("3.2.2.1", "3.2.2.1")}
	fl, s, ok := d.u8(flags)
	if !ok {
		return false
	}
	d.put(flags, s, s+1, fmt.Sprintf("0b%08b", fl))
	d.bits(s,
		field.Field{Name: "Reserved", Value: fmt.Sprintf("0b%07b", fl>>1), Spec: d.sec("3.2.2.1", "3.2.2.1"),
			About: "Bits 7-1 are reserved and must be 0."},
		field.Field{Name: "Session Present", Value: onOff(fl & 1), Spec: d.sec("3.2.2.2", "3.2.2.1.1"),
			About: "Set when the broker resumed a session it still held for this client; clear when the session is new."})
	d.sessPres = fl&1 == 1
	if fl&0xfe != 0 {
		d.violate("CONNACK acknowledge flags at offset %d have reserved bits set%s", s, d.rule("", "3.2.2-1"))
	}

	code := field.Field{Name: "Return Code",
		About: "Broker's verdict on the CONNECT: 0 accepts the connection, any other value refuses it.",
		Spec:  d.sec("3.2.2.3", "3.2.2.2")}
	if d.ver == 5 {
		code.Name = "Reason Code"
	}
	c, s, ok := d.u8(code)
	if !ok {
		return false
	}
	d.p.ReasonCode, d.hasReason = c, true
	if d.ver == 5 {
		d.reasonField(c, s, "Broker's verdict on the CONNECT: 0x00 accepts it; 0x80 and above refuse it and the broker then closes the connection.",
			"3.2.2.2")
	} else {
		name := fmt.Sprintf("Reserved (%d)", c)
		if int(c) < len(connackCodes311) {
			name = connackCodes311[c]
		}
		d.put(code, s, s+1, fmt.Sprintf("0x%02X %s", c, name))
	}
	if c != 0 && d.sessPres {
		d.violate("CONNACK refuses the connection but sets Session Present%s", d.rule("3.2.2-4", "3.2.2-6"))
	}
	return d.ver != 5 || d.properties(TypeConnack, "Properties")
}

// publish decodes a PUBLISH (MQTT 3.1.1 §3.3, MQTT 5.0 §3.3).
func (d *decoder) publish() bool {
	topicAt := d.pos
	var ok bool
	if d.p.Topic, ok = d.str(field.Field{Name: "Topic Name",
		About: "Topic the message is published to; every subscription whose filter matches it receives the message.",
		Spec:  d.sec("3.3.2.1", "3.3.2.1")}); !ok {
		return false
	}
	d.hasTopic = true
	if strings.ContainsAny(d.p.Topic, "+#") {
		d.violate("PUBLISH Topic Name at offset %d contains a wildcard character%s", topicAt, d.rule("3.3.2-2", "3.3.2-2"))
	}
	if d.ver != 5 && d.p.Topic == "" {
		d.violate("PUBLISH Topic Name at offset %d is empty%s", topicAt, d.rule("4.7.3-1", ""))
	}
	if d.qos > 0 && !d.packetID("Number the sender chose to pair this QoS 1 or 2 message with its acknowledgements.",
		d.sec("3.3.2.2", "3.3.2.2"), true) {
		return false
	}
	if d.ver == 5 {
		if !d.properties(TypePublish, "Properties") {
			return false
		}
		if d.p.Topic == "" && d.alias == 0 {
			d.violate("PUBLISH has an empty Topic Name and no Topic Alias")
		}
	}
	payload := d.b[d.pos:d.end]
	d.p.Payload = append([]byte{}, payload...)
	d.hasPayload = true
	d.add(field.Field{Name: "Payload", Value: showBytes(payload), Start: d.pos, End: d.end,
		About: "The application message itself; MQTT carries these bytes without looking into them.",
		Spec:  d.sec("3.3.3", "3.3.3")})
	d.pos = d.end
	return true
}

// pubAckAbout says what the Packet Identifier of PUBACK, PUBREC, PUBREL
// and PUBCOMP identifies.
var pubAckAbout = map[byte]string{
	TypePuback:  "Identifier of the QoS 1 PUBLISH this packet acknowledges.",
	TypePubrec:  "Identifier of the QoS 2 PUBLISH that has been received.",
	TypePubrel:  "Identifier of the QoS 2 PUBLISH whose delivery is released.",
	TypePubcomp: "Identifier of the QoS 2 exchange that is now complete.",
}

// pubAck decodes PUBACK, PUBREC, PUBREL and PUBCOMP, which share a layout
// (MQTT 3.1.1 §3.4 to §3.7, MQTT 5.0 §3.4 to §3.7).
func (d *decoder) pubAck() bool {
	vh := fmt.Sprintf("3.%d.2", d.typ) // sections 3.4 to 3.7
	if !d.packetID(pubAckAbout[d.typ], d.sec(vh, vh), false) {
		return false
	}
	if d.ver != 5 {
		return true
	}
	if d.pos == d.end {
		d.hasReason = true // omitted: 0x00 Success
		return true
	}
	code, s, ok := d.u8(field.Field{Name: "Reason Code", Spec: "MQTT 5.0 §" + vh + ".1"})
	if !ok {
		return false
	}
	d.p.ReasonCode, d.hasReason = code, true
	d.reasonField(code, s, "Outcome of this step of the delivery: below 0x80 it succeeded, 0x80 and above it failed.", vh+".1")
	return d.pos == d.end || d.properties(d.typ, "Properties")
}

// subscribe decodes a SUBSCRIBE (MQTT 3.1.1 §3.8, MQTT 5.0 §3.8).
func (d *decoder) subscribe() bool {
	if !d.packetID("Number the SUBACK will carry back, pairing it with this request.", d.sec("3.8.2", "3.8.2"), true) {
		return false
	}
	if d.ver == 5 && !d.properties(TypeSubscribe, "Properties") {
		return false
	}
	for d.pos < d.end {
		at := d.pos
		filter, ok := d.str(field.Field{Name: "Topic Filter",
			About: "Pattern of topics to subscribe to: '+' matches one level, '#' every level below.",
			Spec:  d.sec("3.8.3", "3.8.3")})
		if !ok {
			return false
		}
		if filter == "" {
			d.violate("SUBSCRIBE Topic Filter at offset %d is empty%s", at, d.rule("4.7.3-1", "4.7.3-1"))
		}
		read := d.requestedQoS
		if d.ver == 5 {
			read = d.subscriptionOptions
		}
		qos, ok := read(filter)
		if !ok {
			return false
		}
		d.codes = append(d.codes, fmt.Sprintf("%s qos%d", quote(filter), qos))
	}
	if len(d.codes) == 0 {
		d.violate("SUBSCRIBE has no topic filter%s", d.rule("3.8.3-3", "3.8.3-2"))
	}
	return true
}

// retainHandling names the Retain Handling values of MQTT 5.0 §3.8.3.1.
var retainHandling = [4]string{"0 (send retained messages at subscribe)", "1 (send retained messages only for a new subscription)",
	"2 (do not send retained messages)", "3 (invalid)"}

// subscriptionOptions reads the MQTT 5 Subscription Options of filter and
// returns the QoS they ask for.
func (d *decoder) subscriptionOptions(filter string) (byte, bool) {
	opts := field.Field{Name: "Subscription Options",
		About: "Byte with the QoS wanted for this filter and the MQTT 5 delivery options.",
		Spec:  d.sec("", "3.8.3.1")}
	o, s, ok := d.u8(opts)
	if !ok {
		return 0, false
	}
	qos := o & 3
	d.put(opts, s, s+1, fmt.Sprintf("0b%08b", o))
	rh := o >> 4 & 3
	d.bits(s,
		field.Field{Name: "Reserved", Value: fmt.Sprintf("0b%02b", o>>6), Spec: opts.Spec,
			About: "Bits 7-6 are reserved and must be 0."},
		field.Field{Name: "Retain Handling", Value: retainHandling[rh], Spec: opts.Spec,
			About: "Bits 5-4: whether the broker sends the topic's retained messages when this subscription is made."},
		field.Field{Name: "Retain As Published", Value: onOff(o >> 3 & 1), Spec: opts.Spec,
			About: "Bit 3: when set, forwarded messages keep the RETAIN flag they were published with."},
		field.Field{Name: "No Local", Value: onOff(o >> 2 & 1), Spec: opts.Spec,
			About: "Bit 2: when set, the client does not receive the messages it publishes itself."},
		field.Field{Name: "Maximum QoS", Value: qosNames[qos], Spec: opts.Spec,
			About: "Bits 1-0: the highest QoS the client accepts for messages on this filter."})
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
	return qos, true
}

// requestedQoS reads the Requested QoS byte that follows a topic filter
// before MQTT 5.
func (d *decoder) requestedQoS(string) (byte, bool) {
	req := field.Field{Name: "Requested QoS",
		About: "Highest QoS the client wants for messages that match this filter; the upper 6 bits are reserved.",
		Spec:  d.sec("3.8.3", "")}
	o, s, ok := d.u8(req)
	if !ok {
		return 0, false
	}
	qos := o & 3
	v := qosNames[qos]
	if o&0xfc != 0 {
		v = fmt.Sprintf("0x%02X (reserved bits set)", o)
	}
	d.put(req, s, s+1, v)
	if o&0xfc != 0 || qos == 3 {
		d.violate("SUBSCRIBE Requested QoS at offset %d is 0x%02X: reserved bits must be 0 and QoS at most 2%s", s, o, d.rule("3.8.3-4", ""))
	}
	return qos, true
}

// subackCodes311 names the SUBACK return codes of MQTT 3.1.1.
var subackCodes311 = map[byte]string{
	0x00: "Success - Maximum QoS 0",
	0x01: "Success - Maximum QoS 1",
	0x02: "Success - Maximum QoS 2",
	0x80: "Failure",
}

// suback decodes a SUBACK (MQTT 3.1.1 §3.9, MQTT 5.0 §3.9).
func (d *decoder) suback() bool {
	if !d.packetID("Identifier of the SUBSCRIBE this packet answers.", d.sec("3.9.2", "3.9.2"), false) {
		return false
	}
	if d.ver == 5 && !d.properties(TypeSuback, "Properties") {
		return false
	}
	code := field.Field{Name: "Reason Code",
		About: "Result for one topic filter of the SUBSCRIBE, in the same order: the QoS granted, or 0x80 for failure.",
		Spec:  d.sec("3.9.3", "3.9.3")}
	for i := 0; d.pos < d.end; i++ {
		c, s, ok := d.u8(code)
		if !ok {
			return false
		}
		if i == 0 {
			d.p.ReasonCode = c
		}
		if d.ver == 5 {
			name := d.reasonField(c, s, "Result for one topic filter of the SUBSCRIBE, in the same order: the QoS granted, or an error from 0x80 up.", "3.9.3")
			d.codes = append(d.codes, name)
			continue
		}
		name, ok := subackCodes311[c]
		if !ok {
			name = "Reserved"
			d.violate("SUBACK return code 0x%02X at offset %d is reserved%s", c, s, d.rule("3.9.3-2", ""))
		}
		d.codes = append(d.codes, name)
		ret := code
		ret.Name = "Return Code"
		d.put(ret, s, s+1, fmt.Sprintf("0x%02X %s", c, name))
	}
	if len(d.codes) == 0 {
		d.violate("SUBACK has no return code: it needs one per topic filter of the SUBSCRIBE")
	}
	return true
}

// unsubscribe decodes an UNSUBSCRIBE (MQTT 3.1.1 §3.10, MQTT 5.0 §3.10).
func (d *decoder) unsubscribe() bool {
	if !d.packetID("Number the UNSUBACK will carry back, pairing it with this request.", d.sec("3.10.2", "3.10.2"), true) {
		return false
	}
	if d.ver == 5 && !d.properties(TypeUnsubscribe, "Properties") {
		return false
	}
	for d.pos < d.end {
		at := d.pos
		filter, ok := d.str(field.Field{Name: "Topic Filter",
			About: "Filter of a subscription to remove; it has to equal the subscribed filter exactly.",
			Spec:  d.sec("3.10.3", "3.10.3")})
		if !ok {
			return false
		}
		if filter == "" {
			d.violate("UNSUBSCRIBE Topic Filter at offset %d is empty%s", at, d.rule("4.7.3-1", "4.7.3-1"))
		}
		d.codes = append(d.codes, quote(filter))
	}
	if len(d.codes) == 0 {
		d.violate("UNSUBSCRIBE has no topic filter%s", d.rule("3.10.3-2", "3.10.3-2"))
	}
	return true
}

// unsuback decodes an UNSUBACK (MQTT 3.1.1 §3.11, MQTT 5.0 §3.11).
func (d *decoder) unsuback() bool {
	if !d.packetID("Identifier of the UNSUBSCRIBE this packet answers.", d.sec("3.11.2", "3.11.2"), false) {
		return false
	}
	if d.ver != 5 {
		return true
	}
	if !d.properties(TypeUnsuback, "Properties") {
		return false
	}
	for i := 0; d.pos < d.end; i++ {
		code, s, ok := d.u8(field.Field{Name: "Reason Code", Spec: d.sec("", "3.11.3")})
		if !ok {
			return false
		}
		if i == 0 {
			d.p.ReasonCode = code
		}
		d.codes = append(d.codes, d.reasonField(code, s, "Result for one topic filter of the UNSUBSCRIBE, in the same order.", "3.11.3"))
	}
	if len(d.codes) == 0 {
		d.violate("UNSUBACK has no reason code: it needs one per topic filter of the UNSUBSCRIBE")
	}
	return true
}

// disconnect decodes a DISCONNECT (MQTT 3.1.1 §3.14, MQTT 5.0 §3.14).
func (d *decoder) disconnect() bool {
	if d.ver != 5 {
		return true
	}
	return d.reasonAndProperties("Why the connection is being closed; 0x04 asks the broker to publish the Will all the same.", "3.14.2.1")
}

// auth decodes an AUTH (MQTT 5.0 §3.15).
func (d *decoder) auth() bool {
	return d.reasonAndProperties("Step of the authentication exchange: 0x18 continue, 0x19 start again, 0x00 done.", "3.15.2.1")
}

// reasonAndProperties reads the optional Reason Code and Properties that
// make the variable header of DISCONNECT and AUTH.
func (d *decoder) reasonAndProperties(about, sec5 string) bool {
	d.hasReason = true
	if d.pos == d.end {
		return true // omitted: 0x00
	}
	code, s, ok := d.u8(field.Field{Name: "Reason Code", Spec: d.sec("", sec5)})
	if !ok {
		return false
	}
	d.p.ReasonCode = code
	d.reasonField(code, s, about, sec5)
	return d.pos == d.end || d.properties(d.typ, "Properties")
}
