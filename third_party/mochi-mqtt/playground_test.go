// Tests of the playground's patches (see PATCHES.md); the behaviour they
// change is also tested end to end in the playground's package broker.

package mqtt

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mochi-mqtt/server/v2/packets"
	"github.com/mochi-mqtt/server/v2/packets/tpackets"
	"github.com/stretchr/testify/require"
)

// withTopicAliasMaximum adds a Topic Alias Maximum property to a CONNACK
// fixture with one-byte lengths, as the patched SendConnack sends it.
func withTopicAliasMaximum(connack []byte, max uint16) []byte {
	out := append([]byte{}, connack...)
	out = append(out, packets.PropTopicAliasMaximum, byte(max>>8), byte(max))
	out[1] += 3 // remaining length
	out[4] += 3 // property length
	return out
}

func TestReadBodyGrowsWithTheData(t *testing.T) {
	const announced = 200 << 20
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	body, err := readBody(bytes.NewReader(make([]byte, 1000)), announced)
	runtime.ReadMemStats(&after)
	require.ErrorIs(t, err, io.ErrUnexpectedEOF)
	require.Len(t, body, 1000)
	require.Less(t, after.TotalAlloc-before.TotalAlloc, uint64(1<<20), "allocated for the announced length, not the bytes that came")

	body, err = readBody(bytes.NewReader([]byte("abc")), 3)
	require.NoError(t, err)
	require.Equal(t, []byte("abc"), body)

	big := bytes.Repeat([]byte{7}, eagerBody*3+5)
	body, err = readBody(bytes.NewReader(big), len(big))
	require.NoError(t, err)
	require.Equal(t, big, body)
}

func TestInboundTopicAliasResolve(t *testing.T) {
	a := NewInboundTopicAliases(4)
	_, ok := a.Resolve(1, "")
	require.False(t, ok, "an alias with no topic yet")
	topic, ok := a.Resolve(1, "a/b")
	require.True(t, ok)
	require.Equal(t, "a/b", topic)
	topic, ok = a.Resolve(1, "")
	require.True(t, ok)
	require.Equal(t, "a/b", topic)
	topic, ok = a.Resolve(1, "c")
	require.True(t, ok)
	require.Equal(t, "c", topic, "a topic remaps the alias")
	topic, _ = a.Resolve(1, "")
	require.Equal(t, "c", topic)
}

func TestInflightBytes(t *testing.T) {
	i := NewInflights()
	pub := func(id uint16, n int) packets.Packet {
		return packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Publish, Qos: 1}, PacketID: id, TopicName: "t", Payload: make([]byte, n)}
	}
	i.Set(pub(1, 9))
	i.Set(pub(2, 99))
	require.Equal(t, int64(10+100), i.Bytes())
	i.Set(pub(1, 19)) // replaced
	require.Equal(t, int64(20+100), i.Bytes())
	i.Set(packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Pubrec}, PacketID: 3})
	require.Equal(t, int64(120), i.Bytes(), "acks count nothing")
	require.Equal(t, int64(120), i.Clone().Bytes())
	i.Delete(2)
	i.Delete(2)
	require.Equal(t, int64(20), i.Bytes())
}

func TestPubackReasonCodeSuccess(t *testing.T) {
	s := newServer()
	s.Options.Capabilities.Compatibilities.NoInheritedPropertiesOnAck = true
	cl, r, w := newTestClient()
	cl.Properties.ProtocolVersion = 5
	cl.State.Inflight.ResetReceiveQuota(10)
	pk := packets.Packet{
		FixedHeader:     packets.FixedHeader{Type: packets.Publish, Qos: 1},
		ProtocolVersion: 5,
		TopicName:       "a/b",
		PacketID:        7,
		Properties:      packets.Properties{User: []packets.UserProperty{{Key: "k", Val: "v"}}},
	}
	go func() {
		require.NoError(t, s.processPublish(cl, pk))
		_ = w.Close()
	}()
	buf, err := io.ReadAll(r)
	require.NoError(t, err)
	require.Equal(t, []byte{packets.Puback << 4, 2, 0, 7}, buf, "PUBACK 0x00 with nothing inherited")
}

// inlineConn is a connection that takes every write at once (or says it
// would not, with busy) and keeps what was written.
type inlineConn struct {
	net.Conn
	busy bool
	mu   sync.Mutex
	out  bytes.Buffer
}

func (c *inlineConn) CanWriteNow() bool { return !c.busy }

func (c *inlineConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.out.Write(p)
}

