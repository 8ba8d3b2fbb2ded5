//go:build js && wasm

package wsconn

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"sync"
	"syscall/js"

	"github.com/mqtts-playground/playground/wasm/memconn"
)

// Conn is an open WebSocket as a net.Conn.
type Conn struct {
	memconn.Deadlines // of the queue of received messages
	ws                js.Value
	url               string
	funcs             []listener

	mu       sync.Mutex
	closed   bool
	closeErr error // why the socket closed, for writes after it
}

type listener struct {
	event string
	fn    js.Func
}

// Dial opens a WebSocket to url (ws: or wss:) and waits until it is open,
// the browser gives up, or ctx ends.
func Dial(ctx context.Context, url string) (_ *Conn, err error) {
	defer func() {
		// new WebSocket throws for a malformed URL or a blocked port.
		if r := recover(); r != nil {
			err = fmt.Errorf("wsconn: %v", r)
		}
	}()
	ws := js.Global().Get("WebSocket").New(url)
	ws.Set("binaryType", "arraybuffer")
	c := &Conn{Deadlines: memconn.Deadlines{In: memconn.NewQueue()}, ws: ws, url: url}
	opened := make(chan error, 1)
	on := func(event string, f func(ev js.Value)) {
		fn := js.FuncOf(func(this js.Value, args []js.Value) any {
			f(args[0])
			return nil
		})
		c.funcs = append(c.funcs, listener{event, fn})
		ws.Call("addEventListener", event, fn)
	}
	uint8Array := js.Global().Get("Uint8Array")
	on("open", func(js.Value) {
		select {
		case opened <- nil:
		default:
		}
	})
	on("message", func(ev js.Value) {
		data := ev.Get("data")
		if data.Type() == js.TypeString {
			c.fail(errors.New("wsconn: the server sent a text message; the tunnel carries binary messages only"))
			return
		}
		b := make([]byte, data.Get("byteLength").Int())
		js.CopyBytesToGo(b, uint8Array.New(data))
		c.In.Write(b)
	})
	on("close", func(ev js.Value) {
		err := fmt.Errorf("wsconn: the WebSocket closed (code %d%s)", ev.Get("code").Int(), reason(ev))
		select {
		case opened <- err:
		default:
		}
		c.mu.Lock()
		if c.closeErr == nil {
			c.closeErr = err
		}
		c.mu.Unlock()
		c.In.CloseWrite()
		c.release()
	})
	// The browser tells no more than "error" (on purpose: no probing of
	// other hosts); the close event that follows carries the code.
	select {
	case err := <-opened:
		if err != nil {
			return nil, err
		}
		return c, nil
	case <-ctx.Done():
		ws.Call("close")
		return nil, fmt.Errorf("wsconn: opening %s: %w", url, ctx.Err())
	}
}

func reason(ev js.Value) string {
	if r := ev.Get("reason").String(); r != "" {
		return ": " + r
	}
	return ""
}

// fail closes the socket after a protocol error.
func (c *Conn) fail(err error) {
	c.mu.Lock()
	if c.closeErr == nil {
		c.closeErr = err
	}
	c.mu.Unlock()
	c.In.CloseWrite()
	c.ws.Call("close", 1003, "binary messages only")
}

func (c *Conn) release() {
	c.mu.Lock()
	funcs := c.funcs
	c.funcs = nil
	c.mu.Unlock()
	// Released after the event that is running returns.
	if len(funcs) > 0 {
		go func() {
			for _, l := range funcs {
				c.ws.Call("removeEventListener", l.event, l.fn)
				l.fn.Release()
			}
		}()
	}
}

// Read reads the bytes of the messages received, in order; io.EOF once the
// socket has closed and everything was read.
func (c *Conn) Read(p []byte) (int, error) { return c.In.Read(p) }

// Write sends p as one binary message. The browser queues it; it does not
// wait for the network.
func (c *Conn) Write(p []byte) (int, error) {
	c.mu.Lock()
	closed, closeErr := c.closed, c.closeErr
	c.mu.Unlock()
	switch {
	case closed:
		return 0, net.ErrClosed
	case closeErr != nil:
		return 0, closeErr
	case c.WriteTimedOut():
		return 0, os.ErrDeadlineExceeded
	}
	a := js.Global().Get("Uint8Array").New(len(p))
	js.CopyBytesToJS(a, p)
	c.ws.Call("send", a)
	return len(p), nil
}

// Close closes the socket (normal closure).
func (c *Conn) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return net.ErrClosed
	}
	c.closed = true
	c.mu.Unlock()
	c.ws.Call("close", 1000)
	c.In.CloseRead()
	return nil
}

// LocalAddr is the page's end; the browser does not tell its address.
func (c *Conn) LocalAddr() net.Addr { return memconn.Addr("browser") }

// RemoteAddr is the WebSocket's URL.
func (c *Conn) RemoteAddr() net.Addr { return memconn.Addr(c.url) }
