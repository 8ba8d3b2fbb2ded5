package client

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"unicode/utf8"

	"github.com/mqtts-playground/playground/trace/mqttwire"
)

// The MQTT packets this client sends and reads, encoded and decoded here
// rather than with a general codec: only the packets and fields a client
// needs (MQTT 3.1.1 §3, MQTT 5.0 §3), which keeps the wasm small. The trace
// shows every byte through package mqttwire, not through this code.

// MQTT 5 property identifiers the client sends (MQTT 5.0 §2.2.2.2).
const (
	propSessionExpiry byte = 0x11
	propAuthMethod    byte = 0x15
	propWillDelay     byte = 0x18
)

// packet is a control packet the client received, as far as it uses it.
type packet struct {
	typ     byte
	qos     byte // PUBLISH
	retain  bool // PUBLISH
	id      uint16
	reason  byte   // CONNACK return code (3.1.1) or reason code; PUBACK … PUBCOMP, DISCONNECT (MQTT 5)
	reasons []byte // SUBACK, UNSUBACK
	topic   string // PUBLISH
	payload []byte // PUBLISH
}

// encoder builds one packet's variable header and payload; packet adds the
// fixed header.
type encoder struct {
	b []byte
}

func (e *encoder) byte(v byte)     { e.b = append(e.b, v) }
func (e *encoder) uint16(v uint16) { e.b = binary.BigEndian.AppendUint16(e.b, v) }
func (e *encoder) uint32(v uint32) { e.b = binary.BigEndian.AppendUint32(e.b, v) }

// varint appends a Variable Byte Integer (MQTT 5.0 §1.5.5).
func (e *encoder) varint(v int) {
	for {
		d := byte(v % 128)
		if v /= 128; v > 0 {
			d |= 0x80
		}
		e.b = append(e.b, d)
		if v == 0 {
			return
		}
	}
}

// str appends a UTF-8 string or binary data with its 2-byte length
// (MQTT 5.0 §1.5.4, §1.5.6).
func (e *encoder) str(s string) {
	e.uint16(uint16(len(s)))
	e.b = append(e.b, s...)
}

// props appends an MQTT 5 property list, its length first (§2.2.2): p
// holds the properties already encoded.
func (e *encoder) props(p []byte) {
	e.varint(len(p))
	e.b = append(e.b, p...)
}

// packet returns the whole packet: the fixed header (type, flags and
// remaining length, MQTT 5.0 §2.1) followed by what e holds.
func (e *encoder) packet(typ, flags byte) []byte {
	h := encoder{b: make([]byte, 0, 5+len(e.b))}
	h.byte(typ<<4 | flags)
	h.varint(len(e.b))
	return append(h.b, e.b...)
}

func flag(b bool, bit byte) byte {
	if b {
		return bit
	}
	return 0
}

// connectPacket encodes CONNECT (MQTT 5.0 §3.1); o is checked already.
func connectPacket(version byte, o Options) []byte {
	var e encoder
	e.str("MQTT")
	e.byte(version)
	clean := o.CleanStart == nil || *o.CleanStart
	w := o.Will
	var flags byte
	flags |= flag(clean, 0x02)
	if w != nil {
		flags |= 0x04 | byte(w.QoS)<<3 | flag(w.Retain, 0x20)
	}
	flags |= flag(o.Password != "", 0x40) | flag(o.Username != "", 0x80)
	e.byte(flags) // bit 0 is reserved: 0 [MQTT-3.1.2-3]
	e.uint16(uint16(o.KeepAlive))
	if version == 5 {
		var p encoder
		if o.SessionExpiry > 0 {
			p.byte(propSessionExpiry)
			p.uint32(uint32(o.SessionExpiry))
		}
		if o.AuthMethod != "" {
			p.byte(propAuthMethod)
			p.str(o.AuthMethod)
		}
		e.props(p.b)
	}
	e.str(o.ClientID)
	if w != nil {
		if version == 5 {
			var p encoder
			if w.Delay > 0 {
				p.byte(propWillDelay)
				p.uint32(uint32(w.Delay))
			}
			e.props(p.b)
		}
		e.str(w.Topic)
		e.str(w.Payload)
	}
	if o.Username != "" {
		e.str(o.Username)
	}
	if o.Password != "" {
		e.str(o.Password)
	}
	return e.packet(mqttwire.TypeConnect, 0)
}

