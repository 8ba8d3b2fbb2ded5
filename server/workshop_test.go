package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/coder/websocket"
	"github.com/mqtts-playground/playground/broker"
	"github.com/mqtts-playground/playground/broker/brokertest"
	"github.com/mqtts-playground/playground/trace"
	"github.com/mqtts-playground/playground/wasm/client"
	"github.com/mqtts-playground/playground/workshop"
)

// classConfig is testConfig running a class.
func classConfig(t *testing.T) Config {
	cfg := testConfig(t)
	cfg.Workshop, cfg.KeepConns, cfg.CertRequests, cfg.TunnelFrameLimit = true, workshopKeepConns, 10, 32768
	cfg.AttendeeConns, cfg.AttendeeMsgRate = 20, 20
	return cfg
}

// attendee is an attendee of a test's class: a web client with their
// session cookie, and what their page tells them.
type attendee struct {
	http *http.Client
	me   workshop.Me
	app  *App
}

// join joins app's class as name, from the test's HTTP client.
func join(t *testing.T, app *App, name string) *attendee {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }, Timeout: 10 * time.Second}
	resp, err := c.PostForm("http://"+app.httpAddr+"/join", url.Values{"name": {name}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/attendee" {
		t.Fatalf("POST /join: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	ck := resp.Cookies()
	if len(ck) != 1 || !ck[0].HttpOnly || ck[0].SameSite != http.SameSiteLaxMode || ck[0].Secure {
		t.Fatalf("session cookie %+v", ck)
	}
	a := &attendee{http: c, app: app}
	if err := json.Unmarshal(a.get(t, "/workshop/me", http.StatusOK), &a.me); err != nil {
		t.Fatal(err)
	}
	return a
}

// get fetches path with the attendee's cookie and checks the status.
func (a *attendee) get(t *testing.T, path string, want int) []byte {
	t.Helper()
	req, _ := http.NewRequest("GET", "http://"+a.app.httpAddr+path, nil)
	req.Header.Set("Accept", "application/json")
	resp, err := a.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		t.Fatalf("GET %s: %d, want %d: %s", path, resp.StatusCode, want, body)
	}
	return body
}

// cookieHeader is the attendee's Cookie header.
func (a *attendee) cookieHeader() http.Header {
	u, _ := url.Parse("http://" + a.app.httpAddr + "/")
	h := http.Header{}
	for _, c := range a.http.Jar.Cookies(u) {
		h.Add("Cookie", c.String())
	}
	return h
}

// tunnel connects the attendee's wasm client code natively through the
// tunnel, with their session cookie, as their page does.
func (a *attendee) tunnel(t *testing.T, clientID string) (*client.Conn, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, "ws://"+a.app.httpAddr+"/tunnel?to=mqtts", &websocket.DialOptions{HTTPHeader: a.cookieHeader()})
	if err != nil {
		return nil, err
	}
	c, err := client.Dial(ctx, websocket.NetConn(context.Background(), ws, websocket.MessageBinary), trace.NewRecorder(trace.Client, 0),
		client.Options{ClientID: clientID, TLS: &client.TLSOptions{ServerName: "localhost", CAPEM: string(a.app.ca.RootPEM())}})
	if c != nil {
		t.Cleanup(func() { c.Close() })
	}
	return c, err
}

// mosquitto runs a mosquitto client on the mqtts listener with the
// attendee's credentials and returns its output and error.
func (a *attendee) mosquitto(t *testing.T, ctx context.Context, cmd string, args ...string) (string, error) {
	t.Helper()
	bin := need(t, cmd, "apt-get install mosquitto-clients")
	all := append([]string{"-h", a.me.Host, "-p", a.me.Ports["mqtts"], "--cafile", a.app.caFile(), "-u", a.me.ID, "-P", a.me.Password}, args...)
	out, err := exec.CommandContext(ctx, bin, all...).CombinedOutput()
	return string(out), err
}

