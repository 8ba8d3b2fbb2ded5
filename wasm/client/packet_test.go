package client

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/mochi-mqtt/server/v2/packets"
	"github.com/mqtts-playground/playground/trace/mqttwire"
)

// The client encodes and decodes its packets itself (packet.go); the
// broker's codec, mochi's packets, is the reference both are held to: the
// bytes the client sends must be what mochi encodes for the same packet,
// and what mochi encodes as a broker the client must read back.

func mochiBytes(t *testing.T, pk packets.Packet) []byte {
	t.Helper()
	var b bytes.Buffer
	var err error
	switch pk.FixedHeader.Type {
	case packets.Connect:
		err = pk.ConnectEncode(&b)
	case packets.Connack:
		err = pk.ConnackEncode(&b)
	case packets.Publish:
		err = pk.PublishEncode(&b)
	case packets.Puback:
		err = pk.PubackEncode(&b)
	case packets.Pubrec:
		err = pk.PubrecEncode(&b)
	case packets.Pubrel:
		err = pk.PubrelEncode(&b)
	case packets.Pubcomp:
		err = pk.PubcompEncode(&b)
	case packets.Subscribe:
		err = pk.SubscribeEncode(&b)
	case packets.Suback:
		err = pk.SubackEncode(&b)
	case packets.Unsuback:
		err = pk.UnsubackEncode(&b)
	case packets.Pingreq:
		err = pk.PingreqEncode(&b)
	case packets.Pingresp:
		err = pk.PingrespEncode(&b)
	case packets.Disconnect:
		err = pk.DisconnectEncode(&b)
	default:
		t.Fatalf("no encoder for type %d", pk.FixedHeader.Type)
	}
	if err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestEncodeLikeMochi(t *testing.T) {
	yes, no := true, false
	big := strings.Repeat("x", 200) // a remaining length of two bytes
	tests := []struct {
		name string
		got  func(v byte) []byte
		want packets.Packet
	}{
		{"CONNECT defaults", func(v byte) []byte {
			return connectPacket(v, Options{ClientID: "c1", KeepAlive: 60})
		}, packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Connect},
			Connect: packets.ConnectParams{ProtocolName: []byte("MQTT"), Clean: true, Keepalive: 60, ClientIdentifier: "c1"}}},
		{"CONNECT session kept, expiry, auth method, credentials", func(v byte) []byte {
			return connectPacket(v, Options{ClientID: "c2", KeepAlive: 5, CleanStart: &no, SessionExpiry: 300, AuthMethod: "SCRAM-SHA-1", Username: "u", Password: "p" + big})
		}, packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Connect},
			Properties: packets.Properties{SessionExpiryInterval: 300, SessionExpiryIntervalFlag: true, AuthenticationMethod: "SCRAM-SHA-1"},
			Connect: packets.ConnectParams{ProtocolName: []byte("MQTT"), Keepalive: 5, ClientIdentifier: "c2",
				UsernameFlag: true, Username: []byte("u"), PasswordFlag: true, Password: []byte("p" + big)}}},
		{"CONNECT with a will", func(v byte) []byte {
			return connectPacket(v, Options{ClientID: "c3", KeepAlive: 60, CleanStart: &yes, Will: &Will{Topic: "w/t", Payload: "gone", QoS: 2, Retain: true, Delay: 10}})
		}, packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Connect},
			Connect: packets.ConnectParams{ProtocolName: []byte("MQTT"), Clean: true, Keepalive: 60, ClientIdentifier: "c3",
				WillFlag: true, WillTopic: "w/t", WillPayload: []byte("gone"), WillQos: 2, WillRetain: true,
				WillProperties: packets.Properties{WillDelayInterval: 10}}}},
		{"CONNECT with a will, no delay", func(v byte) []byte {
			return connectPacket(v, Options{ClientID: "c4", KeepAlive: 60, Will: &Will{Topic: "w", Payload: ""}})
		}, packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Connect},
			Connect: packets.ConnectParams{ProtocolName: []byte("MQTT"), Clean: true, Keepalive: 60, ClientIdentifier: "c4",
				WillFlag: true, WillTopic: "w", WillPayload: []byte{}}}},
		{"PUBLISH QoS 0", func(v byte) []byte { return publishPacket(v, "a/b", []byte("hi"), 0, false, 0) },
			packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Publish}, TopicName: "a/b", Payload: []byte("hi")}},
		{"PUBLISH QoS 1 retained", func(v byte) []byte { return publishPacket(v, "a", []byte(big), 1, true, 7) },
			packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Publish, Qos: 1, Retain: true}, TopicName: "a", Payload: []byte(big), PacketID: 7}},
		{"PUBLISH QoS 2", func(v byte) []byte { return publishPacket(v, "a", nil, 2, false, 65535) },
			packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Publish, Qos: 2}, TopicName: "a", PacketID: 65535}},
		{"PUBACK", func(byte) []byte { return ackPacket(mqttwire.TypePuback, 3) },
			packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Puback}, PacketID: 3}},
		{"PUBREC", func(byte) []byte { return ackPacket(mqttwire.TypePubrec, 4) },
			packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Pubrec}, PacketID: 4}},
		{"PUBREL", func(byte) []byte { return ackPacket(mqttwire.TypePubrel, 5) },
			packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Pubrel, Qos: 1}, PacketID: 5}},
		{"PUBCOMP", func(byte) []byte { return ackPacket(mqttwire.TypePubcomp, 6) },
			packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Pubcomp}, PacketID: 6}},
		{"SUBSCRIBE", func(v byte) []byte { return subscribePacket(v, 9, "a/#", 1) },
			packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Subscribe, Qos: 1}, PacketID: 9, Filters: packets.Subscriptions{{Filter: "a/#", Qos: 1}}}},
		{"PINGREQ", func(byte) []byte { return pingreqPacket() },
			packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Pingreq}}},
		{"DISCONNECT", func(v byte) []byte { return disconnectPacket(v) },
			packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Disconnect}}},
	}
	for _, tt := range tests {
		for _, v := range []byte{4, 5} {
			t.Run(fmt.Sprintf("%s/v%d", tt.name, v), func(t *testing.T) {
				want := tt.want
				want.ProtocolVersion = v
				if m, got := mochiBytes(t, want), tt.got(v); !bytes.Equal(m, got) {
					t.Errorf("client's bytes differ from mochi's:\nclient % x\nmochi  % x", got, m)
				}
			})
		}
	}
}

