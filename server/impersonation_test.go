package main

import (
	"bufio"
	"crypto/tls"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/mqtts-playground/playground/broker"
	"github.com/mqtts-playground/playground/broker/pki"
	"github.com/mqtts-playground/playground/trace"
)

// fixedSession is a client session cache that offers one session to every
// server: the attacker's forged state.
type fixedSession struct{ s *tls.ClientSessionState }

func (f fixedSession) Get(string) (*tls.ClientSessionState, bool) { return f.s, true }
func (f fixedSession) Put(string, *tls.ClientSessionState)        {}

// TestMTLSResumptionFromPublishedSecrets is the attack of issue 9 #1: a
// device connects to mtls with TLS 1.2; a stranger reads what /trace
// publishes of it (the master secret from the key log, the session ticket
// from the events) and resumes that session with no certificate of its own,
// to be accepted as the device's common name. It must not work.
func TestMTLSResumptionFromPublishedSecrets(t *testing.T) {
	app := startApp(t, testConfig(t), false)
	base := "http://" + app.httpAddr
	mtlsAddr := app.listener(t, "mtls").Addr

	// The victim: a device with a certificate, TLS 1.2, tickets welcome.
	cert, err := app.ca.Issue(pki.Leaf{CommonName: "victim-device"})
	if err != nil {
		t.Fatal(err)
	}
	victim := &tls.Config{RootCAs: app.ca.Pool(), ServerName: "localhost", Certificates: []tls.Certificate{cert},
		MaxVersion: tls.VersionTLS12, ClientSessionCache: tls.NewLRUClientSessionCache(1)}
	vc, err := tls.Dial("tcp", mtlsAddr, victim)
	if err != nil {
		t.Fatal(err)
	}
	mqttConnect(t, vc, "victim-device")
	vc.Close()

	// The attacker reads the list, the recording and the events, as the
	// machine's owner could (loopback): even with the key log in hand the
	// session must not resume.
	var id string
	deadline := time.Now().Add(5 * time.Second)
	for id == "" && time.Now().Before(deadline) {
		_, body := get(t, base+"/trace")
		var list broker.ConnList
		if err := json.Unmarshal(body, &list); err != nil {
			t.Fatal(err)
		}
		for _, c := range list.Connections {
			if c.Listener == "mtls" && c.PeerCN == "victim-device" && c.ClientID == "victim-device" {
				id = c.ID
			}
		}
		if id == "" {
			time.Sleep(50 * time.Millisecond)
		}
	}
	if id == "" {
		t.Fatal("the victim's connection is not listed")
	}
	_, body := get(t, base+"/trace/"+id+"/recording")
	var rec trace.Recording
	if err := json.Unmarshal(body, &rec); err != nil {
		t.Fatal(err)
	}
	var master []byte
	for _, line := range strings.Split(rec.KeyLog, "\n") {
		if f := strings.Fields(line); len(f) == 3 && f[0] == "CLIENT_RANDOM" {
			master, _ = hex.DecodeString(f[2])
		}
	}
	_, body = get(t, base+"/trace/"+id)
	var ct broker.ConnTrace
	if err := json.Unmarshal(body, &ct); err != nil {
		t.Fatal(err)
	}
	ticket := publishedTicket(t, ct.Events)
	if ticket == nil {
		t.Logf("the broker issued no TLS 1.2 session ticket on mtls: nothing to resume")
		return
	}
	if master == nil {
		t.Logf("the key log holds no TLS 1.2 master secret: nothing to resume with")
		return
	}

	// A session state of the attacker's own (from a TLS 1.2 connection to
	// mqtts, which needs no certificate) with the victim's secret put in.
	own := tls.NewLRUClientSessionCache(1)
	oc, err := tls.Dial("tcp", app.listener(t, "mqtts").Addr, &tls.Config{RootCAs: app.ca.Pool(), ServerName: "localhost", MaxVersion: tls.VersionTLS12, ClientSessionCache: own})
	if err != nil {
		t.Fatal(err)
	}
	oc.Close()
	cs, ok := own.Get("localhost")
	if !ok {
		t.Fatal("no session of the attacker's own to use as a template")
	}
	_, state, err := cs.ResumptionState()
	if err != nil {
		t.Fatal(err)
	}
	raw, err := state.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	// version(2) type(1) cipher_suite(2) created_at(8) secret<1..255>
	if int(raw[13]) != len(master) {
		t.Fatalf("template secret of %d bytes, master secret of %d", raw[13], len(master))
	}
	copy(raw[14:], master)
	forged, err := tls.ParseSessionState(raw)
	if err != nil {
		t.Fatal(err)
	}
	resume, err := tls.NewResumptionState(ticket, forged)
	if err != nil {
		t.Fatal(err)
	}
	ac, err := tls.Dial("tcp", mtlsAddr, &tls.Config{InsecureSkipVerify: true, MaxVersion: tls.VersionTLS12, ClientSessionCache: fixedSession{resume}})
	if err != nil {
		return // refused: the handshake needs a certificate
	}
	defer ac.Close()
	st := ac.ConnectionState()
	ac.SetDeadline(time.Now().Add(5 * time.Second))
	// The server may still refuse after the handshake (TLS 1.3-style
	// certificate_required arrives with the first read).
	code, err := mqttConnectCode(ac, "victim-device")
	if err == nil && code == 0 {
		t.Fatalf("impersonation: a client without a certificate resumed the victim's TLS 1.2 session (resumed %v) and was accepted as CN victim-device", st.DidResume)
	}
}

// publishedTicket returns the ticket of the first TLS 1.2 NewSessionTicket
// the broker sent, as /trace/{id} shows it, or nil.
func publishedTicket(t *testing.T, events []trace.Event) []byte {
	t.Helper()
	for _, e := range events {
		if e.Type != "NewSessionTicket" || e.Dir != trace.Send {
			continue
		}
		b, err := hex.DecodeString(e.Bytes)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range e.Fields {
			if f.Name == "ticket" && f.In != "plain" {
				v := b[f.Start:f.End]
				if len(v) >= 2 && int(v[0])<<8|int(v[1]) == len(v)-2 {
					v = v[2:] // the range holds the length prefix
				}
				return v
			}
		}
	}
	return nil
}

// mqttConnect sends an MQTT 3.1.1 CONNECT with user name user and requires
// CONNACK 0.
func mqttConnect(t *testing.T, c net.Conn, user string) {
	t.Helper()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	code, err := mqttConnectCode(c, user)
	if err != nil || code != 0 {
		t.Fatalf("CONNECT as %s: return code %d, %v", user, code, err)
	}
	c.SetDeadline(time.Time{})
}

// mqttConnectCode sends a CONNECT (client id and user name user) and reads
// the CONNACK's return code.
func mqttConnectCode(c net.Conn, user string) (byte, error) {
	var body []byte
	str := func(s string) { body = append(body, byte(len(s)>>8), byte(len(s))); body = append(body, s...) }
	str("MQTT")
	body = append(body, 4, 0x82, 0, 30) // level 4, user name + clean session, keep-alive 30 s
	str(user)
	str(user)
	pkt := append([]byte{0x10, byte(len(body))}, body...)
	if _, err := c.Write(pkt); err != nil {
		return 0, err
	}
	ack := make([]byte, 4)
	if _, err := io.ReadFull(bufio.NewReader(c), ack); err != nil {
		return 0, err
	}
	if ack[0] != 0x20 {
		return 0, fmt.Errorf("not a CONNACK: % x", ack)
	}
	return ack[3], nil
}
