package lessons

import (
	"strings"
	"testing"
	"testing/fstest"
)

func loadOne(t *testing.T, text string) *Lesson {
	t.Helper()
	c, err := LoadFS(fstest.MapFS{"01-x.md": {Data: []byte(text)}})
	if err != nil {
		t.Fatal(err)
	}
	return c.Lessons[0]
}

const placeholderLesson = goodHead + `
Reach the page at {{host}}.

## One {#one essential}

Connect to **{{ host }}** on port {{port.mqtts}}, or read [the CA]({{ca.url}}).

` + "```sh\nmosquitto_pub -h {{host}} --cafile {{ca.file|sh}} -t 'a|b'\n```\n" + `
| what | value |
|---|---|
| CA | {{ca.file|q}} |

Write \{{host}} to get this text, and ` + "`{{name}}`" + ` in code.

` + "```predict\n? Is {{host}} right?\n+ Yes | {{ca.file|sh}} is quoted.\n- No | Not {{name}}.\n```\n" +
	"```do\nconn = await pg.connect({tls: {serverName: site.name}});\nlabel: {{a: 1}}\n```\n" +
	"```check\nevent client send CONNECT\n```\n\n## Takeaways\n\n- a point on {{port.mtls}}\n\n```quiz\n? q {{url}}\n+ a | why\n- b | why not\n```\n"

// TestPlaceholders fills a lesson's placeholders with values that need
// escaping, for HTML and for the filters' languages.
func TestPlaceholders(t *testing.T) {
	l := loadOne(t, placeholderLesson)
	v := Vars{
		"host": `h<ost>&"x"`, "name": "broker.example", "url": "http://h:1", "port.mqtts": "8883", "port.mtls": "8884",
		"ca.url": `http://h:1/ca.pem?a=1&b="2"`, "ca.file": `/home/o'neil/my <ca>.pem`,
	}
	f := l.Fill(v)
	if f == l {
		t.Fatal("Fill returned the lesson itself; it has placeholders")
	}
	s := f.Steps[0]
	prose := string(s.Prose)
	for _, want := range []string{
		"Connect to <strong>h&lt;ost&gt;&amp;&#34;x&#34;</strong> on port 8883",
		`<a href="http://h:1/ca.pem?a=1&amp;b=&#34;2&#34;">the CA</a>`,
		`mosquitto_pub -h h&lt;ost&gt;&amp;&#34;x&#34; --cafile &#39;/home/o&#39;\&#39;&#39;neil/my &lt;ca&gt;.pem&#39; -t &#39;a|b&#39;`,
		`<td>&#34;/home/o&#39;neil/my &lt;ca&gt;.pem&#34;</td>`,
		"Write {{host}} to get this text, and <code>broker.example</code> in code.",
	} {
		if !strings.Contains(prose, want) {
			t.Errorf("prose lacks\n%s\nin\n%s", want, prose)
		}
	}
	if strings.ContainsAny(prose, markOpen+markSep+markClose) {
		t.Errorf("markers left in %q", prose)
	}
	if got := string(f.Intro); !strings.Contains(got, "Reach the page at h&lt;ost&gt;") {
		t.Errorf("intro %q", got)
	}
	p := s.Predict()
	if string(p.Question) != "Is h&lt;ost&gt;&amp;&#34;x&#34; right?" || !strings.Contains(string(p.Answers[0].Explanation), "&#39;/home/o&#39;") || string(p.Answers[1].Explanation) != "Not broker.example." {
		t.Errorf("predict %q %+v", p.Question, p.Answers)
	}
	// Body and Blocks of the copy point at the same filled blocks.
	for _, part := range s.Body {
		if part.Block != nil && part.Block.Kind == Predict && part.Block != p {
			t.Error("the filled step's Body and Blocks hold different predict blocks")
		}
	}
	if do := s.Do(); !strings.Contains(do.Code, "label: {{a: 1}}") {
		t.Errorf("do code changed: %q", do.Code)
	}
	tk := f.Steps[1]
	if !strings.Contains(string(tk.Prose), "a point on 8884") || string(tk.Quizzes()[0].Question) != "q http://h:1" {
		t.Errorf("takeaways %q quiz %q", tk.Prose, tk.Quizzes()[0].Question)
	}
	// The parsed lesson is left as it was: still markers, no values.
	if strings.Contains(string(l.Steps[0].Prose), "8883") || !strings.Contains(string(l.Steps[0].Prose), markOpen+"port.mqtts"+markClose) {
		t.Errorf("Fill changed the parsed lesson: %q", l.Steps[0].Prose)
	}
	// A value that is missing shows the placeholder.
	if got := string(l.Fill(Vars{}).Steps[0].Prose); !strings.Contains(got, "on port {{port.mqtts}}") {
		t.Errorf("missing value: %q", got)
	}
	// A lesson without placeholders is not copied.
	plain := loadOne(t, goodHead+goodSteps)
	if plain.Fill(v) != plain {
		t.Error("Fill copied a lesson without placeholders")
	}
}

func TestShellWord(t *testing.T) {
	for in, want := range map[string]string{
		"/home/me/ca.pem":    "/home/me/ca.pem",
		"/home/me/my ca.pem": "'/home/me/my ca.pem'",
		"it's":               `'it'\''s'`,
		"$HOME;rm -rf /":     "'$HOME;rm -rf /'",
		"":                   "''",
	} {
		if got := shellWord(in); got != want {
			t.Errorf("shellWord(%q) = %s, want %s", in, got, want)
		}
	}
}

func TestPlaceholderErrors(t *testing.T) {
	step := func(body string) string { return goodHead + "\n## S {#s essential}\n\n" + body + "\n" }
	for _, tt := range []struct{ name, text, want string }{
		{"unknown name", step("Port {{port.web}} here."), `12: placeholder {{port.web}}: unknown name "port.web"`},
		{"unknown filter", step("File {{ca.file|html}}."), `12: placeholder {{ca.file|html}}: unknown filter "html"`},
		{"in a quiz", step("```quiz\n? On {{hots}}?\n+ a | b\n- c | d\n```"), `13: placeholder {{hots}}: unknown name "hots"`},
		{"in a do block", step("```do\nconn = await pg.connect({tls: {serverName: \"{{name}}\"}});\n```"), "13: placeholder {{name}} in a do block: placeholders are filled in prose only; code reads the same values from site (site.name)"},
		{"in a check", step("```check\njs: location.host === \"{{host}}\"\n```"), "13: placeholder {{host}} in a check block"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := LoadFS(fstest.MapFS{"07-bad.md": {Data: []byte(tt.text)}})
			if want := "lessons: 07-bad.md:" + tt.want; err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("error:\n%v\nwant it to contain:\n%s", err, want)
			}
		})
	}
}
