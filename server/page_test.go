package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/mqtts-playground/playground/broker"
)

func TestIndexPage(t *testing.T) {
	app := startApp(t, testConfig(t), true)
	resp, body := get(t, "http://"+app.httpAddr+"/")
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("status %d type %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	doc, err := goquery.NewDocumentFromReader(bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"controls", "listener", "demo", "connect", "subscribe", "publish", "status", "checks", "messages", "trace", "cli"} {
		if doc.Find(`[data-testid="`+id+`"]`).Length() != 1 {
			t.Errorf("page has no single data-testid=%q", id)
		}
	}
	var names []string
	doc.Find(`[data-testid="listener"] option`).Each(func(_ int, s *goquery.Selection) { names = append(names, s.AttrOr("value", "")) })
	if strings.Join(names, ",") != "cn-only,expired,ip-mismatch,key-ed25519,key-rsa2048,missing-intermediate,mqtt,mqtts,mtls,not-yet-valid,revoked,rogue-relay,self-signed,sha1-signature,tls12-only,unknown-ca,weak-key,wrong-host,ws" {
		t.Errorf("listener options %v", names)
	}
	cli := doc.Find(`[data-testid="cli"] code`).Text()
	host, port := "127.0.0.1", app.listener(t, "mqtts").Addr[len("127.0.0.1:"):]
	if want := "curl -O http://" + app.httpAddr + "/ca.pem\nmosquitto_sub -h " + host + " -p " + port + " --cafile ca.pem"; !strings.Contains(cli, want) {
		t.Errorf("CLI hint %q lacks %q", cli, want)
	}
	if strings.Contains(string(body), app.caFile()) {
		t.Error("the page names the CA file's path on the server's disk")
	}
	// The listener table: every listener, lesson listeners by their fault.
	rows := map[string]string{}
	doc.Find(`[data-testid="listener-info"]`).Each(func(_ int, s *goquery.Selection) {
		rows[s.AttrOr("data-name", "")] = s.Find("td").Eq(2).Text()
	})
	if len(rows) != len(names) || rows["expired"] != "expired certificate" || rows["mtls"] == "" {
		t.Errorf("listener table %v", rows)
	}
	// The script, style and wasm URLs it names are served, with the right types.
	script := doc.Find("script[data-wasm]")
	for url, typ := range map[string]string{
		script.AttrOr("src", ""):                              "text/javascript; charset=utf-8",
		script.AttrOr("data-wasm", ""):                        "application/wasm",
		doc.Find(`link[rel="stylesheet"]`).AttrOr("href", ""): "text/css; charset=utf-8",
	} {
		req, _ := http.NewRequest("GET", "http://"+app.httpAddr+url, nil)
		req.Header.Set("Accept-Encoding", "gzip")
		res, err := http.DefaultTransport.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != 200 || res.Header.Get("Content-Type") != typ || res.Header.Get("Content-Encoding") != "gzip" {
			t.Errorf("GET %s: %d %q %q", url, res.StatusCode, res.Header.Get("Content-Type"), res.Header.Get("Content-Encoding"))
		}
	}
}

