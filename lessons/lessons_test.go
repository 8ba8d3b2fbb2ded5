package lessons

import (
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
)

// knownListeners are the broker's listeners (server/app.go and the lesson
// listeners of server/lessonlisteners.go, each with one deliberate fault or
// a key type to compare); lessons that need a new one add it here and in
// the broker. The server's tests check the same against the real broker.
var knownListeners = []string{"mqtt", "mqtts", "mtls", "ws",
	"expired", "not-yet-valid", "wrong-host", "ip-mismatch", "self-signed", "unknown-ca", "missing-intermediate",
	"weak-key", "sha1-signature", "tls12-only", "rogue-relay", "key-rsa2048", "key-ed25519", "cn-only", "revoked"}

// TestCourse walks the embedded lessons: every file parses, and each lesson
// follows the course's rules.
func TestCourse(t *testing.T) {
	c, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	files, _ := fs.Glob(FS(), "*.md")
	if len(c.Lessons) != len(files)-1 { // README.md is not a lesson
		t.Errorf("%d lessons from %d files", len(c.Lessons), len(files))
	}
	ids, orders := map[string]bool{}, map[int]bool{}
	for i, l := range c.Lessons {
		if ids[l.ID] || orders[l.Order] {
			t.Errorf("%s: id %q or order %d is not unique", l.File, l.ID, l.Order)
		}
		ids[l.ID], orders[l.Order] = true, true
		if i > 0 && c.Lessons[i-1].Order >= l.Order {
			t.Errorf("lessons not sorted by order at %s", l.File)
		}
		if c.Lesson(l.ID) != l {
			t.Errorf("Lesson(%q) does not find %s", l.ID, l.File)
		}
		if n := len(l.Steps); n < 4 || n > 8 {
			t.Errorf("%s: %d steps; a lesson has 4 to 8", l.File, n)
		}
		if l.Title == "" || l.Summary == "" || l.Minutes <= 0 || l.Intro == "" {
			t.Errorf("%s: title, summary, minutes and an intro are needed", l.File)
		}
		essential, live, checksOrQuizzes := 0, 0, 0
		for _, s := range l.Steps {
			checksOrQuizzes += len(s.Checks()) + len(s.Quizzes())
			if s.Do() != nil {
				live++
			}
			if s.Essential {
				essential++
				if s.Do() == nil || len(s.Checks()) == 0 {
					t.Errorf("%s:%d: essential step %q needs a live action and a check (the overview path runs it)", l.File, s.Line, s.Title)
				}
			}
		}
		if essential == 0 {
			t.Errorf("%s: no essential step (the overview path shows one live step per lesson)", l.File)
		}
		if checksOrQuizzes == 0 || live == 0 {
			t.Errorf("%s: %d live steps and %d checks or quizzes; want at least one of each", l.File, live, checksOrQuizzes)
		}
		tk := l.Takeaways()
		if tk == nil || len(tk.Quizzes()) == 0 || !strings.Contains(string(tk.Prose), "<li>") {
			t.Errorf("%s: the takeaways step needs a list of points and a quiz", l.File)
		}
		for _, name := range l.ListenerRefs() {
			if !slices.Contains(knownListeners, name) {
				t.Errorf("%s: uses listener %q; the broker has %v", l.File, name, knownListeners)
			}
		}
	}
}

// TestInternalLinks checks the links between lessons (Load refuses broken
// ones; this shows the course has some and they point where they say).
func TestInternalLinks(t *testing.T) {
	c, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	link := regexp.MustCompile(`href="(/lessons/[^"#?]+)(?:#([^"]+))?"`)
	n := 0
	for _, l := range c.Lessons {
		var html strings.Builder
		html.WriteString(string(l.Intro))
		for _, s := range l.Steps {
			html.WriteString(string(s.Prose))
		}
		for _, m := range link.FindAllStringSubmatch(html.String(), -1) {
			n++
			to := c.Lesson(strings.TrimPrefix(m[1], "/lessons/"))
			if to == nil || (m[2] != "" && !to.hasAnchor(m[2])) {
				t.Errorf("%s: link %s#%s does not resolve", l.File, m[1], m[2])
			}
		}
	}
	if n == 0 {
		t.Error("no links between lessons found")
	}
}

const goodHead = `---
id: good
title: Good
order: 1
summary: s
level: beginner
minutes: 5
---
`