// publishPacket encodes PUBLISH (MQTT 5.0 §3.3); id is used for QoS 1 and 2.
func publishPacket(version byte, topic string, payload []byte, qos byte, retain bool, id uint16) []byte {
	var e encoder
	e.str(topic)
	if qos > 0 {
		e.uint16(id)
	}
	if version == 5 {
		e.props(nil)
	}
	e.b = append(e.b, payload...)
	return e.packet(mqttwire.TypePublish, qos<<1|flag(retain, 1))
}

// ackPacket encodes PUBACK, PUBREC, PUBREL or PUBCOMP with reason code
// Success, which MQTT 5 leaves out along with the properties (MQTT 5.0
// §3.4.2.1); PUBREL carries the flags 0010 [MQTT-3.6.1-1].
func ackPacket(typ byte, id uint16) []byte {
	var e encoder
	e.uint16(id)
	return e.packet(typ, flag(typ == mqttwire.TypePubrel, 0x02))
}

// subscribePacket encodes SUBSCRIBE (MQTT 5.0 §3.8) of one filter; its
// fixed header flags are 0010 [MQTT-3.8.1-1].
func subscribePacket(version byte, id uint16, filter string, qos byte) []byte {
	var e encoder
	e.uint16(id)
	if version == 5 {
		e.props(nil)
	}
	e.str(filter)
	e.byte(qos) // Subscription Options: No Local, Retain As Published and Retain Handling 0
	return e.packet(mqttwire.TypeSubscribe, 0x02)
}

// pingreqPacket is PINGREQ (MQTT 5.0 §3.12).
func pingreqPacket() []byte { return []byte{mqttwire.TypePingreq << 4, 0} }

// disconnectPacket encodes DISCONNECT (MQTT 5.0 §3.14): in MQTT 5 with
// reason code 0x00 Normal disconnection and no properties.
func disconnectPacket(version byte) []byte {
	var e encoder
	if version == 5 {
		e.byte(0)
		e.props(nil)
	}
	return e.packet(mqttwire.TypeDisconnect, 0)
}

// errMalformed is what a packet the client cannot read wraps.
var errMalformed = errors.New("malformed packet")

// readPacket reads one whole packet a broker sent.
func readPacket(r *bufio.Reader, version byte) (packet, error) {
	b, err := r.ReadByte()
	if err != nil {
		return packet{}, err
	}
	n, mult := 0, 1
	for i := 0; ; i++ {
		if i == 4 {
			return packet{}, errors.New("broker sent a malformed remaining length")
		}
		d, err := r.ReadByte()
		if err != nil {
			return packet{}, err
		}
		n += int(d&0x7f) * mult
		mult *= 128
		if d&0x80 == 0 {
			break
		}
	}
	if n > maxPacket {
		return packet{}, fmt.Errorf("broker sent a %d-byte packet, more than the %d this client accepts", n, maxPacket)
	}
	body := make([]byte, n)
	if _, err := io.ReadFull(r, body); err != nil {
		return packet{}, err
	}
	pk, err := decodePacket(b, body, version)
	if err != nil {
		return packet{}, fmt.Errorf("broker sent a malformed packet: %w", err)
	}
	return pk, nil
}

