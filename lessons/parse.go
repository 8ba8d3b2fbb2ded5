package lessons

import (
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/mqtts-playground/playground/trace"
)

var (
	idRE      = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)
	slugRE    = regexp.MustCompile(`^[a-z][a-z0-9-]*$`)
	stepRE    = regexp.MustCompile(`^step-[0-9]+$`)
	headingRE = regexp.MustCompile(`^##\s+(.+?)(?:\s+\{([^{}]*)\})?\s*$`)
	nameRE    = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)
)

var (
	frontKeys = []string{"id", "title", "order", "summary", "level", "minutes", "listeners"}
	required  = []string{"id", "title", "order", "summary", "level", "minutes"}
	levels    = []string{"beginner", "intermediate", "advanced"}
	sides     = []string{string(trace.Client), string(trace.Broker), "any"}
	dirs      = []string{string(trace.Send), string(trace.Recv), "any"}
)

// parser holds the state of parsing one file.
type parser struct {
	// fsys holds the lesson and its step files; file is the lesson's name in it.
	fsys fs.FS
	file string
	// placeholders is set once a prose or choice line holds one.
	placeholders bool
	r            renderer
	errs         []error
	// broken marks steps with a block that failed to parse.
	broken map[*Step]bool
}

func (p *parser) fail(line int, format string, args ...any) {
	p.errs = append(p.errs, &Error{File: p.file, Line: line, Msg: fmt.Sprintf(format, args...)})
}

// takeRenderErr moves a Markdown error into the file's errors.
func (p *parser) takeRenderErr() {
	if p.r.err != nil {
		var le *lineError
		if errors.As(p.r.err, &le) {
			p.fail(le.line, "%s", le.msg)
		} else {
			p.fail(0, "%v", p.r.err)
		}
		p.r.err = nil
	}
}

// parse parses one lesson file; it returns the lesson, the links of its
// prose (for the course-wide link check) and every problem found.
func parse(fsys fs.FS, file, text string) (*Lesson, []link, error) {
	p := &parser{fsys: fsys, file: file, broken: map[*Step]bool{}}
	lines := strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n")
	l := &Lesson{File: file}
	body := p.frontMatter(l, lines)
	if body < 0 {
		return nil, nil, errors.Join(p.errs...)
	}
	p.body(l, lines, body)
	l.placeholders = p.placeholders
	if len(p.errs) > 0 {
		return nil, nil, errors.Join(p.errs...)
	}
	return l, p.r.links, nil
}

// frontMatter parses the --- block and returns the index of the first body
// line, or -1 when the front matter cannot be read at all.
func (p *parser) frontMatter(l *Lesson, lines []string) int {
	if len(lines) == 0 || strings.TrimSpace(lines[0]) != "---" {
		p.fail(1, "a lesson starts with front matter: a line ---, key: value lines (%s), and a line ---", strings.Join(required, ", "))
		return -1
	}
	seen := map[string]int{}
	end := -1
	for i := 1; i < len(lines); i++ {
		line := strings.TrimSpace(lines[i])
		ln := i + 1
		if line == "---" {
			end = i
			break
		}
		if line == "" {
			continue
		}
		k, v, ok := strings.Cut(line, ":")
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if !ok || k == "" {
			p.fail(ln, "front matter line %q is not key: value", line)
			continue
		}
		if !slices.Contains(frontKeys, k) {
			p.fail(ln, "unknown front matter key %q (known: %s)", k, strings.Join(frontKeys, ", "))
			continue
		}
		if at, dup := seen[k]; dup {
			p.fail(ln, "front matter key %q is already set on line %d", k, at)
			continue
		}
		seen[k] = ln
		if v == "" {
			p.fail(ln, "front matter key %q has no value", k)
			continue
		}
		switch k {
		case "id":
			if !idRE.MatchString(v) {
				p.fail(ln, "id %q: use lower-case letters, digits and single hyphens (it is the URL /lessons/ID)", v)
			}
			l.ID = v
		case "title":
			l.Title = v
		case "summary":
			l.Summary = v
		case "order", "minutes":
			n, err := strconv.Atoi(v)
			if err != nil || n <= 0 {
				p.fail(ln, "%s %q: want a positive whole number", k, v)
			}
			if k == "order" {
				l.Order = n
			} else {
				l.Minutes = n
			}
		case "level":
			if !slices.Contains(levels, v) {
				p.fail(ln, "level %q: want one of %s", v, strings.Join(levels, ", "))
			}
			l.Level = v
		case "listeners":
			for _, name := range strings.Split(v, ",") {
				name = strings.TrimSpace(name)
				if !nameRE.MatchString(name) {
					p.fail(ln, "listeners: %q is not a listener name", name)
					continue
				}
				l.Listeners = append(l.Listeners, name)
			}
		}
	}
	if end < 0 {
		p.fail(1, "front matter is never closed: end it with a line ---")
		return -1
	}
	for _, k := range required {
		if _, ok := seen[k]; !ok {
			p.fail(end+1, "front matter lacks %q", k)
		}
	}
	return end + 1
}