const goodSteps = `
## One {#one essential}

Text.

` + "```do\nconn = await pg.connect();\n```\n\n```check\nevent client send CONNECT\n```\n\n## Takeaways\n\n- a point\n\n```quiz\n? q\n+ a | why\n- b | why not\n```\n"

func TestGoodMinimal(t *testing.T) {
	c, err := LoadFS(fstest.MapFS{"01-good.md": {Data: []byte(goodHead + goodSteps)}})
	if err != nil {
		t.Fatal(err)
	}
	l := c.Lessons[0]
	if len(l.Steps) != 2 || l.Steps[0].Slug != "one" || !l.Steps[0].Essential || !l.Steps[1].IsTakeaways() || l.Steps[1].N != 2 {
		t.Errorf("steps %+v %+v", l.Steps[0], l.Steps[1])
	}
	ch := l.Steps[0].Checks()
	if len(ch) != 1 || ch[0].Side != "client" || ch[0].Dir != "send" || ch[0].Type != "CONNECT" || ch[0].Count != 0 {
		t.Errorf("checks %+v", ch)
	}
}

// TestServerFlag: {server} marks a step that needs the playground server
// (the static build says so instead of running it); it is in the step's
// JSON for the page.
func TestServerFlag(t *testing.T) {
	md := goodHead + goodSteps[:strings.Index(goodSteps, "## Takeaways")] + "## Your own client {#cli server}\n\nRun mosquitto_sub.\n\n" + goodSteps[strings.Index(goodSteps, "## Takeaways"):]
	c, err := LoadFS(fstest.MapFS{"01-good.md": {Data: []byte(md)}})
	if err != nil {
		t.Fatal(err)
	}
	steps := c.Lessons[0].Steps
	if len(steps) != 3 || steps[0].Server || !steps[1].Server || steps[1].Slug != "cli" || steps[2].Server {
		t.Fatalf("steps %+v %+v %+v", steps[0], steps[1], steps[2])
	}
	b, err := json.Marshal(steps[1])
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"server":true`) {
		t.Errorf("the step's JSON %s does not say it needs the server", b)
	}
	if b, _ := json.Marshal(steps[0]); strings.Contains(string(b), `"server"`) {
		t.Errorf("an unmarked step's JSON names server: %s", b)
	}
}

// TestServerStepsMarked: a step whose code asks the server the page came
// from (fetch of a root path: /pki/crl, /ca.pem …) or waits for a client of
// the learner's own (waitForClient) is marked {server}. The static build
// has no server: it says so for a marked step instead of running it, and
// its browser test runs only the essential steps of most lessons.
func TestServerStepsMarked(t *testing.T) {
	c, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	needs := regexp.MustCompile("fetch\\(\\s*[\"'`]/|waitForClient\\(")
	for _, l := range c.Lessons {
		for _, s := range l.Steps {
			var code []string
			for _, b := range s.Blocks {
				code = append(code, b.Code, b.Solution)
				for _, ch := range b.Checks {
					code = append(code, ch.JS)
				}
			}
			if m := needs.FindString(strings.Join(code, "\n")); m != "" && !s.Server {
				t.Errorf("%s:%d step %d %q: its code has %s… but the step is not marked {server}", l.File, s.Line, s.N, s.Title, m)
			}
		}
	}
}

// TestReadmeExample parses the example lesson of README.md, so the spec and
// the parser cannot drift apart.
func TestReadmeExample(t *testing.T) {
	b, err := fs.ReadFile(FS(), "README.md")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?s)````markdown\n(.*?)\n````").FindSubmatch(b)
	if m == nil {
		t.Fatal("README.md has no ````markdown example")
	}
	c, err := LoadFS(fstest.MapFS{"01-example.md": {Data: m[1]}})
	if err != nil {
		t.Fatalf("the README's example does not parse: %v", err)
	}
	s := c.Lessons[0].Steps[0]
	if s.Predict() == nil || s.Do() == nil || len(s.Looks()) != 1 || len(s.Checks()) != 1 || s.Checks()[0].Field != "Password" || s.Checks()[0].Value != "s3cret" {
		t.Errorf("example step: %+v", s)
	}
}

