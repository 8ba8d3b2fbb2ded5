package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/eclipse/paho.golang/paho"
	pahomqtt "github.com/eclipse/paho.mqtt.golang"
	"github.com/mqtts-playground/playground/broker/brokertest"
	"github.com/mqtts-playground/playground/broker/pki"
	"github.com/mqtts-playground/playground/trace"
)

// clientTLS is what a device needs to reach a listener of app: the CA and,
// for mutual TLS, a client certificate issued by the local CA.
func clientTLS(t *testing.T, app *App, withCert bool) *tls.Config {
	t.Helper()
	cfg := &tls.Config{RootCAs: app.ca.Pool(), ServerName: "localhost"}
	if withCert {
		cert, err := app.ca.Issue(pki.Leaf{CommonName: "device-1"})
		if err != nil {
			t.Fatal(err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	return cfg
}

// pahoV5 runs a publish/subscribe round trip with eclipse/paho.golang (MQTT 5).
func pahoV5(t *testing.T, addr string, tlsCfg *tls.Config) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var conn net.Conn
	var err error
	if tlsCfg != nil {
		conn, err = (&tls.Dialer{Config: tlsCfg}).DialContext(ctx, "tcp", addr)
	} else {
		conn, err = net.Dial("tcp", addr)
	}
	if err != nil {
		return err
	}
	got := make(chan string, 10)
	c := paho.NewClient(paho.ClientConfig{Conn: conn, OnPublishReceived: []func(paho.PublishReceived) (bool, error){
		func(p paho.PublishReceived) (bool, error) {
			got <- string(p.Packet.Payload)
			return true, nil
		},
	}})
	ack, err := c.Connect(ctx, &paho.Connect{ClientID: "paho-v5-" + t.Name(), CleanStart: true, KeepAlive: 30})
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	if ack.ReasonCode != 0 {
		return fmt.Errorf("CONNACK reason %d", ack.ReasonCode)
	}
	defer c.Disconnect(&paho.Disconnect{})
	if _, err := c.Subscribe(ctx, &paho.Subscribe{Subscriptions: []paho.SubscribeOptions{{Topic: "x/v5/#", QoS: 1}}}); err != nil {
		return fmt.Errorf("subscribe: %w", err)
	}
	if _, err := c.Publish(ctx, &paho.Publish{Topic: "x/v5/a", QoS: 1, Payload: []byte("v5 " + addr)}); err != nil {
		return fmt.Errorf("publish: %w", err)
	}
	select {
	case p := <-got:
		if p != "v5 "+addr {
			return fmt.Errorf("payload %q", p)
		}
		return nil
	case <-ctx.Done():
		return fmt.Errorf("no message: %w", ctx.Err())
	}
}

// pahoV311 runs the same round trip with paho.mqtt.golang (MQTT 3.1.1).
func pahoV311(t *testing.T, url string, tlsCfg *tls.Config) error {
	opts := pahomqtt.NewClientOptions().AddBroker(url).SetClientID("paho-311-" + t.Name()).
		SetProtocolVersion(4).SetConnectTimeout(5 * time.Second).SetAutoReconnect(false).SetConnectRetry(false)
	if tlsCfg != nil {
		opts.SetTLSConfig(tlsCfg)
	}
	c := pahomqtt.NewClient(opts)
	if tok := c.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		return fmt.Errorf("connect: %v", tok.Error())
	}
	defer c.Disconnect(100)
	got := make(chan string, 10)
	if tok := c.Subscribe("x/v311/#", 1, func(_ pahomqtt.Client, m pahomqtt.Message) { got <- string(m.Payload()) }); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		return fmt.Errorf("subscribe: %v", tok.Error())
	}
	if tok := c.Publish("x/v311/a", 1, false, "v311 "+url); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		return fmt.Errorf("publish: %v", tok.Error())
	}
	select {
	case p := <-got:
		if p != "v311 "+url {
			return fmt.Errorf("payload %q", p)
		}
		return nil
	case <-time.After(5 * time.Second):
		return fmt.Errorf("no message")
	}
}

