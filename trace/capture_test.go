package trace

import (
	"fmt"
	"slices"
	"testing"
)

// TestWithPlaintext: the recorded sessions, stripped of what the taps
// recorded in plaintext (as a capture of the wire holds them), decode
// with WithPlaintext to the same MQTT packets in the same places; without
// the key log nothing is added.
func TestWithPlaintext(t *testing.T) {
	type mqtt struct {
		Seq           int
		Type, Summary string
		Dir           Dir
	}
	// The packets up to the client's DISCONNECT: a tap records what the
	// client writes after it (tls13: a PUBACK), but the closed connection
	// does not carry it; the broker's recording has no such packet.
	packets := func(events []Event) []mqtt {
		var out []mqtt
		for _, e := range events {
			if e.Layer == LayerMQTT {
				out = append(out, mqtt{e.Seq, e.Type, e.Summary, e.Dir})
				if e.Type == "DISCONNECT" && (e.Side == Client) == (e.Dir == Send) {
					break
				}
			}
		}
		return out
	}
	// Not tls12-resumed: its records do not decrypt (see TestSessionsGolden).
	for _, name := range []string{"tls13", "tls13-resumed", "tls12", "mtls"} {
		for _, side := range []string{"client", "broker"} {
			rec := loadSession(t, name, side)
			want := packets(Decode(rec))
			wire := rec
			wire.Chunks = nil
			for _, c := range rec.Chunks {
				if !c.App {
					wire.Chunks = append(wire.Chunks, c)
				}
			}
			if len(packets(Decode(wire))) != 0 {
				t.Fatalf("%s/%s: MQTT packets without the plaintext chunks", name, side)
			}
			got := packets(Decode(WithPlaintext(wire)))
			if len(want) == 0 {
				t.Fatalf("%s/%s: no MQTT packets in the session", name, side)
			}
			if !slices.Equal(want, got) {
				t.Errorf("%s/%s: MQTT packets\nrecorded:      %s\nfrom the wire: %s", name, side, fmt.Sprint(want), fmt.Sprint(got))
			}
			wire.KeyLog = ""
			if n := len(WithPlaintext(wire).Chunks); n != len(wire.Chunks) {
				t.Errorf("%s/%s: without secrets %d chunks became %d", name, side, len(wire.Chunks), n)
			}
		}
	}
}
