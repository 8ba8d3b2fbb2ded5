package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/mqtts-playground/playground/broker/pki"
	"github.com/mqtts-playground/playground/trace"
	"github.com/mqtts-playground/playground/wasm/client"
)

// The attacks of issue 9 on the web server, each on loopback and bounded.

// as sends one request straight to the app's routes, from remote (an
// address other than loopback stands for a visitor from the network).
func as(t *testing.T, app *App, method, target, remote string, header map[string]string, body []byte) *http.Response {
	t.Helper()
	r := httptest.NewRequest(method, target, bytes.NewReader(body))
	r.Host = app.httpAddr
	r.RemoteAddr = remote
	for k, v := range header {
		r.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	app.routes().ServeHTTP(w, r)
	return w.Result()
}

func readAll(t *testing.T, r *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(r.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// connOf returns the id of the broker's record of a connection with
// client id cid.
func connOf(t *testing.T, app *App, cid string) string {
	t.Helper()
	for range 100 {
		if info, ok := app.broker.Find(cid); ok {
			return info.ID
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("no connection of client %q", cid)
	return ""
}

// Issue 9 #1: the key log (in the recording and the pcapng export) goes to
// the instructor only: a visitor from the network gets the recording and
// the capture without it.
func TestTraceSecretsOnlyForInstructor(t *testing.T) {
	cfg0 := testConfig(t)
	cfg0.AllowOrigins = []string{"https://docs.example.com"}
	app := startApp(t, cfg0, false)
	if _, _, err := dialTunnel(t, app, "mqtts", client.Options{ClientID: "secret-keeper", TLS: &client.TLSOptions{CAPEM: string(app.ca.RootPEM())}}); err != nil {
		t.Fatal(err)
	}
	id := connOf(t, app, "secret-keeper")
	const stranger, local = "198.51.100.7:40000", "127.0.0.1:40000"
	recording := func(remote string, h map[string]string) trace.Recording {
		resp := as(t, app, "GET", "/trace/"+id+"/recording", remote, h, nil)
		var rec trace.Recording
		if err := json.Unmarshal([]byte(readAll(t, resp)), &rec); err != nil || len(rec.Chunks) == 0 {
			t.Fatalf("recording for %s: %d %v", remote, resp.StatusCode, err)
		}
		return rec
	}
	pcap := func(remote string) string {
		resp := as(t, app, "GET", "/trace/"+id+".pcapng", remote, nil, nil)
		if resp.StatusCode != 200 {
			t.Fatalf("pcapng for %s: %d", remote, resp.StatusCode)
		}
		return readAll(t, resp)
	}
	if kl := recording(stranger, nil).KeyLog; kl != "" {
		t.Errorf("a visitor from the network read the key log:\n%s", kl)
	}
	if kl := recording(local, map[string]string{"X-Forwarded-For": "198.51.100.7"}).KeyLog; kl != "" {
		t.Errorf("a request forwarded by a proxy on this machine read the key log")
	}
	// A page of another origin open in a browser on this machine: CORS
	// lets an --allow-origin page read the answer, so it must not carry
	// the secrets.
	docs := map[string]string{"Origin": "https://docs.example.com"}
	if resp := as(t, app, "GET", "/trace/"+id+"/recording", local, docs, nil); resp.Header.Get("Access-Control-Allow-Origin") == "" {
		t.Errorf("the allowed origin may no longer read traces")
	}
	if kl := recording(local, docs).KeyLog; kl != "" {
		t.Errorf("a page of another origin on this machine read the key log")
	}
	if p := pcap(stranger); strings.Contains(p, "TRAFFIC_SECRET") {
		t.Errorf("the visitor's pcapng embeds the TLS secrets")
	}
	// The machine's own requests (no token set) get them, for Wireshark.
	if kl := recording(local, nil).KeyLog; !strings.Contains(kl, "CLIENT_TRAFFIC_SECRET_0") {
		t.Errorf("the instructor's recording lacks the key log: %q", kl)
	}
	if p := pcap(local); !strings.Contains(p, "CLIENT_TRAFFIC_SECRET_0") {
		t.Errorf("the instructor's pcapng lacks the TLS secrets")
	}
	// The events are the same for everyone: decrypted on the server.
	resp := as(t, app, "GET", "/trace/"+id, stranger, nil, nil)
	if body := readAll(t, resp); !strings.Contains(body, `"type":"CONNECT"`) {
		t.Errorf("a visitor no longer sees the decrypted events: %.300s", body)
	}

	// With a token, only the token counts.
	cfg := testConfig(t)
	cfg.Token = "s3cret"
	app2 := startApp(t, cfg, false)
	if _, _, err := dialTunnel(t, app2, "mqtts", client.Options{ClientID: "secret-keeper", TLS: &client.TLSOptions{CAPEM: string(app2.ca.RootPEM())}}); err != nil {
		t.Fatal(err)
	}
	id = connOf(t, app2, "secret-keeper")
	for _, tt := range []struct {
		remote, auth string
		want         bool
	}{{local, "", false}, {local, "Bearer wrong", false}, {stranger, "Bearer s3cret", true}} {
		resp := as(t, app2, "GET", "/trace/"+id+"/recording", tt.remote, map[string]string{"Authorization": tt.auth}, nil)
		var rec trace.Recording
		json.Unmarshal([]byte(readAll(t, resp)), &rec)
		if got := rec.KeyLog != ""; got != tt.want {
			t.Errorf("token set, from %s with %q: key log given %v, want %v", tt.remote, tt.auth, got, tt.want)
		}
	}
}

// Issue 9 #13: query values are checked (a negative ?after panicked).
func TestTraceStreamBadQuery(t *testing.T) {
	app := startApp(t, testConfig(t), false)
	if _, _, err := dialTunnel(t, app, "mqtt", client.Options{ClientID: "q"}); err != nil {
		t.Fatal(err)
	}
	id := connOf(t, app, "q")
	for _, q := range []string{"after=-5", "after=abc", "after=99999999999999999999", "after=1&after=2", "conn=" + strings.Repeat("x", 300)} {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		req, _ := http.NewRequestWithContext(ctx, "GET", "http://"+app.httpAddr+"/trace/stream?conn="+id+"&"+q, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			cancel()
			t.Errorf("?%s: %v", q, err)
			continue
		}
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		resp.Body.Close()
		cancel()
		if resp.StatusCode != 400 || !strings.Contains(string(body), "trace: ?") {
			t.Errorf("?%s: %d %q, want 400 naming the value", q, resp.StatusCode, body)
		}
	}
}

// recordLog keeps the records a logger writes.
type recordLog struct {
	mu   sync.Mutex
	recs []slog.Record
}

func (h *recordLog) Enabled(context.Context, slog.Level) bool { return true }
func (h *recordLog) Handle(_ context.Context, r slog.Record) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.recs = append(h.recs, r)
	return nil
}
func (h *recordLog) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *recordLog) WithGroup(string) slog.Handler      { return h }

// Issue 9 #13: a handler's panic is logged as an error (net/http logged it
// through ErrorLog, at debug level here).
func TestPanicLoggedAsError(t *testing.T) {
	logs := &recordLog{}
	h := recoverPanics(slog.New(logs), http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		var s []int
		_ = s[-len(s)-5:] // the kind of slip ?after=-5 made
	}))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/trace/stream", nil))
	if w.Code != 500 {
		t.Errorf("status %d, want 500", w.Code)
	}
	logs.mu.Lock()
	defer logs.mu.Unlock()
	if len(logs.recs) != 1 || logs.recs[0].Level != slog.LevelError || !strings.Contains(logs.recs[0].Message, "panicked") {
		t.Errorf("logged %v, want one error", logs.recs)
	}
}

// Issue 9 #15: every answer carries the security headers; framing stays
// allowed.
func TestSecurityHeaders(t *testing.T) {
	app := startApp(t, testConfig(t), false)
	for _, path := range []string{"/healthz", "/ca.pem", "/trace", "/lessons", "/nothing-here"} {
		resp, _ := get(t, "http://"+app.httpAddr+path)
		h := resp.Header
		csp := h.Get("Content-Security-Policy")
		for _, want := range []string{"script-src 'self' 'wasm-unsafe-eval'", "object-src 'none'", "base-uri 'none'"} {
			if !strings.Contains(csp, want) {
				t.Errorf("%s: CSP %q lacks %q", path, csp, want)
			}
		}
		if strings.Contains(csp, "frame-ancestors") || h.Get("X-Frame-Options") != "" {
			t.Errorf("%s: framing refused (CSP %q, X-Frame-Options %q): embedding is a feature", path, csp, h.Get("X-Frame-Options"))
		}
		if strings.Contains(csp, "'unsafe-inline'") && strings.Contains(strings.SplitN(strings.SplitN(csp, "script-src", 2)[1], ";", 2)[0], "unsafe-inline") {
			t.Errorf("%s: inline scripts allowed: %q", path, csp)
		}
		if h.Get("X-Content-Type-Options") != "nosniff" || h.Get("Referrer-Policy") == "" {
			t.Errorf("%s: X-Content-Type-Options %q, Referrer-Policy %q", path, h.Get("X-Content-Type-Options"), h.Get("Referrer-Policy"))
		}
	}
}

// Issue 9 #9: an idle keep-alive connection is closed, and a body sent a
// byte every two seconds is cut; streams live on.
func TestHTTPTimeouts(t *testing.T) {
	cfg := testConfig(t)
	cfg.timeouts = httpTimeouts{header: time.Second, read: time.Second, write: time.Second, idle: time.Second}
	app := startApp(t, cfg, false)

	t.Run("idle keep-alive", func(t *testing.T) {
		c, err := net.Dial("tcp", app.httpAddr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		fmt.Fprintf(c, "GET /healthz HTTP/1.1\r\nHost: %s\r\n\r\n", app.httpAddr)
		br := bufio.NewReader(c)
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		start := time.Now()
		if _, err := br.ReadByte(); err != io.EOF {
			t.Errorf("after %v idle the connection is still open (%v)", time.Since(start).Round(time.Second), err)
		}
	})
	t.Run("slow body", func(t *testing.T) {
		c, err := net.Dial("tcp", app.httpAddr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		fmt.Fprintf(c, "POST /pki/csr HTTP/1.1\r\nHost: %s\r\nContent-Length: 1000\r\n\r\n", app.httpAddr)
		start := time.Now()
		cut := false
		for i := 0; i < 5 && !cut; i++ {
			if _, err := c.Write([]byte("x")); err != nil {
				cut = true
				break
			}
			c.SetReadDeadline(time.Now().Add(2 * time.Second))
			b := make([]byte, 512)
			if _, err := c.Read(b); err == nil || !isTimeout(err) {
				cut = true // answered or closed
			}
		}
		if !cut {
			t.Errorf("a body at a byte every 2 s still being read after %v", time.Since(start).Round(time.Second))
		}
	})
	t.Run("streams live on", func(t *testing.T) {
		conn, _, err := dialTunnel(t, app, "mqtt", client.Options{ClientID: "patient"})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, "GET", "http://"+app.httpAddr+"/trace/stream", nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		time.Sleep(2500 * time.Millisecond) // past every timeout
		if err := conn.Publish(ctx, "x/late", []byte("still here"), 1, false); err != nil {
			t.Errorf("the tunnel died with the web server's timeouts: %v", err)
		}
		// The stream sends the list again when a connection comes or goes.
		if _, _, err := dialTunnel(t, app, "mqtt", client.Options{ClientID: "late-comer"}); err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(resp.Body)
		found := false
		for sc.Scan() {
			if strings.Contains(sc.Text(), "late-comer") {
				found = true
				break
			}
		}
		if !found {
			t.Errorf("the trace stream ended after the timeouts: %v", sc.Err())
		}
	})
}

func isTimeout(err error) bool {
	ne, ok := err.(net.Error)
	return ok && ne.Timeout()
}

// Issue 9 #5: a name the server does not serve (DNS rebinding) is refused;
// its own names and any IP address are served.
func TestHostCheck(t *testing.T) {
	cfg := testConfig(t)
	cfg.SANs = []string{"playground.example"}
	app := startApp(t, cfg, false)
	_, port, _ := net.SplitHostPort(app.httpAddr)
	host, _ := os.Hostname()
	for _, tt := range []struct {
		host string
		want int
	}{
		{"127.0.0.1:" + port, 200}, {"localhost:" + port, 200}, {"LOCALHOST.:" + port, 200}, {"[::1]:" + port, 200},
		{host + ":" + port, 200}, {"playground.example", 200}, {"192.0.2.44:" + port, 200},
		{"attacker.example:" + port, 421}, {"localhost.attacker.example", 421}, {"127.0.0.1.nip.example", 421},
	} {
		for _, path := range []string{"/healthz", "/trace", "/tunnel?to=mqtt", "/lessons"} {
			req, _ := http.NewRequest("GET", "http://"+app.httpAddr+path, nil)
			req.Host = tt.host
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			refused := resp.StatusCode == 421
			if refused != (tt.want == 421) {
				t.Errorf("Host %q %s: %d %.100s", tt.host, path, resp.StatusCode, body)
			}
			if refused && !strings.Contains(string(body), "--san") {
				t.Errorf("Host %q: the refusal does not say what to do: %s", tt.host, body)
			}
		}
	}
}

// Issue 9 #4: rotating the broker certificate is the instructor's: the
// machine itself when no token is set, else the token holder; never a
// page of another site; and no one revokes the broker's own certificate.
func TestInstructorActions(t *testing.T) {
	app := startApp(t, testConfig(t), false)
	const stranger, local = "198.51.100.7:40000", "127.0.0.1:40000"
	rotate := func(app *App, remote string, h map[string]string) (int, string) {
		resp := as(t, app, "POST", "/pki/rotate", remote, h, nil)
		return resp.StatusCode, readAll(t, resp)
	}
	for _, tt := range []struct {
		name   string
		remote string
		h      map[string]string
		want   int
	}{
		{"from the network", stranger, nil, 403},
		{"through a proxy on this machine", local, map[string]string{"X-Forwarded-For": "198.51.100.7"}, 403},
		{"a page of another site", local, map[string]string{"Origin": "http://attacker.example", "Sec-Fetch-Site": "cross-site"}, 403},
		{"another site, no Sec-Fetch-Site", local, map[string]string{"Origin": "http://attacker.example"}, 403},
		{"this machine", local, nil, 200},
	} {
		if code, body := rotate(app, tt.remote, tt.h); code != tt.want {
			t.Errorf("no token, %s: %d %s, want %d", tt.name, code, body, tt.want)
		}
	}

	cfg := testConfig(t)
	cfg.Token = "s3cret"
	app2 := startApp(t, cfg, false)
	if code, body := rotate(app2, local, nil); code != 403 || !strings.Contains(body, "instructor token") {
		t.Errorf("token set, this machine without it: %d %s", code, body)
	}
	if code, body := rotate(app2, stranger, map[string]string{"Authorization": "Bearer s3cret"}); code != 200 {
		t.Errorf("token set, with it: %d %s", code, body)
	}
	// The broker's certificate is not the token's to revoke.
	broker := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: app2.rot.Current().Leaf.Raw})
	resp := as(t, app2, "POST", "/pki/revoke", stranger, map[string]string{"Authorization": "Bearer s3cret"}, broker)
	if body := readAll(t, resp); resp.StatusCode != 403 || app2.ca.IsRevoked(app2.rot.Current().Leaf.SerialNumber) {
		t.Errorf("revoking the broker's certificate with the token: %d %s", resp.StatusCode, body)
	}
	// A client certificate still is.
	leaf, err := app2.ca.Issue(pki.Leaf{CommonName: "attendee-7"})
	if err != nil {
		t.Fatal(err)
	}
	resp = as(t, app2, "POST", "/pki/revoke", stranger, map[string]string{"Authorization": "Bearer s3cret"}, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: leaf.Certificate[0]}))
	if body := readAll(t, resp); resp.StatusCode != 200 {
		t.Errorf("revoking a client certificate with the token: %d %s", resp.StatusCode, body)
	}
}

