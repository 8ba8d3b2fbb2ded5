package trace

import (
	"bytes"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mqtts-playground/playground/trace/tlswire"
)

// write is one Read or Write fed to a recorder in a table test.
type write struct {
	dir  Dir
	app  bool
	n    int    // bytes of filler
	data []byte // or these bytes
}

func (w write) bytes(i int) []byte {
	if w.data != nil {
		return w.data
	}
	return bytes.Repeat([]byte{byte('a' + i%26)}, w.n)
}

// fakeClock returns a now func that ticks a millisecond per call.
func fakeClock() func() time.Time {
	t := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	return func() time.Time { t = t.Add(time.Millisecond); return t }
}

// layout describes a recording's chunks as "send 3", "recv app 4" or,
// for gap markers, "gap send 5".
func layout(rec Recording) []string {
	var out []string
	for _, c := range rec.Chunks {
		s := string(c.Dir)
		if c.App {
			s += " app"
		}
		if c.Gap > 0 {
			s = fmt.Sprintf("gap %s %d", s, c.Gap)
			if len(c.Data) != 0 {
				s += " WITH DATA"
			}
		} else {
			s = fmt.Sprintf("%s %d", s, len(c.Data))
		}
		out = append(out, s)
	}
	return out
}

func TestRecorderRing(t *testing.T) {
	tests := []struct {
		name    string
		limits  Limits
		writes  []write
		want    []string
		dropped int64
	}{
		{
			name:   "all in the head",
			limits: Limits{HeadLimit: 10, TailLimit: 10},
			writes: []write{{dir: Send, n: 4}, {dir: Recv, n: 6}},
			want:   []string{"send 4", "recv 6"},
		},
		{
			name:   "head then tail, nothing dropped",
			limits: Limits{HeadLimit: 5, TailLimit: 10},
			writes: []write{{dir: Send, n: 4}, {dir: Recv, n: 6}, {dir: Send, n: 4}},
			want:   []string{"send 4", "recv 6", "send 4"},
		},
		{
			name:   "the head ends at the first write that does not fit",
			limits: Limits{HeadLimit: 5, TailLimit: 3},
			// The 1-byte write would fit the head but comes after it ended.
			writes:  []write{{dir: Send, n: 4}, {dir: Recv, n: 3}, {dir: Send, n: 1}},
			want:    []string{"send 4", "gap recv 3", "send 1"},
			dropped: 3,
		},
		{
			name:   "tail wraps: oldest chunks dropped, one gap per stream",
			limits: Limits{HeadLimit: 4, TailLimit: 6},
			writes: []write{
				{dir: Send, n: 4},            // head
				{dir: Send, n: 2},            // tail, dropped later
				{dir: Recv, app: true, n: 2}, // tail, dropped later
				{dir: Send, n: 2},            // tail, dropped later
				{dir: Recv, n: 3},            // kept
				{dir: Send, n: 3},            // kept
			},
			// Each gap marker sits where its stream's gap starts.
			want:    []string{"send 4", "gap send 4", "gap recv app 2", "recv 3", "send 3"},
			dropped: 6,
		},
		{
			name:   "wire and application heads end separately",
			limits: Limits{HeadLimit: 10, TailLimit: 5},
			writes: []write{
				{dir: Send, n: 4},            // head
				{dir: Recv, n: 8},            // ends the wire's head; too big for the tail
				{dir: Recv, app: true, n: 3}, // head
				{dir: Send, n: 2},            // tail
				{dir: Recv, app: true, n: 2}, // head
				{dir: Recv, app: true, n: 2}, // ends the application's head
			},
			want:    []string{"send 4", "gap recv 8", "recv app 3", "send 2", "recv app 2", "recv app 2"},
			dropped: 8,
		},
		{
			name:   "a write larger than the tail empties it",
			limits: Limits{HeadLimit: 2, TailLimit: 5},
			writes: []write{
				{dir: Send, n: 2},
				{dir: Recv, n: 3},
				{dir: Send, n: 9}, // too big: dropped with the tail before it
				{dir: Recv, n: 1},
			},
			want:    []string{"send 2", "gap recv 3", "gap send 9", "recv 1"},
			dropped: 12,
		},
		{
			name:    "head only: the gaps come after it",
			limits:  Limits{HeadLimit: 6, TailLimit: 0},
			writes:  []write{{dir: Send, n: 3}, {dir: Recv, n: 3}, {dir: Send, n: 5}, {dir: Recv, app: true, n: 2}, {dir: Send, n: 1}},
			want:    []string{"send 3", "recv 3", "gap send 6", "gap recv app 2"},
			dropped: 8,
		},
		{
			name:    "no head",
			limits:  Limits{HeadLimit: 0, TailLimit: 4},
			writes:  []write{{dir: Send, n: 3}, {dir: Recv, n: 3}, {dir: Send, n: 1}},
			want:    []string{"gap send 3", "recv 3", "send 1"},
			dropped: 3,
		},
		{
			name:    "empty writes are not recorded",
			limits:  Limits{HeadLimit: 4, TailLimit: 4},
			writes:  []write{{dir: Send, n: 0}, {dir: Recv, n: 2}},
			want:    []string{"recv 2"},
			dropped: 0,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := NewRecorderLimits(Client, tt.limits)
			r.now = fakeClock()
			var total, kept int64
			for i, w := range tt.writes {
				p := w.bytes(i)
				total += int64(len(p))
				r.add(w.dir, w.app, p)
			}
			rec := r.Recording()
			if got := layout(rec); !slices.Equal(got, tt.want) {
				t.Errorf("chunks\n got %q\nwant %q", got, tt.want)
			}
			if rec.Dropped != tt.dropped {
				t.Errorf("Dropped = %d, want %d", rec.Dropped, tt.dropped)
			}
			var gaps int64
			for i, c := range rec.Chunks {
				kept += int64(len(c.Data))
				gaps += c.Gap
				if i > 0 && c.Time.Before(rec.Chunks[i-1].Time) {
					t.Errorf("chunk %d is older than the one before it", i)
				}
			}
			if kept+gaps != total || gaps != rec.Dropped {
				t.Errorf("kept %d + gaps %d != written %d, or gaps != Dropped %d", kept, gaps, total, rec.Dropped)
			}
			if kept > int64(tt.limits.HeadLimit+tt.limits.TailLimit) {
				t.Errorf("kept %d bytes, more than the limits %+v", kept, tt.limits)
			}
		})
	}
}

