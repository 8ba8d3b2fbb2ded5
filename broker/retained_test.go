package broker_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/eclipse/paho.golang/paho"
	"github.com/mqtts-playground/playground/broker"
	"github.com/mqtts-playground/playground/broker/brokertest"
)

// Retained messages stay within Options.RetainedBytes: a client retaining
// on ever new topics is told 0x97 (MQTT 5, QoS 1) once the budget is full,
// its message is still delivered live, clearing a topic makes room again,
// and what was kept stays kept.
func TestRetainedBudget(t *testing.T) {
	const each = 100
	size := len("r/00") + each + broker.RetainedOverhead
	s := brokertest.New(t, brokertest.Options{Broker: broker.Options{RetainedBytes: 3 * size}, Listeners: []string{brokertest.MQTT}})
	pub := connectV5(t, dial(t, s.Addrs[brokertest.MQTT]), &paho.Connect{ClientID: "pub", CleanStart: true})
	body := []byte(strings.Repeat("x", each))
	for i := range 4 {
		pr := pub.publish(t, &paho.Publish{Topic: fmt.Sprintf("r/%02d", i), QoS: 1, Retain: true, Payload: body})
		want := byte(0)
		if i == 3 {
			want = 0x97
		}
		if pr.ReasonCode != want {
			t.Errorf("retained publish %d: PUBACK %#x, want %#x", i, pr.ReasonCode, want)
		}
	}
	// Replacing a kept message fits; so does a new topic once one is cleared.
	if pr := pub.publish(t, &paho.Publish{Topic: "r/00", QoS: 1, Retain: true, Payload: body}); pr.ReasonCode != 0 {
		t.Errorf("replacing a retained message: PUBACK %#x", pr.ReasonCode)
	}
	pub.publish(t, &paho.Publish{Topic: "r/01", QoS: 1, Retain: true})
	if pr := pub.publish(t, &paho.Publish{Topic: "r/03", QoS: 1, Retain: true, Payload: body}); pr.ReasonCode != 0 {
		t.Errorf("a new retained message after clearing one: PUBACK %#x", pr.ReasonCode)
	}
	// A QoS 0 message over the budget is delivered live, not kept.
	live := connectV5(t, dial(t, s.Addrs[brokertest.MQTT]), &paho.Connect{ClientID: "live", CleanStart: true})
	live.subscribe(t, "live/#", 1)
	pub.publish(t, &paho.Publish{Topic: "live/x", QoS: 0, Retain: true, Payload: body})
	if m := live.next(t); m.Topic != "live/x" {
		t.Errorf("delivered %q, want live/x", m.Topic)
	}
	late := connectV5(t, dial(t, s.Addrs[brokertest.MQTT]), &paho.Connect{ClientID: "late", CleanStart: true})
	late.subscribe(t, "#", 1)
	got := map[string]bool{}
	for range 3 {
		got[late.next(t).Topic] = true
	}
	if !got["r/00"] || !got["r/02"] || !got["r/03"] || len(got) != 3 {
		t.Errorf("retained messages kept: %v, want r/00, r/02, r/03", got)
	}
	late.none(t, "no fourth retained message (live/x was over the budget)")
}

// In a class each attendee's topics hold at most their share of retained
// messages: one attendee cannot fill the budget the whole class shares.
func TestRetainedShareOfAnAttendee(t *testing.T) {
	const each = 100
	size := len("ws/alice/00") + each + broker.RetainedOverhead
	b, _, _ := classBroker(t, broker.Options{Class: &broker.ClassOptions{OwnerRetainedBytes: 2 * size}})
	addr := brokertest.Addr(t, b, "mqtt")
	alice := connectV5(t, dial(t, addr), login("alice", "pw-a"))
	bob := connectV5(t, dial(t, addr), login("bob", "pw-b"))
	body := []byte(strings.Repeat("x", each))
	retain := func(c *v5, topic string, payload []byte) byte {
		t.Helper()
		return c.publish(t, &paho.Publish{Topic: topic, QoS: 1, Retain: true, Payload: payload}).ReasonCode
	}
	for i, want := range []byte{0, 0, 0x97} {
		if got := retain(alice, fmt.Sprintf("ws/alice/%02d", i), body); got != want {
			t.Errorf("alice's retained message %d: PUBACK %#x, want %#x", i, got, want)
		}
	}
	if got := retain(bob, "ws/bob/000", body); got != 0 {
		t.Errorf("bob's first retained message after alice filled her share: PUBACK %#x", got)
	}
	// Replacing one of hers fits, and so does a new one once one is cleared.
	if got := retain(alice, "ws/alice/00", body); got != 0 {
		t.Errorf("alice replacing a retained message: PUBACK %#x", got)
	}
	retain(alice, "ws/alice/01", nil)
	if got := retain(alice, "ws/alice/02", body); got != 0 {
		t.Errorf("alice after clearing one: PUBACK %#x", got)
	}
}

// Retained wills count against Options.RetainedBytes like retained
// publishes: a client that connects with a retained will on a new topic
// and drops, again and again, must not fill the broker's memory. A will
// over the budget is still delivered live, not kept.
func TestRetainedWillBudget(t *testing.T) {
	const each = 100
	size := len("w/00") + each + broker.RetainedOverhead
	s := brokertest.New(t, brokertest.Options{Broker: broker.Options{RetainedBytes: 3 * size}, Listeners: []string{brokertest.MQTT}})
	addr := s.Addrs[brokertest.MQTT]
	watcher := connectV5(t, dial(t, addr), &paho.Connect{ClientID: "watcher", CleanStart: true})
	watcher.subscribe(t, "w/#", 1)
	for i := range 5 {
		c := dial(t, addr)
		pk := connectV(fmt.Sprintf("dropper-%d", i), 5)
		pk.Connect.WillFlag, pk.Connect.WillTopic, pk.Connect.WillRetain = true, fmt.Sprintf("w/%02d", i), true
		pk.Connect.WillPayload, pk.Connect.WillQos = []byte(strings.Repeat("x", each)), 1
		if _, ack := rawConnect(t, c, pk); ack.ReasonCode != 0 {
			t.Fatalf("dropper %d: CONNACK %#x", i, ack.ReasonCode)
		}
		c.Close() // no DISCONNECT: the will goes now
		// Wait for it (kept or not) before the next one.
		for watcher.next(t).Topic != pk.Connect.WillTopic {
		}
	}
	late := connectV5(t, dial(t, addr), &paho.Connect{ClientID: "late", CleanStart: true})
	late.subscribe(t, "w/#", 1)
	got := map[string]bool{}
	for range 3 {
		got[late.next(t).Topic] = true
	}
	late.none(t, "a fourth retained will (over the budget)")
	if !got["w/00"] || !got["w/01"] || !got["w/02"] {
		t.Errorf("retained wills kept: %v, want the first three", got)
	}
}
