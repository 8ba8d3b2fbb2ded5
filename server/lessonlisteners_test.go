package main

import (
	"context"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mqtts-playground/playground/trace"
	"github.com/mqtts-playground/playground/trace/explain"
	"github.com/mqtts-playground/playground/wasm/client"
)

// lessonCases is what a client that trusts the playground's CA and dials
// "localhost" meets on each lesson listener: the start of the error (empty:
// it connects) and words the explanation must contain.
var lessonCases = []struct {
	listener string
	cause    string
	detail   string
}{
	{"expired", "certificate has expired or is not yet valid", "has expired"},
	{"not-yet-valid", "certificate has expired or is not yet valid", "is not yet valid"},
	{"wrong-host", `certificate is not valid for "localhost"`, "it covers wrong-host.invalid"},
	{"ip-mismatch", `certificate is not valid for "localhost"`, "it covers 192.0.2.1"},
	{"self-signed", "certificate signed by unknown authority", "self-signed"},
	{"unknown-ca", "certificate signed by unknown authority", "Impostor"},
	{"missing-intermediate", "certificate signed by unknown authority", "without the intermediate"},
	{"sha1-signature", "certificate signed with an insecure algorithm", "SHA-1"},
	{"rogue-relay", "certificate signed by unknown authority", "Impostor"},
	{"weak-key", "", ""},
	{"tls12-only", "", ""},
	{"key-rsa2048", "", ""},
	{"key-ed25519", "", ""},
	{"cn-only", `certificate is not valid for "localhost"`, "its only name is in the subject's common name (CN=localhost)"},
	{"revoked", "certificate revoked", "the OCSP response the broker stapled"},
}

