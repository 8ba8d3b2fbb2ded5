package mqttwire

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/mochi-mqtt/server/v2/packets"
	"github.com/mochi-mqtt/server/v2/packets/tpackets"
	"github.com/mqtts-playground/playground/trace/field"
	"github.com/mqtts-playground/playground/trace/internal/golden"
)

// view is what the table tests compare of a decoded packet: every value
// of Packet, errors as text, and the layout of the fields down to depth
// 1 as "start-end Name = Value" lines (". " marks depth 1). The "length" and
// "value" parts of strings are left out of Layout; TestFieldParts and the
// golden files cover them.
type view struct {
	N          int
	Err        string // error returned by Decode
	Type       string
	Version    byte
	Summary    string
	PErr       string // Packet.Err
	Topic      string
	Payload    string
	PacketID   uint16
	ClientID   string
	Username   string
	Password   string
	ReasonCode byte
	Layout     []string
}

func viewOf(p Packet, n int, err error) view {
	v := view{N: n, Type: p.Type, Version: p.Version, Summary: p.Summary, Topic: p.Topic,
		Payload: string(p.Payload), PacketID: p.PacketID, ClientID: p.ClientID, Username: p.Username,
		Password: string(p.Password), ReasonCode: p.ReasonCode}
	if err != nil {
		v.Err = err.Error()
	}
	if p.Err != nil {
		v.PErr = p.Err.Error()
	}
	for _, f := range p.Fields {
		if f.Depth > 1 || (f.Depth > 0 && (f.Name == "length" || f.Name == "value")) {
			continue
		}
		v.Layout = append(v.Layout, fmt.Sprintf("%d-%d %s%s = %s", f.Start, f.End, strings.Repeat(". ", f.Depth), f.Name, f.Value))
	}
	return v
}

// diffView reports got against want as JSON, and the first lines where their
// layouts part.
func diffView(t *testing.T, got, want any) {
	t.Helper()
	if reflect.DeepEqual(got, want) {
		return
	}
	g, _ := json.MarshalIndent(got, "", "  ")
	w, _ := json.MarshalIndent(want, "", "  ")
	gl, wl := strings.Split(string(g), "\n"), strings.Split(string(w), "\n")
	var diff []string
	for i := 0; i < max(len(gl), len(wl)); i++ {
		var a, b string
		if i < len(gl) {
			a = gl[i]
		}
		if i < len(wl) {
			b = wl[i]
		}
		if a != b {
			diff = append(diff, fmt.Sprintf("line %d\n  got:  %s\n  want: %s", i+1, a, b))
		}
	}
	t.Errorf("mismatch (%d differing lines):\n%s\n--- got:\n%s", len(diff), strings.Join(diff, "\n"), g)
}

// checkFields asserts the promises Decode makes about Fields: ranges
// within [0, n], ordered by start, each child inside its parent, and every
// field named, explained and cited for the version the packet was decoded
// with.
func checkFields(t *testing.T, p Packet, n int) {
	t.Helper()
	spec := "MQTT 3.1.1 §"
	if p.Version == 5 {
		spec = "MQTT 5.0 §"
	}
	var parents []field.Field // parents[d] is the latest field of depth d
	for i, f := range p.Fields {
		if f.Start < 0 || f.Start > f.End || f.End > n {
			t.Fatalf("field %d %q range [%d,%d) outside [0,%d]", i, f.Name, f.Start, f.End, n)
		}
		if i > 0 && f.Start < p.Fields[i-1].Start {
			t.Fatalf("field %d %q starts at %d, before field %d %q at %d", i, f.Name, f.Start, i-1, p.Fields[i-1].Name, p.Fields[i-1].Start)
		}
		if f.Depth < 0 || f.Depth > len(parents) {
			t.Fatalf("field %d %q has depth %d after a field of depth %d", i, f.Name, f.Depth, len(parents)-1)
		}
		if f.Depth > 0 {
			up := parents[f.Depth-1]
			if f.Start < up.Start || f.End > up.End {
				t.Fatalf("field %d %q [%d,%d) is outside its parent %q [%d,%d)", i, f.Name, f.Start, f.End, up.Name, up.Start, up.End)
			}
		}
		parents = append(parents[:f.Depth], f)
		if f.Name == "" || f.Value == "" || f.About == "" || f.In != "" {
			t.Fatalf("field %d %+v: want Name, Value and About set and In empty", i, f)
		}
		if !strings.HasPrefix(f.Spec, spec) {
			t.Fatalf("field %d %q cites %q, want a section of %q", i, f.Name, f.Spec, spec)
		}
	}
}

type packetCase struct {
	name    string
	version byte // the version in force on the connection
	raw     []byte
	want    view
}

