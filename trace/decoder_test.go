package trace

import (
	"bytes"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
	"time"
)

// checkUpdates feeds the prefixes of rec that end after the chunk counts
// in ends to one Decoder, and requires each Update to return exactly what
// Decode returns for the prefix. The slices Update returned earlier must
// not change.
func checkUpdates(t *testing.T, rec Recording, ends []int) {
	t.Helper()
	var d Decoder
	var kept [][]Event
	var keptJSON [][]byte
	for _, n := range ends {
		prefix := rec
		prefix.Chunks = rec.Chunks[:n]
		got := d.Update(prefix)
		want := Decode(prefix)
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("after %d of %d chunks (ends %v): Update differs from Decode:\n%s", n, len(rec.Chunks), ends, eventsDiff(got, want))
		}
		b, err := json.Marshal(got)
		if err != nil {
			t.Fatal(err)
		}
		kept, keptJSON = append(kept, got), append(keptJSON, b)
	}
	for i, events := range kept {
		if b, _ := json.Marshal(events); !bytes.Equal(b, keptJSON[i]) {
			t.Errorf("the events Update returned after %d chunks changed later", ends[i])
		}
	}
}

// eventsDiff describes the first difference between two event lists.
func eventsDiff(got, want []Event) string {
	for i := range min(len(got), len(want)) {
		if !reflect.DeepEqual(got[i], want[i]) {
			g, _ := json.Marshal(got[i])
			w, _ := json.Marshal(want[i])
			return fmt.Sprintf("event %d:\n got %.600s\nwant %.600s\n(got %q\nwant %q)", i, g, w, kinds(got), kinds(want))
		}
	}
	return fmt.Sprintf("got %d events, want %d:\n got %q\nwant %q", len(got), len(want), kinds(got), kinds(want))
}

// splitChunks cuts some chunks of rec in two or more at random points, as
// if their bytes had come in several reads or writes: the prefixes of the
// result end inside TLS records and MQTT packets.
func splitChunks(rec Recording, rng *rand.Rand) Recording {
	out := rec
	out.Chunks = nil
	for _, c := range rec.Chunks {
		for len(c.Data) > 1 && rng.IntN(2) == 0 {
			at := 1 + rng.IntN(len(c.Data)-1)
			first := c
			first.Data = c.Data[:at:at]
			out.Chunks = append(out.Chunks, first)
			c.Data = c.Data[at:]
		}
		out.Chunks = append(out.Chunks, c)
	}
	return out
}

// randomEnds picks 2 to 10 growing prefix lengths of n chunks, the last
// being n.
func randomEnds(n int, rng *rand.Rand) []int {
	k := min(n, 2+rng.IntN(9))
	ends := []int{n}
	for len(ends) < k {
		if e := 1 + rng.IntN(n); !slices.Contains(ends, e) {
			ends = append(ends, e)
		}
	}
	slices.Sort(ends)
	return ends
}

// checkRandomUpdates runs checkUpdates on rec and on versions of it with
// chunks split, each with random prefixes, and with every prefix.
func checkRandomUpdates(t *testing.T, rec Recording, seed uint64, rounds int) {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 1))
	all := make([]int, len(rec.Chunks))
	for i := range all {
		all[i] = i + 1
	}
	checkUpdates(t, rec, all)
	for range rounds {
		r := rec
		if rng.IntN(4) > 0 {
			r = splitChunks(rec, rng)
		}
		if len(r.Chunks) == 0 {
			continue
		}
		checkUpdates(t, r, randomEnds(len(r.Chunks), rng))
	}
}

func TestDecoderSessions(t *testing.T) {
	for _, name := range sessionNames {
		for _, side := range []string{"client", "broker"} {
			t.Run(name+"/"+side, func(t *testing.T) {
				rec := loadSession(t, name, side)
				checkRandomUpdates(t, rec, uint64(len(name)+len(side)), 20)
			})
		}
	}
}

