package broker_test

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
	"github.com/gorilla/websocket"
	"github.com/mochi-mqtt/server/v2/packets"
	"github.com/mqtts-playground/playground/broker"
	"github.com/mqtts-playground/playground/broker/brokertest"
	"github.com/mqtts-playground/playground/broker/pki"
	"github.com/mqtts-playground/playground/trace"
)

// patience bounds every wait of these tests; it is a safety net that turns
// a hang into a failure, never a way to synchronise.
const patience = 10 * time.Second

func dial(t *testing.T, address string) net.Conn {
	t.Helper()
	c, err := net.DialTimeout("tcp", address, patience)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(patience))
	return c
}

func dialTLS(t *testing.T, address string, cfg *tls.Config) *tls.Conn {
	t.Helper()
	tc := tls.Client(dial(t, address), cfg)
	if err := tc.Handshake(); err != nil {
		t.Fatalf("TLS handshake: %v", err)
	}
	return tc
}

// connectBytes encodes a CONNECT.
func connectBytes(t *testing.T, id string, version byte) []byte {
	t.Helper()
	pk := packets.Packet{
		FixedHeader:     packets.FixedHeader{Type: packets.Connect},
		ProtocolVersion: version,
		Connect: packets.ConnectParams{
			ProtocolName: []byte("MQTT"), Clean: true, Keepalive: 30, ClientIdentifier: id,
		},
	}
	if version < 4 {
		pk.Connect.ProtocolName = []byte("MQIsdp")
	}
	var buf bytes.Buffer
	if err := pk.ConnectEncode(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// readPacket reads one whole MQTT packet from r.
func readPacket(r *bufio.Reader, version byte) (packets.Packet, error) {
	b, err := r.ReadByte()
	if err != nil {
		return packets.Packet{}, err
	}
	pk := packets.Packet{ProtocolVersion: version}
	if err := pk.FixedHeader.Decode(b); err != nil {
		return pk, err
	}
	n, _, err := packets.DecodeLength(r)
	if err != nil {
		return pk, err
	}
	pk.FixedHeader.Remaining = n
	body := make([]byte, n)
	if _, err := io.ReadFull(r, body); err != nil {
		return pk, err
	}
	switch pk.FixedHeader.Type {
	case packets.Connack:
		err = pk.ConnackDecode(body)
	case packets.Publish:
		err = pk.PublishDecode(body)
	case packets.Suback:
		err = pk.SubackDecode(body)
	case packets.Disconnect:
		err = pk.DisconnectDecode(body)
	case packets.Puback:
		err = pk.PubackDecode(body)
	case packets.Pubrec:
		err = pk.PubrecDecode(body)
	}
	return pk, err
}

// mqttConnect sends CONNECT on c and checks the broker accepts it.
func mqttConnect(t *testing.T, c net.Conn, id string, version byte) *bufio.Reader {
	t.Helper()
	if _, err := c.Write(connectBytes(t, id, version)); err != nil {
		t.Fatalf("write CONNECT: %v", err)
	}
	r := bufio.NewReader(c)
	ack, err := readPacket(r, version)
	if err != nil {
		t.Fatalf("read CONNACK: %v", err)
	}
	if ack.FixedHeader.Type != packets.Connack || ack.ReasonCode != 0 {
		t.Fatalf("got packet type %d reason %#x, want CONNACK 0", ack.FixedHeader.Type, ack.ReasonCode)
	}
	return r
}

// connOf returns the newest connection whose remote address is remote.
func connOf(b *broker.Broker, remote string) (broker.ConnInfo, bool) {
	for _, c := range b.Conns() {
		if c.Remote == remote {
			return c, true
		}
	}
	return broker.ConnInfo{}, false
}

func TestAdd(t *testing.T) {
	b := brokertest.NewBroker(t, broker.Options{})
	if err := b.Add(broker.Listener{Name: "mqtt", Addr: "127.0.0.1:0"}); err != nil {
		t.Fatalf("Add(mqtt): %v", err)
	}
	busy := brokertest.Addr(t, b, "mqtt")
	tests := []struct {
		name string
		l    broker.Listener
		want string
	}{
		{"empty name", broker.Listener{Name: ""}, `invalid listener name ""`},
		{"space", broker.Listener{Name: "a b"}, `invalid listener name "a b"`},
		{"slash", broker.Listener{Name: "a/b"}, `invalid listener name "a/b"`},
		{"question mark", broker.Listener{Name: "a?"}, `invalid listener name "a?"`},
		{"hash", broker.Listener{Name: "#"}, `invalid listener name "#"`},
		{"ampersand", broker.Listener{Name: "a&b"}, `invalid listener name "a&b"`},
		{"duplicate", broker.Listener{Name: "mqtt"}, `listener "mqtt" already exists`},
		{"duplicate with address", broker.Listener{Name: "mqtt", Addr: "127.0.0.1:0"}, `listener "mqtt" already exists`},
		{"address in use", broker.Listener{Name: "second", Addr: busy}, "broker: listener second: "},
		{"bad address", broker.Listener{Name: "third", Addr: "127.0.0.1:99999"}, "broker: listener third: "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := b.Add(tt.l)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Add(%+v) = %v, want an error containing %q", tt.l, err, tt.want)
			}
		})
	}
	var names []string
	for _, l := range b.Listeners() {
		names = append(names, l.Name)
	}
	if !slices.Equal(names, []string{"mqtt"}) {
		t.Errorf("failed Adds left listeners behind: %q", names)
	}
	brokertest.Close(t, b)
	if err := b.Add(broker.Listener{Name: "late"}); err == nil || !strings.Contains(err.Error(), "closed") {
		t.Errorf("Add after Close = %v, want a closed error", err)
	}
}

