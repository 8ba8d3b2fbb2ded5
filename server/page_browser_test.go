package main

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/mqtts-playground/playground/lessons"
)

// connectDeclining presses Connect for the mtls listener with no
// certificate chosen and, offered one, connects without it.
func connectDeclining(t *testing.T, ctx context.Context) {
	t.Helper()
	if err := chromedp.Do(ctx,
		chromedp.Click(`[data-testid="connect"]`),
		chromedp.WaitVisible(`[data-testid="mtls-offer"]`),
		chromedp.Click(`[data-testid="offer-without"]`),
	); err != nil {
		t.Fatal(err)
	}
}

// sawMTLS reports whether the broker had an mtls connection whose client
// certificate is named cn.
func sawMTLS(app *App, cn string) bool {
	for _, c := range app.broker.Conns() {
		if c.Listener == "mtls" && c.PeerCN == cn {
			return true
		}
	}
	return false
}

// choose picks an option of a select as a person does: the value changes
// and the page hears "change".
func choose(t *testing.T, ctx context.Context, testid, value string) {
	t.Helper()
	sel := `[data-testid="` + testid + `"]`
	if err := chromedp.Do(ctx, chromedp.SetValue(sel, value)); err != nil {
		t.Fatal(err)
	}
	if got := evalJS[string](t, ctx, `(() => { const s = document.querySelector('`+sel+`'); s.dispatchEvent(new Event("change", {bubbles: true})); return s.value; })()`); got != value {
		t.Fatalf("%s has no option %q", testid, value)
	}
}

// overflowJS reports what sticks out sideways on the page: empty when the
// page is no wider than the window. It measures the root and the body by
// their scroll width, which counts what a hidden overflow would cut off
// too, and names the elements that reach past the window outside any
// scrolling box, to say where to look.
const overflowJS = `(() => {
	const W = document.documentElement.clientWidth, out = [];
	for (const el of [document.documentElement, document.body]) {
		if (el.scrollWidth > W) out.push(el.tagName + " is " + el.scrollWidth + " px wide in a " + W + " px window");
	}
	if (out.length) {
		for (const el of document.querySelectorAll("body *")) {
			const r = el.getBoundingClientRect();
			if (!r.width || r.right <= W + 1) continue;
			let p = el.parentElement, inScroller = false;
			for (; p && p !== document.body; p = p.parentElement) if (["auto", "scroll", "hidden"].includes(getComputedStyle(p).overflowX)) { inScroller = true; break; }
			if (!inScroller) out.push(el.tagName.toLowerCase() + (el.className ? "." + String(el.className).split(" ").join(".") : "") + (el.dataset.testid ? "[" + el.dataset.testid + "]" : "") + " reaches " + Math.round(r.right) + " px");
			if (out.length > 12) break;
		}
	}
	return out;
})()`