func TestRecorderKeepsBytes(t *testing.T) {
	r := NewRecorderLimits(Broker, Limits{HeadLimit: 3, TailLimit: 4})
	p := []byte("abc")
	r.add(Recv, false, p)
	p[0] = 'X' // the caller reuses its buffer
	r.add(Send, false, []byte("de"))
	r.add(Send, false, []byte("fg"))
	r.add(Send, false, []byte("hi")) // evicts "de"
	rec := r.Recording()
	var got []string
	for _, c := range rec.Chunks {
		got = append(got, string(c.Data))
	}
	if want := []string{"abc", "", "fg", "hi"}; !slices.Equal(got, want) {
		t.Errorf("data %q, want %q", got, want)
	}
	// A recording taken earlier is not changed by later writes.
	r.add(Recv, false, []byte("jk"))
	if string(rec.Chunks[2].Data) != "fg" || string(rec.Chunks[3].Data) != "hi" {
		t.Errorf("an earlier recording changed: %q %q", rec.Chunks[2].Data, rec.Chunks[3].Data)
	}
}

func TestSplitLimit(t *testing.T) {
	tests := []struct {
		limit int
		want  Limits
	}{
		{0, Limits{DefaultHeadLimit, DefaultLimit - DefaultHeadLimit}},
		{-5, Limits{DefaultHeadLimit, DefaultLimit - DefaultHeadLimit}},
		{10, Limits{5, 5}},
		{11, Limits{5, 6}},
		{100 << 10, Limits{50 << 10, 50 << 10}},
		{4 << 20, Limits{DefaultHeadLimit, 4<<20 - DefaultHeadLimit}},
	}
	for _, tt := range tests {
		if got := SplitLimit(tt.limit); got != tt.want {
			t.Errorf("SplitLimit(%d) = %+v, want %+v", tt.limit, got, tt.want)
		}
		if got := NewRecorder(Client, tt.limit).Limits(); got != tt.want {
			t.Errorf("NewRecorder(%d).Limits() = %+v, want %+v", tt.limit, got, tt.want)
		}
	}
}

