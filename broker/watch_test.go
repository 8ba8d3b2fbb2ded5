package broker_test

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"io"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mochi-mqtt/server/v2/packets"
	"github.com/mqtts-playground/playground/broker"
	"github.com/mqtts-playground/playground/broker/brokertest"
	"github.com/mqtts-playground/playground/trace"
)

// connectPacket encodes an MQTT 3.1.1 CONNECT.
func connectPacket(id string) []byte {
	var buf bytes.Buffer
	pk := packets.Packet{
		FixedHeader: packets.FixedHeader{Type: packets.Connect}, ProtocolVersion: 4,
		Connect: packets.ConnectParams{ProtocolName: []byte("MQTT"), Clean: true, Keepalive: 30, ClientIdentifier: id},
	}
	if err := pk.ConnectEncode(&buf); err != nil {
		panic(err)
	}
	return buf.Bytes()
}

// publishBytes encodes a QoS 0 PUBLISH.
func publishBytes(t testing.TB, topic string, payload []byte, version byte) []byte {
	t.Helper()
	pk := packets.Packet{
		FixedHeader:     packets.FixedHeader{Type: packets.Publish},
		ProtocolVersion: version,
		TopicName:       topic,
		Payload:         payload,
	}
	var buf bytes.Buffer
	if err := pk.PublishEncode(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// ping sends PINGREQ and waits for PINGRESP: the broker has then read
// everything sent before.
func ping(t *testing.T, c net.Conn, r *bufio.Reader) {
	t.Helper()
	if _, err := c.Write([]byte{0xc0, 0x00}); err != nil {
		t.Fatalf("write PINGREQ: %v", err)
	}
	pk, err := readPacket(r, 4)
	if err != nil || pk.FixedHeader.Type != packets.Pingresp {
		t.Fatalf("read PINGRESP: type %d, %v", pk.FixedHeader.Type, err)
	}
}

func TestWatch(t *testing.T) {
	p := brokertest.NewPKI(t)
	// A head of 8 KiB (a TLS 1.3 handshake with a post-quantum key share
	// takes 4 KiB), a tail of 8 KiB.
	const limit = 16 << 10
	b := brokertest.NewBroker(t, broker.Options{TraceLimit: limit})
	if err := b.Add(broker.Listener{Name: "mqtts", Addr: "127.0.0.1:0", TLS: p.ServerTLS(tls.NoClientCert)}); err != nil {
		t.Fatal(err)
	}
	// session connects, sends 40 KiB of PUBLISHes and a last one to
	// "last", then returns the broker's recording of the connection.
	session := func(t *testing.T, id string) trace.Recording {
		t.Helper()
		raw := dial(t, brokertest.Addr(t, b, "mqtts"))
		tc := dialTLSOn(t, raw, p.ClientTLS())
		r := mqttConnect(t, tc, id, 4)
		filler := publishBytes(t, "filler", bytes.Repeat([]byte{'x'}, 200), 4)
		for range 200 {
			if _, err := tc.Write(filler); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := tc.Write(publishBytes(t, "last", []byte("the end"), 4)); err != nil {
			t.Fatal(err)
		}
		ping(t, tc, r)
		brokertest.WaitFor(t, patience, "the client id", func() bool {
			ci, ok := connOf(b, raw.LocalAddr().String())
			return ok && ci.ClientID == id
		})
		ci, _ := connOf(b, raw.LocalAddr().String())
		rec, ok := b.Recording(ci.ID)
		if !ok {
			t.Fatalf("no recording of %s", ci.ID)
		}
		return rec
	}
	// check verifies the recording has a gap, and data after it only when
	// tail is set; decoded, it shows the handshake and CONNECT, and the
	// last PUBLISH only when tail is set.
	check := func(t *testing.T, rec trace.Recording, tail bool) {
		t.Helper()
		if rec.Dropped == 0 {
			t.Fatal("nothing dropped")
		}
		// Bytes of a stream recorded after that stream's gap: its tail.
		type stream struct {
			dir trace.Dir
			app bool
		}
		var kept, afterGap int
		gapSeen := map[stream]bool{}
		for _, c := range rec.Chunks {
			kept += len(c.Data)
			if c.Gap > 0 {
				gapSeen[stream{c.Dir, c.App}] = true
			} else if gapSeen[stream{c.Dir, c.App}] {
				afterGap += len(c.Data)
			}
		}
		if kept > limit {
			t.Errorf("kept %d bytes, limit %d", kept, limit)
		}
		if tail != (afterGap > 0) {
			t.Errorf("%d bytes recorded after the gap, want a tail: %v", afterGap, tail)
		}
		events := trace.Decode(rec)
		has := func(layer trace.Layer, typ, field string) bool {
			for _, e := range events {
				if e.Layer == layer && e.Type == typ && (field == "" || hasField(e, "Topic Name", field)) {
					if e.Error != "" {
						t.Errorf("%s %s: %s", layer, typ, e.Error)
					}
					return true
				}
			}
			return false
		}
		for _, want := range []struct {
			layer trace.Layer
			typ   string
		}{{trace.LayerTLS, "ClientHello"}, {trace.LayerTLS, "Finished"}, {trace.LayerMQTT, "CONNECT"}, {trace.LayerTLS, "Gap"}, {trace.LayerMQTT, "Gap"}} {
			if !has(want.layer, want.typ, "") {
				t.Errorf("no %s %s in %s", want.layer, want.typ, summarize(events))
			}
		}
		if got := has(trace.LayerMQTT, "PUBLISH", "last"); got != tail {
			t.Errorf("last PUBLISH decoded: %v, want %v, in %s", got, tail, summarize(events))
		}
		if tail {
			// Records after the gap decrypt: the sequence numbers resumed.
			for _, e := range events {
				if e.Layer == trace.LayerTLS && e.Encrypted && e.Plain == "" {
					t.Errorf("%s %s not decrypted: %s", e.Dir, e.Type, e.Error)
				}
			}
		}
	}

	t.Run("nobody watches: head only", func(t *testing.T) {
		check(t, session(t, "unwatched"), false)
	})
	stop := b.Watch()
	t.Run("watched: head and tail", func(t *testing.T) {
		check(t, session(t, "watched"), true)
	})
	stop2 := b.Watch()
	stop()
	stop() // stopping twice counts once
	t.Run("still one watcher", func(t *testing.T) {
		check(t, session(t, "watched-2"), true)
	})
	stop2()
	t.Run("nobody watches again", func(t *testing.T) {
		check(t, session(t, "unwatched-2"), false)
	})
}

// BenchmarkBrokerThroughput sends QoS 0 PUBLISHes with 64-byte payloads
// from one client to one subscriber through the broker's TLS listener and
// reports messages per second and the process's CPU time per message: with
// recording off (TraceLimit -1), on (someone watches: head and tail) and
// head only (nobody watches).
func BenchmarkBrokerThroughput(b *testing.B) {
	for _, bc := range []struct {
		name  string
		limit int
		watch bool
	}{
		{"trace=off", -1, false},
		{"trace=on", 0, true},
		{"trace=head", 0, false},
	} {
		b.Run(bc.name, func(b *testing.B) {
			throughput(b, bc.limit, bc.watch)
		})
	}
}

func throughput(b *testing.B, limit int, watch bool) {
	p := brokertest.NewPKI(b)
	// Closed per call, not at cleanup: b.Run calls this once per b.N.
	br, err := broker.New(broker.Options{TraceLimit: limit})
	if err != nil {
		b.Fatal(err)
	}
	defer br.Close()
	if watch {
		defer br.Watch()()
	}
	if err := br.Add(broker.Listener{Name: "mqtts", Addr: "127.0.0.1:0", TLS: p.ServerTLS(tls.NoClientCert)}); err != nil {
		b.Fatal(err)
	}
	address := br.Listeners()[0].Addr
	connect := func(id string) (*tls.Conn, *bufio.Reader) {
		raw, err := net.Dial("tcp", address)
		if err != nil {
			b.Fatal(err)
		}
		tc := tls.Client(raw, p.ClientTLS())
		if _, err := tc.Write(connectPacket(id)); err != nil {
			b.Fatal(err)
		}
		r := bufio.NewReaderSize(tc, 64<<10)
		if ack, err := readPacket(r, 4); err != nil || ack.FixedHeader.Type != packets.Connack {
			b.Fatalf("CONNACK: %v", err)
		}
		return tc, r
	}
	sub, sr := connect("sub")
	defer sub.Close()
	subscribe := []byte{0x82, 0x0a, 0x00, 0x01, 0x00, 0x05, 'b', 'e', 'n', 'c', 'h', 0x00}
	if _, err := sub.Write(subscribe); err != nil {
		b.Fatal(err)
	}
	if ack, err := readPacket(sr, 4); err != nil || ack.FixedHeader.Type != packets.Suback {
		b.Fatalf("SUBACK: %v", err)
	}
	pub, _ := connect("pub")
	defer pub.Close()
	msg := publishBytes(b, "bench", bytes.Repeat([]byte{'m'}, 64), 4)

	// The subscriber counts PUBLISHes; the publisher keeps at most window
	// messages in flight, as QoS 0 messages beyond the broker's queue for
	// a slow subscriber would be dropped.
	const window = 512
	var got atomic.Int64
	progress := make(chan struct{}, 1)
	readErr := make(chan error, 1)
	go func() {
		for {
			typ, err := sr.ReadByte()
			if err != nil {
				readErr <- err
				return
			}
			n, _, err := packets.DecodeLength(sr)
			if err == nil {
				_, err = sr.Discard(n)
			}
			if err != nil {
				readErr <- err
				return
			}
			if typ>>4 == packets.Publish {
				got.Add(1)
				select {
				case progress <- struct{}{}:
				default:
				}
			}
		}
	}()
	wait := func(until int64) {
		for got.Load() < until {
			select {
			case <-progress:
			case err := <-readErr:
				b.Fatalf("subscriber: %v", err)
			case <-time.After(patience):
				b.Fatalf("subscriber got %d of %d messages", got.Load(), until)
			}
		}
	}
	b.SetBytes(int64(len(msg)))
	b.ResetTimer()
	cpu := cpuTime()
	for i := range b.N {
		if int64(i)-got.Load() > window {
			wait(int64(i) - window/2)
		}
		if _, err := pub.Write(msg); err != nil {
			b.Fatal(err)
		}
	}
	wait(int64(b.N))
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
	if cpu := cpuTime() - cpu; cpu > 0 {
		// CPU time of the whole process (publisher, broker, subscriber)
		// per message: on a busy machine a steadier measure of cost than
		// the wall clock.
		b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/msg")
	}
	if err := readErrOrNil(readErr); err != nil && !strings.Contains(err.Error(), "closed") && err != io.EOF {
		b.Fatal(err)
	}
}

func readErrOrNil(c chan error) error {
	select {
	case err := <-c:
		return err
	default:
		return nil
	}
}