// TestBrowserNoHorizontalOverflow: at 1440 and 400 px no page is wider
// than the window, with content in it: the playground after the demo with
// a certificate selected, the course map, a lesson after a step ran (on a
// narrow screen its trace drawer open) and the broker view with a
// connection open, and the replay of the demo.
func TestBrowserNoHorizontalOverflow(t *testing.T) {
	t.Parallel()
	app := startApp(t, testConfig(t), true)
	lesson, step := lessonWithPlainStep(t, app)
	for _, width := range []int64{1440, 400} {
		t.Run(fmt.Sprint(width), func(t *testing.T) {
			t.Parallel()
			ctx := newBrowser(t)
			if err := chromedp.Do(ctx, chromedp.EmulateViewport(width, 900)); err != nil {
				t.Fatal(err)
			}
			check := func(page string) {
				t.Helper()
				if out := evalJS[[]string](t, ctx, overflowJS); len(out) > 0 {
					t.Errorf("%s at %d px overflows sideways:\n  %s", page, width, strings.Join(out, "\n  "))
				}
			}

			openPage(t, ctx, app)
			runDemo(t, ctx, fmt.Sprintf("overflow-%d", width))
			if err := chromedp.Do(ctx,
				chromedp.Click(`[data-testid="trace-event"][data-type="Certificate"]`),
				chromedp.WaitVisible(`[data-testid="cert-card"]`),
			); err != nil {
				t.Fatal(err)
			}
			check("/ (the demo, a certificate selected)")
			if width > 1000 {
				// The trace takes the screen's height, the detail pane under the diagram.
				g := evalJS[map[string]float64](t, ctx, `(() => { const p = document.querySelector(".trace-panel.full").getBoundingClientRect(),
					seq = document.querySelector(".trace-panel.full .seq-pane").getBoundingClientRect(), d = document.querySelector('.trace-panel.full [data-testid="trace-detail"]').getBoundingClientRect();
					return {H: innerHeight, panel: p.height, seqBottom: seq.bottom, detailTop: d.top, detailBottom: d.bottom, panelBottom: p.bottom}; })()`)
				if g["panel"] < g["H"]-40 || g["detailTop"] < g["seqBottom"]-1 || g["detailBottom"] > g["panelBottom"]+1 {
					t.Errorf("the trace panel at %d px: %v; want the screen's height, the detail under the diagram inside it", width, g)
				}
			}

			if err := chromedp.Do(ctx, chromedp.Navigate("http://"+app.httpAddr+"/lessons"), chromedp.WaitVisible(`[data-testid="course-lesson"]`)); err != nil {
				t.Fatal(err)
			}
			check("/lessons")

			openLesson(t, ctx, app, "/lessons/"+lesson)
			if err := chromedp.Do(ctx, chromedp.Click(fmt.Sprintf(`[data-testid="step"][data-step="%d"] [data-testid="run"]`, step))); err != nil {
				t.Fatal(err)
			}
			waitJS(t, ctx, "the step's events in the lesson trace", `document.querySelectorAll('[data-testid="lesson-trace"] [data-testid="trace-event"]').length >= 2`)
			if width < 1000 && !evalJS[bool](t, ctx, `document.body.classList.contains("drawer-open")`) {
				t.Error("running a step on a narrow screen did not open the trace drawer next to it")
			}
			if width < 1000 {
				// On screen together: the step's Do button above the open
				// drawer, and rows of the trace (events or fields) in it.
				inView := fmt.Sprintf(`(() => { const side = document.querySelector(".lesson-side").getBoundingClientRect();
					const run = document.querySelector('[data-testid="step"][data-step="%d"] [data-testid="run"]').getBoundingClientRect();
					const rows = [...document.querySelectorAll('[data-testid="lesson-trace"] [data-testid="trace-event"], [data-testid="lesson-trace"] [data-testid="field"]')]
						.map((el) => el.getBoundingClientRect()).filter((r) => r.height > 0 && r.top >= side.top && r.bottom <= side.bottom);
					return side.top > innerHeight * 0.3 && run.top >= 0 && run.bottom <= side.top && rows.length > 0; })()`, step)
				waitJS(t, ctx, "the step and its trace on screen together", inView)
			}
			check("/lessons/" + lesson + " (a step run)")

			if err := chromedp.Do(ctx, chromedp.Navigate("http://"+app.httpAddr+"/trace"), chromedp.WaitVisible(`[data-testid="conn"]`)); err != nil {
				t.Fatal(err)
			}
			// The live list is drawn anew as connections change: click whichever is there now.
			evalJS[bool](t, ctx, `(document.querySelector('[data-testid="conn"]').click(), true)`)
			waitJS(t, ctx, "a connection's events on /trace", `document.querySelectorAll('[data-testid="trace-event"]').length > 3`)
			if err := chromedp.Do(ctx, chromedp.Click(`[data-testid="trace-event"][data-type="CONNECT"]`), chromedp.WaitVisible(`[data-testid="field-table"]`)); err != nil {
				t.Fatal(err)
			}
			check("/trace (a connection open, CONNECT selected)")

			// Readable field columns: a field's name and value get room.
			waitJS(t, ctx, "CONNECT's Keep Alive field", `!!document.querySelector('[data-testid="field"][data-name="Keep Alive"]')`)
			cols := evalJS[map[string]float64](t, ctx, `(() => { const tr = document.querySelector('[data-testid="field"][data-name="Keep Alive"]');
				return {name: tr.querySelector("td.name").getBoundingClientRect().width, value: tr.querySelector("td.value").getBoundingClientRect().width}; })()`)
			if cols["name"] < 90 || cols["value"] < 120 {
				t.Errorf("the field table at %d px gives a field name %.0f px and its value %.0f px", width, cols["name"], cols["value"])
			}

			// The replay of the demo's broker side, a certificate selected.
			var id string
			for _, c := range app.broker.Conns() {
				if c.ClientID == fmt.Sprintf("overflow-%d", width) {
					id = c.ID
				}
			}
			if err := chromedp.Do(ctx, chromedp.Navigate("http://"+app.httpAddr+"/replay?src=/trace/"+id+"/recording#event=broker-5&field=cert_data")); err != nil {
				t.Fatal(err)
			}
			waitJS(t, ctx, "the replayed certificate", `!!document.querySelector('[data-testid="cert-card"]')`)
			check("/replay (the demo's broker side, a certificate selected)")
		})
	}
}