// page fetches an HTML page with the attendee's cookie.
func (a *attendee) page(t *testing.T, path string) *goquery.Document {
	t.Helper()
	resp, err := a.http.Get("http://" + a.app.httpAddr + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d", path, resp.StatusCode)
	}
	doc, err := goquery.NewDocumentFromReader(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

// conns lists the connections /trace shows the attendee.
func (a *attendee) conns(t *testing.T) []broker.ConnInfo {
	t.Helper()
	var l broker.ConnList
	if err := json.Unmarshal(a.get(t, "/trace", http.StatusOK), &l); err != nil {
		t.Fatal(err)
	}
	return l.Connections
}

// Two attendees cannot read each other's topics, through the tunnel or
// with mosquitto clients, nor see each other's connections in /trace.
func TestClassIsolation(t *testing.T) {
	app := startApp(t, classConfig(t), false)
	alice, bob := join(t, app, "Alice"), join(t, app, "Bob")
	if alice.me.ID == bob.me.ID || alice.me.Topic != "ws/"+alice.me.ID || alice.me.Host != "127.0.0.1" || alice.me.Ports["mqtts"] == "" {
		t.Fatalf("me %+v", alice.me)
	}
	page, err := alice.tunnel(t, "page")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := page.Subscribe(ctx, alice.me.Topic+"/#", 1); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"#", "ws/#", "ws/+/x", bob.me.Topic + "/#"} {
		if _, err := page.Subscribe(ctx, f, 1); err == nil || !strings.Contains(err.Error(), "refused") {
			t.Errorf("alice's page subscribed to %s: %v", f, err)
		}
	}

	// Bob's mosquitto_sub reads his own space; his attempts at alice's are
	// refused.
	subCtx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	bobSub := make(chan string, 1)
	go func() {
		out, _ := bob.mosquitto(t, subCtx, "mosquitto_sub", "-i", "bob-sub", "-t", bob.me.Topic+"/#", "-v", "-C", "1")
		bobSub <- out
	}()
	waitSubscribed(t, app, "bob-sub")
	for _, f := range []string{"#", alice.me.Topic + "/#"} {
		out, err := bob.mosquitto(t, subCtx, "mosquitto_sub", "-t", f, "-C", "1", "-W", "5")
		if !strings.Contains(out, "denied") {
			t.Errorf("bob's mosquitto_sub -t %s: %v %s", f, err, out)
		}
	}
	if out, err := bob.mosquitto(t, subCtx, "mosquitto_pub", "-t", alice.me.Topic+"/x", "-m", "from bob", "-q", "1"); err == nil {
		t.Errorf("bob published into alice's space: %s", out)
	}
	if out, err := bob.mosquitto(t, subCtx, "mosquitto_pub", "-t", bob.me.Topic+"/x", "-m", "bob's own", "-q", "1"); err != nil {
		t.Fatalf("bob's own publish: %v %s", err, out)
	}
	if err := page.Publish(ctx, alice.me.Topic+"/x", []byte("alice's own"), 1, false); err != nil {
		t.Fatal(err)
	}
	m, err := page.NextMessage(ctx)
	if err != nil || string(m.Payload) != "alice's own" {
		t.Fatalf("alice got %q %v", m.Payload, err)
	}
	if got := <-bobSub; !strings.Contains(got, "bob's own") || strings.Contains(got, "alice") {
		t.Errorf("bob's mosquitto_sub printed %q", got)
	}
	wait, cancelWait := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancelWait()
	if m, err := page.NextMessage(wait); err == nil {
		t.Errorf("alice got %s %q", m.Topic, m.Payload)
	}

	// Each sees only their own connections; another's is not found.
	mine := func(a *attendee) (ids []string) {
		for _, c := range a.conns(t) {
			if c.Owner != a.me.ID {
				t.Errorf("%s sees %s's connection %s", a.me.ID, c.Owner, c.ID)
			}
			ids = append(ids, c.ID)
		}
		return ids
	}
	aliceConns, bobConns := mine(alice), mine(bob)
	if len(aliceConns) != 1 || len(bobConns) < 4 {
		t.Errorf("alice sees %v, bob %v", aliceConns, bobConns)
	}
	alice.get(t, "/trace/"+bobConns[0], http.StatusNotFound)
	alice.get(t, "/trace/"+bobConns[0]+"/recording", http.StatusNotFound)
	alice.get(t, "/trace/bob-sub", http.StatusNotFound)
	alice.get(t, "/trace/"+aliceConns[0], http.StatusOK)

	// Strangers: no tunnel, no trace, no anonymous client.
	if _, _, err := websocket.Dial(ctx, "ws://"+app.httpAddr+"/tunnel?to=mqtts", nil); err == nil || !strings.Contains(err.Error(), "401") {
		t.Errorf("a tunnel without a session: %v", err)
	}
	if resp, body := get(t, "http://"+app.httpAddr+"/trace"); resp.StatusCode != http.StatusForbidden || !strings.Contains(string(body), "/join") {
		t.Errorf("/trace without a session: %d %s", resp.StatusCode, body)
	}
	host, port, _ := net.SplitHostPort(app.listener(t, "mqtts").Addr)
	out, err := exec.Command(need(t, "mosquitto_pub", "apt-get install mosquitto-clients"), "-h", host, "-p", port, "--cafile", app.caFile(), "-t", "ws/x", "-m", "anon").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "not authori") {
		t.Errorf("an anonymous mosquitto_pub: %v %s", err, out)
	}
}

