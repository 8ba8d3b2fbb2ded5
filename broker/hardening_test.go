package broker_test

// Attacks from issue 9, reproduced on loopback: each test fails on a
// broker without the defence it names.

import (
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/eclipse/paho.golang/paho"
	"github.com/mochi-mqtt/server/v2/packets"
	"github.com/mqtts-playground/playground/broker"
	"github.com/mqtts-playground/playground/broker/brokertest"
	"github.com/mqtts-playground/playground/broker/pki"
)

// lessonBroker runs a plain listener "mqtt" and a lesson listener "lesson".
func lessonBroker(t *testing.T, opts broker.Options) *broker.Broker {
	t.Helper()
	b := brokertest.NewBroker(t, opts)
	for _, l := range []broker.Listener{{Name: "mqtt", Addr: "127.0.0.1:0"}, {Name: "lesson", Addr: "127.0.0.1:0", Lesson: true}} {
		if err := b.Add(l); err != nil {
			t.Fatal(err)
		}
	}
	return b
}

// A lesson client's will may name only lesson topics: a will elsewhere
// (retained or not) refuses the connection, in both protocol versions, so
// it is never published when the client drops.
func TestLessonWillStaysInLessonTopics(t *testing.T) {
	b := lessonBroker(t, broker.Options{})
	watcher := connectV5(t, dial(t, brokertest.Addr(t, b, "mqtt")), &paho.Connect{ClientID: "watcher", CleanStart: true})
	if code := watcher.subscribe(t, "#", 1); code != 1 {
		t.Fatalf("watcher SUBACK %#x", code)
	}
	tests := []struct {
		name    string
		version byte
		topic   string
		retain  bool
		refused byte // CONNACK code, 0 if accepted
	}{
		{"v5 retained will outside", 5, "x/will", true, 0x87},
		{"v5 will outside", 5, "x/will", false, 0x87},
		{"v3.1.1 retained will outside", 4, "x/will", true, 0x05},
		{"v5 lesson will", 5, "lesson/will", true, 0},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := dial(t, brokertest.Addr(t, b, "lesson"))
			pk := connectV(fmt.Sprintf("dropper-%d", i), tt.version)
			pk.Connect.WillFlag, pk.Connect.WillTopic, pk.Connect.WillRetain = true, tt.topic, tt.retain
			pk.Connect.WillPayload, pk.Connect.WillQos = []byte("gone"), 1
			_, ack := rawConnect(t, c, pk)
			if ack.ReasonCode != tt.refused {
				t.Errorf("CONNACK %#x, want %#x", ack.ReasonCode, tt.refused)
			}
			c.Close() // drops without DISCONNECT: the will would go now
			if tt.refused != 0 {
				watcher.none(t, "will of a refused lesson client")
				return
			}
			if m := watcher.next(t); m.Topic != tt.topic {
				t.Errorf("will on %s, want %s", m.Topic, tt.topic)
			}
		})
	}
	// Nothing outside lesson/ was retained either.
	late := connectV5(t, dial(t, brokertest.Addr(t, b, "mqtt")), &paho.Connect{ClientID: "late", CleanStart: true})
	late.subscribe(t, "x/#", 1)
	late.none(t, "retained will outside lesson/")
}