// lessonWithPlainStep finds a lesson step that runs without a prediction
// first: the first step of the course with a do block and no predict.
func lessonWithPlainStep(t *testing.T, app *App) (string, int) {
	t.Helper()
	for _, l := range app.course.Lessons {
		for _, s := range l.Steps {
			do, predict := false, false
			for _, p := range s.Body {
				if p.Block != nil {
					do = do || p.Block.Kind == lessons.Do
					predict = predict || p.Block.Kind == lessons.Predict
				}
			}
			if do && !predict {
				return l.ID, s.N
			}
		}
	}
	t.Fatal("no lesson step runs without a prediction")
	return "", 0
}

// TestBrowserFailedConnectExplained: a failed connect to the expired lesson
// listener, made with the page's controls, shows the certificate checks
// with ✘ on the failed step, the broker's side of the attempt (the
// NewSessionTicket only the broker's keys decrypt, said so, and what the
// broker recorded and logged) and what the listener's fault is.
func TestBrowserFailedConnectExplained(t *testing.T) {
	t.Parallel()
	app := startApp(t, testConfig(t), true)
	ctx := newBrowser(t)
	openPage(t, ctx, app)
	waitJS(t, ctx, "the listener list from /healthz", `!!document.querySelector('[data-testid="listener"] option[value="expired"]')`)
	choose(t, ctx, "listener", "expired")
	if err := chromedp.Do(ctx,
		chromedp.Click(`[data-testid="connect"]`),
		chromedp.WaitVisible(`[data-testid="check"][data-ok="false"]`),
	); err != nil {
		t.Fatal(err)
	}
	failedChecks := evalJS[[]string](t, ctx, `[...document.querySelectorAll('[data-testid="check"][data-ok="false"]')].map(li => li.textContent)`)
	var validity bool
	for _, c := range failedChecks {
		validity = validity || strings.HasPrefix(c, "✘ validity window") && strings.Contains(c, "expired")
	}
	if !validity {
		t.Errorf("failed checks %q, want ✘ on the validity window", failedChecks)
	}
	if status := evalJS[string](t, ctx, `document.querySelector('[data-testid="status"]').textContent`); !strings.HasPrefix(status, "certificate has expired") {
		t.Errorf("status %q", status)
	}
	waitJS(t, ctx, "the broker's side of the failed attempt", `document.querySelectorAll('[data-testid="trace-event"][data-side="both"]').length >= 5`)
	type row struct{ Type, Side, ByBroker string }
	rows := evalJS[[]row](t, ctx, `[...document.querySelectorAll('[data-testid="trace-event"]')].map(li => ({type: li.dataset.type, side: li.dataset.side, byBroker: li.querySelector('[data-testid="decrypted-by-broker"]')?.textContent ?? ""}))`)
	var certificate, ticket bool
	for _, r := range rows {
		certificate = certificate || r.Type == "Certificate" && r.Side == "both"
		ticket = ticket || r.Type == "NewSessionTicket" && r.ByBroker != ""
		if strings.Contains(r.Type, "ApplicationData") && r.Side == "both" {
			t.Errorf("a record both ends saw is shown as %s", r.Type)
		}
	}
	if !certificate || !ticket {
		t.Errorf("rows %+v: want the Certificate seen by both ends and the NewSessionTicket decrypted with the broker's keys", rows)
	}
	// The ticket's detail: the broker's record, decrypted, and why.
	if err := chromedp.Do(ctx, chromedp.Click(`[data-testid="trace-event"][data-type="NewSessionTicket"]`), chromedp.WaitVisible(`[data-testid="broker-keys-note"]`)); err != nil {
		t.Fatal(err)
	}
	if n := evalJS[int](t, ctx, `document.querySelectorAll('[data-testid="trace-detail"] [data-testid="event-error"]').length`); n != 0 {
		t.Errorf("the ticket's detail shows %d errors", n)
	}
	// What the broker recorded and logged about the attempt.
	waitJS(t, ctx, "the broker's record of the attempt", `!document.querySelector('[data-testid="broker-said"]').hidden`)
	if said := evalJS[string](t, ctx, `document.querySelector('[data-testid="broker-said"]').textContent`); !strings.Contains(said, "the client") || !strings.Contains(said, "deliberate fault: expired certificate") {
		t.Errorf("the broker's record in the page: %q", said)
	}
	fault := evalJS[string](t, ctx, `(() => { const f = document.querySelector('[data-testid="fault"]'); return f.hidden ? "" : f.textContent; })()`)
	if !strings.Contains(fault, "expired certificate") || !strings.Contains(fault, "Renew certificates") {
		t.Errorf("fault box %q", fault)
	}
}