func TestDecodeLikeMochi(t *testing.T) {
	big := bytes.Repeat([]byte{0xab}, 300)
	tests := []struct {
		name string
		pk   packets.Packet
		want packet
	}{
		{"CONNACK accepted", packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Connack}},
			packet{typ: mqttwire.TypeConnack}},
		{"CONNACK refused, properties", packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Connack}, ReasonCode: 0x87,
			Properties: packets.Properties{ReasonString: "no", TopicAliasMaximum: 10}},
			packet{typ: mqttwire.TypeConnack, reason: 0x87}},
		{"PUBLISH QoS 0", packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Publish}, TopicName: "t/ü", Payload: []byte("x")},
			packet{typ: mqttwire.TypePublish, topic: "t/ü", payload: []byte("x")}},
		{"PUBLISH QoS 2 retained, properties", packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Publish, Qos: 2, Retain: true},
			TopicName: "t", PacketID: 513, Payload: big, Properties: packets.Properties{ContentType: "text/plain", User: []packets.UserProperty{{Key: "k", Val: "v"}}}},
			packet{typ: mqttwire.TypePublish, qos: 2, retain: true, id: 513, topic: "t", payload: big}},
		{"PUBLISH QoS 1, empty payload", packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Publish, Qos: 1}, TopicName: "t", PacketID: 1},
			packet{typ: mqttwire.TypePublish, qos: 1, id: 1, topic: "t", payload: []byte{}}},
		{"PUBACK", packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Puback}, PacketID: 2},
			packet{typ: mqttwire.TypePuback, id: 2}},
		{"PUBACK no matching subscribers", packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Puback}, PacketID: 2, ReasonCode: 0x10},
			packet{typ: mqttwire.TypePuback, id: 2, reason: 0x10}},
		{"PUBREC refused with a reason string", packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Pubrec}, PacketID: 3, ReasonCode: 0x97,
			Properties: packets.Properties{ReasonString: "quota"}},
			packet{typ: mqttwire.TypePubrec, id: 3, reason: 0x97}},
		{"PUBREL", packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Pubrel, Qos: 1}, PacketID: 4},
			packet{typ: mqttwire.TypePubrel, id: 4}},
		{"PUBCOMP", packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Pubcomp}, PacketID: 5},
			packet{typ: mqttwire.TypePubcomp, id: 5}},
		{"SUBACK", packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Suback}, PacketID: 6, ReasonCodes: []byte{1, 0x80}},
			packet{typ: mqttwire.TypeSuback, id: 6, reasons: []byte{1, 0x80}}},
		{"UNSUBACK", packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Unsuback}, PacketID: 7, ReasonCodes: []byte{0}},
			packet{typ: mqttwire.TypeUnsuback, id: 7, reasons: []byte{0}}},
		{"PINGRESP", packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Pingresp}},
			packet{typ: mqttwire.TypePingresp}},
		{"DISCONNECT", packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Disconnect}, ReasonCode: 0x8b,
			Properties: packets.Properties{ReasonString: "shutting down"}},
			packet{typ: mqttwire.TypeDisconnect, reason: 0x8b}},
	}
	for _, tt := range tests {
		for _, v := range []byte{4, 5} {
			t.Run(fmt.Sprintf("%s/v%d", tt.name, v), func(t *testing.T) {
				pk := tt.pk
				pk.ProtocolVersion = v
				if v == 4 {
					pk.Properties = packets.Properties{}
				}
				want := tt.want
				if v == 4 && want.typ != mqttwire.TypeConnack {
					want.reason = 0 // 3.1.1 acks carry no reason code
				}
				if v == 4 && want.typ == mqttwire.TypeUnsuback {
					want.reasons = []byte{} // 3.1.1 UNSUBACK has no payload
				}
				b := mochiBytes(t, pk)
				got, err := readPacket(bufio.NewReader(bytes.NewReader(b)), v)
				if err != nil {
					t.Fatalf("readPacket(% x): %v", b, err)
				}
				if !reflect.DeepEqual(got, want) {
					t.Errorf("readPacket(% x)\ngot  %+v\nwant %+v", b, got, want)
				}
			})
		}
	}
}

