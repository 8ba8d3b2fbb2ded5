package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// widgetHost is a documentation page of another origin with the widgets: a
// recorded trace at the top and two connect buttons 3,000 px below. Its
// own rules for li, .ev and .seq (class names the widget uses too) must
// stay out of the widgets, and the widgets' rules out of the page. It
// counts wasm compilations and instantiations and records the widgets'
// events; %s is the playground's origin.
const widgetHost = `<!DOCTYPE html>
<html><head><title>docs</title>
<style>
li { color: rgb(255, 0, 0); }
.ev { color: rgb(255, 0, 0); font-size: 31px; }
.seq { padding: 17px; list-style: square; }
button { background: rgb(0, 128, 0); }
</style></head><body style="margin:0">
<ul><li id="host-li" class="ev">A list item of the docs page</li></ul>
<ol id="host-seq" class="seq trace-view"><li>ordered</li></ol>
<button id="host-button">a docs button</button>
<mqtts-trace id="trace" src="/session.json" event="%s" field="random"></mqtts-trace>
<p style="height:3000px">More documentation.</p>
<mqtts-connect id="c1" listener="mqtts"></mqtts-connect>
<mqtts-connect id="c2" listener="mqtts"></mqtts-connect>
<mqtts-trace id="rec" src="/recording.json"></mqtts-trace>
<script>
window.counts = {compile: 0, instantiate: 0};
for (const k of ["compile", "compileStreaming"]) { const f = WebAssembly[k]; WebAssembly[k] = function () { counts.compile++; return f.apply(this, arguments); }; }
for (const k of ["instantiate", "instantiateStreaming"]) { const f = WebAssembly[k]; WebAssembly[k] = function () { counts.instantiate++; return f.apply(this, arguments); }; }
window.heard = [];
for (const t of ["mqtts-select", "mqtts-connected"]) addEventListener(t, (e) => heard.push({type: t, id: e.target.id, ...e.detail}));
const css = (id) => { const s = getComputedStyle(document.getElementById(id)); return [s.color, s.fontSize, s.padding, s.listStyleType, s.backgroundColor, s.fontFamily].join("|"); };
window.hostStyles = () => ["host-li", "host-seq", "host-button"].map(css).join(" ; ");
window.before = hostStyles();
window.wasmFetches = () => performance.getEntriesByType("resource").filter((e) => e.name.includes(".wasm")).length;
</script>
<script src="%s/widget.js"></script>
</body></html>`

