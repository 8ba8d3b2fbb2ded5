package lessons

import (
	"fmt"
	"html"
	"html/template"
	"strings"
)

// The small, safe Markdown subset lessons are written in. Block level:
// paragraphs, ### and #### headings, bullet (- or *) and numbered (1.)
// lists (nested by indenting), > quotes, fenced code blocks and pipe tables.
// Inline: `code`, **strong**, *emphasis*, [links](url) and backslash
// escapes. Everything else, raw HTML included, is escaped and shown as
// text. Links may point to http, https and mailto URLs or to paths and
// fragments on this site; any other scheme (javascript:, data: …) is an
// error.

// link is a link found while rendering, for the internal-link check.
type link struct {
	url  string
	line int
}

// renderer turns Markdown lines into HTML. first is the file line number of
// lines[0], for errors and link positions.
type renderer struct {
	links []link
	err   error
}

func (r *renderer) fail(line int, format string, args ...any) {
	if r.err == nil {
		r.err = &lineError{line: line, msg: fmt.Sprintf(format, args...)}
	}
}

// lineError is an error at a line of the file being parsed; the caller
// adds the file name.
type lineError struct {
	line int
	msg  string
}

func (e *lineError) Error() string { return fmt.Sprintf("%d: %s", e.line, e.msg) }

// render renders lines (file lines first, first+1, …) as HTML.
func (r *renderer) render(lines []string, first int) template.HTML {
	var b strings.Builder
	r.blocks(&b, lines, first)
	return template.HTML(b.String())
}

func isFence(s string) bool { return strings.HasPrefix(strings.TrimLeft(s, " "), "```") }

func listMarker(s string) (ordered bool, width int, ok bool) {
	t := strings.TrimLeft(s, " ")
	indent := len(s) - len(t)
	if indent > 3 {
		return false, 0, false
	}
	if strings.HasPrefix(t, "- ") || strings.HasPrefix(t, "* ") {
		return false, indent + 2, true
	}
	i := 0
	for i < len(t) && i < 9 && t[i] >= '0' && t[i] <= '9' {
		i++
	}
	if i > 0 && i+1 < len(t) && t[i] == '.' && t[i+1] == ' ' {
		return true, indent + i + 2, true
	}
	return false, 0, false
}

func isTableSep(s string) bool {
	t := strings.TrimSpace(s)
	if !strings.HasPrefix(t, "|") || !strings.Contains(t, "-") {
		return false
	}
	return strings.Trim(t, "|-: ") == ""
}

func (r *renderer) blocks(b *strings.Builder, lines []string, first int) {
	for i := 0; i < len(lines); {
		line := lines[i]
		ln := first + i
		t := strings.TrimSpace(line)
		switch {
		case t == "":
			i++
		case isFence(line):
			lang, j, _ := fenceAt(lines, i)
			if j < 0 {
				r.fail(ln, "code block opened here is never closed")
				return
			}
			b.WriteString("<pre><code")
			if lang != "" {
				fmt.Fprintf(b, ` class="language-%s"`, html.EscapeString(strings.Fields(lang)[0]))
			}
			b.WriteString(">")
			b.WriteString(html.EscapeString(strings.Join(lines[i+1:j], "\n")))
			b.WriteString("</code></pre>\n")
			i = j + 1
		case strings.HasPrefix(t, "#"):
			level := len(t) - len(strings.TrimLeft(t, "#"))
			text := strings.TrimSpace(t[level:])
			if level < 3 || level > 4 || text == "" || t[level] != ' ' {
				r.fail(ln, "heading %q: inside a lesson use ## for steps and ### or #### for headings within a step", t)
				return
			}
			fmt.Fprintf(b, "<h%d>%s</h%d>\n", level, r.inline(text, ln), level)
			i++
		case strings.HasPrefix(t, ">"):
			j := i
			var inner []string
			for j < len(lines) && strings.HasPrefix(strings.TrimSpace(lines[j]), ">") {
				s := strings.TrimPrefix(strings.TrimSpace(lines[j]), ">")
				inner = append(inner, strings.TrimPrefix(s, " "))
				j++
			}
			b.WriteString("<blockquote>\n")
			r.blocks(b, inner, ln)
			b.WriteString("</blockquote>\n")
			i = j
		case strings.HasPrefix(t, "|") && i+1 < len(lines) && isTableSep(lines[i+1]):
			i = r.table(b, lines, i, first)
		default:
			if ordered, _, ok := listMarker(line); ok {
				i = r.list(b, lines, i, first, ordered)
				continue
			}
			j := i
			var para []string
			for j < len(lines) {
				s := strings.TrimSpace(lines[j])
				if s == "" || isFence(lines[j]) || strings.HasPrefix(s, "#") || strings.HasPrefix(s, ">") {
					break
				}
				if _, _, ok := listMarker(lines[j]); ok && j > i {
					break
				}
				if strings.HasPrefix(s, "|") && j+1 < len(lines) && isTableSep(lines[j+1]) {
					break
				}
				para = append(para, s)
				j++
			}
			fmt.Fprintf(b, "<p>%s</p>\n", r.inline(strings.Join(para, "\n"), ln))
			i = j
		}
		if r.err != nil {
			return
		}
	}
}