// Issue 9 #4: the token can come from a file or the environment, where the
// process list does not show it.
func TestInstructorTokenSources(t *testing.T) {
	file := filepath.Join(t.TempDir(), "token")
	os.WriteFile(file, []byte("from-a-file\n"), 0o600)
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	for _, tt := range []struct {
		args    []string
		env     map[string]string
		want    string
		inArgs  bool
		wantErr string
	}{
		{args: []string{"--instructor-token-file", file}, want: "from-a-file"},
		{env: map[string]string{"PLAYGROUND_INSTRUCTOR_TOKEN": "from-env"}, want: "from-env"},
		{env: map[string]string{"PLAYGROUND_INSTRUCTOR_TOKEN_FILE": file}, want: "from-a-file"},
		{args: []string{"--instructor-token", "on-the-command-line"}, want: "on-the-command-line", inArgs: true},
		{args: []string{"--instructor-token-file", filepath.Join(t.TempDir(), "missing")}, wantErr: "--instructor-token-file"},
		{args: []string{"--instructor-token", "a", "--instructor-token-file", file}, wantErr: "give one"},
	} {
		c, err := parseConfig(tt.args, env(tt.env), io.Discard)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("%v %v: error %v, want %q", tt.args, tt.env, err, tt.wantErr)
			}
			continue
		}
		if err != nil || c.Token != tt.want || c.tokenInArgs != tt.inArgs {
			t.Errorf("%v %v: token %q (in args %v), %v; want %q", tt.args, tt.env, c.Token, c.tokenInArgs, err, tt.want)
		}
	}
}