func TestReadPacketErrors(t *testing.T) {
	tests := []struct {
		name string
		b    []byte
		v    byte
		want string
	}{
		{"remaining length of five bytes", []byte{0x30, 0xff, 0xff, 0xff, 0xff, 0x01}, 5, "malformed remaining length"},
		{"too big", []byte{0x30, 0xff, 0xff, 0xff, 0x7f}, 5, "more than the 1048576 this client accepts"},
		{"QoS 3", []byte{0x36, 0x03, 0x00, 0x01, 't'}, 5, "QoS 3 [MQTT-3.3.1-4]"},
		{"DUP at QoS 0", []byte{0x38, 0x03, 0x00, 0x01, 't'}, 5, "DUP set at QoS 0"},
		{"PUBREL flags", []byte{0x60, 0x02, 0x00, 0x01}, 5, "PUBREL with flags 0000"},
		{"PUBACK flags", []byte{0x42, 0x02, 0x00, 0x01}, 5, "packet type 4 with flags 0010"},
		{"topic past the end", []byte{0x30, 0x03, 0x00, 0x05, 't'}, 4, "5 bytes wanted at offset 2 of a 3-byte body"},
		{"topic not UTF-8", []byte{0x30, 0x03, 0x00, 0x01, 0xff}, 4, "not UTF-8"},
		{"properties past the end", []byte{0x30, 0x05, 0x00, 0x01, 't', 0x09, 0x01}, 5, "9 bytes wanted"},
		{"property length of five bytes", []byte{0x90, 0x07, 0x00, 0x01, 0xff, 0xff, 0xff, 0xff, 0x01}, 5, "longer than 4 bytes"},
		{"CONNACK cut short", []byte{0x20, 0x01, 0x00}, 4, "1 bytes wanted at offset 1"},
		{"a type brokers do not send", []byte{0x10, 0x00}, 5, "packet type 1 is not one a broker sends"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := readPacket(bufio.NewReader(bytes.NewReader(tt.b)), tt.v)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("readPacket(% x) = %v, want an error with %q", tt.b, err, tt.want)
			}
			if strings.Contains(tt.want, "[MQTT") || strings.Contains(tt.want, "wanted") || strings.Contains(tt.want, "UTF-8") || strings.Contains(tt.want, "flags") {
				if !errors.Is(err, errMalformed) {
					t.Errorf("error %v does not wrap errMalformed", err)
				}
			}
		})
	}
}

// FuzzReadPacket: any bytes give a packet or an error, never a panic, and a
// PUBLISH payload lies within the body.
func FuzzReadPacket(f *testing.F) {
	f.Add([]byte{0x30, 0x05, 0x00, 0x01, 't', 0x00, 'x'}, byte(5))
	f.Add([]byte{0x90, 0x04, 0x00, 0x01, 0x00, 0x01}, byte(5))
	f.Add([]byte{0x20, 0x03, 0x00, 0x00, 0x00}, byte(5))
	f.Add([]byte{0xe0, 0x01, 0x04}, byte(5))
	f.Fuzz(func(t *testing.T, b []byte, v byte) {
		pk, err := readPacket(bufio.NewReader(bytes.NewReader(b)), v)
		if err == nil && len(pk.payload) > len(b) {
			t.Fatalf("payload of %d bytes from %d bytes", len(pk.payload), len(b))
		}
	})
}