// validPackets holds well-formed packets of every type in MQTT 3.1.1 and 5.0,
// written byte by byte.
var validPackets = []packetCase{
	{
		name: "CONNECT 3.1.1 with will, user name and password", version: 0,
		raw: []byte{
			0x10, 63, // CONNECT, remaining length 63
			0, 4, 'M', 'Q', 'T', 'T', // Protocol Name
			4,          // Protocol Level 4
			0b11101110, // Connect Flags: user, password, will retain, will QoS 1, will, clean session
			0, 60,      // Keep Alive 60 s
			0, 5, 'w', 'e', 'b', '-', '1', // Client Identifier
			0, 20, 'c', 'l', 'i', 'e', 'n', 't', 's', '/', 'w', 'e', 'b', '-', '1', '/', 's', 't', 'a', 't', 'u', 's', // Will Topic
			0, 7, 'o', 'f', 'f', 'l', 'i', 'n', 'e', // Will Message
			0, 5, 'a', 'l', 'i', 'c', 'e', // User Name
			0, 6, 's', '3', 'c', 'r', 'e', 't', // Password
		},
		want: view{N: 65, Type: "CONNECT", Version: 4,
			Summary:  `CONNECT client "web-1" user "alice" will "clients/web-1/status" v3.1.1 keepalive 60`,
			ClientID: "web-1", Username: "alice", Password: "s3cret",
			Layout: []string{
				"0-1 Packet type = CONNECT (1)",
				"0-1 Flags = 0b0000 (reserved)",
				"1-2 Remaining Length = 63 (1 byte, varint)",
				`2-8 Protocol Name = "MQTT"`,
				"8-9 Protocol Level = 4 (MQTT 3.1.1)",
				"9-10 Connect Flags = 0b11101110",
				"9-10 . User Name Flag = 1 (set)",
				"9-10 . Password Flag = 1 (set)",
				"9-10 . Will Retain = 1 (set)",
				"9-10 . Will QoS = 1 (at least once)",
				"9-10 . Will Flag = 1 (set)",
				"9-10 . Clean Session = 1 (set)",
				"9-10 . Reserved = 0",
				"10-12 Keep Alive = 60 seconds",
				`12-19 Client Identifier = "web-1"`,
				`19-41 Will Topic = "clients/web-1/status"`,
				"41-50 Will Message = offline",
				`50-57 User Name = "alice"`,
				"57-65 Password = s3cret",
			}},
	},
	{
		name: "CONNECT 3.1 carries its own level", version: 0,
		raw: []byte{
			0x10, 17, // CONNECT, remaining length 17
			0, 6, 'M', 'Q', 'I', 's', 'd', 'p', // Protocol Name of 3.1
			3,     // Protocol Level 3
			0,     // Connect Flags: none
			0, 30, // Keep Alive 30 s
			0, 3, 'z', 'e', 'n', // Client Identifier
		},
		want: view{N: 19, Type: "CONNECT", Version: 3, Summary: `CONNECT client "zen" v3.1 keepalive 30`, ClientID: "zen",
			Layout: []string{
				"0-1 Packet type = CONNECT (1)",
				"0-1 Flags = 0b0000 (reserved)",
				"1-2 Remaining Length = 17 (1 byte, varint)",
				`2-10 Protocol Name = "MQIsdp"`,
				"10-11 Protocol Level = 3 (MQTT 3.1)",
				"11-12 Connect Flags = 0b00000000",
				"11-12 . User Name Flag = 0 (not set)",
				"11-12 . Password Flag = 0 (not set)",
				"11-12 . Will Retain = 0 (not set)",
				"11-12 . Will QoS = 0 (at most once)",
				"11-12 . Will Flag = 0 (not set)",
				"11-12 . Clean Session = 0 (not set)",
				"11-12 . Reserved = 0",
				"12-14 Keep Alive = 30 seconds",
				`14-19 Client Identifier = "zen"`,
			}},
	},
	{
		name: "CONNACK 3.1.1 accepted, session present", version: 4,
		raw: []byte{
			0x20, 2, // CONNACK, remaining length 2
			0x01, // Connect Acknowledge Flags: Session Present
			0x00, // Return Code: accepted
		},
		want: view{N: 4, Type: "CONNACK", Version: 4, Summary: "CONNACK Connection Accepted session-present",
			Layout: []string{
				"0-1 Packet type = CONNACK (2)",
				"0-1 Flags = 0b0000 (reserved)",
				"1-2 Remaining Length = 2 (1 byte, varint)",
				"2-3 Connect Acknowledge Flags = 0b00000001",
				"2-3 . Reserved = 0b0000000",
				"2-3 . Session Present = 1 (set)",
				"3-4 Return Code = 0x00 Connection Accepted",
			}},
	},
	{
		name: "CONNACK 3.1.1 refused", version: 4,
		raw: []byte{
			0x20, 2, // CONNACK, remaining length 2
			0x00, // Connect Acknowledge Flags: none
			0x04, // Return Code: bad user name or password
		},
		want: view{N: 4, Type: "CONNACK", Version: 4, Summary: "CONNACK Connection Refused: bad user name or password", ReasonCode: 4,
			Layout: []string{
				"0-1 Packet type = CONNACK (2)",
				"0-1 Flags = 0b0000 (reserved)",
				"1-2 Remaining Length = 2 (1 byte, varint)",
				"2-3 Connect Acknowledge Flags = 0b00000000",
				"2-3 . Reserved = 0b0000000",
				"2-3 . Session Present = 0 (not set)",
				"3-4 Return Code = 0x04 Connection Refused: bad user name or password",
			}},
	},
	{
		name: "PUBLISH 3.1.1 QoS 0 text", version: 4,
		raw: []byte{
			0x30, 13, // PUBLISH QoS 0, remaining length 13
			0, 5, 'a', '/', 'b', '/', 'c', // Topic Name
			'h', 'e', 'l', 'l', 'o', '!', // Payload
		},
		want: view{N: 15, Type: "PUBLISH", Version: 4, Summary: `PUBLISH "a/b/c" qos0 (6 bytes)`, Topic: "a/b/c", Payload: "hello!",
			Layout: []string{
				"0-1 Packet type = PUBLISH (3)",
				"0-1 Flags = 0b0000",
				"0-1 . DUP = 0 (not set)",
				"0-1 . QoS = 0 (at most once)",
				"0-1 . RETAIN = 0 (not set)",
				"1-2 Remaining Length = 13 (1 byte, varint)",
				`2-9 Topic Name = "a/b/c"`,
				"9-15 Payload = hello!",
			}},
	},
	{
		name: "PUBLISH 3.1.1 QoS 1 retained binary", version: 4,
		raw: []byte{
			0x33, 12, // PUBLISH QoS 1 RETAIN, remaining length 12
			0, 3, 'x', '/', 'y', // Topic Name
			0, 3, // Packet Identifier 3
			0x00, 0x01, 0xfe, 0xff, 0x10, // Payload (not text)
		},
		want: view{N: 14, Type: "PUBLISH", Version: 4, Summary: `PUBLISH "x/y" qos1 id=3 retain (5 bytes)`,
			Topic: "x/y", Payload: "\x00\x01\xfe\xff\x10", PacketID: 3,
			Layout: []string{
				"0-1 Packet type = PUBLISH (3)",
				"0-1 Flags = 0b0011",
				"0-1 . DUP = 0 (not set)",
				"0-1 . QoS = 1 (at least once)",
				"0-1 . RETAIN = 1 (set)",
				"1-2 Remaining Length = 12 (1 byte, varint)",
				`2-7 Topic Name = "x/y"`,
				"7-9 Packet Identifier = 3",
				"9-14 Payload = 0x0001feff10",
			}},
	},
	{
		name: "PUBLISH 3.1.1 QoS 2 duplicate, empty payload", version: 4,
		raw: []byte{
			0x3C, 5, // PUBLISH DUP QoS 2, remaining length 5
			0, 1, 't', // Topic Name
			0, 10, // Packet Identifier 10
		},
		want: view{N: 7, Type: "PUBLISH", Version: 4, Summary: `PUBLISH "t" qos2 id=10 dup (0 bytes)`, Topic: "t", PacketID: 10,
			Layout: []string{
				"0-1 Packet type = PUBLISH (3)",
				"0-1 Flags = 0b1100",
				"0-1 . DUP = 1 (set)",
				"0-1 . QoS = 2 (exactly once)",
				"0-1 . RETAIN = 0 (not set)",
				"1-2 Remaining Length = 5 (1 byte, varint)",
				`2-5 Topic Name = "t"`,
				"5-7 Packet Identifier = 10",
				"7-7 Payload = (empty)",
			}},
	},
	{
		name: "PUBLISH with a two-byte remaining length and a long payload", version: 4,
		raw: append([]byte{
			0x30, 0xB1, 0x02, // PUBLISH QoS 0, remaining length 305 (0x31 + 2*128)
			0, 3, 'b', 'i', 'g', // Topic Name
		}, bytes.Repeat([]byte{'A'}, 300)...), // Payload
		want: view{N: 308, Type: "PUBLISH", Version: 4, Summary: `PUBLISH "big" qos0 (300 bytes)`, Topic: "big",
			Payload: strings.Repeat("A", 300),
			Layout: []string{
				"0-1 Packet type = PUBLISH (3)",
				"0-1 Flags = 0b0000",
				"0-1 . DUP = 0 (not set)",
				"0-1 . QoS = 0 (at most once)",
				"0-1 . RETAIN = 0 (not set)",
				"1-3 Remaining Length = 305 (2 bytes, varint)",
				`3-8 Topic Name = "big"`,
				"8-308 Payload = " + strings.Repeat("A", 200) + "…",
			}},
	},
	{
		name: "PUBLISH with version 0 decodes as 3.1.1", version: 0,
		raw: []byte{
			0x30, 4, // PUBLISH QoS 0, remaining length 4
			0, 1, 't', // Topic Name
			'!', // Payload
		},
		want: view{N: 6, Type: "PUBLISH", Version: 4, Summary: `PUBLISH "t" qos0 (1 byte)`, Topic: "t", Payload: "!",
			Layout: []string{
				"0-1 Packet type = PUBLISH (3)",
				"0-1 Flags = 0b0000",
				"0-1 . DUP = 0 (not set)",
				"0-1 . QoS = 0 (at most once)",
				"0-1 . RETAIN = 0 (not set)",
				"1-2 Remaining Length = 4 (1 byte, varint)",
				`2-5 Topic Name = "t"`,
				"5-6 Payload = !",
			}},
	},
	{
		name: "PUBACK 3.1.1", version: 4,
		raw: []byte{
			0x40, 2, // PUBACK, remaining length 2
			0, 3, // Packet Identifier 3
		},
		want: view{N: 4, Type: "PUBACK", Version: 4, Summary: "PUBACK id=3", PacketID: 3,
			Layout: []string{
				"0-1 Packet type = PUBACK (4)",
				"0-1 Flags = 0b0000 (reserved)",
				"1-2 Remaining Length = 2 (1 byte, varint)",
				"2-4 Packet Identifier = 3",
			}},
	},
	{
		name: "PUBREC 3.1.1", version: 4,
		raw: []byte{0x50, 2, 0, 10}, // PUBREC, remaining length 2, Packet Identifier 10
		want: view{N: 4, Type: "PUBREC", Version: 4, Summary: "PUBREC id=10", PacketID: 10,
			Layout: []string{
				"0-1 Packet type = PUBREC (5)",
				"0-1 Flags = 0b0000 (reserved)",
				"1-2 Remaining Length = 2 (1 byte, varint)",
				"2-4 Packet Identifier = 10",
			}},
	},
	{
		name: "PUBREL 3.1.1", version: 4,
		raw: []byte{0x62, 2, 0, 10}, // PUBREL (flags 0010), remaining length 2, Packet Identifier 10
		want: view{N: 4, Type: "PUBREL", Version: 4, Summary: "PUBREL id=10", PacketID: 10,
			Layout: []string{
				"0-1 Packet type = PUBREL (6)",
				"0-1 Flags = 0b0010 (reserved)",
				"1-2 Remaining Length = 2 (1 byte, varint)",
				"2-4 Packet Identifier = 10",
			}},
	},
	{
		name: "PUBCOMP 3.1.1", version: 4,
		raw: []byte{0x70, 2, 0, 10}, // PUBCOMP, remaining length 2, Packet Identifier 10
		want: view{N: 4, Type: "PUBCOMP", Version: 4, Summary: "PUBCOMP id=10", PacketID: 10,
			Layout: []string{
				"0-1 Packet type = PUBCOMP (7)",
				"0-1 Flags = 0b0000 (reserved)",
				"1-2 Remaining Length = 2 (1 byte, varint)",
				"2-4 Packet Identifier = 10",
			}},
	},
	{
		name: "SUBSCRIBE 3.1.1 two filters", version: 4,
		raw: []byte{
			0x82, 30, // SUBSCRIBE (flags 0010), remaining length 30
			0, 1, // Packet Identifier 1
			0, 14, 's', 'e', 'n', 's', 'o', 'r', 's', '/', '+', '/', 't', 'e', 'm', 'p', // Topic Filter
			1,                                            // Requested QoS 1
			0, 8, 'a', 'l', 'e', 'r', 't', 's', '/', '#', // Topic Filter
			2, // Requested QoS 2
		},
		want: view{N: 32, Type: "SUBSCRIBE", Version: 4, Summary: `SUBSCRIBE id=1 "sensors/+/temp" qos1, "alerts/#" qos2`, PacketID: 1,
			Layout: []string{
				"0-1 Packet type = SUBSCRIBE (8)",
				"0-1 Flags = 0b0010 (reserved)",
				"1-2 Remaining Length = 30 (1 byte, varint)",
				"2-4 Packet Identifier = 1",
				`4-20 Topic Filter = "sensors/+/temp"`,
				"20-21 Requested QoS = 1 (at least once)",
				`21-31 Topic Filter = "alerts/#"`,
				"31-32 Requested QoS = 2 (exactly once)",
			}},
	},
	{
		name: "SUBACK 3.1.1 granted and failed", version: 4,
		raw: []byte{
			0x90, 4, // SUBACK, remaining length 4
			0, 1, // Packet Identifier 1
			0x01, // Return Code: maximum QoS 1
			0x80, // Return Code: failure
		},
		want: view{N: 6, Type: "SUBACK", Version: 4, Summary: "SUBACK id=1 Success - Maximum QoS 1, Failure", PacketID: 1, ReasonCode: 1,
			Layout: []string{
				"0-1 Packet type = SUBACK (9)",
				"0-1 Flags = 0b0000 (reserved)",
				"1-2 Remaining Length = 4 (1 byte, varint)",
				"2-4 Packet Identifier = 1",
				"4-5 Return Code = 0x01 Success - Maximum QoS 1",
				"5-6 Return Code = 0x80 Failure",
			}},
	},
	{
		name: "UNSUBSCRIBE 3.1.1", version: 4,
		raw: []byte{
			0xA2, 12, // UNSUBSCRIBE (flags 0010), remaining length 12
			0, 4, // Packet Identifier 4
			0, 8, 'a', 'l', 'e', 'r', 't', 's', '/', '#', // Topic Filter
		},
		want: view{N: 14, Type: "UNSUBSCRIBE", Version: 4, Summary: `UNSUBSCRIBE id=4 "alerts/#"`, PacketID: 4,
			Layout: []string{
				"0-1 Packet type = UNSUBSCRIBE (10)",
				"0-1 Flags = 0b0010 (reserved)",
				"1-2 Remaining Length = 12 (1 byte, varint)",
				"2-4 Packet Identifier = 4",
				`4-14 Topic Filter = "alerts/#"`,
			}},
	},
	{
		name: "UNSUBACK 3.1.1", version: 4,
		raw: []byte{0xB0, 2, 0, 4}, // UNSUBACK, remaining length 2, Packet Identifier 4
		want: view{N: 4, Type: "UNSUBACK", Version: 4, Summary: "UNSUBACK id=4", PacketID: 4,
			Layout: []string{
				"0-1 Packet type = UNSUBACK (11)",
				"0-1 Flags = 0b0000 (reserved)",
				"1-2 Remaining Length = 2 (1 byte, varint)",
				"2-4 Packet Identifier = 4",
			}},
	},
	{
		name: "PINGREQ", version: 4,
		raw: []byte{0xC0, 0}, // PINGREQ, remaining length 0
		want: view{N: 2, Type: "PINGREQ", Version: 4, Summary: "PINGREQ",
			Layout: []string{
				"0-1 Packet type = PINGREQ (12)",
				"0-1 Flags = 0b0000 (reserved)",
				"1-2 Remaining Length = 0 (1 byte, varint)",
			}},
	},
	{
		name: "PINGRESP", version: 5,
		raw: []byte{0xD0, 0}, // PINGRESP, remaining length 0
		want: view{N: 2, Type: "PINGRESP", Version: 5, Summary: "PINGRESP",
			Layout: []string{
				"0-1 Packet type = PINGRESP (13)",
				"0-1 Flags = 0b0000 (reserved)",
				"1-2 Remaining Length = 0 (1 byte, varint)",
			}},
	},
	{
		name: "DISCONNECT 3.1.1", version: 4,
		raw: []byte{0xE0, 0}, // DISCONNECT, remaining length 0
		want: view{N: 2, Type: "DISCONNECT", Version: 4, Summary: "DISCONNECT",
			Layout: []string{
				"0-1 Packet type = DISCONNECT (14)",
				"0-1 Flags = 0b0000 (reserved)",
				"1-2 Remaining Length = 0 (1 byte, varint)",
			}},
	},
	{
		name: "CONNECT 5.0 with properties, will properties, user name and password", version: 0,
		raw: []byte{
			0x10, 118, // CONNECT, remaining length 118
			0, 4, 'M', 'Q', 'T', 'T', // Protocol Name
			5,          // Protocol Version 5
			0b11001110, // Connect Flags: user, password, will QoS 1, will, clean start
			0, 30,      // Keep Alive 30 s
			31,                 // Property Length
			0x11, 0, 0, 14, 16, // Session Expiry Interval 3600
			0x21, 0, 20, // Receive Maximum 20
			0x22, 0, 10, // Topic Alias Maximum 10
			0x17, 1, // Request Problem Information 1
			0x26, 0, 3, 'a', 'p', 'p', 0, 10, 'p', 'l', 'a', 'y', 'g', 'r', 'o', 'u', 'n', 'd', // User Property
			0, 5, 'w', 'e', 'b', '-', '1', // Client Identifier
			25,               // Will Property Length
			0x18, 0, 0, 0, 5, // Will Delay Interval 5
			0x01, 1, // Payload Format Indicator 1
			0x02, 0, 0, 0, 60, // Message Expiry Interval 60
			0x03, 0, 10, 't', 'e', 'x', 't', '/', 'p', 'l', 'a', 'i', 'n', // Content Type
			0, 20, 'c', 'l', 'i', 'e', 'n', 't', 's', '/', 'w', 'e', 'b', '-', '1', '/', 's', 't', 'a', 't', 'u', 's', // Will Topic
			0, 4, 'g', 'o', 'n', 'e', // Will Payload
			0, 5, 'a', 'l', 'i', 'c', 'e', // User Name
			0, 6, 's', '3', 'c', 'r', 'e', 't', // Password
		},
		want: view{N: 120, Type: "CONNECT", Version: 5,
			Summary:  `CONNECT client "web-1" user "alice" will "clients/web-1/status" v5 keepalive 30`,
			ClientID: "web-1", Username: "alice", Password: "s3cret",
			Layout: []string{
				"0-1 Packet type = CONNECT (1)",
				"0-1 Flags = 0b0000 (reserved)",
				"1-2 Remaining Length = 118 (1 byte, varint)",
				`2-8 Protocol Name = "MQTT"`,
				"8-9 Protocol Version = 5 (MQTT 5.0)",
				"9-10 Connect Flags = 0b11001110",
				"9-10 . User Name Flag = 1 (set)",
				"9-10 . Password Flag = 1 (set)",
				"9-10 . Will Retain = 0 (not set)",
				"9-10 . Will QoS = 1 (at least once)",
				"9-10 . Will Flag = 1 (set)",
				"9-10 . Clean Start = 1 (set)",
				"9-10 . Reserved = 0",
				"10-12 Keep Alive = 30 seconds",
				"12-44 Properties = 5 properties",
				"12-13 . Property Length = 31 (1 byte, varint)",
				"13-18 . Session Expiry Interval = 3600 seconds",
				"18-21 . Receive Maximum = 20",
				"21-24 . Topic Alias Maximum = 10",
				"24-26 . Request Problem Information = 1 (yes)",
				`26-44 . User Property = "app": "playground"`,
				`44-51 Client Identifier = "web-1"`,
				"51-77 Will Properties = 4 properties",
				"51-52 . Property Length = 25 (1 byte, varint)",
				"52-57 . Will Delay Interval = 5 seconds",
				"57-59 . Payload Format Indicator = 1 (UTF-8 text)",
				"59-64 . Message Expiry Interval = 60 seconds",
				`64-77 . Content Type = "text/plain"`,
				`77-99 Will Topic = "clients/web-1/status"`,
				"99-105 Will Payload = gone",
				`105-112 User Name = "alice"`,
				"112-120 Password = s3cret",
			}},
	},
	{
		name: "CONNACK 5.0 with properties", version: 5,
		raw: []byte{
			0x20, 52, // CONNACK, remaining length 52
			0x00,                         // Connect Acknowledge Flags: none
			0x00,                         // Reason Code: Success
			49,                           // Property Length
			0x11, 0xff, 0xff, 0xff, 0xff, // Session Expiry Interval: never
			0x12, 0, 6, 'a', 'u', 't', 'o', '-', '7', // Assigned Client Identifier
			0x13, 0, 45, // Server Keep Alive 45
			0x21, 0, 10, // Receive Maximum 10
			0x24, 1, // Maximum QoS 1
			0x25, 1, // Retain Available
			0x27, 0, 0x10, 0, 0, // Maximum Packet Size 1 MiB
			0x22, 0, 5, // Topic Alias Maximum 5
			0x28, 1, // Wildcard Subscription Available
			0x29, 0, // Subscription Identifier Available: no
			0x2A, 0, // Shared Subscription Available: no
			0x1A, 0, 8, 'r', 'e', 'p', 'l', 'i', 'e', 's', '/', // Response Information
		},
		want: view{N: 54, Type: "CONNACK", Version: 5, Summary: "CONNACK Success",
			Layout: []string{
				"0-1 Packet type = CONNACK (2)",
				"0-1 Flags = 0b0000 (reserved)",
				"1-2 Remaining Length = 52 (1 byte, varint)",
				"2-3 Connect Acknowledge Flags = 0b00000000",
				"2-3 . Reserved = 0b0000000",
				"2-3 . Session Present = 0 (not set)",
				"3-4 Reason Code = 0x00 Success",
				"4-54 Properties = 12 properties",
				"4-5 . Property Length = 49 (1 byte, varint)",
				"5-10 . Session Expiry Interval = 4294967295 (session never expires)",
				`10-19 . Assigned Client Identifier = "auto-7"`,
				"19-22 . Server Keep Alive = 45 seconds",
				"22-25 . Receive Maximum = 10",
				"25-27 . Maximum QoS = 1",
				"27-29 . Retain Available = 1 (yes)",
				"29-34 . Maximum Packet Size = 1048576 bytes",
				"34-37 . Topic Alias Maximum = 5",
				"37-39 . Wildcard Subscription Available = 1 (yes)",
				"39-41 . Subscription Identifier Available = 0 (no)",
				"41-43 . Shared Subscription Available = 0 (no)",
				`43-54 . Response Information = "replies/"`,
			}},
	},
	{
		name: "CONNACK 5.0 refused", version: 5,
		raw: []byte{
			0x20, 3, // CONNACK, remaining length 3
			0x00, // Connect Acknowledge Flags: none
			0x86, // Reason Code: Bad User Name or Password
			0,    // Property Length 0
		},
		want: view{N: 5, Type: "CONNACK", Version: 5, Summary: "CONNACK Bad User Name or Password", ReasonCode: 0x86,
			Layout: []string{
				"0-1 Packet type = CONNACK (2)",
				"0-1 Flags = 0b0000 (reserved)",
				"1-2 Remaining Length = 3 (1 byte, varint)",
				"2-3 Connect Acknowledge Flags = 0b00000000",
				"2-3 . Reserved = 0b0000000",
				"2-3 . Session Present = 0 (not set)",
				"3-4 Reason Code = 0x86 Bad User Name or Password",
				"4-5 Properties = none",
				"4-5 . Property Length = 0 (1 byte, varint)",
			}},
	},
	{
		name: "PUBLISH 5.0 QoS 1 with properties", version: 5,
		raw: []byte{
			0x32, 99, // PUBLISH QoS 1, remaining length 99
			0, 20, 's', 'e', 'n', 's', 'o', 'r', 's', '/', 'k', 'i', 't', 'c', 'h', 'e', 'n', '/', 't', 'e', 'm', 'p', // Topic Name
			0, 2, // Packet Identifier 2
			64,      // Property Length
			0x01, 1, // Payload Format Indicator: UTF-8
			0x02, 0, 0, 1, 44, // Message Expiry Interval 300
			0x23, 0, 1, // Topic Alias 1
			0x08, 0, 13, 'r', 'e', 'p', 'l', 'i', 'e', 's', '/', 'w', 'e', 'b', '-', '1', // Response Topic
			0x09, 0, 3, 0x01, 0x02, 0xff, // Correlation Data
			0x26, 0, 4, 'u', 'n', 'i', 't', 0, 1, 'C', // User Property
			0x0B, 0xC8, 0x01, // Subscription Identifier 200 (two-byte varint)
			0x03, 0, 16, 'a', 'p', 'p', 'l', 'i', 'c', 'a', 't', 'i', 'o', 'n', '/', 'j', 's', 'o', 'n', // Content Type
			'{', '"', 't', '"', ':', '2', '1', '.', '5', '}', // Payload
		},
		want: view{N: 101, Type: "PUBLISH", Version: 5, Summary: `PUBLISH "sensors/kitchen/temp" alias=1 qos1 id=2 (10 bytes)`,
			Topic: "sensors/kitchen/temp", Payload: `{"t":21.5}`, PacketID: 2,
			Layout: []string{
				"0-1 Packet type = PUBLISH (3)",
				"0-1 Flags = 0b0010",
				"0-1 . DUP = 0 (not set)",
				"0-1 . QoS = 1 (at least once)",
				"0-1 . RETAIN = 0 (not set)",
				"1-2 Remaining Length = 99 (1 byte, varint)",
				`2-24 Topic Name = "sensors/kitchen/temp"`,
				"24-26 Packet Identifier = 2",
				"26-91 Properties = 8 properties",
				"26-27 . Property Length = 64 (1 byte, varint)",
				"27-29 . Payload Format Indicator = 1 (UTF-8 text)",
				"29-34 . Message Expiry Interval = 300 seconds",
				"34-37 . Topic Alias = 1",
				`37-53 . Response Topic = "replies/web-1"`,
				"53-59 . Correlation Data = 0x0102ff",
				`59-69 . User Property = "unit": "C"`,
				"69-72 . Subscription Identifier = 200",
				`72-91 . Content Type = "application/json"`,
				`91-101 Payload = {"t":21.5}`,
			}},
	},
	{
		name: "PUBLISH 5.0 with a topic alias and no topic name", version: 5,
		raw: []byte{
			0x30, 8, // PUBLISH QoS 0, remaining length 8
			0, 0, // Topic Name: empty
			3,          // Property Length
			0x23, 0, 1, // Topic Alias 1
			'h', 'i', // Payload
		},
		want: view{N: 10, Type: "PUBLISH", Version: 5, Summary: `PUBLISH "" alias=1 qos0 (2 bytes)`, Payload: "hi",
			Layout: []string{
				"0-1 Packet type = PUBLISH (3)",
				"0-1 Flags = 0b0000",
				"0-1 . DUP = 0 (not set)",
				"0-1 . QoS = 0 (at most once)",
				"0-1 . RETAIN = 0 (not set)",
				"1-2 Remaining Length = 8 (1 byte, varint)",
				`2-4 Topic Name = ""`,
				"4-8 Properties = 1 property",
				"4-5 . Property Length = 3 (1 byte, varint)",
				"5-8 . Topic Alias = 1",
				"8-10 Payload = hi",
			}},
	},
	{
		name: "PUBACK 5.0 without reason code", version: 5,
		raw: []byte{0x40, 2, 0, 2}, // PUBACK, remaining length 2, Packet Identifier 2
		want: view{N: 4, Type: "PUBACK", Version: 5, Summary: "PUBACK id=2 Success", PacketID: 2,
			Layout: []string{
				"0-1 Packet type = PUBACK (4)",
				"0-1 Flags = 0b0000 (reserved)",
				"1-2 Remaining Length = 2 (1 byte, varint)",
				"2-4 Packet Identifier = 2",
			}},
	},
	{
		name: "PUBACK 5.0 with a reason code and no properties", version: 5,
		raw: []byte{
			0x40, 3, // PUBACK, remaining length 3
			0, 3, // Packet Identifier 3
			0x10, // Reason Code: No matching subscribers
		},
		want: view{N: 5, Type: "PUBACK", Version: 5, Summary: "PUBACK id=3 No matching subscribers", PacketID: 3, ReasonCode: 0x10,
			Layout: []string{
				"0-1 Packet type = PUBACK (4)",
				"0-1 Flags = 0b0000 (reserved)",
				"1-2 Remaining Length = 3 (1 byte, varint)",
				"2-4 Packet Identifier = 3",
				"4-5 Reason Code = 0x10 No matching subscribers",
			}},
	},
	{
		name: "PUBREC 5.0 with a reason string", version: 5,
		raw: []byte{
			0x50, 13, // PUBREC, remaining length 13
			0, 7, // Packet Identifier 7
			0x91,                                     // Reason Code: Packet Identifier in use
			9,                                        // Property Length
			0x1F, 0, 6, 'i', 'n', ' ', 'u', 's', 'e', // Reason String
		},
		want: view{N: 15, Type: "PUBREC", Version: 5, Summary: "PUBREC id=7 Packet Identifier in use", PacketID: 7, ReasonCode: 0x91,
			Layout: []string{
				"0-1 Packet type = PUBREC (5)",
				"0-1 Flags = 0b0000 (reserved)",
				"1-2 Remaining Length = 13 (1 byte, varint)",
				"2-4 Packet Identifier = 7",
				"4-5 Reason Code = 0x91 Packet Identifier in use",
				"5-15 Properties = 1 property",
				"5-6 . Property Length = 9 (1 byte, varint)",
				`6-15 . Reason String = "in use"`,
			}},
	},
	{
		name: "PUBREL 5.0", version: 5,
		raw: []byte{
			0x62, 3, // PUBREL (flags 0010), remaining length 3
			0, 7, // Packet Identifier 7
			0x92, // Reason Code: Packet Identifier not found
		},
		want: view{N: 5, Type: "PUBREL", Version: 5, Summary: "PUBREL id=7 Packet Identifier not found", PacketID: 7, ReasonCode: 0x92,
			Layout: []string{
				"0-1 Packet type = PUBREL (6)",
				"0-1 Flags = 0b0010 (reserved)",
				"1-2 Remaining Length = 3 (1 byte, varint)",
				"2-4 Packet Identifier = 7",
				"4-5 Reason Code = 0x92 Packet Identifier not found",
			}},
	},
	{
		name: "PUBCOMP 5.0 with empty properties", version: 5,
		raw: []byte{
			0x70, 4, // PUBCOMP, remaining length 4
			0, 7, // Packet Identifier 7
			0x00, // Reason Code: Success
			0,    // Property Length 0
		},
		want: view{N: 6, Type: "PUBCOMP", Version: 5, Summary: "PUBCOMP id=7 Success", PacketID: 7,
			Layout: []string{
				"0-1 Packet type = PUBCOMP (7)",
				"0-1 Flags = 0b0000 (reserved)",
				"1-2 Remaining Length = 4 (1 byte, varint)",
				"2-4 Packet Identifier = 7",
				"4-5 Reason Code = 0x00 Success",
				"5-6 Properties = none",
				"5-6 . Property Length = 0 (1 byte, varint)",
			}},
	},
	{
		name: "SUBSCRIBE 5.0 with subscription identifier and options", version: 5,
		raw: []byte{
			0x82, 38, // SUBSCRIBE (flags 0010), remaining length 38
			0, 1, // Packet Identifier 1
			2,       // Property Length
			0x0B, 7, // Subscription Identifier 7
			0, 14, 's', 'e', 'n', 's', 'o', 'r', 's', '/', '+', '/', 't', 'e', 'm', 'p', // Topic Filter
			0b00011101,                                                             // Subscription Options: retain handling 1, retain as published, no local, QoS 1
			0, 13, '$', 's', 'h', 'a', 'r', 'e', '/', 'g', '/', 'j', 'o', 'b', 's', // Topic Filter
			0b00000000, // Subscription Options: QoS 0
		},
		want: view{N: 40, Type: "SUBSCRIBE", Version: 5, Summary: `SUBSCRIBE id=1 "sensors/+/temp" qos1, "$share/g/jobs" qos0`, PacketID: 1,
			Layout: []string{
				"0-1 Packet type = SUBSCRIBE (8)",
				"0-1 Flags = 0b0010 (reserved)",
				"1-2 Remaining Length = 38 (1 byte, varint)",
				"2-4 Packet Identifier = 1",
				"4-7 Properties = 1 property",
				"4-5 . Property Length = 2 (1 byte, varint)",
				"5-7 . Subscription Identifier = 7",
				`7-23 Topic Filter = "sensors/+/temp"`,
				"23-24 Subscription Options = 0b00011101",
				"23-24 . Reserved = 0b00",
				"23-24 . Retain Handling = 1 (send retained messages only for a new subscription)",
				"23-24 . Retain As Published = 1 (set)",
				"23-24 . No Local = 1 (set)",
				"23-24 . Maximum QoS = 1 (at least once)",
				`24-39 Topic Filter = "$share/g/jobs"`,
				"39-40 Subscription Options = 0b00000000",
				"39-40 . Reserved = 0b00",
				"39-40 . Retain Handling = 0 (send retained messages at subscribe)",
				"39-40 . Retain As Published = 0 (not set)",
				"39-40 . No Local = 0 (not set)",
				"39-40 . Maximum QoS = 0 (at most once)",
			}},
	},
	{
		name: "SUBACK 5.0", version: 5,
		raw: []byte{
			0x90, 6, // SUBACK, remaining length 6
			0, 1, // Packet Identifier 1
			0,    // Property Length 0
			0x01, // Reason Code: Granted QoS 1
			0x00, // Reason Code: Granted QoS 0
			0x9E, // Reason Code: Shared Subscriptions not supported
		},
		want: view{N: 8, Type: "SUBACK", Version: 5, Summary: "SUBACK id=1 Granted QoS 1, Granted QoS 0, Shared Subscriptions not supported",
			PacketID: 1, ReasonCode: 1,
			Layout: []string{
				"0-1 Packet type = SUBACK (9)",
				"0-1 Flags = 0b0000 (reserved)",
				"1-2 Remaining Length = 6 (1 byte, varint)",
				"2-4 Packet Identifier = 1",
				"4-5 Properties = none",
				"4-5 . Property Length = 0 (1 byte, varint)",
				"5-6 Reason Code = 0x01 Granted QoS 1",
				"6-7 Reason Code = 0x00 Granted QoS 0",
				"7-8 Reason Code = 0x9E Shared Subscriptions not supported",
			}},
	},
	{
		name: "UNSUBSCRIBE 5.0 with a user property", version: 5,
		raw: []byte{
			0xA2, 19, // UNSUBSCRIBE (flags 0010), remaining length 19
			0, 5, // Packet Identifier 5
			11,                                             // Property Length
			0x26, 0, 3, 'w', 'h', 'y', 0, 3, 'b', 'y', 'e', // User Property
			0, 3, 'x', '/', '#', // Topic Filter
		},
		want: view{N: 21, Type: "UNSUBSCRIBE", Version: 5, Summary: `UNSUBSCRIBE id=5 "x/#"`, PacketID: 5,
			Layout: []string{
				"0-1 Packet type = UNSUBSCRIBE (10)",
				"0-1 Flags = 0b0010 (reserved)",
				"1-2 Remaining Length = 19 (1 byte, varint)",
				"2-4 Packet Identifier = 5",
				"4-16 Properties = 1 property",
				"4-5 . Property Length = 11 (1 byte, varint)",
				`5-16 . User Property = "why": "bye"`,
				`16-21 Topic Filter = "x/#"`,
			}},
	},
	{
		name: "UNSUBACK 5.0", version: 5,
		raw: []byte{
			0xB0, 5, // UNSUBACK, remaining length 5
			0, 5, // Packet Identifier 5
			0,    // Property Length 0
			0x00, // Reason Code: Success
			0x11, // Reason Code: No subscription existed
		},
		want: view{N: 7, Type: "UNSUBACK", Version: 5, Summary: "UNSUBACK id=5 Success, No subscription existed", PacketID: 5,
			Layout: []string{
				"0-1 Packet type = UNSUBACK (11)",
				"0-1 Flags = 0b0000 (reserved)",
				"1-2 Remaining Length = 5 (1 byte, varint)",
				"2-4 Packet Identifier = 5",
				"4-5 Properties = none",
				"4-5 . Property Length = 0 (1 byte, varint)",
				"5-6 Reason Code = 0x00 Success",
				"6-7 Reason Code = 0x11 No subscription existed",
			}},
	},
	{
		name: "DISCONNECT 5.0 without reason code", version: 5,
		raw: []byte{0xE0, 0}, // DISCONNECT, remaining length 0
		want: view{N: 2, Type: "DISCONNECT", Version: 5, Summary: "DISCONNECT Normal disconnection",
			Layout: []string{
				"0-1 Packet type = DISCONNECT (14)",
				"0-1 Flags = 0b0000 (reserved)",
				"1-2 Remaining Length = 0 (1 byte, varint)",
			}},
	},
	{
		name: "DISCONNECT 5.0 with will message", version: 5,
		raw: []byte{
			0xE0, 13, // DISCONNECT, remaining length 13
			0x04,             // Reason Code: Disconnect with Will Message
			11,               // Property Length
			0x11, 0, 0, 0, 0, // Session Expiry Interval 0
			0x1F, 0, 3, 'b', 'y', 'e', // Reason String
		},
		want: view{N: 15, Type: "DISCONNECT", Version: 5, Summary: "DISCONNECT Disconnect with Will Message", ReasonCode: 4,
			Layout: []string{
				"0-1 Packet type = DISCONNECT (14)",
				"0-1 Flags = 0b0000 (reserved)",
				"1-2 Remaining Length = 13 (1 byte, varint)",
				"2-3 Reason Code = 0x04 Disconnect with Will Message",
				"3-15 Properties = 2 properties",
				"3-4 . Property Length = 11 (1 byte, varint)",
				"4-9 . Session Expiry Interval = 0 (session ends with the connection)",
				`9-15 . Reason String = "bye"`,
			}},
	},
	{
		name: "DISCONNECT 5.0 from the broker with a server reference", version: 5,
		raw: []byte{
			0xE0, 16, // DISCONNECT, remaining length 16
			0x9C,                                                               // Reason Code: Use another server
			14,                                                                 // Property Length
			0x1C, 0, 11, 'b', 'a', 'c', 'k', 'u', 'p', ':', '8', '8', '8', '3', // Server Reference
		},
		want: view{N: 18, Type: "DISCONNECT", Version: 5, Summary: "DISCONNECT Use another server", ReasonCode: 0x9C,
			Layout: []string{
				"0-1 Packet type = DISCONNECT (14)",
				"0-1 Flags = 0b0000 (reserved)",
				"1-2 Remaining Length = 16 (1 byte, varint)",
				"2-3 Reason Code = 0x9C Use another server",
				"3-18 Properties = 1 property",
				"3-4 . Property Length = 14 (1 byte, varint)",
				`4-18 . Server Reference = "backup:8883"`,
			}},
	},
	{
		name: "AUTH 5.0", version: 5,
		raw: []byte{
			0xF0, 22, // AUTH, remaining length 22
			0x18,                                                               // Reason Code: Continue authentication
			20,                                                                 // Property Length
			0x15, 0, 11, 'S', 'C', 'R', 'A', 'M', '-', 'S', 'H', 'A', '-', '1', // Authentication Method
			0x16, 0, 3, 0x00, 0x10, 0xff, // Authentication Data
		},
		want: view{N: 24, Type: "AUTH", Version: 5, Summary: `AUTH Continue authentication method "SCRAM-SHA-1"`, ReasonCode: 0x18,
			Layout: []string{
				"0-1 Packet type = AUTH (15)",
				"0-1 Flags = 0b0000 (reserved)",
				"1-2 Remaining Length = 22 (1 byte, varint)",
				"2-3 Reason Code = 0x18 Continue authentication",
				"3-24 Properties = 2 properties",
				"3-4 . Property Length = 20 (1 byte, varint)",
				`4-18 . Authentication Method = "SCRAM-SHA-1"`,
				"18-24 . Authentication Data = 0x0010ff",
			}},
	},
	{
		name: "AUTH 5.0 without reason code", version: 5,
		raw: []byte{0xF0, 0}, // AUTH, remaining length 0
		want: view{N: 2, Type: "AUTH", Version: 5, Summary: "AUTH Success",
			Layout: []string{
				"0-1 Packet type = AUTH (15)",
				"0-1 Flags = 0b0000 (reserved)",
				"1-2 Remaining Length = 0 (1 byte, varint)",
			}},
	},
}

