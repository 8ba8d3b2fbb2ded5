package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/mqtts-playground/playground/broker"
	"github.com/mqtts-playground/playground/trace"
	"github.com/mqtts-playground/playground/wasm/client"
)

func TestTraceAPI(t *testing.T) {
	app := startApp(t, testConfig(t), false)
	base := "http://" + app.httpAddr
	c, rec, err := dialTunnel(t, app, "mqtts", client.Options{ClientID: "trace-api", TLS: &client.TLSOptions{CAPEM: string(app.ca.RootPEM())}})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Publish(context.Background(), "x/trace", []byte("seen by the broker"), 1, false); err != nil {
		t.Fatal(err)
	}
	// The client finds the broker's side of its connection by the random of
	// its own ClientHello.
	random := strings.Fields(rec.Recording().KeyLog)[1]

	_, body := get(t, base+"/trace")
	var list broker.ConnList
	if err := json.Unmarshal(body, &list); err != nil {
		t.Fatal(err)
	}
	var id string
	for _, ci := range list.Connections {
		if ci.ClientID == "trace-api" {
			id = ci.ID
			if ci.ClientRandom != random || ci.Listener != "mqtts" {
				t.Errorf("connection %+v, want client random %s", ci, random)
			}
		}
	}
	if id == "" {
		t.Fatalf("GET /trace does not list the connection: %s", body)
	}
	for _, key := range []string{id, random} {
		resp, body := get(t, base+"/trace/"+key)
		var ct broker.ConnTrace
		if resp.StatusCode != 200 || json.Unmarshal(body, &ct) != nil || ct.Connection.ID != id {
			t.Fatalf("GET /trace/%s: %d %s", key, resp.StatusCode, body)
		}
		var kinds []string
		for _, e := range ct.Events {
			if e.Side != trace.Broker {
				t.Errorf("event %d side %q", e.Seq, e.Side)
			}
			kinds = append(kinds, string(e.Dir)+" "+e.Type)
		}
		for _, want := range []string{"recv ClientHello", "send ServerHello", "send Certificate", "recv Finished", "recv CONNECT", "send CONNACK", "recv PUBLISH", "send PUBACK"} {
			if !strings.Contains(strings.Join(kinds, ","), want) {
				t.Errorf("broker events lack %q: %v", want, kinds)
			}
		}
	}
	resp, body := get(t, base+"/trace/"+id+"/recording")
	var r trace.Recording
	if resp.StatusCode != 200 || json.Unmarshal(body, &r) != nil || r.Side != trace.Broker || r.KeyLog == "" || len(r.Chunks) == 0 {
		t.Errorf("recording: %d, side %q, %d chunks, keylog %d bytes", resp.StatusCode, r.Side, len(r.Chunks), len(r.KeyLog))
	}
	if !strings.Contains(resp.Header.Get("Content-Disposition"), id+"-broker.json") {
		t.Errorf("Content-Disposition %q", resp.Header.Get("Content-Disposition"))
	}
	for _, bad := range []string{"c999999", strings.Repeat("ab", 32)} {
		resp, body := get(t, base+"/trace/"+bad)
		if resp.StatusCode != 404 || !strings.Contains(string(body), "no recent connection") {
			t.Errorf("GET /trace/%s: %d %s", bad, resp.StatusCode, body)
		}
	}
}

func TestTraceStream(t *testing.T) {
	app := startApp(t, testConfig(t), false)
	c, _, err := dialTunnel(t, app, "mqtt", client.Options{ClientID: "streamed"})
	if err != nil {
		t.Fatal(err)
	}
	info, ok := app.broker.Find("c1")
	if !ok {
		t.Fatalf("no connection c1: %+v", app.broker.Conns())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", "http://"+app.httpAddr+"/trace/stream?conn="+info.ID, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("content type %q", resp.Header.Get("Content-Type"))
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 0, 1<<20), 1<<22)
	seen := map[string]int{}
	published := false
	var event string
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "event: "):
			event = strings.TrimPrefix(line, "event: ")
		case strings.HasPrefix(line, "data: "):
			seen[event]++
			if event == "events" {
				var ct broker.ConnTrace
				if err := json.Unmarshal([]byte(strings.TrimPrefix(line, "data: ")), &ct); err != nil {
					t.Fatal(err)
				}
				for _, e := range ct.Events {
					if e.Type == "PUBLISH" {
						return // the stream delivered an event that happened after it started
					}
				}
				if !published {
					published = true
					if err := c.Publish(ctx, "x/stream", []byte("later"), 0, false); err != nil {
						t.Fatal(err)
					}
				}
			}
		}
	}
	t.Fatalf("stream ended (%v) before a later PUBLISH arrived; saw %v", sc.Err(), seen)
}

