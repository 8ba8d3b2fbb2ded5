//go:build !js

package broker

import (
	"errors"
	"io"
	"net"
	"net/http"
	"net/netip"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// WebSocket returns an http.Handler serving MQTT over WebSocket (subprotocol
// "mqtt", binary messages, as MQTT.js and similar clients speak it) on the
// named listener.
func (b *Broker) WebSocket(name string) http.Handler {
	up := websocket.Upgrader{
		Subprotocols: []string{"mqtt", "mqttv3.1"},
		// MQTT over WebSocket is a broker port like 1883: any page may use it.
		CheckOrigin: func(*http.Request) bool { return true },
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := b.Tunnelable(name); err != nil && errors.Is(err, ErrUnknownListener) {
			http.Error(w, err.Error(), http.StatusNotFound)
			return
		}
		release, err := b.Admit(name, RemoteAddr(r))
		if err != nil {
			http.Error(w, err.Error(), http.StatusTooManyRequests)
			return
		}
		defer release()
		c, err := up.Upgrade(w, r, nil)
		if err != nil {
			return // Upgrade has answered the client
		}
		b.Serve(name, &wsConn{ws: c})
	})
}

// RemoteAddr is the address a request came from, as Admit takes it (nil
// when it does not parse, which Admit does not count).
func RemoteAddr(r *http.Request) net.Addr {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return nil
	}
	return net.TCPAddrFromAddrPort(ap)
}

// wsConn turns binary WebSocket messages into a byte stream.
type wsConn struct {
	ws *websocket.Conn
	r  io.Reader // the message being read, if any

	// gorilla's SetWriteDeadline must not run during a write, but mochi
	// sets deadlines while another goroutine writes: the deadline is kept
	// here and handed to gorilla by Write.
	wmu sync.Mutex // held by Write
	dmu sync.Mutex // guards wdl
	wdl time.Time
}

var errTextMessage = errors.New("broker: MQTT over WebSocket must use binary messages")

func (c *wsConn) Read(p []byte) (int, error) {
	for {
		if c.r == nil {
			typ, r, err := c.ws.NextReader()
			if err != nil {
				if websocket.IsCloseError(err, websocket.CloseNormalClosure, websocket.CloseGoingAway) {
					return 0, io.EOF
				}
				return 0, err
			}
			if typ != websocket.BinaryMessage {
				return 0, errTextMessage
			}
			c.r = r
		}
		n, err := c.r.Read(p)
		if errors.Is(err, io.EOF) {
			c.r = nil
			if n == 0 {
				continue
			}
			err = nil
		}
		return n, err
	}
}

func (c *wsConn) Write(p []byte) (int, error) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.dmu.Lock()
	dl := c.wdl
	c.dmu.Unlock()
	if err := c.ws.SetWriteDeadline(dl); err != nil {
		return 0, err
	}
	if err := c.ws.WriteMessage(websocket.BinaryMessage, p); err != nil {
		return 0, err
	}
	return len(p), nil
}

func (c *wsConn) Close() error                      { return c.ws.Close() }
func (c *wsConn) LocalAddr() net.Addr               { return c.ws.LocalAddr() }
func (c *wsConn) RemoteAddr() net.Addr              { return c.ws.RemoteAddr() }
func (c *wsConn) SetReadDeadline(t time.Time) error { return c.ws.SetReadDeadline(t) }

// SetWriteDeadline applies to the next writes and, through the network
// connection, to a write in progress.
func (c *wsConn) SetWriteDeadline(t time.Time) error {
	c.dmu.Lock()
	c.wdl = t
	c.dmu.Unlock()
	return c.ws.NetConn().SetWriteDeadline(t)
}

func (c *wsConn) SetDeadline(t time.Time) error {
	if err := c.ws.SetReadDeadline(t); err != nil {
		return err
	}
	return c.SetWriteDeadline(t)
}