func TestDecodeValid(t *testing.T) {
	for _, c := range validPackets {
		t.Run(c.name, func(t *testing.T) {
			p, n, err := Decode(c.raw, c.version)
			diffView(t, viewOf(p, n, err), c.want)
			checkFields(t, p, n)
			if n != len(c.raw) {
				t.Errorf("n = %d, want the whole input, %d", n, len(c.raw))
			}
		})
	}
}

// TestDecodeIncomplete feeds every proper prefix of every valid packet.
func TestDecodeIncomplete(t *testing.T) {
	for _, c := range validPackets {
		for i := range len(c.raw) {
			p, n, err := Decode(c.raw[:i], c.version)
			if n != 0 || !errors.Is(err, io.ErrUnexpectedEOF) || !reflect.DeepEqual(p, Packet{}) {
				t.Fatalf("%s: %d of %d bytes: got n=%d err=%v p=%+v, want 0, io.ErrUnexpectedEOF and a zero packet",
					c.name, i, len(c.raw), n, err, p)
			}
		}
	}
}

// TestDecodeStream decodes all valid packets from one buffer, each
// followed by the next, as a connection would deliver them.
func TestDecodeStream(t *testing.T) {
	var stream []byte
	for _, c := range validPackets {
		stream = append(stream, c.raw...)
	}
	for _, c := range validPackets {
		p, n, err := Decode(stream, c.version)
		if err != nil || n != len(c.raw) || p.Summary != c.want.Summary {
			t.Fatalf("%s: got n=%d err=%v summary %q, want n=%d summary %q", c.name, n, err, p.Summary, len(c.raw), c.want.Summary)
		}
		stream = stream[n:]
	}
}