// A lesson client that takes over an offline session by its client id gets
// none of its queued messages: lesson listeners keep their own sessions.
func TestLessonSessionTakeover(t *testing.T) {
	b := lessonBroker(t, broker.Options{})
	victim := connectV5(t, dial(t, brokertest.Addr(t, b, "mqtt")), &paho.Connect{ClientID: "victim", Properties: &paho.ConnectProperties{SessionExpiryInterval: ptr[uint32](600)}})
	victim.subscribe(t, "x/#", 1)
	victim.Disconnect(&paho.Disconnect{})
	pub := connectV5(t, dial(t, brokertest.Addr(t, b, "mqtt")), &paho.Connect{ClientID: "pub", CleanStart: true})
	pub.publish(t, &paho.Publish{Topic: "x/secret", QoS: 1, Payload: []byte("for the victim")})

	for _, version := range []byte{5, 4} {
		c := dial(t, brokertest.Addr(t, b, "lesson"))
		pk := connectV("victim", version)
		pk.Connect.Clean = false
		r, ack := rawConnect(t, c, pk)
		if ack.SessionPresent || ack.ReasonCode != 0 {
			t.Errorf("v%d lesson client: CONNACK session present %v, code %#x; want a new session", version, ack.SessionPresent, ack.ReasonCode)
		}
		c.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
		if m, err := readPacket(r, version); err == nil {
			t.Errorf("v%d lesson client received packet type %d on %q", version, m.FixedHeader.Type, m.TopicName)
		}
		c.Close()
		// Its own (lesson) session ends with it; wait, so the next try
		// does not find it.
		brokertest.WaitFor(t, patience, "the lesson connection to end", func() bool {
			ci, ok := connOf(b, c.LocalAddr().String())
			return ok && !ci.Ended.IsZero()
		})
	}
	// The session is intact for its owner.
	back := connectV5(t, dial(t, brokertest.Addr(t, b, "mqtt")), &paho.Connect{ClientID: "victim", Properties: &paho.ConnectProperties{SessionExpiryInterval: ptr[uint32](600)}})
	if !back.connack.SessionPresent {
		t.Fatal("the owner lost its session")
	}
	if m := back.next(t); m.Topic != "x/secret" {
		t.Errorf("owner got %s", m.Topic)
	}
}

// The rogue relay forwards its clients to mqtts: they stay lesson clients
// there (no "#", no publishing outside lesson/).
func TestRogueRelayStaysInLessonTopics(t *testing.T) {
	p := brokertest.NewPKI(t)
	b := brokertest.NewBroker(t, broker.Options{})
	for _, l := range []broker.Listener{
		{Name: "mqtts", Addr: "127.0.0.1:0", TLS: p.ServerTLS(tls.NoClientCert)},
		{Name: "rogue-relay", Addr: "127.0.0.1:0", TLS: p.ServerTLS(tls.NoClientCert), Lesson: true, RelayTo: "mqtts", RelayTLS: p.ClientTLS()},
	} {
		if err := b.Add(l); err != nil {
			t.Fatal(err)
		}
	}
	watcher := connectV5(t, dialTLS(t, brokertest.Addr(t, b, "mqtts"), p.ClientTLS()), &paho.Connect{ClientID: "watcher", CleanStart: true})
	watcher.subscribe(t, "x/#", 1)

	relayed := connectV5(t, dialTLS(t, brokertest.Addr(t, b, "rogue-relay"), p.ClientTLS()), &paho.Connect{ClientID: "relayed", CleanStart: true})
	if code := relayed.subscribe(t, "#", 1); code != 0x87 {
		t.Errorf("SUBACK for # through the relay: %#x, want 0x87 not authorized", code)
	}
	if pr := relayed.publish(t, &paho.Publish{Topic: "x/relay", QoS: 1, Payload: []byte("escape")}); pr.ReasonCode != 0x87 {
		t.Errorf("PUBACK for x/relay through the relay: %#x, want 0x87", pr.ReasonCode)
	}
	watcher.none(t, "a publish through the relay")
	if code := relayed.subscribe(t, "lesson/#", 1); code != 1 {
		t.Errorf("SUBACK for lesson/#: %#x", code)
	}
	relayed.publish(t, &paho.Publish{Topic: "lesson/relay", QoS: 1, Payload: []byte("fine")})
	if m := relayed.next(t); m.Topic != "lesson/relay" {
		t.Errorf("got %s", m.Topic)
	}
}