// TestMalformed: each broken lesson is refused with its file, line and what
// is wrong.
func TestMalformed(t *testing.T) {
	step := func(body string) string { return goodHead + "\n## S {#s essential}\n\n" + body + "\n" }
	fence := func(kind, body string) string { return "```" + kind + "\n" + body + "\n```\n" }
	tests := []struct {
		name, text string
		want       string // "LINE: message part"
	}{
		{"no front matter", "# Title\n", "1: a lesson starts with front matter"},
		{"unclosed front matter", "---\nid: x\n", "1: front matter is never closed"},
		{"missing key", strings.Replace(goodHead, "title: Good\n", "", 1) + goodSteps, `7: front matter lacks "title"`},
		{"unknown key", strings.Replace(goodHead, "level: beginner\n", "level: beginner\nauthor: me\n", 1) + goodSteps, `7: unknown front matter key "author"`},
		{"duplicate key", strings.Replace(goodHead, "order: 1\n", "order: 1\norder: 2\n", 1) + goodSteps, `5: front matter key "order" is already set on line 4`},
		{"bad id", strings.Replace(goodHead, "id: good", "id: Good_One", 1) + goodSteps, `2: id "Good_One"`},
		{"bad order", strings.Replace(goodHead, "order: 1", "order: first", 1) + goodSteps, `4: order "first": want a positive whole number`},
		{"bad level", strings.Replace(goodHead, "beginner", "expert", 1) + goodSteps, `6: level "expert"`},
		{"not key value", strings.Replace(goodHead, "minutes: 5\n", "minutes: 5\njust text\n", 1) + goodSteps, `8: front matter line "just text" is not key: value`},
		{"title heading", goodHead + "# Big\n" + goodSteps, "9: a lesson's title is its front matter's title"},
		{"deep heading", step("##### too deep"), `12: heading "##### too deep"`},
		{"block before steps", goodHead + fence("do", "x()") + goodSteps, "9: a do block must be inside a step"},
		{"unclosed fence", step("```do\nx()\n"), "12: fenced block opened here is never closed"},
		{"unknown flag", goodHead + "\n## S {#s importent}\n\nText.\n", `10: unknown step flag "importent"`},
		{"bad slug", goodHead + "\n## S {#S_1}\n\nText.\n", `10: slug "S_1"`},
		{"slug clash", goodHead + "\n## S {#step-2}\n\nText.\n", `10: slug "step-2" would clash`},
		{"duplicate slug", goodHead + "\n## S {#a}\n\nText.\n\n## T {#a}\n\nText.\n", `14: slug "a" is already used by the step on line 10`},
		{"empty step", goodHead + "\n## S\n\n## T\n\nText.\n", `10: step "S" is empty`},
		{"predict without question", step(fence("predict", "+ a | b\n- c | d") + fence("do", "x()")), "12: a predict block starts with its question"},
		{"answer without explanation", step(fence("quiz", "? q\n+ a\n- c | d")), `14: answer line "+ a": write the answer, then | and why`},
		{"answer mark", step(fence("quiz", "? q\n* a | b\n- c | d")), `14: answer line "* a | b": start it with "+ " (right) or "- " (wrong)`},
		{"no right answer", step(fence("quiz", "? q\n- a | b\n- c | d")), "12: a quiz block needs a right answer"},
		{"one answer", step(fence("quiz", "? q\n+ a | b")), "12: a quiz block needs at least two answers"},
		{"predict without do", step(fence("predict", "? q\n+ a | b\n- c | d")), "12: a predict block needs a do block in the same step"},
		{"predict after do", step(fence("do", "x()") + fence("predict", "? q\n+ a | b\n- c | d")), "15: the predict block must come before the do block"},
		{"two do blocks", step(fence("do", "x()") + fence("do", "y()")), "15: a step has at most one do block"},
		{"empty do", step(fence("do", "  ")), "12: empty do block"},
		{"unknown check", step(fence("check", "expect CONNECT")), `13: unknown check "expect CONNECT"`},
		{"check side", step(fence("check", "event server send CONNECT")), `13: "server send CONNECT": side "server" is not one of client, broker, any`},
		{"check direction", step(fence("check", "event client sent CONNECT")), `13: "client sent CONNECT": direction "sent" is not one of send, recv, any`},
		{"check type", step(fence("check", "event client send ClientHelo")), `13: "client send ClientHelo": unknown event type "ClientHelo"`},
		{"check option", step(fence("check", `event client send CONNECT value="x"`)), `13: "client send CONNECT value=\"x\"": unknown option "value=\"x\""`},
		{"check count", step(fence("check", `event client send CONNECT count>=0`)), "13: \"client send CONNECT count>=0\": write count>=N"},
		{"check quote", step(fence("check", `event client send CONNECT field="Pass`)), "13: \"client send CONNECT field=\\\"Pass\": unterminated or malformed quoted string"},
		{"check short", step(fence("check", "event client send")), `13: "client send": want event SIDE DIR TYPE`},
		{"empty js", step(fence("check", "js:  ")), "13: js: check without an expression"},
		{"look option", step(fence("look", `client send CONNECT value~="x"`)), `13: "client send CONNECT value~=\"x\"": unknown option`},
		{"empty look", step(fence("look", "")), "12: empty look block"},
		{"takeaways run", goodHead + "\n## Takeaways\n\n- a\n\n" + fence("do", "x()"), "14: the takeaways step is not run"},
		{"takeaways not last", goodHead + "\n## Takeaways\n\n- a\n\n## After\n\nText.\n", "10: the takeaways step must be the last step"},
		{"unsafe link", step("See [this](javascript:alert(1)) now."), `12: link "javascript:alert(1)"`},
		{"no such lesson", step("Go to [x](/lessons/nope)."), `12: link "/lessons/nope": there is no lesson "nope"`},
		{"no such step", step("Go to [x](/lessons/good#step-9)."), `12: link "/lessons/good#step-9": lesson "good" has no step #step-9`},
		{"no such anchor here", step("Back to [x](#nowhere)."), `12: link "#nowhere": lesson "good" has no step #nowhere`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := LoadFS(fstest.MapFS{"07-bad.md": {Data: []byte(tt.text)}})
			if err == nil {
				t.Fatalf("loaded; want error %q", tt.want)
			}
			if want := "lessons: 07-bad.md:" + tt.want; !strings.Contains(err.Error(), want) {
				t.Errorf("error:\n%v\nwant it to contain:\n%s", err, want)
			}
			var le *Error
			if !errors.As(err, &le) || le.File != "07-bad.md" || le.Line == 0 {
				t.Errorf("error %v is not an *Error with file and line", err)
			}
		})
	}
}