// TestListenerFigures counts a listener's TLS handshakes, the failed ones
// with the reason of the last, for monitoring.
func TestListenerFigures(t *testing.T) {
	p := brokertest.NewPKI(t)
	b := brokertest.NewBroker(t, broker.Options{})
	if err := b.Add(broker.Listener{Name: "mqtts", Addr: "127.0.0.1:0", TLS: p.ServerTLS(tls.NoClientCert)}); err != nil {
		t.Fatal(err)
	}
	addr := b.Listeners()[0].Addr
	dial := func(serverName string) {
		cfg := p.ClientTLS()
		cfg.ServerName = serverName
		c, err := tls.Dial("tcp", addr, cfg)
		if err == nil {
			c.Close()
		}
	}
	dial("localhost")
	dial("localhost")
	dial("other.invalid") // the client refuses the certificate
	brokertest.WaitFor(t, brokertest.Patience, "the broker's count of handshakes", func() bool {
		l := b.Listeners()[0]
		return l.Handshakes == 2 && l.HandshakeFailures == 1
	})
	if l := b.Listeners()[0]; !strings.Contains(l.LastFailure, "bad certificate") || l.CertNotAfter.IsZero() {
		t.Errorf("last failure %q, certificate expiry %v; want the client's bad_certificate alert and a date", l.LastFailure, l.CertNotAfter)
	}
}

