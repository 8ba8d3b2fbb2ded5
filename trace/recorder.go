package trace

import (
	"bytes"
	"cmp"
	"net"
	"slices"
	"sync"
	"time"

	"github.com/mqtts-playground/playground/trace/tlswire"
)

// DefaultLimit is the number of bytes a Recorder keeps per connection when
// no limit is given: enough for a handshake and many small messages.
const DefaultLimit = 1 << 20

// DefaultHeadLimit is the most a Recorder made by [NewRecorder] keeps of
// the start of a connection: room for the TLS handshake, certificates
// included, and the first MQTT packets.
const DefaultHeadLimit = 64 << 10

// Limits bound what a Recorder keeps of a connection, in bytes of data
// (bookkeeping adds about 48 bytes per Read or Write kept).
type Limits struct {
	// HeadLimit is the number of bytes kept from the start of the
	// connection, whatever follows: the handshake and the first packets.
	// The head holds whole Reads and Writes. The wire and the application
	// side share it but each ends at its own first Read or Write that does
	// not fit, so that one large read of TLS records does not keep out the
	// first MQTT packets decrypted from it.
	HeadLimit int
	// TailLimit is the number of most recent bytes kept after the head;
	// older ones give way to newer ones. Zero keeps the head only.
	TailLimit int
}

// SplitLimit divides a budget of limit bytes (DefaultLimit when limit <= 0)
// the way [NewRecorder] does: a head of min(DefaultHeadLimit, limit/2),
// the rest for the tail.
func SplitLimit(limit int) Limits {
	if limit <= 0 {
		limit = DefaultLimit
	}
	head := min(DefaultHeadLimit, limit/2)
	return Limits{HeadLimit: head, TailLimit: limit - head}
}

// Recorder records the byte streams of one connection. Wrap the network
// connection with [Recorder.Wire] and the TLS connection with
// [Recorder.App]; pass [Recorder.KeyLogWriter] as tls.Config.KeyLogWriter.
// It is safe for concurrent use.
//
// It keeps the head of the connection and a ring of its most recent bytes
// (see [Limits]). So that a decoder can pick up a TLS stream after the
// bytes the ring dropped, it follows the 5-byte TLS record headers of each
// direction of the wire (when the connection starts with a TLS handshake
// record) and notes in each chunk where the first record in it starts.
type Recorder struct {
	mu     sync.Mutex
	side   Side
	client string
	server string
	limits Limits
	now    func() time.Time

	seq       uint64 // chunks seen, to order head, tail and gaps
	headUsed  int
	headEnded [2]bool // by layer (wire, app): what comes now goes to the tail
	head      []entry
	tail      ring
	tailUsed  int

	gaps    [4]gapCount // by stream index
	dropped int64

	// tls is 1 when the wire is being followed as TLS records, -1 when it
	// is not (not TLS, or nothing to resume), 0 before the first wire byte.
	tls     int8
	records [2]recordFollower // by direction: send, recv

	arena  arena
	keylog bytes.Buffer

	decMu sync.Mutex // taken before mu
	dec   *Decoder   // of Events, made on first use
}

// entry is a chunk as the recorder keeps it.
type entry struct {
	data   []byte
	seq    uint64
	time   int64 // Unix nanoseconds
	recIdx int64 // index of the record that starts at recOff
	recOff int32 // offset in data of the first record start; -1 if none
	stream uint8 // see streamOf
}

// streamOf numbers the four streams of a connection: bit 1 is the
// direction (0 send, 1 recv), bit 0 the layer (1 app).
func streamOf(dir Dir, app bool) uint8 {
	var s uint8
	if dir == Recv {
		s = 2
	}
	if app {
		s |= 1
	}
	return s
}

func streamDir(s uint8) Dir {
	if s&2 != 0 {
		return Recv
	}
	return Send
}

// gapCount is what was dropped of one stream.
type gapCount struct {
	n     int64
	seq   uint64 // of the first dropped chunk
	first int64  // Unix nanoseconds of the first dropped chunk
}

