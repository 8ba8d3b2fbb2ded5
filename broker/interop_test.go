package broker_test

// Interop with the clients people bring, each over TLS trusting the
// broker's CA, as the README tells them to connect: MQTT.js 5 (Node.js),
// Eclipse Paho for Python and mosquitto's command-line clients. Each one
// connects, subscribes and receives, publishes at QoS 1 with a User
// Property (the broker's PUBACK must satisfy it), and leaves without a
// DISCONNECT, so that the broker sends its will. A client that is not
// installed fails the test with what to install.

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/eclipse/paho.golang/paho"
	"github.com/mqtts-playground/playground/broker"
	"github.com/mqtts-playground/playground/broker/brokertest"
	"github.com/mqtts-playground/playground/internal/nodejs"
)

// interopBroker runs a broker with a plain listener "mqtt" (for the test's
// own watcher) and a TLS listener "mqtts"; it returns the CA file clients
// trust.
func interopBroker(t *testing.T) (*broker.Broker, string) {
	t.Helper()
	p := brokertest.NewPKI(t)
	b := brokertest.NewBroker(t, broker.Options{})
	for _, l := range []broker.Listener{{Name: "mqtt", Addr: "127.0.0.1:0"}, {Name: "mqtts", Addr: "127.0.0.1:0", TLS: p.ServerTLS(tls.NoClientCert)}} {
		if err := b.Add(l); err != nil {
			t.Fatal(err)
		}
	}
	return b, writeFile(t, "ca.pem", p.CA.RootPEM())
}

// watch subscribes a Paho (Go) client to prefix/# on the plain listener.
func watch(t *testing.T, b *broker.Broker, prefix string) *v5 {
	t.Helper()
	w := connectV5(t, dial(t, brokertest.Addr(t, b, "mqtt")), &paho.Connect{ClientID: strings.ReplaceAll(prefix, "/", "-") + "-watcher", CleanStart: true})
	w.subscribe(t, prefix+"/#", 1)
	return w
}

// expectMessage waits for a message on topic and checks its payload and,
// when user is set, that it carries that User Property.
func expectMessage(t *testing.T, w *v5, topic, payload string, user *paho.UserProperty) {
	t.Helper()
	m := w.next(t)
	if m.Topic != topic || string(m.Payload) != payload {
		t.Fatalf("got %s %q, want %s %q", m.Topic, m.Payload, topic, payload)
	}
	if user != nil && (m.Properties == nil || m.Properties.User.Get(user.Key) != user.Value) {
		t.Errorf("%s: user properties %+v, want %s=%s", topic, m.Properties, user.Key, user.Value)
	}
}

// scriptStep is one JSON line a client script prints.
type scriptStep struct {
	Step       string            `json:"step"`
	OK         bool              `json:"ok"`
	Error      string            `json:"error"`
	Topic      string            `json:"topic"`
	Payload    string            `json:"payload"`
	User       map[string]string `json:"user"`
	ReasonCode int               `json:"reasonCode"`
}

// runScript runs a client script to its end and returns its steps by name.
func runScript(t *testing.T, name string, args ...string) map[string]scriptStep {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*patience)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	steps := map[string]scriptStep{}
	for line := range strings.Lines(string(out)) {
		var s scriptStep
		if json.Unmarshal([]byte(line), &s) != nil {
			continue
		}
		if s.Error != "" {
			t.Errorf("%s: step %s: %s", filepath.Base(args[0]), s.Step, s.Error)
		}
		steps[s.Step] = s
	}
	if err != nil {
		t.Errorf("%s %s: %v\nstdout:\n%s\nstderr:\n%s", name, strings.Join(args, " "), err, out, stderr.String())
	}
	for _, want := range []string{"connect", "subscribe", "puback", "receive", "cut"} {
		if !steps[want].OK {
			t.Fatalf("%s: step %q did not succeed\nstdout:\n%s\nstderr:\n%s", filepath.Base(args[0]), want, out, stderr.String())
		}
	}
	return steps
}