func TestDecoderGaps(t *testing.T) {
	cert, pool := testCert(t)
	scfg := &tls.Config{Certificates: []tls.Certificate{cert}}
	const n = 30
	for _, tt := range []struct {
		name string
		max  uint16
	}{{"TLS 1.3", tls.VersionTLS13}, {"TLS 1.2", tls.VersionTLS12}} {
		ccfg := &tls.Config{RootCAs: pool, ServerName: "localhost", MaxVersion: tt.max}
		client, server := publishSession(t, ccfg, scfg, Limits{HeadLimit: 1 << 20}, Limits{HeadLimit: 1 << 20}, n)
		for _, full := range []Recording{client, server} {
			t.Run(fmt.Sprintf("%s/%s/whole", tt.name, full.Side), func(t *testing.T) {
				checkRandomUpdates(t, full, 7, 10)
			})
			// Heads that end in the handshake and after it, tails that
			// hold the last exchanges: the gap hides where keys change or
			// not, and records resume after it.
			for _, head := range []int{3, 5, 8} {
				var headBytes int
				for _, c := range full.Chunks[:head] {
					headBytes += len(c.Data)
				}
				for _, tail := range []int{400, 1000} {
					rec := replay(full, Limits{HeadLimit: headBytes, TailLimit: tail})
					if rec.Dropped == 0 {
						t.Fatalf("head %d tail %d: nothing dropped", head, tail)
					}
					t.Run(fmt.Sprintf("%s/%s/head%d/tail%d", tt.name, full.Side, head, tail), func(t *testing.T) {
						checkRandomUpdates(t, rec, uint64(head*tail), 10)
					})
				}
			}
			// A recorder that keeps the head only: the gap is the last
			// chunk of each stream.
			t.Run(fmt.Sprintf("%s/%s/headonly", tt.name, full.Side), func(t *testing.T) {
				checkRandomUpdates(t, replay(full, Limits{HeadLimit: 3000}), 3, 10)
			})
		}
	}
}

// TestDecoderMakesEventsOnce feeds a connection of many publishes, chunk
// by chunk, to a Decoder: it makes each event once, but for those of the
// handshake it decodes again when the ServerHello comes.
func TestDecoderMakesEventsOnce(t *testing.T) {
	cert, pool := testCert(t)
	for _, max := range []uint16{tls.VersionTLS13, tls.VersionTLS12} {
		client, server := publishSession(t, &tls.Config{RootCAs: pool, ServerName: "localhost", MaxVersion: max},
			&tls.Config{Certificates: []tls.Certificate{cert}}, SplitLimit(0), SplitLimit(0), 50)
		for _, rec := range []Recording{client, server} {
			var d Decoder
			var events []Event
			for n := 1; n <= len(rec.Chunks); n++ {
				r := rec
				r.Chunks = rec.Chunks[:n]
				events = d.Update(r)
			}
			t.Logf("%x %s: %d chunks, %d events, %d made", max, rec.Side, len(rec.Chunks), len(events), d.made)
			if len(events) < 200 || d.made > len(events)+5 {
				t.Errorf("%x %s: %d events made for %d", max, rec.Side, d.made, len(events))
			}
		}
	}
}

