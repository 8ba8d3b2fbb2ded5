package sessionrec_test

import (
	"context"
	"encoding/json"
	"flag"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/eclipse/paho.golang/paho"
	"github.com/mqtts-playground/playground/broker/brokertest"
	"github.com/mqtts-playground/playground/broker/pki"
	"github.com/mqtts-playground/playground/trace"
	"github.com/mqtts-playground/playground/wasm/client"
)

var record = flag.Bool("record", false, "record the sessions of trace/testdata/sessions again (then run go test ./trace -run Golden -update)")

// dir is where the recordings go, from this package's folder.
const dir = "../../testdata/sessions"

// patience bounds every wait; it turns a hang into a failure.
const patience = 15 * time.Second

// Server names the broker's certificate holds: each TLS session pair uses
// its own, because the playground client keeps one TLS session cache per
// process, keyed by server name, and a full handshake must not find a
// ticket from an earlier session.
const (
	nameTLS13 = "tls13.playground.test"
	nameTLS12 = "tls12.playground.test"
	nameMTLS  = "mtls.playground.test"
)

// env is the broker and CA the sessions run against. Someone watches:
// connections record head and tail.
type env struct{ *brokertest.Server }

func newEnv(t *testing.T) *env {
	return &env{brokertest.New(t, brokertest.Options{
		Listeners: []string{brokertest.MQTT, brokertest.MQTTS, brokertest.MTLS},
		Names:     []string{nameTLS13, nameTLS12, nameMTLS},
		Watch:     true,
	})}
}

func (e *env) dial(t *testing.T, listener string) net.Conn {
	t.Helper()
	c, err := net.DialTimeout("tcp", brokertest.Addr(t, e.Broker, listener), patience)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// brokerSide waits until the broker has finished the connection whose
// client end is local, and returns the broker's recording of it.
func (e *env) brokerSide(t *testing.T, local string) trace.Recording {
	t.Helper()
	var id string
	brokertest.WaitFor(t, patience, "the broker to finish the connection from "+local, func() bool {
		for _, ci := range e.Conns() {
			if ci.Remote == local && !ci.Ended.IsZero() {
				id = ci.ID
				return true
			}
		}
		return false
	})
	rec, ok := e.Recording(id)
	if !ok {
		t.Fatalf("no recording of %s", id)
	}
	return rec
}

// playgroundSession runs the playground client: CONNECT, SUBSCRIBE,
// PUBLISH at QoS 1, the message back, DISCONNECT.
func (e *env) playgroundSession(t *testing.T, name, listener string, opts client.Options, resumed bool) (trace.Recording, trace.Recording) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), patience)
	defer cancel()
	raw := e.dial(t, listener)
	local := raw.LocalAddr().String()
	rec := trace.NewRecorder(trace.Client, 0)
	opts.ClientID = "playground-" + name
	c, err := client.Dial(ctx, raw, rec, opts)
	if err != nil {
		t.Fatal(err)
	}
	if st := c.TLSState(); st != nil && st.DidResume != resumed {
		t.Fatalf("DidResume = %v, want %v", st.DidResume, resumed)
	}
	topic := "playground/" + name
	if _, err := c.Subscribe(ctx, topic, 1); err != nil {
		t.Fatal(err)
	}
	if err := c.Publish(ctx, topic, []byte("hello from "+name), 1, false); err != nil {
		t.Fatal(err)
	}
	if m, err := c.NextMessage(ctx); err != nil || m.Topic != topic {
		t.Fatalf("message %+v, %v", m, err)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	return rec.Recording(), e.brokerSide(t, local)
}