// tlsRecords builds a stream of TLS records with bodies of the given
// lengths (the first a handshake record) and returns it with the offsets
// where records start.
func tlsRecords(lengths ...int) (stream []byte, starts []int) {
	for i, n := range lengths {
		typ := tlswire.RecordApplicationData
		if i == 0 {
			typ = tlswire.RecordHandshake
		}
		starts = append(starts, len(stream))
		stream = append(stream, typ, 3, 3, byte(n>>8), byte(n))
		stream = append(stream, bytes.Repeat([]byte{byte(i)}, n)...)
	}
	return stream, starts
}

func TestRecordFollower(t *testing.T) {
	stream, starts := tlsRecords(40, 0, 3, 300, 1, 2, 7)
	tests := []struct {
		name  string
		sizes func(i int) int // size of chunk i
	}{
		{"whole stream", func(int) int { return len(stream) }},
		{"1-byte chunks", func(int) int { return 1 }},
		{"2-byte chunks", func(int) int { return 2 }},
		{"3-byte chunks: headers split every way", func(int) int { return 3 }},
		{"7-byte chunks", func(int) int { return 7 }},
		{"uneven", func(i int) int { return []int{4, 1, 50, 6, 2, 200, 9}[i%7] }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var f recordFollower
			off := 0
			for i := 0; off < len(stream); i++ {
				end := min(off+tt.sizes(i), len(stream))
				first, index := f.follow(stream[off:end])
				// The first record that starts in [off, end), if any.
				wantFirst, wantIndex := -1, int64(0)
				for j, s := range starts {
					if s >= off && s < end {
						wantFirst, wantIndex = s-off, int64(j)
						break
					}
				}
				if first != wantFirst || index != wantIndex {
					t.Fatalf("chunk [%d,%d): first record at %d index %d, want %d index %d", off, end, first, index, wantFirst, wantIndex)
				}
				off = end
			}
			if f.lost || f.index != int64(len(starts)) {
				t.Errorf("lost %v, %d records followed, want %d", f.lost, f.index, len(starts))
			}
		})
	}
	t.Run("not TLS", func(t *testing.T) {
		var f recordFollower
		if first, _ := f.follow([]byte("GET / HTTP/1.1\r\n")); first != -1 || !f.lost {
			t.Errorf("first %d lost %v, want -1 and lost", first, f.lost)
		}
		if first, _ := f.follow(stream); first != -1 {
			t.Errorf("a lost follower found a record at %d", first)
		}
	})
	t.Run("record too long", func(t *testing.T) {
		var f recordFollower
		if first, _ := f.follow([]byte{23, 3, 3, 0xff, 0xff, 0}); first != -1 || !f.lost {
			t.Errorf("first %d lost %v, want -1 and lost", first, f.lost)
		}
	})
}

func TestRecorderResumePoint(t *testing.T) {
	stream, starts := tlsRecords(10, 20, 30, 40)
	// Chunks: [0,8) [8,40) [40,60) [60,len): the third record starts at 40,
	// the fourth at 75.
	cuts := []int{0, 8, 40, 60, len(stream)}
	if starts[2] != 40 || starts[3] != 75 {
		t.Fatalf("record starts %v", starts)
	}
	tests := []struct {
		name   string
		limits Limits
		want   *RecordStart
	}{
		// Head 8: the tail keeps what fits of [8,40) [40,60) [60,120).
		{"resume in the first kept chunk", Limits{HeadLimit: 8, TailLimit: 80}, &RecordStart{Skip: 0, Index: 2}},
		{"resume past a chunk with no record start", Limits{HeadLimit: 8, TailLimit: 61}, &RecordStart{Skip: 15, Index: 3}},
		{"nothing to resume at", Limits{HeadLimit: 8, TailLimit: 0}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := NewRecorderLimits(Client, tt.limits)
			for i := 1; i < len(cuts); i++ {
				r.add(Send, false, stream[cuts[i-1]:cuts[i]])
			}
			rec := r.Recording()
			var marker *Chunk
			for i := range rec.Chunks {
				if rec.Chunks[i].Gap > 0 {
					marker = &rec.Chunks[i]
				}
			}
			if marker == nil {
				t.Fatalf("no gap marker in %q", layout(rec))
			}
			if (marker.Next == nil) != (tt.want == nil) || (tt.want != nil && *marker.Next != *tt.want) {
				t.Errorf("Next = %+v, want %+v (chunks %q)", marker.Next, tt.want, layout(rec))
			}
		})
	}
	t.Run("plain MQTT is not followed", func(t *testing.T) {
		r := NewRecorderLimits(Client, Limits{HeadLimit: 4, TailLimit: 20})
		for range 5 {
			r.add(Send, false, publishPkt)
		}
		for _, c := range r.Recording().Chunks {
			if c.Next != nil {
				t.Errorf("gap marker of a plain stream has Next %+v", c.Next)
			}
		}
	})
}