func TestConfig(t *testing.T) {
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want func(Config) string // "" when right, else what is wrong
		err  string
	}{
		{name: "defaults", want: func(c Config) string {
			if c.HTTP != "127.0.0.1:8080" || c.HTTPS != "127.0.0.1:8443" || c.MQTT != "127.0.0.1:1883" || c.MQTTS != "127.0.0.1:8883" || c.MTLS != "127.0.0.1:8884" || c.ListenAll {
				return "loopback defaults expected"
			}
			if !strings.HasSuffix(c.Data, "mqtts-playground") {
				return "data folder " + c.Data
			}
			return ""
		}},
		{name: "env sets", env: map[string]string{"PLAYGROUND_MQTTS": "127.0.0.1:9999", "PLAYGROUND_DATA": "/tmp/x", "PLAYGROUND_LISTEN_ALL": "true"}, want: func(c Config) string {
			if c.MQTTS != "127.0.0.1:9999" || c.Data != "/tmp/x" || !c.ListenAll || c.HTTP != ":8080" {
				return "env not applied"
			}
			return ""
		}},
		{name: "flag beats env", args: []string{"--mqtts", "127.0.0.1:7777"}, env: map[string]string{"PLAYGROUND_MQTTS": "127.0.0.1:9999"}, want: func(c Config) string {
			if c.MQTTS != "127.0.0.1:7777" {
				return "flag lost to env"
			}
			return ""
		}},
		{name: "listen-all keeps explicit addresses", args: []string{"--listen-all", "--mqtt", "127.0.0.1:1883", "--https", "off"}, want: func(c Config) string {
			if c.MQTT != "127.0.0.1:1883" || c.MQTTS != ":8883" || c.HTTP != ":8080" || c.HTTPS != "off" {
				return "wrong addresses"
			}
			return ""
		}},
		{name: "san list", args: []string{"--san", "a.example,10.0.0.1", "--san", "b.example"}, want: func(c Config) string {
			if strings.Join(c.SANs, " ") != "a.example 10.0.0.1 b.example" {
				return "sans " + strings.Join(c.SANs, " ")
			}
			return ""
		}},
		{name: "broker limits", args: []string{"--max-packet-size", "4096", "--session-expiry", "10m", "--session-queue", "50", "--session-queue-bytes", "0", "--retained-bytes", "1000"},
			env: map[string]string{"PLAYGROUND_MAX_CONNS_PER_ADDR": "7"}, want: func(c Config) string {
				// 0 turns a limit off: the broker's negative.
				got := c.brokerOptions(nil)
				got.TraceLimit = 0
				if got != (broker.Options{MaxPacketSize: 4096, SessionExpiry: 10 * time.Minute, SessionQueue: 50, SessionQueueBytes: -1, RetainedBytes: 1000, ConnsPerAddr: 7}) {
					return "wrong broker options"
				}
				return ""
			}},
		{name: "broker limit defaults", want: func(c Config) string {
			if c.MaxPacketSize != broker.DefaultMaxPacketSize || c.SessionExpiry != broker.DefaultSessionExpiry || c.SessionQueue != broker.DefaultSessionQueue ||
				c.SessionQueueBytes != broker.DefaultSessionQueueBytes || c.RetainedBytes != broker.DefaultRetainedBytes || c.MaxConnsPerAddr != broker.DefaultConnsPerAddr {
				return "limits are not the broker's defaults"
			}
			return ""
		}},
		{name: "upstreams", args: []string{"--upstream", "home=broker.example:8883,plain=mqtt://10.0.0.5:1883", "--upstream", "cloud=mqtts://iot.example:443"},
			env: map[string]string{"PLAYGROUND_UPSTREAM": "ignored=x:1"}, want: func(c Config) string {
				want := []Upstream{{"home", "broker.example:8883", true}, {"plain", "10.0.0.5:1883", false}, {"cloud", "iot.example:443", true}}
				if !slices.Equal(c.Upstreams, want) {
					return "upstreams"
				}
				return ""
			}},
		{name: "upstream from env", env: map[string]string{"PLAYGROUND_UPSTREAM": "lab=[::1]:8883"}, want: func(c Config) string {
			if !slices.Equal(c.Upstreams, []Upstream{{"lab", "[::1]:8883", true}}) {
				return "upstreams"
			}
			return ""
		}},
		{name: "upstream without name", args: []string{"--upstream", "broker.example:8883"}, err: "want NAME=HOST:PORT"},
		{name: "upstream bad name", args: []string{"--upstream", "my broker=h:1"}, err: "a name is letters"},
		{name: "upstream without port", args: []string{"--upstream", "home=broker.example"}, err: `"broker.example" is not HOST:PORT`},
		{name: "upstreams file missing", args: []string{"--upstreams", "/nonexistent/upstreams"}, err: "--upstreams: open /nonexistent/upstreams"},
		{name: "negative limit", args: []string{"--session-queue", "-3"}, err: "--session-queue must not be negative"},
		{name: "bad duration", args: []string{"--session-expiry", "soon"}, err: "session-expiry"},
		{name: "bad address", args: []string{"--mqtts", "8883"}, err: `--mqtts "8883" is not host:port`},
		{name: "bad env", env: map[string]string{"PLAYGROUND_TRACE_LIMIT": "lots"}, err: `PLAYGROUND_TRACE_LIMIT="lots"`},
		{name: "cert without key", args: []string{"--tls-cert", "c.pem"}, err: "--tls-cert and --tls-key go together"},
		{name: "stray argument", args: []string{"serve"}, err: `unexpected argument "serve"`},
		{name: "allow-origin list", args: []string{"--allow-origin", "https://docs.example.com"}, env: map[string]string{"PLAYGROUND_ALLOW_ORIGIN": "http://x.example"},
			want: func(c Config) string {
				if strings.Join(c.AllowOrigins, " ") != "https://docs.example.com" {
					return "origins " + strings.Join(c.AllowOrigins, " ")
				}
				return ""
			}},
		{name: "allow-origin with a path", args: []string{"--allow-origin", "https://docs.example.com/guide"}, err: "--allow-origin: origin \"https://docs.example.com/guide\": only a scheme, a host and a port"},
		{name: "allow-origin wildcard", args: []string{"--allow-origin", "*"}, err: "want http:// or https://"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			c, err := parseConfig(tt.args, func(k string) string { return tt.env[k] }, &out)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("error %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if msg := tt.want(c); msg != "" {
				t.Errorf("%s: %+v", msg, c)
			}
		})
	}
}