// propertiesSession runs paho.golang over plain MQTT 5 with properties:
// user properties on CONNECT and PUBLISH, a content type, a message
// expiry, a response topic with correlation data, and a topic alias set
// by the first PUBLISH and used alone by the second.
func (e *env) propertiesSession(t *testing.T) (trace.Recording, trace.Recording) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), patience)
	defer cancel()
	raw := e.dial(t, "mqtt")
	local := raw.LocalAddr().String()
	rec := trace.NewRecorder(trace.Client, 0)
	msgs := make(chan *paho.Publish, 4)
	c := paho.NewClient(paho.ClientConfig{
		Conn: rec.Wire(raw),
		OnPublishReceived: []func(paho.PublishReceived) (bool, error){func(pr paho.PublishReceived) (bool, error) {
			msgs <- pr.Packet
			return true, nil
		}},
	})
	ptr32 := func(v uint32) *uint32 { return &v }
	ptr16 := func(v uint16) *uint16 { return &v }
	format := byte(1) // UTF-8
	alias := uint16(1)
	if _, err := c.Connect(ctx, &paho.Connect{
		ClientID: "playground-properties", KeepAlive: 30, CleanStart: true,
		Properties: &paho.ConnectProperties{
			SessionExpiryInterval: ptr32(0), ReceiveMaximum: ptr16(16),
			User: paho.UserProperties{{Key: "app", Value: "mqtts-playground"}},
		},
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Subscribe(ctx, &paho.Subscribe{Subscriptions: []paho.SubscribeOptions{{Topic: "sensors/#", QoS: 1}}}); err != nil {
		t.Fatal(err)
	}
	for _, p := range []*paho.Publish{
		{Topic: "sensors/kitchen/temperature", QoS: 1, Payload: []byte(`{"celsius":21.5}`), Properties: &paho.PublishProperties{
			ContentType: "application/json", PayloadFormat: &format, MessageExpiry: ptr32(300),
			ResponseTopic: "sensors/replies", CorrelationData: []byte("req-1"), TopicAlias: &alias,
			User: paho.UserProperties{{Key: "unit", Value: "celsius"}, {Key: "room", Value: "kitchen"}},
		}},
		// The alias alone names the topic now.
		{QoS: 1, Payload: []byte(`{"celsius":21.7}`), Properties: &paho.PublishProperties{
			ContentType: "application/json", MessageExpiry: ptr32(300), TopicAlias: &alias,
		}},
	} {
		if _, err := c.Publish(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	for range 2 {
		select {
		case m := <-msgs:
			if m.Topic != "sensors/kitchen/temperature" {
				t.Errorf("message on %q", m.Topic)
			}
		case <-ctx.Done():
			t.Fatal("a message did not come back")
		}
	}
	if err := c.Disconnect(&paho.Disconnect{ReasonCode: 0}); err != nil {
		t.Fatal(err)
	}
	raw.Close()
	return rec.Recording(), e.brokerSide(t, local)
}

// TestRecordSessions records the sessions of trace/testdata/sessions.
func TestRecordSessions(t *testing.T) {
	if !*record {
		t.Skip("run with -record to record trace/testdata/sessions again")
	}
	e := newEnv(t)
	tlsOpts := func(name, min, max string) *client.TLSOptions {
		return &client.TLSOptions{ServerName: name, CAPEM: string(e.CA.RootPEM()), MinVersion: min, MaxVersion: max}
	}
	device, err := e.CA.Issue(pki.Leaf{CommonName: "device-1"})
	if err != nil {
		t.Fatal(err)
	}
	mtls := tlsOpts(nameMTLS, "1.3", "")
	mtls.Certificate = &device
	sessions := []struct {
		name string
		run  func(t *testing.T) (trace.Recording, trace.Recording)
	}{
		{"tls13", func(t *testing.T) (trace.Recording, trace.Recording) {
			return e.playgroundSession(t, "tls13", "mqtts", client.Options{MQTTVersion: 5, TLS: tlsOpts(nameTLS13, "1.3", "")}, false)
		}},
		{"tls13-resumed", func(t *testing.T) (trace.Recording, trace.Recording) {
			return e.playgroundSession(t, "tls13-resumed", "mqtts", client.Options{MQTTVersion: 5, TLS: tlsOpts(nameTLS13, "1.3", "")}, true)
		}},
		{"tls12", func(t *testing.T) (trace.Recording, trace.Recording) {
			return e.playgroundSession(t, "tls12", "mqtts", client.Options{MQTTVersion: 4, TLS: tlsOpts(nameTLS12, "1.2", "1.2")}, false)
		}},
		{"tls12-resumed", func(t *testing.T) (trace.Recording, trace.Recording) {
			return e.playgroundSession(t, "tls12-resumed", "mqtts", client.Options{MQTTVersion: 4, TLS: tlsOpts(nameTLS12, "1.2", "1.2")}, true)
		}},
		{"mtls", func(t *testing.T) (trace.Recording, trace.Recording) {
			return e.playgroundSession(t, "mtls", "mtls", client.Options{MQTTVersion: 5, TLS: mtls}, false)
		}},
		{"mqtt311", func(t *testing.T) (trace.Recording, trace.Recording) {
			return e.playgroundSession(t, "mqtt311", "mqtt", client.Options{MQTTVersion: 4}, false)
		}},
		{"mqtt5-properties", e.propertiesSession},
	}
	// In order: a resumed session needs the ticket of the one before.
	for _, s := range sessions {
		t.Run(s.name, func(t *testing.T) {
			client, broker := s.run(t)
			save(t, s.name+".client.json", client)
			save(t, s.name+".broker.json", broker)
		})
	}
}

func save(t *testing.T, file string, rec trace.Recording) {
	t.Helper()
	if len(rec.Chunks) == 0 || rec.Dropped != 0 {
		t.Fatalf("%s: %d chunks, %d bytes dropped", file, len(rec.Chunks), rec.Dropped)
	}
	b, err := json.MarshalIndent(rec, "", "\t")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, file), append(b, '\n'), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("wrote %s (%d chunks)", file, len(rec.Chunks))
}