func TestDuplicates(t *testing.T) {
	other := strings.Replace(goodHead, "title: Good", "title: Other", 1)
	_, err := LoadFS(fstest.MapFS{"01-a.md": {Data: []byte(goodHead + goodSteps)}, "02-b.md": {Data: []byte(other + goodSteps)}})
	for _, want := range []string{`lessons: 02-b.md:2: id "good" is also the id of 01-a.md`, `lessons: 02-b.md:2: order 1 is also the order of 01-a.md`} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v, want %q", err, want)
		}
	}
}

func TestMarkdown(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Hello *you* and **all**.", "<p>Hello <em>you</em> and <strong>all</strong>.</p>\n"},
		{"<script>alert(1)</script> & co", "<p>&lt;script&gt;alert(1)&lt;/script&gt; &amp; co</p>\n"},
		{"Use `a<b>` and server_name and 2*3*4", "<p>Use <code>a&lt;b&gt;</code> and server_name and 2<em>3</em>4</p>\n"},
		{`A \*star\* here`, "<p>A *star* here</p>\n"},
		{"[RFC](https://example.org/x?a=1&b=2) and [step](/lessons/a#step-1)", `<p><a href="https://example.org/x?a=1&amp;b=2" target="_blank" rel="noopener">RFC</a> and <a href="/lessons/a#step-1">step</a></p>` + "\n"},
		{"[a \"quote\"](/x\"onmouseover=y)", `<p><a href="/x&#34;onmouseover=y">a &#34;quote&#34;</a></p>` + "\n"},
		{"- one\n- two\n  goes on\n  - nested\n- three", "<ul>\n<li>one</li>\n<li>\n<p>two\ngoes on</p>\n<ul>\n<li>nested</li>\n</ul>\n</li>\n<li>three</li>\n</ul>\n"},
		{"1. first\n2. second", "<ol>\n<li>first</li>\n<li>second</li>\n</ol>\n"},
		{"### Sub *head*", "<h3>Sub <em>head</em></h3>\n"},
		{"> quoted\n> text", "<blockquote>\n<p>quoted\ntext</p>\n</blockquote>\n"},
		{"```sh\necho <hi>\n```", "<pre><code class=\"language-sh\">echo &lt;hi&gt;</code></pre>\n"},
		{"| a | b |\n|---|---|\n| `x|y` | 2 |", "<table>\n<thead><tr><th>a</th><th>b</th></tr></thead>\n<tbody>\n<tr><td><code>x|y</code></td><td>2</td></tr>\n</tbody>\n</table>\n"},
		{"para one\n\npara two", "<p>para one</p>\n<p>para two</p>\n"},
	}
	for _, tt := range tests {
		var r renderer
		got := string(r.render(strings.Split(tt.in, "\n"), 1))
		if r.err != nil {
			t.Errorf("%q: %v", tt.in, r.err)
		}
		if got != tt.want {
			t.Errorf("%q:\n got %q\nwant %q", tt.in, got, tt.want)
		}
	}
	for _, bad := range []string{"[x](javascript:alert(1))", "[x](JavaScript:alert(1))", "[x](data:text/html,hi)", "[x](//evil.example/)", "[x](vbscript:y)"} {
		var r renderer
		r.render([]string{bad}, 1)
		if r.err == nil {
			t.Errorf("%q: rendered; want an unsafe link error", bad)
		}
	}
}

