package lessons

import (
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"slices"
	"strings"

	"github.com/evanw/esbuild/pkg/api"
)

// Step code: the code of a do block may live in a TypeScript file next to
// the lesson, in a folder named after the lesson file (02-tls-basics.md →
// 02-tls-basics/handshake.ts), referenced from the fence: ```do handshake.ts
// (and, for an exercise, solution=handshake-solved.ts). The file is one
// function whose parameters are the names the code uses:
//
//	import type { Scope } from "../../web/src/scope";
//
//	export default async function ({ pg, me, log }: Scope) {
//	  const conn = await pg.connect({listener: "mqtts"});
//	  log(conn.tlsInfo()?.version);
//	}
//
// tsc type-checks the whole file with the page (web/tsconfig.json includes
// lessons/); the page shows and runs the function's body, which the learner
// may edit. The body runs as JavaScript in the page's scope (pg, conn, state
// … as for an inline do block), so it must be JavaScript as written: no type
// annotations. esbuild checks that when the course is loaded, and any
// problem names the file and line.

// ScopeNames are the names a do block and a js: check see (web/src/scope.ts
// lists the same, with their types).
var ScopeNames = []string{"pg", "conn", "state", "me", "log", "hex", "text", "sleep", "events", "site", "recorded"}

var (
	stepFileRE  = regexp.MustCompile(`^[a-z0-9][a-z0-9-]*\.ts$`)
	stepFuncRE  = regexp.MustCompile(`^export default async function \(\{([^{}]*)\}: Scope\) \{$`)
	stepImport  = regexp.MustCompile(`^import type \{ Scope \} from "\.\./\.\./web/src/scope";$`)
	indentRE    = regexp.MustCompile(`^[ \t]*`)
	stepComment = regexp.MustCompile(`^\s*(//.*)?$`)
)

// stepCode is the code of a step file.
type stepCode struct {
	// file is the path in the lessons folder ("02-tls-basics/handshake.ts").
	file string
	// body is the function's body, dedented; line is the file line of its
	// first line.
	body string
	line int
}

// readStepFile reads name, a step file of the lesson in file, and returns
// its body. ln is the line of the fence that names it, for errors.
func (p *parser) readStepFile(name string, ln int) (stepCode, bool) {
	if p.fsys == nil {
		p.fail(ln, "step file %s: this lesson is not read from a folder that can hold step files", name)
		return stepCode{}, false
	}
	if !stepFileRE.MatchString(name) {
		p.fail(ln, "step file %q: name it with lower-case letters, digits and hyphens, ending in .ts (it sits in the folder %s/)", name, strings.TrimSuffix(p.file, ".md"))
		return stepCode{}, false
	}
	rel := path.Join(strings.TrimSuffix(p.file, ".md"), name)
	data, err := fs.ReadFile(p.fsys, rel)
	if err != nil {
		p.fail(ln, "step file %s: %v", rel, err)
		return stepCode{}, false
	}
	lines := strings.Split(strings.ReplaceAll(string(data), "\r\n", "\n"), "\n")
	fail := func(i int, format string, args ...any) (stepCode, bool) {
		p.errs = append(p.errs, &Error{File: rel, Line: i + 1, Msg: fmt.Sprintf(format, args...)})
		return stepCode{}, false
	}
	start := -1
	for i, l := range lines {
		if stepFuncRE.MatchString(l) {
			start = i
			break
		}
		if !stepComment.MatchString(l) && !stepImport.MatchString(l) {
			return fail(i, "a step file holds comments, the line `import type { Scope } from \"../../web/src/scope\";` and then `export default async function ({ names }: Scope) {`; found %q", l)
		}
	}
	if start < 0 {
		return fail(0, "no line `export default async function ({ pg, … }: Scope) {`: the step's code is that function's body")
	}
	for _, n := range strings.Split(stepFuncRE.FindStringSubmatch(lines[start])[1], ",") {
		if n = strings.TrimSpace(n); n != "" && !slices.Contains(ScopeNames, n) {
			return fail(start, "parameter %q: a step's code can use %s", n, strings.Join(ScopeNames, ", "))
		}
	}
	end := len(lines) - 1
	for end > start && strings.TrimSpace(lines[end]) == "" {
		end--
	}
	if end <= start || lines[end] != "}" {
		return fail(end, "the function must end with a line holding only } and nothing may follow it")
	}
	body := lines[start+1 : end]
	for len(body) > 0 && strings.TrimSpace(body[0]) == "" {
		body, start = body[1:], start+1
	}
	if len(body) == 0 {
		return fail(start, "the step's function is empty")
	}
	return stepCode{file: rel, body: dedent(body), line: start + 2}, true
}

// dedent removes the indentation all non-blank lines share.
func dedent(lines []string) string {
	common := ""
	first := true
	for _, l := range lines {
		if strings.TrimSpace(l) == "" {
			continue
		}
		in := indentRE.FindString(l)
		if first || len(in) < len(common) {
			common, first = in, false
		}
	}
	out := make([]string, len(lines))
	for i, l := range lines {
		out[i] = strings.TrimPrefix(l, common)
		if strings.TrimSpace(out[i]) == "" {
			out[i] = ""
		}
	}
	return strings.Join(out, "\n")
}

// checkJS reports a syntax error in code, which the page runs as the body
// of an async function (expr: as an expression). file and line locate
// code's first line, for the message.
func (p *parser) checkJS(code, file string, line int, expr bool) bool {
	src := "(async function () {\n" + code + "\n})"
	if expr {
		src = "(async function () {\nreturn (" + code + "\n);\n})"
	}
	r := api.Transform(src, api.TransformOptions{Loader: api.LoaderJS, Target: api.ES2020})
	if len(r.Errors) == 0 {
		return true
	}
	e := r.Errors[0]
	at := line
	if e.Location != nil && !expr {
		at = line + e.Location.Line - 2
	}
	msg := "this code runs as JavaScript in the page: " + e.Text
	if strings.HasSuffix(file, ".ts") {
		msg += " (the body of a step file must be JavaScript as written: no type annotations or other TypeScript-only syntax)"
	}
	p.errs = append(p.errs, &Error{File: file, Line: at, Msg: msg})
	return false
}
