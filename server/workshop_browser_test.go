package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/mqtts-playground/playground/workshop"
)

// The instructor's dashboard, in Chromium, shows a device connection an
// attendee made with mosquitto_pub and their credentials, live; groups a
// failure by cause; shows what the attendee typed as text; and its note
// reaches the attendee's feed.
func TestBrowserInstructorDashboard(t *testing.T) {
	t.Parallel()
	app, origin := startClassOn(t, "dashboard.localhost")
	name := `Ada <b onmouseover="x()">"Lovelace"</b>`
	a := join(t, app, name)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if out, err := a.mosquitto(t, ctx, "mosquitto_pub", "-i", "ada-laptop", "-t", a.me.Topic+"/hello", "-m", "hi", "-q", "1"); err != nil {
		t.Fatalf("mosquitto_pub: %v %s", err, out)
	}
	bad := *a
	bad.me.Password = "not-the-password"
	if out, err := bad.mosquitto(t, ctx, "mosquitto_pub", "-i", "ada-typo", "-t", a.me.Topic+"/x", "-m", "x"); err == nil {
		t.Fatalf("a wrong password was accepted: %s", out)
	}

	b := newBrowser(t)
	if err := chromedp.Do(b, chromedp.Navigate(origin+"/instructor?token="+app.cfg.Token)); err != nil {
		t.Fatal(err)
	}
	waitJS(t, b, "the live dashboard", `document.querySelector('[data-testid="class-status"]')?.textContent.startsWith("Live")`)
	if u := evalJS[string](t, b, `location.href`); strings.Contains(u, "token") {
		t.Errorf("the token stayed in the address bar: %s", u)
	}
	row := fmt.Sprintf(`[data-testid="broker-conn"][data-owner=%q]`, a.me.ID)
	waitJS(t, b, "the device connection", fmt.Sprintf(`[...document.querySelectorAll('%s')].some((r) => r.textContent.includes("ada-laptop"))`, row))
	device := evalJS[string](t, b, fmt.Sprintf(`[...document.querySelectorAll('%s')].find((r) => r.textContent.includes("ada-laptop")).textContent`, row))
	for _, want := range []string{"mqtts", a.me.ID, "ok"} {
		if !strings.Contains(device, want) {
			t.Errorf("the device's row %q lacks %q", device, want)
		}
	}
	if got := evalJS[string](t, b, fmt.Sprintf(`document.querySelector('[data-testid="attendee-row"][data-id=%q] [data-testid="attendee-name"]').textContent`, a.me.ID)); got != name {
		t.Errorf("attendee name shown as %q", got)
	}
	if n := evalJS[int](t, b, `document.querySelectorAll('[data-testid="instructor"] b[onmouseover]').length`); n != 0 {
		t.Error("an attendee's name became markup")
	}
	waitJS(t, b, "the failure, grouped", `[...document.querySelectorAll('[data-testid="failure"]')].some((f) => f.textContent.includes("1 attendee hit wrong user name or password"))`)

	// A script in a name joining now (a second attendee at this address:
	// failures from it are no longer guessed to be Ada's) stays text.
	scripted := `<script>window.pwned=1</script>Bob`
	s := join(t, app, scripted)
	waitJS(t, b, "the second attendee, live", fmt.Sprintf(`document.querySelector('[data-testid="attendee-row"][data-id=%q]') !== null`, s.me.ID))
	if got := evalJS[string](t, b, fmt.Sprintf(`document.querySelector('[data-testid="attendee-row"][data-id=%q] [data-testid="attendee-name"]').textContent`, s.me.ID)); got != scripted {
		t.Errorf("attendee name shown as %q", got)
	}
	if n := evalJS[int](t, b, `document.querySelectorAll('[data-testid="instructor"] script').length`); n != 0 {
		t.Error("an attendee's name became a script element")
	}
	if pwned := evalJS[bool](t, b, `window.pwned !== undefined`); pwned {
		t.Error("a script in an attendee's name ran on the dashboard")
	}

	// Live: a new device connection appears without a reload.
	if out, err := a.mosquitto(t, ctx, "mosquitto_pub", "-i", "ada-second", "-t", a.me.Topic+"/again", "-m", "again", "-q", "1"); err != nil {
		t.Fatalf("mosquitto_pub: %v %s", err, out)
	}
	waitJS(t, b, "the second device connection, live", fmt.Sprintf(`[...document.querySelectorAll('%s')].some((r) => r.textContent.includes("ada-second"))`, row))
	// The filters narrow the broker view.
	if err := chromedp.Do(b, chromedp.SendKeys(`[data-testid="filter-client"]`, "ada-second")); err != nil {
		t.Fatal(err)
	}
	waitJS(t, b, "the filtered view", `document.querySelectorAll('[data-testid="broker-conn"]').length === 1`)

	// A note reaches the attendee's feed.
	feed := a.events(t)
	if err := chromedp.Do(b, chromedp.SetValue(`[data-testid="note-text"]`, "Break until 11:00"), chromedp.Click(`[data-testid="send-note"]`)); err != nil {
		t.Fatal(err)
	}
	if ev := feed(); ev.Kind != "note" || ev.Text != "Break until 11:00" {
		t.Errorf("the attendee's feed got %+v", ev)
	}
}

// startClassOn starts a class whose pages the test opens at host, a name
// of its own under .localhost (Chromium's loopback): cookies are kept per
// host, not per port, and the other browser tests, on 127.0.0.1, clear
// theirs when they end.
func startClassOn(t *testing.T, host string) (*App, string) {
	t.Helper()
	cfg := classConfig(t)
	cfg.SANs = []string{host}
	app := startApp(t, cfg, true)
	_, port, _ := net.SplitHostPort(app.httpAddr)
	return app, "http://" + net.JoinHostPort(host, port)
}

