//go:build unix

package broker

import (
	"errors"
	"net"
	"sync"
	"syscall"
)

// writeAhead is a TCP connection whose writes do not wait for the peer
// (and which tells whether input waits, see Readable):
// a Write puts what the socket takes at once (one non-blocking system
// call), and what it does not take is written by a goroutine of its own
// while the Write returns; later Writes join it, up to maxAhead bytes
// waiting, beyond which a Write waits. Bytes keep their order.
//
// So the broker may write to an idle client from whatever goroutine has
// the message (the publisher's reader, see mochi's Client.enqueueFrom)
// without being held up by a client that does not read: CanWriteNow says
// whether a Write of a batch would return at once.
type writeAhead struct {
	*net.TCPConn
	raw syscall.RawConn

	mu       sync.Mutex
	write    func(fd uintptr) bool // tryWrite's system call, made once
	p        []byte                // its input
	n        int                   // and output
	werr     error
	inq      func(fd uintptr) // Readable's system call, made once
	waiting  int              // its output
	drained  sync.Cond        // signalled when bytes left pending
	pending  []byte           // taken by Writes, not yet by the socket
	spare    []byte           // the buffer being written, to reuse
	writing  int              // bytes the flushing goroutine is writing
	flushing bool             // a goroutine is writing pending
	err      error            // the write error that ended the connection
}

// maxAhead is the most a writeAhead holds for a client that does not
// read; CanWriteNow is false from a quarter of it.
const maxAhead = 256 << 10

// newWriteAhead wraps c; it returns nil when c cannot write without
// blocking (then the broker writes as usual).
func newWriteAhead(c net.Conn) *writeAhead {
	tc, ok := c.(*net.TCPConn)
	if !ok {
		return nil
	}
	raw, err := tc.SyscallConn()
	if err != nil {
		return nil
	}
	w := &writeAhead{TCPConn: tc, raw: raw}
	w.drained.L = &w.mu
	w.write = func(fd uintptr) bool {
		for {
			w.n, w.werr = syscall.Write(int(fd), w.p)
			if w.werr != syscall.EINTR {
				return true // done, whether or not all was taken: never wait here
			}
		}
	}
	w.inq = func(fd uintptr) { w.waiting = inputWaiting(fd) }
	return w
}

// Readable reports whether bytes have arrived that a Read would return at
// once: the core goes on reading them before it writes to idle
// subscribers, so that a stream of messages is written in batches (see
// mochi's Client.Read). It is called by the connection's reader only.
func (w *writeAhead) Readable() bool {
	if w.raw.Control(w.inq) != nil {
		return false
	}
	return w.waiting > 0
}

// CanWriteNow reports whether a Write of a batch would return without
// waiting for the peer.
func (w *writeAhead) CanWriteNow() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.err == nil && (!w.flushing || w.held() < maxAhead/4)
}

func (w *writeAhead) Write(p []byte) (int, error) {
	w.mu.Lock()
	for w.flushing && w.err == nil && w.held()+len(p) > maxAhead {
		w.drained.Wait()
	}
	if w.err != nil {
		err := w.err
		w.mu.Unlock()
		return 0, err
	}
	if w.flushing {
		w.pending = append(w.pending, p...)
		w.mu.Unlock()
		return len(p), nil
	}
	n, err := w.tryWrite(p)
	if err != nil {
		w.err = err
		w.mu.Unlock()
		return n, err
	}
	if n < len(p) {
		w.pending = append(w.pending, p[n:]...)
		w.flushing = true
		go w.flush()
	}
	w.mu.Unlock()
	return len(p), nil
}

// held is how many bytes of earlier Writes the socket has not taken yet;
// w.mu is held.
func (w *writeAhead) held() int { return len(w.pending) + w.writing }

// tryWrite writes what the socket takes now, without waiting; w.mu is held.
func (w *writeAhead) tryWrite(p []byte) (int, error) {
	w.p = p
	err := w.raw.Write(w.write)
	n, werr := w.n, w.werr
	w.p, w.werr = nil, nil
	if n < 0 {
		n = 0
	}
	if errors.Is(werr, syscall.EAGAIN) {
		werr = nil
	}
	if err == nil {
		err = werr
	}
	return n, err
}

// flush writes pending until none is left, waiting for the peer as long as
// it takes (or until the connection's deadline).
func (w *writeAhead) flush() {
	w.mu.Lock()
	for len(w.pending) > 0 && w.err == nil {
		buf := w.pending
		w.pending, w.writing = w.spare[:0], len(buf)
		w.mu.Unlock()
		_, err := w.TCPConn.Write(buf)
		w.mu.Lock()
		w.spare, w.writing = buf[:0], 0
		if err != nil {
			w.err = err
		}
		w.drained.Broadcast()
	}
	// An idle connection keeps no buffers.
	w.pending, w.spare, w.flushing = nil, nil, false
	w.drained.Broadcast()
	w.mu.Unlock()
}

// waitWritten returns once every byte of earlier Writes has been taken by
// the socket (or could not be).
func (w *writeAhead) waitWritten() {
	w.mu.Lock()
	for w.flushing {
		w.drained.Wait()
	}
	w.mu.Unlock()
}