// seedDir is the seed document the course grew from, beside the repository.
var seedDir = filepath.Join("..", "..", "shared", "seed")

var (
	markup    = strings.NewReplacer("`", "", "*", "", "\\", "", "|", " ", "#", " ", ">", " ")
	spaces    = regexp.MustCompile(`\s+`)
	sentences = regexp.MustCompile(`[.!?]+`)
)

func normalize(s string) string {
	return strings.TrimSpace(spaces.ReplaceAllString(strings.ToLower(markup.Replace(s)), " "))
}

// longSentences splits normalized text into sentences of 8 or more words.
func longSentences(s string) []string {
	var out []string
	for _, x := range sentences.Split(s, -1) {
		x = strings.TrimSpace(x)
		if len(strings.Fields(x)) >= 8 {
			out = append(out, x)
		}
	}
	return out
}

// TestNoSeedCopy fails when a lesson repeats a sentence (8 words or more)
// of the seed document: lessons are written in our own words.
func TestNoSeedCopy(t *testing.T) {
	seeds, err := filepath.Glob(filepath.Join(seedDir, "*"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(seedDir); errors.Is(err, fs.ErrNotExist) {
		t.Skipf("the seed document folder %s is absent (a checkout without ../shared): nothing to compare with", seedDir)
	}
	var seed strings.Builder
	for _, f := range seeds {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		seed.WriteString(normalize(string(b)) + " ")
	}
	seedText := seed.String()
	if len(longSentences(seedText)) == 0 {
		t.Fatalf("no sentences read from %s", seedDir)
	}
	files, _ := fs.Glob(FS(), "*.md")
	for _, name := range files {
		b, _ := fs.ReadFile(FS(), name)
		lesson := normalize(string(b))
		// A lesson sentence found in the seed …
		for _, s := range longSentences(lesson) {
			if strings.Contains(seedText, s) {
				t.Errorf("%s copies a sentence of the seed document: %q", name, s)
			}
		}
		// … and a seed sentence found inside a longer lesson sentence.
		for _, s := range longSentences(seedText) {
			if strings.Contains(lesson, s) {
				t.Errorf("%s contains a sentence of the seed document: %q", name, s)
			}
		}
	}
}

// TestSeedGuardCatchesCopies makes sure the guard itself works.
func TestSeedGuardCatchesCopies(t *testing.T) {
	seed := normalize("Intro. MQTT is a small protocol that moves messages between many devices! End")
	lesson := normalize("Some words. As we saw, `MQTT` is a **small** protocol that moves messages between many devices.")
	found := false
	for _, s := range longSentences(seed) {
		found = found || strings.Contains(lesson, s)
	}
	if !found {
		t.Error("a copied sentence (with Markdown around it) was not found")
	}
	if got := longSentences("one two three four five six seven. one two three four five six seven eight"); len(got) != 1 {
		t.Errorf("sentences of 8+ words: %q", got)
	}
}

// stepFile is a step file for the lesson 01-s.md.
const stepFile = `// A comment above is fine.
import type { Scope } from "../../web/src/scope";

export default async function ({ pg, me, log, conn }: Scope) {
  // Connect.
  conn = await pg.connect({clientId: ` + "`${me}-s`" + `});

  log("connected");
}
`

// TestStepFiles reads do blocks from step files: the body of the file's
// function, dedented, with its file and first line; an exercise gets its
// solution.
func TestStepFiles(t *testing.T) {
	md := goodHead + "\n## One {#one essential}\n\n```do connect.ts solution=connect-solved.ts\n```\n\n```check\njs \"the client is connected\": conn.clientId() !== \"\"\n```\n\n## Takeaways\n\n- a\n\n```quiz\n? q\n+ a | why\n- b | why not\n```\n"
	solved := strings.Replace(stepFile, `log("connected")`, `log("connected, solved")`, 1)
	c, err := LoadFS(fstest.MapFS{
		"01-s.md":                  {Data: []byte(md)},
		"01-s/connect.ts":          {Data: []byte(stepFile)},
		"01-s/connect-solved.ts":   {Data: []byte(solved)},
		"01-s/not-referenced.d.ts": {Data: []byte("x")},
	})
	if err != nil {
		t.Fatal(err)
	}
	b := c.Lessons[0].Steps[0].Do()
	want := "// Connect.\nconn = await pg.connect({clientId: `${me}-s`});\n\nlog(\"connected\");"
	if b.Code != want || b.File != "01-s/connect.ts" || b.CodeLine != 5 {
		t.Errorf("code %q from %s:%d; want %q from 01-s/connect.ts:5", b.Code, b.File, b.CodeLine, want)
	}
	if !strings.Contains(b.Solution, "connected, solved") || b.SolutionFile != "01-s/connect-solved.ts" {
		t.Errorf("solution %q from %s", b.Solution, b.SolutionFile)
	}
	ch := c.Lessons[0].Steps[0].Checks()[0]
	if ch.Label != "the client is connected" || ch.Text != ch.Label || ch.JS != `conn.clientId() !== ""` || ch.Line != 16 {
		t.Errorf("labelled check: label %q text %q js %q line %d", ch.Label, ch.Text, ch.JS, ch.Line)
	}
}

// TestStepFileErrors: a broken step file is refused with its own file and
// line.
func TestStepFileErrors(t *testing.T) {
	md := func(fence string) string {
		return goodHead + "\n## One {#one essential}\n\n" + fence + "\n```\n\n## Takeaways\n\n- a\n\n```quiz\n? q\n+ a | why\n- b | why not\n```\n"
	}
	tests := []struct {
		name, fence, file, want string
	}{
		{"missing file", "```do gone.ts", "", "01-s.md:12: step file 01-s/gone.ts: open 01-s/gone.ts: file does not exist"},
		{"bad name", "```do ../x.ts", "", `01-s.md:12: step file "../x.ts": name it with lower-case letters`},
		{"type annotation", "```do a.ts", strings.Replace(stepFile, `log("connected");`, `const n: number = 1;`, 1), "01-s/a.ts:8: this code runs as JavaScript in the page: Expected \";\" but found \":\" (the body of a step file must be JavaScript as written"},
		{"unknown name", "```do a.ts", strings.Replace(stepFile, "{ pg, me, log, conn }", "{ pg, window }", 1), `01-s/a.ts:4: parameter "window": a step's code can use pg, conn`},
		{"no function", "```do a.ts", "// nothing here\n", "01-s/a.ts:1: no line `export default async function"},
		{"stray line", "```do a.ts", "const x = 1;\n" + stepFile, "01-s/a.ts:1: a step file holds comments"},
		{"after the function", "```do a.ts", stepFile + "export const y = 2;\n", "01-s/a.ts:10: the function must end with a line holding only }"},
		{"code in the block", "```do a.ts\nx()", stepFile, "01-s.md:12: this do block names the step file a.ts: leave the block empty"},
		{"unknown option", "```do a.ts answer=b.ts", stepFile, `01-s.md:12: do a.ts: unknown option "answer=b.ts"`},
		{"same solution", "```do a.ts solution=a.ts", stepFile, "01-s.md:12: do a.ts: the solution a.ts is the same code as the exercise"},
		{"args on a check", "```check now", "", `01-s.md:12: a check block takes nothing after its name; found "now"`},
		{"inline syntax", "```do\nconst = 1", "", "01-s.md:13: this code runs as JavaScript in the page: Expected identifier but found \"=\""},
		{"js check syntax", "```do\nx()\n```\n\n```check\njs \"a label\": a ===", "", "01-s.md:17: this code runs as JavaScript in the page"},
		{"js check label", "```do\nx()\n```\n\n```check\njs \"\": a", "", `01-s.md:17: "js \"\": a": write js "WHAT IT CHECKS, IN WORDS": EXPRESSION`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fsys := fstest.MapFS{"01-s.md": {Data: []byte(md(tt.fence))}}
			if tt.file != "" {
				fsys["01-s/a.ts"] = &fstest.MapFile{Data: []byte(tt.file)}
			}
			_, err := LoadFS(fsys)
			if err == nil || !strings.Contains(err.Error(), "lessons: "+tt.want) {
				t.Errorf("error:\n%v\nwant it to contain:\nlessons: %s", err, tt.want)
			}
		})
	}
}