func TestListeners(t *testing.T) {
	p := brokertest.NewPKI(t)
	b := brokertest.NewBroker(t, broker.Options{})
	ls := []broker.Listener{
		{Name: "ws", NoTunnel: true, About: "websocket"},
		{Name: "mqtts", Addr: "127.0.0.1:0", TLS: p.ServerTLS(tls.NoClientCert), About: "tls"},
		{Name: "mqtt", Addr: "127.0.0.1:0", About: "plain"},
		{Name: "mtls", Addr: "127.0.0.1:0", TLS: p.ServerTLS(tls.RequireAndVerifyClientCert), About: "mutual"},
		{Name: "weak", Addr: "127.0.0.1:0", TLS: p.ServerTLS(tls.NoClientCert), Lesson: true, About: "lesson"},
		{Name: "tunnel-only", About: "in-process"},
	}
	for _, l := range ls {
		if err := b.Add(l); err != nil {
			t.Fatalf("Add(%s): %v", l.Name, err)
		}
	}
	leaf, err := x509.ParseCertificate(p.Server.Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	expiry := leaf.NotAfter
	want := []broker.ListenerInfo{
		{Name: "mqtt", TLS: false, Tunnel: true, About: "plain"},
		{Name: "mqtts", TLS: true, Tunnel: true, About: "tls", CertNotAfter: expiry},
		{Name: "mtls", TLS: true, MTLS: true, Tunnel: true, About: "mutual", CertNotAfter: expiry},
		{Name: "tunnel-only", Tunnel: true, About: "in-process"},
		{Name: "weak", TLS: true, Lesson: true, Tunnel: true, About: "lesson", CertNotAfter: expiry},
		{Name: "ws", Tunnel: false, About: "websocket"},
	}
	got := b.Listeners()
	if len(got) != len(want) {
		t.Fatalf("Listeners() = %+v, want %d listeners", got, len(want))
	}
	hasAddr := map[string]bool{"mqtt": true, "mqtts": true, "mtls": true, "weak": true}
	for i, g := range got {
		a := g.Addr
		g.Addr = ""
		if g != want[i] {
			t.Errorf("Listeners()[%d] = %+v, want %+v", i, g, want[i])
		}
		if !hasAddr[g.Name] {
			if a != "" {
				t.Errorf("%s: Addr = %q, want none", g.Name, a)
			}
			continue
		}
		host, port, err := net.SplitHostPort(a)
		if err != nil || host != "127.0.0.1" || port == "0" {
			t.Errorf("%s: Addr = %q, want 127.0.0.1 and a real port", g.Name, a)
			continue
		}
		// The address is where the listener really is.
		c := dial(t, a)
		c.Close()
	}
	// Add keeps its own copy of the TLS configuration.
	ls[1].TLS.Certificates = nil
	tc := dialTLS(t, brokertest.Addr(t, b, "mqtts"), p.ClientTLS())
	if v := tc.ConnectionState().Version; v != tls.VersionTLS13 {
		t.Errorf("TLS version %s, want TLS 1.3", tls.VersionName(v))
	}
}

func TestTunnelable(t *testing.T) {
	b := brokertest.NewBroker(t, broker.Options{})
	for _, l := range []broker.Listener{{Name: "mqtt"}, {Name: "mqtts"}, {Name: "ws", NoTunnel: true}} {
		if err := b.Add(l); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name    string
		ok      bool
		unknown bool
		want    []string
		notWant string
	}{
		{"mqtt", true, false, nil, ""},
		{"mqtts", true, false, nil, ""},
		{"ws", false, false, []string{`"ws" is not reachable through the tunnel`}, ""},
		{"nope", false, true, []string{`unknown listener "nope"`, "(mqtt, mqtts)"}, "ws"},
		{"", false, true, []string{`unknown listener ""`, "(mqtt, mqtts)"}, ""},
	}
	for _, tt := range tests {
		t.Run("name="+tt.name, func(t *testing.T) {
			err := b.Tunnelable(tt.name)
			if (err == nil) != tt.ok {
				t.Fatalf("Tunnelable(%q) = %v, want ok=%v", tt.name, err, tt.ok)
			}
			if err == nil {
				return
			}
			if errors.Is(err, broker.ErrUnknownListener) != tt.unknown {
				t.Errorf("errors.Is(%v, ErrUnknownListener) = %v, want %v", err, !tt.unknown, tt.unknown)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			if tt.notWant != "" && strings.Contains(err.Error(), tt.notWant) {
				t.Errorf("error %q lists %q", err, tt.notWant)
			}
		})
	}
}

func TestServe(t *testing.T) {
	b := brokertest.NewBroker(t, broker.Options{})
	if err := b.Add(broker.Listener{Name: "mqtt"}); err != nil {
		t.Fatal(err)
	}
	t.Run("unknown listener", func(t *testing.T) {
		client, server := net.Pipe()
		defer client.Close()
		err := b.Serve("nope", server)
		if !errors.Is(err, broker.ErrUnknownListener) || !strings.Contains(err.Error(), `"nope"`) {
			t.Errorf("Serve(nope) = %v, want ErrUnknownListener naming it", err)
		}
		client.SetDeadline(time.Now().Add(patience))
		if _, err := client.Read(make([]byte, 1)); !errors.Is(err, io.EOF) {
			t.Errorf("read from the refused connection: %v, want EOF (closed)", err)
		}
	})
	t.Run("in-process listener", func(t *testing.T) {
		client, server := net.Pipe()
		defer client.Close()
		served := make(chan error, 1)
		go func() { served <- b.Serve("mqtt", server) }()
		client.SetDeadline(time.Now().Add(patience))
		mqttConnect(t, client, "piped", 4)
		client.Close()
		select {
		case err := <-served:
			if err != nil {
				t.Errorf("Serve = %v, want nil after a clean end", err)
			}
		case <-time.After(patience):
			t.Fatal("Serve did not return after the client closed")
		}
		ci := b.Conns()[0]
		if ci.Listener != "mqtt" || ci.ClientID != "piped" || ci.Ended.IsZero() {
			t.Errorf("Conns()[0] = %+v, want listener mqtt, client piped, ended", ci)
		}
	})
}

func TestHandshakeTimeout(t *testing.T) {
	p := brokertest.NewPKI(t)
	b := brokertest.NewBroker(t, broker.Options{HandshakeTimeout: 100 * time.Millisecond})
	if err := b.Add(broker.Listener{Name: "mqtts", Addr: "127.0.0.1:0", TLS: p.ServerTLS(tls.NoClientCert)}); err != nil {
		t.Fatal(err)
	}
	c := dial(t, brokertest.Addr(t, b, "mqtts")) // sends nothing
	// Well within the default timeout (10 s), so that only the option can
	// end the connection in time.
	wait := 7 * time.Second
	c.SetReadDeadline(time.Now().Add(wait))
	n, err := c.Read(make([]byte, 1))
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatalf("the broker kept a silent connection open for %v", wait)
	}
	if n != 0 || err == nil {
		t.Fatalf("read %d bytes, err %v; want the connection closed", n, err)
	}
	brokertest.WaitFor(t, patience, "the connection's error", func() bool {
		ci, ok := connOf(b, c.LocalAddr().String())
		return ok && ci.Err != "" && !ci.Ended.IsZero()
	})
	ci, _ := connOf(b, c.LocalAddr().String())
	if ci.Err != "the handshake timed out" || ci.TLSVersion != "" || ci.ClientID != "" {
		t.Errorf("ConnInfo = %+v, want the timeout in plain words and no TLS version or client", ci)
	}
}

func TestConnsAndRecording(t *testing.T) {
	p := brokertest.NewPKI(t)
	tests := []struct {
		name    string
		tls     bool
		version byte
	}{
		{"mqtt", false, 4},
		{"mqtts", true, 4},
		{"mqtts", true, 5},
		{"mqtt", false, 5},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s/v%d", tt.name, tt.version), func(t *testing.T) {
			b := brokertest.NewBroker(t, broker.Options{})
			l := broker.Listener{Name: tt.name, Addr: "127.0.0.1:0"}
			if tt.tls {
				l.TLS = p.ServerTLS(tls.NoClientCert)
			}
			if err := b.Add(l); err != nil {
				t.Fatal(err)
			}
			raw := dial(t, brokertest.Addr(t, b, tt.name))
			var c net.Conn = raw
			if tt.tls {
				c = dialTLSOn(t, raw, p.ClientTLS())
			}
			id := fmt.Sprintf("client-%s-%d", tt.name, tt.version)
			mqttConnect(t, c, id, tt.version)

			brokertest.WaitFor(t, patience, "the client id", func() bool {
				ci, ok := connOf(b, raw.LocalAddr().String())
				return ok && ci.ClientID != ""
			})
			ci, _ := connOf(b, raw.LocalAddr().String())
			if ci.Listener != tt.name || ci.ClientID != id || ci.ID == "" || ci.Started.IsZero() || !ci.Ended.IsZero() || ci.Err != "" {
				t.Errorf("ConnInfo = %+v, want listener %s, client %s, live", ci, tt.name, id)
			}
			wantVersion := ""
			if tt.tls {
				wantVersion = "TLS 1.3"
			}
			if ci.TLSVersion != wantVersion || ci.Resumed || ci.PeerCN != "" {
				t.Errorf("ConnInfo = %+v, want TLS version %q, not resumed, no peer", ci, wantVersion)
			}

			rec, ok := b.Recording(ci.ID)
			if !ok {
				t.Fatalf("Recording(%s) not found", ci.ID)
			}
			if rec.Side != trace.Broker {
				t.Errorf("recording side %q, want broker", rec.Side)
			}
			events := trace.Decode(rec)
			find := func(layer trace.Layer, typ string, dir trace.Dir) (trace.Event, bool) {
				for _, e := range events {
					if e.Layer == layer && e.Type == typ && e.Dir == dir {
						return e, true
					}
				}
				return trace.Event{}, false
			}
			connect, ok := find(trace.LayerMQTT, "CONNECT", trace.Recv)
			if !ok {
				t.Fatalf("no CONNECT received in %s", summarize(events))
			}
			if connect.Error != "" || !hasField(connect, "Client Identifier", id) {
				t.Errorf("CONNECT error %q, fields %+v; want Client Identifier %s", connect.Error, connect.Fields, id)
			}
			if _, ok := find(trace.LayerMQTT, "CONNACK", trace.Send); !ok {
				t.Errorf("no CONNACK sent in %s", summarize(events))
			}
			if !tt.tls {
				if _, ok := find(trace.LayerTLS, "ClientHello", trace.Recv); ok {
					t.Error("plain connection decoded with TLS events")
				}
				return
			}
			for _, want := range []struct {
				typ       string
				dir       trace.Dir
				encrypted bool
			}{
				{"ClientHello", trace.Recv, false},
				{"ServerHello", trace.Send, false},
				{"Certificate", trace.Send, true},
				{"Finished", trace.Send, true},
				{"Finished", trace.Recv, true},
			} {
				e, ok := find(trace.LayerTLS, want.typ, want.dir)
				if !ok {
					t.Errorf("no %s %s in %s", want.typ, want.dir, summarize(events))
					continue
				}
				if e.Encrypted != want.encrypted || e.Error != "" || (want.encrypted && e.Plain == "") {
					t.Errorf("%s %s: encrypted %v, plain %d hex digits, error %q; want encrypted=%v, decrypted", want.typ, want.dir, e.Encrypted, len(e.Plain), e.Error, want.encrypted)
				}
			}
		})
	}
}

