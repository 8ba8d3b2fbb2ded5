package trace

import (
	"bytes"
	"net"
	"sync"
	"time"
)

// Chunk is one Read or Write seen by a tap.
type Chunk struct {
	// Time is when the call returned.
	Time time.Time `json:"time"`
	// Dir is send for writes and recv for reads.
	Dir Dir `json:"dir"`
	// App is true for the application side of TLS (plaintext MQTT), false
	// for the wire side (TLS records, or MQTT on a plain connection).
	App bool `json:"app,omitempty"`
	// Data holds the bytes.
	Data []byte `json:"data"`
}

// Recording is everything recorded of one connection from one side: the
// raw material that [Decode] turns into events and that exports save.
type Recording struct {
	Side Side `json:"side"`
	// ClientAddr and ServerAddr are the two ends' addresses ("ip:port")
	// when known, for exports that need them (pcapng); empty otherwise.
	ClientAddr string  `json:"clientAddr,omitempty"`
	ServerAddr string  `json:"serverAddr,omitempty"`
	Chunks     []Chunk `json:"chunks"`
	// KeyLog holds the connection's TLS secrets in NSS key log format.
	KeyLog string `json:"keylog,omitempty"`
	// Dropped counts bytes that were not kept because the recorder was full.
	Dropped int64 `json:"dropped,omitempty"`
}

// DefaultLimit is the number of bytes a Recorder keeps per connection when
// no limit is given: enough for a handshake and many small messages.
const DefaultLimit = 1 << 20

// Recorder records the byte streams of one connection. Wrap the network
// connection with [Recorder.Wire] and the TLS connection with
// [Recorder.App]; pass [Recorder.KeyLogWriter] as tls.Config.KeyLogWriter.
// It is safe for concurrent use.
type Recorder struct {
	mu      sync.Mutex
	side    Side
	client  string
	server  string
	limit   int
	used    int
	chunks  []Chunk
	keylog  bytes.Buffer
	dropped int64
	now     func() time.Time
}

// NewRecorder returns a recorder for one connection seen from side that
// keeps at most limit bytes (DefaultLimit when limit <= 0); bytes past the
// limit are counted, not kept.
func NewRecorder(side Side, limit int) *Recorder {
	if limit <= 0 {
		limit = DefaultLimit
	}
	return &Recorder{side: side, limit: limit, now: time.Now}
}

func (r *Recorder) add(dir Dir, app bool, p []byte) {
	if len(p) == 0 {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.used+len(p) > r.limit {
		r.dropped += int64(len(p))
		return
	}
	r.used += len(p)
	r.chunks = append(r.chunks, Chunk{Time: r.now(), Dir: dir, App: app, Data: bytes.Clone(p)})
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

// Recording returns a copy of what has been recorded so far.
func (r *Recorder) Recording() Recording {
	r.mu.Lock()
	defer r.mu.Unlock()
	return Recording{
		Side:       r.side,
		ClientAddr: r.client,
		ServerAddr: r.server,
		Chunks:     append([]Chunk(nil), r.chunks...),
		KeyLog:     r.keylog.String(),
		Dropped:    r.dropped,
	}
}

// Events decodes what has been recorded so far.
func (r *Recorder) Events() []Event { return Decode(r.Recording()) }

// tap records the bytes passing through a net.Conn.
type tap struct {
	net.Conn
	r   *Recorder
	app bool
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
func (t *tap) Write(p []byte) (int, error) {
	if hs, ok := t.Conn.(interface{ Handshake() error }); ok && t.app {
		if err := hs.Handshake(); err != nil {
			return 0, err
		}
	}
	t.r.add(Send, t.app, p)
	return t.Conn.Write(p)
}