// Issue 9 #8: one address cannot take every tunnel (nor every MQTT over
// WebSocket connection): they count against --max-conns-per-addr.
func TestTunnelPerAddressCap(t *testing.T) {
	cfg := testConfig(t)
	cfg.MaxConnsPerAddr = 3
	app := startApp(t, cfg, false)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	dial := func(path string) (*websocket.Conn, *http.Response, error) {
		return websocket.Dial(ctx, "ws://"+app.httpAddr+path, &websocket.DialOptions{Subprotocols: []string{"mqtt"}})
	}
	for i := range 3 {
		ws, _, err := dial("/tunnel?to=mqtt")
		if err != nil {
			t.Fatalf("tunnel %d: %v", i+1, err)
		}
		defer ws.CloseNow()
	}
	for _, path := range []string{"/tunnel?to=mqtt", "/mqtt"} {
		ws, resp, err := dial(path)
		if err == nil {
			ws.CloseNow()
			t.Errorf("%s: a fourth connection from one address was accepted", path)
			continue
		}
		if resp == nil || resp.StatusCode != http.StatusTooManyRequests {
			t.Errorf("%s: %v, want 429", path, err)
		}
	}
}

// Issue 9 #8: trace streams are capped per address, and the viewers of one
// connection share one decoding of it.
func TestTraceStreamViewers(t *testing.T) {
	cfg := testConfig(t)
	cfg.MaxConnsPerAddr = 4
	app := startApp(t, cfg, false)
	conn, _, err := dialTunnel(t, app, "mqtt", client.Options{ClientID: "watched"})
	if err != nil {
		t.Fatal(err)
	}
	id := connOf(t, app, "watched")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	// One handler, so the decoding is shared the way the server shares it.
	traces := newTraceAPI(app.broker, instructor{}, app.log).limitViewers(100, 3)
	mux := http.NewServeMux()
	traces.register(mux)
	srv := httptest.NewServer(mux)
	defer srv.Close()
	var streams []*bufio.Scanner
	for i := range 4 {
		req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL+"/trace/stream?conn="+id, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if i == 3 {
			if resp.StatusCode != http.StatusTooManyRequests {
				t.Errorf("a fourth stream from one address: %d, want 429", resp.StatusCode)
			}
			continue
		}
		streams = append(streams, bufio.NewScanner(resp.Body))
	}
	waitEvent := func(sc *bufio.Scanner, want string) {
		for sc.Scan() {
			if strings.HasPrefix(sc.Text(), "data: ") && strings.Contains(sc.Text(), want) {
				return
			}
		}
		t.Fatalf("stream ended before %s: %v", want, sc.Err())
	}
	for _, sc := range streams {
		waitEvent(sc, `"type":"CONNACK"`)
	}
	before := traces.decodes.count.Load()
	for i := range 5 {
		if err := conn.Publish(ctx, "x/watched", []byte(fmt.Sprint(i)), 1, false); err != nil {
			t.Fatal(err)
		}
		for _, sc := range streams {
			waitEvent(sc, `"type":"PUBLISH"`)
		}
	}
	// Five publishes watched by three viewers: at most one decoding per
	// change of the recording, not one per viewer.
	if n := traces.decodes.count.Load() - before; n > 10 {
		t.Errorf("%d decodings for 5 publishes and 3 viewers; the viewers do not share them", n)
	}
}

