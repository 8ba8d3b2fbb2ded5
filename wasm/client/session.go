package client

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/mqtts-playground/playground/trace/explain"
	"github.com/mqtts-playground/playground/trace/mqttwire"
)

func randomSuffix() string {
	var b [4]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// ErrClosed is returned by calls on a closed connection.
var ErrClosed = errors.New("the connection is closed")

// Err returns why the connection ended, or nil while it is up.
func (c *Conn) Err() error {
	select {
	case <-c.done:
		c.mu.Lock()
		defer c.mu.Unlock()
		return c.closeErr
	default:
		return nil
	}
}

// lost is the error of a connection that broke under a read: why, in
// plain words, wrapping what the read returned.
func (c *Conn) lost(err error) error {
	words := explain.Ended(err, "the broker")
	if strings.Contains(err.Error(), "remote error: tls: ") {
		words = c.explainAlert(err.Error())
	}
	return &wordsError{words: "connection lost: " + words, err: err}
}

// wordsError says err in plain words, and unwraps to it.
type wordsError struct {
	words string
	err   error
}

func (e *wordsError) Error() string { return e.words }
func (e *wordsError) Unwrap() error { return e.err }

// fail ends the connection with err (the first error wins) and closes it.
func (c *Conn) fail(err error) {
	c.finish(err)
	c.raw.Close()
}

// finish marks the connection ended with err, unless it already is, and
// reports whether it did.
func (c *Conn) finish(err error) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	select {
	case <-c.done:
		return false
	default:
		c.closeErr = err
		close(c.done)
		return true
	}
}

func (c *Conn) readLoop() {
	for {
		pk, err := readPacket(c.reader, c.version)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				c.fail(fmt.Errorf("connection lost: %w", ErrClosed))
				return
			}
			c.fail(c.lost(err))
			return
		}
		switch pk.typ {
		case mqttwire.TypePublish:
			m := Message{Topic: pk.topic, Payload: pk.payload, QoS: pk.qos, Retain: pk.retain}
			switch m.QoS {
			case 0:
				c.deliver(m)
			case 1:
				c.deliver(m)
				c.writePacket(ackPacket(mqttwire.TypePuback, pk.id))
			case 2:
				// Exactly once: hold the message until PUBREL, then deliver.
				c.mu.Lock()
				c.inbound[pk.id] = m
				c.mu.Unlock()
				c.writePacket(ackPacket(mqttwire.TypePubrec, pk.id))
			}
		case mqttwire.TypePubrel:
			c.mu.Lock()
			m, ok := c.inbound[pk.id]
			delete(c.inbound, pk.id)
			c.mu.Unlock()
			if ok {
				c.deliver(m)
			}
			c.writePacket(ackPacket(mqttwire.TypePubcomp, pk.id))
		case mqttwire.TypePuback, mqttwire.TypePubrec, mqttwire.TypePubcomp, mqttwire.TypeSuback, mqttwire.TypeUnsuback:
			c.mu.Lock()
			ch := c.waiting[pk.id]
			c.mu.Unlock()
			if ch != nil {
				ch <- pk
			}
		case mqttwire.TypeDisconnect:
			c.fail(fmt.Errorf("the broker disconnected: %s", mqttwire.ReasonName(pk.reason)))
			return
		}
	}
}

func (c *Conn) deliver(m Message) {
	select {
	case c.messages <- m:
	default:
		// The learner is not reading messages: drop the oldest, keep the newest.
		select {
		case <-c.messages:
		default:
		}
		c.messages <- m
	}
}

func (c *Conn) keepAlive(every time.Duration) {
	t := time.NewTicker(every * 3 / 4)
	defer t.Stop()
	for {
		select {
		case <-c.done:
			return
		case <-t.C:
			if err := c.writePacket(pingreqPacket()); err != nil {
				c.fail(fmt.Errorf("sending PINGREQ failed: %w", err))
				return
			}
		}
	}
}

