package broker_test

// Spec defects users met (issue 10), each checked with a real client:
// Eclipse Paho for Go, mosquitto's command-line clients, OpenSSL, and raw
// bytes where a real client encodes a packet that way.

import (
	"context"
	"crypto"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/eclipse/paho.golang/paho"
	"github.com/mochi-mqtt/server/v2/packets"
	"github.com/mqtts-playground/playground/broker"
	"github.com/mqtts-playground/playground/broker/brokertest"
	"github.com/mqtts-playground/playground/broker/pki"
)

// plainBroker runs one plain listener "mqtt".
func plainBroker(t *testing.T) *broker.Broker {
	t.Helper()
	b := brokertest.NewBroker(t, broker.Options{})
	if err := b.Add(broker.Listener{Name: "mqtt", Addr: "127.0.0.1:0"}); err != nil {
		t.Fatal(err)
	}
	return b
}

// A QoS 1 PUBLISH with a User Property is acknowledged with 0x00 and no
// properties of its own (MQTT.js and Python paho refuse anything else).
func TestPubackForUserProperties(t *testing.T) {
	b := plainBroker(t)
	c := connectV5(t, dial(t, brokertest.Addr(t, b, "mqtt")), &paho.Connect{ClientID: "props", CleanStart: true})
	pr := c.publish(t, &paho.Publish{Topic: "a/b", QoS: 1, Payload: []byte("x"),
		Properties: &paho.PublishProperties{User: paho.UserProperties{{Key: "trace-id", Value: "42"}}}})
	if pr.ReasonCode != 0 {
		t.Errorf("PUBACK reason %#x, want 0x00", pr.ReasonCode)
	}
	if pr.Properties != nil && (len(pr.Properties.User) > 0 || pr.Properties.ReasonString != "") {
		t.Errorf("PUBACK properties %+v, want none", pr.Properties)
	}
}

// Only DISCONNECT 0x00 discards the will. 0x04 "with Will Message" comes
// as e0 01 04 from mosquitto and Python paho (reason code only) and as
// e0 02 04 00 from Paho for Go.
func TestDisconnectWithWillMessage(t *testing.T) {
	b := plainBroker(t)
	watcher := connectV5(t, dial(t, brokertest.Addr(t, b, "mqtt")), &paho.Connect{ClientID: "watcher", CleanStart: true})
	watcher.subscribe(t, "will/#", 1)
	tests := []struct {
		name       string
		disconnect func(t *testing.T, c net.Conn, cl *v5) // nil: raw bytes
		raw        []byte
		will       bool
	}{
		{name: "e0 01 04 (mosquitto, Python paho)", raw: []byte{0xe0, 0x01, 0x04}, will: true},
		{name: "Paho Go, 0x04", disconnect: func(t *testing.T, _ net.Conn, cl *v5) { cl.Disconnect(&paho.Disconnect{ReasonCode: 0x04}) }, will: true},
		{name: "e0 01 80 unspecified error", raw: []byte{0xe0, 0x01, 0x80}, will: true},
		{name: "e0 00 normal", raw: []byte{0xe0, 0x00}, will: false},
		{name: "e0 01 00 normal", raw: []byte{0xe0, 0x01, 0x00}, will: false},
		{name: "Paho Go, normal", disconnect: func(t *testing.T, _ net.Conn, cl *v5) { cl.Disconnect(&paho.Disconnect{}) }, will: false},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := dial(t, brokertest.Addr(t, b, "mqtt"))
			topic := fmt.Sprintf("will/%d", i)
			cp := &paho.Connect{ClientID: fmt.Sprintf("leaver-%d", i), CleanStart: true,
				WillMessage: &paho.WillMessage{Topic: topic, QoS: 1, Payload: []byte("bye")}}
			if tt.disconnect != nil {
				tt.disconnect(t, c, connectV5(t, c, cp))
			} else {
				pk := connectV(cp.ClientID, 5)
				pk.Connect.WillFlag, pk.Connect.WillTopic, pk.Connect.WillPayload, pk.Connect.WillQos = true, topic, []byte("bye"), 1
				rawConnect(t, c, pk)
				c.Write(tt.raw)
				io.Copy(io.Discard, c) // the broker closes
			}
			if !tt.will {
				watcher.none(t, "a will after a normal DISCONNECT")
				return
			}
			if m := watcher.next(t); m.Topic != topic || string(m.Payload) != "bye" {
				t.Errorf("got %s %q, want the will on %s", m.Topic, m.Payload, topic)
			}
		})
	}
}