func TestGoClients(t *testing.T) {
	app := startApp(t, testConfig(t), false)
	addr := func(name string) string { return app.listener(t, name).Addr }
	tests := []struct {
		name     string
		listener string
		scheme   string
		tls      *tls.Config
		wantErr  string
	}{
		{"plain", "mqtt", "tcp", nil, ""},
		{"tls", "mqtts", "ssl", clientTLS(t, app, false), ""},
		{"mtls with certificate", "mtls", "ssl", clientTLS(t, app, true), ""},
		{"mtls without certificate", "mtls", "ssl", clientTLS(t, app, false), certificateRequired},
		{"tls without the CA", "mqtts", "ssl", &tls.Config{ServerName: "localhost"}, "certificate signed by unknown authority"},
	}
	for _, tt := range tests {
		t.Run(tt.name+" v5", func(t *testing.T) {
			checkErr(t, pahoV5(t, addr(tt.listener), tt.tls), tt.wantErr)
		})
		t.Run(tt.name+" v3.1.1", func(t *testing.T) {
			checkErr(t, pahoV311(t, tt.scheme+"://"+addr(tt.listener), tt.tls), tt.wantErr)
		})
	}
	t.Run("websocket v3.1.1", func(t *testing.T) {
		checkErr(t, pahoV311(t, "ws://"+app.httpAddr+"/mqtt", nil), "")
	})
}

// certificateRequired, as a wanted error, stands for the broker's refusal
// of a client without a certificate on mtls. In TLS 1.3 the client has
// finished its handshake before the broker checks the client's (empty)
// Certificate message; the broker then sends the alert "certificate
// required" (116, RFC 8446 §4.4.2.4) and closes. Go returns that alert from
// the client's next read as a *net.OpError, "remote error: tls: certificate
// required" (TestMTLSWithoutCertificate pins it). A library that writes its
// CONNECT after the broker closed, before it reads, fails on that write
// instead: broken pipe, or connection reset by peer.
const certificateRequired = "remote error: tls: certificate required"

func checkErr(t *testing.T, err error, want string) {
	t.Helper()
	switch {
	case want == "":
		if err != nil {
			t.Fatalf("unexpected error: %v", err)
		}
	case err == nil:
		t.Fatalf("no error, want one containing %q", want)
	case want == certificateRequired:
		if msg := err.Error(); !strings.Contains(msg, want) && !strings.HasSuffix(msg, "write: broken pipe") && !strings.HasSuffix(msg, "write: connection reset by peer") {
			t.Fatalf("error %q, want the alert %q, or a failed write on the connection the broker closed after sending it", err, want)
		}
	case !strings.Contains(err.Error(), want):
		t.Fatalf("error %q, want one containing %q", err, want)
	}
}

// TestMTLSWithoutCertificate pins what a Go client meets on the mtls
// listener without a certificate: a TLS 1.3 handshake that succeeds from
// its side, then the alert "certificate required" at its first read, and
// the broker's record of why.
func TestMTLSWithoutCertificate(t *testing.T) {
	app := startApp(t, testConfig(t), false)
	c, err := tls.Dial("tcp", app.listener(t, "mtls").Addr, clientTLS(t, app, false))
	if err != nil {
		t.Fatalf("handshake: %v, want it to succeed from the client's side (TLS 1.3)", err)
	}
	defer c.Close()
	if v := c.ConnectionState().Version; v != tls.VersionTLS13 {
		t.Fatalf("TLS version %x, want TLS 1.3", v)
	}
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	_, err = c.Read(make([]byte, 1))
	var op *net.OpError
	if !errors.As(err, &op) || op.Op != "remote error" || op.Err == nil || op.Err.Error() != "tls: certificate required" || err.Error() != certificateRequired {
		t.Fatalf("first read: %#v (%v), want *net.OpError{Op: \"remote error\"} carrying alert 116, %q", err, err, certificateRequired)
	}
	local := c.LocalAddr().String()
	brokertest.WaitFor(t, 10*time.Second, "the broker's record of the refused connection", func() bool {
		for _, ci := range app.broker.Conns() {
			if ci.Remote == local && !ci.Ended.IsZero() {
				if want := "the client sent no certificate: this listener requires one (mutual TLS)"; ci.Listener != "mtls" || ci.Err != want {
					t.Fatalf("broker's record %+v, want listener mtls, error %q", ci, want)
				}
				return true
			}
		}
		return false
	})
}