// Every instructor endpoint refuses a request without the instructor's
// token or session cookie — an attendee's included — and logs it.
func TestInstructorEndpointsRefuse(t *testing.T) {
	app := startApp(t, classConfig(t), false)
	alice := join(t, app, "Alice")
	cases := []struct{ method, path, body string }{
		{"GET", "/instructor", ""},
		{"GET", "/instructor?token=wrong", ""},
		{"GET", "/instructor/stream", ""},
		{"GET", "/instructor/export", ""},
		{"POST", "/instructor/note", `{"text":"hi"}`},
		{"POST", "/instructor/goto", `{"lesson":"tls-basics","step":1}`},
		{"POST", "/instructor/revoke", `{"serial":"1"}`},
		{"POST", "/instructor/remove", `{"attendee":"` + alice.me.ID + `"}`},
		{"POST", "/instructor/end", ""},
		{"POST", "/pki/rotate", ""},
	}
	for _, who := range []struct {
		name   string
		header http.Header
	}{{"nobody", http.Header{}}, {"an attendee", alice.cookieHeader()}, {"a wrong token", http.Header{"Authorization": {"Bearer nope"}}}} {
		for _, c := range cases {
			req, _ := http.NewRequest(c.method, "http://"+app.httpAddr+c.path, strings.NewReader(c.body))
			req.Header = who.header.Clone()
			resp, err := http.DefaultTransport.RoundTrip(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusForbidden {
				t.Errorf("%s: %s %s: %d, want 403", who.name, c.method, c.path, resp.StatusCode)
			}
		}
	}
	if !app.class.Exists(alice.me.ID) {
		t.Fatal("a refused request removed an attendee")
	}

	// The token opens a session; the URL loses the token.
	resp, err := http.DefaultTransport.RoundTrip(mustRequest("GET", "http://"+app.httpAddr+"/instructor?token="+app.cfg.Token, ""))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	ck := resp.Cookies()
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/instructor" || len(ck) != 1 || !ck[0].HttpOnly || strings.Contains(ck[0].Value, app.cfg.Token) {
		t.Fatalf("GET /instructor?token=: %d %q %+v", resp.StatusCode, resp.Header.Get("Location"), ck)
	}
	for _, h := range []http.Header{{"Cookie": {ck[0].String()}}, {"Authorization": {"Bearer " + app.cfg.Token}}} {
		req := mustRequest("GET", "http://"+app.httpAddr+"/instructor/export", "")
		req.Header = h
		resp, err := http.DefaultTransport.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		var ex workshop.Export
		json.NewDecoder(resp.Body).Decode(&ex)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || len(ex.Attendees) != 1 || ex.Attendees[0].ID != alice.me.ID {
			t.Errorf("export with %v: %d %+v", h, resp.StatusCode, ex.Attendees)
		}
	}
	// The instructor's MQTT login: user "instructor", the token.
	p, err := app.class.Login(workshop.InstructorUser, []byte(app.cfg.Token))
	if err != nil || !p.Instructor {
		t.Errorf("instructor login: %+v %v", p, err)
	}
}