// rawGoError matches the words of Go errors that must not reach a person.
var rawGoError = regexp.MustCompile(`failed to (get reader|read frame)|context canceled|use of closed network connection|^EOF$|unexpected EOF|read tcp|write tcp|websocket: |StatusCode\(|tls: `)

// A connection that ends badly says why in plain words in GET /trace: the
// browser's tunnel closed under a session, a client that hung up in the
// middle of its ClientHello, one that refused the broker's certificate.
func TestTraceEndsInPlainWords(t *testing.T) {
	app := startApp(t, testConfig(t), false)
	base := "http://" + app.httpAddr
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	// A session whose WebSocket tunnel is dropped without DISCONNECT.
	ws, _, err := websocket.Dial(ctx, "ws://"+app.httpAddr+"/tunnel?to=mqtts", nil)
	if err != nil {
		t.Fatal(err)
	}
	c, err := client.Dial(ctx, websocket.NetConn(context.Background(), ws, websocket.MessageBinary), trace.NewRecorder(trace.Client, 0),
		client.Options{ClientID: "dropped-tunnel", TLS: &client.TLSOptions{ServerName: "localhost", CAPEM: string(app.ca.RootPEM())}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Subscribe(ctx, "x/dropped", 0); err != nil {
		t.Fatal(err)
	}
	ws.CloseNow()

	// A client that refuses the broker's certificate (no CA to trust).
	if _, _, err := dialTunnel(t, app, "mqtts", client.Options{ClientID: "refuses", TLS: &client.TLSOptions{ServerName: "localhost", CAPEM: ""}}); err == nil {
		t.Fatal("a client with no CA accepted the broker's certificate")
	}

	// A client that hangs up halfway through its ClientHello.
	nc, err := net.Dial("tcp", app.listener(t, "mqtts").Addr)
	if err != nil {
		t.Fatal(err)
	}
	nc.Write([]byte{0x16, 0x03, 0x01, 0x00, 0x50, 0x01, 0x00})
	nc.Close()

	var ended []broker.ConnInfo
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		_, body := get(t, base+"/trace")
		var list broker.ConnList
		if err := json.Unmarshal(body, &list); err != nil {
			t.Fatal(err)
		}
		ended = ended[:0]
		for _, ci := range list.Connections {
			if !ci.Ended.IsZero() {
				ended = append(ended, ci)
			}
		}
		if len(ended) >= 3 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if len(ended) < 3 {
		t.Fatalf("GET /trace lists %d ended connections, want the dropped tunnel, the refusal and the hang-up", len(ended))
	}
	var dropped bool
	for _, ci := range ended {
		if rawGoError.MatchString(ci.Err) {
			t.Errorf("GET /trace gives connection %s (%s) the raw error %q", ci.ID, ci.ClientID, ci.Err)
		}
		if ci.ClientID == "dropped-tunnel" {
			dropped = true
			if ci.Err != "" && !strings.Contains(ci.Err, "WebSocket tunnel") {
				t.Errorf("the dropped tunnel's connection ended with %q", ci.Err)
			}
		}
	}
	if !dropped {
		t.Errorf("the dropped tunnel's connection is not among the ended ones: %+v", ended)
	}
}

// The shared decodings decode only what a connection recorded since they
// last looked (trace.Decoder), with the events a whole decoding gives:
// checked after each of many publishes on one TLS connection.
func TestTraceDecodesGrowing(t *testing.T) {
	app := startApp(t, testConfig(t), false)
	traces := newTraceAPI(app.broker, instructor{}, app.log)
	defer traces.b.Watch()()
	c, _, err := dialTunnel(t, app, "mqtt", client.Options{ClientID: "growing"})
	if err != nil {
		t.Fatal(err)
	}
	id := connOf(t, app, "growing")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var earlier [][]trace.Event
	for i := range 30 {
		if err := c.Publish(ctx, "x/growing", []byte(fmt.Sprint(i)), 1, false); err != nil {
			t.Fatal(err)
		}
		// The recording may still grow (a ping): compare when it did not
		// while the decodings looked.
		for range 10 {
			before, _ := app.broker.Recording(id)
			events, ok := traces.decodes.events(id, 0)
			if !ok {
				t.Fatal("no recording")
			}
			after, _ := app.broker.Recording(id)
			if len(before.Chunks) != len(after.Chunks) {
				continue
			}
			if want := trace.Decode(after); !reflect.DeepEqual(events, want) {
				t.Fatalf("after publish %d: the shared decoding (%d events) differs from Decode (%d events)", i, len(events), len(want))
			}
			earlier = append(earlier, events)
			break
		}
	}
	if len(earlier) < 20 {
		t.Fatalf("only %d quiet looks", len(earlier))
	}
	// A look extends the one before: the events of a sound connection
	// are final once decoded.
	last := earlier[len(earlier)-1]
	for _, events := range earlier {
		if !reflect.DeepEqual(events, last[:len(events)]) {
			t.Fatal("events handed out earlier changed")
		}
	}
}