// When the broker ends a connection with a DISCONNECT (here 0x93 Receive
// Maximum exceeded, to a client that floods QoS 2 messages without
// completing them and is slow to read), the client reads it and then the
// end of the stream, not a reset.
func TestServerDisconnectIsReadable(t *testing.T) {
	p := brokertest.NewPKI(t)
	b := brokertest.NewBroker(t, broker.Options{})
	for _, l := range []broker.Listener{{Name: "mqtt", Addr: "127.0.0.1:0"}, {Name: "mqtts", Addr: "127.0.0.1:0", TLS: p.ServerTLS(tls.NoClientCert)}} {
		if err := b.Add(l); err != nil {
			t.Fatal(err)
		}
	}
	for _, name := range []string{"mqtt", "mqtts"} {
		t.Run(name, func(t *testing.T) {
			raw := dial(t, brokertest.Addr(t, b, name))
			raw.(*net.TCPConn).SetReadBuffer(1024) // a small window fills with the broker's PUBRECs
			var c net.Conn = raw
			if name == "mqtts" {
				c = dialTLSOn(t, raw, p.ClientTLS())
			}
			r, ack := rawConnect(t, c, connectV("flooder", 5))
			max := int(ack.Properties.ReceiveMaximum)
			if max == 0 {
				max = 65535
			}
			var flood []byte
			for i := range max + 200 {
				flood = append(flood, encode(t, publishPacket("flood", 2, uint16(i+1), "x"))...)
			}
			// Write while the broker answers; it stops reading after max.
			done := make(chan error, 1)
			go func() { _, err := c.Write(flood); done <- err }()
			var last packets.Packet
			var err error
			for {
				var pk packets.Packet
				if pk, err = readPacket(r, 5); err != nil {
					break
				}
				last = pk
			}
			<-done
			if errors.Is(err, syscall.ECONNRESET) || strings.Contains(err.Error(), "connection reset") {
				t.Fatalf("connection reset; last packet read: type %d reason %#x", last.FixedHeader.Type, last.ReasonCode)
			}
			if last.FixedHeader.Type != packets.Disconnect || last.ReasonCode != packets.ErrReceiveMaximum.Code {
				t.Errorf("last packet type %d reason %#x (then %v), want DISCONNECT 0x93", last.FixedHeader.Type, last.ReasonCode, err)
			}
			if !errors.Is(err, io.EOF) {
				t.Errorf("after the DISCONNECT: %v, want EOF", err)
			}
		})
	}
}

// The broker delivers what the publisher sent: no Message Expiry Interval
// unless the publisher set one (then what is left of it).
func TestNoInjectedMessageExpiry(t *testing.T) {
	b := plainBroker(t)
	sub := connectV5(t, dial(t, brokertest.Addr(t, b, "mqtt")), &paho.Connect{ClientID: "sub", CleanStart: true})
	sub.subscribe(t, "e/#", 1)
	pub := connectV5(t, dial(t, brokertest.Addr(t, b, "mqtt")), &paho.Connect{ClientID: "pub", CleanStart: true})
	pub.publish(t, &paho.Publish{Topic: "e/none", QoS: 1, Payload: []byte("x")})
	if m := sub.next(t); m.Properties != nil && m.Properties.MessageExpiry != nil {
		t.Errorf("no expiry sent, %d delivered", *m.Properties.MessageExpiry)
	}
	pub.publish(t, &paho.Publish{Topic: "e/60", QoS: 1, Payload: []byte("x"), Properties: &paho.PublishProperties{MessageExpiry: ptr[uint32](60)}})
	if m := sub.next(t); m.Properties == nil || m.Properties.MessageExpiry == nil || *m.Properties.MessageExpiry == 0 || *m.Properties.MessageExpiry > 60 {
		t.Errorf("60 s sent, delivered %+v", m.Properties)
	}
	// mosquitto_sub prints the interval it received (-F %E), empty if none.
	// (A retained message, so that it is there when mosquitto subscribes.)
	pub.publish(t, &paho.Publish{Topic: "e/mosq", QoS: 1, Retain: true, Payload: []byte("x")})
	if out := run(t, "mosquitto-clients", "", "mosquitto_sub", "-V", "5", "-p", port(t, b, "mqtt"), "-h", "127.0.0.1", "-t", "e/mosq", "-C", "1", "-W", "5", "-F", "[%E]"); strings.TrimSpace(out) != "[]" {
		t.Errorf("mosquitto_sub printed %q, want no expiry", out)
	}
}