func TestRecorderConcurrent(t *testing.T) {
	r := NewRecorderLimits(Broker, Limits{HeadLimit: 1000, TailLimit: 5000})
	stream, _ := tlsRecords(100, 100, 100, 100, 100, 100, 100, 100)
	const writers, rounds = 4, 200
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			dir, app := Send, w%2 == 1
			if w >= 2 {
				dir = Recv
			}
			for i := range rounds {
				if app {
					r.add(dir, true, publishPkt)
				} else {
					r.add(dir, false, stream[:1+i%len(stream)])
				}
			}
		})
	}
	stop := make(chan struct{})
	var readers sync.WaitGroup
	readers.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			rec := r.Recording()
			var kept int
			for _, c := range rec.Chunks {
				kept += len(c.Data)
			}
			if kept > 6000 {
				t.Errorf("kept %d bytes", kept)
			}
			Decode(rec) // must not panic on any snapshot
		}
	})
	wg.Wait()
	close(stop)
	readers.Wait()
	rec := r.Recording()
	var kept, gaps int64
	for _, c := range rec.Chunks {
		kept += int64(len(c.Data))
		gaps += c.Gap
	}
	var want int64
	for i := range rounds {
		want += 2*int64(len(publishPkt)) + 2*int64(1+i%len(stream))
	}
	if kept+gaps != want {
		t.Errorf("kept %d + dropped %d = %d bytes, want %d", kept, gaps, kept+gaps, want)
	}
}

// orderedConn is a net.Conn that notes what is written to it, yielding
// between calls so that concurrent writers interleave.
type orderedConn struct {
	net.Conn
	mu      sync.Mutex
	written []byte
}

func (c *orderedConn) Write(p []byte) (int, error) {
	runtime.Gosched()
	c.mu.Lock()
	c.written = append(c.written, p...)
	c.mu.Unlock()
	return len(p), nil
}

func TestTapConcurrentWritesInOrder(t *testing.T) {
	r := NewRecorderLimits(Client, Limits{HeadLimit: 1 << 20})
	conn := &orderedConn{}
	c := r.Wire(conn)
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := range 500 {
				c.Write([]byte{byte(w), byte(i)})
			}
		})
	}
	wg.Wait()
	var recorded []byte
	for _, ch := range r.Recording().Chunks {
		recorded = append(recorded, ch.Data...)
	}
	if !bytes.Equal(recorded, conn.written) {
		t.Error("the recording's order differs from the order the bytes were written in")
	}
}

// publishSession runs a TLS connection over loopback TCP with both ends
// recorded with the given limits: the client sends CONNECT, gets CONNACK,
// then sends n PUBLISHes to topics t/0 … t/n-2 and last, each answered by
// the server with an empty PINGRESP-sized reply so both directions carry
// records after the handshake.
func publishSession(t testing.TB, ccfg, scfg *tls.Config, cl, sl Limits, n int) (client, server Recording) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	srec := NewRecorderLimits(Broker, sl)
	done := make(chan error, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			done <- err
			return
		}
		defer c.Close()
		cfg := scfg.Clone()
		cfg.KeyLogWriter = srec.KeyLogWriter()
		app := srec.App(tls.Server(srec.Wire(c), cfg))
		if _, err := io.ReadFull(app, make([]byte, len(connectPkt))); err != nil {
			done <- err
			return
		}
		if _, err := app.Write(connackPkt); err != nil {
			done <- err
			return
		}
		for i := range n {
			if _, err := io.ReadFull(app, make([]byte, len(topicPublish(i, n)))); err != nil {
				done <- err
				return
			}
			if _, err := app.Write([]byte{0xd0, 0x00}); err != nil { // PINGRESP
				done <- err
				return
			}
		}
		done <- nil
	}()
	raw, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	crec := NewRecorderLimits(Client, cl)
	cfg := ccfg.Clone()
	cfg.KeyLogWriter = crec.KeyLogWriter()
	tc := tls.Client(crec.Wire(raw), cfg)
	app := crec.App(tc)
	if _, err := app.Write(connectPkt); err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadFull(app, make([]byte, len(connackPkt))); err != nil {
		t.Fatal(err)
	}
	for i := range n {
		if _, err := app.Write(topicPublish(i, n)); err != nil {
			t.Fatal(err)
		}
		if _, err := io.ReadFull(app, make([]byte, 2)); err != nil {
			t.Fatal(err)
		}
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	tc.Close()
	return crec.Recording(), srec.Recording()
}