func TestLessonListenersNative(t *testing.T) {
	app := startApp(t, testConfig(t), false)
	if len(lessonCases) != len(lessonListenerNames()) {
		t.Fatalf("%d cases for %d lesson listeners", len(lessonCases), len(lessonListenerNames()))
	}
	for _, tt := range lessonCases {
		t.Run(tt.listener, func(t *testing.T) {
			c, _, err := dialTunnel(t, app, tt.listener, client.Options{TLS: &client.TLSOptions{ServerName: "localhost", CAPEM: string(app.ca.RootPEM())}})
			if tt.cause == "" {
				if err != nil {
					t.Fatalf("connect: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("connected to %s; want %q", tt.listener, tt.cause)
			}
			if msg := err.Error(); !strings.HasPrefix(msg, tt.cause) || !strings.Contains(msg, tt.detail) {
				t.Errorf("error %q\nwant it to start with %q and mention %q", msg, tt.cause, tt.detail)
			}
			_ = c
		})
	}
	t.Run("weak key is flagged", func(t *testing.T) {
		c, _, err := dialTunnel(t, app, "weak-key", client.Options{TLS: &client.TLSOptions{ServerName: "localhost", CAPEM: string(app.ca.RootPEM())}})
		if err != nil {
			t.Fatal(err)
		}
		var strength *client.Check
		for _, ch := range c.Checks() {
			if ch.Step == "key strength" {
				strength = &ch
			}
		}
		if strength == nil || strength.OK || !strings.Contains(strength.Detail, "RSA 1024-bit") {
			t.Errorf("key strength check %+v", strength)
		}
	})
	t.Run("tls12-only negotiates TLS 1.2 and refuses a 1.3-only client", func(t *testing.T) {
		c, _, err := dialTunnel(t, app, "tls12-only", client.Options{TLS: &client.TLSOptions{ServerName: "localhost", CAPEM: string(app.ca.RootPEM())}})
		if err != nil || c.TLSState().Version != 0x0303 {
			t.Fatalf("version %v, %v", c, err)
		}
		_, _, err = dialTunnel(t, app, "tls12-only", client.Options{TLS: &client.TLSOptions{ServerName: "localhost", CAPEM: string(app.ca.RootPEM()), MinVersion: "1.3"}})
		if err == nil || !strings.Contains(err.Error(), "protocol version") {
			t.Errorf("1.3-only client: %v", err)
		}
	})
}

// Lesson listeners are for lesson traffic only: their clients may use
// lesson/ topics and nothing else.
func TestLessonListenerTopics(t *testing.T) {
	app := startApp(t, testConfig(t), false)
	ctx := context.Background()
	c, _, err := dialTunnel(t, app, "tls12-only", client.Options{TLS: &client.TLSOptions{ServerName: "localhost", CAPEM: string(app.ca.RootPEM())}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Subscribe(ctx, "x/#", 1); err == nil || !strings.Contains(err.Error(), "refused the subscription") {
		t.Errorf("subscribe x/# on a lesson listener: %v", err)
	}
	if _, err := c.Subscribe(ctx, "lesson/#", 1); err != nil {
		t.Fatal(err)
	}
	if err := c.Publish(ctx, "lesson/a", []byte("ok"), 1, false); err != nil {
		t.Fatal(err)
	}
	if m, err := c.NextMessage(ctx); err != nil || m.Topic != "lesson/a" {
		t.Fatalf("message %+v %v", m, err)
	}
}

// The rogue relay: a client that skips verification talks to the broker
// through it, and the relay reads everything — password included — while a
// verifying client refuses it (see lessonCases).
func TestRogueRelay(t *testing.T) {
	app := startApp(t, testConfig(t), false)
	ctx := context.Background()
	c, _, err := dialTunnel(t, app, "rogue-relay", client.Options{
		ClientID: "victim", Username: "alice", Password: "s3cret-relayed",
		TLS: &client.TLSOptions{ServerName: "localhost", CAPEM: string(app.ca.RootPEM()), InsecureSkipVerify: true},
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Subscribe(ctx, "lesson/relay", 1); err != nil {
		t.Fatal(err)
	}
	if err := c.Publish(ctx, "lesson/relay", []byte("private reading"), 1, false); err != nil {
		t.Fatal(err)
	}
	if _, err := c.NextMessage(ctx); err != nil {
		t.Fatal(err)
	}
	// The relay's own recording holds the plaintext it relayed.
	var relay, real bool
	for _, info := range app.broker.Conns() {
		rec, ok := app.broker.Recording(info.ID)
		if !ok {
			continue
		}
		var seen strings.Builder
		for _, e := range trace.Decode(rec) {
			for _, f := range e.Fields {
				seen.WriteString(f.Value + "\n")
			}
		}
		switch {
		case info.Listener == "rogue-relay":
			relay = strings.Contains(seen.String(), "s3cret-relayed") && strings.Contains(seen.String(), "private reading")
		case info.Listener == "mqtts" && strings.Contains(info.Remote, "relay rogue-relay"):
			real = info.ClientID == "victim"
		}
	}
	if !relay {
		t.Error("the relay's recording does not show the password and payload it relayed")
	}
	if !real {
		t.Errorf("the broker's mqtts listener did not see the relayed session: %+v", app.broker.Conns())
	}
}

// TestLessonListenersOpenSSL pins what an OpenSSL-based client,
// mosquitto_pub, does on the lesson listeners the lessons compare with Go:
// it accepts the cn-only certificate (OpenSSL falls back to the common name
// when there is no DNS name in the subjectAltName), refuses the weak key and
// the SHA-1 signature (OpenSSL 3 at its default security level), and does
// not look at the stapled OCSP response of revoked.
func TestLessonListenersOpenSSL(t *testing.T) {
	pub := need(t, "mosquitto_pub", "apt-get install mosquitto-clients")
	app := startApp(t, testConfig(t), false)
	tests := []struct {
		listener string
		ok       bool
		say      string // in mosquitto_pub's output when it fails
	}{
		{"mqtts", true, ""},
		{"cn-only", true, ""},
		{"revoked", true, ""},
		{"weak-key", false, "certificate verify failed"},
		{"sha1-signature", false, "certificate verify failed"},
		{"wrong-host", false, "host name verification failed"},
	}
	for _, tt := range tests {
		t.Run(tt.listener, func(t *testing.T) {
			_, port, _ := net.SplitHostPort(app.listener(t, tt.listener).Addr)
			ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
			defer cancel()
			out, err := exec.CommandContext(ctx, pub, "-h", "localhost", "-p", port, "--cafile", app.caFile(),
				"-t", "lesson/openssl/"+tt.listener, "-m", "hello", "-d").CombinedOutput()
			t.Logf("%s: %v\n%s", tt.listener, err, out)
			if (err == nil) != tt.ok || !strings.Contains(string(out), tt.say) {
				t.Errorf("mosquitto_pub on %s: error %v, want success %v and %q in its output", tt.listener, err, tt.ok, tt.say)
			}
		})
	}
}

// logLines collects what the app logs, for tests that read it.
type logLines struct {
	mu    sync.Mutex
	lines []string
}

func (l *logLines) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, strings.Split(strings.TrimSpace(string(p)), "\n")...)
	return len(p), nil
}

// about returns the lines with attribute listener=name.
func (l *logLines) about(name string) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for _, s := range l.lines {
		if strings.Contains(s, " listener="+name+" ") || strings.Contains(s, ` listener="`+name+`"`) {
			out = append(out, s)
		}
	}
	return out
}

// faultAttr is the fault attribute of a log line.
var faultAttr = regexp.MustCompile(` fault="([^"]*)"`)

// The broker's log line of a handshake on each lesson listener names that
// listener's own fault, and gives its advice rather than the generic
// "give the client the broker's CA".
func TestLessonListenerLogNamesFault(t *testing.T) {
	var logs logLines
	cfg := testConfig(t)
	app, err := newApp(cfg, nil, slog.New(slog.NewTextHandler(io.MultiWriter(&logs, testLogWriter{t}), nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { app.Close() })
	if len(explain.Faults) != len(lessonListenerNames()) {
		t.Fatalf("%d faults for %d lesson listeners", len(explain.Faults), len(lessonListenerNames()))
	}
	for _, tt := range lessonCases {
		t.Run(tt.listener, func(t *testing.T) {
			own, ok := explain.LessonFault(tt.listener)
			if !ok {
				t.Fatalf("no fault for %s", tt.listener)
			}
			if l := app.listener(t, tt.listener); l.Fault == nil || *l.Fault != own {
				t.Errorf("GET /healthz gives %s the fault %+v, want %+v", tt.listener, l.Fault, own)
			}
			dialTunnel(t, app, tt.listener, client.Options{TLS: &client.TLSOptions{ServerName: "localhost", CAPEM: string(app.ca.RootPEM())}})
			var lines []string
			deadline := time.Now().Add(5 * time.Second)
			for len(lines) == 0 && time.Now().Before(deadline) {
				time.Sleep(20 * time.Millisecond)
				lines = logs.about(tt.listener)
			}
			if len(lines) == 0 {
				t.Fatalf("the broker logged nothing about %s", tt.listener)
			}
			line := lines[0]
			if m := faultAttr.FindStringSubmatch(line); m == nil || m[1] != own.What {
				t.Errorf("log line does not name the fault %q:\n%s", own.What, line)
			}
			if !strings.Contains(line, own.Advice) {
				t.Errorf("log line lacks the fault's advice %q:\n%s", own.Advice, line)
			}
			if tt.cause != "" && (!strings.Contains(line, "TLS handshake failed") || strings.Contains(line, "Most often the client does not have the broker's CA")) {
				t.Errorf("a refused handshake logged with the generic advice:\n%s", line)
			}
		})
	}
}

// The README's table of lesson listeners lists every one, in the order
// they get their ports.
func TestReadmeListsLessonListeners(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	row := regexp.MustCompile("(?m)^\\| `([a-z0-9-]+)` \\| .* \\| .* \\|$")
	var listed []string
	_, table, _ := strings.Cut(string(readme), "## Lesson listeners")
	table, _, _ = strings.Cut(table, "\n## ")
	for _, m := range row.FindAllStringSubmatch(table, -1) {
		listed = append(listed, m[1])
	}
	if want := lessonListenerNames(); !slices.Equal(listed, want) {
		t.Errorf("README lists the lesson listeners %v, want %v", listed, want)
	}
}