// CONNACK tells an MQTT 5 client the broker's limits.
func TestConnackAdvertisesLimits(t *testing.T) {
	b := plainBroker(t)
	c := connectV5(t, dial(t, brokertest.Addr(t, b, "mqtt")), &paho.Connect{ClientID: "limits", CleanStart: true})
	props := c.connack.Properties
	if props == nil || props.TopicAliasMaximum == nil || *props.TopicAliasMaximum == 0 {
		t.Errorf("CONNACK Topic Alias Maximum: %+v", props)
	}
	if props == nil || props.MaximumPacketSize == nil || *props.MaximumPacketSize != broker.DefaultMaxPacketSize {
		t.Errorf("CONNACK Maximum Packet Size: %+v", props)
	}
	if props != nil && props.SessionExpiryInterval != nil {
		t.Errorf("CONNACK Session Expiry Interval %d for a client that asked for none", *props.SessionExpiryInterval)
	}
}

// TLS listeners answer ALPN "mqtt" (what cloud brokers expect on 443 and
// 8883) and still take clients offering other protocols or none.
func TestALPN(t *testing.T) {
	p := brokertest.NewPKI(t)
	b := brokertest.NewBroker(t, broker.Options{})
	if err := b.Add(broker.Listener{Name: "mqtts", Addr: "127.0.0.1:0", TLS: p.ServerTLS(tls.NoClientCert)}); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		offer []string
		want  string
	}{
		{[]string{"mqtt"}, "mqtt"},
		{[]string{"x-amzn-mqtt-ca", "mqtt"}, "mqtt"},
		{[]string{"x-amzn-mqtt-ca"}, ""},
		{nil, ""},
	} {
		cfg := p.ClientTLS()
		cfg.NextProtos = tt.offer
		tc := dialTLS(t, brokertest.Addr(t, b, "mqtts"), cfg)
		if got := tc.ConnectionState().NegotiatedProtocol; got != tt.want {
			t.Errorf("offer %q: negotiated %q, want %q", tt.offer, got, tt.want)
		}
		mqttConnect(t, tc, "alpn", 4)
	}
	// mosquitto's client offers it with --tls-alpn, as for AWS IoT on 443.
	ca := writeFile(t, "ca.pem", p.CA.RootPEM())
	if out := run(t, "mosquitto-clients", "", "mosquitto_sub", "-h", "localhost", "-p", port(t, b, "mqtts"), "--cafile", ca, "--tls-alpn", "mqtt", "-t", "x", "-E", "-d"); !strings.Contains(out, "SUBACK") {
		t.Errorf("mosquitto_sub --tls-alpn mqtt:\n%s", out)
	}
}

// A revoked client certificate is refused with alert 44
// certificate_revoked, in TLS 1.3 and 1.2, in full and resumed handshakes.
func TestRevokedCertificateAlert(t *testing.T) {
	p := brokertest.NewPKI(t)
	b := brokertest.NewBroker(t, broker.Options{})
	mtls := p.ServerTLS(tls.RequireAndVerifyClientCert)
	mtls.ClientCAs.AddCert(p.CA.Intermediate) // as the server does: clients may send the leaf alone
	mtls.VerifyConnection = func(cs tls.ConnectionState) error {
		if len(cs.PeerCertificates) == 0 {
			return nil
		}
		return p.CA.VerifyClient([][]byte{cs.PeerCertificates[0].Raw}, nil)
	}
	if err := b.Add(broker.Listener{Name: "mtls", Addr: "127.0.0.1:0", TLS: mtls}); err != nil {
		t.Fatal(err)
	}
	for _, version := range []uint16{tls.VersionTLS13, tls.VersionTLS12} {
		for _, resumed := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s resumed=%v", tls.VersionName(version), resumed), func(t *testing.T) {
				cert, err := p.CA.Issue(pki.Leaf{CommonName: "to-revoke"})
				if err != nil {
					t.Fatal(err)
				}
				cfg := p.ClientTLS()
				cfg.Certificates, cfg.MaxVersion = []tls.Certificate{cert}, version
				cfg.ClientSessionCache = tls.NewLRUClientSessionCache(1)
				if resumed {
					tc := dialTLS(t, brokertest.Addr(t, b, "mtls"), cfg)
					mqttConnect(t, tc, "before", 4) // reads the TLS 1.3 ticket too
					tc.Close()
				}
				if err := p.CA.Revoke(cert.Leaf, pki.ReasonKeyCompromise); err != nil {
					t.Fatal(err)
				}
				tc := tls.Client(dial(t, brokertest.Addr(t, b, "mtls")), cfg)
				err = tc.Handshake()
				if err == nil { // TLS 1.3: the client's handshake ends before the broker checks
					tc.Write(connectBytes(t, "revoked", 4))
					_, err = tc.Read(make([]byte, 1))
				}
				// (A TLS 1.2 client gets the alert before the ServerHello
				// that would tell it the session resumed.)
				if version == tls.VersionTLS13 && tc.ConnectionState().DidResume != resumed {
					t.Errorf("resumed %v, want %v", tc.ConnectionState().DidResume, resumed)
				}
				if err == nil || !strings.Contains(err.Error(), "remote error: tls: revoked certificate") {
					t.Errorf("client error %v, want alert 44 (revoked certificate)", err)
				}
			})
		}
	}
	// OpenSSL, with each TLS 1.3 cipher suite (the alert is encrypted with
	// the suite's key), and with TLS 1.2.
	cert, err := p.CA.Issue(pki.Leaf{CommonName: "openssl"})
	if err != nil {
		t.Fatal(err)
	}
	certPEM := writeFile(t, "client.pem", pki.CertPEM(cert.Leaf))
	keyPEM, err := pki.KeyPEM(cert.PrivateKey.(crypto.Signer))
	if err != nil {
		t.Fatal(err)
	}
	keyFile := writeFile(t, "client.key", keyPEM)
	ca := writeFile(t, "ca.pem", p.CA.RootPEM())
	if err := p.CA.Revoke(cert.Leaf, pki.ReasonUnspecified); err != nil {
		t.Fatal(err)
	}
	for _, suite := range [][]string{{"-ciphersuites", "TLS_AES_128_GCM_SHA256"}, {"-ciphersuites", "TLS_AES_256_GCM_SHA384"}, {"-ciphersuites", "TLS_CHACHA20_POLY1305_SHA256"}, {"-tls1_2"}} {
		t.Run("openssl "+strings.Join(suite, " "), func(t *testing.T) {
			// -ign_eof: read until the broker closes, so the alert is seen.
			args := append([]string{"s_client", "-ign_eof", "-connect", brokertest.Addr(t, b, "mtls"), "-CAfile", ca, "-cert", certPEM, "-key", keyFile}, suite...)
			out := run(t, "openssl", "hello\n", "openssl", args...)
			if !strings.Contains(out, "alert certificate revoked") && !strings.Contains(out, "alert number 44") {
				t.Errorf("openssl %s:\n%s", strings.Join(args, " "), out)
			}
		})
	}
}