func mustRequest(method, url, body string) *http.Request {
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		panic(err)
	}
	return req
}

// Attendees and their credentials survive a restart of the server, and so
// does the instructor token.
func TestClassSurvivesRestart(t *testing.T) {
	cfg := classConfig(t)
	app := startApp(t, cfg, false)
	alice := join(t, app, "Alice")
	token := app.cfg.Token
	cookies := alice.cookieHeader()
	app.Close()

	app = startApp(t, cfg, false)
	if app.cfg.Token != token {
		t.Error("the instructor token changed")
	}
	jar, _ := cookiejar.New(nil)
	u, _ := url.Parse("http://" + app.httpAddr + "/")
	for _, c := range cookies.Values("Cookie") {
		name, value, _ := strings.Cut(c, "=")
		jar.SetCookies(u, []*http.Cookie{{Name: name, Value: value}})
	}
	back := &attendee{http: &http.Client{Jar: jar}, app: app}
	var me workshop.Me
	if err := json.Unmarshal(back.get(t, "/workshop/me", http.StatusOK), &me); err != nil {
		t.Fatal(err)
	}
	if me.ID != alice.me.ID || me.Password != alice.me.Password {
		t.Fatalf("after the restart the page says %+v, before %+v", me, alice.me)
	}
	back.me = me
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if out, err := back.mosquitto(t, ctx, "mosquitto_pub", "-t", me.Topic+"/back", "-m", "still me", "-q", "1"); err != nil {
		t.Fatalf("the password after a restart: %v %s", err, out)
	}
}

