package broker_test

import (
	"bytes"
	"crypto/tls"
	"fmt"
	"testing"

	"github.com/mochi-mqtt/server/v2/packets"
	"github.com/mqtts-playground/playground/broker"
	"github.com/mqtts-playground/playground/broker/brokertest"
	"github.com/mqtts-playground/playground/broker/pki"
)

// Issue 9 #15: a wildcard fills a whole topic level ([MQTT-4.7.1-2],
// [MQTT-4.7.1-3]); a SUBSCRIBE with a filter like a+/b is refused with
// 0x8F Topic Filter invalid (MQTT 5) or 0x80 Failure (3.1.1).
func TestInvalidFiltersRefused(t *testing.T) {
	b := plainBroker(t)
	for _, version := range []byte{4, 5} {
		refused := byte(0x8F)
		if version == 4 {
			refused = 0x80
		}
		c := dial(t, brokertest.Addr(t, b, "mqtt"))
		r := mqttConnect(t, c, fmt.Sprintf("filters-v%d", version), version)
		for i, tt := range []struct {
			filter string
			valid  bool
		}{
			{"a+/b", false}, {"a/b+", false}, {"a/+b/c", false}, {"+a", false}, {"a#", false}, {"a/b#", false}, {"a/#/b", false},
			{"+/b", true}, {"a/+/c", true}, {"a/#", true}, {"#", true}, {"+", true}, {"$share/g/a/+", true},
		} {
			pk := packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Subscribe, Qos: 1}, ProtocolVersion: version,
				PacketID: uint16(i + 1), Filters: packets.Subscriptions{{Filter: tt.filter, Qos: 1}}}
			var buf bytes.Buffer
			if err := pk.SubscribeEncode(&buf); err != nil {
				t.Fatal(err)
			}
			if _, err := c.Write(buf.Bytes()); err != nil {
				t.Fatal(err)
			}
			ack, err := readPacket(r, version)
			if err != nil || ack.FixedHeader.Type != packets.Suback || len(ack.ReasonCodes) != 1 {
				t.Fatalf("v%d SUBSCRIBE %q: %+v, %v", version, tt.filter, ack, err)
			}
			got := ack.ReasonCodes[0]
			if tt.valid && got >= 0x80 || !tt.valid && got != refused {
				t.Errorf("v%d SUBSCRIBE %q: SUBACK %#x (valid filter: %v)", version, tt.filter, got, tt.valid)
			}
		}
		c.Close()
	}
}

// Issue 9 #1: a listener that asks for client certificates issues no TLS
// 1.2 session tickets (its sessions could be resumed by anyone who read the
// key log and the ticket); TLS 1.3 and listeners without client
// certificates keep resumption.
func TestNoTLS12TicketsWithClientCertificates(t *testing.T) {
	p := brokertest.NewPKI(t)
	b := brokertest.NewBroker(t, broker.Options{})
	for name, auth := range map[string]tls.ClientAuthType{"mqtts": tls.NoClientCert, "mtls": tls.RequireAndVerifyClientCert} {
		if err := b.Add(broker.Listener{Name: name, Addr: "127.0.0.1:0", TLS: p.ServerTLS(auth)}); err != nil {
			t.Fatal(err)
		}
	}
	cert, err := p.CA.Issue(pki.Leaf{CommonName: "device-12"})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		listener    string
		version     uint16
		wantResumed bool
	}{
		{"mtls", tls.VersionTLS12, false},
		{"mtls", tls.VersionTLS13, true},
		{"mqtts", tls.VersionTLS12, true},
		{"mqtts", tls.VersionTLS13, true},
	} {
		cfg := p.ClientTLS()
		cfg.Certificates = []tls.Certificate{cert}
		cfg.MaxVersion = tt.version
		cfg.ClientSessionCache = tls.NewLRUClientSessionCache(1)
		var resumed bool
		for i := range 2 {
			tc := dialTLS(t, brokertest.Addr(t, b, tt.listener), cfg)
			mqttConnect(t, tc, fmt.Sprintf("t-%s-%x-%d", tt.listener, tt.version, i), 4) // reads the TLS 1.3 ticket too
			resumed = tc.ConnectionState().DidResume
			tc.Close()
		}
		if resumed != tt.wantResumed {
			t.Errorf("%s, %s: second connection resumed %v, want %v", tt.listener, tls.VersionName(tt.version), resumed, tt.wantResumed)
		}
	}
}