func dialTLSOn(t *testing.T, raw net.Conn, cfg *tls.Config) *tls.Conn {
	t.Helper()
	tc := tls.Client(raw, cfg)
	if err := tc.Handshake(); err != nil {
		t.Fatalf("TLS handshake: %v", err)
	}
	return tc
}

func hasField(e trace.Event, name, value string) bool {
	for _, f := range e.Fields {
		if f.Name == name && strings.Contains(f.Value, value) {
			return true
		}
	}
	return false
}

func summarize(events []trace.Event) string {
	var s []string
	for _, e := range events {
		s = append(s, fmt.Sprintf("%s %s %s", e.Dir, e.Layer, e.Type))
	}
	return "[" + strings.Join(s, "; ") + "]"
}

func TestTraceLimit(t *testing.T) {
	tests := []struct {
		limit       int
		recorded    bool
		wantDropped bool
	}{
		{-1, false, false},
		{0, true, false},
		{8, true, true}, // CONNECT alone is longer
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.limit), func(t *testing.T) {
			b := brokertest.NewBroker(t, broker.Options{TraceLimit: tt.limit})
			if err := b.Add(broker.Listener{Name: "mqtt", Addr: "127.0.0.1:0"}); err != nil {
				t.Fatal(err)
			}
			c := dial(t, brokertest.Addr(t, b, "mqtt"))
			mqttConnect(t, c, "limited", 4)
			brokertest.WaitFor(t, patience, "the client id", func() bool {
				ci, ok := connOf(b, c.LocalAddr().String())
				return ok && ci.ClientID == "limited"
			})
			ci, _ := connOf(b, c.LocalAddr().String())
			rec, ok := b.Recording(ci.ID)
			if ok != tt.recorded {
				t.Fatalf("Recording found = %v, want %v", ok, tt.recorded)
			}
			if !ok {
				return
			}
			if (rec.Dropped > 0) != tt.wantDropped {
				t.Errorf("Dropped = %d, want dropped=%v", rec.Dropped, tt.wantDropped)
			}
			n := 0
			for _, ch := range rec.Chunks {
				n += len(ch.Data)
			}
			if tt.limit > 0 && n > tt.limit {
				t.Errorf("kept %d bytes, limit %d", n, tt.limit)
			}
			if !tt.wantDropped && n == 0 {
				t.Error("nothing recorded")
			}
		})
	}
	t.Run("unknown id", func(t *testing.T) {
		b := brokertest.NewBroker(t, broker.Options{})
		if _, ok := b.Recording("c999"); ok {
			t.Error("Recording of an unknown id found")
		}
	})
}