func TestHelp(t *testing.T) {
	var out bytes.Buffer
	_, err := parseConfig([]string{"--help"}, func(string) string { return "" }, &out)
	if !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("error %v", err)
	}
	for _, want := range []string{"--data FOLDER  [PLAYGROUND_DATA]", "--listen-all  [PLAYGROUND_LISTEN_ALL]", "--mtls HOST:PORT", "--tls-cert FILE", "--session-expiry DURATION", "--build-static FOLDER", "go run ./server"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("--help lacks %q:\n%s", want, out.String())
		}
	}
	// Every flag that takes a value names what it takes, not its Go type.
	for _, typ := range []string{" string  [", " int  [", " duration  [", " value  ["} {
		if strings.Contains(out.String(), typ) {
			t.Errorf("--help shows a Go type as a placeholder (%q):\n%s", strings.TrimSpace(typ), out.String())
		}
	}
}

// The start-up banner: the four main listeners, one line for the lesson
// listeners (their ports and where to read about them), commands that
// fetch the CA over HTTP.
func TestBanner(t *testing.T) {
	cfg := testConfig(t)
	cfg.LessonPorts = "127.0.0.1:0"
	app := startApp(t, cfg, false)
	var b bytes.Buffer
	app.printBanner(&b, 1500*time.Millisecond)
	out := b.String()
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) > 16 {
		t.Errorf("banner of %d lines:\n%s", len(lines), out)
	}
	for _, want := range []string{
		"Open   http://" + app.httpAddr + "/",
		"\n  mqtt     ", "\n  mqtts    ", "\n  mtls     ", "\n  ws       ",
		fmt.Sprint(len(lessonListenerNames())) + " listeners broken on purpose; read about them at http://" + app.httpAddr + "/lessons",
		"curl -O http://" + app.httpAddr + "/ca.pem",
		"--cafile ca.pem",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("banner lacks %q:\n%s", want, out)
		}
	}
	for _, name := range lessonListenerNames() {
		if strings.Contains(out, "\n  "+name+" ") {
			t.Errorf("banner has a line of its own for lesson listener %s:\n%s", name, out)
		}
	}
}