// list renders the list starting at lines[i] and returns the index after it.
func (r *renderer) list(b *strings.Builder, lines []string, i, first int, ordered bool) int {
	tag := "ul"
	if ordered {
		tag = "ol"
	}
	fmt.Fprintf(b, "<%s>\n", tag)
	for i < len(lines) {
		o, width, ok := listMarker(lines[i])
		if !ok || o != ordered {
			break
		}
		start := i
		item := []string{lines[i][width:]}
		i++
		// The item goes on over indented lines and over blank lines
		// followed by indented lines.
		for i < len(lines) {
			s := lines[i]
			if strings.TrimSpace(s) == "" {
				if i+1 < len(lines) && strings.HasPrefix(lines[i+1], strings.Repeat(" ", width)) && strings.TrimSpace(lines[i+1]) != "" {
					item = append(item, "")
					i++
					continue
				}
				break
			}
			if indent := len(s) - len(strings.TrimLeft(s, " ")); indent >= 2 {
				cut := min(indent, width)
				item = append(item, s[cut:])
				i++
				continue
			}
			if _, _, ok := listMarker(s); ok {
				break
			}
			// A lazy continuation line of the item's paragraph.
			item = append(item, strings.TrimSpace(s))
			i++
		}
		b.WriteString("<li>")
		if tight(item) {
			b.WriteString(string(r.inline(strings.Join(trimAll(item), "\n"), first+start)))
		} else {
			b.WriteString("\n")
			r.blocks(b, item, first+start)
		}
		b.WriteString("</li>\n")
		// A blank line between items ends nothing.
		if i < len(lines) && strings.TrimSpace(lines[i]) == "" && i+1 < len(lines) {
			if o, _, ok := listMarker(lines[i+1]); ok && o == ordered {
				i++
			}
		}
	}
	fmt.Fprintf(b, "</%s>\n", tag)
	return i
}

// tight reports whether a list item is one paragraph, shown without <p>.
func tight(item []string) bool {
	for _, s := range item {
		t := strings.TrimSpace(s)
		if t == "" || isFence(s) || strings.HasPrefix(t, "#") || strings.HasPrefix(t, ">") {
			return false
		}
		if _, _, ok := listMarker(s); ok {
			return false
		}
	}
	return true
}

func trimAll(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = strings.TrimSpace(s)
	}
	return out
}

func splitRow(s string) []string {
	s = strings.TrimSpace(s)
	s = strings.TrimPrefix(s, "|")
	s = strings.TrimSuffix(s, "|")
	// Split on | outside code spans; \| is a literal bar.
	var cells []string
	var cur strings.Builder
	code := false
	for i := 0; i < len(s); i++ {
		switch {
		case s[i] == '\\' && i+1 < len(s) && s[i+1] == '|':
			cur.WriteString(`\|`)
			i++
		case s[i] == '`':
			code = !code
			cur.WriteByte(s[i])
		case s[i] == '|' && !code:
			cells = append(cells, strings.TrimSpace(cur.String()))
			cur.Reset()
		default:
			cur.WriteByte(s[i])
		}
	}
	return append(cells, strings.TrimSpace(cur.String()))
}

func (r *renderer) table(b *strings.Builder, lines []string, i, first int) int {
	head := splitRow(lines[i])
	b.WriteString("<table>\n<thead><tr>")
	for _, c := range head {
		fmt.Fprintf(b, "<th>%s</th>", r.inline(c, first+i))
	}
	b.WriteString("</tr></thead>\n<tbody>\n")
	j := i + 2
	for j < len(lines) && strings.HasPrefix(strings.TrimSpace(lines[j]), "|") {
		b.WriteString("<tr>")
		for _, c := range splitRow(lines[j]) {
			fmt.Fprintf(b, "<td>%s</td>", r.inline(c, first+j))
		}
		b.WriteString("</tr>\n")
		j++
	}
	b.WriteString("</tbody>\n</table>\n")
	return j
}

const punct = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"

// inline renders inline Markdown; line is where the text starts, for links.
func (r *renderer) inline(s string, line int) template.HTML {
	var b strings.Builder
	r.inlineTo(&b, s, line)
	return template.HTML(b.String())
}

