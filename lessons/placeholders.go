package lessons

import (
	"html"
	"html/template"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// Placeholders are the names lesson prose may write as {{name}}: values of
// the server the learner is using, filled in when a page is rendered, so a
// command or a sketch in a lesson works as it stands (README.md, "Placeholders").
var Placeholders = []string{
	"host",       // the host name or address the learner reached the page by
	"name",       // a DNS name the broker certificate covers, for SNI and the name check
	"url",        // the page's origin: http://host:port
	"port.mqtt",  // the mqtt listener's port
	"port.mqtts", // the mqtts listener's port
	"port.mtls",  // the mtls listener's port
	"ca.url",     // where the CA certificate can be downloaded
	"ca.file",    // where the CA certificate is on the server machine
	"ca.pem",     // the CA certificate itself, PEM
}

// Filters change a placeholder's value for the code around it:
// {{ca.file|sh}} is one shell word, {{ca.file|q}} a double-quoted string
// literal that JavaScript, Python, Go and C read alike.
var Filters = []string{"sh", "q"}

// Vars are the placeholders' values for one page.
type Vars map[string]string

// A placeholder in parsed prose is kept as a marker of private-use
// characters (which no renderer step escapes or interprets) until Fill
// replaces it with its value, escaped for HTML.
const (
	markOpen  = "\uE000"
	markSep   = "\uE001"
	markClose = "\uE002"
)

var (
	// placeholderRE matches {{name}} and {{name|filter}}, and the same
	// preceded by a backslash (a literal, not a placeholder).
	placeholderRE = regexp.MustCompile(`(\\?)\{\{\s*([^{}|\s]*)\s*(?:\|\s*([^{}\s]*)\s*)?\}\}`)
	markerRE      = regexp.MustCompile(markOpen + `([^` + markOpen + markSep + markClose + `]+)(?:` + markSep + `([a-z]+))?` + markClose)
)

// markPlaceholders turns the placeholders of a prose or choice line into
// markers; \{{…}} stays as the literal text {{…}}. found reports whether the
// line had any placeholder.
func (p *parser) markPlaceholders(line string, ln int) (out string, found bool) {
	if !strings.Contains(line, "{{") {
		return line, false
	}
	out = placeholderRE.ReplaceAllStringFunc(line, func(m string) string {
		g := placeholderRE.FindStringSubmatch(m)
		if g[1] != "" {
			return m[1:]
		}
		name, filter := g[2], g[3]
		switch {
		case !slices.Contains(Placeholders, name):
			p.fail(ln, "placeholder %s: unknown name %q (known: %s)", m, name, strings.Join(Placeholders, ", "))
			return m
		case strings.Contains(m, "|") && !slices.Contains(Filters, filter):
			p.fail(ln, "placeholder %s: unknown filter %q (known: %s)", m, filter, strings.Join(Filters, ", "))
			return m
		}
		found = true
		if filter != "" {
			return markOpen + name + markSep + filter + markClose
		}
		return markOpen + name + markClose
	})
	return out, found
}

// mark is markPlaceholders, noting that the lesson has some.
func (p *parser) mark(line string, ln int) string {
	out, found := p.markPlaceholders(line, ln)
	p.placeholders = p.placeholders || found
	return out
}

// noPlaceholders refuses placeholders in do, look and check blocks: their
// text is code, where an HTML-escaped value would be wrong; code reads the
// same values from site.
func (p *parser) noPlaceholders(kind Kind, lines []string, ln int) {
	for i, line := range lines {
		for _, g := range placeholderRE.FindAllStringSubmatch(line, -1) {
			if g[1] == "" && slices.Contains(Placeholders, g[2]) {
				p.fail(ln+1+i, "placeholder %s in a %s block: placeholders are filled in prose only; code reads the same values from site (site.%s)", g[0], kind, g[2])
			}
		}
	}
}

// Fill replaces the placeholder markers of rendered HTML with their values,
// each filtered and then escaped for HTML. A name without a value is shown
// as {{name}}.
func Fill(h template.HTML, v Vars) template.HTML {
	s := string(h)
	if !strings.Contains(s, markOpen) {
		return h
	}
	return template.HTML(markerRE.ReplaceAllStringFunc(s, func(m string) string {
		g := markerRE.FindStringSubmatch(m)
		val, ok := v[g[1]]
		if !ok {
			return html.EscapeString("{{" + g[1] + "}}")
		}
		return html.EscapeString(filter(val, g[2]))
	}))
}

func filter(v, f string) string {
	switch f {
	case "sh":
		return shellWord(v)
	case "q":
		return strconv.Quote(v)
	}
	return v
}

// shellWord quotes s for a POSIX shell when it holds anything but the
// characters that never need quoting.
func shellWord(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789@%+=:,./_-") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// Fill returns the lesson with its placeholders filled in from v: a copy
// when it has any, the lesson itself when not. The parsed course is shared
// by every request and never changed.
func (l *Lesson) Fill(v Vars) *Lesson {
	if !l.placeholders {
		return l
	}
	c := *l
	c.Intro = Fill(l.Intro, v)
	c.Steps = make([]*Step, len(l.Steps))
	for i, s := range l.Steps {
		c.Steps[i] = s.fill(v)
	}
	return &c
}

func (s *Step) fill(v Vars) *Step {
	c := *s
	c.Prose = Fill(s.Prose, v)
	filled := map[*Block]*Block{}
	c.Blocks = make([]*Block, len(s.Blocks))
	for i, b := range s.Blocks {
		nb := *b
		nb.Question = Fill(b.Question, v)
		nb.Answers = make([]Answer, len(b.Answers))
		for j, a := range b.Answers {
			nb.Answers[j] = Answer{Text: Fill(a.Text, v), Right: a.Right, Explanation: Fill(a.Explanation, v)}
		}
		c.Blocks[i], filled[b] = &nb, &nb
	}
	c.Body = make([]Part, len(s.Body))
	for i, part := range s.Body {
		if part.Block != nil {
			c.Body[i] = Part{Block: filled[part.Block]}
		} else {
			c.Body[i] = Part{HTML: Fill(part.HTML, v)}
		}
	}
	return &c
}
