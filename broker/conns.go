package broker

import (
	"bytes"
	"errors"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"

	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/packets"
	"github.com/mqtts-playground/playground/trace"
)

// Conn is a connection's live record: its description and its recorder.
type Conn struct {
	mu     sync.Mutex
	info   ConnInfo
	rec    *trace.Recorder
	lesson bool // bound by a lesson listener's rules (see certAuth)
}

// update changes the description under the lock.
func (c *Conn) update(f func(*ConnInfo)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	f(&c.info)
}

// ended notes that the connection has ended.
func (c *Conn) ended() {
	c.mu.Lock()
	c.info.Ended = time.Now()
	c.mu.Unlock()
}

// Info returns a copy of the connection's description.
func (c *Conn) Info() ConnInfo {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.info
}

// Watch notes that someone is watching the broker's connections (a trace
// page or stream is open) until stop is called; stop may be called more
// than once. Connections opened while at least one watcher is registered
// record their head and their most recent bytes (see Options.TraceLimit).
//
// Connections opened while nobody watches record only their head: the TLS
// handshake and the first MQTT packets, nothing after. That is deliberate:
// a learner who opens the page later still sees how each device connected,
// while busy connections nobody looks at cost almost nothing to record.
func (b *Broker) Watch() (stop func()) {
	b.watchers.Add(1)
	var once sync.Once
	return func() { once.Do(func() { b.watchers.Add(-1) }) }
}

// traceLimits says what a connection opened now records.
func (b *Broker) traceLimits() trace.Limits {
	l := trace.SplitLimit(b.opts.TraceLimit)
	if b.watchers.Load() == 0 {
		l.TailLimit = 0
	}
	return l
}

func (b *Broker) remember(c *Conn) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.conns) >= b.opts.KeepConns {
		// Forget the oldest in place: no new slice for every connection.
		over := len(b.conns) - b.opts.KeepConns + 1
		n := copy(b.conns, b.conns[over:])
		clear(b.conns[n:])
		b.conns = b.conns[:n]
	}
	b.conns = append(b.conns, c)
}

// Conns lists recent connections, newest first.
func (b *Broker) Conns() []ConnInfo {
	b.mu.Lock()
	list := append([]*Conn(nil), b.conns...)
	b.mu.Unlock()
	out := make([]ConnInfo, len(list))
	for i, c := range list {
		out[len(list)-1-i] = c.Info()
	}
	return out
}

// Recording returns what was recorded of a recent connection.
func (b *Broker) Recording(id string) (trace.Recording, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, c := range b.conns {
		if c.info.ID == id && c.rec != nil {
			return c.rec.Recording(), true
		}
	}
	return trace.Recording{}, false
}

// brokerConn is the net.Conn handed to mochi; it carries the connection's
// description so hooks can fill in the MQTT client id, and closes it
// gracefully (see closeLinger).
type brokerConn struct {
	net.Conn
	info   *Conn
	end    *endpoint
	client atomic.Pointer[mqtt.Client] // once its CONNECT is accepted
}

// Close starts a graceful close and returns at once. A plain connection
// the client ended (DISCONNECT, or the end of its stream) closes at once:
// it has nothing more to read that could turn the close into a reset.
func (c *brokerConn) Close() error {
	linger := closeLinger
	if cl := c.client.Load(); cl != nil && clientEnded(cl.StopCause()) {
		linger = 0
	}
	c.end.close(linger)
	return nil
}

// CanWriteNow tells the core whether a write would return without waiting
// for the client (see writeAhead).
func (c *brokerConn) CanWriteNow() bool {
	return c.end.wa != nil && c.end.wa.CanWriteNow()
}

// Readable tells the core whether more of the client's bytes wait to be
// read (see writeAhead.Readable).
func (c *brokerConn) Readable() bool {
	return c.end.wa != nil && c.end.wa.Readable()
}

// clientEnded reports whether a session stopped because the client ended it.
func clientEnded(cause error) bool {
	return errors.Is(cause, packets.CodeDisconnect) || errors.Is(cause, io.EOF)
}

// sessionHook notes which MQTT client each connection carries.
type sessionHook struct {
	mqtt.HookBase
	b *Broker
}

func (h *sessionHook) ID() string { return "playground-sessions" }

func (h *sessionHook) Provides(b byte) bool {
	return bytes.Contains([]byte{mqtt.OnSessionEstablished}, []byte{b})
}

func (h *sessionHook) OnSessionEstablished(cl *mqtt.Client, _ packets.Packet) {
	if bc, ok := cl.Net.Conn.(*brokerConn); ok {
		bc.client.Store(cl)
		id := clientID(cl)
		bc.info.update(func(i *ConnInfo) { i.ClientID = id })
	}
}
