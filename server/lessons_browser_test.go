package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/mqtts-playground/playground/lessons"
)

// openLesson loads a lesson page and waits for the wasm client and the step
// runner.
func openLesson(t *testing.T, ctx context.Context, app *App, path string) {
	t.Helper()
	if err := chromedp.Do(ctx, chromedp.Navigate("http://"+app.httpAddr+path)); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`playground.ready.then(() => typeof window.lessonRunner === "object")`, chromedp.EvalAwaitPromise)); err != nil {
		t.Fatalf("%s: the page did not load: %v", path, err)
	}
}

func lessonJS[T any](t *testing.T, ctx context.Context, js string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](js, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("%s: %v", js, err)
	}
	return v
}

// progressJSON is what the runner keeps in localStorage.
type progressJSON struct {
	Lessons map[string]struct {
		Steps map[string]struct {
			Done       bool           `json:"done"`
			Prediction *int           `json:"prediction"`
			Answers    map[string]int `json:"answers"`
		} `json:"steps"`
	} `json:"lessons"`
}

type runResult struct {
	OK          bool   `json:"ok"`
	Error       string `json:"error"`
	Explanation string `json:"explanation"`
}

func stepSel(n int) string { return fmt.Sprintf(`[data-testid="step"][data-step="%d"]`, n) }

// terminalCommand is a command line the page asks the learner to run in a
// terminal: two spaces, then a mosquitto client and its arguments.
var terminalCommand = regexp.MustCompile(`(?m)^  (mosquitto_(?:pub|sub) .*)$`)

// clientIDArg is the client id a mosquitto command line asks for.
var clientIDArg = regexp.MustCompile(` -i (\S+)`)

// runStep runs step n as the Do button does. When the step's log asks the
// learner to run a mosquitto command in a terminal, runStep runs that very
// command line in a shell, as the learner would, while the step waits.
func runStep(t *testing.T, ctx context.Context, n int, where string) runResult {
	t.Helper()
	type started struct {
		Result *runResult `json:"result"` // the step ended
		Log    string     `json:"log"`    // or its log names a command
	}
	first := lessonJS[started](t, ctx, fmt.Sprintf(`(() => {
		const log = document.querySelector('%s [data-testid="log"]');
		window.__step = lessonRunner.runStep(%d);
		const asks = new Promise((resolve) => {
			const look = () => /^  mosquitto_(pub|sub) /m.test(log.textContent) && (resolve({log: log.textContent}), true);
			if (look()) return;
			const watch = new MutationObserver(() => look() && watch.disconnect());
			watch.observe(log, {childList: true, characterData: true, subtree: true});
			window.__step.finally(() => watch.disconnect());
		});
		return Promise.race([window.__step.then((result) => ({result})), asks]);
	})()`, stepSel(n), n))
	if first.Result != nil {
		return *first.Result
	}
	m := terminalCommand.FindStringSubmatch(first.Log)
	if m == nil {
		t.Fatalf("%s: the log names a mosquitto command but no line holds it:\n%s", where, first.Log)
	}
	need(t, strings.Fields(m[1])[0], "apt-get install mosquitto-clients")
	cctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	t.Logf("%s: running the command the page gives: %s", where, m[1])
	if out, err := exec.CommandContext(cctx, "sh", "-c", m[1]).CombinedOutput(); err != nil {
		t.Fatalf("%s: %s: %v\n%s", where, m[1], err, out)
	}
	r := lessonJS[runResult](t, ctx, `window.__step`)
	// The lesson's stand-in for a missing client uses the client id with
	// "-page" appended; the test's client must have made that unnecessary.
	if id := clientIDArg.FindStringSubmatch(m[1]); id != nil {
		if log := lessonJS[string](t, ctx, `document.querySelector('`+stepSel(n)+` [data-testid="log"]').textContent`); strings.Contains(log, id[1]+"-page") {
			t.Errorf("%s: the page stood in for the command's client:\n%s", where, log)
		}
	}
	return r
}