// need returns the path of a command the test needs, failing (not
// skipping) with the install step when it is missing.
func need(t *testing.T, cmd, install string) string {
	t.Helper()
	p, err := exec.LookPath(cmd)
	if err != nil {
		t.Fatalf("%s is not installed: %s (.ci/run does this)", cmd, install)
	}
	return p
}

// mosquittoSub starts mosquitto_sub for count messages on filter over the
// mqtts listener and returns a function that waits for its output.
func mosquittoSub(t *testing.T, app *App, filter string, count int) func() string {
	t.Helper()
	bin := need(t, "mosquitto_sub", "apt-get install mosquitto-clients")
	host, port, _ := net.SplitHostPort(app.listener(t, "mqtts").Addr)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	var out bytes.Buffer
	id := fmt.Sprintf("mosquitto-sub-%d", time.Now().UnixNano())
	cmd := exec.CommandContext(ctx, bin, "-h", host, "-p", port, "--cafile", app.caFile(), "-i", id, "-t", filter, "-v", "-C", fmt.Sprint(count))
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waitSubscribed(t, app, id)
	return func() string {
		defer cancel()
		if err := cmd.Wait(); err != nil {
			t.Fatalf("mosquitto_sub: %v\n%s", err, out.String())
		}
		return out.String()
	}
}

// waitSubscribed waits until the broker's trace of client id's connection
// shows the SUBACK it sent.
func waitSubscribed(t *testing.T, app *App, id string) {
	t.Helper()
	brokertest.WaitFor(t, 10*time.Second, fmt.Sprintf("client %q to subscribe", id), func() bool {
		for _, c := range app.broker.Conns() {
			if c.ClientID != id {
				continue
			}
			rec, _ := app.broker.Recording(c.ID)
			for _, e := range trace.Decode(rec) {
				if e.Type == "SUBACK" {
					return true
				}
			}
		}
		return false
	})
}

func mosquittoPub(t *testing.T, app *App, topic, msg string, extra ...string) {
	t.Helper()
	bin := need(t, "mosquitto_pub", "apt-get install mosquitto-clients")
	host, port, _ := net.SplitHostPort(app.listener(t, "mqtts").Addr)
	args := append([]string{"-h", host, "-p", port, "--cafile", app.caFile(), "-t", topic, "-m", msg, "-q", "1"}, extra...)
	if out, err := exec.Command(bin, args...).CombinedOutput(); err != nil {
		t.Fatalf("mosquitto_pub: %v\n%s", err, out)
	}
}

func TestMosquittoInterop(t *testing.T) {
	app := startApp(t, testConfig(t), false)
	wait := mosquittoSub(t, app, "x/cli/#", 1)
	mosquittoPub(t, app, "x/cli/a", "hello from mosquitto_pub")
	if out := wait(); !strings.Contains(out, "x/cli/a hello from mosquitto_pub") {
		t.Errorf("mosquitto_sub printed:\n%s", out)
	}

	// Mutual TLS with a certificate from the local CA, as files.
	cert, err := app.ca.Issue(pki.Leaf{CommonName: "cli-device"})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	var chain []*x509.Certificate
	for _, der := range cert.Certificate {
		c, _ := x509.ParseCertificate(der)
		chain = append(chain, c)
	}
	keyPEM, _ := pki.KeyPEM(cert.PrivateKey.(*ecdsa.PrivateKey))
	os.WriteFile(filepath.Join(dir, "c.pem"), pki.CertPEM(chain...), 0o644)
	os.WriteFile(filepath.Join(dir, "c.key"), keyPEM, 0o600)
	host, port, _ := net.SplitHostPort(app.listener(t, "mtls").Addr)
	bin := need(t, "mosquitto_pub", "apt-get install mosquitto-clients")
	base := []string{"-h", host, "-p", port, "--cafile", app.caFile(), "-t", "x/mtls", "-m", "hi"}
	if out, err := exec.Command(bin, append(base, "--cert", filepath.Join(dir, "c.pem"), "--key", filepath.Join(dir, "c.key"))...).CombinedOutput(); err != nil {
		t.Errorf("mosquitto_pub with a client certificate: %v\n%s", err, out)
	}
	if out, err := exec.Command(bin, base...).CombinedOutput(); err == nil {
		t.Errorf("mosquitto_pub without a client certificate was accepted on mtls:\n%s", out)
	}
}