// request sends the packet encode makes with a fresh packet id and waits
// for the acknowledgement of type want.
func (c *Conn) request(ctx context.Context, encode func(id uint16) []byte, want byte) (packet, error) {
	ch := make(chan packet, 1)
	c.mu.Lock()
	for {
		c.nextID++
		if c.nextID == 0 {
			c.nextID = 1
		}
		if _, busy := c.waiting[c.nextID]; !busy {
			break
		}
	}
	id := c.nextID
	c.waiting[id] = ch
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		delete(c.waiting, id)
		c.mu.Unlock()
	}()
	if err := c.writePacket(encode(id)); err != nil {
		return packet{}, c.lost(err)
	}
	for {
		select {
		case ack := <-ch:
			if ack.typ == want {
				return ack, nil
			}
			if ack.typ == mqttwire.TypePubrec && want == mqttwire.TypePubcomp {
				// QoS 2, second step: release the message.
				if ack.reason >= 0x80 {
					return ack, fmt.Errorf("the broker did not accept the message: %s", mqttwire.ReasonName(ack.reason))
				}
				if err := c.writePacket(ackPacket(mqttwire.TypePubrel, id)); err != nil {
					return packet{}, err
				}
				continue
			}
			return ack, fmt.Errorf("expected packet type %d, got %d", want, ack.typ)
		case <-c.done:
			return packet{}, c.Err()
		case <-ctx.Done():
			return packet{}, &wordsError{words: "no acknowledgement from the broker in time", err: ctx.Err()}
		}
	}
}

// Subscribe subscribes to a topic filter and returns the QoS the broker
// granted.
func (c *Conn) Subscribe(ctx context.Context, filter string, qos byte) (byte, error) {
	if qos > 2 {
		return 0, fmt.Errorf("qos %d is not 0, 1 or 2", qos)
	}
	ack, err := c.request(ctx, func(id uint16) []byte { return subscribePacket(c.version, id, filter, qos) }, mqttwire.TypeSuback)
	if err != nil {
		return 0, fmt.Errorf("subscribe to %q: %w", filter, err)
	}
	if len(ack.reasons) != 1 {
		return 0, fmt.Errorf("subscribe to %q: SUBACK holds %d codes, want 1", filter, len(ack.reasons))
	}
	if code := ack.reasons[0]; code >= 0x80 {
		return 0, fmt.Errorf("the broker refused the subscription to %q: %s", filter, mqttwire.ReasonName(code))
	}
	return ack.reasons[0], nil
}

// Publish sends a message and, for QoS 1 and 2, waits until the broker has
// acknowledged it.
func (c *Conn) Publish(ctx context.Context, topic string, payload []byte, qos byte, retain bool) error {
	encode := func(id uint16) []byte { return publishPacket(c.version, topic, payload, qos, retain, id) }
	var err error
	switch qos {
	case 0:
		err = c.writePacket(encode(0))
	case 1:
		var ack packet
		if ack, err = c.request(ctx, encode, mqttwire.TypePuback); err == nil && ack.reason >= 0x80 {
			err = fmt.Errorf("the broker did not accept the message: %s", mqttwire.ReasonName(ack.reason))
		}
	case 2:
		_, err = c.request(ctx, encode, mqttwire.TypePubcomp)
	default:
		return fmt.Errorf("qos %d is not 0, 1 or 2", qos)
	}
	if err != nil {
		return fmt.Errorf("publish to %q: %w", topic, err)
	}
	return nil
}

// NextMessage waits for the next message on any subscription.
func (c *Conn) NextMessage(ctx context.Context) (Message, error) {
	select {
	case m := <-c.messages:
		return m, nil
	case <-ctx.Done():
		return Message{}, errors.New("no message arrived before the timeout")
	case <-c.done:
		select {
		case m := <-c.messages:
			return m, nil
		default:
		}
		return Message{}, c.Err()
	}
}

// Drop ends the connection as a crash or a lost network would: no
// DISCONNECT, no close_notify, just the transport closed. The broker then
// publishes the client's will, if it gave one.
func (c *Conn) Drop() {
	if c.finish(ErrClosed) {
		c.raw.Close()
	}
}

// Close sends DISCONNECT, closes TLS with close_notify and the connection.
func (c *Conn) Close() error {
	// Mark the end first: the broker drops the connection on DISCONNECT,
	// and the read loop must not report that as a lost connection.
	if !c.finish(ErrClosed) {
		return nil
	}
	err := c.writePacket(disconnectPacket(c.version))
	if c.tls != nil {
		c.tls.Close() // sends close_notify
	}
	c.raw.Close()
	return err
}