// walkStep does a step as a learner would: predict (the first option), run
// the action, answer every quiz (a wrong answer first, when there is one,
// then the right one), and checks that the step ends done.
func walkStep(t *testing.T, ctx context.Context, l *lessons.Lesson, s *lessons.Step) {
	t.Helper()
	sel := stepSel(s.N)
	where := fmt.Sprintf("%s step %d (%s:%d, %q)", l.ID, s.N, l.File, s.Line, s.Title)
	if s.Predict() != nil {
		// The action waits for a prediction.
		if disabled := lessonJS[bool](t, ctx, `document.querySelector('`+sel+` [data-testid="run"]').disabled`); !disabled {
			t.Errorf("%s: the Do button is enabled before a prediction", where)
		}
		if r := lessonJS[runResult](t, ctx, fmt.Sprintf(`lessonRunner.runStep(%d)`, s.N)); r.OK || !strings.Contains(r.Error, "prediction") {
			t.Errorf("%s: runStep before a prediction: %+v", where, r)
		}
		if err := chromedp.Do(ctx, chromedp.Click(sel+` [data-testid="predict-option"]`)); err != nil {
			t.Fatalf("%s: choosing a prediction: %v", where, err)
		}
	}
	if do := s.Do(); do != nil && do.Solution != "" {
		// An exercise: the code as shipped must fail, and the solution pass.
		if r := runStep(t, ctx, s.N, where); r.OK {
			t.Errorf("%s: the exercise's code (%s) passes as shipped; it should need the learner's fix", where, do.File)
		} else {
			t.Logf("%s: as shipped the exercise fails, as it should: %s", where, r.Error)
		}
		if err := chromedp.Do(ctx, chromedp.Click(sel+` [data-testid="solution"]`)); err != nil {
			t.Fatalf("%s: showing the solution: %v", where, err)
		}
	}
	start := time.Now()
	r := runStep(t, ctx, s.N, where)
	t.Logf("%s: ran in %s", where, time.Since(start).Round(10*time.Millisecond))
	if !r.OK {
		log := lessonJS[string](t, ctx, `document.querySelector('`+sel+` [data-testid="log"]').textContent`)
		t.Fatalf("%s: %s\nstep log:\n%s", where, r.Error, log)
	}
	if s.Predict() != nil {
		if !lessonJS[bool](t, ctx, `document.querySelector('`+sel+` [data-testid="predict"]').dataset.revealed === "true" &&
			[...document.querySelectorAll('`+sel+` [data-testid="predict"] [data-testid="explanation"]')].some(p => !p.hidden && p.classList.contains("right"))`) {
			t.Errorf("%s: the right prediction and its explanation are not revealed after the action", where)
		}
	}
	if len(s.Looks()) > 0 {
		// The broker's side of a connection arrives after the step (the
		// page fetches it, and the panel redraws at the latest every
		// 1.5 s): a look at it is highlighted a moment later.
		if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`document.querySelectorAll('[data-testid="lesson-trace"] [data-testid="trace-event"][data-look="true"]').length > 0`,
			chromedp.WithPollingTimeout(5*time.Second), chromedp.WithPollingInterval(50*time.Millisecond))); err != nil {
			t.Errorf("%s: no trace event highlighted for %v within 5 s: %v", where, s.Looks(), err)
		}
	}
	if n := lessonJS[int](t, ctx, `document.querySelectorAll('`+sel+` [data-testid="check"][data-status="pass"]').length`); n != len(s.Checks()) {
		t.Errorf("%s: %d of %d checks shown as passed", where, n, len(s.Checks()))
	}
	for _, q := range s.Quizzes() {
		for i, a := range q.Answers {
			if !a.Right {
				w := lessonJS[runResult](t, ctx, fmt.Sprintf(`lessonRunner.answerQuiz(%d, %d, %d)`, s.N, q.Index, i))
				if w.OK || w.Explanation == "" {
					t.Errorf("%s: wrong answer %d of quiz %d: %+v, want not ok with an explanation", where, i, q.Index, w)
				}
				break
			}
		}
		if a := lessonJS[runResult](t, ctx, fmt.Sprintf(`lessonRunner.answerQuiz(%d, %d, %d)`, s.N, q.Index, q.Right())); !a.OK {
			t.Errorf("%s: right answer %d of quiz %d: %+v", where, q.Right(), q.Index, a)
		}
	}
	if done := lessonJS[string](t, ctx, `document.querySelector('`+sel+`').dataset.done`); done != "true" {
		status := lessonJS[string](t, ctx, `document.querySelector('`+sel+` [data-testid="step-status"]')?.textContent ?? ""`)
		t.Errorf("%s: not done at the end (status %q)", where, status)
	}
}