// fenceAt reports whether lines[i] opens a fenced block and, if so, its
// info string and the index of its closing line (-1 when unclosed).
func fenceAt(lines []string, i int) (info string, end int, ok bool) {
	if !isFence(lines[i]) {
		return "", 0, false
	}
	f := strings.TrimLeft(lines[i], " ")
	n := len(f) - len(strings.TrimLeft(f, "`"))
	info = strings.TrimSpace(f[n:])
	for j := i + 1; j < len(lines); j++ {
		t := strings.TrimSpace(lines[j])
		if strings.HasPrefix(t, strings.Repeat("`", n)) && strings.Trim(t, "`") == "" {
			return info, j, true
		}
	}
	return info, -1, true
}

func (p *parser) body(l *Lesson, lines []string, start int) {
	var cur *Step
	var prose []string
	proseStart := 0
	flush := func() {
		if strings.TrimSpace(strings.Join(prose, "")) != "" {
			h := p.r.render(prose, proseStart)
			p.takeRenderErr()
			if cur == nil {
				l.Intro += h
			} else {
				cur.Prose += h
				cur.Body = append(cur.Body, Part{HTML: h})
			}
		}
		prose = nil
	}
	addProse := func(ln int, ls ...string) {
		if len(prose) == 0 {
			proseStart = ln
		}
		for i, s := range ls {
			prose = append(prose, p.mark(s, ln+i))
		}
	}
	for i := start; i < len(lines); i++ {
		line := lines[i]
		ln := i + 1
		if info, end, ok := fenceAt(lines, i); ok {
			if end < 0 {
				p.fail(ln, "fenced block opened here is never closed")
				break
			}
			args := strings.Fields(info)
			kind := Kind("")
			if len(args) > 0 {
				kind = Kind(args[0])
			}
			if !slices.Contains(kinds, kind) {
				addProse(ln, lines[i:end+1]...)
				i = end
				continue
			}
			flush()
			if cur == nil {
				p.fail(ln, "a %s block must be inside a step (after a ## heading)", kind)
			} else if b := p.block(kind, args[1:], lines[i+1:end], ln); b == nil {
				p.broken[cur] = true // already reported; the step is not empty
			} else {
				b.Index = len(cur.blocks(kind))
				cur.Blocks = append(cur.Blocks, b)
				cur.Body = append(cur.Body, Part{Block: b})
			}
			i = end
			continue
		}
		if strings.HasPrefix(line, "## ") || strings.TrimSpace(line) == "##" {
			flush()
			cur = p.heading(line, ln)
			cur.N = len(l.Steps) + 1
			l.Steps = append(l.Steps, cur)
			continue
		}
		if strings.HasPrefix(line, "# ") {
			p.fail(ln, "a lesson's title is its front matter's title: use ## for steps and ### for headings inside a step")
			continue
		}
		addProse(ln, line)
	}
	flush()
	p.steps(l)
}