// topicPublish is PUBLISH i of n: QoS 0 to t/i with a 64-byte payload; the
// last goes to "last".
func topicPublish(i, n int) []byte {
	topic := fmt.Sprintf("t/%03d", i)
	if i == n-1 {
		topic = "last!"
	}
	body := append([]byte{0, byte(len(topic))}, topic...)
	body = append(body, bytes.Repeat([]byte{'p'}, 64)...)
	return append([]byte{0x30, byte(len(body))}, body...)
}

func TestDecodeAfterGap(t *testing.T) {
	cert, pool := testCert(t)
	scfg := &tls.Config{Certificates: []tls.Certificate{cert}}
	const n = 40
	// The head holds the handshake; a tail of 400 bytes holds the last
	// few exchanges only.
	limits := Limits{HeadLimit: 8 << 10, TailLimit: 400}
	for _, tt := range []struct {
		name string
		max  uint16
	}{{"TLS 1.3", tls.VersionTLS13}, {"TLS 1.2", tls.VersionTLS12}} {
		t.Run(tt.name, func(t *testing.T) {
			ccfg := &tls.Config{RootCAs: pool, ServerName: "localhost", MaxVersion: tt.max}
			client, server := publishSession(t, ccfg, scfg, limits, limits, n)
			for _, rec := range []Recording{client, server} {
				t.Run(string(rec.Side), func(t *testing.T) {
					if rec.Dropped == 0 {
						t.Fatalf("nothing dropped: %q", layout(rec))
					}
					// As the web page gets it: through JSON.
					b, err := json.Marshal(rec)
					if err != nil {
						t.Fatal(err)
					}
					if !bytes.Contains(b, []byte(`"data":"","gap":`)) || !bytes.Contains(b, []byte(`"next":{"skip":`)) {
						t.Errorf("no gap marker with a resume point in the JSON")
					}
					var back Recording
					if err := json.Unmarshal(b, &back); err != nil {
						t.Fatal(err)
					}
					checkGapDecode(t, back, n)
				})
			}
		})
	}
}

// checkGapDecode checks that rec, recorded with a gap, decodes cleanly on
// both sides of the gap and shows the last PUBLISH decrypted.
func checkGapDecode(t *testing.T, rec Recording, n int) {
	t.Helper()
	events := Decode(rec)
	lastPub := hex.EncodeToString(topicPublish(n-1, n))
	var gaps []string
	var sawRecord, sawPacket bool
	for _, e := range events {
		if e.Type == "Gap" {
			gaps = append(gaps, string(e.Layer)+" "+string(e.Dir))
			if !strings.HasSuffix(e.Summary, " bytes not recorded (recorder full)") {
				t.Errorf("gap summary %q", e.Summary)
			}
			continue
		}
		if e.Error != "" {
			t.Errorf("event %d %s %s %s: %s", e.Seq, e.Dir, e.Layer, e.Type, e.Error)
		}
		if e.Encrypted && e.Plain == "" {
			t.Errorf("event %d %s: not decrypted", e.Seq, e.Type)
		}
		if err := checkRanges(e); err != nil {
			t.Error(err)
		}
		if e.Layer == LayerTLS && e.Type == "ApplicationData" && strings.Contains(e.Plain, lastPub) {
			sawRecord = true
		}
		if e.Layer == LayerMQTT && e.Type == "PUBLISH" && e.Bytes == lastPub {
			sawPacket = true
			if !hasFieldValue(e, "Topic Name", "last!") {
				t.Errorf("last PUBLISH fields %+v", e.Fields)
			}
		}
	}
	slices.Sort(gaps)
	if want := []string{"mqtt recv", "mqtt send", "tls recv", "tls send"}; !slices.Equal(gaps, want) {
		t.Errorf("gap events %q, want %q", gaps, want)
	}
	if !sawRecord {
		t.Errorf("the last PUBLISH's record was not decrypted after the gap: %q", kinds(events))
	}
	if !sawPacket {
		t.Errorf("the last PUBLISH was not decoded after the gap: %q", kinds(events))
	}
}

