package main

import (
	"context"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/mqtts-playground/playground/trace"
)

// chromiumPath finds a Chromium or Chrome to drive; CHROME overrides.
func chromiumPath(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("CHROME"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "headless-shell"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Fatal("no Chromium found for the browser tests: install it (Debian: sudo apt-get install chromium; .ci/run does this) or set CHROME to a Chrome binary")
	return ""
}

// newBrowser starts a headless Chromium for one test.
func newBrowser(t *testing.T) context.Context {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath(t)),
		chromedp.Headless, chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck, chromedp.DisableGPU,
		chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1400, 1000),
		// This machine's network is closed: keep Chromium from calling home.
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
	}
	if os.Geteuid() == 0 {
		opts = append(opts, chromedp.NoSandbox) // Chromium refuses to run as root with its sandbox
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx, chromedp.WithBrowserOption(chromedp.WithConsolef(func(f string, a ...any) { t.Logf("console: "+f, a...) })))
	ctx, cancelTimeout := context.WithTimeout(ctx, 90*time.Second)
	t.Cleanup(func() { cancelTimeout(); cancel(); cancelAlloc() })
	return ctx
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
		Version string `json:"version"`
		Group   string `json:"group"`
	} `json:"tls"`
	LoadToHandshakeMS float64 `json:"loadToHandshakeMs"`
	HandshakeMS       float64 `json:"handshakeMs"`
}

func TestBrowserPublishReceive(t *testing.T) {
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
			loadToHandshakeMs: t1, handshakeMs: t1 - t0};
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
	// The broker's side of the same connection, fetched by the page.
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

func TestBrowserWrongCA(t *testing.T) {
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