// events opens the attendee's feed (GET /workshop/events) and returns a
// function that waits for its next event.
func (a *attendee) events(t *testing.T) func() workshop.ClassEvent {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	req := mustRequest("GET", "http://"+a.app.httpAddr+"/workshop/events", "").WithContext(ctx)
	req.Header = a.cookieHeader()
	resp, err := a.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	evs := make(chan workshop.ClassEvent, 16)
	go func() {
		buf := make([]byte, 0, 4096)
		chunk := make([]byte, 4096)
		for {
			n, err := resp.Body.Read(chunk)
			buf = append(buf, chunk[:n]...)
			for {
				i := strings.Index(string(buf), "\n\n")
				if i < 0 {
					break
				}
				block := string(buf[:i])
				buf = buf[i+2:]
				if data, ok := strings.CutPrefix(block[strings.Index(block, "\n")+1:], "data: "); ok && strings.HasPrefix(block, "event: class") {
					var ev workshop.ClassEvent
					json.Unmarshal([]byte(data), &ev)
					evs <- ev
				}
			}
			if err != nil {
				close(evs)
				return
			}
		}
	}()
	return func() workshop.ClassEvent {
		t.Helper()
		select {
		case ev := <-evs:
			return ev
		case <-time.After(20 * time.Second):
			t.Fatal("no event on the attendee's feed")
			return workshop.ClassEvent{}
		}
	}
}

// waitNavigated is waitJS across a navigation the page makes itself,
// during which a poll may fail with the old page.
func waitNavigated(t *testing.T, ctx context.Context, what, expr string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		v, err := chromedp.Run(ctx, chromedp.Evaluate[bool](expr))
		if err == nil && v {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("waiting for %s: %v", what, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// An attendee joins in Chromium: their page lists their device
// connections live, makes a client certificate in the page, and follows
// the instructor's note and push to a lesson step.
func TestBrowserAttendeePage(t *testing.T) {
	t.Parallel()
	app, origin := startClassOn(t, "attendee.localhost")
	b := newBrowser(t)
	if err := chromedp.Do(b, chromedp.Navigate(origin+"/")); err != nil {
		t.Fatal(err)
	}
	waitJS(t, b, "the join form", `location.pathname === "/join" && !!document.querySelector('[data-testid="join-name"]')`)
	if err := chromedp.Do(b, chromedp.SetValue(`[data-testid="join-name"]`, "Grace"), chromedp.Click(`[data-testid="join"]`)); err != nil {
		t.Fatal(err)
	}
	// Back where the visitor meant to go, then to their own page.
	waitNavigated(t, b, "the playground after joining", `location.pathname === "/" && !!document.querySelector('[data-testid="class-bar"]')`)
	if err := chromedp.Do(b, chromedp.Navigate(origin+"/attendee")); err != nil {
		t.Fatal(err)
	}
	waitJS(t, b, "the attendee page's feed", `document.querySelector('[data-testid="my-conns-status"]')?.textContent.startsWith("None yet")`)
	var me workshop.Me
	if err := json.Unmarshal([]byte(evalJS[string](t, b, `fetch("/workshop/me").then((r) => r.text())`)), &me); err != nil {
		t.Fatal(err)
	}
	if got := evalJS[string](t, b, `document.querySelector('[data-testid="attendee-password"]').textContent`); got != me.Password || me.Name != "Grace" {
		t.Fatalf("page shows password %q, /workshop/me %+v", got, me)
	}
	if me.Host != "attendee.localhost" {
		t.Errorf("the snippets' host is %q, not the one the page was reached by", me.Host)
	}
	me.Host = "127.0.0.1" // the name Chromium resolves may not resolve here
	a := &attendee{app: app, me: me}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if out, err := a.mosquitto(t, ctx, "mosquitto_pub", "-i", "grace-laptop", "-t", me.Topic+"/hi", "-m", "hi", "-q", "1"); err != nil {
		t.Fatalf("mosquitto_pub: %v %s", err, out)
	}
	waitJS(t, b, "the device connection on the attendee's page", `[...document.querySelectorAll('[data-testid="my-conn"][data-kind="device"]')].some((c) => c.textContent.includes("grace-laptop"))`)

	if err := chromedp.Do(b, chromedp.Click(`[data-testid="get-cert"]`)); err != nil {
		t.Fatal(err)
	}
	waitJS(t, b, "the certificate", `document.querySelector('[data-testid="cert-status"]').className.includes("ok")`)
	if certs := app.class.CertsOf(me.ID); len(certs) != 1 || certs[0].CN != me.ID {
		t.Errorf("certificates of the attendee: %+v", certs)
	}

	if err := app.class.Note("Look at the projector"); err != nil {
		t.Fatal(err)
	}
	waitJS(t, b, "the instructor's note", `document.querySelector('[data-testid="class-note"]').textContent.includes("Look at the projector")`)
	lesson := app.course.Lessons[1]
	if err := app.class.Goto(lesson.ID, 2); err != nil {
		t.Fatal(err)
	}
	waitNavigated(t, b, "the push to a lesson step", fmt.Sprintf(`location.pathname === "/lessons/%s" && location.hash === "#step-2"`, lesson.ID))
	// The lesson page runs as the attendee: its learner id is theirs.
	waitJS(t, b, "the lesson runner", `!!window.lessonRunner`)
}