// Issue 13: each of a class's viewers watches a connection of its own;
// the shared decodings hold as many connections as there may be streams,
// so looking again at an unchanged connection decodes nothing.
func TestTraceDecodesOnePerViewer(t *testing.T) {
	app := startApp(t, testConfig(t), false)
	const viewers = 80 // more than the 64 the decodings held before
	traces := newTraceAPI(app.broker, instructor{}, app.log).limitViewers(viewers, 0)
	defer traces.b.Watch()()
	ids := make([]string, viewers)
	for i := range ids {
		if _, _, err := dialTunnel(t, app, "mqtt", client.Options{ClientID: fmt.Sprintf("viewed-%d", i)}); err != nil {
			t.Fatal(err)
		}
		ids[i] = connOf(t, app, fmt.Sprintf("viewed-%d", i))
	}
	for round := range 2 {
		before := traces.decodes.count.Load()
		for _, id := range ids {
			if _, ok := traces.decodes.events(id, 0); !ok {
				t.Fatalf("no recording of %s", id)
			}
		}
		n := traces.decodes.count.Load() - before
		if round == 0 && n != viewers {
			t.Errorf("first look at %d connections: %d decodings", viewers, n)
		}
		if round == 1 && n != 0 {
			t.Errorf("second look at %d unchanged connections: %d decodings, want 0", viewers, n)
		}
	}
}

