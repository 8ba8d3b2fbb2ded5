package broker

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"sync"
)

// relay is the rogue relay's pipeline after its own TLS handshake: it opens
// a real TLS connection to the target listener, in process, and copies the
// decrypted bytes both ways. Only connections made to the relay listener
// pass through it, so a learner's relay shows only their own session.
func (b *Broker) relay(l *listener, conn *Conn, victim net.Conn) error {
	b.mu.Lock()
	target, ok := b.listeners[l.RelayTo]
	b.mu.Unlock()
	if !ok {
		return fmt.Errorf("%w %q (relay target of %s)", ErrUnknownListener, l.RelayTo, l.Name)
	}
	near, far := net.Pipe()
	remote := conn.Info().Remote
	// The owner of a tunnelled client is its relayed connection's too.
	go b.serveAs(target, &relayedConn{Conn: far, remote: relayAddr("relay " + l.Name + " for " + remote), lesson: l.Lesson}, nil, conn.principal())
	var up net.Conn = near
	if target.TLS != nil {
		cfg := &tls.Config{}
		if l.RelayTLS != nil {
			cfg = l.RelayTLS.Clone()
		}
		tc := tls.Client(near, cfg)
		ctx, cancel := context.WithTimeout(context.Background(), b.opts.HandshakeTimeout)
		err := tc.HandshakeContext(ctx)
		cancel()
		if err != nil {
			near.Close()
			return fmt.Errorf("broker: relay %s → %s: %w", l.Name, l.RelayTo, err)
		}
		up = tc
	}
	var wg sync.WaitGroup
	wg.Go(func() {
		io.Copy(up, victim)
		up.Close()
	})
	io.Copy(victim, up)
	victim.Close()
	wg.Wait()
	return nil
}

// relayedConn is the relay's side of the in-process connection, named so
// the target's connection list says where it came from. For a lesson relay,
// the lesson's rules follow the client to the target listener.
type relayedConn struct {
	net.Conn
	remote net.Addr
	lesson bool
}

func (c *relayedConn) RemoteAddr() net.Addr { return c.remote }

type relayAddr string

func (a relayAddr) Network() string { return "relay" }
func (a relayAddr) String() string  { return string(a) }
