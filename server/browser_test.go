package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/storage"
	"github.com/chromedp/chromedp"
	"github.com/mqtts-playground/playground/trace"
	"github.com/mqtts-playground/playground/wasm/client"
)

// chromiumPath finds a Chromium or Chrome to drive; CHROME overrides.
func chromiumPath() (string, error) {
	if p := os.Getenv("CHROME"); p != "" {
		return p, nil
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "headless-shell"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", errors.New("no Chromium found for the browser tests: install it (Debian: sudo apt-get install chromium; .ci/run does this) or set CHROME to a Chrome binary")
}

// browser is the one headless Chromium of this test binary, started by the
// first test that needs it and stopped by TestMain.
var browser struct {
	once   sync.Once
	ctx    context.Context // the browser's first tab; parent of the tests' tabs
	stop   func()          // ends Chromium
	err    error           // why it did not start
	dataIn string          // its profile folder

	mu   sync.Mutex
	idle []*tab // tabs a test gave back
}

func TestMain(m *testing.M) {
	code := m.Run()
	if browser.stop != nil {
		browser.stop()
	}
	if browser.dataIn != "" {
		os.RemoveAll(browser.dataIn)
	}
	os.Exit(code)
}

// startBrowser starts the shared Chromium, once.
func startBrowser() (context.Context, error) {
	browser.once.Do(func() {
		var path string
		if path, browser.err = chromiumPath(); browser.err != nil {
			return
		}
		if browser.dataIn, browser.err = os.MkdirTemp("", "playground-chromium-"); browser.err != nil {
			return
		}
		opts := []chromedp.ExecAllocatorOption{
			chromedp.ExecPath(path),
			chromedp.Headless, chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck, chromedp.DisableGPU,
			chromedp.UserDataDir(browser.dataIn), chromedp.WindowSize(1400, 1000),
			// This machine's network is closed: keep Chromium from calling home.
			chromedp.Flag("disable-background-networking", true),
			chromedp.Flag("disable-component-update", true),
			chromedp.Flag("disable-sync", true),
			chromedp.Flag("disable-quic", true),
			// Tests run side by side in several tabs: none may be throttled
			// as a background tab.
			chromedp.Flag("disable-background-timer-throttling", true),
			chromedp.Flag("disable-backgrounding-occluded-windows", true),
			chromedp.Flag("disable-renderer-backgrounding", true),
			// A page a test leaves is gone, not kept for the back button.
			chromedp.Flag("disable-features", "BackForwardCache"),
		}
		if os.Geteuid() == 0 {
			opts = append(opts, chromedp.NoSandbox) // Chromium refuses to run as root with its sandbox
		}
		actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
		ctx, cancel := chromedp.NewContext(actx)
		browser.stop = func() { cancel(); cancelAlloc() }
		if browser.err = chromedp.Do(ctx); browser.err != nil {
			browser.err = fmt.Errorf("starting %s: %w", path, browser.err)
			return
		}
		browser.ctx = ctx
	})
	return browser.ctx, browser.err
}

// tab is a tab of the shared Chromium.
type tab struct {
	ctx   context.Context
	close func()
}

// newBrowser gives a test a tab of the shared Chromium and logs the page's
// console to the test. Opening a tab starts a renderer process, about a
// second of CPU on a 2-core machine, so a test reuses a tab an earlier test
// gave back. Tests share nothing through it: each test serves its pages
// from its own app, on its own port (an origin of its own: localStorage and
// IndexedDB are per origin; the pages set no cookies), and the tab comes
// back blank, with the storage of every origin it showed cleared and its
// viewport reset.
func newBrowser(t testing.TB) context.Context {
	t.Helper()
	parent, err := startBrowser()
	if err != nil {
		t.Fatalf("browser: %v", err)
	}
	browser.mu.Lock()
	var tb *tab
	if n := len(browser.idle); n > 0 {
		tb, browser.idle = browser.idle[n-1], browser.idle[:n-1]
	}
	browser.mu.Unlock()
	if tb == nil {
		ctx, closeTab := chromedp.NewContext(parent)
		// The tab lives as long as the context of its first run: this one,
		// not the test's.
		if err := chromedp.Do(ctx); err != nil {
			closeTab()
			t.Fatalf("browser: opening a tab: %v", err)
		}
		tb = &tab{ctx: ctx, close: closeTab}
	}
	ctx, cancel := context.WithTimeout(tb.ctx, 90*time.Second)
	var mu sync.Mutex
	origins := map[string]bool{}
	if err := chromedp.Listen(ctx, func(ev any) {
		if e, ok := ev.(*page.EventFrameNavigated); ok && strings.HasPrefix(e.Frame.SecurityOrigin, "http") {
			mu.Lock()
			origins[e.Frame.SecurityOrigin] = true
			mu.Unlock()
		}
	}); err != nil {
		cancel()
		tb.close()
		t.Fatalf("browser: %v", err)
	}
	console := chromedp.Console(ctx)
	logged := make(chan struct{})
	go func() {
		defer close(logged)
		for m, err := range console {
			if err != nil {
				return
			}
			t.Logf("console: %s", m)
		}
	}()
	t.Cleanup(func() {
		cancel()
		<-logged
		mu.Lock()
		shown := slices.Collect(maps.Keys(origins))
		mu.Unlock()
		if err := blank(tb, shown); err != nil {
			t.Logf("browser: closing the tab instead of reusing it: %v", err)
			tb.close()
			return
		}
		browser.mu.Lock()
		browser.idle = append(browser.idle, tb)
		browser.mu.Unlock()
	})
	return ctx
}

// blank readies a tab for the next test: an empty page, the storage of the
// origins it showed cleared, the viewport as the browser opened it.
func blank(tb *tab, origins []string) error {
	ctx, cancel := context.WithTimeout(tb.ctx, 10*time.Second)
	defer cancel()
	return chromedp.Do(ctx, chromedp.Navigate("about:blank"), chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		for _, o := range origins {
			if _, err := cdp.Call(ctx, tg, storage.ClearDataForOrigin, storage.ClearDataForOriginParams{Origin: o, StorageTypes: "all"}); err != nil {
				return fmt.Errorf("clearing the storage of %s: %w", o, err)
			}
		}
		_, err := cdp.Call(ctx, tg, emulation.ClearDeviceMetricsOverride, cdp.Empty{})
		return err
	}))
}