// Topic aliases are resolved before the lesson rule is checked: an alias
// for a lesson topic works, one that was never set up is refused with
// 0x94 Topic Alias invalid (MQTT 5 §3.3.2.3.4) instead of vanishing, and
// none leads outside lesson/.
func TestLessonTopicAliases(t *testing.T) {
	b := lessonBroker(t, broker.Options{})
	watcher := connectV5(t, dial(t, brokertest.Addr(t, b, "mqtt")), &paho.Connect{ClientID: "watcher", CleanStart: true})
	watcher.subscribe(t, "#", 0)

	c := dial(t, brokertest.Addr(t, b, "lesson"))
	r, ack := rawConnect(t, c, connectV("aliaser", 5))
	if ack.Properties.TopicAliasMaximum == 0 {
		t.Error("CONNACK allows no topic aliases")
	}
	send := func(pk packets.Packet) {
		t.Helper()
		if _, err := c.Write(encode(t, pk)); err != nil {
			t.Fatal(err)
		}
	}
	aliased := func(topic string, alias uint16, payload string) packets.Packet {
		pk := publishPacket(topic, 0, 0, payload)
		pk.Properties.TopicAlias, pk.Properties.TopicAliasFlag = alias, true
		return pk
	}
	send(aliased("lesson/a", 1, "named"))
	send(aliased("", 1, "by alias"))
	send(aliased("x/out", 2, "refused"))
	send(aliased("", 2, "refused by alias"))
	for _, want := range []string{"named", "by alias"} {
		if m := watcher.next(t); m.Topic != "lesson/a" || string(m.Payload) != want {
			t.Errorf("got %s %q, want lesson/a %q", m.Topic, m.Payload, want)
		}
	}
	watcher.none(t, "an aliased publish outside lesson/")

	send(aliased("", 3, "never set up"))
	if d := readUntil(t, r, packets.Disconnect); d.ReasonCode != packets.ErrTopicAliasInvalid.Code {
		t.Errorf("DISCONNECT %#x, want 0x94", d.ReasonCode)
	}
}

// A session belongs to the identity that made it: a client on the plain
// port, or with another certificate, using the client id of an offline
// mutual-TLS session gets a session of its own, not the other's messages.
func TestSessionBelongsToIdentity(t *testing.T) {
	p := brokertest.NewPKI(t)
	b := brokertest.NewBroker(t, broker.Options{})
	for _, l := range []broker.Listener{
		{Name: "mqtt", Addr: "127.0.0.1:0"},
		{Name: "mtls", Addr: "127.0.0.1:0", TLS: p.ServerTLS(tls.RequireAndVerifyClientCert)},
	} {
		if err := b.Add(l); err != nil {
			t.Fatal(err)
		}
	}
	certFor := func(cn string) *tls.Config {
		cert, err := p.CA.Issue(pki.Leaf{CommonName: cn})
		if err != nil {
			t.Fatal(err)
		}
		cfg := p.ClientTLS()
		cfg.Certificates = []tls.Certificate{cert}
		return cfg
	}
	device, other := certFor("device-7"), certFor("device-8")
	keep := &paho.ConnectProperties{SessionExpiryInterval: ptr[uint32](600)}

	owner := connectV5(t, dialTLS(t, brokertest.Addr(t, b, "mtls"), device), &paho.Connect{ClientID: "device-7", Properties: keep})
	owner.subscribe(t, "secret/#", 1)
	owner.Disconnect(&paho.Disconnect{})
	pub := connectV5(t, dial(t, brokertest.Addr(t, b, "mqtt")), &paho.Connect{ClientID: "pub", CleanStart: true})
	pub.publish(t, &paho.Publish{Topic: "secret/1", QoS: 1, Payload: []byte("for device-7")})

	for name, conn := range map[string]func() net.Conn{
		"plain port":          func() net.Conn { return dial(t, brokertest.Addr(t, b, "mqtt")) },
		"another certificate": func() net.Conn { return dialTLS(t, brokertest.Addr(t, b, "mtls"), other) },
	} {
		t.Run(name, func(t *testing.T) {
			thief := connectV5(t, conn(), &paho.Connect{ClientID: "device-7", Properties: keep})
			if thief.connack.SessionPresent {
				t.Error("CONNACK says session present")
			}
			thief.none(t, "another identity's queued message")
			thief.Disconnect(&paho.Disconnect{})
		})
	}
	back := connectV5(t, dialTLS(t, brokertest.Addr(t, b, "mtls"), device), &paho.Connect{ClientID: "device-7", Properties: keep})
	if !back.connack.SessionPresent {
		t.Fatal("the owner lost its session")
	}
	if m := back.next(t); m.Topic != "secret/1" {
		t.Errorf("owner got %s", m.Topic)
	}
	brokertest.WaitFor(t, patience, "the connection's client id", func() bool {
		ci := b.Conns()[0]
		return ci.ClientID != "" && ci.PeerCN == "device-7"
	})
	if ci := b.Conns()[0]; ci.ClientID != "device-7" {
		t.Errorf("ConnInfo.ClientID %q, want the id the client sent", ci.ClientID)
	}
}