func hasFieldValue(e Event, name, value string) bool {
	for _, f := range e.Fields {
		if f.Name == name && strings.Contains(f.Value, value) {
			return true
		}
	}
	return false
}

// replay feeds the chunks of a recording to a new recorder with other
// limits, as if the connection had been recorded by it.
func replay(rec Recording, l Limits) Recording {
	r := NewRecorderLimits(rec.Side, l)
	i := 0
	r.now = func() time.Time { i++; return rec.Chunks[i-1].Time }
	for _, c := range rec.Chunks {
		r.add(c.Dir, c.App, c.Data)
	}
	r.keylog.WriteString(rec.KeyLog)
	return r.Recording()
}

func TestDecodeAfterGapReplayed(t *testing.T) {
	cert, pool := testCert(t)
	scfg := &tls.Config{Certificates: []tls.Certificate{cert}}
	const n = 30
	unlimited := Limits{HeadLimit: 1 << 20}
	for _, tt := range []struct {
		name string
		max  uint16
	}{{"TLS 1.3", tls.VersionTLS13}, {"TLS 1.2", tls.VersionTLS12}} {
		ccfg := &tls.Config{RootCAs: pool, ServerName: "localhost", MaxVersion: tt.max}
		client, server := publishSession(t, ccfg, scfg, unlimited, unlimited, n)
		for _, full := range []Recording{client, server} {
			// Heads that end at every chunk of the handshake after the
			// hellos (the decoder needs those) and beyond: the switch to
			// application keys falls before, in or after the gap.
			for head := 2; head <= 8; head++ {
				var headBytes int
				for _, c := range full.Chunks[:head] {
					headBytes += len(c.Data)
				}
				headOnly := full
				headOnly.Chunks = full.Chunks[:head]
				if !slices.ContainsFunc(Decode(headOnly), func(e Event) bool { return e.Type == "ServerHello" }) {
					continue
				}
				for _, tail := range []int{400, 555, 1000} { // room for the last exchange
					t.Run(fmt.Sprintf("%s/%s/head%d/tail%d", tt.name, full.Side, head, tail), func(t *testing.T) {
						rec := replay(full, Limits{HeadLimit: headBytes, TailLimit: tail})
						if rec.Dropped == 0 {
							t.Skip("nothing dropped")
						}
						checkGapDecode(t, rec, n)
					})
				}
			}
		}
	}
}

func TestDecodeGapPlainMQTT(t *testing.T) {
	// The tail holds the second part of PUBLISH 7 and PUBLISH 8.
	r := NewRecorderLimits(Broker, Limits{HeadLimit: len(connectPkt) + len(connackPkt), TailLimit: 2*len(topicPublish(0, 9)) - 5})
	r.add(Recv, false, connectPkt)
	r.add(Send, false, connackPkt)
	for i := range 9 {
		p := topicPublish(i, 9)
		if i == 7 {
			// A chunk that starts in the middle of a packet: the decoder
			// skips it and resumes at the next chunk.
			r.add(Recv, false, p[:5])
			r.add(Recv, false, p[5:])
			continue
		}
		r.add(Recv, false, p)
	}
	rec := r.Recording()
	events := Decode(rec)
	got := kinds(events)
	want := []string{"recv mqtt CONNECT", "send mqtt CONNACK", "recv mqtt Gap", "recv mqtt PUBLISH"}
	if !slices.Equal(got, want) {
		t.Fatalf("events %q, want %q (chunks %q)", got, want, layout(rec))
	}
	if !hasFieldValue(events[3], "Topic Name", "last!") {
		t.Errorf("last PUBLISH %+v", events[3].Fields)
	}
	if events[2].Summary != fmt.Sprintf("%d bytes not recorded (recorder full)", rec.Dropped) {
		t.Errorf("gap summary %q, dropped %d", events[2].Summary, rec.Dropped)
	}
}