// TestDecoderPlain covers plain MQTT 3.1.1 and 5, gaps in it, and what
// makes a Decoder decode all again or keep a tail: a CONNECT after the
// broker's first bytes (the version changes), the broker's wire bytes
// before the client's (the layer changes), bytes that break the framing,
// a key log that grows, a recording that does not extend the last.
func TestDecoderPlain(t *testing.T) {
	now := time.Unix(1700000000, 0)
	chunk := func(i int, dir Dir, app bool, data ...byte) Chunk {
		return Chunk{Time: now.Add(time.Duration(i) * time.Millisecond), Dir: dir, App: app, Data: data}
	}
	connect5 := []byte{0x10, 0x11, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x05, 0x02, 0x00, 0x3c, 0x00, 0x00, 0x04, 't', 'e', 's', 't'}
	// A CONNACK with a property: read as MQTT 5 it is sound, as 3.1.1 it
	// has unexpected bytes.
	connack5 := []byte{0x20, 0x06, 0x00, 0x00, 0x03, 0x21, 0x00, 0x0a}
	gapped := NewRecorderLimits(Broker, Limits{HeadLimit: len(connectPkt) + len(connackPkt), TailLimit: 2*len(topicPublish(0, 9)) - 5})
	gapped.add(Recv, false, connectPkt)
	gapped.add(Send, false, connackPkt)
	for i := range 9 {
		p := topicPublish(i, 9)
		gapped.add(Recv, false, p[:5])
		gapped.add(Recv, false, p[5:])
	}
	tests := []struct {
		name string
		rec  Recording
	}{
		{"mqtt311", Recording{Side: Broker, Chunks: []Chunk{
			chunk(0, Recv, false, connectPkt...), chunk(1, Send, false, connackPkt...),
			chunk(2, Recv, false, publishPkt...), chunk(3, Recv, false, publishPkt...),
		}}},
		{"mqtt5", Recording{Side: Client, Chunks: []Chunk{
			chunk(0, Send, false, connect5...), chunk(1, Recv, false, connack5...), chunk(2, Send, false, publishPkt...),
		}}},
		{"late CONNECT", Recording{Side: Client, Chunks: []Chunk{
			chunk(0, Recv, false, connack5...), chunk(1, Send, false, connect5...), chunk(2, Recv, false, connack5...),
		}}},
		{"broker first", Recording{Side: Client, Chunks: []Chunk{
			chunk(0, Recv, false, 22, 3, 3, 0, 2, 2, 48), chunk(1, Send, false, connect5...),
		}}},
		{"malformed", Recording{Side: Broker, Chunks: []Chunk{
			chunk(0, Recv, false, connectPkt...), chunk(1, Send, false, connackPkt...),
			chunk(2, Recv, false, 0x30, 0xff, 0xff, 0xff), chunk(3, Recv, false, 0xff, 0x01),
			chunk(4, Send, false, 0xd0, 0x00), chunk(5, Recv, false, publishPkt...), chunk(6, Send, false, 0xd0, 0x00),
		}}},
		{"malformed TLS", Recording{Side: Client, Chunks: []Chunk{
			chunk(0, Send, false, 22, 3, 1, 0, 4, 1, 0, 0, 0), chunk(1, Recv, false, 21, 3, 3, 0, 2, 2, 48),
			chunk(2, Send, false, 99, 3, 3, 0, 1), chunk(3, Recv, false, 21, 3, 3), chunk(4, Send, false, 1, 2, 3),
			chunk(5, Recv, false, 0, 2, 1, 0), chunk(6, Send, true, connectPkt...),
		}}},
		{"gap", gapped.Recording()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkRandomUpdates(t, tt.rec, 1, 20)
		})
	}

	t.Run("key log grows", func(t *testing.T) {
		full := loadSession(t, "tls13", "client")
		var d Decoder
		for n := 1; n <= len(full.Chunks); n++ {
			rec := full
			rec.Chunks = full.Chunks[:n]
			if n < 6 {
				rec.KeyLog = full.KeyLog[:len(full.KeyLog)*n/6]
			}
			if got, want := d.Update(rec), Decode(rec); !reflect.DeepEqual(got, want) {
				t.Fatalf("after %d chunks: %s", n, eventsDiff(got, want))
			}
		}
	})
	t.Run("not an extension", func(t *testing.T) {
		var d Decoder
		a, b := loadSession(t, "mqtt311", "client"), loadSession(t, "tls12", "broker")
		for _, rec := range []Recording{a, b, a, {Side: Client}, b} {
			if got, want := d.Update(rec), Decode(rec); !reflect.DeepEqual(got, want) {
				t.Fatal(eventsDiff(got, want))
			}
		}
		// The same chunks with other bytes: copies, as JSON gives them.
		c := a
		c.Chunks = slices.Clone(a.Chunks)
		last := &c.Chunks[len(c.Chunks)-1]
		last.Data = slices.Clone(last.Data)
		last.Data[0] ^= 0xff
		d.Update(a)
		if got, want := d.Update(c), Decode(c); !reflect.DeepEqual(got, want) {
			t.Fatal(eventsDiff(got, want))
		}
	})
}