// TestBrowserWidget: a page of another origin (listed with --allow-origin)
// uses the widget script. The recorded trace renders in its shadow root
// with the deep-linked field selected and says so to the page; the page's
// styles do not reach into the widgets nor theirs out; the wasm is not
// fetched while the connect widgets are out of view, and once they are,
// both connect through one wasm instance, which also decodes a raw
// recording for a third widget.
func TestBrowserWidget(t *testing.T) {
	t.Parallel()
	var page, session, recording string
	app, ctx, hostURL := docsSite(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/session.json" || r.URL.Path == "/recording.json" {
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, map[string]string{"/session.json": session, "/recording.json": recording}[r.URL.Path])
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, page)
	})

	// A recorded session: the broker's decoded events of a demo run.
	openPage(t, ctx, app)
	runDemo(t, ctx, "widget-test")
	id := connID(t, app, "widget-test")
	resp, err := http.Get("http://" + app.httpAddr + "/trace/" + id)
	if err != nil {
		t.Fatal(err)
	}
	var tr struct {
		Events []map[string]any `json:"events"`
	}
	err = json.NewDecoder(resp.Body).Decode(&tr)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	hello := ""
	for _, e := range tr.Events {
		if e["type"] == "ClientHello" {
			hello = fmt.Sprintf("%v-%v", e["side"], e["seq"])
			break
		}
	}
	if hello == "" {
		t.Fatalf("no ClientHello among the broker's %d events", len(tr.Events))
	}
	if resp, err = http.Get("http://" + app.httpAddr + "/trace/" + id + "/recording"); err != nil {
		t.Fatal(err)
	}
	rb, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("the broker's recording: %d %v", resp.StatusCode, err)
	}
	recording = string(rb)
	b, _ := json.Marshal(map[string]any{"broker": tr.Events})
	session = string(b)
	page = fmt.Sprintf(widgetHost, hello, "http://"+app.httpAddr)

	if err := chromedp.Do(ctx, chromedp.Navigate(hostURL)); err != nil {
		t.Fatal(err)
	}
	waitJS(t, ctx, "the trace widget's rows and its selection of the deep-linked field",
		`(() => { const r = document.getElementById("trace").shadowRoot; return !!r && r.querySelectorAll("li.ev").length > 3 &&
			heard.some((m) => m.type === "mqtts-select" && m.id === "trace" && m.event === `+jsString(hello)+` && m.field === "random"); })()`)
	got := evalJS[map[string]any](t, ctx, `new Promise((resolve) => setTimeout(() => {
		const r = document.getElementById("trace").shadowRoot;
		const li = getComputedStyle(r.querySelector("li.ev"));
		const seq = getComputedStyle(r.querySelector("ol.seq"));
		resolve({
			wasmFetches: wasmFetches(), counts: counts, before: before, after: hostStyles(),
			rowColor: li.color, rowFont: li.fontSize, seqPadding: seq.paddingTop, rowTab: r.querySelector("li.ev").tabIndex,
			scrollY: scrollY,
			c1: document.getElementById("c1").shadowRoot.querySelector('[data-testid="widget-connect"]').textContent,
		});
	}, 500))`)
	if got["wasmFetches"] != float64(0) || fmt.Sprint(got["counts"]) != "map[compile:0 instantiate:0]" {
		t.Errorf("the wasm was fetched or compiled while no widget that needs it was in view: %v fetches, %v", got["wasmFetches"], got["counts"])
	}
	if got["before"] != got["after"] {
		t.Errorf("the widget changed the host page's styles:\nbefore %v\nafter  %v", got["before"], got["after"])
	}
	if got["rowColor"] == "rgb(255, 0, 0)" || got["rowFont"] == "31px" || got["seqPadding"] == "17px" {
		t.Errorf("the host page's rules reached into the widget: row color %v, font %v, list padding %v", got["rowColor"], got["rowFont"], got["seqPadding"])
	}
	if got["rowTab"] != float64(0) || got["scrollY"] != float64(0) {
		t.Errorf("rows not focusable (tabIndex %v) or the page scrolled (%v)", got["rowTab"], got["scrollY"])
	}
	if !strings.Contains(fmt.Sprint(got["c1"]), "Connect to mqtts") {
		t.Errorf("connect widget says %v", got["c1"])
	}

	// In view, the connect widgets load the wasm; both connect through it.
	evalJS[bool](t, ctx, `(document.getElementById("c1").scrollIntoView(), true)`)
	waitJS(t, ctx, "the wasm to load once the connect widgets are in view",
		`document.getElementById("c1").shadowRoot.querySelector('[data-testid="widget-status"]').textContent === "Ready."`)
	evalJS[bool](t, ctx, `(document.getElementById("c1").shadowRoot.querySelector('[data-testid="widget-connect"]').click(), true)`)
	waitJS(t, ctx, "the first widget's connection", `heard.some((m) => m.type === "mqtts-connected" && m.id === "c1")`)
	evalJS[bool](t, ctx, `(document.getElementById("c2").shadowRoot.querySelector('[data-testid="widget-connect"]').focus(), true)`)
	if err := chromedp.Do(ctx, chromedp.KeyEvent("\r")); err != nil {
		t.Fatal(err)
	}
	waitJS(t, ctx, "the second widget's connection, by keyboard, both live traces and the recording decoded by the same wasm",
		`heard.some((m) => m.type === "mqtts-connected" && m.id === "c2") &&
		["c1", "c2", "rec"].every((id) => document.getElementById(id).shadowRoot.querySelectorAll("li.ev").length >= 4)`)
	got = evalJS[map[string]any](t, ctx, `({wasmFetches: wasmFetches(), counts: counts, after: hostStyles(), before: before})`)
	if got["wasmFetches"] != float64(1) || fmt.Sprint(got["counts"]) != "map[compile:1 instantiate:1]" {
		t.Errorf("two connect widgets: %v wasm fetches, %v; want one of each", got["wasmFetches"], got["counts"])
	}
	if got["before"] != got["after"] {
		t.Errorf("the widgets changed the host page's styles:\nbefore %v\nafter  %v", got["before"], got["after"])
	}

	// Light or dark as the reader's system prefers; the page keeps its own.
	bg := `getComputedStyle(document.getElementById("c1")).backgroundColor`
	light := evalJS[string](t, ctx, bg)
	setScheme := func(v string) {
		t.Helper()
		if err := chromedp.Do(ctx, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := cdp.Call(ctx, tg, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: v}}})
			return err
		})); err != nil {
			t.Fatal(err)
		}
	}
	setScheme("dark")
	defer setScheme("")
	dark := evalJS[string](t, ctx, bg)
	if light != "rgb(251, 250, 247)" || dark != "rgb(21, 24, 28)" {
		t.Errorf("widget background light %s, dark %s", light, dark)
	}
	if after := evalJS[string](t, ctx, `hostStyles()`); after != got["before"] {
		t.Errorf("in dark mode the host page's styles changed: %v", after)
	}
}