// NewRecorder returns a recorder for one connection seen from side that
// keeps at most limit bytes (DefaultLimit when limit <= 0), split as
// [SplitLimit] says; bytes it cannot keep are counted in gap markers.
func NewRecorder(side Side, limit int) *Recorder {
	return NewRecorderLimits(side, SplitLimit(limit))
}

// NewRecorderLimits returns a recorder for one connection seen from side
// that keeps the head and the tail l allows. Negative limits count as 0.
func NewRecorderLimits(side Side, l Limits) *Recorder {
	l.HeadLimit, l.TailLimit = max(l.HeadLimit, 0), max(l.TailLimit, 0)
	return &Recorder{side: side, limits: l, now: time.Now}
}

// Limits returns the recorder's limits.
func (r *Recorder) Limits() Limits { return r.limits }

func (r *Recorder) add(dir Dir, app bool, p []byte) {
	if len(p) == 0 {
		return
	}
	s := streamOf(dir, app)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.seq++
	// The clock is read only for chunks that are kept or start a gap: a
	// recorder that keeps nothing more costs next to nothing.
	e := entry{seq: r.seq, recOff: -1, stream: s}
	if !app && r.tls >= 0 {
		r.follow(dir, p, &e)
	}
	n := len(p)
	if layer := s & 1; !r.headEnded[layer] {
		if r.headUsed+n <= r.limits.HeadLimit {
			r.headUsed += n
			e.time = r.now().UnixNano()
			e.data = r.arena.copy(p)
			if r.head == nil {
				r.head = make([]entry, 0, 8) // a handshake and the first packets
			}
			r.head = append(r.head, e)
			return
		}
		r.headEnded[layer] = true
		if layer == 0 && r.limits.TailLimit == 0 {
			// Nothing after the head is kept, so there is nowhere to
			// resume decoding: stop following records.
			r.tls = -1
		}
	}
	if n > r.limits.TailLimit {
		// Too big for the tail even alone: what the tail holds is older,
		// so it goes too, or the gap would not be one.
		for r.tail.n > 0 {
			r.evict()
		}
		r.drop(&e, n)
		return
	}
	for r.tailUsed+n > r.limits.TailLimit {
		r.evict()
	}
	r.tailUsed += n
	e.time = r.now().UnixNano()
	e.data = r.arena.copy(p)
	r.tail.push(e)
}

// follow tracks the TLS records of the wire in direction dir through p and
// notes the first record start in e.
func (r *Recorder) follow(dir Dir, p []byte, e *entry) {
	if r.tls == 0 {
		// Only a connection that starts with a handshake record is TLS.
		if p[0] != tlswire.RecordHandshake {
			r.tls = -1
			return
		}
		r.tls = 1
	}
	f := &r.records[streamOf(dir, false)>>1]
	if off, idx := f.follow(p); off >= 0 {
		e.recOff, e.recIdx = int32(off), idx
	}
}

// evict moves the oldest chunk of the tail into its stream's gap.
func (r *Recorder) evict() {
	e := r.tail.pop()
	r.tailUsed -= len(e.data)
	r.drop(&e, len(e.data))
}

// drop counts the n bytes of chunk e in its stream's gap.
func (r *Recorder) drop(e *entry, n int) {
	g := &r.gaps[e.stream]
	if g.n == 0 {
		if e.time == 0 {
			e.time = r.now().UnixNano()
		}
		g.seq, g.first = e.seq, e.time
	}
	g.n += int64(n)
	r.dropped += int64(n)
}

// SetAddrs notes the addresses of the connection's client and server ends.
func (r *Recorder) SetAddrs(client, server string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.client, r.server = client, server
}

// Wire wraps the connection below TLS (or the only connection, for plain
// MQTT): everything read and written through it is recorded as wire bytes.
func (r *Recorder) Wire(c net.Conn) net.Conn { return &tap{Conn: c, r: r} }

// App wraps the connection above TLS: what is read and written through it
// is recorded as application bytes.
func (r *Recorder) App(c net.Conn) net.Conn { return &tap{Conn: c, r: r, app: true} }