// TestBrowserMTLSFromControls: the mtls listener works from the page's
// controls alone. Choosing it with no client certificate offers to make
// one; after that connection, one with no certificate chosen resumes the
// session and the page says why it was let in.
func TestBrowserMTLSFromControls(t *testing.T) {
	t.Parallel()
	app := startApp(t, testConfig(t), true)
	ctx := newBrowser(t)
	openPage(t, ctx, app)
	waitJS(t, ctx, "the listener list from /healthz", `!!document.querySelector('[data-testid="listener"] option[value="mtls"]')`)
	choose(t, ctx, "listener", "mtls")
	if err := chromedp.Do(ctx,
		chromedp.Click(`[data-testid="connect"]`),
		chromedp.WaitVisible(`[data-testid="mtls-offer"]`),
		chromedp.SendKeys(`[data-testid="identity-name"]`, "ui-sensor"),
		chromedp.Click(`[data-testid="offer-create"]`),
	); err != nil {
		t.Fatal(err)
	}
	waitJS(t, ctx, "connected to mtls", `document.querySelector('[data-testid="status"]').textContent.startsWith("Connected to mtls")`)
	if id := evalJS[string](t, ctx, `document.querySelector('[data-testid="tls-identity"]').value`); id != "ui-sensor" {
		t.Errorf("identity chosen after creating one: %q", id)
	}
	if err := chromedp.Do(ctx,
		chromedp.SetValue(`[data-testid="filter"]`, "x/ui/#"),
		chromedp.Click(`[data-testid="subscribe"]`),
		chromedp.SetValue(`[data-testid="topic"]`, "x/ui/a"),
		chromedp.Click(`[data-testid="publish"]`),
	); err != nil {
		t.Fatal(err)
	}
	waitJS(t, ctx, "the message published from the page", `document.querySelectorAll('[data-testid="message"]').length > 0`)
	if !sawMTLS(app, "ui-sensor") {
		t.Errorf("the broker saw no mtls connection with the certificate ui-sensor: %+v", app.broker.Conns())
	}
	if q := evalJS[string](t, ctx, `location.search`); !strings.Contains(q, "listener=mtls") || !strings.Contains(q, "identity=ui-sensor") {
		t.Errorf("the address bar keeps %q", q)
	}

	// No certificate chosen: the page offers one again; connecting without
	// it resumes the session, which carries the earlier certificate.
	choose(t, ctx, "tls-identity", "")
	connectDeclining(t, ctx)
	waitJS(t, ctx, "connected again", `document.querySelector('[data-testid="status"]').textContent.startsWith("Connected to mtls")`)
	got := evalJS[map[string]string](t, ctx, `({status: document.querySelector('[data-testid="status"]').textContent, note: document.querySelector('[data-testid="conn-note"]').textContent})`)
	if !strings.HasSuffix(got["status"], "resumed") || !strings.Contains(got["note"], "resumed an earlier session") || !strings.Contains(got["note"], "succeeded with none chosen") {
		t.Errorf("a resumed mtls connection without a certificate: %v", got)
	}
}