// TestBrowserWidgetLesson: <mqtts-lesson> frames the lesson page in embed
// mode at the step asked for, and the frame takes the height the page
// reports.
func TestBrowserWidgetLesson(t *testing.T) {
	t.Parallel()
	app, ctx := lessonWidget(t, "tls-basics", 2, "")
	src := evalJS[string](t, ctx, `document.getElementById("l").shadowRoot.querySelector("iframe").src`)
	if want := "http://" + app.httpAddr + "/lessons/tls-basics?embed=1#step-2"; src != want {
		t.Errorf("frame src %q, want %q", src, want)
	}
}

// TestBrowserWidgetExample loads examples/widget.html, pointed at a running
// playground, from another origin: the connect widget connects, and the
// lesson frame takes its page's height.
func TestBrowserWidgetExample(t *testing.T) {
	t.Parallel()
	var app *App
	app, ctx, hostURL := docsSite(t, func(w http.ResponseWriter, r *http.Request) {
		serveExample(w, "../examples/widget.html", app)
	})
	if err := chromedp.Do(ctx, chromedp.Navigate(hostURL+"/widget.html")); err != nil {
		t.Fatal(err)
	}
	checkEmbed(t, ctx, `document.querySelector('[data-testid="connect-widget"]')`,
		`document.querySelector('[data-testid="lesson-widget"]').shadowRoot.querySelector("iframe")`)
}

// checkEmbed checks a docs page open in ctx that embeds the playground:
// the <mqtts-connect> widget connect (a JS expression; none when "")
// connects when clicked (mqtts-connected, then the live trace's rows), and
// the lesson frame frame (a JS expression) takes the height its page
// posts instead of the 480 px the examples start it with.
func checkEmbed(t *testing.T, ctx context.Context, connect, frame string) {
	t.Helper()
	rows := "true"
	if connect != "" {
		evalJS[bool](t, ctx, `new Promise((resolve) => addEventListener("mqtts-connected", () => resolve(true), {once: true}) ||
			customElements.whenDefined("mqtts-connect").then(() => {
				const w = `+connect+`;
				w.scrollIntoView();
				w.shadowRoot.querySelector('[data-testid="widget-connect"]').click();
			}))`)
		rows = connect + `.shadowRoot.querySelectorAll("li.ev").length >= 4`
	}
	waitJS(t, ctx, "the live trace and the lesson frame's height", `(() => {
		const f = `+frame+`;
		return `+rows+` && !!f && parseInt(f.style.height) > 300 && f.style.height !== "480px";
	})()`)
}