// course is the course the playground serves. With LESSON=id in the
// environment (./task lesson -- id) it holds that one lesson only.
func course(t *testing.T) *lessons.Course {
	t.Helper()
	c, err := loadLessons()
	if err != nil {
		t.Fatal(err)
	}
	if id := os.Getenv("LESSON"); id != "" {
		l := c.Lesson(id)
		if l == nil {
			var ids []string
			for _, l := range c.Lessons {
				ids = append(ids, l.ID)
			}
			t.Fatalf("LESSON=%s: there is no lesson with that id; the ids are %s", id, strings.Join(ids, ", "))
		}
		return &lessons.Course{Lessons: []*lessons.Lesson{l}}
	}
	return c
}

// TestBrowserLessons walks every step of every lesson in a real browser,
// against the real broker: every do block must run and every check pass,
// so a lesson cannot drift from what the playground does. Then it reloads
// the page and checks that the progress came back, and that the course map
// shows it.
func TestBrowserLessons(t *testing.T) {
	t.Parallel()
	for _, l := range course(t).Lessons {
		t.Run(l.ID, func(t *testing.T) {
			t.Parallel()
			app := startApp(t, testConfig(t), true)
			ctx := newBrowser(t)
			openLesson(t, ctx, app, "/lessons/"+l.ID)
			for _, s := range l.Steps {
				walkStep(t, ctx, l, s)
			}

			// Progress is in localStorage, in the documented shape.
			p := lessonJS[progressJSON](t, ctx, `JSON.parse(localStorage.getItem("mqtts-playground:progress"))`)
			for _, s := range l.Steps {
				sp := p.Lessons[l.ID].Steps[fmt.Sprint(s.N)]
				if !sp.Done || (s.Predict() != nil) != (sp.Prediction != nil) || len(sp.Answers) != len(s.Quizzes()) {
					t.Errorf("saved progress of step %d: %+v", s.N, sp)
				}
			}

			// A reload restores it: steps done earlier, not run again.
			openLesson(t, ctx, app, "/lessons/"+l.ID)
			for _, s := range l.Steps {
				got := lessonJS[[]string](t, ctx, `(() => { const el = document.querySelector('`+stepSel(s.N)+`'); return [el.dataset.done, el.dataset.state, el.querySelector('[data-testid="log"]').textContent]; })()`)
				if got[0] != "true" || got[1] != "done-earlier" || got[2] != "" {
					t.Errorf("after a reload step %d: done %q state %q log %q; want done earlier, not re-run", s.N, got[0], got[1], got[2])
				}
			}
			if s := l.Steps[0]; s.Do() != nil {
				if label := lessonJS[string](t, ctx, `document.querySelector('`+stepSel(s.N)+` [data-testid="run"]').textContent`); label != "Run again" {
					t.Errorf("after a reload the Do button says %q, want Run again", label)
				}
			}

			// The course map shows the lesson done.
			if err := chromedp.Do(ctx, chromedp.Navigate("http://"+app.httpAddr+"/lessons")); err != nil {
				t.Fatal(err)
			}
			// The page renders the marks from localStorage once its script runs:
			// every mark then has data-done.
			waitJS(t, ctx, "the course map's marks", `[...document.querySelectorAll('[data-testid="step-mark"]')].every(m => m.dataset.done !== undefined)`)
			marks := lessonJS[int](t, ctx, `document.querySelectorAll('[data-testid="step-mark"][data-lesson="`+l.ID+`"][data-done="true"]').length`)
			if marks != len(l.Steps) {
				t.Errorf("course map: %d of %d steps marked done", marks, len(l.Steps))
			}
		})
	}
}