func (p *parser) heading(line string, ln int) *Step {
	s := &Step{Line: ln, Blocks: []*Block{}} // blocks is never null in the JSON
	m := headingRE.FindStringSubmatch(line)
	if m == nil {
		p.fail(ln, "step heading %q has no title", line)
		return s
	}
	s.Title = strings.TrimSpace(m[1])
	for _, tok := range strings.Fields(m[2]) {
		switch {
		case strings.HasPrefix(tok, "#"):
			slug := tok[1:]
			switch {
			case s.Slug != "":
				p.fail(ln, "step has two slugs: #%s and %s", s.Slug, tok)
			case !slugRE.MatchString(slug):
				p.fail(ln, "slug %q: use lower-case letters, digits and hyphens, starting with a letter", slug)
			case stepRE.MatchString(slug):
				p.fail(ln, "slug %q would clash with the step-N anchors", slug)
			}
			s.Slug = slug
		case tok == "essential":
			s.Essential = true
		case tok == "server":
			s.Server = true
		default:
			p.fail(ln, "unknown step flag %q (known: essential, server)", tok)
		}
	}
	if s.Slug == "" && strings.EqualFold(s.Title, "takeaways") {
		s.Slug = "takeaways"
	}
	return s
}

// steps checks the rules that span a step's blocks.
func (p *parser) steps(l *Lesson) {
	slugs := map[string]int{}
	for i, s := range l.Steps {
		if s.Slug != "" {
			if at, dup := slugs[s.Slug]; dup {
				p.fail(s.Line, "slug %q is already used by the step on line %d", s.Slug, at)
			}
			slugs[s.Slug] = s.Line
		}
		if s.Prose == "" && len(s.Blocks) == 0 && !p.broken[s] {
			p.fail(s.Line, "step %q is empty", s.Title)
		}
		count := map[Kind]int{}
		for _, b := range s.Blocks {
			count[b.Kind]++
			if count[b.Kind] > 1 && (b.Kind == Predict || b.Kind == Do) {
				p.fail(b.Line, "a step has at most one %s block; split the step in two", b.Kind)
			}
		}
		if pr, do := s.Predict(), s.Do(); pr != nil && do == nil {
			p.fail(pr.Line, "a predict block needs a do block in the same step: the prediction is revealed by the action")
		} else if pr != nil && pr.Line > do.Line {
			p.fail(pr.Line, "the predict block must come before the do block: the learner predicts, then acts")
		}
		if s.IsTakeaways() {
			if i != len(l.Steps)-1 {
				p.fail(s.Line, "the takeaways step must be the last step")
			}
			if s.Prose == "" {
				p.fail(s.Line, "the takeaways step needs its takeaways: a list of short points")
			}
			for _, b := range s.Blocks {
				if b.Kind != Quiz {
					p.fail(b.Line, "the takeaways step is not run: it holds prose and quiz blocks only, not %s", b.Kind)
				}
			}
		}
	}
}

