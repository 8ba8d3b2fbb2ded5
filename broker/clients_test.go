package broker_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"sync"
	"testing"
	"time"

	pahopackets "github.com/eclipse/paho.golang/packets"
	"github.com/eclipse/paho.golang/paho"
	"github.com/mochi-mqtt/server/v2/packets"
)

// v5 is a real MQTT 5 client (Eclipse Paho for Go) on one connection, with
// the messages it received.
type v5 struct {
	*paho.Client
	connack *paho.Connack
	got     chan *paho.Publish
	gone    chan *paho.Disconnect // a DISCONNECT from the broker
}

// connectV5 connects a Paho client over c; it fails the test unless the
// broker accepts.
func connectV5(t *testing.T, c net.Conn, cp *paho.Connect) *v5 {
	t.Helper()
	cl, err := tryV5(t, c, cp)
	if err != nil {
		t.Fatalf("connect %s: %v", cp.ClientID, err)
	}
	return cl
}

// tryV5 connects a Paho client over c and returns the broker's answer.
func tryV5(t *testing.T, c net.Conn, cp *paho.Connect) (*v5, error) {
	t.Helper()
	cl := &v5{got: make(chan *paho.Publish, 1000), gone: make(chan *paho.Disconnect, 1)}
	cl.Client = paho.NewClient(paho.ClientConfig{
		Conn: pahopackets.NewThreadSafeConn(c),
		OnPublishReceived: []func(paho.PublishReceived) (bool, error){func(pr paho.PublishReceived) (bool, error) {
			cl.got <- pr.Packet
			return true, nil
		}},
		OnServerDisconnect: func(d *paho.Disconnect) { cl.gone <- d },
		OnClientError:      func(error) {},
	})
	if cp.KeepAlive == 0 {
		cp.KeepAlive = 30
	}
	ctx, cancel := context.WithTimeout(context.Background(), patience)
	defer cancel()
	var err error
	cl.connack, err = cl.Connect(ctx, cp)
	if err != nil {
		return cl, err
	}
	t.Cleanup(func() { cl.Disconnect(&paho.Disconnect{}) })
	return cl, nil
}

func (c *v5) subscribe(t *testing.T, filter string, qos byte) byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), patience)
	defer cancel()
	sa, err := c.Subscribe(ctx, &paho.Subscribe{Subscriptions: []paho.SubscribeOptions{{Topic: filter, QoS: qos}}})
	if sa == nil || len(sa.Reasons) != 1 {
		t.Fatalf("subscribe %s: %v", filter, err)
	}
	return sa.Reasons[0]
}

func (c *v5) publish(t *testing.T, p *paho.Publish) *paho.PublishResponse {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), patience)
	defer cancel()
	pr, err := c.Publish(ctx, p)
	if err != nil && pr == nil {
		t.Fatalf("publish %s: %v", p.Topic, err)
	}
	return pr
}

// next waits for the next message, or fails.
func (c *v5) next(t *testing.T) *paho.Publish {
	t.Helper()
	select {
	case p := <-c.got:
		return p
	case <-time.After(patience):
		t.Fatal("no message")
		return nil
	}
}

// none checks that no message arrives within a short while; something
// that should not arrive would come as fast as what does.
func (c *v5) none(t *testing.T, why string) {
	t.Helper()
	select {
	case p := <-c.got:
		t.Errorf("%s: got %s %q", why, p.Topic, p.Payload)
	case <-time.After(300 * time.Millisecond):
	}
}

// ptr returns a pointer to v (for Paho's optional properties).
func ptr[T any](v T) *T { return &v }

// encode encodes a packet for the version set in it.
func encode(t *testing.T, pk packets.Packet) []byte {
	t.Helper()
	var buf bytes.Buffer
	var err error
	switch pk.FixedHeader.Type {
	case packets.Connect:
		err = pk.ConnectEncode(&buf)
	case packets.Publish:
		err = pk.PublishEncode(&buf)
	case packets.Subscribe:
		err = pk.SubscribeEncode(&buf)
	case packets.Disconnect:
		err = pk.DisconnectEncode(&buf)
	default:
		t.Fatalf("encode: type %d", pk.FixedHeader.Type)
	}
	if err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func connectV(id string, version byte) packets.Packet {
	return packets.Packet{
		FixedHeader: packets.FixedHeader{Type: packets.Connect}, ProtocolVersion: version,
		Connect: packets.ConnectParams{ProtocolName: []byte("MQTT"), Clean: true, Keepalive: 30, ClientIdentifier: id},
	}
}

func publishPacket(topic string, qos byte, id uint16, payload string) packets.Packet {
	return packets.Packet{
		FixedHeader: packets.FixedHeader{Type: packets.Publish, Qos: qos}, ProtocolVersion: 5,
		TopicName: topic, PacketID: id, Payload: []byte(payload),
	}
}

// rawConnect sends pk (a CONNECT) on c and returns the reader and CONNACK.
func rawConnect(t *testing.T, c net.Conn, pk packets.Packet) (*bufio.Reader, packets.Packet) {
	t.Helper()
	if _, err := c.Write(encode(t, pk)); err != nil {
		t.Fatal(err)
	}
	r := bufio.NewReader(c)
	ack, err := readPacket(r, pk.ProtocolVersion)
	if err != nil || ack.FixedHeader.Type != packets.Connack {
		t.Fatalf("CONNACK: type %d, %v", ack.FixedHeader.Type, err)
	}
	return r, ack
}

// readUntil reads packets until one of type typ, and returns it.
func readUntil(t *testing.T, r *bufio.Reader, typ byte) packets.Packet {
	t.Helper()
	for {
		pk, err := readPacket(r, 5)
		if err != nil {
			t.Fatalf("waiting for packet type %d: %v", typ, err)
		}
		if pk.FixedHeader.Type == typ {
			return pk
		}
	}
}

// isTimeout reports whether err is a deadline passing.
func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// testLogger logs as text into w, under mu.
func testLogger(mu *sync.Mutex, w io.Writer) *slog.Logger {
	return slog.New(slog.NewTextHandler(lockedWriter{mu, w}, nil))
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
