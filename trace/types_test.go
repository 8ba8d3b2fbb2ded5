package trace

import (
	"crypto/sha256"
	"regexp"
	"slices"
	"testing"
	"time"
)

// numbered is the form of a type reported by number.
var numbered = regexp.MustCompile(`^(\w+)\((\d+)\)$`)

// decodedTypes decodes one recording of the given side and bytes sent and
// returns the types of its events.
func decodedTypes(side Side, data []byte, more ...Chunk) []string {
	rec := Recording{Side: side, Chunks: append([]Chunk{{Time: time.Unix(1, 0), Dir: Send, Data: data}}, more...)}
	var out []string
	for _, e := range Decode(rec) {
		out = append(out, e.Type)
	}
	return out
}

// handshakeRecord is a plaintext handshake record holding a message of type typ
// with the given body.
func handshakeRecord(typ byte, body ...byte) []byte {
	n := len(body) + 4
	return append([]byte{22, 3, 3, byte(n >> 8), byte(n), typ, 0, byte(len(body) >> 8), byte(len(body))}, body...)
}

// connectV5 is a minimal MQTT 5 CONNECT: empty client id, clean start,
// keep-alive 60.
var connectV5 = []byte{0x10, 0x0d, 0, 4, 'M', 'Q', 'T', 'T', 5, 0x02, 0, 60, 0, 0, 0}

// Every type the decoders report is one EventTypes names, alone or as
// Name(N); and every name on the list is reported for some input: the
// list is what lessons check look and check lines against, so it must be
// neither short nor padded.
func TestEventTypes(t *testing.T) {
	seen := map[string]bool{}
	var inputs [][]string
	// Every handshake message type, each a lone message of a client.
	for typ := range 256 {
		inputs = append(inputs, decodedTypes(Client, handshakeRecord(byte(typ))))
	}
	// A HelloRetryRequest: a ServerHello with the special random.
	hrr := sha256.Sum256([]byte("HelloRetryRequest"))
	inputs = append(inputs, decodedTypes(Broker, handshakeRecord(2, append([]byte{3, 3}, hrr[:]...)...)))
	// Every record content type, after a first handshake record.
	for typ := range 256 {
		inputs = append(inputs, decodedTypes(Client, append(handshakeRecord(0), byte(typ), 3, 3, 0, 1, 0)))
	}
	// Every MQTT packet type after an MQTT 5 CONNECT, and before it.
	for typ := range 16 {
		b := byte(typ << 4)
		if typ == 6 || typ == 8 || typ == 10 {
			b |= 2 // PUBREL, SUBSCRIBE, UNSUBSCRIBE (MQTT 5.0 §2.1.3)
		}
		inputs = append(inputs, decodedTypes(Client, append(slices.Clone(connectV5), b, 0)))
		inputs = append(inputs, decodedTypes(Client, []byte{b, 0}))
	}
	// Bytes that break the framing, of each layer.
	inputs = append(inputs, decodedTypes(Client, append(slices.Clone(connectV5), 0x30, 0xff, 0xff, 0xff, 0xff, 0x7f)))
	inputs = append(inputs, decodedTypes(Client, append(handshakeRecord(1), 22, 0xff, 0xff, 0, 1, 0)))
	// A gap the recorder left in a plain MQTT stream.
	inputs = append(inputs, decodedTypes(Client, connectV5, Chunk{Time: time.Unix(2, 0), Dir: Send, Gap: 100}, Chunk{Time: time.Unix(3, 0), Dir: Send, Data: []byte{0xc0, 0}}))

	for _, types := range inputs {
		for _, typ := range types {
			name := typ
			if m := numbered.FindStringSubmatch(typ); m != nil {
				name = m[1]
			}
			if !slices.Contains(EventTypes, name) {
				t.Errorf("Decode reported event type %q, which EventTypes does not list", typ)
			}
			seen[name] = true
		}
	}
	for _, name := range EventTypes {
		if !seen[name] {
			t.Errorf("EventTypes lists %q, which no input here made Decode report", name)
		}
	}
	if len(slices.Compact(slices.Sorted(slices.Values(EventTypes)))) != len(EventTypes) {
		t.Errorf("EventTypes lists a name twice: %q", EventTypes)
	}
}