func TestKeepConns(t *testing.T) {
	b := brokertest.NewBroker(t, broker.Options{KeepConns: 2})
	if err := b.Add(broker.Listener{Name: "mqtt", Addr: "127.0.0.1:0"}); err != nil {
		t.Fatal(err)
	}
	var remotes []string
	for i := range 3 {
		c := dial(t, brokertest.Addr(t, b, "mqtt"))
		mqttConnect(t, c, fmt.Sprintf("keep-%d", i), 4)
		remotes = append(remotes, c.LocalAddr().String())
	}
	brokertest.WaitFor(t, patience, "two connections with client ids", func() bool {
		cs := b.Conns()
		return len(cs) == 2 && cs[0].ClientID != "" && cs[1].ClientID != ""
	})
	cs := b.Conns()
	if cs[0].ClientID != "keep-2" || cs[1].ClientID != "keep-1" {
		t.Errorf("Conns() = %+v, want keep-2 then keep-1 (newest first)", cs)
	}
	if cs[0].Remote != remotes[2] {
		t.Errorf("newest remote %s, want %s", cs[0].Remote, remotes[2])
	}
	if _, ok := b.Recording("c1"); ok {
		t.Error("the recording of a forgotten connection is still there")
	}
	if _, ok := b.Recording(cs[1].ID); !ok {
		t.Errorf("Recording(%s) missing", cs[1].ID)
	}
}