// block parses the lines between a block's fences; ln is the opening
// fence's line and args the words after the kind in its info string.
func (p *parser) block(kind Kind, args []string, lines []string, ln int) *Block {
	b := &Block{Kind: kind, Line: ln}
	n := len(p.errs)
	if kind == Do {
		p.stepFiles(b, args, lines, ln)
	} else if len(args) > 0 {
		p.fail(ln, "a %s block takes nothing after its name; found %q", kind, strings.Join(args, " "))
	}
	switch kind {
	case Predict, Quiz:
		marked := make([]string, len(lines))
		for i, line := range lines {
			marked[i] = p.mark(line, ln+1+i)
		}
		p.choices(b, marked, ln)
	default:
		p.noPlaceholders(kind, lines, ln)
	}
	switch kind {
	case Do:
		if b.File == "" {
			b.Code = strings.Join(lines, "\n")
			if strings.TrimSpace(b.Code) == "" {
				p.fail(ln, "empty do block")
			} else {
				p.checkJS(b.Code, p.file, ln+1, false)
			}
		}
	case Look:
		for i, line := range lines {
			if t := strings.TrimSpace(line); t != "" {
				if tg, ok := p.target(t, ln+1+i, false); ok {
					b.Targets = append(b.Targets, tg.Target)
				}
			}
		}
		if len(b.Targets) == 0 && len(p.errs) == n {
			p.fail(ln, "empty look block: one line per target, SIDE DIR TYPE [field=\"NAME\"]")
		}
	case CheckBlock:
		for i, line := range lines {
			t := strings.TrimSpace(line)
			lln := ln + 1 + i
			switch {
			case t == "":
			case jsCheckRE.MatchString(t):
				label, expr, ok := p.jsCheck(t, lln)
				if !ok {
					continue
				}
				if expr == "" {
					p.fail(lln, "js: check without an expression")
					continue
				}
				if !p.checkJS(expr, p.file, lln, true) {
					continue
				}
				text := label
				if text == "" {
					text = expr
				}
				b.Checks = append(b.Checks, Check{Source: t, JS: expr, Text: text, Label: label, Line: lln})
			case strings.HasPrefix(t, "event ") || t == "event":
				if c, ok := p.target(strings.TrimSpace(strings.TrimPrefix(t, "event")), lln, true); ok {
					c.Source = t
					c.Text = c.describe()
					c.Line = lln
					b.Checks = append(b.Checks, c)
				}
			default:
				p.fail(lln, "unknown check %q: write event SIDE DIR TYPE [field=\"NAME\"] [value~=\"TEXT\"] [count>=N], or js \"WHAT IT CHECKS\": EXPRESSION", t)
			}
		}
		if len(b.Checks) == 0 && len(p.errs) == n {
			p.fail(ln, "empty check block")
		}
	}
	if len(p.errs) > n {
		return nil
	}
	return b
}

// jsCheckRE matches the start of a js: check line, labelled or not.
var jsCheckRE = regexp.MustCompile(`^js(:|\s+")`)

// jsCheck splits a js check line, `js: EXPR` or `js "LABEL": EXPR`, into
// its label (plain words, shown to the learner) and its expression.
func (p *parser) jsCheck(t string, ln int) (label, expr string, ok bool) {
	rest := strings.TrimSpace(strings.TrimPrefix(t, "js"))
	if strings.HasPrefix(rest, `"`) {
		q, err := strconv.QuotedPrefix(rest)
		if err == nil {
			label, err = strconv.Unquote(q)
		}
		rest = strings.TrimSpace(rest[len(q):])
		if err != nil || strings.TrimSpace(label) == "" || !strings.HasPrefix(rest, ":") {
			p.fail(ln, "%q: write js \"WHAT IT CHECKS, IN WORDS\": EXPRESSION", t)
			return "", "", false
		}
	}
	return label, strings.TrimSpace(strings.TrimPrefix(rest, ":")), true
}

// stepFiles reads the step file a do block names (```do NAME.ts
// [solution=NAME.ts]); a block that names none keeps its inline code.
func (p *parser) stepFiles(b *Block, args []string, lines []string, ln int) {
	if len(args) == 0 {
		return
	}
	code, ok := p.readStepFile(args[0], ln)
	if !ok {
		return
	}
	if strings.TrimSpace(strings.Join(lines, "")) != "" {
		p.fail(ln, "this do block names the step file %s: leave the block empty, the code is in the file", args[0])
		return
	}
	if !p.checkJS(code.body, code.file, code.line, false) {
		return
	}
	b.Code, b.File, b.CodeLine = code.body, code.file, code.line
	for _, a := range args[1:] {
		name, ok := strings.CutPrefix(a, "solution=")
		if !ok || b.Solution != "" {
			p.fail(ln, "do %s: unknown option %q; the one option is solution=FILE.ts, the solved form of an exercise", args[0], a)
			return
		}
		sol, ok := p.readStepFile(name, ln)
		if !ok || !p.checkJS(sol.body, sol.file, sol.line, false) {
			return
		}
		if sol.body == code.body {
			p.fail(ln, "do %s: the solution %s is the same code as the exercise", args[0], name)
			return
		}
		b.Solution, b.SolutionFile = sol.body, sol.file
	}
}