// A saved connection keeps the settings (and never the password), and
// choosing it puts them back.
func TestBrowserSavedConnection(t *testing.T) {
	t.Parallel()
	app := startApp(t, testConfig(t), true)
	ctx := newBrowser(t)
	openPage(t, ctx, app)
	waitJS(t, ctx, "the listener list from /healthz", `!!document.querySelector('[data-testid="listener"] option[value="tls12-only"]')`)
	choose(t, ctx, "listener", "tls12-only")
	choose(t, ctx, "tls-groups", "classic")
	if err := chromedp.Do(ctx,
		chromedp.SendKeys(`[data-testid="password"]`, "hunter2"),
		chromedp.SendKeys(`[data-testid="profile-name"]`, "old device"),
		chromedp.Click(`[data-testid="profile-save"]`),
	); err != nil {
		t.Fatal(err)
	}
	if stored := evalJS[string](t, ctx, `localStorage.getItem("mqtts-playground:profiles") ?? ""`); !strings.Contains(stored, `"groups":"classic"`) || strings.Contains(stored, "hunter2") {
		t.Errorf("stored profiles %s", stored)
	}
	openPage(t, ctx, app) // a fresh page: defaults again
	waitJS(t, ctx, "the saved connection listed", `!!document.querySelector('[data-testid="profile"] option[value="old device"]')`)
	choose(t, ctx, "profile", "old device")
	got := evalJS[[]string](t, ctx, `["listener", "tls-groups", "password"].map(id => document.querySelector('[data-testid="' + id + '"]').value)`)
	if got[0] != "tls12-only" || got[1] != "classic" || got[2] != "" {
		t.Errorf("after choosing the saved connection: listener, groups, password = %q", got)
	}
}

// TestBrowserRevokedResumedFromControls: after the certificate of an
// earlier mtls session is revoked, a connect from the page with no
// certificate chosen resumes that session and is refused; the page says
// the certificate was revoked (alert 44) and that it came with the resumed
// session, not that the client sent none.
func TestBrowserRevokedResumedFromControls(t *testing.T) {
	t.Parallel()
	app := startApp(t, testConfig(t), true)
	ctx := newBrowser(t)
	openPage(t, ctx, app)
	waitJS(t, ctx, "the listener list from /healthz", `!!document.querySelector('[data-testid="listener"] option[value="mtls"]')`)
	// An identity, a session made with it (its ticket read), then the
	// identity revoked with the page's own key.
	version := evalJS[string](t, ctx, `(async () => {
		const id = await playground.createIdentity("soon-revoked");
		const c = await playground.connect({listener: "mtls", tls: {identity: id.id}});
		await c.subscribe("x/revoked", 1);
		const v = c.tlsInfo().version;
		await c.close();
		await playground.revokeIdentity(id.id);
		return v;
	})()`)
	if version != "TLS 1.3" {
		t.Fatalf("mtls version %q", version)
	}
	choose(t, ctx, "listener", "mtls")
	connectDeclining(t, ctx)
	waitJS(t, ctx, "the refusal", `document.querySelector('[data-testid="status"]').className.includes("bad")`)
	status := evalJS[string](t, ctx, `document.querySelector('[data-testid="status"]').textContent`)
	if !strings.Contains(status, "revoked") || !strings.Contains(status, "earlier session") || strings.Contains(status, "sent none") {
		t.Errorf("status after connecting with a revoked session's ticket: %q", status)
	}
}