func TestMTLSAndResumption(t *testing.T) {
	p := brokertest.NewPKI(t)
	b := brokertest.NewBroker(t, broker.Options{})
	if err := b.Add(broker.Listener{Name: "mtls", Addr: "127.0.0.1:0", TLS: p.ServerTLS(tls.RequireAndVerifyClientCert)}); err != nil {
		t.Fatal(err)
	}
	client, err := p.CA.Issue(pki.Leaf{CommonName: "device-7"})
	if err != nil {
		t.Fatal(err)
	}

	t.Run("no client certificate", func(t *testing.T) {
		c := dial(t, brokertest.Addr(t, b, "mtls"))
		tc := tls.Client(c, p.ClientTLS())
		// TLS 1.3: the client's handshake ends before the broker checks.
		tc.Handshake()
		tc.Write(connectBytes(t, "anon", 4))
		_, err := tc.Read(make([]byte, 1))
		if err == nil || !strings.Contains(err.Error(), "certificate required") {
			t.Errorf("read = %v, want the certificate required alert", err)
		}
		brokertest.WaitFor(t, patience, "the connection's error", func() bool {
			ci, ok := connOf(b, c.LocalAddr().String())
			return ok && ci.Err != ""
		})
		ci, _ := connOf(b, c.LocalAddr().String())
		if !strings.Contains(ci.Err, "certificate") || ci.ClientID != "" {
			t.Errorf("ConnInfo = %+v, want a certificate error", ci)
		}
	})

	cfg := p.ClientTLS()
	cfg.Certificates = []tls.Certificate{client}
	cfg.ClientSessionCache = tls.NewLRUClientSessionCache(4)
	for i, wantResumed := range []bool{false, true} {
		c := dial(t, brokertest.Addr(t, b, "mtls"))
		tc := dialTLSOn(t, c, cfg)
		// Reading the CONNACK also reads the session ticket sent before it.
		mqttConnect(t, tc, fmt.Sprintf("device-7-%d", i), 5)
		if tc.ConnectionState().DidResume != wantResumed {
			t.Errorf("connection %d: client DidResume = %v, want %v", i, tc.ConnectionState().DidResume, wantResumed)
		}
		brokertest.WaitFor(t, patience, "the client id", func() bool {
			ci, ok := connOf(b, c.LocalAddr().String())
			return ok && ci.ClientID != ""
		})
		ci, _ := connOf(b, c.LocalAddr().String())
		if ci.PeerCN != "device-7" || ci.Resumed != wantResumed || ci.TLSVersion != "TLS 1.3" {
			t.Errorf("connection %d: ConnInfo = %+v, want peer device-7, resumed %v", i, ci, wantResumed)
		}
		tc.Close()
	}
}