// TestDecodeCopiesPayload checks Payload and Password do not alias the
// input, which the caller may reuse.
func TestDecodeCopiesPayload(t *testing.T) {
	for _, c := range validPackets {
		raw := append([]byte{}, c.raw...)
		p, _, _ := Decode(raw, c.version)
		for i := range raw {
			raw[i] ^= 0xff
		}
		if string(p.Payload) != c.want.Payload || string(p.Password) != c.want.Password {
			t.Errorf("%s: Payload %q, Password %q changed with the input", c.name, p.Payload, p.Password)
		}
	}
}

// badPackets holds packets that break a rule: want gives N, Err, PErr and
// Summary (the rest is not compared).
var badPackets = []packetCase{
	{
		name: "remaining length of 5 bytes", version: 4,
		raw:  []byte{0x30, 0xff, 0xff, 0xff, 0xff, 0x01},
		want: view{Err: "trace: mqtt: remaining length at offset 1 exceeds 4 bytes"},
	},
	{
		name: "remaining length with 4 continuation bytes and no fifth", version: 4,
		raw:  []byte{0xC0, 0x80, 0x80, 0x80, 0x80},
		want: view{Err: "trace: mqtt: remaining length at offset 1 exceeds 4 bytes"},
	},
	{
		name: "non-minimal remaining length in 5.0", version: 5,
		raw: []byte{0xC0, 0x80, 0x00}, // PINGREQ, remaining length 0 in two bytes
		want: view{N: 3, Summary: "PINGREQ (malformed)",
			PErr: "trace: mqtt: remaining length at offset 1 uses 2 bytes where 1 would do [MQTT-1.5.5-1]"},
	},
	{
		name: "non-minimal remaining length in 3.1.1 is only noted", version: 4,
		raw:  []byte{0xC0, 0x80, 0x00},
		want: view{N: 3, Summary: "PINGREQ"},
	},
	{
		name: "truncated topic name", version: 4,
		raw: []byte{
			0x30, 5, // PUBLISH, remaining length 5
			0, 10, 'a', 'b', 'c', // Topic Name announces 10 bytes
		},
		want: view{N: 7, Summary: "PUBLISH qos0 (malformed)",
			PErr: "trace: mqtt: Topic Name at offset 2 announces 10 bytes but only 3 remain in the packet"},
	},
	{
		name: "missing packet identifier", version: 4,
		raw: []byte{0x32, 3, 0, 1, 't'}, // PUBLISH QoS 1 that ends after its topic
		want: view{N: 5, Summary: `PUBLISH "t" qos1 (malformed)`,
			PErr: "trace: mqtt: Packet Identifier at offset 5 needs 2 bytes but only 0 remain in the packet"},
	},
	{
		name: "unknown property identifier", version: 5,
		raw: []byte{
			0x30, 8, // PUBLISH, remaining length 8
			0, 1, 't', // Topic Name
			2,          // Property Length
			0x50, 0x00, // identifier 0x50 does not exist
			'h', 'i', // Payload
		},
		want: view{N: 10, Summary: `PUBLISH "t" qos0 (malformed)`,
			PErr: "trace: mqtt: unknown property identifier 0x50 at offset 6"},
	},
	{
		name: "property not allowed in the packet", version: 5,
		raw: []byte{
			0x30, 11, // PUBLISH, remaining length 11
			0, 1, 't', // Topic Name
			5,                 // Property Length
			0x11, 0, 0, 0, 10, // Session Expiry Interval belongs to CONNECT, CONNACK and DISCONNECT
			'h', 'i', // Payload
		},
		want: view{N: 13, Summary: `PUBLISH "t" qos0 (2 bytes) (malformed)`,
			PErr: "trace: mqtt: property Session Expiry Interval (0x11) at offset 6 is not allowed in PUBLISH"},
	},
	{
		name: "property given twice", version: 5,
		raw: []byte{
			0x20, 9, // CONNACK, remaining length 9
			0, 0, // flags, Reason Code
			6,           // Property Length
			0x21, 0, 10, // Receive Maximum
			0x21, 0, 20, // Receive Maximum again
		},
		want: view{N: 11, Summary: "CONNACK Success (malformed)",
			PErr: "trace: mqtt: property Receive Maximum (0x21) at offset 8 appears more than once in CONNACK"},
	},
	{
		name: "property length beyond the packet", version: 5,
		raw: []byte{0x40, 5, 0, 1, 0x00, 10, 0x1F}, // PUBACK, id 1, Success, Property Length 10
		want: view{N: 7, Summary: "PUBACK id=1 Success (malformed)",
			PErr: "trace: mqtt: Properties at offset 5 announce 10 bytes but only 1 remain in the packet"},
	},
	{
		name: "string property beyond the property length", version: 5,
		raw: []byte{
			0xE0, 7, // DISCONNECT, remaining length 7
			0x00,       // Reason Code
			3,          // Property Length 3
			0x1F, 0, 5, // Reason String announces 5 bytes, past the properties
			'a', 'b',
		},
		want: view{N: 9, Summary: "DISCONNECT Normal disconnection (malformed)",
			PErr: "trace: mqtt: Reason String at offset 5 announces 5 bytes but only 0 remain in the Properties"},
	},
	{
		name: "PUBLISH with QoS 3", version: 4,
		raw: []byte{0x36, 3, 0, 1, 't'},
		want: view{N: 5, Summary: "PUBLISH qos3 (malformed)",
			PErr: "trace: mqtt: PUBLISH has both QoS bits set: QoS 3 does not exist [MQTT-3.3.1-4]"},
	},
	{
		name: "PUBLISH with DUP and QoS 0", version: 4,
		raw: []byte{0x38, 3, 0, 1, 't'},
		want: view{N: 5, Summary: `PUBLISH "t" qos0 dup (0 bytes) (malformed)`,
			PErr: "trace: mqtt: PUBLISH with QoS 0 has the DUP flag set [MQTT-3.3.1-2]"},
	},
	{
		name: "reserved flags set in 3.1.1", version: 4,
		raw: []byte{0x41, 2, 0, 1},
		want: view{N: 4, Summary: "PUBACK id=1 (malformed)",
			PErr: "trace: mqtt: PUBACK fixed header flags are 0b0001 but must be 0b0000 [MQTT-2.2.2-1]"},
	},
	{
		name: "reserved flags set in 5.0", version: 5,
		raw: []byte{0x41, 2, 0, 1},
		want: view{N: 4, Summary: "PUBACK id=1 Success (malformed)",
			PErr: "trace: mqtt: PUBACK fixed header flags are 0b0001 but must be 0b0000 [MQTT-2.1.3-1]"},
	},
	{
		name: "SUBSCRIBE flags not 0010", version: 4,
		raw: []byte{0x80, 6, 0, 1, 0, 1, 'a', 0},
		want: view{N: 8, Summary: `SUBSCRIBE id=1 "a" qos0 (malformed)`,
			PErr: "trace: mqtt: SUBSCRIBE fixed header flags are 0b0000 but must be 0b0010 [MQTT-3.8.1-1]"},
	},
	{
		name: "PUBREL flags not 0010", version: 4,
		raw: []byte{0x60, 2, 0, 1},
		want: view{N: 4, Summary: "PUBREL id=1 (malformed)",
			PErr: "trace: mqtt: PUBREL fixed header flags are 0b0000 but must be 0b0010 [MQTT-3.6.1-1]"},
	},
	{
		name: "CONNECT reserved flag", version: 0,
		raw: []byte{0x10, 13, 0, 4, 'M', 'Q', 'T', 'T', 4, 0x03, 0, 0, 0, 1, 'c'},
		want: view{N: 15, Summary: `CONNECT client "c" v3.1.1 keepalive 0 (malformed)`,
			PErr: "trace: mqtt: CONNECT flags at offset 9 have the reserved bit 0 set [MQTT-3.1.2-3]"},
	},
	{
		name: "CONNECT will QoS without will flag in 3.1.1", version: 0,
		raw: []byte{0x10, 13, 0, 4, 'M', 'Q', 'T', 'T', 4, 0x08, 0, 0, 0, 1, 'c'},
		want: view{N: 15, Summary: `CONNECT client "c" v3.1.1 keepalive 0 (malformed)`,
			PErr: "trace: mqtt: CONNECT flags at offset 9 set Will QoS 1 without the Will Flag [MQTT-3.1.2-13]"},
	},
	{
		name: "CONNECT will QoS without will flag in 5.0", version: 0,
		raw: []byte{0x10, 14, 0, 4, 'M', 'Q', 'T', 'T', 5, 0x08, 0, 0, 0, 0, 1, 'c'},
		want: view{N: 16, Summary: `CONNECT client "c" v5 keepalive 0 (malformed)`,
			PErr: "trace: mqtt: CONNECT flags at offset 9 set Will QoS 1 without the Will Flag [MQTT-3.1.2-11]"},
	},
	{
		name: "CONNECT will QoS 3", version: 0,
		raw: []byte{0x10, 18, 0, 4, 'M', 'Q', 'T', 'T', 4, 0x1C, 0, 0,
			0, 1, 'c', // Client Identifier
			0, 1, 'w', // Will Topic
			0, 0, // Will Message
		},
		want: view{N: 20, Summary: `CONNECT client "c" will "w" v3.1.1 keepalive 0 (malformed)`,
			PErr: "trace: mqtt: CONNECT flags at offset 9 set Will QoS 3, which does not exist [MQTT-3.1.2-14]"},
	},
	{
		name: "CONNECT password without user name in 3.1.1", version: 0,
		raw: []byte{0x10, 16, 0, 4, 'M', 'Q', 'T', 'T', 4, 0x40, 0, 0, 0, 1, 'c', 0, 1, 'p'},
		want: view{N: 18, Summary: `CONNECT client "c" v3.1.1 keepalive 0 (malformed)`,
			PErr: "trace: mqtt: CONNECT flags at offset 9 set the Password Flag without the User Name Flag [MQTT-3.1.2-22]"},
	},
	{
		name: "CONNECT password without user name is fine in 5.0", version: 0,
		raw:  []byte{0x10, 17, 0, 4, 'M', 'Q', 'T', 'T', 5, 0x40, 0, 0, 0, 0, 1, 'c', 0, 1, 'p'},
		want: view{N: 19, Summary: `CONNECT client "c" v5 keepalive 0`},
	},
	{
		name: "CONNECT with an unknown protocol level", version: 0,
		raw: []byte{0x10, 10, 0, 4, 'M', 'Q', 'T', 'T', 6, 0, 0, 0},
		want: view{N: 12, Summary: "CONNECT v3.1.1 (malformed)",
			PErr: "trace: mqtt: CONNECT at offset 8 asks for protocol level 6, which this decoder does not know (3, 4 and 5 exist) [MQTT-3.1.2-2]"},
	},
	{
		name: "CONNECT with a wrong protocol name", version: 0,
		raw: []byte{0x10, 13, 0, 4, 'M', 'Q', 'T', 'X', 4, 0x02, 0, 0, 0, 1, 'c'},
		want: view{N: 15, Summary: `CONNECT client "c" v3.1.1 keepalive 0 (malformed)`,
			PErr: `trace: mqtt: CONNECT protocol name is "MQTX" but level 4 uses "MQTT" [MQTT-3.1.2-1]`},
	},
	{
		name: "packet type 0", version: 4,
		raw:  []byte{0x00, 1, 0xAA},
		want: view{N: 3, Summary: "Reserved(0) (malformed)", PErr: "trace: mqtt: packet type 0 is reserved"},
	},
	{
		name: "packet type 15 in 3.1.1", version: 4,
		raw:  []byte{0xF0, 0},
		want: view{N: 2, Summary: "Reserved(15) (malformed)", PErr: "trace: mqtt: packet type 15 is reserved before MQTT 5.0"},
	},
	{
		name: "PINGREQ with a body", version: 4,
		raw: []byte{0xC0, 1, 0x00},
		want: view{N: 3, Summary: "PINGREQ (malformed)",
			PErr: "trace: mqtt: PINGREQ has 1 unexpected byte at offset 2 after its last field"},
	},
	{
		name: "CONNACK 3.1.1 with an extra byte", version: 4,
		raw: []byte{0x20, 3, 0, 0, 0},
		want: view{N: 5, Summary: "CONNACK Connection Accepted (malformed)",
			PErr: "trace: mqtt: CONNACK has 1 unexpected byte at offset 4 after its last field"},
	},
	{
		name: "SUBSCRIBE without filters in 3.1.1", version: 4,
		raw:  []byte{0x82, 2, 0, 1},
		want: view{N: 4, Summary: "SUBSCRIBE id=1 (malformed)", PErr: "trace: mqtt: SUBSCRIBE has no topic filter [MQTT-3.8.3-3]"},
	},
	{
		name: "SUBSCRIBE without filters in 5.0", version: 5,
		raw:  []byte{0x82, 3, 0, 1, 0},
		want: view{N: 5, Summary: "SUBSCRIBE id=1 (malformed)", PErr: "trace: mqtt: SUBSCRIBE has no topic filter [MQTT-3.8.3-2]"},
	},
	{
		name: "SUBSCRIBE 3.1.1 asking for QoS 3", version: 4,
		raw: []byte{0x82, 6, 0, 1, 0, 1, 'a', 3},
		want: view{N: 8, Summary: `SUBSCRIBE id=1 "a" qos3 (malformed)`,
			PErr: "trace: mqtt: SUBSCRIBE Requested QoS at offset 7 is 0x03: reserved bits must be 0 and QoS at most 2 [MQTT-3.8.3-4]"},
	},
	{
		name: "SUBSCRIBE 5.0 with reserved option bits", version: 5,
		raw: []byte{0x82, 7, 0, 1, 0, 0, 1, 'a', 0xC0},
		want: view{N: 9, Summary: `SUBSCRIBE id=1 "a" qos0 (malformed)`,
			PErr: "trace: mqtt: SUBSCRIBE options at offset 8 have reserved bits set [MQTT-3.8.3-5]"},
	},
	{
		name: "SUBSCRIBE 5.0 with No Local on a shared subscription", version: 5,
		raw: []byte{0x82, 14, 0, 1, 0, 0, 8, '$', 's', 'h', 'a', 'r', 'e', '/', 'g', 0x04},
		want: view{N: 16, Summary: `SUBSCRIBE id=1 "$share/g" qos0 (malformed)`,
			PErr: "trace: mqtt: SUBSCRIBE options at offset 15 set No Local on a shared subscription [MQTT-3.8.3-4]"},
	},
	{
		name: "PUBLISH topic with a wildcard", version: 4,
		raw: []byte{0x30, 5, 0, 3, 'a', '/', '#'},
		want: view{N: 7, Summary: `PUBLISH "a/#" qos0 (0 bytes) (malformed)`,
			PErr: "trace: mqtt: PUBLISH Topic Name at offset 2 contains a wildcard character [MQTT-3.3.2-2]"},
	},
	{
		name: "PUBLISH 3.1.1 with an empty topic", version: 4,
		raw: []byte{0x30, 2, 0, 0},
		want: view{N: 4, Summary: `PUBLISH "" qos0 (0 bytes) (malformed)`,
			PErr: "trace: mqtt: PUBLISH Topic Name at offset 2 is empty [MQTT-4.7.3-1]"},
	},
	{
		name: "PUBLISH 5.0 with an empty topic and no alias", version: 5,
		raw: []byte{0x30, 3, 0, 0, 0},
		want: view{N: 5, Summary: `PUBLISH "" qos0 (0 bytes) (malformed)`,
			PErr: "trace: mqtt: PUBLISH has an empty Topic Name and no Topic Alias"},
	},
	{
		name: "topic not UTF-8 in 3.1.1", version: 4,
		raw: []byte{0x30, 4, 0, 2, 0xC3, 0x28},
		want: view{N: 6, Summary: `PUBLISH "\xc3(" qos0 (0 bytes) (malformed)`,
			PErr: "trace: mqtt: Topic Name at offset 2 is not well-formed UTF-8 [MQTT-1.5.3-1]"},
	},
	{
		name: "topic not UTF-8 in 5.0", version: 5,
		raw: []byte{0x30, 6, 0, 3, 0xED, 0xA0, 0x80, 0}, // an encoded surrogate, U+D800; no properties
		want: view{N: 8, Summary: `PUBLISH "\xed\xa0\x80" qos0 (0 bytes) (malformed)`,
			PErr: "trace: mqtt: Topic Name at offset 2 is not well-formed UTF-8 [MQTT-1.5.4-1]"},
	},
	{
		name: "topic with U+0000", version: 4,
		raw: []byte{0x30, 5, 0, 3, 'a', 0, 'b'},
		want: view{N: 7, Summary: `PUBLISH "a\x00b" qos0 (0 bytes) (malformed)`,
			PErr: "trace: mqtt: Topic Name at offset 2 contains the null character U+0000 [MQTT-1.5.3-2]"},
	},
	{
		name: "PUBLISH QoS 1 with packet identifier 0", version: 4,
		raw: []byte{0x32, 5, 0, 1, 't', 0, 0},
		want: view{N: 7, Summary: `PUBLISH "t" qos1 id=0 (0 bytes) (malformed)`,
			PErr: "trace: mqtt: PUBLISH Packet Identifier at offset 5 is 0, which is not allowed [MQTT-2.3.1-1]"},
	},
	{
		name: "CONNACK 5.0 with a reason code of another packet", version: 5,
		raw: []byte{0x20, 3, 0, 0x10, 0},
		want: view{N: 5, Summary: "CONNACK No matching subscribers (malformed)",
			PErr: "trace: mqtt: reason code 0x10 at offset 3 is not valid in CONNACK [MQTT-3.2.2-8]"},
	},
	{
		name: "CONNACK 3.1.1 refused with session present", version: 4,
		raw: []byte{0x20, 2, 1, 5},
		want: view{N: 4, Summary: "CONNACK Connection Refused: not authorized session-present (malformed)",
			PErr: "trace: mqtt: CONNACK refuses the connection but sets Session Present [MQTT-3.2.2-4]"},
	},
	{
		name: "SUBACK 3.1.1 with a reserved return code", version: 4,
		raw: []byte{0x90, 3, 0, 1, 3},
		want: view{N: 5, Summary: "SUBACK id=1 Reserved (malformed)",
			PErr: "trace: mqtt: SUBACK return code 0x03 at offset 4 is reserved [MQTT-3.9.3-2]"},
	},
	{
		name: "subscription identifier longer than 4 bytes", version: 5,
		raw: []byte{0x82, 12, 0, 1, 5, 0x0B, 0xff, 0xff, 0xff, 0xff, 0, 1, 'a', 0},
		want: view{N: 14, Summary: "SUBSCRIBE id=1 (malformed)",
			PErr: "trace: mqtt: Subscription Identifier at offset 6 exceeds 4 bytes"},
	},
	{
		name: "property length cut short", version: 5,
		raw: []byte{0x40, 4, 0, 1, 0x00, 0x80},
		want: view{N: 6, Summary: "PUBACK id=1 Success (malformed)",
			PErr: "trace: mqtt: Property Length at offset 5 is cut short: the packet ends at offset 6"},
	},
	{
		name: "topic alias 0", version: 5,
		raw: []byte{0x30, 7, 0, 1, 't', 3, 0x23, 0, 0},
		want: view{N: 9, Summary: `PUBLISH "t" qos0 (0 bytes) (malformed)`,
			PErr: "trace: mqtt: property Topic Alias at offset 6 must not be 0"},
	},
	{
		name: "yes/no property with value 2", version: 5,
		raw: []byte{0x20, 5, 0, 0, 2, 0x25, 2},
		want: view{N: 7, Summary: "CONNACK Success (malformed)",
			PErr: "trace: mqtt: property Retain Available at offset 5 must be 0 or 1, not 2"},
	},
}