// KeyLogWriter returns the writer to set as tls.Config.KeyLogWriter.
func (r *Recorder) KeyLogWriter() *KeyLogWriter { return &KeyLogWriter{r: r} }

// KeyLogWriter collects key log lines for a Recorder.
type KeyLogWriter struct{ r *Recorder }

// Write appends key log lines; it never fails.
func (w *KeyLogWriter) Write(p []byte) (int, error) {
	w.r.mu.Lock()
	defer w.r.mu.Unlock()
	w.r.keylog.Write(p)
	return len(p), nil
}

// Recording returns a copy of what has been recorded so far: the head and
// the tail in the order they were seen, and for each stream that lost
// bytes a gap marker where the first of them passed (after the stream's
// head, before its tail). The chunks' Data is shared with the recorder,
// which never changes kept bytes.
func (r *Recorder) Recording() Recording {
	r.mu.Lock()
	defer r.mu.Unlock()
	type marker struct {
		seq uint64
		c   Chunk
	}
	var gaps []marker
	for s, g := range r.gaps {
		if g.n == 0 {
			continue
		}
		c := Chunk{Time: time.Unix(0, g.first), Dir: streamDir(uint8(s)), App: s&1 != 0, Data: []byte{}, Gap: g.n}
		if s&1 == 0 && r.tls == 1 {
			c.Next = r.resumeAt(uint8(s))
		}
		gaps = append(gaps, marker{g.seq, c})
	}
	slices.SortFunc(gaps, func(a, b marker) int { return cmp.Compare(a.seq, b.seq) })
	// Merge the head, the tail and the gap markers, each in order.
	chunks := make([]Chunk, 0, len(r.head)+len(gaps)+r.tail.n)
	h, t := 0, 0
	for h < len(r.head) || t < r.tail.n || len(gaps) > 0 {
		next := ^uint64(0)
		var e *entry
		if h < len(r.head) {
			e, next = &r.head[h], r.head[h].seq
		}
		if t < r.tail.n && r.tail.at(t).seq < next {
			e, next = r.tail.at(t), r.tail.at(t).seq
		}
		if len(gaps) > 0 && gaps[0].seq < next {
			chunks = append(chunks, gaps[0].c)
			gaps = gaps[1:]
			continue
		}
		if h < len(r.head) && e == &r.head[h] {
			h++
		} else {
			t++
		}
		chunks = append(chunks, e.chunk())
	}
	return Recording{
		Side:       r.side,
		ClientAddr: r.client,
		ServerAddr: r.server,
		Chunks:     chunks,
		KeyLog:     r.keylog.String(),
		Dropped:    r.dropped,
	}
}

// resumeAt finds the first record start of wire stream s in the tail.
func (r *Recorder) resumeAt(s uint8) *RecordStart {
	var skip int64
	for i := range r.tail.n {
		e := r.tail.at(i)
		if e.stream != s {
			continue
		}
		if e.recOff >= 0 {
			return &RecordStart{Skip: skip + int64(e.recOff), Index: e.recIdx}
		}
		skip += int64(len(e.data))
	}
	return nil
}

func (e *entry) chunk() Chunk {
	return Chunk{Time: time.Unix(0, e.time), Dir: streamDir(e.stream), App: e.stream&1 != 0, Data: e.data}
}

// Events decodes what has been recorded so far: each call decodes only
// what was recorded since the last (see [Decoder]). The slice is shared
// with later calls: callers must not change it.
func (r *Recorder) Events() []Event {
	r.decMu.Lock()
	defer r.decMu.Unlock()
	if r.dec == nil {
		r.dec = new(Decoder)
	}
	return r.dec.Update(r.Recording())
}

// ring is a FIFO queue of entries in a circular buffer.
type ring struct {
	buf   []entry // len is 0 or a power of two
	start int
	n     int
}

func (q *ring) push(e entry) {
	if q.n == len(q.buf) {
		buf := make([]entry, max(16, 2*len(q.buf)))
		for i := range q.n {
			buf[i] = *q.at(i)
		}
		q.buf, q.start = buf, 0
	}
	q.buf[(q.start+q.n)&(len(q.buf)-1)] = e
	q.n++
}