// openPage loads the playground page and waits for the wasm client.
func openPage(t *testing.T, ctx context.Context, app *App) {
	t.Helper()
	if err := chromedp.Do(ctx, chromedp.Navigate("http://"+app.httpAddr+"/")); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`playground.ready.then(() => true)`, chromedp.EvalAwaitPromise)); err != nil {
		t.Fatalf("wasm client did not load: %v", err)
	}
}

// browserRun is what the in-page script of TestBrowserPublishReceive returns.
type browserRun struct {
	Message struct {
		Topic   string `json:"topic"`
		Payload string `json:"payload"`
	} `json:"message"`
	Trace      []trace.Event `json:"trace"`
	BrokerSide []trace.Event `json:"brokerSide"`
	Merged     int           `json:"merged"`
	Checks     []struct {
		Step string `json:"step"`
		OK   bool   `json:"ok"`
	} `json:"checks"`
	TLS struct {
		Version      string `json:"version"`
		Group        string `json:"group"`
		ClientRandom string `json:"clientRandom"`
	} `json:"tls"`
	BrokerKey         string  `json:"brokerKey"`
	ClientID          string  `json:"clientId"`
	LoadToHandshakeMS float64 `json:"loadToHandshakeMs"`
	HandshakeMS       float64 `json:"handshakeMs"`
}