// TestBrowserDocsExamples builds examples/hugo and examples/mkdocs with
// the real hugo and mkdocs, pointed at a running playground, and serves
// each build with a plain file server from another origin: on each page
// the widget connects and the lesson frame takes its page's height.
func TestBrowserDocsExamples(t *testing.T) {
	t.Parallel()
	t.Run("hugo", func(t *testing.T) {
		t.Parallel()
		hugo := need(t, "hugo", "apt-get install hugo mkdocs")
		tmp := t.TempDir()
		ctx := builtExample(t, "/mqtt-over-tls/", func(playground, out string) *exec.Cmd {
			cmd := exec.Command(hugo, "--source", "../examples/hugo", "--destination", out,
				"--noBuildLock", "--cacheDir", filepath.Join(tmp, "cache"), "--quiet", "--panicOnWarning")
			cmd.Env = append(os.Environ(), "HUGO_PARAMS_MQTTSPLAYGROUND="+playground, "HUGO_RESOURCEDIR="+filepath.Join(tmp, "resources"))
			return cmd
		})
		checkEmbed(t, ctx, `document.querySelector("mqtts-connect")`, `document.querySelector("iframe")`)
	})
	t.Run("mkdocs", func(t *testing.T) {
		t.Parallel()
		mkdocs := need(t, "mkdocs", "apt-get install hugo mkdocs")
		src := t.TempDir()
		ctx := builtExample(t, "/mqtt-over-tls/", func(playground, out string) *exec.Cmd {
			// A copy of the example with the playground's address in its frames.
			err := filepath.WalkDir("../examples/mkdocs", func(p string, d fs.DirEntry, err error) error {
				if err != nil {
					return err
				}
				dst := filepath.Join(src, strings.TrimPrefix(p, "../examples/mkdocs"))
				if d.IsDir() {
					return os.MkdirAll(dst, 0o755)
				}
				b, err := os.ReadFile(p) // the resize script is a link: its content
				if err != nil {
					return err
				}
				return os.WriteFile(dst, bytes.ReplaceAll(b, []byte("https://playground.example.com"), []byte(playground)), 0o644)
			})
			if err != nil {
				t.Fatal(err)
			}
			return exec.Command(mkdocs, "build", "--strict", "--quiet", "--config-file", filepath.Join(src, "mkdocs.yml"), "--site-dir", out)
		})
		checkEmbed(t, ctx, `document.querySelector("mqtts-connect")`, `document.querySelector('iframe[src*="/lessons/tls-basics"]')`)
	})
}

// builtExample starts a playground and a docs site of another origin, a
// plain file server of a folder that build(playground's URL, folder)
// fills, runs the build, and opens page of the site in a browser.
func builtExample(t *testing.T, page string, build func(playground, out string) *exec.Cmd) context.Context {
	t.Helper()
	out := t.TempDir()
	app, ctx, hostURL := docsSite(t, http.FileServer(http.Dir(out)).ServeHTTP)
	cmd := build("http://"+app.httpAddr, out)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", cmd, err, b)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(hostURL+page)); err != nil {
		t.Fatal(err)
	}
	return ctx
}

// docsSite starts a documentation site of another origin, served by serve,
// and a playground that lists it with --allow-origin, and opens a browser.
func docsSite(t *testing.T, serve func(w http.ResponseWriter, r *http.Request)) (*App, context.Context, string) {
	t.Helper()
	host := httptest.NewServer(http.HandlerFunc(serve))
	t.Cleanup(host.Close)
	cfg := testConfig(t)
	cfg.AllowOrigins = []string{host.URL}
	return startApp(t, cfg, true), newBrowser(t), host.URL
}

// serveExample serves a page of examples/ pointed at app instead of the
// address the example names (http://127.0.0.1:8080).
func serveExample(w http.ResponseWriter, file string, app *App) {
	b, err := os.ReadFile(file)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Write(bytes.ReplaceAll(b, []byte("http://127.0.0.1:8080"), []byte("http://"+app.httpAddr)))
}