// 31 attendees behind one address (a classroom NAT) all get their client
// certificates: the limit counts per attendee. Each may ask only for their
// own id, and a stranger for none.
func TestClassCertificatesBehindOneAddress(t *testing.T) {
	app := startApp(t, classConfig(t), false)
	var wg sync.WaitGroup
	errs := make(chan error, 31)
	for i := range 31 {
		a := join(t, app, fmt.Sprintf("attendee %d", i))
		wg.Go(func() {
			pemReq, _ := csrPEM(t, a.me.ID)
			req := mustRequest("POST", "http://"+app.httpAddr+"/pki/csr", string(pemReq))
			req.Header = a.cookieHeader()
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				errs <- err
				return
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				errs <- fmt.Errorf("attendee %d: %d %s", i, resp.StatusCode, body)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n := len(app.class.Export(nil).Certs); n != 31 {
		t.Errorf("the class recorded %d certificates", n)
	}

	a := join(t, app, "one more")
	other, _ := csrPEM(t, "someone-else")
	code, body := post(t, http.DefaultClient, "http://"+app.httpAddr+"/pki/csr", other, map[string]string{"Cookie": a.cookieHeader().Get("Cookie")})
	if code != http.StatusForbidden || !strings.Contains(body, a.me.ID) {
		t.Errorf("a request for another id: %d %s", code, body)
	}
	own, _ := csrPEM(t, a.me.ID)
	if code, body := post(t, http.DefaultClient, "http://"+app.httpAddr+"/pki/csr", own, nil); code != http.StatusForbidden {
		t.Errorf("a request without a session: %d %s", code, body)
	}
	// The command line: user name and password as Basic authentication.
	basic := map[string]string{"Authorization": "Basic " + basicAuth(a.me.ID, a.me.Password)}
	if code, body := post(t, http.DefaultClient, "http://"+app.httpAddr+"/pki/csr", own, basic); code != http.StatusOK {
		t.Errorf("a request with Basic authentication: %d %s", code, body)
	}
	// One attendee's own limit still bites.
	for i := range 12 {
		code, body := post(t, http.DefaultClient, "http://"+app.httpAddr+"/pki/csr", own, basic)
		if i >= 9 && code != http.StatusTooManyRequests {
			t.Errorf("request %d of one attendee: %d %s", i+2, code, body)
		}
	}
}

func basicAuth(user, pw string) string {
	r, _ := http.NewRequest("GET", "/", nil)
	r.SetBasicAuth(user, pw)
	return strings.TrimPrefix(r.Header.Get("Authorization"), "Basic ")
}

// The limits of one attendee log a line when they bite: the connections of
// one attendee, and a tunnel message over the frame limit.
func TestClassLimitsLogged(t *testing.T) {
	cfg := classConfig(t)
	cfg.AttendeeConns, cfg.TunnelFrameLimit = 2, 4096
	logs := &recordLog{}
	app, err := newApp(cfg, nil, slog.New(logs))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { app.Close() })
	a := join(t, app, "Ada")
	for i := range 2 {
		if _, err := a.tunnel(t, fmt.Sprintf("c%d", i)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := a.tunnel(t, "c3"); err == nil || !strings.Contains(err.Error(), "429") {
		t.Errorf("a third tunnel: %v", err)
	}
	// Another attendee's tunnel carries a message over the frame limit.
	b := join(t, app, "Bea")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, "ws://"+app.httpAddr+"/tunnel?to=mqtts", &websocket.DialOptions{HTTPHeader: b.cookieHeader()})
	if err != nil {
		t.Fatal(err)
	}
	// A TLS record header announcing 8 KB, and the 8 KB, in one message.
	ws.Write(ctx, websocket.MessageBinary, append([]byte{22, 3, 1, 0x20, 0}, make([]byte, 8192)...))
	if _, _, err := ws.Read(ctx); websocket.CloseStatus(err) != websocket.StatusMessageTooBig {
		t.Errorf("a message over the frame limit: %v", err)
	}
	brokertest.WaitFor(t, 5*time.Second, "the log lines of the limits", func() bool {
		return logs.has("the attendee has too many open") && logs.has("over the frame limit")
	})
}

// has reports whether a record with msg in its message was logged.
func (h *recordLog) has(msg string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, r := range h.recs {
		if strings.Contains(r.Message, msg) {
			return true
		}
	}
	return false
}

// The attendee page's mosquitto snippets work as they stand: run in a shell
// in an empty folder, they fetch the CA and publish into the attendee's
// space.
func TestSnippetsRun(t *testing.T) {
	app := startApp(t, classConfig(t), false)
	a := join(t, app, "Ada")
	need(t, "curl", "apt-get install curl")
	ss := snippets(a.me, string(app.ca.RootPEM()))
	var sub, pub string
	for _, s := range ss {
		switch s.Name {
		case "mosquitto_sub":
			sub = s.Code
		case "mosquitto_pub":
			pub = s.Code
		}
		if !strings.Contains(s.Code, a.me.ID) {
			t.Errorf("snippet %s lacks the attendee id", s.Name)
		}
	}
	if sub == "" || pub == "" || len(ss) < 7 {
		t.Fatalf("%d snippets", len(ss))
	}
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	// The subscriber's first line fetches the CA; it then waits for one message.
	subCmd := exec.CommandContext(ctx, "sh", "-c", strings.TrimSpace(sub)+" -C 1 -i snippet-sub")
	subCmd.Dir = dir
	var out bytes.Buffer
	subCmd.Stdout, subCmd.Stderr = &out, &out
	if err := subCmd.Start(); err != nil {
		t.Fatal(err)
	}
	waitSubscribed(t, app, "snippet-sub")
	pubCmd := exec.CommandContext(ctx, "sh", "-c", pub)
	pubCmd.Dir = dir
	if b, err := pubCmd.CombinedOutput(); err != nil {
		t.Fatalf("the mosquitto_pub snippet: %v\n%s", err, b)
	}
	if err := subCmd.Wait(); err != nil || !strings.Contains(out.String(), a.me.Topic+"/hello hello from my laptop") {
		t.Fatalf("the mosquitto_sub snippet: %v\n%s", err, out.String())
	}
	if _, err := os.Stat(filepath.Join(dir, "ca.pem")); err != nil {
		t.Error("the snippet did not fetch ca.pem")
	}
}

func TestShellWord(t *testing.T) {
	for in, want := range map[string]string{"abc": "abc", "ws/a/#": "'ws/a/#'", "it's": `'it'\''s'`, "": "''", "a b": "'a b'", "http://h:1/ca.pem": "http://h:1/ca.pem"} {
		if got := shellWord(in); got != want {
			t.Errorf("shellWord(%q) = %s, want %s", in, got, want)
		}
	}
}

// A trusted proxy's X-Forwarded-For names the client; anyone else's is
// ignored.
func TestTrustedProxy(t *testing.T) {
	p := proxies{netip.MustParsePrefix("10.0.0.0/24"), netip.MustParsePrefix("::1/128")}
	tests := []struct {
		remote, xff, proto string
		want               string
		https              bool
	}{
		{"10.0.0.5:4000", "203.0.113.9", "https", "203.0.113.9:0", true},
		{"10.0.0.5:4000", "198.51.100.1, 203.0.113.9", "", "203.0.113.9:0", false}, // the client may write the left part
		{"10.0.0.5:4000", "203.0.113.9, 10.0.0.7", "", "203.0.113.9:0", false},     // a chain of trusted proxies
		{"[::1]:4000", "2001:db8::1", "", "[2001:db8::1]:0", false},
		{"192.0.2.1:4000", "203.0.113.9", "https", "192.0.2.1:4000", false}, // not a proxy: ignored
		{"10.0.0.5:4000", "", "", "10.0.0.5:4000", false},
		{"10.0.0.5:4000", "junk", "", "10.0.0.5:4000", false},
	}
	for _, tt := range tests {
		var got string
		var https bool
		h := p.wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got, https = r.RemoteAddr, isHTTPS(r) }))
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = tt.remote
		if tt.xff != "" {
			r.Header.Set("X-Forwarded-For", tt.xff)
		}
		if tt.proto != "" {
			r.Header.Set("X-Forwarded-Proto", tt.proto)
		}
		h.ServeHTTP(httptest.NewRecorder(), r)
		if got != tt.want || https != tt.https {
			t.Errorf("from %s, X-Forwarded-For %q: %s https=%v, want %s https=%v", tt.remote, tt.xff, got, https, tt.want, tt.https)
		}
	}
}

