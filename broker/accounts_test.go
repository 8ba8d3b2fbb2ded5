package broker_test

import (
	"crypto/tls"
	"errors"
	"io"
	"net"
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

// class is a broker.Accounts of fixed attendees (user name = id) and an
// instructor, with the notices the broker sent.
type class struct {
	passwords map[string]string

	mu      sync.Mutex
	notices []broker.Notice
}

func (c *class) Login(user string, password []byte) (broker.Principal, error) {
	if user == "instructor" && string(password) == "token" {
		return broker.Principal{Instructor: true}, nil
	}
	if pw, ok := c.passwords[user]; ok && pw == string(password) {
		return broker.Principal{Owner: user}, nil
	}
	return broker.Principal{}, errors.New("wrong user name or password")
}

func (c *class) Exists(owner string) bool { _, ok := c.passwords[owner]; return ok }

func (c *class) notify(n broker.Notice) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.notices = append(c.notices, n)
}

func (c *class) noticed(kind, cause string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, n := range c.notices {
		if n.Kind == kind && n.Cause == cause {
			return true
		}
	}
	return false
}

// classBroker runs a class of alice and bob on a plain listener "mqtt" and
// a mutual-TLS listener "mtls".
func classBroker(t *testing.T, opts broker.Options) (*broker.Broker, *class, *brokertest.PKI) {
	t.Helper()
	c := &class{passwords: map[string]string{"alice": "pw-a", "bob": "pw-b"}}
	if opts.Class == nil {
		opts.Class = &broker.ClassOptions{}
	}
	opts.Class.Accounts, opts.Class.Notify = c, c.notify
	opts.Class.OwnerTopics = []string{"ws/{owner}"}
	p := brokertest.NewPKI(t)
	b := brokertest.NewBroker(t, opts)
	for _, l := range []broker.Listener{
		{Name: "mqtt", Addr: "127.0.0.1:0"},
		{Name: "mtls", Addr: "127.0.0.1:0", TLS: p.ServerTLS(tls.RequireAndVerifyClientCert)},
	} {
		if err := b.Add(l); err != nil {
			t.Fatal(err)
		}
	}
	return b, c, p
}

func login(user, pw string) *paho.Connect {
	return &paho.Connect{ClientID: "dev", CleanStart: true, Username: user, UsernameFlag: true, Password: []byte(pw), PasswordFlag: true}
}

// Who may connect to a class's broker, with the CONNACK code each is
// refused with.
func TestClassConnect(t *testing.T) {
	b, c, _ := classBroker(t, broker.Options{})
	tests := []struct {
		name    string
		version byte
		user    string
		pw      string
		refused byte
	}{
		{"v5 anonymous", 5, "", "", 0x87},
		{"v3.1.1 anonymous", 4, "", "", 0x05},
		{"v5 wrong password", 5, "alice", "pw-b", 0x86},
		{"v3.1.1 wrong password", 4, "alice", "pw-b", 0x05},
		{"v5 unknown user", 5, "mallory", "x", 0x86},
		{"v5 attendee", 5, "alice", "pw-a", 0},
		{"v3.1.1 attendee", 4, "bob", "pw-b", 0},
		{"v5 instructor", 5, "instructor", "token", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pk := connectV("x-"+tt.user, tt.version)
			if tt.user != "" {
				pk.Connect.UsernameFlag, pk.Connect.Username = true, []byte(tt.user)
				pk.Connect.PasswordFlag, pk.Connect.Password = true, []byte(tt.pw)
			}
			_, ack := rawConnect(t, dial(t, brokertest.Addr(t, b, "mqtt")), pk)
			if ack.ReasonCode != tt.refused {
				t.Fatalf("CONNACK %#x, want %#x", ack.ReasonCode, tt.refused)
			}
			if tt.refused != 0 && tt.version == 5 && ack.Properties.ReasonString == "" {
				t.Error("a refusal without a reason string")
			}
		})
	}
	if !c.noticed(broker.NoticeAuth, "connected without credentials") || !c.noticed(broker.NoticeAuth, "wrong user name or password") {
		t.Errorf("notices %+v", c.notices)
	}
	brokertest.WaitFor(t, patience, "the owner on the connection", func() bool {
		for _, ci := range b.Conns() {
			if ci.Owner == "bob" && ci.Err == "" {
				return true
			}
		}
		return false
	})
}