func TestWebSocket(t *testing.T) {
	b := brokertest.NewBroker(t, broker.Options{})
	if err := b.Add(broker.Listener{Name: "ws", NoTunnel: true}); err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/mqtt", b.WebSocket("ws"))
	mux.Handle("/missing", b.WebSocket("missing"))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	wsURL := "ws" + strings.TrimPrefix(srv.URL, "http")

	dialWS := func(t *testing.T, path string) *websocket.Conn {
		t.Helper()
		d := websocket.Dialer{Subprotocols: []string{"mqtt"}, HandshakeTimeout: patience}
		ws, resp, err := d.Dial(wsURL+path, nil)
		if err != nil {
			t.Fatalf("dial %s: %v", path, err)
		}
		t.Cleanup(func() { ws.Close() })
		if resp.Header.Get("Sec-WebSocket-Protocol") != "mqtt" {
			t.Errorf("subprotocol %q, want mqtt", resp.Header.Get("Sec-WebSocket-Protocol"))
		}
		ws.SetReadDeadline(time.Now().Add(patience))
		return ws
	}

	t.Run("CONNECT split over messages", func(t *testing.T) {
		ws := dialWS(t, "/mqtt")
		pk := connectBytes(t, "ws-client", 5)
		// A byte stream may be cut anywhere: send the packet in two messages.
		for _, part := range [][]byte{pk[:3], pk[3:]} {
			if err := ws.WriteMessage(websocket.BinaryMessage, part); err != nil {
				t.Fatal(err)
			}
		}
		typ, msg, err := ws.ReadMessage()
		if err != nil {
			t.Fatalf("read CONNACK: %v", err)
		}
		if typ != websocket.BinaryMessage || len(msg) < 4 || msg[0] != 0x20 || msg[3] != 0 {
			t.Fatalf("got message type %d % x, want a binary CONNACK accepting", typ, msg)
		}
		brokertest.WaitFor(t, patience, "the ws connection", func() bool {
			cs := b.Conns()
			return len(cs) > 0 && cs[0].ClientID == "ws-client"
		})
		if ci := b.Conns()[0]; ci.Listener != "ws" || ci.TLSVersion != "" {
			t.Errorf("ConnInfo = %+v, want listener ws without TLS", ci)
		}
	})

	t.Run("text message", func(t *testing.T) {
		ws := dialWS(t, "/mqtt")
		if err := ws.WriteMessage(websocket.TextMessage, connectBytes(t, "texter", 4)); err != nil {
			t.Fatal(err)
		}
		if _, msg, err := ws.ReadMessage(); err == nil {
			t.Errorf("got % x, want the connection closed", msg)
		}
	})

	t.Run("unknown listener", func(t *testing.T) {
		resp, err := http.Get(srv.URL + "/missing")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusNotFound || !strings.Contains(string(body), `unknown listener "missing"`) {
			t.Errorf("status %d, body %q; want 404 naming the listener", resp.StatusCode, body)
		}
	})

	t.Run("paho round trip", func(t *testing.T) {
		opts := paho.NewClientOptions().AddBroker(wsURL + "/mqtt").SetClientID("paho-ws").
			SetConnectTimeout(patience).SetAutoReconnect(false)
		cl := paho.NewClient(opts)
		if tok := cl.Connect(); !tok.WaitTimeout(patience) || tok.Error() != nil {
			t.Fatalf("paho connect: %v", tok.Error())
		}
		defer cl.Disconnect(0)
		got := make(chan paho.Message, 1)
		if tok := cl.Subscribe("ws/test", 1, func(_ paho.Client, m paho.Message) { got <- m }); !tok.WaitTimeout(patience) || tok.Error() != nil {
			t.Fatalf("subscribe: %v", tok.Error())
		}
		if tok := cl.Publish("ws/test", 1, false, "over websocket"); !tok.WaitTimeout(patience) || tok.Error() != nil {
			t.Fatalf("publish: %v", tok.Error())
		}
		select {
		case m := <-got:
			if m.Topic() != "ws/test" || string(m.Payload()) != "over websocket" {
				t.Errorf("got %s %q", m.Topic(), m.Payload())
			}
		case <-time.After(patience):
			t.Fatal("no message")
		}
	})
}