// TestBrowserTLSControlsFromLink: the TLS panel's settings travel in a
// link, and each maps to the connect: a link with skip verification,
// TLS 1.2 at most, P-256 alone and no resumption connects to wrong-host
// with those parameters (the name check still shown failed), twice
// without resuming; trust "none" then refuses the playground's broker, and
// TLS 1.3 at least finds no common version with tls12-only.
func TestBrowserTLSControlsFromLink(t *testing.T) {
	t.Parallel()
	app := startApp(t, testConfig(t), true)
	ctx := newBrowser(t)
	if err := chromedp.Do(ctx, chromedp.Navigate("http://"+app.httpAddr+"/?listener=wrong-host&skip=1&max=1.2&groups=p256&resume=0")); err != nil {
		t.Fatal(err)
	}
	waitJS(t, ctx, "the wasm client and the listener list", `document.querySelector('[data-testid="listener"]').value === "wrong-host" && document.querySelector('[data-testid="status"]').textContent.startsWith("Go wasm client loaded")`)
	form := evalJS[map[string]any](t, ctx, `(() => { const q = (id) => document.querySelector('[data-testid="' + id + '"]');
		return {skip: q("tls-skip").checked, warning: !q("tls-skip-warning").hidden, max: q("tls-max").value, groups: q("tls-groups").value, resume: q("tls-resume").checked}; })()`)
	if form["skip"] != true || form["warning"] != true || form["max"] != "1.2" || form["groups"] != "p256" || form["resume"] != false {
		t.Errorf("the form from the link: %v", form)
	}
	for i := range 2 {
		evalJS[string](t, ctx, `document.querySelector('[data-testid="status"]').textContent = ""`)
		if err := chromedp.Do(ctx, chromedp.Click(`[data-testid="connect"]`)); err != nil {
			t.Fatal(err)
		}
		waitJS(t, ctx, "connected to wrong-host", `document.querySelector('[data-testid="status"]').textContent.startsWith("Connected to wrong-host")`)
		status := evalJS[string](t, ctx, `document.querySelector('[data-testid="status"]').textContent`)
		if !strings.Contains(status, "TLS 1.2") || !strings.Contains(status, "secp256r1") || strings.HasSuffix(status, "resumed") {
			t.Errorf("connect %d with the link's settings: %q", i+1, status)
		}
		failed := evalJS[[]string](t, ctx, `[...document.querySelectorAll('[data-testid="check"][data-ok="false"]')].map(li => li.textContent)`)
		if len(failed) == 0 {
			t.Errorf("connect %d skipped verification but shows no failed check", i+1)
		}
	}
	// Trust nothing: the playground's own broker is refused.
	choose(t, ctx, "listener", "mqtts")
	choose(t, ctx, "tls-trust", "none")
	if err := chromedp.Do(ctx, chromedp.Click(`[data-testid="tls-skip"]`), chromedp.Click(`[data-testid="connect"]`)); err != nil {
		t.Fatal(err)
	}
	waitJS(t, ctx, "the refusal", `document.querySelector('[data-testid="status"]').className.includes("bad")`)
	if q := evalJS[string](t, ctx, `location.search`); !strings.Contains(q, "trust=none") || strings.Contains(q, "skip=1") {
		t.Errorf("the address bar keeps %q", q)
	}
	if status := evalJS[string](t, ctx, `document.querySelector('[data-testid="status"]').textContent`); !strings.Contains(status, "authority") {
		t.Errorf("status with no CA trusted: %q", status)
	}
	// TLS 1.3 at least, to the TLS 1.2 listener: no common version, in plain words.
	choose(t, ctx, "listener", "tls12-only")
	choose(t, ctx, "tls-trust", "ca")
	choose(t, ctx, "tls-max", "")
	choose(t, ctx, "tls-min", "1.3")
	evalJS[string](t, ctx, `(() => { const s = document.querySelector('[data-testid="status"]'); s.className = ""; return s.textContent = ""; })()`)
	if err := chromedp.Do(ctx, chromedp.Click(`[data-testid="connect"]`)); err != nil {
		t.Fatal(err)
	}
	waitJS(t, ctx, "the refusal", `document.querySelector('[data-testid="status"]').className.includes("bad")`)
	if status := evalJS[string](t, ctx, `document.querySelector('[data-testid="status"]').textContent`); !strings.Contains(status, "TLS version") || strings.Contains(status, "remote error") || strings.Contains(status, "[30") {
		t.Errorf("status for TLS 1.3 at least to tls12-only: %q", status)
	}
}