// decodePacket decodes the packet with first byte h and the body after its
// remaining length.
func decodePacket(h byte, body []byte, version byte) (packet, error) {
	pk := packet{typ: h >> 4}
	flags := h & 0x0f
	d := decoder{b: body}
	switch pk.typ {
	case mqttwire.TypePublish:
		pk.qos, pk.retain = flags>>1&3, flags&1 != 0
		if pk.qos == 3 {
			return pk, fmt.Errorf("PUBLISH with QoS 3 [MQTT-3.3.1-4]: %w", errMalformed)
		}
		if pk.qos == 0 && flags&0x08 != 0 {
			return pk, fmt.Errorf("PUBLISH with DUP set at QoS 0 [MQTT-3.3.1-2]: %w", errMalformed)
		}
	case mqttwire.TypePubrel:
		if flags != 0x02 {
			return pk, fmt.Errorf("PUBREL with flags %04b, not 0010 [MQTT-3.6.1-1]: %w", flags, errMalformed)
		}
	default:
		if flags != 0 {
			return pk, fmt.Errorf("packet type %d with flags %04b, not 0000 [MQTT-2.1.3-1]: %w", pk.typ, flags, errMalformed)
		}
	}
	switch pk.typ {
	case mqttwire.TypeConnack:
		d.byte() // Connect Acknowledge Flags (session present)
		pk.reason = d.byte()
		if version == 5 {
			d.props()
		}
	case mqttwire.TypePublish:
		pk.topic = d.str()
		if pk.qos > 0 {
			pk.id = d.uint16()
		}
		if version == 5 {
			d.props()
		}
		if d.err == nil {
			pk.payload = d.b[d.off:]
		}
	case mqttwire.TypePuback, mqttwire.TypePubrec, mqttwire.TypePubrel, mqttwire.TypePubcomp:
		pk.id = d.uint16()
		if version == 5 && len(body) > 2 { // the reason code may be left out (MQTT 5.0 §3.4.2.1)
			pk.reason = d.byte()
			if len(body) > 3 {
				d.props()
			}
		}
	case mqttwire.TypeSuback, mqttwire.TypeUnsuback:
		pk.id = d.uint16()
		if version == 5 {
			d.props()
		}
		if d.err == nil {
			pk.reasons = d.b[d.off:]
		}
	case mqttwire.TypePingresp:
	case mqttwire.TypeDisconnect:
		if version == 5 && len(body) > 0 {
			pk.reason = d.byte()
			if len(body) > 1 {
				d.props()
			}
		}
	default:
		return pk, fmt.Errorf("packet type %d is not one a broker sends", pk.typ)
	}
	return pk, d.err
}

// decoder reads a packet body, remembering the first error.
type decoder struct {
	b   []byte
	off int
	err error
}

func (d *decoder) take(n int) []byte {
	if d.err != nil {
		return nil
	}
	if n > len(d.b)-d.off {
		d.err = fmt.Errorf("%d bytes wanted at offset %d of a %d-byte body: %w", n, d.off, len(d.b), errMalformed)
		return nil
	}
	d.off += n
	return d.b[d.off-n : d.off]
}

func (d *decoder) byte() byte {
	if b := d.take(1); b != nil {
		return b[0]
	}
	return 0
}

func (d *decoder) uint16() uint16 {
	if b := d.take(2); b != nil {
		return binary.BigEndian.Uint16(b)
	}
	return 0
}

// str reads a UTF-8 string (MQTT 5.0 §1.5.4).
func (d *decoder) str() string {
	s := d.take(int(d.uint16()))
	if d.err == nil && !utf8.Valid(s) {
		d.err = fmt.Errorf("a string at offset %d is not UTF-8 [MQTT-1.5.4-1]: %w", d.off-len(s), errMalformed)
	}
	return string(s)
}

// props skips an MQTT 5 property list (MQTT 5.0 §2.2.2): the client uses
// none of the properties a broker sends.
func (d *decoder) props() {
	n, mult := 0, 1
	for i := 0; ; i++ {
		if i == 4 {
			d.err = fmt.Errorf("property length at offset %d longer than 4 bytes: %w", d.off, errMalformed)
			return
		}
		c := d.byte()
		if d.err != nil {
			return
		}
		n += int(c&0x7f) * mult
		mult *= 128
		if c&0x80 == 0 {
			break
		}
	}
	d.take(n)
}