func (c *inlineConn) written() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.out.Len()
}

// A message for an idle subscriber whose connection can take it at once is
// written by the publisher's reader after its batch of packets, without a
// writer goroutine; a subscriber that cannot take it, and those beyond
// maxDeferred, get writer goroutines.
func TestDeferredDelivery(t *testing.T) {
	s := newServer()
	from, _, _ := newTestClient()
	newSub := func(id string, busy bool) (*Client, *inlineConn) {
		cl, _, _ := newTestClient()
		c := &inlineConn{busy: busy}
		cl.ID, cl.Net.Conn = id, c
		cl.ops.options.Capabilities.MaximumClientWritesPending = 100
		cl.ops.options.ClientNetWriteBufferSize = 1 << 10
		return cl, c
	}
	pk := packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Publish}, ProtocolVersion: 4, TopicName: "a/b", Payload: []byte("hi")}
	sub := packets.Subscription{Filter: "a/b"}

	idle, idleConn := newSub("idle", false)
	_, err := s.publishToClientFrom(from, idle, sub, pk)
	require.NoError(t, err)
	_, err = s.publishToClientFrom(from, idle, sub, pk)
	require.NoError(t, err)
	require.Equal(t, []*Client{idle}, from.Net.deferred, "taken on once by the publisher's reader")
	require.Zero(t, idleConn.written(), "nothing written before the reader's batch ends")
	from.flushDeferred()
	require.Empty(t, from.Net.deferred)
	require.Equal(t, 2*(2+2+3+2), idleConn.written(), "both messages written by the reader")
	require.False(t, idle.State.outbound.writing, "the writer's role is given up")
	require.Zero(t, atomic.LoadInt32(&idle.State.outboundQty))

	busy, busyConn := newSub("busy", true)
	_, err = s.publishToClientFrom(from, busy, sub, pk)
	require.NoError(t, err)
	require.Empty(t, from.Net.deferred, "a connection that would wait gets a writer goroutine")
	require.Eventually(t, func() bool { return busyConn.written() > 0 }, time.Second, time.Millisecond)

	var conns []*inlineConn
	for i := 0; i < maxDeferred+2; i++ {
		cl, c := newSub(fmt.Sprintf("sub-%d", i), false)
		conns = append(conns, c)
		_, err = s.publishToClientFrom(from, cl, sub, pk)
		require.NoError(t, err)
	}
	require.Len(t, from.Net.deferred, maxDeferred, "beyond maxDeferred, writer goroutines")
	from.flushDeferred()
	for i, c := range conns {
		require.Eventually(t, func() bool { return c.written() > 0 }, time.Second, time.Millisecond, "subscriber %d", i)
	}
}

// Patch 23: no enhanced authentication without a hook for it.

// authPacketHook claims to handle AUTH packets: a server with it accepts a
// CONNECT that names an Authentication Method.
type authPacketHook struct{ HookBase }

func (h *authPacketHook) ID() string { return "auth-packets" }

func (h *authPacketHook) Provides(b byte) bool { return b == OnAuthPacket }

func TestAuthenticationMethodNeedsAHook(t *testing.T) {
	pk := tpackets.TPacketData[packets.Connect].Get(tpackets.TConnectMqtt5).Packet
	require.NotEmpty(t, pk.Properties.AuthenticationMethod)
	s := newServer()
	cl := &Client{Properties: ClientProperties{ProtocolVersion: 5}}
	require.ErrorIs(t, s.validateConnect(cl, *pk), packets.ErrBadAuthenticationMethod)
	require.NoError(t, s.AddHook(new(authPacketHook), nil))
	require.ErrorIs(t, s.validateConnect(cl, *pk), packets.CodeSuccess)
}

// Patch 14: a wildcard fills a whole topic level ([MQTT-4.7.1-2],
// [MQTT-4.7.1-3]).
func TestWildcardFillsLevel(t *testing.T) {
	for filter, valid := range map[string]bool{
		"a+/b": false, "a/b+": false, "+a": false, "a#": false, "a/b#": false, "a/#/b": false, "$share/g/a+": false,
		"+/b": true, "a/+/c": true, "a/#": true, "#": true, "+": true, "+/+": true, "$share/g/a/+": true,
	} {
		require.Equal(t, valid, IsValidFilter(filter, false), filter)
	}
	// Every PUBLISH checks its topic name: that allocates nothing.
	require.Zero(t, testing.AllocsPerRun(100, func() { IsValidFilter("ws/alice/sensors/temperature", true) }))
}
