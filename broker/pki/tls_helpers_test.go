package pki

import (
	"crypto/tls"
	"errors"
	"io"
	"net"
	"testing"
	"time"
)

// tlsServer is a loopback TLS server that echoes what it reads and
// reports each handshake's result on handshakes.
type tlsServer struct {
	addr       string
	handshakes chan error
}

// serveTLS starts a tlsServer with cfg, closed when the test ends.
func serveTLS(t *testing.T, cfg *tls.Config) *tlsServer {
	t.Helper()
	ln, err := tls.Listen("tcp", "127.0.0.1:0", cfg)
	if err != nil {
		t.Fatal(err)
	}
	s := &tlsServer{addr: ln.Addr().String(), handshakes: make(chan error, 16)}
	done := make(chan struct{})
	t.Cleanup(func() {
		ln.Close()
		<-done
	})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				tc := c.(*tls.Conn)
				tc.SetDeadline(time.Now().Add(10 * time.Second))
				err := tc.Handshake()
				select {
				case s.handshakes <- err:
				default:
				}
				if err != nil {
					return
				}
				tc.SetDeadline(time.Time{})
				io.Copy(tc, tc)
			}()
		}
	}()
	return s
}

// dialTLS connects to addr with cfg and completes the handshake.
func dialTLS(addr string, cfg *tls.Config) (*tls.Conn, error) {
	d := tls.Dialer{NetDialer: &net.Dialer{Timeout: 10 * time.Second}, Config: cfg}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		return nil, err
	}
	return c.(*tls.Conn), nil
}

// echo writes msg on c and reads it back.
func echo(c *tls.Conn, msg string) error {
	c.SetDeadline(time.Now().Add(10 * time.Second))
	defer c.SetDeadline(time.Time{})
	if _, err := io.WriteString(c, msg); err != nil {
		return err
	}
	buf := make([]byte, len(msg))
	if _, err := io.ReadFull(c, buf); err != nil {
		return err
	}
	if string(buf) != msg {
		return errors.New("echo: got " + string(buf) + ", want " + msg)
	}
	return nil
}
