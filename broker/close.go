package broker

import (
	"crypto/tls"
	"io"
	"net"
	"sync"
	"time"
)

// closeLinger bounds how long a closing connection keeps reading, and
// discarding, what the client still sends. Closing a TCP socket that has
// unread data sends a reset (RFC 9293 §3.6.1), and a reset can destroy what
// the broker wrote last, often a DISCONNECT saying why (0x93 Receive
// Maximum exceeded, 0x95 Packet too large), before the client reads it.
// So the broker closes its sending side first and drains until the client
// closes too, or this long.
const closeLinger = 2 * time.Second

// shutdownLinger is the same when the broker itself is closing.
const shutdownLinger = 500 * time.Millisecond

// endpoint closes one served connection, gracefully and once.
type endpoint struct {
	raw    net.Conn
	wa     *writeAhead   // raw's writes, when they go ahead (see writeAhead)
	done   chan struct{} // closed when raw is
	closed func()        // runs once raw is closed
	conn   *Conn         // its description

	mu   sync.Mutex
	tls  *tls.Conn // once its handshake is done
	once sync.Once
}

func (e *endpoint) setTLS(tc *tls.Conn) {
	e.mu.Lock()
	e.tls = tc
	e.mu.Unlock()
}

// close ends the connection: with a TCP connection, it sends TLS
// close_notify (on TLS listeners) and a FIN, reads until the client closes
// or linger passes, then closes; other connections close at once, and so
// does a plain TCP connection when linger is 0. It returns at once; later
// calls do nothing.
func (e *endpoint) close(linger time.Duration) {
	e.once.Do(func() {
		half, ok := e.raw.(interface{ CloseWrite() error })
		e.mu.Lock()
		tc := e.tls
		e.mu.Unlock()
		if !ok || (linger <= 0 && tc == nil) {
			e.finish()
			return
		}
		go func() {
			defer e.finish()
			// The deadline also ends a read or write still blocked in
			// another goroutine (the core's reader, a slow write).
			e.raw.SetDeadline(time.Now().Add(linger))
			if tc != nil {
				tc.CloseWrite()
			}
			if e.wa != nil {
				e.wa.waitWritten() // the last packets, a DISCONNECT, close_notify
			}
			half.CloseWrite()
			io.Copy(io.Discard, e.raw)
		}()
	})
}

func (e *endpoint) finish() {
	e.raw.Close()
	close(e.done)
	if e.closed != nil {
		e.closed()
	}
}