func TestBrowserPublishReceive(t *testing.T) {
	t.Parallel()
	app := startApp(t, testConfig(t), true)
	ctx := newBrowser(t)
	openPage(t, ctx, app)
	// The CLI subscriber sees what the browser publishes.
	waitCLI := mosquittoSub(t, app, "x/browser/#", 1)
	run, err := chromedp.Run(ctx, chromedp.Evaluate[browserRun](`(async () => {
		const t0 = performance.now();
		const c = await playground.connect({listener: "mqtts", clientId: "browser-test", mqttVersion: 5});
		const t1 = performance.now();
		await c.subscribe("x/browser/#", 1);
		await c.publish("x/browser/hello", "hello from the browser", {qos: 1});
		const message = await c.nextMessage(5000);
		const brokerSide = await c.brokerTrace();
		const result = {message, trace: c.trace().filter(e => e.side === "client"), brokerSide, merged: c.trace().length, checks: c.checks(), tls: c.tlsInfo(),
			brokerKey: c.brokerKey(), clientId: c.clientId(), loadToHandshakeMs: t1, handshakeMs: t1 - t0};
		window.testConn = c;
		return result;
	})()`, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("page load → connected: %.0f ms; connect (tunnel + TLS + CONNECT): %.0f ms", run.LoadToHandshakeMS, run.HandshakeMS)
	if run.Message.Topic != "x/browser/hello" || run.Message.Payload != "hello from the browser" {
		t.Errorf("message %+v", run.Message)
	}
	if run.TLS.Version != "TLS 1.3" || run.TLS.Group != "X25519MLKEM768" {
		t.Errorf("TLS %+v, want TLS 1.3 with X25519MLKEM768", run.TLS)
	}
	for _, c := range run.Checks {
		if !c.OK {
			t.Errorf("check %q failed", c.Step)
		}
	}
	if len(run.Checks) < 4 {
		t.Errorf("only %d checks", len(run.Checks))
	}

	var types []string
	fields := map[string]map[string]string{} // type → field name → value
	for _, e := range run.Trace {
		if e.Side != "client" || e.Error != "" {
			t.Errorf("event %d %s: side %q error %q", e.Seq, e.Type, e.Side, e.Error)
		}
		types = append(types, string(e.Dir)+" "+e.Type)
		if fields[e.Type] == nil {
			fields[e.Type] = map[string]string{}
		}
		for _, f := range e.Fields {
			fields[e.Type][f.Name] = f.Value
		}
	}
	for _, want := range []string{
		"send ClientHello", "recv ServerHello", "recv EncryptedExtensions", "recv Certificate", "recv CertificateVerify",
		"recv Finished", "send Finished", "recv NewSessionTicket", "send ApplicationData", "recv ApplicationData",
		"send CONNECT", "recv CONNACK", "send SUBSCRIBE", "recv SUBACK", "send PUBLISH", "recv PUBACK", "recv PUBLISH",
	} {
		if !slices.Contains(types, want) {
			t.Errorf("trace lacks %q", want)
		}
	}
	if !strings.Contains(fields["CONNECT"]["Client Identifier"], "browser-test") {
		t.Errorf("CONNECT fields %v", fields["CONNECT"])
	}
	if !strings.Contains(fields["PUBLISH"]["Topic Name"], "x/browser/hello") || !strings.Contains(fields["PUBLISH"]["Payload"], "hello from the browser") {
		t.Errorf("PUBLISH fields %v", fields["PUBLISH"])
	}
	// The broker's side of the same connection, fetched by the page under
	// the name Go gave it: the client random of the handshake.
	if run.ClientID != "browser-test" || len(run.TLS.ClientRandom) != 64 || run.BrokerKey != run.TLS.ClientRandom {
		t.Errorf("clientId() %q, brokerKey() %q, tlsInfo().clientRandom %q; want browser-test and the 64-digit client random twice", run.ClientID, run.BrokerKey, run.TLS.ClientRandom)
	}
	if info, ok := app.broker.Find(run.BrokerKey); !ok || info.ClientID != "browser-test" || info.ClientRandom != run.BrokerKey {
		t.Errorf("the broker finds %+v (%v) by brokerKey() %q", info, ok, run.BrokerKey)
	}
	var brokerKinds []string
	for _, e := range run.BrokerSide {
		if e.Side != "broker" {
			t.Errorf("broker event %d has side %q", e.Seq, e.Side)
		}
		brokerKinds = append(brokerKinds, string(e.Dir)+" "+e.Type)
	}
	for _, want := range []string{"recv ClientHello", "send ServerHello", "recv CONNECT", "send CONNACK", "recv PUBLISH"} {
		if !slices.Contains(brokerKinds, want) {
			t.Errorf("broker side lacks %q: %v", want, brokerKinds)
		}
	}
	if run.Merged != len(run.Trace)+len(run.BrokerSide) {
		t.Errorf("c.trace() holds %d events, want client %d + broker %d", run.Merged, len(run.Trace), len(run.BrokerSide))
	}
	if out := waitCLI(); !strings.Contains(out, "x/browser/hello hello from the browser") {
		t.Errorf("mosquitto_sub printed %q", out)
	}

	// And back: mosquitto_pub reaches the browser's subscription.
	mosquittoPub(t, app, "x/browser/from-cli", "hello from mosquitto_pub")
	m, err := chromedp.Run(ctx, chromedp.Evaluate[map[string]any](`window.testConn.nextMessage(5000)`, chromedp.EvalAwaitPromise))
	if err != nil || m["topic"] != "x/browser/from-cli" || m["payload"] != "hello from mosquitto_pub" {
		t.Errorf("browser got %v, %v", m, err)
	}
}

// TestBrowserBrokerTraceWait: conn.brokerTrace({until, after, timeoutMs})
// resolves once the broker has recorded a matching event after seq after,
// and rejects, saying what it waited for, when none comes in time.
func TestBrowserBrokerTraceWait(t *testing.T) {
	t.Parallel()
	app := startApp(t, testConfig(t), true)
	ctx := newBrowser(t)
	openPage(t, ctx, app)
	type waited struct {
		First, Second, ByTest []trace.Event
		After                 int
		Timeout               string
		Key                   string
	}
	got := evalJS[waited](t, ctx, `(async () => {
		const c = await playground.connect({listener: "mqtts", clientId: "wait-test"});
		const key = c.brokerKey();
		const published = (events, topic) => events.filter((e) => e.type === "PUBLISH" && e.dir === "recv" && e.fields.some((f) => f.name === "Topic Name" && f.value.includes(topic)));
		await c.publish("x/wait/one", "1"); // QoS 0: nothing tells the page the broker has it
		const first = await c.brokerTrace({until: {type: "PUBLISH", dir: "recv"}});
		const after = Math.max(...published(first, "x/wait/one").map((e) => e.seq));
		// Nothing new after that PUBLISH: the wait runs out.
		const timeout = await c.brokerTrace({after, until: {type: "PUBLISH", dir: "recv"}, timeoutMs: 700}).then(() => "resolved", (e) => e.message);
		await c.publish("x/wait/two", "2");
		const second = await c.brokerTrace({after, until: {type: "PUBLISH", dir: "recv"}});
		await c.publish("x/wait/three", "3");
		const byTest = await c.brokerTrace({after, until: (e) => published([e], "x/wait/three").length > 0});
		return {first: published(first, "x/wait/"), after, timeout, second: published(second, "x/wait/"), byTest: published(byTest, "x/wait/"), key};
	})()`)
	if len(got.First) != 1 || got.After != got.First[0].Seq {
		t.Errorf("first wait: the broker's PUBLISHes %v, after %d", got.First, got.After)
	}
	want := fmt.Sprintf(`brokerTrace: the broker recorded no event {"type":"PUBLISH","dir":"recv"} after seq %d of connection %s within 700 ms`, got.After, got.Key)
	if !strings.HasPrefix(got.Timeout, want) {
		t.Errorf("waiting for nothing: %q, want it to start with %q", got.Timeout, want)
	}
	if len(got.Second) != 2 || got.Second[1].Seq <= got.After {
		t.Errorf("second wait: the broker's PUBLISHes %v, want the second after seq %d", got.Second, got.After)
	}
	if len(got.ByTest) != 3 {
		t.Errorf("wait with a test function: the broker's PUBLISHes %v, want three", got.ByTest)
	}
}

func TestBrowserWrongCA(t *testing.T) {
	t.Parallel()
	app := startApp(t, testConfig(t), true)
	other := startApp(t, testConfig(t), false) // a second playground: another CA
	ctx := newBrowser(t)
	openPage(t, ctx, app)
	res, err := chromedp.Run(ctx, chromedp.Evaluate[map[string]any](`playground.connect({listener: "mqtts", tls: {caPEM: `+"`"+string(other.ca.RootPEM())+"`"+`}})
		.then(() => ({ok: true}), e => ({ok: false, message: e.message, isError: e instanceof Error, types: (e.trace || []).map(ev => ev.type)}))`, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatal(err)
	}
	msg, _ := res["message"].(string)
	if res["ok"] != false || res["isError"] != true || !strings.HasPrefix(msg, "certificate signed by unknown authority") {
		t.Fatalf("connect with a wrong CA: %v", res)
	}
	// The failed attempt's trace shows how far it got: the certificate
	// arrived, and the client answered with an alert.
	types, _ := res["types"].([]any)
	var got []string
	for _, x := range types {
		got = append(got, x.(string))
	}
	for _, want := range []string{"ClientHello", "ServerHello", "Certificate", "Alert"} {
		if !slices.Contains(got, want) {
			t.Errorf("failed connection's trace lacks %s: %v", want, got)
		}
	}
}

func TestBrowserUnknownListener(t *testing.T) {
	t.Parallel()
	app := startApp(t, testConfig(t), true)
	ctx := newBrowser(t)
	openPage(t, ctx, app)
	msg, err := chromedp.Run(ctx, chromedp.Evaluate[string](`playground.connect({listener: "127.0.0.1:22"}).then(() => "connected", e => e.message)`, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(msg, `no listener named "127.0.0.1:22"`) || !strings.Contains(msg, "mqtts") {
		t.Errorf("message %q", msg)
	}
}

// TestBrowserPage clicks through the page itself: the demo button connects,
// and the sequence diagram lists the handshake; clicking an event shows its
// fields.
func TestBrowserPage(t *testing.T) {
	t.Parallel()
	app := startApp(t, testConfig(t), true)
	ctx := newBrowser(t)
	openPage(t, ctx, app)
	if err := chromedp.Do(ctx,
		chromedp.Click(`[data-testid="demo"]`),
		chromedp.WaitVisible(`[data-testid="message"]`),
		chromedp.Click(`[data-testid="trace-event"][data-type="ClientHello"]`),
		chromedp.WaitVisible(`[data-testid="field"][data-name="random"]`),
	); err != nil {
		t.Fatal(err)
	}
	status, err := chromedp.Run(ctx, chromedp.Text(`[data-testid="status"]`))
	if err != nil || !strings.Contains(status, "TLS 1.3") {
		t.Errorf("status %q, %v", status, err)
	}
	n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('[data-testid="check"][data-ok="true"]').length`))
	if err != nil || n < 4 {
		t.Errorf("%d passed checks shown, %v", n, err)
	}
	if shot, err := chromedp.Run(ctx, chromedp.CaptureScreenshot()); err == nil && os.Getenv("SCREENSHOT") != "" {
		os.WriteFile(os.Getenv("SCREENSHOT"), shot, 0o644)
	}
}

// waitJS waits until the page expression is truthy.
func waitJS(t *testing.T, ctx context.Context, what, expr string) {
	t.Helper()
	var err error
	for range 3 {
		_, err = chromedp.Run(ctx, chromedp.Poll[bool](expr, chromedp.WithPollingTimeout(20*time.Second), chromedp.WithPollingInterval(50*time.Millisecond)))
		// Right after a navigation the poll may start in the old page's
		// context; then it fails at once and is worth another try.
		if err == nil || !strings.Contains(err.Error(), "Cannot find context") {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		state, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`location.href + " · " + (document.querySelector('[data-testid="status"],[data-testid="trace-status"],[data-testid="replay-status"]')?.textContent ?? "")`))
		t.Fatalf("waiting for %s: %v (page: %s)", what, err, state)
	}
}

// evalJS evaluates an expression (awaiting promises) into T.
func evalJS[T any](t *testing.T, ctx context.Context, expr string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("%s: %v", expr, err)
	}
	return v
}

// runDemo presses "Run the demo" with the given client id and waits until
// the broker's side of the connection is lined up with the browser's.
func runDemo(t *testing.T, ctx context.Context, clientID string) {
	t.Helper()
	if err := chromedp.Do(ctx,
		chromedp.SetValue(`[data-testid="client-id"]`, clientID),
		chromedp.Click(`[data-testid="demo"]`),
		chromedp.WaitVisible(`[data-testid="message"]`),
	); err != nil {
		t.Fatal(err)
	}
	waitJS(t, ctx, "the broker's PUBACK lined up", `!!document.querySelector('[data-testid="trace-event"][data-type="PUBACK"][data-paired="true"]')`)
}

// durationText is how the diagram writes times: "0.4 ms", "12 ms", "3.2 s".
var durationText = regexp.MustCompile(`^-?\d+(\.\d)? (ms|s)$`)

// TestBrowserTraceAligned: after the demo the diagram holds one row per
// message both ends saw, with both ends' times, and round trip times on the
// client's responses.
func TestBrowserTraceAligned(t *testing.T) {
	t.Parallel()
	app := startApp(t, testConfig(t), true)
	ctx := newBrowser(t)
	openPage(t, ctx, app)
	runDemo(t, ctx, "aligned-test")
	type row struct {
		Type, Layer, Side, Paired, From, Events, RTT, TC, TB string
	}
	rows := evalJS[[]row](t, ctx, `[...document.querySelectorAll('[data-testid="trace-event"]')].map(li => ({
		type: li.dataset.type, layer: li.dataset.layer, side: li.dataset.side, paired: li.dataset.paired, from: li.dataset.from,
		events: li.dataset.events, rtt: li.querySelector('[data-testid="rtt"]')?.textContent ?? "",
		tc: li.querySelector('.tc').textContent, tb: li.querySelector('.tb').textContent}))`)
	byType := map[string][]row{}
	for _, r := range rows {
		byType[r.Type] = append(byType[r.Type], r)
	}
	for _, typ := range []string{"ClientHello", "ServerHello", "Certificate", "CONNECT", "CONNACK", "SUBSCRIBE", "SUBACK"} {
		rs := byType[typ]
		if len(rs) != 1 {
			t.Errorf("%d rows for %s, want one for both ends", len(rs), typ)
			continue
		}
		r := rs[0]
		evs := strings.Fields(r.Events)
		if r.Paired != "true" || r.Side != "both" || len(evs) != 2 || !strings.HasPrefix(evs[0], "client-") || !strings.HasPrefix(evs[1], "broker-") {
			t.Errorf("%s row %+v: want paired, one event of each end", typ, r)
		}
		if !durationText.MatchString(r.TC) || !durationText.MatchString(r.TB) {
			t.Errorf("%s row shows times %q and %q, want both ends' times", typ, r.TC, r.TB)
		}
	}
	if r := byType["ClientHello"]; len(r) == 1 && (r[0].From != "client" || r[0].Layer != "tls" || r[0].TC != "0.0 ms" || r[0].TB != "0.0 ms") {
		t.Errorf("ClientHello row %+v: sent by the client, first on both clocks", r[0])
	}
	if r := byType["ServerHello"]; len(r) == 1 && r[0].From != "broker" {
		t.Errorf("ServerHello row %+v: sent by the broker", r[0])
	}
	for _, typ := range []string{"ServerHello", "CONNACK", "SUBACK"} {
		if rs := byType[typ]; len(rs) != 1 || !strings.HasPrefix(rs[0].RTT, "RTT ") || !durationText.MatchString(strings.TrimPrefix(rs[0].RTT, "RTT ")) {
			t.Errorf("%s lacks its RTT marker: %+v", typ, rs)
		}
	}
	var pubackRTT bool
	for _, r := range byType["PUBACK"] {
		if r.From == "broker" && r.RTT != "" {
			pubackRTT = true
		}
	}
	if !pubackRTT {
		t.Errorf("the broker's PUBACK of the QoS 1 PUBLISH has no RTT marker: %+v", byType["PUBACK"])
	}
	for _, r := range byType["ClientHello"] {
		if r.RTT != "" {
			t.Errorf("a request carries an RTT: %+v", r)
		}
	}

	// Enter on a focused row selects it, and the fragment names it.
	if err := chromedp.Do(ctx, chromedp.Focus(`[data-testid="trace-event"][data-type="CONNECT"]`), chromedp.KeyEvent("\r")); err != nil {
		t.Fatal(err)
	}
	waitJS(t, ctx, "CONNECT selected", `document.querySelector('[data-testid="trace-detail"] h3')?.textContent.includes("CONNECT")`)
	if hash := evalJS[string](t, ctx, `location.hash`); !strings.HasPrefix(hash, "#event=client-") {
		t.Errorf("fragment after selecting CONNECT: %q", hash)
	}
	// Clicking a field adds it to the fragment.
	if err := chromedp.Do(ctx, chromedp.Click(`[data-testid="field"][data-name="Keep Alive"]`)); err != nil {
		t.Fatal(err)
	}
	if hash := evalJS[string](t, ctx, `location.hash`); !strings.Contains(hash, "&field=Keep%20Alive") {
		t.Errorf("fragment after clicking a field: %q", hash)
	}
	// The broker's record of the same packet.
	if err := chromedp.Do(ctx, chromedp.Click(`[data-testid="record-of"][data-side="broker"]`)); err != nil {
		t.Fatal(err)
	}
	if hash := evalJS[string](t, ctx, `location.hash`); !strings.HasPrefix(hash, "#event=broker-") {
		t.Errorf("fragment after showing the broker's record: %q", hash)
	}
}

// TestBrowserCertificateChain: the broker's Certificate message shows the
// chain as cards, leaf first, each issued by the next.
func TestBrowserCertificateChain(t *testing.T) {
	t.Parallel()
	app := startApp(t, testConfig(t), true)
	ctx := newBrowser(t)
	openPage(t, ctx, app)
	runDemo(t, ctx, "chain-test")
	if err := chromedp.Do(ctx,
		chromedp.Click(`[data-testid="trace-event"][data-type="Certificate"]`),
		chromedp.WaitVisible(`[data-testid="cert-card"]`),
	); err != nil {
		t.Fatal(err)
	}
	type card struct {
		Subject, Validity, Text string
		IssuedBy                bool
	}
	cards := evalJS[[]card](t, ctx, `[...document.querySelectorAll('[data-testid="cert-card"]')].map(c => ({subject: c.dataset.subject, validity: c.dataset.validity, text: c.textContent, issuedBy: !!c.querySelector('[data-testid="issued-by"]')}))`)
	if len(cards) != 2 {
		t.Fatalf("%d certificate cards, want 2 (broker, intermediate)", len(cards))
	}
	if cards[0].Subject != "CN=MQTTS Playground broker" || !strings.HasPrefix(cards[1].Subject, "CN=MQTTS Playground Intermediate CA") {
		t.Errorf("subjects %q, %q", cards[0].Subject, cards[1].Subject)
	}
	if !cards[0].IssuedBy || !strings.Contains(cards[0].Text, "issued by MQTTS Playground Intermediate CA") {
		t.Errorf("the leaf card does not link its issuer: %q", cards[0].Text)
	}
	if !strings.Contains(cards[1].Text, "issued by MQTTS Playground Root CA, not sent") {
		t.Errorf("the intermediate card does not say its root was not sent: %q", cards[1].Text)
	}
	for _, c := range cards {
		if c.Validity != "valid" {
			t.Errorf("card %q validity %q", c.Subject, c.Validity)
		}
		for _, want := range []string{"ECDSA P-256", "ECDSA-SHA256", "SHA-256"} {
			if !strings.Contains(c.Text, want) {
				t.Errorf("card %q lacks %q", c.Subject, want)
			}
		}
	}
	if !strings.Contains(cards[0].Text, "DNS:localhost") {
		t.Errorf("leaf card lacks its names: %q", cards[0].Text)
	}
	// The card's title shows the certificate's bytes: the second cert_data.
	if err := chromedp.Do(ctx, chromedp.Click(`[data-testid="cert-card"]:nth-child(2) h4 button`)); err != nil {
		t.Fatal(err)
	}
	if hash := evalJS[string](t, ctx, `location.hash`); !strings.HasSuffix(hash, "&field=cert_data&nth=2") {
		t.Errorf("fragment after picking the second certificate: %q", hash)
	}
	if n := evalJS[int](t, ctx, `document.querySelectorAll('[data-testid="hex"] .b.pin').length`); n < 400 {
		t.Errorf("%d bytes highlighted for the intermediate certificate", n)
	}
}

// TestBrowserHexViews: an encrypted record shows ciphertext and plaintext
// side by side on a wide screen and one above the other on a narrow one;
// pointing at a byte names its field.
func TestBrowserHexViews(t *testing.T) {
	t.Parallel()
	app := startApp(t, testConfig(t), true)
	ctx := newBrowser(t)
	openPage(t, ctx, app)
	runDemo(t, ctx, "hex-test")
	if err := chromedp.Do(ctx,
		chromedp.Click(`[data-testid="trace-event"][data-type="ApplicationData"]`),
		chromedp.WaitVisible(`[data-testid="hex-views"].two`),
	); err != nil {
		t.Fatal(err)
	}
	sideBySide := `(() => { const c = document.querySelectorAll('[data-testid="hex-views"] .hexcol'); return c.length === 2 && c[0].offsetTop === c[1].offsetTop; })()`
	if !evalJS[bool](t, ctx, sideBySide) {
		t.Error("ciphertext and plaintext are not side by side at 1400 px")
	}
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(600, 900)); err != nil {
		t.Fatal(err)
	}
	if evalJS[bool](t, ctx, sideBySide) {
		t.Error("ciphertext and plaintext are side by side at 600 px")
	}
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1400, 1000)); err != nil {
		t.Fatal(err)
	}

	// Point at a byte of the ClientHello random: its row lights up and the
	// line under the dump explains it.
	if err := chromedp.Do(ctx, chromedp.Click(`[data-testid="trace-event"][data-type="ClientHello"]`), chromedp.WaitVisible(`[data-testid="field"][data-name="random"]`)); err != nil {
		t.Fatal(err)
	}
	got := evalJS[map[string]any](t, ctx, `(() => {
		const start = Number(document.querySelector('[data-testid="field"][data-name="random"] .range').dataset.start);
		const cell = document.querySelector('[data-testid="hex"] .b[data-i="' + (start + 3) + '"]');
		cell.dispatchEvent(new MouseEvent("mouseover", {bubbles: true}));
		return {row: document.querySelector('[data-testid="field"][data-name="random"]').classList.contains("hl"),
			lit: document.querySelectorAll('[data-testid="hex"] .b.hl').length,
			info: document.querySelector('[data-testid="byte-info"]').textContent};
	})()`)
	if got["row"] != true || got["lit"] != float64(32) || !strings.Contains(got["info"].(string), "random") {
		t.Errorf("pointing at a byte of the random: %v", got)
	}
}

// TestBrowserReplayDeepLink exports a session from the playground, serves
// it from another origin (with CORS) and opens it on the replay page with a
// deep link to one field of one broker event.
func TestBrowserReplayDeepLink(t *testing.T) {
	t.Parallel()
	app := startApp(t, testConfig(t), true)
	ctx := newBrowser(t)
	openPage(t, ctx, app)
	runDemo(t, ctx, "replay-test")
	// Catch the download instead of saving a file.
	session := evalJS[string](t, ctx, `new Promise((resolve) => {
		URL.createObjectURL = (blob) => { blob.text().then(resolve); return "about:blank"; };
		HTMLAnchorElement.prototype.click = function () {};
		document.querySelector('[data-testid="export-session"]').click();
	})`)
	var s struct {
		Client *trace.Recording `json:"client"`
		Broker *trace.Recording `json:"broker"`
	}
	if err := json.Unmarshal([]byte(session), &s); err != nil {
		t.Fatalf("export: %v\n%.300s", err, session)
	}
	if s.Client == nil || s.Broker == nil || s.Client.Side != trace.Client || s.Broker.Side != trace.Broker || len(s.Client.Chunks) == 0 || len(s.Broker.Chunks) == 0 || s.Client.KeyLog == "" {
		t.Fatalf("exported session lacks an end: %.300s", session)
	}

	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Access-Control-Allow-Origin", "*")
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, session)
	}))
	t.Cleanup(other.Close)
	src := url.QueryEscape(other.URL + "/session.json")
	if err := chromedp.Do(ctx, chromedp.Navigate("http://"+app.httpAddr+"/replay?src="+src+"#event=broker-1&field=random")); err != nil {
		t.Fatal(err)
	}
	waitJS(t, ctx, "the deep-linked field", `!!document.querySelector('[data-testid="field"][data-name="random"].sel')`)
	got := evalJS[map[string]any](t, ctx, `({
		row: document.querySelector('[data-testid="trace-event"].sel')?.dataset.events,
		record: document.querySelector('[data-testid="record-of"][aria-pressed="true"]')?.dataset.side,
		paired: document.querySelectorAll('[data-testid="trace-event"][data-paired="true"]').length,
		controls: document.querySelectorAll('[data-testid="demo"], [data-testid="connect"]').length,
		pinned: document.querySelectorAll('[data-testid="hex"] .b.pin').length,
		hash: location.hash,
	})`)
	if got["row"] != "client-1 broker-1" || got["record"] != "broker" || got["pinned"] != float64(32) || got["controls"] != float64(0) {
		t.Errorf("replay with #event=broker-1&field=random: %v", got)
	}
	if n, _ := got["paired"].(float64); n < 10 {
		t.Errorf("only %v paired rows in the replay of both ends", got["paired"])
	}

	// The broker's own recording, straight from the trace API, relative src.
	id := connID(t, app, "replay-test")
	if err := chromedp.Do(ctx, chromedp.Navigate("http://"+app.httpAddr+"/replay?src=/trace/"+id+"/recording#event=broker-5&field=cert_data&nth=2")); err != nil {
		t.Fatal(err)
	}
	waitJS(t, ctx, "the deep-linked certificate", `!!document.querySelector('[data-testid="field"][data-name="cert_data"][data-nth="2"].sel')`)
	if n := evalJS[int](t, ctx, `document.querySelectorAll('[data-testid="cert-card"]').length`); n != 2 {
		t.Errorf("%d certificate cards in the replayed broker Certificate", n)
	}
	if n := evalJS[int](t, ctx, `document.querySelectorAll('[data-testid="trace-event"][data-side="client"]').length`); n != 0 {
		t.Errorf("a broker-only replay shows %d client rows", n)
	}
}

// TestBrowserReplayBadSrc: the replay page refuses what it cannot or must
// not load, and says why.
func TestBrowserReplayBadSrc(t *testing.T) {
	t.Parallel()
	app := startApp(t, testConfig(t), true)
	ctx := newBrowser(t)
	noCORS := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `{"client": null, "broker": null}`)
	}))
	t.Cleanup(noCORS.Close)
	for src, want := range map[string]string{
		"javascript:alert(1)":      "not a javascript: URL",
		"/nope.json":               "answered 404",
		"/healthz":                 "not a saved session",
		noCORS.URL + "/x.json":     "CORS",
		"data:application/json,{}": "not a data: URL",
	} {
		if err := chromedp.Do(ctx, chromedp.Navigate("http://"+app.httpAddr+"/replay?src="+url.QueryEscape(src))); err != nil {
			t.Fatal(err)
		}
		waitJS(t, ctx, "an error for "+src, `(() => { const e = document.querySelector('[data-testid="replay-error"]'); return e && !e.hidden && e.textContent.length > 0; })()`)
		if msg := evalJS[string](t, ctx, `document.querySelector('[data-testid="replay-error"]').textContent`); !strings.Contains(msg, want) {
			t.Errorf("src %q: error %q, want %q", src, msg, want)
		}
		if n := evalJS[int](t, ctx, `document.querySelectorAll('[data-testid="trace-event"]').length`); n != 0 {
			t.Errorf("src %q: %d events shown", src, n)
		}
	}
}

// TestBrowserBrokerView: the /trace page lists a tunnelled connection as it
// happens, shows its events as the broker recorded them and follows new ones.
func TestBrowserBrokerView(t *testing.T) {
	t.Parallel()
	app := startApp(t, testConfig(t), true)
	ctx := newBrowser(t)
	if err := chromedp.Do(ctx, chromedp.Navigate("http://"+app.httpAddr+"/trace")); err != nil {
		t.Fatal(err)
	}
	waitJS(t, ctx, "the live feed", `document.querySelector('[data-testid="trace-status"]').textContent.startsWith("Live")`)
	c, _, err := dialTunnel(t, app, "mqtts", client.Options{ClientID: "broker-view", TLS: &client.TLSOptions{CAPEM: string(app.ca.RootPEM())}})
	if err != nil {
		t.Fatal(err)
	}
	waitJS(t, ctx, "the new connection in the list", `!!document.querySelector('[data-testid="conn"][data-client-id="broker-view"]')`)
	info := evalJS[map[string]string](t, ctx, `(() => { const b = document.querySelector('[data-testid="conn"][data-client-id="broker-view"]');
		return {id: b.dataset.id, text: b.textContent, state: b.querySelector('[data-testid="conn-state"]').textContent}; })()`)
	for _, want := range []string{info["id"], "broker-view", "mqtts", "TLS 1.3"} {
		if !strings.Contains(info["text"], want) {
			t.Errorf("list entry %q lacks %q", info["text"], want)
		}
	}
	if info["state"] != "open" {
		t.Errorf("state %q", info["state"])
	}
	if err := chromedp.Do(ctx, chromedp.Click(`[data-testid="conn"][data-client-id="broker-view"]`)); err != nil {
		t.Fatal(err)
	}
	waitJS(t, ctx, "the connection's CONNECT", `!!document.querySelector('[data-testid="trace-event"][data-type="CONNECT"][data-side="broker"]')`)
	if hash := evalJS[string](t, ctx, `location.hash`); hash != "#conn="+info["id"] {
		t.Errorf("fragment %q", hash)
	}
	if href := evalJS[string](t, ctx, `document.querySelector('[data-testid="download-pcapng"]').getAttribute("href")`); href != "/trace/"+info["id"]+".pcapng" {
		t.Errorf("pcapng link %q", href)
	}
	// New events arrive by themselves.
	if err := c.Publish(context.Background(), "x/broker-view", []byte("live"), 1, false); err != nil {
		t.Fatal(err)
	}
	waitJS(t, ctx, "the PUBLISH, live", `!!document.querySelector('[data-testid="trace-event"][data-type="PUBLISH"]')`)
	c.Close()
	waitJS(t, ctx, "the connection ended", `document.querySelector('[data-testid="conn"][data-client-id="broker-view"] [data-testid="conn-state"]').textContent.startsWith("ended")`)

	// Selecting an event names connection and event in the fragment, and
	// that link opens the same selection.
	if err := chromedp.Do(ctx, chromedp.Click(`[data-testid="trace-event"][data-type="PUBLISH"]`)); err != nil {
		t.Fatal(err)
	}
	hash := evalJS[string](t, ctx, `location.hash`)
	if !strings.HasPrefix(hash, "#conn="+info["id"]+"&event=broker-") {
		t.Fatalf("fragment %q", hash)
	}
	// (A query makes it a new page load, not a jump within this one.)
	if err := chromedp.Do(ctx, chromedp.Navigate("http://"+app.httpAddr+"/trace?from=link"+hash+"&field=Topic%20Name")); err != nil {
		t.Fatal(err)
	}
	waitJS(t, ctx, "the deep-linked PUBLISH topic", `!!document.querySelector('[data-testid="trace-event"][data-type="PUBLISH"].sel') && !!document.querySelector('[data-testid="field"][data-name="Topic Name"].sel')`)
}

// TestBrowserDownloadPcapng: the playground offers "Download .pcapng" only
// for a connection whose API has pcapng(), and saves what it returns.
func TestBrowserDownloadPcapng(t *testing.T) {
	t.Parallel()
	app := startApp(t, testConfig(t), true)
	ctx := newBrowser(t)
	openPage(t, ctx, app)
	hidden := `document.querySelector('[data-testid="download-pcapng"]').hidden`
	if !evalJS[bool](t, ctx, hidden) {
		t.Error("Download .pcapng shown before any connection")
	}
	evalJS[bool](t, ctx, `playground.connect().then(c => c.publish("x/pcap", "in the capture", {qos: 1})).then(() => true)`)
	if evalJS[bool](t, ctx, hidden) {
		t.Fatal("Download .pcapng hidden for a live connection")
	}
	got := evalJS[map[string]any](t, ctx, `new Promise((resolve) => {
		let blob;
		URL.createObjectURL = (b) => { blob = b; return "about:blank"; };
		HTMLAnchorElement.prototype.click = function () {
			const name = this.download;
			blob.arrayBuffer().then(buf => {
				const b = new Uint8Array(buf);
				resolve({size: b.length, name, magic: Array.from(b.slice(0, 4))});
			});
		};
		document.querySelector('[data-testid="download-pcapng"]').click();
	})`)
	// A pcapng file starts with a Section Header Block: 0x0A0D0D0A.
	magic, _ := got["magic"].([]any)
	if len(magic) != 4 || magic[0] != float64(0x0a) || magic[1] != float64(0x0d) || got["size"].(float64) < 1000 || !strings.HasSuffix(got["name"].(string), ".pcapng") {
		t.Errorf("download %v", got)
	}
}
