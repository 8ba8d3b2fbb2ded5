package trace

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/mqtts-playground/playground/trace/internal/golden"
)

// sessionNames are the real sessions recorded at both ends in
// testdata/sessions by go test ./trace/internal/sessionrec -record.
var sessionNames = []string{"tls13", "tls13-resumed", "tls12", "tls12-resumed", "mtls", "mqtt311", "mqtt5-properties"}

// loadSession reads testdata/sessions/NAME.SIDE.json.
func loadSession(t testing.TB, name, side string) Recording {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "sessions", name+"."+side+".json"))
	if err != nil {
		t.Fatalf("%v (record the sessions with go test ./trace/internal/sessionrec -record)", err)
	}
	var rec Recording
	if err := json.Unmarshal(b, &rec); err != nil {
		t.Fatal(err)
	}
	return rec
}

// TestSessionsGolden decodes the recorded sessions and compares the events
// with NAME.SIDE.golden.json; go test ./trace -run Golden -update rewrites
// those that differ.
func TestSessionsGolden(t *testing.T) {
	for _, name := range sessionNames {
		for _, side := range []string{"client", "broker"} {
			t.Run(name+"/"+side, func(t *testing.T) {
				rec := loadSession(t, name, side)
				if string(rec.Side) != side {
					t.Errorf("recording side %q", rec.Side)
				}
				events := Decode(rec)
				if name != "tls12-resumed" {
					requireClean(t, events)
				}
				checkSession(t, name, rec.Side, events)
				golden.JSON(t, filepath.Join("testdata", "sessions", name+"."+side+".golden.json"), events, "\t")
			})
		}
	}
}

// checkSession checks what each session is there to show.
func checkSession(t *testing.T, name string, side Side, events []Event) {
	t.Helper()
	got := kinds(events)
	// Directions as the client sees them, flipped for the broker.
	dir := func(d Dir) string {
		if side == Broker {
			if d == Send {
				d = Recv
			} else {
				d = Send
			}
		}
		return string(d)
	}
	must := func(dirs Dir, layer Layer, typ string) {
		t.Helper()
		k := dir(dirs) + " " + string(layer) + " " + typ
		if !slices.Contains(got, k) {
			t.Errorf("no %q in %q", k, got)
		}
	}
	mustNot := func(dirs Dir, layer Layer, typ string) {
		t.Helper()
		k := dir(dirs) + " " + string(layer) + " " + typ
		if slices.Contains(got, k) {
			t.Errorf("unexpected %q in %q", k, got)
		}
	}
	find := func(typ string) []Event {
		var out []Event
		for _, e := range events {
			if e.Type == typ {
				out = append(out, e)
			}
		}
		return out
	}
	tlsSession := !strings.HasPrefix(name, "mqtt")
	if tlsSession {
		must(Send, LayerTLS, "ClientHello")
		must(Recv, LayerTLS, "ServerHello")
		must(Send, LayerTLS, "Finished")
		must(Recv, LayerTLS, "Finished")
		if side == Client {
			// The client's close_notify; the broker may have closed the
			// connection before it arrived.
			must(Send, LayerTLS, "Alert")
		}
		for _, e := range find("Finished") {
			if name == "tls12-resumed" {
				// Go's crypto/tls logs a TLS 1.2 master secret only after
				// a full handshake (handshake_client.go, doFullHandshake):
				// the key log of a resumed TLS 1.2 session is empty, so
				// its records stay encrypted in the trace.
				if !e.Encrypted || e.Plain != "" || !strings.Contains(e.Error, "key log has no CLIENT_RANDOM") {
					t.Errorf("%s Finished: plain %q, error %q; want it not decrypted for want of a key log line", e.Dir, e.Plain, e.Error)
				}
				continue
			}
			if !e.Encrypted || !strings.HasPrefix(e.Plain, "14") {
				t.Errorf("%s Finished: encrypted %v, plain %.8q…; want it decrypted", e.Dir, e.Encrypted, e.Plain)
			}
		}
	} else if slices.ContainsFunc(events, func(e Event) bool { return e.Layer == LayerTLS }) {
		t.Errorf("plain MQTT session decoded with TLS events: %q", got)
	}
	for _, typ := range []string{"CONNECT", "SUBSCRIBE", "PUBLISH", "DISCONNECT"} {
		must(Send, LayerMQTT, typ)
	}
	for _, typ := range []string{"CONNACK", "SUBACK", "PUBLISH", "PUBACK"} {
		must(Recv, LayerMQTT, typ)
	}
	resumed := strings.HasSuffix(name, "-resumed")
	switch {
	case resumed:
		mustNot(Recv, LayerTLS, "Certificate")
	case tlsSession:
		must(Recv, LayerTLS, "Certificate")
	}
	if name == "tls12-resumed" {
		mustNot(Recv, LayerTLS, "ServerKeyExchange")
	}
	if name == "mtls" {
		must(Recv, LayerTLS, "CertificateRequest")
		must(Send, LayerTLS, "Certificate")
		must(Send, LayerTLS, "CertificateVerify")
	}
	if strings.HasPrefix(name, "tls13") || name == "mtls" {
		for _, e := range find("ServerHello") {
			if !hasFieldValue(e, "supported_versions", "TLS 1.3") && !strings.Contains(e.Summary, "TLS 1.3") {
				t.Errorf("ServerHello does not choose TLS 1.3: %s", e.Summary)
			}
		}
	}
	if name == "mqtt5-properties" {
		var props []string
		for _, e := range find("PUBLISH") {
			for _, f := range e.Fields {
				props = append(props, f.Name+"="+f.Value)
			}
		}
		all := strings.Join(props, "\n")
		for _, want := range []string{"User Property", "Content Type=\"application/json\"", "Message Expiry Interval", "Topic Alias", "Response Topic", "Correlation Data"} {
			if !strings.Contains(all, want) {
				t.Errorf("no %s among the PUBLISH fields:\n%s", want, all)
			}
		}
	}
}