// An attendee's clients reach only the attendee's topics: a filter beyond
// them is refused, a publish beyond them is refused, and a message in
// another attendee's space never arrives. The instructor reads all.
func TestClassTopics(t *testing.T) {
	b, c, _ := classBroker(t, broker.Options{})
	addr := brokertest.Addr(t, b, "mqtt")
	alice := connectV5(t, dial(t, addr), login("alice", "pw-a"))
	bob := connectV5(t, dial(t, addr), login("bob", "pw-b"))
	boss := connectV5(t, dial(t, addr), login("instructor", "token"))
	for _, tt := range []struct {
		filter string
		code   byte
	}{
		{"ws/alice/#", 1}, {"ws/alice", 1}, {"$share/g/ws/alice/x", 1},
		{"#", 0x87}, {"ws/+/#", 0x87}, {"ws/bob/#", 0x87}, {"ws/alice2/#", 0x87}, {"$SYS/#", 0x87}, {"$share/g/ws/bob/x", 0x87},
	} {
		if got := alice.subscribe(t, tt.filter, 1); got != tt.code {
			t.Errorf("alice SUBACK for %s %#x, want %#x", tt.filter, got, tt.code)
		}
	}
	if boss.subscribe(t, "#", 1) != 1 {
		t.Fatal("the instructor could not subscribe to #")
	}
	bob.subscribe(t, "ws/bob/#", 1)
	if pr := bob.publish(t, &paho.Publish{Topic: "ws/alice/x", QoS: 1, Payload: []byte("into alice")}); pr.ReasonCode != 0x87 {
		t.Errorf("bob's publish to alice's space: PUBACK %#x", pr.ReasonCode)
	}
	bob.publish(t, &paho.Publish{Topic: "ws/bob/x", QoS: 1, Payload: []byte("bob's own")})
	if m := bob.next(t); m.Topic != "ws/bob/x" {
		t.Errorf("bob got %s", m.Topic)
	}
	alice.none(t, "bob's message")
	if m := boss.next(t); m.Topic != "ws/bob/x" {
		t.Errorf("instructor got %s", m.Topic)
	}
	if !c.noticed(broker.NoticeACL, "a topic outside their own") {
		t.Errorf("no ACL notice: %+v", c.notices)
	}
}

// Client ids live in a space per attendee: bob using alice's client id
// takes nothing over.
func TestClassClientIDSpaces(t *testing.T) {
	b, _, _ := classBroker(t, broker.Options{})
	addr := brokertest.Addr(t, b, "mqtt")
	keep := &paho.ConnectProperties{SessionExpiryInterval: ptr[uint32](600)}
	cp := login("alice", "pw-a")
	cp.CleanStart, cp.Properties = false, keep
	alice := connectV5(t, dial(t, addr), cp)
	alice.subscribe(t, "ws/alice/#", 1)
	cp = login("bob", "pw-b")
	cp.CleanStart, cp.Properties = false, keep
	bob := connectV5(t, dial(t, addr), cp)
	if bob.connack.SessionPresent {
		t.Error("bob found alice's session")
	}
	select {
	case d := <-alice.gone:
		t.Fatalf("alice was taken over: %+v", d)
	default:
	}
	alice.publish(t, &paho.Publish{Topic: "ws/alice/still", QoS: 1, Payload: []byte("up")})
	if m := alice.next(t); m.Topic != "ws/alice/still" {
		t.Errorf("alice got %s", m.Topic)
	}
}