func (r *renderer) inlineTo(b *strings.Builder, s string, line int) {
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == '\n':
			b.WriteByte('\n')
			line++
			i++
		case c == '\\' && i+1 < len(s) && strings.IndexByte(punct, s[i+1]) >= 0:
			b.WriteString(html.EscapeString(s[i+1 : i+2]))
			i += 2
		case c == '`':
			n := len(s[i:]) - len(strings.TrimLeft(s[i:], "`"))
			delim := s[i : i+n]
			end := strings.Index(s[i+n:], delim)
			if end < 0 {
				b.WriteString(html.EscapeString(delim))
				i += n
				continue
			}
			code := s[i+n : i+n+end]
			if len(code) > 1 && code[0] == ' ' && code[len(code)-1] == ' ' {
				code = code[1 : len(code)-1]
			}
			fmt.Fprintf(b, "<code>%s</code>", html.EscapeString(strings.ReplaceAll(code, "\n", " ")))
			i += n + end + n
		case c == '*' && strings.HasPrefix(s[i:], "**"):
			end := strings.Index(s[i+2:], "**")
			if end <= 0 || s[i+2] == ' ' {
				b.WriteString("**")
				i += 2
				continue
			}
			b.WriteString("<strong>")
			r.inlineTo(b, s[i+2:i+2+end], line)
			b.WriteString("</strong>")
			i += 2 + end + 2
		case c == '*':
			end := closingStar(s[i+1:])
			if end <= 0 || s[i+1] == ' ' {
				b.WriteString("*")
				i++
				continue
			}
			b.WriteString("<em>")
			r.inlineTo(b, s[i+1:i+1+end], line)
			b.WriteString("</em>")
			i += 1 + end + 1
		case c == '[':
			text, url, n, ok := parseLink(s[i:])
			if !ok {
				b.WriteString("[")
				i++
				continue
			}
			if !safeURL(url) {
				r.fail(line, "link %q: only http, https and mailto links and paths on this site are allowed", url)
				return
			}
			r.links = append(r.links, link{url: url, line: line})
			ext := strings.HasPrefix(url, "http://") || strings.HasPrefix(url, "https://")
			fmt.Fprintf(b, `<a href="%s"`, html.EscapeString(url))
			if ext {
				b.WriteString(` target="_blank" rel="noopener"`)
			}
			b.WriteString(">")
			r.inlineTo(b, text, line)
			b.WriteString("</a>")
			i += n
		default:
			j := i + 1
			for j < len(s) && strings.IndexByte("\n\\`*[", s[j]) < 0 {
				j++
			}
			b.WriteString(html.EscapeString(s[i:j]))
			i = j
		}
	}
}

// closingStar finds the * closing an emphasis that starts before s, skipping
// ** pairs and code spans.
func closingStar(s string) int {
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '`':
			if end := strings.IndexByte(s[i+1:], '`'); end >= 0 {
				i += end + 1
			}
		case '\\':
			i++
		case '*':
			if strings.HasPrefix(s[i:], "**") {
				if end := strings.Index(s[i+2:], "**"); end >= 0 {
					i += end + 3
					continue
				}
			}
			if i > 0 && s[i-1] != ' ' {
				return i
			}
		}
	}
	return -1
}

// parseLink parses [text](url) at the start of s.
func parseLink(s string) (text, url string, n int, ok bool) {
	depth := 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '`':
			if end := strings.IndexByte(s[i+1:], '`'); end >= 0 {
				i += end + 1
			}
		case '[':
			depth++
		case ']':
			depth--
			if depth == 0 {
				if i+1 >= len(s) || s[i+1] != '(' {
					return "", "", 0, false
				}
				// The URL ends at the ) that balances the (.
				end, depth := -1, 0
				for j := i + 2; j < len(s) && end < 0; j++ {
					switch s[j] {
					case '(':
						depth++
					case ')':
						if depth == 0 {
							end = j - (i + 2)
						}
						depth--
					}
				}
				if end < 0 {
					return "", "", 0, false
				}
				url = strings.TrimSpace(s[i+2 : i+2+end])
				if url == "" || strings.ContainsAny(url, " \n") {
					return "", "", 0, false
				}
				return s[1:i], url, i + 2 + end + 1, true
			}
		}
	}
	return "", "", 0, false
}

// safeURL allows http, https and mailto URLs, and scheme-less paths and
// fragments.
func safeURL(u string) bool {
	lower := strings.ToLower(u)
	for _, p := range []string{"http://", "https://", "mailto:"} {
		if strings.HasPrefix(lower, p) {
			return true
		}
	}
	if strings.HasPrefix(u, "//") {
		return false
	}
	// A colon before any /, ? or # would make the first part a scheme.
	if i := strings.IndexAny(u, ":/?#"); i >= 0 && u[i] == ':' {
		return false
	}
	return true
}
