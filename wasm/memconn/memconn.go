// Package memconn is an in-memory, buffered, full-duplex connection: two
// net.Conns joined so that what one writes the other reads. It is the wire
// between the browser client and the broker when both run in one page (the
// static build), and the receive buffer of the browser's WebSocket conn.
//
// Unlike net.Pipe, a Write never waits for the peer to read: it lands in the
// peer's queue and returns. That matters for crypto/tls, whose Close writes
// a close_notify alert that nobody reads any more; over an unbuffered pipe
// under js/wasm that write waits forever. Queues are unbounded: both ends
// are code of the same page, and each bounds what it sends (the broker its
// packet size, the client its messages).
//
// Deadlines work as for a TCP conn: a read past its deadline fails with an
// error whose Timeout() is true (os.ErrDeadlineExceeded), and so does a
// write past its deadline. The package does not frame, copy on read or
// know any protocol.
package memconn

import (
	"errors"
	"io"
	"net"
	"os"
	"sync"
	"time"
)

// Queue is one direction of a connection: bytes written wait in it until
// they are read. The zero value is not usable; see NewQueue.
type Queue struct {
	mu       sync.Mutex
	data     []byte
	eof      bool // the writer is done: readers get io.EOF once data is drained
	closed   bool // the reader is done: reads fail, writes fail
	deadline time.Time
	changed  chan struct{} // closed and replaced on every change
}

// NewQueue returns an empty queue.
func NewQueue() *Queue { return &Queue{changed: make(chan struct{})} }

// signal wakes every waiting reader; q.mu is held.
func (q *Queue) signal() {
	close(q.changed)
	q.changed = make(chan struct{})
}

// Write appends p to the queue. It fails with io.ErrClosedPipe once the
// reading side is closed or the writing side has called CloseWrite.
func (q *Queue) Write(p []byte) (int, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed || q.eof {
		return 0, io.ErrClosedPipe
	}
	if len(p) == 0 {
		return 0, nil
	}
	q.data = append(q.data, p...)
	q.signal()
	return len(p), nil
}

// CloseWrite ends the stream: once the queued bytes are read, reads return
// io.EOF.
func (q *Queue) CloseWrite() {
	q.mu.Lock()
	defer q.mu.Unlock()
	if !q.eof {
		q.eof = true
		q.signal()
	}
}

// CloseRead closes the reading side: waiting and later reads return
// net.ErrClosed, writes io.ErrClosedPipe, and queued bytes are dropped.
func (q *Queue) CloseRead() {
	q.mu.Lock()
	defer q.mu.Unlock()
	if !q.closed {
		q.closed = true
		q.data = nil
		q.signal()
	}
}

// SetReadDeadline sets the time after which Read fails with
// os.ErrDeadlineExceeded; the zero time means none. It applies to a Read
// already waiting too.
func (q *Queue) SetReadDeadline(t time.Time) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.deadline = t
	q.signal()
}

// Read waits until bytes are queued, the stream ends, the reading side is
// closed or the read deadline passes.
func (q *Queue) Read(p []byte) (int, error) {
	for {
		q.mu.Lock()
		switch {
		case q.closed:
			q.mu.Unlock()
			return 0, net.ErrClosed
		case len(q.data) > 0:
			n := copy(p, q.data)
			q.data = q.data[n:]
			if len(q.data) == 0 {
				q.data = nil // let the backing array go
			}
			q.mu.Unlock()
			return n, nil
		case len(p) == 0:
			q.mu.Unlock()
			return 0, nil
		case q.eof:
			q.mu.Unlock()
			return 0, io.EOF
		}
		deadline, changed := q.deadline, q.changed
		q.mu.Unlock()
		if deadline.IsZero() {
			<-changed
			continue
		}
		wait := time.Until(deadline)
		if wait <= 0 {
			return 0, os.ErrDeadlineExceeded
		}
		t := time.NewTimer(wait)
		select {
		case <-changed:
		case <-t.C:
		}
		t.Stop()
	}
}

// Addr is the address of one end of an in-memory connection.
type Addr string

// Network returns "mem".
func (Addr) Network() string { return "mem" }

func (a Addr) String() string { return string(a) }

// Deadlines gives a net.Conn whose writes never wait its deadline
// methods: the read deadline is the one of In, the queue it reads from;
// the write deadline only matters once it has passed (WriteTimedOut).
type Deadlines struct {
	In *Queue

	mu    sync.Mutex
	write time.Time
}

// SetDeadline sets the read and write deadlines.
func (d *Deadlines) SetDeadline(t time.Time) error {
	d.In.SetReadDeadline(t)
	return d.SetWriteDeadline(t)
}

// SetReadDeadline sets the read deadline.
func (d *Deadlines) SetReadDeadline(t time.Time) error {
	d.In.SetReadDeadline(t)
	return nil
}

// SetWriteDeadline sets the write deadline.
func (d *Deadlines) SetWriteDeadline(t time.Time) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.write = t
	return nil
}

// WriteTimedOut reports whether the write deadline has passed: a write
// must then fail with os.ErrDeadlineExceeded.
func (d *Deadlines) WriteTimedOut() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return !d.write.IsZero() && !time.Now().Before(d.write)
}

// Conn is one end of an in-memory connection (see Pipe).
type Conn struct {
	Deadlines
	out           *Queue
	local, remote net.Addr

	mu     sync.Mutex
	closed bool
}

// Pipe returns the two ends of a new connection; local and remote name the
// first end's addresses (the second's are the reverse).
func Pipe(local, remote net.Addr) (*Conn, *Conn) {
	ab, ba := NewQueue(), NewQueue()
	return &Conn{Deadlines: Deadlines{In: ba}, out: ab, local: local, remote: remote},
		&Conn{Deadlines: Deadlines{In: ab}, out: ba, local: remote, remote: local}
}

// Read reads what the other end wrote.
func (c *Conn) Read(p []byte) (int, error) { return c.In.Read(p) }

// Write queues p for the other end; it never waits for the reader.
//
// Once the other end is closed, writes succeed and the bytes are dropped,
// as a TCP write succeeds after the peer closed: the writer learns of the
// close by reading, the peer's last bytes first. That is how a TLS client
// whose certificate the server refuses after the client's Finished (TLS
// 1.3) reads the server's alert: its next write must not fail first.
func (c *Conn) Write(p []byte) (int, error) {
	c.mu.Lock()
	closed := c.closed
	c.mu.Unlock()
	if closed {
		return 0, net.ErrClosed
	}
	if c.WriteTimedOut() {
		return 0, os.ErrDeadlineExceeded
	}
	n, err := c.out.Write(p)
	if errors.Is(err, io.ErrClosedPipe) {
		return len(p), nil
	}
	return n, err
}

// Close ends both directions: the other end reads what was written before,
// then io.EOF; what it writes from now on is dropped (see Write).
func (c *Conn) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return net.ErrClosed
	}
	c.closed = true
	c.out.CloseWrite()
	c.In.CloseRead()
	return nil
}

// LocalAddr returns this end's address.
func (c *Conn) LocalAddr() net.Addr { return c.local }

// RemoteAddr returns the other end's address.
func (c *Conn) RemoteAddr() net.Addr { return c.remote }