// A client certificate names its owner: its common name must be an
// attendee, and its clients are bound to that attendee's topics.
func TestClassCertificateOwner(t *testing.T) {
	b, _, p := classBroker(t, broker.Options{})
	certFor := func(cn string) *tls.Config {
		cert, err := p.CA.Issue(pki.Leaf{CommonName: cn})
		if err != nil {
			t.Fatal(err)
		}
		cfg := p.ClientTLS()
		cfg.Certificates = []tls.Certificate{cert}
		return cfg
	}
	alice := connectV5(t, dialTLS(t, brokertest.Addr(t, b, "mtls"), certFor("alice")), &paho.Connect{ClientID: "a", CleanStart: true})
	if alice.subscribe(t, "ws/alice/#", 1) != 1 || alice.subscribe(t, "ws/bob/#", 1) != 0x87 {
		t.Error("a certificate's owner has the wrong topics")
	}
	_, err := tryV5(t, dialTLS(t, brokertest.Addr(t, b, "mtls"), certFor("stranger")), &paho.Connect{ClientID: "s", CleanStart: true})
	if err == nil || !strings.Contains(err.Error(), "not an attendee") {
		t.Errorf("a stranger's certificate: %v", err)
	}
}

// The tunnel's owner is the client's, whatever user name it sends; a
// certificate of another attendee is refused on it.
func TestServeAs(t *testing.T) {
	b, _, p := classBroker(t, broker.Options{})
	serve := func(listener string, who broker.Principal) net.Conn {
		near, far := net.Pipe()
		go b.ServeAs(listener, far, who)
		t.Cleanup(func() { near.Close() })
		return near
	}
	cp := &paho.Connect{ClientID: "page", CleanStart: true, Username: "bob", UsernameFlag: true, Password: []byte("nonsense"), PasswordFlag: true}
	page := connectV5(t, serve("mqtt", broker.Principal{Owner: "alice"}), cp)
	if page.subscribe(t, "ws/alice/#", 1) != 1 || page.subscribe(t, "ws/bob/#", 1) != 0x87 {
		t.Error("the tunnel's client is not its owner's")
	}
	cert, err := p.CA.Issue(pki.Leaf{CommonName: "bob"})
	if err != nil {
		t.Fatal(err)
	}
	cfg := p.ClientTLS()
	cfg.Certificates = []tls.Certificate{cert}
	tc := tls.Client(serve("mtls", broker.Principal{Owner: "alice"}), cfg)
	if _, err := tryV5(t, tc, &paho.Connect{ClientID: "page", CleanStart: true}); err == nil || !strings.Contains(err.Error(), "not alice's") {
		t.Errorf("bob's certificate in alice's tunnel: %v", err)
	}
	if _, err := tryV5(t, serve("mqtt", broker.Principal{Owner: "gone"}), &paho.Connect{ClientID: "x", CleanStart: true}); err == nil {
		t.Error("a removed attendee's tunnel connected")
	}
}

// The per-attendee limits: open connections, and messages a second.
func TestClassLimits(t *testing.T) {
	b, c, _ := classBroker(t, broker.Options{Class: &broker.ClassOptions{OwnerConns: 2, OwnerRate: 1, OwnerBurst: 2}})
	addr := brokertest.Addr(t, b, "mqtt")
	cp := func(id string) *paho.Connect {
		c := login("alice", "pw-a")
		c.ClientID = id
		return c
	}
	first := connectV5(t, dial(t, addr), cp("one"))
	connectV5(t, dial(t, addr), cp("two"))
	_, err := tryV5(t, dial(t, addr), cp("three"))
	if err == nil || !strings.Contains(err.Error(), "attendee") {
		t.Errorf("a third connection: %v", err)
	}
	connectV5(t, dial(t, addr), login("bob", "pw-b")) // others are not affected
	if !c.noticed(broker.NoticeLimit, "too many connections open") {
		t.Errorf("no limit notice: %+v", c.notices)
	}
	var codes []byte
	for range 4 {
		codes = append(codes, first.publish(t, &paho.Publish{Topic: "ws/alice/x", QoS: 1, Payload: []byte("m")}).ReasonCode)
	}
	if codes[0] != 0 || codes[1] != 0 || codes[3] != packets.ErrQuotaExceeded.Code {
		t.Errorf("PUBACK codes %#x, want two accepted then 0x97", codes)
	}
	if !c.noticed(broker.NoticeLimit, "publishing too fast") {
		t.Errorf("no rate notice: %+v", c.notices)
	}
}

