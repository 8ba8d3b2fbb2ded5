package pcapng

import (
	"bytes"
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/mqtts-playground/playground/trace/recording"
)

// FuzzRead feeds arbitrary bytes to Read: it must never panic,
// fail only with a "trace: pcapng: " error naming an offset, and return no
// more bytes than it was given. What it reads must survive a round trip
// through Write.
func FuzzRead(f *testing.F) {
	var good bytes.Buffer
	if err := Write(&good, recording.Recording{Side: recording.Broker, KeyLog: "CLIENT_RANDOM 01 02\n", ServerAddr: "[::1]:8883", ClientAddr: "[::1]:4000", Chunks: []recording.Chunk{
		{Dir: recording.Recv, Data: []byte{0x16, 3, 1, 0, 1, 1}},
		{Dir: recording.Send, Data: bytes.Repeat([]byte{0x17}, 1500)},
	}}); err != nil {
		f.Fatal(err)
	}
	f.Add(good.Bytes())
	f.Add(good.Bytes()[:200])
	good.Reset()
	if err := Write(&good, recording.Recording{Side: recording.Client, Chunks: []recording.Chunk{{Dir: recording.Send, Data: connectPkt}, {Dir: recording.Recv, Data: connackPkt}}}); err != nil {
		f.Fatal(err)
	}
	f.Add(good.Bytes())
	f.Add([]byte{})
	f.Add([]byte{0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 4, 0, 113, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 4, 0, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0})
	f.Add([]byte{0x0a, 0x0d, 0x0d, 0x0a, 0x1c, 0, 0, 0, 0x4d, 0x3c, 0x2b, 0x1a, 1, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x1c, 0, 0, 0})
	f.Fuzz(func(t *testing.T, in []byte) {
		rec, err := Read(bytes.NewReader(in))
		if err != nil {
			if msg := err.Error(); !strings.HasPrefix(msg, "trace: pcapng: ") || !strings.Contains(msg, "offset ") {
				t.Fatalf("error %q: want the prefix and an offset", msg)
			}
			return
		}
		n := len(rec.KeyLog)
		for _, c := range rec.Chunks {
			// A chunk holds bytes, or is a gap marker.
			if c.App || (len(c.Data) == 0) != (c.Gap > 0) || c.Gap < 0 || (c.Dir != recording.Send && c.Dir != recording.Recv) {
				t.Fatalf("chunk %+v", c)
			}
			n += len(c.Data)
		}
		if n > len(in) {
			t.Fatalf("read %d bytes out of %d", n, len(in))
		}
		var buf bytes.Buffer
		if err := Write(&buf, rec); err != nil {
			t.Fatal(err)
		}
		again, err := Read(&buf)
		if err != nil {
			t.Fatal(err)
		}
		checkSameWire(t, again, rec)
	})
}

// checkSameWire fails unless got and want have the same side and key log,
// and the same wire bytes in each direction.
func checkSameWire(t *testing.T, got, want recording.Recording) {
	t.Helper()
	if got.Side != want.Side && !(want.Side != recording.Client && got.Side == recording.Broker) {
		t.Fatalf("side %q, want %q", got.Side, want.Side)
	}
	if got.KeyLog != want.KeyLog {
		t.Fatalf("key log %q, want %q", got.KeyLog, want.KeyLog)
	}
	gs, gr := wireBytes(got)
	ws, wr := wireBytes(want)
	if !bytes.Equal(gs, ws) || !bytes.Equal(gr, wr) {
		t.Fatalf("sent %x received %x, want %x and %x", gs, gr, ws, wr)
	}
}