func TestDecodeMalformed(t *testing.T) {
	for _, c := range badPackets {
		t.Run(c.name, func(t *testing.T) {
			p, n, err := Decode(c.raw, c.version)
			got := viewOf(p, n, err)
			got = view{N: got.N, Err: got.Err, PErr: got.PErr, Summary: got.Summary}
			diffView(t, got, c.want)
			if err == nil {
				checkFields(t, p, n)
				// Every byte is explained by some top-level field.
				covered := 0
				for _, f := range p.Fields {
					if f.Depth == 0 && f.Start <= covered {
						covered = max(covered, f.End)
					}
				}
				if covered != n {
					t.Errorf("top-level fields cover [0,%d), want [0,%d)", covered, n)
				}
			}
		})
	}
}

// TestFieldParts checks the full tree of a packet with a property, down
// to the length and value parts of its strings.
func TestFieldParts(t *testing.T) {
	raw := validPackets[slicesIndex(validPackets, "UNSUBSCRIBE 5.0 with a user property")].raw
	p, _, _ := Decode(raw, 5)
	var got []string
	for _, f := range p.Fields {
		got = append(got, fmt.Sprintf("%d-%d %s%s = %s [%s]", f.Start, f.End, strings.Repeat(". ", f.Depth), f.Name, f.Value, f.Spec))
	}
	want := []string{
		"0-1 Packet type = UNSUBSCRIBE (10) [MQTT 5.0 §2.1.2]",
		"0-1 Flags = 0b0010 (reserved) [MQTT 5.0 §2.1.3]",
		"1-2 Remaining Length = 19 (1 byte, varint) [MQTT 5.0 §2.1.4]",
		"2-4 Packet Identifier = 5 [MQTT 5.0 §3.10.2]",
		"4-16 Properties = 1 property [MQTT 5.0 §3.10.2.1]",
		"4-5 . Property Length = 11 (1 byte, varint) [MQTT 5.0 §3.10.2.1.1]",
		`5-16 . User Property = "why": "bye" [MQTT 5.0 §3.10.2.1.2]`,
		"5-6 . . Identifier = 0x26 (38) [MQTT 5.0 §2.2.2.2]",
		`6-11 . . Name = "why" [MQTT 5.0 §3.10.2.1.2]`,
		"6-8 . . . length = 3 [MQTT 5.0 §3.10.2.1.2]",
		`8-11 . . . value = "why" [MQTT 5.0 §3.10.2.1.2]`,
		`11-16 . . Value = "bye" [MQTT 5.0 §3.10.2.1.2]`,
		"11-13 . . . length = 3 [MQTT 5.0 §3.10.2.1.2]",
		`13-16 . . . value = "bye" [MQTT 5.0 §3.10.2.1.2]`,
		`16-21 Topic Filter = "x/#" [MQTT 5.0 §3.10.3]`,
		"16-18 . length = 3 [MQTT 5.0 §3.10.3]",
		`18-21 . value = "x/#" [MQTT 5.0 §3.10.3]`,
	}
	diffView(t, got, want)

	// A string property has its parts right under the property, and an
	// integer property a single value part.
	raw = validPackets[slicesIndex(validPackets, "PUBREC 5.0 with a reason string")].raw
	p, _, _ = Decode(raw, 5)
	got = got[:0]
	for _, f := range p.Fields[7:] {
		got = append(got, fmt.Sprintf("%d-%d %s%s = %s [%s]", f.Start, f.End, strings.Repeat(". ", f.Depth), f.Name, f.Value, f.Spec))
	}
	want = []string{
		`6-15 . Reason String = "in use" [MQTT 5.0 §3.5.2.2.2]`,
		"6-7 . . Identifier = 0x1F (31) [MQTT 5.0 §2.2.2.2]",
		"7-9 . . length = 6 [MQTT 5.0 §3.5.2.2.2]",
		`9-15 . . value = "in use" [MQTT 5.0 §3.5.2.2.2]`,
	}
	diffView(t, got, want)
}