// FuzzDecoder cuts two byte streams into chunks as plan says and requires
// a Decoder fed every prefix of the recording to return what Decode
// returns for it. Each byte of plan makes a chunk: 0 a gap marker, else
// the low bit picks the direction and the rest the chunk's length.
func FuzzDecoder(f *testing.F) {
	f.Add(connectPkt, append(slices.Clone(connackPkt), 0xd0, 0x00), append(slices.Clone(publishPkt), publishPkt...), []byte{7, 4, 9, 5, 3, 60, 0, 24, 9}, false)
	f.Add([]byte{22, 3, 1, 0, 4, 1, 0, 0, 0, 23, 3, 3, 0, 1, 9}, []byte{21, 3, 3, 0, 2, 2, 48}, publishPkt, []byte{9, 5, 4, 0, 6, 255}, true)
	f.Add([]byte{0x30, 0xff, 0xff, 0xff, 0xff, 0x01}, connackPkt, connectPkt, []byte{2, 3, 5, 7, 11}, false)
	f.Fuzz(func(t *testing.T, fromClient, fromServer, app []byte, plan []byte, tlsGap bool) {
		if len(plan) > 64 {
			plan = plan[:64]
		}
		rec := Recording{Side: Client}
		src := [2][]byte{fromClient, fromServer}
		for i, p := range plan {
			c := Chunk{Time: time.Unix(int64(i), 0), Dir: Send}
			k := int(p & 1)
			if k == 1 {
				c.Dir = Recv
			}
			if p == 0 || p == 1 {
				c.Gap = int64(i + 1)
				if tlsGap {
					c.Next = &RecordStart{Skip: int64(i % 3), Index: int64(i)}
				}
				rec.Dropped += c.Gap
			} else if i%4 == 3 && len(app) > 0 {
				// Every fourth chunk from the application side.
				n := min(len(app), int(p>>1))
				c.App, c.Data, app = true, app[:n], app[n:]
			} else {
				n := min(len(src[k]), int(p>>1))
				c.Data, src[k] = src[k][:n], src[k][n:]
			}
			rec.Chunks = append(rec.Chunks, c)
		}
		all := make([]int, len(rec.Chunks))
		for i := range all {
			all[i] = i + 1
		}
		checkUpdates(t, rec, all)
	})
}

// BenchmarkDecoderGrowing decodes a TLS 1.3 connection of many publishes
// after each chunk it records, as the broker's trace stream does for a
// watched connection: Decode of everything so far, or one Decoder's
// Update.
func BenchmarkDecoderGrowing(b *testing.B) {
	cert, pool := testCert(b)
	rec, _ := publishSession(b, &tls.Config{RootCAs: pool, ServerName: "localhost"},
		&tls.Config{Certificates: []tls.Certificate{cert}}, SplitLimit(0), SplitLimit(0), 100)
	prefix := func(n int) Recording {
		r := rec
		r.Chunks = rec.Chunks[:n:n]
		return r
	}
	b.Logf("%d chunks", len(rec.Chunks))
	b.Run("full", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			for n := 1; n <= len(rec.Chunks); n++ {
				Decode(prefix(n))
			}
		}
	})
	b.Run("incremental", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var d Decoder
			for n := 1; n <= len(rec.Chunks); n++ {
				d.Update(prefix(n))
			}
		}
	})
}

// TestRecorderEvents replays sessions into recorders, calling Events after
// each chunk: with room for all, and with a small tail, whose gaps grow
// with each chunk (then the recording is not an extension of the last).
func TestRecorderEvents(t *testing.T) {
	for _, name := range []string{"tls13", "tls12", "mqtt5-properties"} {
		full := loadSession(t, name, "client")
		for _, l := range []Limits{SplitLimit(0), {HeadLimit: 2000, TailLimit: 600}} {
			r := NewRecorderLimits(full.Side, l)
			r.keylog.WriteString(full.KeyLog)
			for i, c := range full.Chunks {
				r.add(c.Dir, c.App, c.Data)
				if got, want := r.Events(), Decode(r.Recording()); !reflect.DeepEqual(got, want) {
					t.Fatalf("%s %+v, after chunk %d: %s", name, l, i, eventsDiff(got, want))
				}
			}
		}
	}
}