// DisconnectOwner ends an attendee's connections and no one else's.
func TestDisconnectOwner(t *testing.T) {
	b, _, _ := classBroker(t, broker.Options{})
	addr := brokertest.Addr(t, b, "mqtt")
	alice := connectV5(t, dial(t, addr), login("alice", "pw-a"))
	bob := connectV5(t, dial(t, addr), login("bob", "pw-b"))
	if n := b.DisconnectOwner("alice"); n != 1 {
		t.Errorf("ended %d connections", n)
	}
	if d := <-alice.gone; d.ReasonCode != 0x87 {
		t.Errorf("DISCONNECT %#x", d.ReasonCode)
	}
	bob.publish(t, &paho.Publish{Topic: "ws/bob/x", QoS: 1, Payload: []byte("still here")})
}

// A 3.1.1 client over its attendee's rate is disconnected at once: no
// DISCONNECT (3.1.1 has none from the server), and none of the messages
// it sent after the refused one are handled.
func TestClassRateV3(t *testing.T) {
	b, _, _ := classBroker(t, broker.Options{Class: &broker.ClassOptions{OwnerRate: 1, OwnerBurst: 1}})
	pk := connectV("v3", 4)
	pk.Connect.UsernameFlag, pk.Connect.Username = true, []byte("alice")
	pk.Connect.PasswordFlag, pk.Connect.Password = true, []byte("pw-a")
	c := dial(t, brokertest.Addr(t, b, "mqtt"))
	r, ack := rawConnect(t, c, pk)
	if ack.ReasonCode != 0 {
		t.Fatalf("CONNACK %#x", ack.ReasonCode)
	}
	var burst []byte
	for i := range 50 {
		burst = append(burst, encode(t, packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Publish, Qos: 1}, ProtocolVersion: 4,
			TopicName: "ws/alice/x", PacketID: uint16(i + 1), Payload: []byte("m")})...)
	}
	if _, err := c.Write(burst); err != nil {
		t.Fatal(err)
	}
	c.SetReadDeadline(time.Now().Add(patience))
	var got []byte
	for {
		pk, err := readPacket(r, 4)
		if err != nil {
			if !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) && !strings.Contains(err.Error(), "reset") {
				t.Fatalf("the connection did not close: %v", err)
			}
			break
		}
		got = append(got, pk.FixedHeader.Type)
	}
	if len(got) != 1 || got[0] != packets.Puback {
		t.Errorf("packets %v after the burst, want one PUBACK (types: %d PUBACK, %d DISCONNECT)", got, packets.Puback, packets.Disconnect)
	}
}

// A client certificate the listener does not verify names no one: on a
// listener that asks for any certificate, one of a stranger's own CA with
// an attendee's common name is not that attendee.
func TestClassUnverifiedCertificate(t *testing.T) {
	b, _, p := classBroker(t, broker.Options{})
	if err := b.Add(broker.Listener{Name: "any", Addr: "127.0.0.1:0", TLS: p.ServerTLS(tls.RequireAnyClientCert)}); err != nil {
		t.Fatal(err)
	}
	forged, err := brokertest.NewCA(t).Issue(pki.Leaf{CommonName: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	cfg := p.ClientTLS()
	cfg.Certificates = []tls.Certificate{forged}
	_, err = tryV5(t, dialTLS(t, brokertest.Addr(t, b, "any"), cfg), &paho.Connect{ClientID: "a", CleanStart: true})
	if err == nil || !strings.Contains(err.Error(), "without credentials") && !strings.Contains(err.Error(), "user name and password") {
		t.Errorf("a forged certificate of alice: %v", err)
	}
}
