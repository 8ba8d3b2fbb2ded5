// Package mqttwire decodes MQTT 3.1, 3.1.1 and 5.0 control packets into
// annotated fields: every byte of a packet gets a name, a value, an
// explanation and the section of the specification that defines it, and a
// packet that breaks a rule comes back with the rule (and its conformance
// ID, such as [MQTT-3.1.2-3]) named.
//
// It decodes one packet at a time from bytes it is handed; it keeps no
// connection state (the caller passes the protocol version a CONNECT set)
// and never encodes packets.
package mqttwire

import (
	"fmt"
	"io"

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
	// QoS is the QoS of a PUBLISH (its flag bits; 3 is malformed).
	QoS byte
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

// Decode decodes the first MQTT control packet in b, following the
// convention of package field.
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
	vlen, rl, err := remainingLength(b)
	if err != nil {
		return Packet{}, 0, err
	}
	n = 1 + vlen + rl
	if len(b) < n {
		return Packet{}, 0, io.ErrUnexpectedEOF
	}
	d := &decoder{b: b[:n:n], end: n, typ: b[0] >> 4, flags: b[0] & 0x0f, ver: 4}
	if version == 3 || version == 5 {
		d.ver = version
	}
	d.decode(vlen, rl)
	return d.p, n, nil
}

// remainingLength reads the Remaining Length of the fixed header that
// starts b: its value rl and its size vlen in bytes.
func remainingLength(b []byte) (vlen, rl int, err error) {
	if len(b) == 0 {
		return 0, 0, io.ErrUnexpectedEOF
	}
	for i, mult := 1, 1; ; i, mult = i+1, mult*128 {
		if i > 4 {
			return 0, 0, fmt.Errorf("trace: mqtt: remaining length at offset 1 exceeds 4 bytes")
		}
		if i >= len(b) {
			return 0, 0, io.ErrUnexpectedEOF
		}
		rl += int(b[i]&0x7f) * mult
		if b[i]&0x80 == 0 {
			return i, rl, nil
		}
	}
}

// MQTT control packet types: the high nibble of the first byte (MQTT 5.0
// §2.1.2), also what the playground's client sends and expects by.
const (
	TypeConnect     byte = 1
	TypeConnack     byte = 2
	TypePublish     byte = 3
	TypePuback      byte = 4
	TypePubrec      byte = 5
	TypePubrel      byte = 6
	TypePubcomp     byte = 7
	TypeSubscribe   byte = 8
	TypeSuback      byte = 9
	TypeUnsubscribe byte = 10
	TypeUnsuback    byte = 11
	TypePingreq     byte = 12
	TypePingresp    byte = 13
	TypeDisconnect  byte = 14
	TypeAuth        byte = 15

	// typeWill stands for the Will Properties of a CONNECT payload where a
	// packet type is expected (property tables).
	typeWill byte = 16
)

var typeNames = [16]string{
	"", "CONNECT", "CONNACK", "PUBLISH", "PUBACK", "PUBREC", "PUBREL", "PUBCOMP",
	"SUBSCRIBE", "SUBACK", "UNSUBSCRIBE", "UNSUBACK", "PINGREQ", "PINGRESP", "DISCONNECT", "AUTH",
}

// typeAbout says in a few words what each packet type is for.
var typeAbout = [16]string{
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

// reserved reports whether packet type t is reserved in version ver.
func reserved(t, ver byte) bool { return t == 0 || (t == TypeAuth && ver != 5) }

func typeName(t, ver byte) string {
	if reserved(t, ver) {
		return fmt.Sprintf("Reserved(%d)", t)
	}
	return typeNames[t]
}

var packetSec311 = [16]string{"2.2.1", "3.1", "3.2", "3.3", "3.4", "3.5", "3.6", "3.7", "3.8", "3.9", "3.10", "3.11", "3.12", "3.13", "3.14", "2.2.1"}