// TestBrowserPastedPEMs: a CA and a client certificate with its key, pasted
// into the TLS panel, make an mtls connection; the link keeps neither.
func TestBrowserPastedPEMs(t *testing.T) {
	t.Parallel()
	app := startApp(t, testConfig(t), true)
	_, _, opts := issue(t, app, "pasted-device")
	ctx := newBrowser(t)
	openPage(t, ctx, app)
	waitJS(t, ctx, "the listener list from /healthz", `!!document.querySelector('[data-testid="listener"] option[value="mtls"]')`)
	choose(t, ctx, "listener", "mtls")
	choose(t, ctx, "tls-trust", "pem")
	waitJS(t, ctx, "the identity list", `!!document.querySelector('[data-testid="tls-identity"] option[value="paste"]')`)
	choose(t, ctx, "tls-identity", "paste")
	for id, v := range map[string]string{"tls-ca-pem": opts.CAPEM, "tls-cert-pem": opts.CertPEM, "tls-key-pem": opts.KeyPEM} {
		if err := chromedp.Do(ctx, chromedp.SetValue(`[data-testid="`+id+`"]`, v)); err != nil {
			t.Fatal(err)
		}
	}
	if err := chromedp.Do(ctx, chromedp.Click(`[data-testid="connect"]`)); err != nil {
		t.Fatal(err)
	}
	waitJS(t, ctx, "connected to mtls", `document.querySelector('[data-testid="status"]').textContent.startsWith("Connected to mtls")`)
	if !sawMTLS(app, "pasted-device") {
		t.Errorf("the broker saw no mtls connection with the pasted certificate: %+v", app.broker.Conns())
	}
	if q := evalJS[string](t, ctx, `location.search`); strings.Contains(q, "BEGIN") || strings.Contains(q, "identity=") || !strings.Contains(q, "trust=pem") {
		t.Errorf("the address bar keeps %q", q)
	}
}

// TestBrowserSavedIdentityPicked: an identity kept in this browser is
// offered in the TLS panel after a reload, and picking it makes the mtls
// connection with its certificate.
func TestBrowserSavedIdentityPicked(t *testing.T) {
	t.Parallel()
	app := startApp(t, testConfig(t), true)
	ctx := newBrowser(t)
	openPage(t, ctx, app)
	evalJS[string](t, ctx, `(async () => { const id = await playground.createIdentity("kept-sensor"); await playground.saveIdentity(id.id); return id.name; })()`)
	openPage(t, ctx, app)
	waitJS(t, ctx, "the kept identity in the TLS panel", `!!document.querySelector('[data-testid="tls-identity"] option[value="kept-sensor"]')`)
	choose(t, ctx, "listener", "mtls")
	choose(t, ctx, "tls-identity", "kept-sensor")
	if err := chromedp.Do(ctx, chromedp.Click(`[data-testid="connect"]`)); err != nil {
		t.Fatal(err)
	}
	waitJS(t, ctx, "connected to mtls", `document.querySelector('[data-testid="status"]').textContent.startsWith("Connected to mtls")`)
	if !sawMTLS(app, "kept-sensor") {
		t.Errorf("the broker saw no mtls connection with the kept certificate: %+v", app.broker.Conns())
	}
}