func slicesIndex(cases []packetCase, name string) int {
	for i, c := range cases {
		if c.name == name {
			return i
		}
	}
	panic("no case " + name)
}

// TestReasonCodes checks the name of every MQTT 5 reason code and the
// packets that may carry it against the table of the specification (§2.4).
func TestReasonCodes(t *testing.T) {
	type use struct {
		code byte
		typ  byte
		name string
	}
	for _, u := range []use{
		{0x00, TypeConnack, "Success"}, {0x00, TypePuback, "Success"}, {0x00, TypePubrec, "Success"},
		{0x00, TypePubrel, "Success"}, {0x00, TypePubcomp, "Success"}, {0x00, TypeUnsuback, "Success"},
		{0x00, TypeAuth, "Success"}, {0x00, TypeDisconnect, "Normal disconnection"}, {0x00, TypeSuback, "Granted QoS 0"},
		{0x01, TypeSuback, "Granted QoS 1"}, {0x02, TypeSuback, "Granted QoS 2"},
		{0x04, TypeDisconnect, "Disconnect with Will Message"},
		{0x10, TypePuback, "No matching subscribers"}, {0x10, TypePubrec, "No matching subscribers"},
		{0x11, TypeUnsuback, "No subscription existed"},
		{0x18, TypeAuth, "Continue authentication"}, {0x19, TypeAuth, "Re-authenticate"},
		{0x80, TypeConnack, "Unspecified error"}, {0x80, TypeSuback, "Unspecified error"},
		{0x81, TypeConnack, "Malformed Packet"}, {0x81, TypeDisconnect, "Malformed Packet"},
		{0x82, TypeDisconnect, "Protocol Error"}, {0x83, TypePubrec, "Implementation specific error"},
		{0x84, TypeConnack, "Unsupported Protocol Version"}, {0x85, TypeConnack, "Client Identifier not valid"},
		{0x86, TypeConnack, "Bad User Name or Password"}, {0x87, TypeUnsuback, "Not authorized"},
		{0x88, TypeConnack, "Server unavailable"}, {0x89, TypeDisconnect, "Server busy"}, {0x8A, TypeConnack, "Banned"},
		{0x8B, TypeDisconnect, "Server shutting down"}, {0x8C, TypeConnack, "Bad authentication method"},
		{0x8D, TypeDisconnect, "Keep Alive timeout"}, {0x8E, TypeDisconnect, "Session taken over"},
		{0x8F, TypeSuback, "Topic Filter invalid"}, {0x90, TypePuback, "Topic Name invalid"},
		{0x91, TypeSuback, "Packet Identifier in use"}, {0x92, TypePubcomp, "Packet Identifier not found"},
		{0x93, TypeDisconnect, "Receive Maximum exceeded"}, {0x94, TypeDisconnect, "Topic Alias invalid"},
		{0x95, TypeConnack, "Packet too large"}, {0x96, TypeDisconnect, "Message rate too high"},
		{0x97, TypePuback, "Quota exceeded"}, {0x98, TypeDisconnect, "Administrative action"},
		{0x99, TypePubrec, "Payload format invalid"}, {0x9A, TypeConnack, "Retain not supported"},
		{0x9B, TypeDisconnect, "QoS not supported"}, {0x9C, TypeConnack, "Use another server"},
		{0x9D, TypeDisconnect, "Server moved"}, {0x9E, TypeSuback, "Shared Subscriptions not supported"},
		{0x9F, TypeConnack, "Connection rate exceeded"}, {0xA0, TypeDisconnect, "Maximum connect time"},
		{0xA1, TypeSuback, "Subscription Identifiers not supported"}, {0xA2, TypeDisconnect, "Wildcard Subscriptions not supported"},
	} {
		name, ok := reasonName(u.code, u.typ)
		if name != u.name || !ok {
			t.Errorf("reason 0x%02X in %s: got %q, allowed %v; want %q, allowed", u.code, typeNames[u.typ], name, ok, u.name)
		}
	}
	for _, u := range []use{{0x01, TypeConnack, ""}, {0x04, TypePuback, ""}, {0x80, TypePubrel, ""}, {0x92, TypePuback, ""},
		{0x82, TypeSuback, ""}, {0x18, TypeDisconnect, ""}, {0x03, TypePuback, ""}} {
		if name, ok := reasonName(u.code, u.typ); ok {
			t.Errorf("reason 0x%02X (%s) allowed in %s, want refused", u.code, name, typeNames[u.typ])
		}
	}
}