func TestCloseEndsConnections(t *testing.T) {
	p := brokertest.NewPKI(t)
	b, err := broker.New(broker.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range []broker.Listener{
		{Name: "mqtt", Addr: "127.0.0.1:0"},
		{Name: "mqtts", Addr: "127.0.0.1:0", TLS: p.ServerTLS(tls.NoClientCert)},
		{Name: "pipe"},
	} {
		if err := b.Add(l); err != nil {
			t.Fatal(err)
		}
	}
	mqttAddr, mqttsAddr := brokertest.Addr(t, b, "mqtt"), brokertest.Addr(t, b, "mqtts")
	established := dial(t, mqttAddr)
	r := mqttConnect(t, established, "live", 5)
	tlsEstablished := dialTLS(t, mqttsAddr, p.ClientTLS())
	tlsR := mqttConnect(t, tlsEstablished, "live-tls", 4)
	silent := dial(t, mqttAddr)          // no CONNECT yet
	silentTLS := dial(t, mqttsAddr)      // no ClientHello yet
	pipeClient, pipeServer := net.Pipe() // in-process, no CONNECT yet
	served := make(chan error, 1)
	go func() { served <- b.Serve("pipe", pipeServer) }()
	brokertest.WaitFor(t, patience, "five connections", func() bool { return len(b.Conns()) == 5 })

	brokertest.Close(t, b)

	// MQTT 5 clients learn why.
	if pk, err := readPacket(r, 5); err != nil || pk.FixedHeader.Type != packets.Disconnect {
		t.Errorf("established v5 client: packet type %d, err %v; want DISCONNECT", pk.FixedHeader.Type, err)
	}
	for name, read := range map[string]func() error{
		"established TLS": func() error { _, err := readPacket(tlsR, 4); return err },
		"silent":          func() error { _, err := silent.Read(make([]byte, 1)); return err },
		"silent TLS":      func() error { _, err := silentTLS.Read(make([]byte, 1)); return err },
		"pipe": func() error {
			pipeClient.SetDeadline(time.Now().Add(patience))
			_, err := pipeClient.Read(make([]byte, 1))
			return err
		},
	} {
		var ne net.Error
		if err := read(); err == nil || (errors.As(err, &ne) && ne.Timeout()) {
			t.Errorf("%s: read after Close = %v, want the connection closed", name, err)
		}
	}
	select {
	case <-served:
	case <-time.After(patience):
		t.Error("Serve did not return after Close")
	}
	for _, a := range []string{mqttAddr, mqttsAddr} {
		if c, err := net.DialTimeout("tcp", a, patience); err == nil {
			c.Close()
			t.Errorf("%s still accepts connections", a)
		}
	}
	// Serving after Close is refused at once.
	c1, c2 := net.Pipe()
	defer c1.Close()
	if err := b.Serve("pipe", c2); err == nil {
		t.Error("Serve after Close succeeded")
	}
	if err := b.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

// A plain-MQTT client that connects and never sends CONNECT is dropped
// after HandshakeTimeout, like a silent TLS client.
func TestConnectTimeout(t *testing.T) {
	b := brokertest.NewBroker(t, broker.Options{HandshakeTimeout: 100 * time.Millisecond})
	if err := b.Add(broker.Listener{Name: "mqtt", Addr: "127.0.0.1:0"}); err != nil {
		t.Fatal(err)
	}
	c, err := net.Dial("tcp", b.Listeners()[0].Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetReadDeadline(time.Now().Add(7 * time.Second))
	start := time.Now()
	if _, err := c.Read(make([]byte, 1)); err == nil || time.Since(start) > 5*time.Second {
		t.Fatalf("silent client: read returned %v after %v; want the broker to close it within its timeout", err, time.Since(start))
	}
}

// A client finds the broker's side of its TLS connection by its client random.
func TestFindByClientRandom(t *testing.T) {
	s := brokertest.New(t, brokertest.Options{Listeners: []string{brokertest.MQTTS}})
	var logged bytes.Buffer
	cfg := s.ClientTLS()
	cfg.KeyLogWriter = &logged
	c, err := tls.Dial("tcp", s.Addrs["mqtts"], cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	random := strings.Fields(logged.String())[1]
	var info broker.ConnInfo
	brokertest.WaitFor(t, patience, "a connection with client random "+random, func() bool {
		var ok bool
		info, ok = s.Find(strings.ToUpper(random))
		return ok
	})
	if info.Listener != "mqtts" || info.ClientRandom != random {
		t.Fatalf("found %+v", info)
	}
	if again, ok := s.Find(info.ID); !ok || again.ID != info.ID {
		t.Fatalf("Find by id: %+v %v", again, ok)
	}
	if _, ok := s.Find("nothing"); ok {
		t.Error("found a connection for a made-up key")
	}
}