// The shared decodings are bounded in bytes too: past the budget the
// least recently looked at are forgotten, however few they are.
func TestTraceDecodesBudget(t *testing.T) {
	app := startApp(t, testConfig(t), false)
	traces := newTraceAPI(app.broker, instructor{}, app.log).limitViewers(100, 0)
	defer traces.b.Watch()()
	var ids []string
	for i := range 6 {
		if _, _, err := dialTunnel(t, app, "mqtt", client.Options{ClientID: fmt.Sprintf("budget-%d", i)}); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, connOf(t, app, fmt.Sprintf("budget-%d", i)))
	}
	d := traces.decodes
	if _, ok := d.events(ids[0], 0); !ok {
		t.Fatal("no recording")
	}
	d.mu.Lock()
	one := d.held
	d.budget = 3 * one // room for three connections' decodings
	d.mu.Unlock()
	if one <= 0 {
		t.Fatalf("held %d bytes after a decoding", one)
	}
	// The decoder keeps a copy of the bytes (a plain connection: the wire's
	// only), and the budget counts it.
	rec, _ := app.broker.Recording(ids[0])
	var recorded int64
	for _, c := range rec.Chunks {
		recorded += int64(len(c.Data))
	}
	if one != 2*recorded {
		t.Errorf("held %d bytes for a recording of %d: want the recording and the decoder's copy", one, recorded)
	}
	for _, id := range ids {
		d.events(id, 0)
	}
	d.mu.Lock()
	held, n := d.held, d.entries.len()
	d.mu.Unlock()
	if held > 3*one || n > 3 || n == 0 {
		t.Errorf("%d decodings of %d bytes kept, budget %d", n, held, 3*one)
	}
	// The newest are kept: looking again decodes nothing.
	before := d.count.Load()
	d.events(ids[len(ids)-1], 0)
	if d.count.Load() != before {
		t.Error("the most recent decoding was forgotten")
	}
}