// choices parses a predict or quiz block: "? question", then answer lines
// "+ text | explanation" (right) and "- text | explanation" (wrong). An
// indented line continues the line before it.
func (p *parser) choices(b *Block, lines []string, ln int) {
	type item struct {
		text string
		line int
	}
	var items []item
	for i, line := range lines {
		if strings.TrimSpace(line) == "" {
			continue
		}
		if (strings.HasPrefix(line, " ") || strings.HasPrefix(line, "\t")) && len(items) > 0 {
			items[len(items)-1].text += " " + strings.TrimSpace(line)
			continue
		}
		items = append(items, item{strings.TrimSpace(line), ln + 1 + i})
	}
	if len(items) == 0 || !strings.HasPrefix(items[0].text, "? ") {
		p.fail(ln, "a %s block starts with its question: a line \"? …\"", b.Kind)
		return
	}
	b.Question = p.inline(items[0].text[2:], items[0].line)
	right := false
	for _, it := range items[1:] {
		mark := it.text[0]
		if (mark != '+' && mark != '-') || len(it.text) < 2 || it.text[1] != ' ' {
			p.fail(it.line, "answer line %q: start it with \"+ \" (right) or \"- \" (wrong)", it.text)
			continue
		}
		text, expl, ok := cutBar(it.text[2:])
		if !ok || strings.TrimSpace(text) == "" || strings.TrimSpace(expl) == "" {
			p.fail(it.line, "answer line %q: write the answer, then | and why it is right or wrong", it.text)
			continue
		}
		right = right || mark == '+'
		b.Answers = append(b.Answers, Answer{Text: p.inline(strings.TrimSpace(text), it.line), Right: mark == '+', Explanation: p.inline(strings.TrimSpace(expl), it.line)})
	}
	if len(b.Answers) < 2 {
		p.fail(ln, "a %s block needs at least two answers", b.Kind)
	} else if !right {
		p.fail(ln, "a %s block needs a right answer (a line starting with +)", b.Kind)
	}
}

func (p *parser) inline(s string, line int) template.HTML {
	h := p.r.inline(s, line)
	p.takeRenderErr()
	return h
}

// cutBar splits at the first | outside code spans (\| is a literal bar).
func cutBar(s string) (before, after string, ok bool) {
	code := false
	for i := 0; i < len(s); i++ {
		switch {
		case s[i] == '\\' && i+1 < len(s):
			i++
		case s[i] == '`':
			code = !code
		case s[i] == '|' && !code:
			return s[:i], s[i+1:], true
		}
	}
	return s, "", false
}

// target parses "SIDE DIR TYPE [field="NAME"]" and, for checks, the
// options value~="TEXT" and count>=N.
func (p *parser) target(s string, ln int, check bool) (Check, bool) {
	var c Check
	toks, err := tokens(s)
	if err != nil {
		p.fail(ln, "%q: %v", s, err)
		return c, false
	}
	want := `SIDE DIR TYPE [field="NAME"]`
	if check {
		want = `event SIDE DIR TYPE [field="NAME"] [value~="TEXT"] [count>=N]`
	}
	if len(toks) < 3 {
		p.fail(ln, "%q: want %s", s, want)
		return c, false
	}
	c.Side, c.Dir, c.Type = toks[0], toks[1], toks[2]
	ok := true
	if !slices.Contains(sides, c.Side) {
		p.fail(ln, "%q: side %q is not one of %s", s, c.Side, strings.Join(sides, ", "))
		ok = false
	}
	if !slices.Contains(dirs, c.Dir) {
		p.fail(ln, "%q: direction %q is not one of %s", s, c.Dir, strings.Join(dirs, ", "))
		ok = false
	}
	if c.Type != "any" && !slices.Contains(trace.EventTypes, c.Type) {
		p.fail(ln, "%q: unknown event type %q (trace.EventTypes lists them)", s, c.Type)
		ok = false
	}
	for _, t := range toks[3:] {
		switch {
		case strings.HasPrefix(t, `field=`):
			c.Field, err = strconv.Unquote(t[len("field="):])
			if err != nil || c.Field == "" {
				p.fail(ln, "%q: write field=\"NAME\"", s)
				ok = false
			}
		case check && strings.HasPrefix(t, `value~=`):
			c.Value, err = strconv.Unquote(t[len("value~="):])
			if err != nil || c.Value == "" {
				p.fail(ln, "%q: write value~=\"TEXT\"", s)
				ok = false
			}
		case check && strings.HasPrefix(t, `count>=`):
			c.Count, err = strconv.Atoi(t[len("count>="):])
			if err != nil || c.Count < 1 {
				p.fail(ln, "%q: write count>=N with N a positive number", s)
				ok = false
			}
		default:
			p.fail(ln, "%q: unknown option %q; want %s", s, t, want)
			ok = false
		}
	}
	return c, ok
}