// TestBrowserWidgetStep: a docs page with <mqtts-lesson> hears mqtts-step
// once a step is done inside the lesson frame (another origin): the
// step's questions are answered in the frame by clicks, as the learner
// would, and the frame's message reaches the page as the widget's event.
func TestBrowserWidgetStep(t *testing.T) {
	t.Parallel()
	// The first lesson's takeaways: a step done once its questions are
	// answered right.
	c, err := loadLessons()
	if err != nil {
		t.Fatal(err)
	}
	l := c.Lessons[0]
	tk := l.Takeaways()
	if tk == nil || stepAction(tk) != "none" || len(tk.Quizzes()) == 0 {
		t.Fatalf("%s: the takeaways step is not one of questions only", l.ID)
	}
	lesson, step := l.ID, tk.N
	_, ctx := lessonWidget(t, lesson, step, `window.steps = []; addEventListener("mqtts-step", (e) => steps.push({id: e.target.id, ...e.detail}));`)
	if n := evalJS[int](t, ctx, `steps.length`); n != 0 {
		t.Fatalf("%d mqtts-step events before any step was done", n)
	}
	// The frame is of another origin: its DOM is reached through a world of
	// the test's own in that frame (the page's script, lessonRunner
	// included, is not visible there; its buttons are).
	var answer strings.Builder
	for _, q := range tk.Quizzes() {
		fmt.Fprintf(&answer, `document.querySelector('[data-testid="step"][data-step="%d"] [data-testid="quiz"][data-index="%d"] [data-testid="quiz-option"][value="%d"]').click();`, step, q.Index, q.Right())
	}
	answer.WriteString(`"clicked"`)
	heard := false
	for i := 0; i < 50 && !heard; i++ {
		inFrame(t, ctx, "/lessons/"+lesson, answer.String())
		time.Sleep(200 * time.Millisecond)
		heard = evalJS[int](t, ctx, `steps.length`) > 0
	}
	type stepEvent struct {
		ID     string `json:"id"`
		Lesson string `json:"lesson"`
		Step   int    `json:"step"`
		Done   bool   `json:"done"`
	}
	got := evalJS[[]stepEvent](t, ctx, `steps`)
	want := []stepEvent{{ID: "l", Lesson: lesson, Step: step, Done: true}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("mqtts-step events %+v, want %+v", got, want)
	}
	if done := inFrame(t, ctx, "/lessons/"+lesson, fmt.Sprintf(`document.querySelector('[data-testid="step"][data-step="%d"]').dataset.done`, step)); done != "true" {
		t.Errorf("in the frame the step is done=%q", done)
	}
}

// lessonWidget opens a docs page of another origin holding
// <mqtts-lesson id="l" lesson=lesson step=step> and the script js, and
// waits until the lesson frame has taken its page's height.
func lessonWidget(t *testing.T, lesson string, step int, js string) (*App, context.Context) {
	t.Helper()
	var page string
	app, ctx, hostURL := docsSite(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, page)
	})
	page = fmt.Sprintf(`<!DOCTYPE html><html><body><p>Docs.</p><mqtts-lesson id="l" lesson="%s" step="%d"></mqtts-lesson>
<script>%s</script><script src="http://%s/widget.js"></script></body></html>`, lesson, step, js, app.httpAddr)
	if err := chromedp.Do(ctx, chromedp.Navigate(hostURL)); err != nil {
		t.Fatal(err)
	}
	waitJS(t, ctx, "the lesson frame to take its page's height", `(() => {
		const f = document.getElementById("l").shadowRoot?.querySelector("iframe");
		return !!f && f.style.height !== "480px" && parseInt(f.style.height) > 300;
	})()`)
	return app, ctx
}

// inFrame evaluates expr (its value a string) in the page's first frame
// whose URL holds urlPart, in an isolated world: the frame's DOM, not its
// script's globals.
func inFrame(t *testing.T, ctx context.Context, urlPart, expr string) string {
	t.Helper()
	var out string
	err := chromedp.Do(ctx, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		tree, err := cdp.Call(ctx, tg, page.GetFrameTree, cdp.Empty{})
		if err != nil {
			return err
		}
		var find func(ft *page.FrameTree) *cdp.Frame
		find = func(ft *page.FrameTree) *cdp.Frame {
			if strings.Contains(ft.Frame.URL, urlPart) {
				return ft.Frame
			}
			for _, c := range ft.ChildFrames {
				if f := find(c); f != nil {
					return f
				}
			}
			return nil
		}
		f := find(tree.FrameTree)
		if f == nil {
			return fmt.Errorf("no frame of %s", urlPart)
		}
		world, err := cdp.Call(ctx, tg, page.CreateIsolatedWorld, page.CreateIsolatedWorldParams{FrameID: f.ID, WorldName: "test"})
		if err != nil {
			return err
		}
		byValue := true
		res, err := cdp.Call(ctx, tg, runtime.Evaluate, runtime.EvaluateParams{Expression: expr, ContextID: world.ExecutionContextID, ReturnByValue: &byValue})
		if err != nil {
			return err
		}
		if e := res.ExceptionDetails; e != nil {
			if e.Exception != nil {
				return fmt.Errorf("%s: %s %s", expr, e.Text, e.Exception.Description)
			}
			return fmt.Errorf("%s: %s", expr, e.Text)
		}
		return json.Unmarshal(res.Result.Value, &out)
	}))
	if err != nil {
		t.Fatalf("in the frame of %s: %v", urlPart, err)
	}
	return out
}