// FuzzRoundTrip builds recordings from the fuzz input, writes them
// with Write and reads them back: the wire chunks, their directions and
// (non-zero) times, the gaps in each direction, the side and the key log
// must come back unchanged.
func FuzzRoundTrip(f *testing.F) {
	f.Add([]byte{0x00, 3, 0x16, 3, 1, 0x05, 2, 1, 2}, true, "CLIENT_RANDOM 00 11\n", "", "")
	f.Add([]byte{0x01, 0xff, 0xf2, 0x10, 0x02, 4, 1, 2, 3, 4, 0x05, 1, 9}, false, "", "127.0.0.1:1", "127.0.0.1:2")
	f.Add([]byte{0x34, 0x05, 0x16, 0x07, 200, 1}, true, "k", "[::1]:5", "10.0.0.1:5")
	f.Add([]byte{0x00, 2, 0x16, 3, 0x08, 10, 0x09, 7, 0x01, 1, 5, 0x00, 1, 6, 0xf8, 0xff}, false, "", "", "")
	f.Fuzz(func(t *testing.T, script []byte, client bool, keylog, caddr, saddr string) {
		rec := recording.Recording{Side: recording.Broker, KeyLog: keylog, ClientAddr: caddr, ServerAddr: saddr}
		if client {
			rec.Side = recording.Client
		}
		// Each chunk: a control byte (bit 0: direction, bit 1: app, bit 2:
		// a zero time, bit 3: a gap marker, bits 4-7: high bits of the
		// length), a length byte, then the data (none for a gap marker of
		// that length), repeated from what is left if too short.
		t0 := time.Date(2020, 1, 2, 3, 4, 5, 6789, time.UTC)
		for i := 0; len(script) >= 2; i++ {
			ctl := script[0]
			n := int(script[1]) | int(ctl>>4)<<8
			script = script[2:]
			c := recording.Chunk{Dir: recording.Send, App: ctl&2 != 0}
			if ctl&1 != 0 {
				c.Dir = recording.Recv
			}
			if ctl&4 == 0 {
				c.Time = t0.Add(time.Duration(i) * 1234567 * time.Nanosecond)
			}
			if ctl&8 != 0 {
				c.Data, c.Gap = []byte{}, int64(n)
				rec.Dropped += c.Gap
				rec.Chunks = append(rec.Chunks, c)
				continue
			}
			data := make([]byte, n)
			if len(script) > 0 {
				for j := range data {
					data[j] = script[j%len(script)]
				}
			}
			script = script[min(n, len(script)):]
			c.Data = data
			rec.Chunks = append(rec.Chunks, c)
		}
		var buf bytes.Buffer
		if err := Write(&buf, rec); err != nil {
			t.Fatal(err)
		}
		got, err := Read(&buf)
		if err != nil {
			t.Fatal(err)
		}
		checkSameWire(t, got, rec)
		for _, dir := range []recording.Dir{recording.Send, recording.Recv} {
			if g, w := streamShape(got, dir), streamShape(rec, dir); g != w {
				t.Fatalf("%s stream: %s, want %s", dir, g, w)
			}
		}
		want := wireOnly(rec)
		if len(got.Chunks)-countGaps(got) != len(want) {
			t.Fatalf("%d data chunks, want %d", len(got.Chunks)-countGaps(got), len(want))
		}
		var data []recording.Chunk
		for _, c := range got.Chunks {
			if c.Gap == 0 {
				data = append(data, c)
			}
		}
		for i, w := range want {
			g := data[i]
			if g.Dir != w.Dir || !bytes.Equal(g.Data, w.Data) || (w.Time.Unix() > 0 && !g.Time.Equal(w.Time)) {
				t.Fatalf("chunk %d: %s %x at %v, want %s %x at %v", i, g.Dir, g.Data, g.Time, w.Dir, w.Data, w.Time)
			}
		}
		for _, a := range []string{got.ClientAddr, got.ServerAddr} {
			if _, err := netip.ParseAddrPort(a); err != nil {
				t.Fatalf("address %q: %v", a, err)
			}
		}
		if got.ClientAddr == got.ServerAddr {
			t.Fatalf("both ends are %s", got.ClientAddr)
		}
	})
}

func countGaps(rec recording.Recording) int {
	n := 0
	for _, c := range rec.Chunks {
		if c.Gap > 0 {
			n++
		}
	}
	return n
}

// streamShape describes one direction of a recording's wire as runs of
// bytes and gaps, "5+g3+2" for 5 bytes, 3 missing, 2 more: what a TCP
// sequence can tell.
func streamShape(rec recording.Recording, dir recording.Dir) string {
	var b strings.Builder
	var n, gap int64
	last := byte(0)
	put := func(kind byte) {
		switch {
		case kind == 'd' && n > 0:
			fmt.Fprintf(&b, "+%d", n)
			n = 0
		case kind == 'g' && gap > 0:
			fmt.Fprintf(&b, "+g%d", gap)
			gap = 0
		}
	}
	for _, c := range rec.Chunks {
		if c.App || c.Dir != dir {
			continue
		}
		switch {
		case c.Gap > 0:
			if last == 'd' {
				put('d')
			}
			gap += c.Gap
			last = 'g'
		case len(c.Data) > 0:
			if last == 'g' {
				put('g')
			}
			n += int64(len(c.Data))
			last = 'd'
		}
	}
	put('d')
	put('g')
	return b.String()
}