// Behind a trusted proxy, the certificate limit counts the client the
// proxy names, and the proxy itself is never the instructor's machine.
func TestTrustedProxyLimits(t *testing.T) {
	cfg := testConfig(t)
	cfg.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
	app := startApp(t, cfg, false)
	csr, _ := csrPEM(t, "device-1")
	from := func(client string) int {
		code, _ := post(t, http.DefaultClient, "http://"+app.httpAddr+"/pki/csr", csr, map[string]string{"X-Forwarded-For": client})
		return code
	}
	for range 10 {
		from("203.0.113.1")
	}
	if code := from("203.0.113.1"); code != http.StatusTooManyRequests {
		t.Errorf("the 11th request of one client: %d", code)
	}
	if code := from("203.0.113.2"); code != http.StatusOK {
		t.Errorf("another client behind the proxy: %d", code)
	}
	code, _ := post(t, http.DefaultClient, "http://"+app.httpAddr+"/pki/rotate", nil, map[string]string{"X-Forwarded-For": "203.0.113.1"})
	if code != http.StatusForbidden {
		t.Errorf("a rotation through the proxy: %d", code)
	}
}

// The attendee page shows the attendee's credentials and snippets, with
// what they typed escaped.
func TestAttendeePage(t *testing.T) {
	app := startApp(t, classConfig(t), true)
	name := `<img src=x onerror="alert(1)"> & Co`
	a := join(t, app, name)
	doc := a.page(t, "/attendee")
	if got := testids(doc.Selection, "attendee-id").Text(); got != a.me.ID {
		t.Errorf("id %q", got)
	}
	if got := testids(doc.Selection, "attendee-password").Text(); got != a.me.Password {
		t.Errorf("password %q", got)
	}
	if doc.Find("h1").Text() != name || doc.Find("img").Length() != 0 {
		t.Errorf("the name was not escaped: %q, %d img", doc.Find("h1").Text(), doc.Find("img").Length())
	}
	scripted := `<script>alert("pwned")</script>Bob`
	sdoc := join(t, app, scripted).page(t, "/attendee")
	if sdoc.Find("h1").Text() != scripted || strings.Contains(sdoc.Find("script").Text(), "pwned") {
		t.Errorf("a script in the name was not escaped: %q", sdoc.Find("h1").Text())
	}
	if n := testids(doc.Selection, "snippet").Length(); n < 7 {
		t.Errorf("%d snippets", n)
	}
	if doc.Find(`meta[name="mqtts-class"]`).Length() != 1 {
		t.Error("the page does not say it is in a class")
	}
	// A visitor without a session is sent to join first, and back.
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for path, want := range map[string]string{"/": "/join?next=%2F", "/lessons/tls-basics": "/join?next=%2Flessons%2Ftls-basics", "/attendee": "/join"} {
		resp, err := c.Get("http://" + app.httpAddr + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != want {
			t.Errorf("GET %s: %d to %q, want %q", path, resp.StatusCode, resp.Header.Get("Location"), want)
		}
	}
}

// Ending the class (instructor only): the answer and a 0600 file in the
// data folder hold the export; the attendee's connections are closed and
// their session no longer works.
func TestInstructorEndsClass(t *testing.T) {
	app := startApp(t, classConfig(t), false)
	a := join(t, app, "Ada")
	conn, err := a.tunnel(t, "ada-page")
	if err != nil {
		t.Fatal(err)
	}
	code, body := post(t, http.DefaultClient, "http://"+app.httpAddr+"/instructor/end", nil, map[string]string{"Authorization": "Bearer " + app.cfg.Token})
	var ex workshop.Export
	if err := json.Unmarshal([]byte(body), &ex); code != http.StatusOK || err != nil || len(ex.Attendees) != 1 || ex.Attendees[0].ID != a.me.ID {
		t.Fatalf("POST /instructor/end: %d %v %.300s", code, err, body)
	}
	files, _ := filepath.Glob(filepath.Join(app.ca.Dir(), "class-*.json"))
	if len(files) != 1 {
		t.Fatalf("export files: %v", files)
	}
	if fi, err := os.Stat(files[0]); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("the export file: %v %v", fi.Mode(), err)
	}
	if kept, _ := os.ReadFile(files[0]); !strings.Contains(string(kept), a.me.ID) {
		t.Error("the export file lacks the attendee")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := conn.NextMessage(ctx); err == nil || ctx.Err() != nil {
		t.Errorf("the attendee's connection after the end: %v", err)
	}
	a.get(t, "/workshop/me", http.StatusUnauthorized)
}

// The instructor's broker view filters by attendee, listener, client id
// and outcome (GET /trace?…), newest first.
func TestInstructorBrokerViewFilters(t *testing.T) {
	app := startApp(t, classConfig(t), false)
	ada, bea := join(t, app, "Ada"), join(t, app, "Bea")
	for _, c := range []struct {
		a  *attendee
		id string
	}{{ada, "ada-page"}, {bea, "bea-page"}, {ada, "ada-second"}} {
		if _, err := c.a.tunnel(t, c.id); err != nil {
			t.Fatal(err)
		}
	}
	bad := *bea
	bad.me.Password = "wrong"
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if out, err := bad.mosquitto(t, ctx, "mosquitto_pub", "-i", "bea-typo", "-t", bea.me.Topic+"/x", "-m", "x"); err == nil {
		t.Fatalf("a wrong password was accepted: %s", out)
	}
	list := func(query string) []string {
		t.Helper()
		req := mustRequest("GET", "http://"+app.httpAddr+"/trace?"+query, "")
		req.Header.Set("Accept", "application/json")
		req.Header.Set("Authorization", "Bearer "+app.cfg.Token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var l broker.ConnList
		if err := json.NewDecoder(resp.Body).Decode(&l); err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("GET /trace?%s: %d %v", query, resp.StatusCode, err)
		}
		var ids []string
		for _, c := range l.Connections {
			ids = append(ids, c.ClientID)
		}
		return ids
	}
	brokertest.WaitFor(t, 5*time.Second, "the failed connection listed", func() bool { return slices.Contains(list("outcome=failed"), "bea-typo") })
	tests := []struct{ query, want string }{
		{"attendee=" + ada.me.ID, "ada-second ada-page"},
		{"attendee=" + bea.me.ID + "&outcome=open", "bea-page"},
		{"client=ada-page", "ada-page"},
		{"listener=mqtts&outcome=failed", "bea-typo"},
		{"listener=mtls", ""},
	}
	for _, tt := range tests {
		if got := strings.Join(list(tt.query), " "); got != tt.want {
			t.Errorf("GET /trace?%s: %q, want %q", tt.query, got, tt.want)
		}
	}
}

// A progress report names a step of the course: any other is refused, so
// that an attendee cannot grow their stored record (written on every
// report) with made-up lessons.
func TestProgressOfTheCourseOnly(t *testing.T) {
	app := startApp(t, classConfig(t), false)
	a := join(t, app, "Ada")
	l := app.course.Lessons[0]
	for _, tt := range []struct {
		body string
		want int
	}{
		{fmt.Sprintf(`{"lesson":%q,"step":1,"done":true}`, l.ID), http.StatusNoContent},
		{fmt.Sprintf(`{"lesson":%q,"step":%d}`, l.ID, len(l.Steps)+1), http.StatusBadRequest},
		{`{"lesson":"made-up-1","step":7,"done":true}`, http.StatusBadRequest},
	} {
		req, _ := http.NewRequest("POST", "http://"+app.httpAddr+"/workshop/progress", strings.NewReader(tt.body))
		req.Header.Set("Content-Type", "application/json")
		resp, err := a.http.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tt.want {
			t.Errorf("POST /workshop/progress %s: %d, want %d", tt.body, resp.StatusCode, tt.want)
		}
	}
}

// Progress reports are limited per attendee (each one that changes
// something is a write to the store): a script posting in a loop gets 429
// with Retry-After after the burst, and another attendee is not held back.
func TestProgressRateLimited(t *testing.T) {
	app := startApp(t, classConfig(t), false)
	ada, bob := join(t, app, "Ada"), join(t, app, "Bob")
	l := app.course.Lessons[0]
	post := func(a *attendee, step int) *http.Response {
		t.Helper()
		body := fmt.Sprintf(`{"lesson":%q,"step":%d}`, l.ID, step)
		req, _ := http.NewRequest("POST", "http://"+app.httpAddr+"/workshop/progress", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		resp, err := a.http.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	var refused *http.Response
	for i := range 60 {
		if resp := post(ada, 1+i%2); resp.StatusCode == http.StatusTooManyRequests {
			refused = resp
			break
		} else if resp.StatusCode != http.StatusNoContent {
			t.Fatalf("report %d: %d", i, resp.StatusCode)
		}
	}
	if refused == nil {
		t.Fatal("60 reports in a row were all taken: no limit")
	}
	if refused.Header.Get("Retry-After") == "" {
		t.Error("429 without Retry-After")
	}
	if resp := post(bob, 1); resp.StatusCode != http.StatusNoContent {
		t.Errorf("another attendee's report: %d, want 204", resp.StatusCode)
	}
}