// mochiDecode decodes one packet with mochi's codec, as a second opinion.
func mochiDecode(raw []byte, version byte) (pk packets.Packet, err error) {
	pk.ProtocolVersion = version
	if err := pk.FixedHeader.Decode(raw[0]); err != nil {
		return pk, err
	}
	rem, bu, err := packets.DecodeLength(bytes.NewBuffer(raw[1:]))
	if err != nil {
		return pk, err
	}
	if 1+bu+rem > len(raw) {
		return pk, io.ErrUnexpectedEOF
	}
	pk.FixedHeader.Remaining = rem
	body := raw[1+bu : 1+bu+rem]
	switch pk.FixedHeader.Type {
	case packets.Connect:
		err = pk.ConnectDecode(body)
	case packets.Connack:
		err = pk.ConnackDecode(body)
	case packets.Publish:
		err = pk.PublishDecode(body)
	case packets.Puback:
		err = pk.PubackDecode(body)
	case packets.Pubrec:
		err = pk.PubrecDecode(body)
	case packets.Pubrel:
		err = pk.PubrelDecode(body)
	case packets.Pubcomp:
		err = pk.PubcompDecode(body)
	case packets.Subscribe:
		err = pk.SubscribeDecode(body)
	case packets.Suback:
		err = pk.SubackDecode(body)
	case packets.Unsubscribe:
		err = pk.UnsubscribeDecode(body)
	case packets.Unsuback:
		err = pk.UnsubackDecode(body)
	case packets.Pingreq:
		err = pk.PingreqDecode(body)
	case packets.Pingresp:
		err = pk.PingrespDecode(body)
	case packets.Disconnect:
		err = pk.DisconnectDecode(body)
	case packets.Auth:
		err = pk.AuthDecode(body)
	default:
		err = packets.ErrNoValidPacketAvailable
	}
	return pk, err
}

// mochiView puts the values both decoders produce side by side.
type mochiView struct {
	Version    byte
	Topic      string
	Payload    string
	PacketID   uint16
	ClientID   string
	Username   string
	Password   string
	ReasonCode byte
}

func mochiViewOf(pk packets.Packet) mochiView {
	v := mochiView{Version: pk.ProtocolVersion, Topic: pk.TopicName, Payload: string(pk.Payload),
		PacketID: pk.PacketID, ClientID: pk.Connect.ClientIdentifier, Username: string(pk.Connect.Username),
		Password: string(pk.Connect.Password), ReasonCode: pk.ReasonCode}
	if (pk.FixedHeader.Type == packets.Suback || pk.FixedHeader.Type == packets.Unsuback) && len(pk.ReasonCodes) > 0 {
		v.ReasonCode = pk.ReasonCodes[0]
	}
	return v
}

func oursViewOf(p Packet) mochiView {
	return mochiView{Version: p.Version, Topic: p.Topic, Payload: string(p.Payload), PacketID: p.PacketID,
		ClientID: p.ClientID, Username: p.Username, Password: string(p.Password), ReasonCode: p.ReasonCode}
}

// TestDecodeMochiCases decodes mochi's own byte-level test packets that
// mochi accepts, and compares the values with mochi's decoding of them.
func TestDecodeMochiCases(t *testing.T) {
	checked := 0
	for typ := byte(1); typ <= 15; typ++ {
		for _, c := range tpackets.TPacketData[typ] {
			if c.Expect != nil || c.FailFirst != nil || len(c.RawBytes) == 0 || c.Packet == nil {
				continue
			}
			version := c.Packet.ProtocolVersion
			pk, err := mochiDecode(c.RawBytes, version)
			if err != nil {
				continue
			}
			p, n, err := Decode(c.RawBytes, version)
			if err != nil {
				t.Errorf("%s (%s): %v", c.Desc, typeNames[typ], err)
				continue
			}
			if n != len(c.RawBytes) {
				// Some of mochi's cases append bytes past the packet.
				t.Logf("%s (%s): the packet is %d of the %d bytes", c.Desc, typeNames[typ], n, len(c.RawBytes))
				continue
			}
			checkFields(t, p, n)
			if p.Err != nil {
				// mochi's tables also hold packets that are only wrong for
				// us (a 3.1.1 CONNACK with 5.0 codes and Session Present).
				t.Logf("%s (%s): we flag %v", c.Desc, typeNames[typ], p.Err)
				continue
			}
			if typ != packets.Connect {
				pk.ProtocolVersion = p.Version
			}
			diffView(t, oursViewOf(p), mochiViewOf(pk))
			checked++
		}
	}
	if checked < 60 {
		t.Errorf("compared only %d of mochi's packets", checked)
	}
}

// TestDecodeMochiRandom encodes random packets with mochi and checks that
// we decode them without complaint and to the same values.
func TestDecodeMochiRandom(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	word := func() string {
		const letters = "abcdefghijklmnopqrstuvwxyz0123456789-_"
		b := make([]byte, 1+r.IntN(12))
		for i := range b {
			b[i] = letters[r.IntN(len(letters))]
		}
		return string(b)
	}
	topic := func() string {
		parts := make([]string, 1+r.IntN(4))
		for i := range parts {
			parts[i] = word()
		}
		return strings.Join(parts, "/")
	}
	for i := range 2000 {
		version := byte(4)
		if r.IntN(2) == 0 {
			version = 5
		}
		pk := packets.Packet{ProtocolVersion: version, Mods: packets.Mods{AllowResponseInfo: true}}
		var buf bytes.Buffer
		var err error
		switch r.IntN(7) {
		case 0:
			pk.FixedHeader.Type = packets.Connect
			pk.Connect = packets.ConnectParams{ProtocolName: []byte("MQTT"), Clean: r.IntN(2) == 0,
				Keepalive: uint16(r.IntN(1000)), ClientIdentifier: word()}
			if r.IntN(2) == 0 {
				pk.Connect.UsernameFlag, pk.Connect.Username = true, []byte(word())
				pk.Connect.PasswordFlag, pk.Connect.Password = true, []byte(word()+"\x00\xff")
			}
			if r.IntN(2) == 0 {
				pk.Connect.WillFlag, pk.Connect.WillTopic, pk.Connect.WillPayload = true, topic(), []byte(word())
				pk.Connect.WillQos, pk.Connect.WillRetain = byte(r.IntN(3)), r.IntN(2) == 0
				pk.Connect.WillProperties.WillDelayInterval = uint32(r.IntN(100))
				pk.Connect.WillProperties.ContentType = word()
			}
			pk.Properties.SessionExpiryInterval, pk.Properties.SessionExpiryIntervalFlag = uint32(r.IntN(1e6)), true
			pk.Properties.User = []packets.UserProperty{{Key: word(), Val: word()}}
			err = pk.ConnectEncode(&buf)
		case 1:
			pk.FixedHeader = packets.FixedHeader{Type: packets.Publish, Qos: byte(r.IntN(3)), Retain: r.IntN(2) == 0}
			pk.TopicName = topic()
			pk.Payload = make([]byte, r.IntN(300))
			for j := range pk.Payload {
				pk.Payload[j] = byte(r.IntN(256))
			}
			if pk.FixedHeader.Qos > 0 {
				pk.PacketID = uint16(1 + r.IntN(65535))
				pk.FixedHeader.Dup = r.IntN(2) == 0
			}
			pk.Properties.ContentType, pk.Properties.ResponseTopic = word(), topic()
			pk.Properties.CorrelationData = []byte(word())
			pk.Properties.SubscriptionIdentifier = []int{1 + r.IntN(268435455), 1 + r.IntN(100)}
			pk.Properties.MessageExpiryInterval = uint32(r.IntN(1e6))
			err = pk.PublishEncode(&buf)
		case 2:
			pk.FixedHeader = packets.FixedHeader{Type: packets.Subscribe, Qos: 1}
			pk.PacketID = uint16(1 + r.IntN(65535))
			for range 1 + r.IntN(4) {
				pk.Filters = append(pk.Filters, packets.Subscription{Filter: topic() + "/#", Qos: byte(r.IntN(3)),
					NoLocal: r.IntN(2) == 0, RetainAsPublished: r.IntN(2) == 0, RetainHandling: byte(r.IntN(3))})
			}
			pk.Properties.SubscriptionIdentifier = []int{1 + r.IntN(1000)}
			err = pk.SubscribeEncode(&buf)
		case 3:
			pk.FixedHeader.Type = packets.Suback
			pk.PacketID = uint16(r.IntN(65536))
			pk.ReasonCodes = []byte{byte(r.IntN(3)), 0x80}
			pk.Properties.ReasonString = word()
			err = pk.SubackEncode(&buf)
		case 4:
			pk.FixedHeader.Type = []byte{packets.Puback, packets.Pubrec, packets.Pubcomp}[r.IntN(3)]
			pk.PacketID = uint16(r.IntN(65536))
			if version == 5 {
				pk.ReasonCode = []byte{0x00, 0x80, 0x87}[r.IntN(3)]
				if pk.FixedHeader.Type == packets.Pubcomp {
					pk.ReasonCode = []byte{0x00, 0x92}[r.IntN(2)]
				}
				pk.Properties.ReasonString = word()
			}
			err = pk.PubackEncode(&buf) // all four share one encoder
		case 5:
			pk.FixedHeader.Type = packets.Connack
			pk.SessionPresent = r.IntN(2) == 0
			pk.Properties.AssignedClientID, pk.Properties.ServerKeepAlive, pk.Properties.ServerKeepAliveFlag = word(), uint16(r.IntN(100)), true
			pk.Properties.ReceiveMaximum, pk.Properties.TopicAliasMaximum = uint16(1+r.IntN(100)), uint16(r.IntN(100))
			err = pk.ConnackEncode(&buf)
		case 6:
			pk.FixedHeader = packets.FixedHeader{Type: packets.Unsubscribe, Qos: 1}
			pk.PacketID = uint16(1 + r.IntN(65535))
			pk.Filters = packets.Subscriptions{{Filter: topic()}, {Filter: "+/" + topic()}}
			err = pk.UnsubscribeEncode(&buf)
		}
		if err != nil {
			t.Fatal(err)
		}
		raw := buf.Bytes()
		p, n, err := Decode(raw, version)
		if err != nil || n != len(raw) || p.Err != nil {
			t.Fatalf("packet %d %x: n=%d err=%v p.Err=%v", i, raw, n, err, p.Err)
		}
		checkFields(t, p, n)
		want, err := mochiDecode(raw, version)
		if err != nil {
			t.Fatalf("packet %d: mochi cannot decode what it encoded: %v", i, err)
		}
		diffView(t, oursViewOf(p), mochiViewOf(want))
		if t.Failed() {
			t.Fatalf("packet %d: %x", i, raw)
		}
	}
}

// goldenPacket is one packet of a golden file.
type goldenPacket struct {
	Offset     int           `json:"offset"`
	Length     int           `json:"length"`
	Bytes      string        `json:"bytes"`
	Type       string        `json:"type"`
	Version    byte          `json:"version"`
	Summary    string        `json:"summary"`
	Err        string        `json:"err,omitempty"`
	Topic      string        `json:"topic,omitempty"`
	Payload    string        `json:"payload,omitempty"`
	PacketID   uint16        `json:"packetId,omitempty"`
	ClientID   string        `json:"clientId,omitempty"`
	Username   string        `json:"username,omitempty"`
	Password   string        `json:"password,omitempty"`
	ReasonCode byte          `json:"reasonCode,omitempty"`
	Fields     []field.Field `json:"fields"`
}

// readHex reads a .hex file: hex digits, with whitespace and comments
// from '#' to the end of a line ignored.
func readHex(path string) ([]byte, error) {
	text, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var digits strings.Builder
	for _, line := range strings.Split(string(text), "\n") {
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		digits.WriteString(strings.Join(strings.Fields(line), ""))
	}
	return hex.DecodeString(digits.String())
}

// decodeStream decodes a recorded stream packet by packet, switching to
// the protocol level of the CONNECT once one is seen.
func decodeStream(t *testing.T, stream []byte) []goldenPacket {
	t.Helper()
	var out []goldenPacket
	version := byte(0)
	for off := 0; off < len(stream); {
		p, n, err := Decode(stream[off:], version)
		if err != nil {
			t.Fatalf("offset %d: %v", off, err)
		}
		checkFields(t, p, n)
		if p.Type == "CONNECT" && p.Err == nil {
			version = p.Version
		}
		g := goldenPacket{Offset: off, Length: n, Bytes: hex.EncodeToString(stream[off : off+n]), Type: p.Type,
			Version: p.Version, Summary: p.Summary, Topic: p.Topic, Payload: showBytes(p.Payload), PacketID: p.PacketID,
			ClientID: p.ClientID, Username: p.Username, Password: string(p.Password), ReasonCode: p.ReasonCode, Fields: p.Fields}
		if len(p.Payload) == 0 {
			g.Payload = ""
		}
		if p.Err != nil {
			g.Err = p.Err.Error()
		}
		out = append(out, g)
		off += n
	}
	return out
}

// recordHex makes TestGolden write its inputs, testdata/*.hex, from
// goldenSessions before decoding them.
var recordHex = flag.Bool("mqtt.record", false, "rewrite testdata/*.hex from goldenSessions")