// heapGrowth runs f and returns how much the heap grew (in use, and all
// allocations).
func heapGrowth(f func()) (inUse, total uint64) {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	if after.HeapInuse > before.HeapInuse {
		inUse = after.HeapInuse - before.HeapInuse
	}
	return inUse, after.TotalAlloc - before.TotalAlloc
}

// A 5-byte fixed header announcing 256 MB is refused before the broker
// allocates anything for it, before and after CONNECT: ten of them leave
// the heap as it was, and the connections are closed (MQTT 5 clients
// first get DISCONNECT 0x95 Packet too large).
func TestMaxPacketSizeBeforeAllocating(t *testing.T) {
	b := brokertest.NewBroker(t, broker.Options{TraceLimit: -1})
	if err := b.Add(broker.Listener{Name: "mqtt", Addr: "127.0.0.1:0"}); err != nil {
		t.Fatal(err)
	}
	huge := []byte{0xff, 0xff, 0xff, 0x7f} // remaining length 268,435,455
	tests := []struct {
		name    string
		connect bool
		header  byte
	}{
		{"before CONNECT", false, packets.Connect << 4},
		{"after CONNECT", true, packets.Publish << 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			conns := make([]net.Conn, 10)
			closed := make([]error, len(conns))
			inUse, total := heapGrowth(func() {
				var wg sync.WaitGroup
				for i := range conns {
					c := dial(t, brokertest.Addr(t, b, "mqtt"))
					conns[i] = c
					if tt.connect {
						rawConnect(t, c, connectV(fmt.Sprintf("big-%d", i), 5))
					}
					if _, err := c.Write(append([]byte{tt.header}, huge...)); err != nil {
						t.Fatal(err)
					}
					wg.Go(func() {
						// A refused connection ends at once; a broker
						// waiting for 256 MB keeps it open.
						c.SetReadDeadline(time.Now().Add(2 * time.Second))
						_, closed[i] = io.Copy(io.Discard, c)
					})
				}
				wg.Wait()
			})
			for i, err := range closed {
				if err != nil {
					t.Errorf("connection %d still open after its oversized header: %v", i, err)
					break
				}
			}
			t.Logf("ten 256 MB headers: heap in use +%d KiB, allocated %d KiB", inUse>>10, total>>10)
			if total > 32<<20 {
				t.Errorf("ten oversized headers allocated %d MiB", total>>20)
			}
		})
	}
	t.Run("v5 told", func(t *testing.T) {
		c := dial(t, brokertest.Addr(t, b, "mqtt"))
		r, ack := rawConnect(t, c, connectV("told", 5))
		if ack.Properties.MaximumPacketSize != broker.DefaultMaxPacketSize {
			t.Errorf("CONNACK Maximum Packet Size %d, want %d", ack.Properties.MaximumPacketSize, broker.DefaultMaxPacketSize)
		}
		c.Write(append([]byte{packets.Publish << 4}, huge...))
		if d := readUntil(t, r, packets.Disconnect); d.ReasonCode != packets.ErrPacketTooLarge.Code {
			t.Errorf("DISCONNECT %#x, want 0x95", d.ReasonCode)
		}
	})
}