// tokens splits on spaces, keeping "quoted strings" (Go syntax) whole.
func tokens(s string) ([]string, error) {
	var out []string
	for s = strings.TrimSpace(s); s != ""; s = strings.TrimSpace(s) {
		i := 0
		for i < len(s) && s[i] != ' ' && s[i] != '\t' {
			if s[i] == '"' {
				q, err := strconv.QuotedPrefix(s[i:])
				if err != nil {
					return nil, fmt.Errorf("unterminated or malformed quoted string %s", s[i:])
				}
				i += len(q)
				continue
			}
			i++
		}
		out = append(out, s[:i])
		s = s[i:]
	}
	return out, nil
}

// describe says in words what an event check wants.
func (c Check) describe() string {
	var b strings.Builder
	switch c.Side {
	case "any":
		b.WriteString("either side ")
	default:
		b.WriteString("the " + c.Side + " ")
	}
	switch c.Dir {
	case "send":
		b.WriteString("sent ")
	case "recv":
		b.WriteString("received ")
	default:
		b.WriteString("sent or received ")
	}
	if c.Count > 1 {
		fmt.Fprintf(&b, "at least %d × ", c.Count)
	}
	if c.Type == "any" {
		b.WriteString("an event")
	} else {
		b.WriteString(c.Type)
	}
	switch {
	case c.Field != "" && c.Value != "":
		fmt.Fprintf(&b, " whose %s contains %q", c.Field, c.Value)
	case c.Field != "":
		fmt.Fprintf(&b, " with a %s field", c.Field)
	case c.Value != "":
		fmt.Fprintf(&b, " whose summary contains %q", c.Value)
	}
	return b.String()
}

// checkLinks checks the links of a lesson that point into the course:
// /lessons/ID, /lessons/ID#step-N or #slug, and #step-N or #slug within
// the lesson.
func (c *Course) checkLinks(l *Lesson, links []link) []error {
	var errs []error
	for _, lk := range links {
		u, err := url.Parse(lk.url)
		if err != nil || u.Scheme != "" || u.Host != "" {
			continue
		}
		target := l
		switch {
		case u.Path == "" && u.Fragment != "":
		case strings.HasPrefix(u.Path, "/lessons/"):
			id := strings.TrimPrefix(u.Path, "/lessons/")
			if target = c.Lesson(id); target == nil {
				errs = append(errs, &Error{File: l.File, Line: lk.line, Msg: fmt.Sprintf("link %q: there is no lesson %q", lk.url, id)})
				continue
			}
		default:
			continue
		}
		if f := u.Fragment; f != "" && !target.hasAnchor(f) {
			errs = append(errs, &Error{File: l.File, Line: lk.line, Msg: fmt.Sprintf("link %q: lesson %q has no step #%s", lk.url, target.ID, f)})
		}
	}
	return errs
}

func (l *Lesson) hasAnchor(f string) bool {
	for _, s := range l.Steps {
		if f == fmt.Sprintf("step-%d", s.N) || (s.Slug != "" && f == s.Slug) {
			return true
		}
	}
	return false
}