// The pinned MQTT.js version lives in testdata/mqttjs/package.json (and
// its package-lock.json); npm ci installs it into testdata/mqttjs/node_modules
// (ignored by git) when that holds another version or none.
func mqttJS(t *testing.T) (node, script string) {
	t.Helper()
	node = nodejs.Path(t)
	dir, err := filepath.Abs(filepath.Join("testdata", "mqttjs"))
	if err != nil {
		t.Fatal(err)
	}
	var pkg struct {
		Dependencies map[string]string `json:"dependencies"`
	}
	data, err := os.ReadFile(filepath.Join(dir, "package.json"))
	if err == nil {
		err = json.Unmarshal(data, &pkg)
	}
	if err != nil {
		t.Fatal(err)
	}
	var installed struct {
		Version string `json:"version"`
	}
	if data, err := os.ReadFile(filepath.Join(dir, "node_modules", "mqtt", "package.json")); err == nil {
		json.Unmarshal(data, &installed)
	}
	if installed.Version != pkg.Dependencies["mqtt"] {
		npm, err := exec.LookPath("npm")
		if err != nil {
			t.Fatal("npm not found: install it (apt-get install npm; scripts/install-test-deps.sh does)")
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, npm, "ci", "--prefer-offline", "--no-audit", "--no-fund")
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("npm ci in %s (installs MQTT.js %s from the npm registry): %v\n%s", dir, pkg.Dependencies["mqtt"], err, out)
		}
	}
	return node, filepath.Join(dir, "interop.mjs")
}

// pythonPaho finds a Python that has paho-mqtt: the one in PATH, or
// Debian's, which python3-paho-mqtt serves.
func pythonPaho(t *testing.T) string {
	t.Helper()
	for _, py := range []string{"python3", "/usr/bin/python3"} {
		path, err := exec.LookPath(py)
		if err != nil {
			continue
		}
		if exec.Command(path, "-c", "import paho.mqtt.client").Run() == nil {
			return path
		}
	}
	t.Fatal("no python3 with paho-mqtt: install python3-paho-mqtt (apt-get install python3-paho-mqtt; scripts/install-test-deps.sh does)")
	return ""
}

func TestInteropMQTTJS(t *testing.T) {
	node, script := mqttJS(t)
	b, ca := interopBroker(t)
	prefix := "interop/mqttjs"
	w := watch(t, b, prefix)
	steps := runScript(t, node, script, "mqtts://localhost:"+port(t, b, "mqtts"), ca, prefix)
	checkScript(t, w, steps, prefix, "hello from MQTT.js", "mqttjs gone")
	if rc := steps["puback"].ReasonCode; rc != 0 {
		t.Errorf("PUBACK reason code %#x, want 0x00", rc)
	}
}

func TestInteropPahoPython(t *testing.T) {
	py := pythonPaho(t)
	b, ca := interopBroker(t)
	prefix := "interop/paho"
	w := watch(t, b, prefix)
	script, err := filepath.Abs(filepath.Join("testdata", "paho", "interop.py"))
	if err != nil {
		t.Fatal(err)
	}
	steps := runScript(t, py, script, "localhost", port(t, b, "mqtts"), ca, prefix)
	checkScript(t, w, steps, prefix, "hello from paho", "paho gone")
}

// checkScript checks what a client script saw and what the watcher saw:
// the client's message with its User Property, on both sides, then the
// client's will.
func checkScript(t *testing.T, w *v5, steps map[string]scriptStep, prefix, hello, will string) {
	t.Helper()
	if r := steps["receive"]; r.Topic != prefix+"/echo" || r.Payload != hello || r.User["trace-id"] != "42" {
		t.Errorf("the client received %+v, want its own message with trace-id=42", r)
	}
	expectMessage(t, w, prefix+"/echo", hello, &paho.UserProperty{Key: "trace-id", Value: "42"})
	expectMessage(t, w, prefix+"/will", will, nil)
}