// The data facts of the events (certs, qos, packetId) agree with the
// fields that annotate the same bytes, in every recorded session.
func TestSessionsFacts(t *testing.T) {
	certs, publishes := 0, 0
	for _, name := range sessionNames {
		for _, side := range []string{"client", "broker"} {
			for _, e := range Decode(loadSession(t, name, side)) {
				var certData, fingerprints []string
				for _, f := range e.Fields {
					switch f.Name {
					case "cert_data":
						certData = append(certData, f.Name)
					case "SHA-256 fingerprint":
						fingerprints = append(fingerprints, f.Value)
					}
				}
				if len(e.Certs) != len(certData) {
					t.Errorf("%s/%s %s #%d: %d certs for %d cert_data fields", name, side, e.Type, e.Seq, len(e.Certs), len(certData))
				}
				for i, c := range e.Certs {
					certs++
					if c.Field < 0 || c.Field >= len(e.Fields) || e.Fields[c.Field].Name != "cert_data" {
						t.Errorf("%s/%s #%d cert %d: field %d is not a cert_data field", name, side, e.Seq, i, c.Field)
					}
					if c.SubjectCN == "" || c.Key == "" || c.NotAfter.Before(c.NotBefore) || i < len(fingerprints) && c.Fingerprint != fingerprints[i] {
						t.Errorf("%s/%s #%d cert %d: %+v (fingerprint field %v)", name, side, e.Seq, i, c, fingerprints)
					}
					if i > 0 && e.Certs[i-1].Issuer != c.Subject {
						t.Errorf("%s/%s #%d: cert %d issued by %q, but cert %d is %q", name, side, e.Seq, i-1, e.Certs[i-1].Issuer, i, c.Subject)
					}
				}
				switch {
				case e.Type == "PUBLISH":
					publishes++
					if e.QoS == nil || *e.QoS > 2 || (*e.QoS > 0) != (e.PacketID > 0) {
						t.Errorf("%s/%s PUBLISH #%d: qos %v, packet id %d", name, side, e.Seq, e.QoS, e.PacketID)
					}
				case e.QoS != nil:
					t.Errorf("%s/%s %s #%d has a QoS", name, side, e.Type, e.Seq)
				case slices.Contains([]string{"PUBACK", "SUBSCRIBE", "SUBACK"}, e.Type) && e.PacketID == 0:
					t.Errorf("%s/%s %s #%d has no packet id", name, side, e.Type, e.Seq)
				}
			}
		}
	}
	if certs < 10 || publishes < 5 {
		t.Errorf("checked %d certificates and %d PUBLISHes; the sessions hold more", certs, publishes)
	}
}
