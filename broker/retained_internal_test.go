package broker

import (
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
)

// plainBroker is a broker with one plain listener, and a function that
// connects a paho client to it.
func plainBroker(t *testing.T) (*Broker, func(id string) paho.Client) {
	t.Helper()
	b, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	if err := b.Add(Listener{Name: "mqtt", Addr: "127.0.0.1:0"}); err != nil {
		t.Fatal(err)
	}
	url := "tcp://" + b.Listeners()[0].Addr
	return b, func(id string) paho.Client {
		t.Helper()
		cl := paho.NewClient(paho.NewClientOptions().AddBroker(url).SetClientID(id).SetAutoReconnect(false))
		if tok := cl.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
			t.Fatalf("connect: %v", tok.Error())
		}
		return cl
	}
}

// Retained messages stay until cleared: one retained two days ago is still
// delivered after the core's expiry sweep (upstream mochi deletes retained
// messages older than 24 h).
func TestRetainedKeptUntilCleared(t *testing.T) {
	t.Parallel()
	b, connect := plainBroker(t)
	pub := connect("pub")
	if tok := pub.Publish("r/kept", 1, true, "still here"); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("publish: %v", tok.Error())
	}
	pub.Disconnect(0)

	// Make it two days old, and let the sweep (once a second) run.
	pk, ok := b.mq.Topics.Retained.GetAll()["r/kept"]
	if !ok {
		t.Fatal("not retained")
	}
	pk.Created -= 2 * 24 * 60 * 60
	b.mq.Topics.RetainMessage(pk)
	time.Sleep(2500 * time.Millisecond)

	sub := connect("sub")
	defer sub.Disconnect(0)
	got := make(chan string, 1)
	sub.Subscribe("r/#", 1, func(_ paho.Client, m paho.Message) { got <- string(m.Payload()) })
	select {
	case m := <-got:
		if m != "still here" {
			t.Errorf("got %q", m)
		}
	case <-time.After(2 * time.Second):
		t.Error("the retained message is gone")
	}
}

// The limits default to the documented values, and negative means none.
func TestCapabilities(t *testing.T) {
	c := capabilities(Options{})
	if c.MaximumPacketSize != DefaultMaxPacketSize || c.MaximumSessionExpiryInterval != uint32(DefaultSessionExpiry/time.Second) ||
		c.MaximumInflight != DefaultSessionQueue || c.MaximumQueuedBytes != DefaultSessionQueueBytes {
		t.Errorf("defaults: %+v", c)
	}
	if c.MaximumMessageExpiryInterval != 0 || c.TopicAliasMaximum == 0 || !c.Compatibilities.NoInheritedPropertiesOnAck {
		t.Errorf("expiry %d, topic aliases %d, inherited properties %v", c.MaximumMessageExpiryInterval, c.TopicAliasMaximum, !c.Compatibilities.NoInheritedPropertiesOnAck)
	}
	c = capabilities(Options{MaxPacketSize: -1, SessionExpiry: -1, SessionQueue: -1, SessionQueueBytes: -1})
	if c.MaximumPacketSize < 268435455 || c.MaximumSessionExpiryInterval != 1<<32-1 || c.MaximumInflight != 1<<16-1 || c.MaximumQueuedBytes != 0 {
		t.Errorf("no limits: %+v", c)
	}
	if c := capabilities(Options{SessionExpiry: time.Millisecond}); c.MaximumSessionExpiryInterval != 1 {
		t.Errorf("1 ms: %d s", c.MaximumSessionExpiryInterval)
	}
}

// The running count of retained bytes is made exact every recountEvery
// even when it says there is room: a count that drifted low (two clients
// racing on one topic) must not let the real memory pass the budget.
func TestRetainedCountDriftLow(t *testing.T) {
	b, connect := plainBroker(t)
	cl := connect("pub")
	defer cl.Disconnect(0)
	publish := func(topic string) {
		t.Helper()
		if tok := cl.Publish(topic, 1, true, "0123456789"); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
			t.Fatalf("publish: %v", tok.Error())
		}
	}
	publish("r/a")
	publish("r/b")
	size := int64(len("r/a") + 10 + RetainedOverhead) // each message's count
	used := func() int64 {
		b.retained.mu.Lock()
		defer b.retained.mu.Unlock()
		return b.retained.used
	}
	if got := used(); got != 2*size {
		t.Fatalf("count %d, want %d", got, 2*size)
	}
	for _, tt := range []struct {
		age  time.Duration
		want int64
	}{
		// Counted exactly a second ago: the drifted count (1) is kept
		// and grows by the new message r/c.
		{time.Second, 1 + size},
		// Counted longer ago than recountEvery: counted again, exactly
		// (r/a, r/b and the r/c now replaced).
		{recountEvery + time.Second, 3 * size},
	} {
		b.retained.mu.Lock()
		b.retained.used, b.retained.recounted = 1, time.Now().Add(-tt.age)
		b.retained.mu.Unlock()
		publish("r/c")
		if got := used(); got != tt.want {
			t.Errorf("last exact count %v ago: count %d, want %d", tt.age, got, tt.want)
		}
	}
}