// MaxPacketSize is the whole packet: one that fits passes, one byte more
// does not.
func TestMaxPacketSizeOption(t *testing.T) {
	const max = 4096
	b := brokertest.NewBroker(t, broker.Options{MaxPacketSize: max})
	if err := b.Add(broker.Listener{Name: "mqtt", Addr: "127.0.0.1:0"}); err != nil {
		t.Fatal(err)
	}
	sub := connectV5(t, dial(t, brokertest.Addr(t, b, "mqtt")), &paho.Connect{ClientID: "sub", CleanStart: true})
	sub.subscribe(t, "big", 0)
	c := dial(t, brokertest.Addr(t, b, "mqtt"))
	r, _ := rawConnect(t, c, connectV("pub", 5))
	fits := publishPacket("big", 0, 0, "")
	fits.Payload = make([]byte, max-len(encode(t, fits))-1) // the whole packet is max bytes (a 2-byte remaining length)
	if n := len(encode(t, fits)); n != max {
		t.Fatalf("packet of %d bytes, want %d", n, max)
	}
	c.Write(encode(t, fits))
	if m := sub.next(t); len(m.Payload) != len(fits.Payload) {
		t.Errorf("got %d bytes", len(m.Payload))
	}
	over := fits
	over.Payload = append(over.Payload, 0)
	c.Write(encode(t, over))
	if d := readUntil(t, r, packets.Disconnect); d.ReasonCode != packets.ErrPacketTooLarge.Code {
		t.Errorf("DISCONNECT %#x, want 0x95", d.ReasonCode)
	}
	sub.none(t, "an oversized packet")
}

// Sessions do not live forever: an MQTT 5 client asking to be kept for
// ever is told the cap (default one hour) in CONNACK, and is forgotten
// after it, as a 3.1.1 client with a persistent session is.
func TestSessionExpiryCapped(t *testing.T) {
	t.Run("default told", func(t *testing.T) {
		b := brokertest.NewBroker(t, broker.Options{})
		if err := b.Add(broker.Listener{Name: "mqtt", Addr: "127.0.0.1:0"}); err != nil {
			t.Fatal(err)
		}
		c := connectV5(t, dial(t, brokertest.Addr(t, b, "mqtt")), &paho.Connect{ClientID: "forever", Properties: &paho.ConnectProperties{SessionExpiryInterval: ptr[uint32](0xffffffff)}})
		if got := c.connack.Properties.SessionExpiryInterval; got == nil || *got != uint32(broker.DefaultSessionExpiry/time.Second) {
			t.Errorf("CONNACK Session Expiry Interval %v, want %d", got, broker.DefaultSessionExpiry/time.Second)
		}
	})
	b := brokertest.NewBroker(t, broker.Options{SessionExpiry: time.Second})
	if err := b.Add(broker.Listener{Name: "mqtt", Addr: "127.0.0.1:0"}); err != nil {
		t.Fatal(err)
	}
	for _, version := range []byte{5, 4} {
		t.Run(fmt.Sprintf("v%d", version), func(t *testing.T) {
			t.Parallel()
			id := fmt.Sprintf("kept-%d", version)
			pk := connectV(id, version)
			pk.Connect.Clean = false
			pk.Properties.SessionExpiryInterval, pk.Properties.SessionExpiryIntervalFlag = 0xffffffff, true
			c := dial(t, brokertest.Addr(t, b, "mqtt"))
			rawConnect(t, c, pk)
			c.Write(encode(t, packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Disconnect}, ProtocolVersion: version,
				Properties: packets.Properties{SessionExpiryInterval: 0xffffffff, SessionExpiryIntervalFlag: version == 5}}))
			c.Close()
			// Still there at once...
			c = dial(t, brokertest.Addr(t, b, "mqtt"))
			if _, ack := rawConnect(t, c, pk); !ack.SessionPresent {
				t.Fatal("session gone at once")
			}
			c.Close()
			// ...gone after the cap: the core sweeps once a second, in
			// whole seconds. (Looking earlier would renew the session.)
			time.Sleep(3500 * time.Millisecond)
			c = dial(t, brokertest.Addr(t, b, "mqtt"))
			if _, ack := rawConnect(t, c, pk); ack.SessionPresent {
				t.Error("session kept past the 1 s cap")
			}
		})
	}
}