// When an OpenSSL client refuses the broker's certificate, it sends its
// alert unencrypted in TLS 1.3, which crypto/tls reports as "bad record
// MAC": the broker names the alert instead, in its log and the
// connection's info.
func TestClientAlertNamed(t *testing.T) {
	p, stranger := brokertest.NewPKI(t), brokertest.NewPKI(t)
	var logged strings.Builder
	var mu sync.Mutex
	b := brokertest.NewBroker(t, broker.Options{Logger: testLogger(&mu, &logged)})
	if err := b.Add(broker.Listener{Name: "mqtts", Addr: "127.0.0.1:0", TLS: p.ServerTLS(tls.NoClientCert)}); err != nil {
		t.Fatal(err)
	}
	wrongCA := writeFile(t, "other-ca.pem", stranger.CA.RootPEM())
	run(t, "mosquitto-clients", "", "mosquitto_pub", "-h", "localhost", "-p", port(t, b, "mqtts"), "--cafile", wrongCA, "-t", "x", "-m", "refused")
	brokertest.WaitFor(t, patience, "the refused connection", func() bool {
		cs := b.Conns()
		return len(cs) > 0 && cs[0].Err != ""
	})
	if ci := b.Conns()[0]; ci.Err != `the client rejected the broker's certificate: it sent the alert "unknown certificate authority"` {
		t.Errorf("ConnInfo.Err %q, want the client's alert named in plain words", ci.Err)
	}
	mu.Lock()
	log := logged.String()
	mu.Unlock()
	if !strings.Contains(log, "unknown certificate authority") || !strings.Contains(log, "rejected the broker's certificate") {
		t.Errorf("log does not name the alert:\n%s", log)
	}
}

// port is the port of the named listener.
func port(t *testing.T, b *broker.Broker, name string) string {
	_, p, _ := net.SplitHostPort(brokertest.Addr(t, b, name))
	return p
}

func writeFile(t *testing.T, name string, data []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// run runs a real client (mosquitto's, OpenSSL) to its end, at most
// patience, with input, and returns its output. It fails the test, saying
// what to install, when the client is missing.
func run(t *testing.T, pkg, input, name string, args ...string) string {
	t.Helper()
	if _, err := exec.LookPath(name); err != nil {
		t.Fatalf("%s not found: install %s (apt-get install %s)", name, pkg, pkg)
	}
	ctx, cancel := context.WithTimeout(context.Background(), patience)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Stdin = strings.NewReader(input)
	out, _ := cmd.CombinedOutput()
	return string(out)
}