func (q *ring) pop() entry {
	e := q.buf[q.start]
	q.buf[q.start] = entry{}
	q.start = (q.start + 1) & (len(q.buf) - 1)
	q.n--
	return e
}

func (q *ring) at(i int) *entry { return &q.buf[(q.start+i)&(len(q.buf)-1)] }

// arena hands out copies of chunks carved from larger blocks, so that
// recording a chunk rarely allocates. Blocks are only ever appended to, so
// the copies handed out never change; a block is freed by the garbage
// collector once no kept chunk uses it.
type arena struct {
	block []byte
	size  int // of the next block
}

const (
	minBlock = 256
	maxBlock = 32 << 10
)

func (a *arena) copy(p []byte) []byte {
	if len(p) >= maxBlock/2 {
		return bytes.Clone(p)
	}
	if len(p) > cap(a.block)-len(a.block) {
		// Blocks double as the recording grows, from a small first one:
		// most connections record a few small packets.
		a.size = cmp.Or(a.size, minBlock)
		a.block = make([]byte, 0, max(a.size, len(p)))
		a.size = min(2*a.size, maxBlock)
	}
	n := len(a.block)
	a.block = append(a.block, p...)
	return a.block[n:len(a.block):len(a.block)]
}

// recordFollower follows the 5-byte TLS record headers of one direction of
// a wire stream to know where records start, without looking further into
// them: O(1) per record.
type recordFollower struct {
	body  int     // bytes of the current record's body still to come
	hdr   [5]byte // a header split across chunks
	nhdr  int     // bytes of hdr seen so far
	index int64   // index of the next record to start
	lost  bool    // the bytes stopped looking like TLS records
}

// follow reads p, the next bytes of the stream, and returns the offset in p
// of the first record header that starts in p and the record's index, or
// -1 when no record starts in p.
func (f *recordFollower) follow(p []byte) (first int, index int64) {
	first = -1
	for i := 0; i < len(p) && !f.lost; {
		if f.body > 0 {
			k := min(f.body, len(p)-i)
			i += k
			f.body -= k
			continue
		}
		if f.nhdr == 0 {
			if first < 0 {
				first, index = i, f.index
			}
			if len(p)-i >= 5 {
				f.header(p[i : i+5])
				i += 5
				continue
			}
		}
		f.hdr[f.nhdr] = p[i]
		f.nhdr++
		i++
		if f.nhdr == 5 {
			f.nhdr = 0
			f.header(f.hdr[:])
		}
	}
	if f.lost {
		return -1, 0
	}
	return first, index
}

func (f *recordFollower) header(h []byte) {
	n := int(h[3])<<8 | int(h[4])
	if h[0] < tlswire.RecordChangeCipherSpec || h[0] > 24 || h[1] != 3 || n > tlswire.MaxRecordLen {
		f.lost = true
		return
	}
	f.body = n
	f.index++
}

// tap records the bytes passing through a net.Conn.
type tap struct {
	net.Conn
	r   *Recorder
	app bool
	wmu sync.Mutex // makes recording and writing one step for concurrent writers
}

func (t *tap) Read(p []byte) (int, error) {
	n, err := t.Conn.Read(p)
	t.r.add(Recv, t.app, p[:n])
	return n, err
}

// Write records p before writing it, so that a reply read on another
// goroutine can never be recorded ahead of the bytes that caused it. Above
// TLS, it completes the handshake first: the first write would start it, and
// the data must not be recorded ahead of the handshake it waits for.
//
// Concurrent writes are recorded in the order they are written: the
// connection below serialises them anyway (net.Conn and tls.Conn hold a
// write lock), and without this, a goroutine could record its bytes, be
// overtaken by another one's, and then write them.
func (t *tap) Write(p []byte) (int, error) {
	if hs, ok := t.Conn.(interface{ Handshake() error }); ok && t.app {
		if err := hs.Handshake(); err != nil {
			return 0, err
		}
	}
	t.wmu.Lock()
	defer t.wmu.Unlock()
	t.r.add(Send, t.app, p)
	return t.Conn.Write(p)
}