// Issue 9 #1: with the secrets withheld (a token is set, so loopback is no
// longer the instructor), the page's export still holds a broker side it
// can decrypt: the page fills in its own key log, the same secrets.
func TestBrowserExportFillsKeyLog(t *testing.T) {
	cfg := testConfig(t)
	cfg.Token = "s3cret"
	app := startApp(t, cfg, true)
	ctx := newBrowser(t)
	openPage(t, ctx, app)
	runDemo(t, ctx, "export-keys")
	id := connOf(t, app, "export-keys")
	if _, body := get(t, "http://"+app.httpAddr+"/trace/"+id+"/recording"); strings.Contains(string(body), "TRAFFIC_SECRET") {
		t.Fatal("the broker gave its key log without the token")
	}
	session := evalJS[string](t, ctx, `new Promise((resolve) => {
		URL.createObjectURL = (blob) => { blob.text().then(resolve); return "about:blank"; };
		HTMLAnchorElement.prototype.click = function () {};
		document.querySelector('[data-testid="export-session"]').click();
	})`)
	var s struct{ Client, Broker *trace.Recording }
	if err := json.Unmarshal([]byte(session), &s); err != nil || s.Client == nil || s.Broker == nil {
		t.Fatalf("export: %v\n%.300s", err, session)
	}
	if s.Broker.KeyLog == "" || s.Broker.KeyLog != s.Client.KeyLog {
		t.Errorf("the exported broker side has key log %q, want the client's own", s.Broker.KeyLog)
	}
	events := trace.Decode(*s.Broker)
	decrypted := false
	for _, e := range events {
		decrypted = decrypted || e.Type == "CONNECT"
	}
	if !decrypted {
		t.Errorf("the exported broker side does not decrypt: %d events, no CONNECT", len(events))
	}
}

// The profiler answers only to a loopback Host: a page of another site that
// resolves its own name to 127.0.0.1 (DNS rebinding) gets nothing.
func TestPprofLoopbackHostOnly(t *testing.T) {
	h := loopbackHostOnly(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "profile") }))
	for _, tt := range []struct {
		host string
		want int
	}{
		{"127.0.0.1:6060", http.StatusOK},
		{"[::1]:6060", http.StatusOK},
		{"[::1]", http.StatusOK},
		{"localhost:6060", http.StatusOK},
		{"LOCALHOST", http.StatusOK},
		{"127.0.0.1", http.StatusOK},
		{"rebind.example.com:6060", http.StatusMisdirectedRequest},
		{"192.168.1.10:6060", http.StatusMisdirectedRequest},
		{"", http.StatusMisdirectedRequest},
	} {
		r := httptest.NewRequest("GET", "/debug/pprof/", nil)
		r.Host = tt.host
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != tt.want {
			t.Errorf("Host %q: %d, want %d", tt.host, w.Code, tt.want)
		}
	}
}