// TestGolden decodes the sessions in testdata/*.hex and compares the
// result with the .golden.json beside each; -update rewrites the golden
// files that differ, -mqtt.record the .hex inputs.
func TestGolden(t *testing.T) {
	if *recordHex {
		for name, text := range goldenSessions(t) {
			if err := os.WriteFile(filepath.Join("testdata", name), []byte(text), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	files, err := filepath.Glob(filepath.Join("testdata", "*.hex"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no testdata/*.hex files (%v)", err)
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			stream, err := readHex(file)
			if err != nil {
				t.Fatal(err)
			}
			golden.JSON(t, strings.TrimSuffix(file, ".hex")+".golden.json", decodeStream(t, stream), "  ")
		})
	}
}

// goldenSessions builds the .hex files of the golden test: two realistic
// sessions, encoded with mochi's codec where it can express the packet.
func goldenSessions(t *testing.T) map[string]string {
	t.Helper()
	type line struct {
		note string
		raw  []byte
	}
	enc := func(pk packets.Packet) []byte {
		var buf bytes.Buffer
		pk.Mods.AllowResponseInfo = true
		var err error
		switch pk.FixedHeader.Type {
		case packets.Connect:
			err = pk.ConnectEncode(&buf)
		case packets.Connack:
			err = pk.ConnackEncode(&buf)
		case packets.Publish:
			err = pk.PublishEncode(&buf)
		case packets.Puback:
			err = pk.PubackEncode(&buf)
		case packets.Pubrec:
			err = pk.PubrecEncode(&buf)
		case packets.Pubrel:
			err = pk.PubrelEncode(&buf)
		case packets.Pubcomp:
			err = pk.PubcompEncode(&buf)
		case packets.Subscribe:
			err = pk.SubscribeEncode(&buf)
		case packets.Suback:
			err = pk.SubackEncode(&buf)
		case packets.Unsubscribe:
			err = pk.UnsubscribeEncode(&buf)
		case packets.Unsuback:
			err = pk.UnsubackEncode(&buf)
		case packets.Pingreq:
			err = pk.PingreqEncode(&buf)
		case packets.Pingresp:
			err = pk.PingrespEncode(&buf)
		case packets.Disconnect:
			err = pk.DisconnectEncode(&buf)
		}
		if err != nil {
			t.Fatal(err)
		}
		return buf.Bytes()
	}
	fh := func(typ byte) packets.FixedHeader { return packets.FixedHeader{Type: typ} }
	render := func(title string, lines []line) string {
		var b strings.Builder
		fmt.Fprintf(&b, "# %s\n# Made by goldenSessions in mqtt_test.go: go test ./trace/mqttwire -run Golden -mqtt.record rewrites it.\n", title)
		for _, l := range lines {
			fmt.Fprintf(&b, "\n# %s\n", l.note)
			h := hex.EncodeToString(l.raw)
			for len(h) > 64 {
				b.WriteString(h[:64] + "\n")
				h = h[64:]
			}
			b.WriteString(h + "\n")
		}
		return b.String()
	}

	const v4, v5 = 4, 5
	will := packets.ConnectParams{ProtocolName: []byte("MQTT"), Clean: true, Keepalive: 60, ClientIdentifier: "web-1",
		UsernameFlag: true, Username: []byte("alice"), PasswordFlag: true, Password: []byte("s3cret"),
		WillFlag: true, WillTopic: "clients/web-1/status", WillPayload: []byte("offline"), WillQos: 1, WillRetain: true}
	session311 := []line{
		{"client -> broker: CONNECT with user name, password and a retained will", enc(packets.Packet{FixedHeader: fh(packets.Connect), ProtocolVersion: v4, Connect: will})},
		{"broker -> client: CONNACK accepted", enc(packets.Packet{FixedHeader: fh(packets.Connack), ProtocolVersion: v4})},
		{"client -> broker: SUBSCRIBE to two filters", enc(packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Subscribe, Qos: 1}, ProtocolVersion: v4, PacketID: 1,
			Filters: packets.Subscriptions{{Filter: "sensors/+/temp", Qos: 1}, {Filter: "alerts/#", Qos: 2}}})},
		{"broker -> client: SUBACK granting QoS 1 and 2", enc(packets.Packet{FixedHeader: fh(packets.Suback), ProtocolVersion: v4, PacketID: 1, ReasonCodes: []byte{1, 2}})},
		{"client -> broker: PUBLISH QoS 0", enc(packets.Packet{FixedHeader: fh(packets.Publish), ProtocolVersion: v4, TopicName: "sensors/kitchen/temp", Payload: []byte("21.5")})},
		{"client -> broker: PUBLISH QoS 1", enc(packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Publish, Qos: 1}, ProtocolVersion: v4, PacketID: 2,
			TopicName: "sensors/hall/temp", Payload: []byte(`{"t":19.0}`)})},
		{"broker -> client: PUBACK", enc(packets.Packet{FixedHeader: fh(packets.Puback), ProtocolVersion: v4, PacketID: 2})},
		{"broker -> client: PUBLISH QoS 1 forwarded to the subscriber", enc(packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Publish, Qos: 1}, ProtocolVersion: v4, PacketID: 1,
			TopicName: "sensors/hall/temp", Payload: []byte(`{"t":19.0}`)})},
		{"client -> broker: PUBACK", enc(packets.Packet{FixedHeader: fh(packets.Puback), ProtocolVersion: v4, PacketID: 1})},
		{"client -> broker: PUBLISH QoS 2, retained", enc(packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Publish, Qos: 2, Retain: true}, ProtocolVersion: v4, PacketID: 3,
			TopicName: "alerts/door", Payload: []byte("open")})},
		{"broker -> client: PUBREC", enc(packets.Packet{FixedHeader: fh(packets.Pubrec), ProtocolVersion: v4, PacketID: 3})},
		{"client -> broker: PUBREL", enc(packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Pubrel, Qos: 1}, ProtocolVersion: v4, PacketID: 3})},
		{"broker -> client: PUBCOMP", enc(packets.Packet{FixedHeader: fh(packets.Pubcomp), ProtocolVersion: v4, PacketID: 3})},
		{"client -> broker: PINGREQ", enc(packets.Packet{FixedHeader: fh(packets.Pingreq), ProtocolVersion: v4})},
		{"broker -> client: PINGRESP", enc(packets.Packet{FixedHeader: fh(packets.Pingresp), ProtocolVersion: v4})},
		{"client -> broker: UNSUBSCRIBE", enc(packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Unsubscribe, Qos: 1}, ProtocolVersion: v4, PacketID: 4,
			Filters: packets.Subscriptions{{Filter: "alerts/#"}}})},
		{"broker -> client: UNSUBACK", enc(packets.Packet{FixedHeader: fh(packets.Unsuback), ProtocolVersion: v4, PacketID: 4})},
		{"client -> broker: DISCONNECT", enc(packets.Packet{FixedHeader: fh(packets.Disconnect), ProtocolVersion: v4})},
	}

	will5 := will
	will5.Keepalive, will5.WillRetain, will5.WillPayload = 30, false, []byte("gone")
	will5.WillProperties = packets.Properties{WillDelayInterval: 5, PayloadFormat: 1, PayloadFormatFlag: true,
		MessageExpiryInterval: 60, ContentType: "text/plain"}
	reading := packets.Properties{PayloadFormat: 1, PayloadFormatFlag: true, MessageExpiryInterval: 300,
		ContentType: "application/json", User: []packets.UserProperty{{Key: "unit", Val: "C"}}}
	first := reading
	first.TopicAlias, first.TopicAliasFlag = 1, true
	second := packets.Properties{TopicAlias: 1, TopicAliasFlag: true}
	forwarded := reading
	forwarded.SubscriptionIdentifier = []int{7}
	session5 := []line{
		{"client -> broker: CONNECT 5.0 with properties, will properties, user name and password", enc(packets.Packet{FixedHeader: fh(packets.Connect), ProtocolVersion: v5, Connect: will5,
			Properties: packets.Properties{SessionExpiryInterval: 3600, SessionExpiryIntervalFlag: true, ReceiveMaximum: 20,
				MaximumPacketSize: 65536, TopicAliasMaximum: 10, RequestProblemInfo: 1, RequestProblemInfoFlag: true,
				User: []packets.UserProperty{{Key: "app", Val: "playground"}}}})},
		{"broker -> client: CONNACK Success, with the broker's limits", enc(packets.Packet{FixedHeader: fh(packets.Connack), ProtocolVersion: v5,
			Properties: packets.Properties{ReceiveMaximum: 10, MaximumQos: 1, MaximumQosFlag: true, RetainAvailable: 1, RetainAvailableFlag: true,
				MaximumPacketSize: 1048576, TopicAliasMaximum: 5, WildcardSubAvailable: 1, WildcardSubAvailableFlag: true,
				SubIDAvailable: 1, SubIDAvailableFlag: true, SharedSubAvailable: 0, SharedSubAvailableFlag: true,
				ServerKeepAlive: 45, ServerKeepAliveFlag: true}})},
		{"client -> broker: SUBSCRIBE with a subscription identifier, no local, retain as published", enc(packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Subscribe, Qos: 1}, ProtocolVersion: v5, PacketID: 1,
			Properties: packets.Properties{SubscriptionIdentifier: []int{7}},
			Filters:    packets.Subscriptions{{Filter: "sensors/+/temp", Qos: 1, NoLocal: true, RetainAsPublished: true, RetainHandling: 1}}})},
		{"broker -> client: SUBACK Granted QoS 1", enc(packets.Packet{FixedHeader: fh(packets.Suback), ProtocolVersion: v5, PacketID: 1, ReasonCodes: []byte{1}})},
		{"client -> broker: PUBLISH QoS 1 that sets topic alias 1", enc(packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Publish, Qos: 1}, ProtocolVersion: v5, PacketID: 2,
			TopicName: "sensors/kitchen/temp", Payload: []byte(`{"t":21.5}`), Properties: first})},
		{"broker -> client: PUBACK, reason code left out (Success)", enc(packets.Packet{FixedHeader: fh(packets.Puback), ProtocolVersion: v5, PacketID: 2})},
		{"client -> broker: PUBLISH QoS 1 using topic alias 1 and an empty topic name", enc(packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Publish, Qos: 1}, ProtocolVersion: v5, PacketID: 3,
			Payload: []byte(`{"t":21.7}`), Properties: second})},
		// mochi leaves out reason codes below 0x80 when there are no
		// properties, so this PUBACK is written by hand.
		{"broker -> client: PUBACK No matching subscribers", []byte{0x40, 3, 0, 3, 0x10}},
		{"broker -> client: PUBLISH forwarded with the subscription identifier", enc(packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Publish, Qos: 1}, ProtocolVersion: v5, PacketID: 1,
			TopicName: "sensors/kitchen/temp", Payload: []byte(`{"t":21.5}`), Properties: forwarded})},
		{"client -> broker: PUBACK", enc(packets.Packet{FixedHeader: fh(packets.Puback), ProtocolVersion: v5, PacketID: 1})},
		{"client -> broker: PUBLISH request with response topic and correlation data", enc(packets.Packet{FixedHeader: fh(packets.Publish), ProtocolVersion: v5,
			TopicName: "cmd/light", Payload: []byte("on"),
			Properties: packets.Properties{ResponseTopic: "replies/web-1", CorrelationData: []byte{0x01, 0x02, 0xff}}})},
		{"client -> broker: SUBSCRIBE to a shared subscription", enc(packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Subscribe, Qos: 1}, ProtocolVersion: v5, PacketID: 4,
			Filters: packets.Subscriptions{{Filter: "$share/g/jobs"}}})},
		{"broker -> client: SUBACK refusing it, with a reason string", enc(packets.Packet{FixedHeader: fh(packets.Suback), ProtocolVersion: v5, PacketID: 4, ReasonCodes: []byte{0x9E},
			Properties: packets.Properties{ReasonString: "shared subscriptions are off"}})},
		{"client -> broker: UNSUBSCRIBE", enc(packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Unsubscribe, Qos: 1}, ProtocolVersion: v5, PacketID: 5,
			Filters: packets.Subscriptions{{Filter: "sensors/+/temp"}}})},
		{"broker -> client: UNSUBACK Success", enc(packets.Packet{FixedHeader: fh(packets.Unsuback), ProtocolVersion: v5, PacketID: 5, ReasonCodes: []byte{0}})},
		{"client -> broker: DISCONNECT asking for the will to be published", enc(packets.Packet{FixedHeader: fh(packets.Disconnect), ProtocolVersion: v5, ReasonCode: 0x04,
			Properties: packets.Properties{ReasonString: "battery low"}})},
	}
	return map[string]string{
		"v311-session.hex": render("An MQTT 3.1.1 session: connect with a will, subscribe, publish at QoS 0, 1 and 2, ping, unsubscribe, disconnect.", session311),
		"v5-session.hex":   render("An MQTT 5.0 session: properties, topic aliases, subscription identifiers, request/response, a refused shared subscription, a will on disconnect.", session5),
	}
}