func TestInteropMosquittoClients(t *testing.T) {
	b, ca := interopBroker(t)
	prefix := "interop/mosq"
	w := watch(t, b, prefix)
	overTLS := []string{"-h", "localhost", "-p", port(t, b, "mqtts"), "--cafile", ca, "-V", "5"}

	t.Run("publish QoS 1 with a User Property", func(t *testing.T) {
		args := append(slices.Clone(overTLS), "-q", "1", "-t", prefix+"/echo", "-m", "hello from mosquitto_pub", "-D", "publish", "user-property", "trace-id", "42", "-d")
		out := run(t, "mosquitto-clients", "", "mosquitto_pub", args...)
		if !strings.Contains(out, "received PUBACK") || strings.Contains(out, "Error") {
			t.Errorf("mosquitto_pub %s:\n%s", strings.Join(args, " "), out)
		}
		expectMessage(t, w, prefix+"/echo", "hello from mosquitto_pub", &paho.UserProperty{Key: "trace-id", Value: "42"})
	})

	t.Run("subscribe and receive", func(t *testing.T) {
		sub := startClient(t, "mosquitto_sub", append(slices.Clone(overTLS), "-i", "interop-mosq-sub", "-q", "1", "-t", prefix+"/to-sub", "-C", "1", "-F", "payload=%p")...)
		sessionUp(t, b, "interop-mosq-sub")
		pub := connectV5(t, dial(t, brokertest.Addr(t, b, "mqtt")), &paho.Connect{ClientID: "interop-mosq-pub", CleanStart: true})
		// Its SUBSCRIBE follows the CONNACK: publish until it has one.
		for deadline := time.Now().Add(patience); !sub.exited() && time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
			pub.publish(t, &paho.Publish{Topic: prefix + "/to-sub", QoS: 1, Payload: []byte("for mosquitto_sub")})
		}
		if out := sub.output(t); !strings.Contains(out, "payload=for mosquitto_sub") {
			t.Errorf("mosquitto_sub printed:\n%s", out)
		}
	})

	t.Run("will on abnormal disconnect", func(t *testing.T) {
		sub := startClient(t, "mosquitto_sub", append(slices.Clone(overTLS), "-i", "interop-mosq-will", "-t", prefix+"/quiet",
			"--will-topic", prefix+"/will", "--will-payload", "mosquitto gone", "--will-qos", "1")...)
		sessionUp(t, b, "interop-mosq-will")
		sub.cmd.Process.Kill() // no DISCONNECT: the system closes the socket
		for {
			m := w.next(t)
			if m.Topic == prefix+"/to-sub" {
				continue // left over from the test before
			}
			if m.Topic != prefix+"/will" || string(m.Payload) != "mosquitto gone" {
				t.Fatalf("got %s %q, want the will", m.Topic, m.Payload)
			}
			break
		}
	})
}

// sessionUp waits until the broker has accepted the CONNECT of clientID.
func sessionUp(t *testing.T, b *broker.Broker, clientID string) {
	t.Helper()
	brokertest.WaitFor(t, patience, clientID+"'s session", func() bool {
		ci, ok := b.Find(clientID)
		return ok && ci.Ended.IsZero()
	})
}

// client is a command-line client running in the background.
type client struct {
	cmd  *exec.Cmd
	out  bytes.Buffer
	done chan struct{} // closed when it has exited
}

// startClient starts name (from mosquitto-clients) with args; it is killed
// when the test ends.
func startClient(t *testing.T, name string, args ...string) *client {
	t.Helper()
	if _, err := exec.LookPath(name); err != nil {
		t.Fatalf("%s not found: install mosquitto-clients (apt-get install mosquitto-clients)", name)
	}
	c := &client{cmd: exec.Command(name, args...), done: make(chan struct{})}
	c.cmd.Stdout, c.cmd.Stderr = &c.out, &c.out
	if err := c.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		c.cmd.Wait()
		close(c.done)
	}()
	t.Cleanup(func() {
		c.cmd.Process.Kill()
		<-c.done
	})
	return c
}

// exited reports whether the client has ended.
func (c *client) exited() bool {
	select {
	case <-c.done:
		return true
	default:
		return false
	}
}

// output waits for the client to end (at most patience) and returns what
// it printed.
func (c *client) output(t *testing.T) string {
	t.Helper()
	select {
	case <-c.done:
	case <-time.After(patience):
		c.cmd.Process.Kill()
		<-c.done
		t.Errorf("%s did not end", c.cmd.Path)
	}
	return c.out.String()
}