// BenchmarkRecorder measures what a tap adds to each Write: the wire of a
// TLS connection (records followed), the application side, and a
// recorder whose head is full and whose tail is off.
func BenchmarkRecorder(b *testing.B) {
	for _, size := range []int{64, 1024, 16 << 10} {
		rec, _ := tlsRecords(size - 5)
		app := bytes.Repeat([]byte{'x'}, size)
		hello, _ := tlsRecords(100)
		for _, bc := range []struct {
			name   string
			limits Limits
			app    bool
			data   []byte
		}{
			{"wire", SplitLimit(0), false, rec},
			{"app", SplitLimit(0), true, app},
			{"headonly", Limits{HeadLimit: 1 << 10}, false, rec},
		} {
			b.Run(fmt.Sprintf("%s/%d", bc.name, size), func(b *testing.B) {
				r := NewRecorderLimits(Client, bc.limits)
				var c net.Conn = discard{}
				if bc.app {
					c = r.App(c)
				} else {
					c = r.Wire(c)
					c.Write(hello) // a TLS connection
				}
				b.SetBytes(int64(size))
				b.ReportAllocs()
				for b.Loop() {
					c.Write(bc.data)
				}
			})
		}
	}
}

// BenchmarkRecorderConnection measures what recording costs a short plain
// connection nobody watches (the broker's default): a recorder and its tap,
// CONNECT in, CONNACK out, DISCONNECT in.
func BenchmarkRecorderConnection(b *testing.B) {
	connect := bytes.Repeat([]byte{0x10}, 30)
	connack := bytes.Repeat([]byte{0x20}, 12)
	disconnect := []byte{0xe0, 0}
	b.ReportAllocs()
	for b.Loop() {
		r := NewRecorderLimits(Broker, Limits{HeadLimit: DefaultHeadLimit})
		r.SetAddrs("127.0.0.1:50000", "127.0.0.1:1883")
		c := r.Wire(script{connect, disconnect})
		buf := make([]byte, 64)
		c.Read(buf)
		c.Write(connack)
		c.Read(buf)
	}
}

// script is a net.Conn whose reads return its chunks in turn and whose
// writes are discarded.
type script [][]byte

func (s script) Read(p []byte) (int, error) {
	if len(s) == 0 {
		return 0, io.EOF
	}
	n := copy(p, s[0])
	copy(s, s[1:])
	s[len(s)-1] = nil
	return n, nil
}

func (script) Write(p []byte) (int, error)      { return len(p), nil }
func (script) Close() error                     { return nil }
func (script) LocalAddr() net.Addr              { return nil }
func (script) RemoteAddr() net.Addr             { return nil }
func (script) SetDeadline(time.Time) error      { return nil }
func (script) SetReadDeadline(time.Time) error  { return nil }
func (script) SetWriteDeadline(time.Time) error { return nil }

// discard is a net.Conn that accepts every write.
type discard struct{ net.Conn }

func (discard) Write(p []byte) (int, error) { return len(p), nil }

func BenchmarkDecode(b *testing.B) {
	b.Run("tls13-session", func(b *testing.B) {
		cert, pool := testCert(b)
		var key [32]byte
		rand.Read(key[:])
		client, _ := publishSession(b, &tls.Config{RootCAs: pool, ServerName: "localhost"},
			&tls.Config{Certificates: []tls.Certificate{cert}}, SplitLimit(0), SplitLimit(0), 1000)
		benchDecode(b, client)
	})
	b.Run("mqtt-publishes", func(b *testing.B) {
		rec := Recording{Side: Broker, Chunks: []Chunk{{Dir: Recv, Data: connectPkt}, {Dir: Send, Data: connackPkt}}}
		for i := range 10000 {
			rec.Chunks = append(rec.Chunks, Chunk{Dir: Recv, Data: topicPublish(i, 10000)})
		}
		benchDecode(b, rec)
	})
}

func benchDecode(b *testing.B, rec Recording) {
	var n int64
	for _, c := range rec.Chunks {
		n += int64(len(c.Data))
	}
	b.SetBytes(n)
	b.ReportAllocs()
	for b.Loop() {
		Decode(rec)
	}
}