// TestBrowserStepEditor edits a step's code in the page: the edited code
// runs, an error in it names its line, and Reset brings the lesson's code
// back.
func TestBrowserStepEditor(t *testing.T) {
	t.Parallel()
	app := startApp(t, testConfig(t), true)
	l := app.course.Lessons[0]
	s := l.Steps[0]
	if s.Do() == nil {
		t.Fatalf("%s step 1 has no code to edit", l.ID)
	}
	ctx := newBrowser(t)
	openLesson(t, ctx, app, "/lessons/"+l.ID)
	ed := stepSel(s.N) + ` [data-testid="code"]`
	if got := lessonJS[string](t, ctx, `document.querySelector('`+ed+`').value`); got != s.Do().Code {
		t.Fatalf("the editor holds %q, want the step's code %q", got, s.Do().Code)
	}
	setCode := func(code string) {
		t.Helper()
		lessonJS[bool](t, ctx, fmt.Sprintf(`(() => { const e = document.querySelector('%s'); e.value = %q; e.dispatchEvent(new Event("input")); return true; })()`, ed, code))
	}
	if s.Predict() != nil {
		if err := chromedp.Do(ctx, chromedp.Click(stepSel(s.N)+` [data-testid="predict-option"]`)); err != nil {
			t.Fatal(err)
		}
	}
	setCode("log(`edited by ${me}`);\n" + s.Do().Code)
	if r := runStep(t, ctx, s.N, "edited code"); !r.OK {
		t.Fatalf("edited code: %s", r.Error)
	}
	if log := lessonJS[string](t, ctx, `document.querySelector('`+stepSel(s.N)+` [data-testid="log"]').textContent`); !strings.Contains(log, "edited by ") {
		t.Errorf("the log %q does not show the edited code ran", log)
	}
	setCode("log('one');\nnull.x;")
	if r := runStep(t, ctx, s.N, "broken code"); r.OK || !strings.Contains(r.Error, "line 2 of the code, as you edited it") {
		t.Errorf("an error in edited code: %+v; want it to name line 2", r)
	}
	if err := chromedp.Do(ctx, chromedp.Click(stepSel(s.N)+` [data-testid="reset"]`)); err != nil {
		t.Fatal(err)
	}
	if got := lessonJS[string](t, ctx, `document.querySelector('`+ed+`').value`); got != s.Do().Code {
		t.Errorf("after Reset the editor holds %q", got)
	}
}

// TestBrowserLessonsOverview walks the overview path: on a fresh page, only
// the essential steps, so each must stand on its own.
func TestBrowserLessonsOverview(t *testing.T) {
	t.Parallel()
	for _, l := range course(t).Lessons {
		t.Run(l.ID, func(t *testing.T) {
			t.Parallel()
			app := startApp(t, testConfig(t), true)
			ctx := newBrowser(t)
			openLesson(t, ctx, app, "/lessons/"+l.ID+"?path=overview")
			for _, s := range l.Essential() {
				walkStep(t, ctx, l, s)
			}
		})
	}
}

// TestBrowserReview answers the takeaways quizzes of the first lesson on
// the review path: each answer shows its explanation, and once all are
// right the takeaways step counts as done.
func TestBrowserReview(t *testing.T) {
	t.Parallel()
	app := startApp(t, testConfig(t), true)
	l := app.course.Lessons[0]
	tk := l.Takeaways()
	ctx := newBrowser(t)
	if err := chromedp.Do(ctx, chromedp.Navigate("http://"+app.httpAddr+"/lessons?path=review")); err != nil {
		t.Fatal(err)
	}
	for _, q := range tk.Quizzes() {
		box := fmt.Sprintf(`[data-testid="review-step"][data-lesson="%s"][data-step="%d"] [data-testid="quiz"][data-index="%d"]`, l.ID, tk.N, q.Index)
		if err := chromedp.Do(ctx, chromedp.Click(fmt.Sprintf(`%s [data-testid="quiz-option"][value="%d"]`, box, q.Right()))); err != nil {
			t.Fatal(err)
		}
		shown := lessonJS[string](t, ctx, `[...document.querySelectorAll('`+box+` [data-testid="explanation"]')].filter(p => !p.hidden).map(p => p.textContent.trim()).join("|")`)
		if shown == "" || lessonJS[string](t, ctx, `document.querySelector('`+box+`').dataset.answered`) != "right" {
			t.Errorf("quiz %d: answered right, explanation %q", q.Index, shown)
		}
	}
	p := lessonJS[progressJSON](t, ctx, `JSON.parse(localStorage.getItem("mqtts-playground:progress"))`)
	if sp := p.Lessons[l.ID].Steps[fmt.Sprint(tk.N)]; !sp.Done || len(sp.Answers) != len(tk.Quizzes()) {
		t.Errorf("takeaways progress after the review: %+v", sp)
	}
}
