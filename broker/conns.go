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
	mu      sync.Mutex
	info    ConnInfo
	rec     *trace.Recorder
	lesson  bool           // bound by a lesson listener's rules (see certAuth)
	changed *atomic.Uint64 // the broker's count of changes (see Broker.Changes)

	who     Principal // who it acts for in a class; under mu
	release func()    // ends its count against ClassOptions.OwnerConns; under mu
}

// update changes the description under the lock.
func (c *Conn) update(f func(*ConnInfo)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	f(&c.info)
	if c.changed != nil {
		c.changed.Add(1)
	}
}

// principal is who the connection acts for (zero until known).
func (c *Conn) principal() Principal {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.who
}

// setPrincipal notes who the connection acts for, and the release of its
// count against ClassOptions.OwnerConns.
func (c *Conn) setPrincipal(p Principal, release func()) {
	c.update(func(i *ConnInfo) {
		c.who, c.release = p, release
		i.Owner = p.Owner
	})
}

// releaseOwner ends the connection's count against ClassOptions.OwnerConns.
func (c *Conn) releaseOwner() {
	c.mu.Lock()
	r := c.release
	c.release = nil
	c.mu.Unlock()
	if r != nil {
		r()
	}
}

// ended notes that the connection has ended.
func (c *Conn) ended() {
	c.update(func(i *ConnInfo) { i.Ended = time.Now() })
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
	b.changes.Add(1)
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
	return b.ConnsOf(nil)
}

// ConnsOf lists the recent connections for which keep returns true, newest
// first; keep nil keeps all.
func (b *Broker) ConnsOf(keep func(*ConnInfo) bool) []ConnInfo {
	b.mu.Lock()
	list := append([]*Conn(nil), b.conns...)
	b.mu.Unlock()
	out := make([]ConnInfo, 0, len(list))
	for i := len(list) - 1; i >= 0; i-- {
		info := list[i].Info()
		if keep == nil || keep(&info) {
			out = append(out, info)
		}
	}
	return out
}

// Changes counts the changes to the list of recent connections and their
// descriptions: a viewer whose count is unchanged need not list them
// again.
func (b *Broker) Changes() uint64 { return b.changes.Load() }

// Recording returns what was recorded of a recent connection.
func (b *Broker) Recording(id string) (trace.Recording, bool) {
	b.mu.Lock()
	var rec *trace.Recorder
	for _, c := range b.conns {
		if c.info.ID == id && c.rec != nil {
			rec = c.rec
			break
		}
	}
	b.mu.Unlock()
	// The copy is made outside the broker's lock: new connections and
	// their ends do not wait for it.
	if rec == nil {
		return trace.Recording{}, false
	}
	return rec.Recording(), true
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