// The messages kept for an offline session are capped in number and in
// bytes by default; the rest are dropped, and the session's owner gets the
// first ones.
func TestSessionQueueCapped(t *testing.T) {
	tests := []struct {
		name    string
		opts    broker.Options
		n, size int
		want    int
	}{
		{"messages", broker.Options{}, broker.DefaultSessionQueue + 200, 10, broker.DefaultSessionQueue},
		{"bytes", broker.Options{SessionQueueBytes: 64 << 10}, 20, 10000, (64 << 10) / (10000 + len("q/1"))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.opts.TraceLimit = -1
			b := brokertest.NewBroker(t, tt.opts)
			if err := b.Add(broker.Listener{Name: "mqtt", Addr: "127.0.0.1:0"}); err != nil {
				t.Fatal(err)
			}
			keep := &paho.Connect{ClientID: "offline", Properties: &paho.ConnectProperties{SessionExpiryInterval: ptr[uint32](600), ReceiveMaximum: ptr[uint16](65535)}}
			off := connectV5(t, dial(t, brokertest.Addr(t, b, "mqtt")), keep)
			off.subscribe(t, "q/#", 1)
			off.Disconnect(&paho.Disconnect{})
			pub := connectV5(t, dial(t, brokertest.Addr(t, b, "mqtt")), &paho.Connect{ClientID: "pub", CleanStart: true})
			payload := make([]byte, tt.size)
			for range tt.n {
				pub.publish(t, &paho.Publish{Topic: "q/1", QoS: 1, Payload: payload})
			}
			// A PUBACK may come before the message is handed to the
			// session; a last message to itself comes after all of them.
			pub.subscribe(t, "sync", 0)
			pub.publish(t, &paho.Publish{Topic: "sync", Payload: []byte("done")})
			pub.next(t)
			back := connectV5(t, dial(t, brokertest.Addr(t, b, "mqtt")), keep)
			got := 0
		receive:
			for {
				select {
				case <-back.got:
					got++
				case <-time.After(time.Second):
					break receive
				}
			}
			if got != tt.want {
				t.Errorf("owner received %d queued messages of %d sent, want %d", got, tt.n, tt.want)
			}
		})
	}
}

// One address may hold only so many connections to the broker's ports; the
// next are refused at once, and others are not affected.
func TestConnsPerAddress(t *testing.T) {
	var logged strings.Builder
	var mu sync.Mutex
	b := brokertest.NewBroker(t, broker.Options{Logger: testLogger(&mu, &logged)})
	if err := b.Add(broker.Listener{Name: "mqtt", Addr: "127.0.0.1:0"}); err != nil {
		t.Fatal(err)
	}
	for i := range broker.DefaultConnsPerAddr {
		mqttConnect(t, dial(t, brokertest.Addr(t, b, "mqtt")), fmt.Sprintf("c%d", i), 4)
	}
	over := dial(t, brokertest.Addr(t, b, "mqtt"))
	over.Write(connectBytes(t, "one-too-many", 4))
	if _, err := over.Read(make([]byte, 1)); err == nil || isTimeout(err) {
		t.Fatalf("connection %d from one address: read %v, want it closed", broker.DefaultConnsPerAddr+1, err)
	}
	over2 := dial(t, brokertest.Addr(t, b, "mqtt"))
	if _, err := over2.Read(make([]byte, 1)); err == nil || isTimeout(err) {
		t.Fatalf("the next one too: read %v, want it closed", err)
	}
	mu.Lock()
	log := logged.String()
	mu.Unlock()
	if n := strings.Count(log, "too many from one address"); n != 1 {
		t.Errorf("logged the limit %d times, want once:\n%s", n, log)
	}
	// Another address is not affected (127.0.0.2 is loopback too).
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 2)}, Timeout: patience}
	c, err := d.Dial("tcp", brokertest.Addr(t, b, "mqtt"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(patience))
	mqttConnect(t, c, "elsewhere", 4)
}
