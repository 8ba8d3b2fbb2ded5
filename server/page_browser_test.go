package main

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/mqtts-playground/playground/lessons"
)

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
// connection open.
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
// NewSessionTicket only the broker's keys decrypt, said so) and what the
// listener's fault is.
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
	var seen bool
	for _, c := range app.broker.Conns() {
		seen = seen || c.Listener == "mtls" && c.PeerCN == "ui-sensor"
	}
	if !seen {
		t.Errorf("the broker saw no mtls connection with the certificate ui-sensor: %+v", app.broker.Conns())
	}
	if q := evalJS[string](t, ctx, `location.search`); !strings.Contains(q, "listener=mtls") || !strings.Contains(q, "identity=ui-sensor") {
		t.Errorf("the address bar keeps %q", q)
	}

	// No certificate chosen: the page offers one again; connecting without
	// it resumes the session, which carries the earlier certificate.
	choose(t, ctx, "tls-identity", "")
	if err := chromedp.Do(ctx,
		chromedp.Click(`[data-testid="connect"]`),
		chromedp.WaitVisible(`[data-testid="mtls-offer"]`),
		chromedp.Click(`[data-testid="offer-without"]`),
	); err != nil {
		t.Fatal(err)
	}
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
