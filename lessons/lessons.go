// Package lessons is the course: one Markdown file per lesson, embedded in
// the binary and parsed once at start-up into a [Course] of lessons, steps
// and the scripted blocks (predict, do, look, check, quiz) the browser's
// step runner (web/src/lesson.ts) runs against the live playground.
//
// The file format is specified in README.md beside this file. Parsing is
// strict: a broken lesson is an error naming its file and line, so the
// server refuses to start rather than show half a lesson. The package does
// not run anything: do blocks and js: checks are JavaScript for the page,
// kept as text here.
package lessons

import (
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"regexp"
	"slices"
	"strings"
)

//go:embed *.md */*.ts
var files embed.FS

// FS returns the embedded lesson files (and README.md).
func FS() fs.FS { return files }

// Course is every lesson, sorted by order.
type Course struct {
	Lessons []*Lesson
}

// Lesson returns the lesson with the given id, or nil.
func (c *Course) Lesson(id string) *Lesson {
	for _, l := range c.Lessons {
		if l.ID == id {
			return l
		}
	}
	return nil
}

// Neighbours returns the lessons before and after l in the course (nil at
// either end).
func (c *Course) Neighbours(l *Lesson) (prev, next *Lesson) {
	i := slices.Index(c.Lessons, l)
	if i > 0 {
		prev = c.Lessons[i-1]
	}
	if i >= 0 && i+1 < len(c.Lessons) {
		next = c.Lessons[i+1]
	}
	return prev, next
}

// Lesson is one lesson file.
type Lesson struct {
	// File is the file name in the lessons folder, for messages.
	File    string
	ID      string
	Title   string
	Order   int
	Summary string
	// Level is beginner, intermediate or advanced.
	Level string
	// Minutes is the estimated time to go through the lesson.
	Minutes int
	// Listeners are the broker listeners the lesson says it needs.
	Listeners []string
	// Intro is the prose before the first step.
	Intro template.HTML
	Steps []*Step
	// placeholders is set when the prose holds placeholders (see Fill).
	placeholders bool
}

// Takeaways returns the takeaways step, or nil.
func (l *Lesson) Takeaways() *Step {
	for _, s := range l.Steps {
		if s.IsTakeaways() {
			return s
		}
	}
	return nil
}

// Essential returns the steps of the overview path.
func (l *Lesson) Essential() []*Step {
	var out []*Step
	for _, s := range l.Steps {
		if s.Essential {
			out = append(out, s)
		}
	}
	return out
}

var listenerRef = regexp.MustCompile(`listener:\s*["']([A-Za-z0-9_-]+)["']`)

// ListenerRefs returns every listener the lesson names: those in its front
// matter and those its do blocks connect to (listener: "name").
func (l *Lesson) ListenerRefs() []string {
	out := slices.Clone(l.Listeners)
	for _, s := range l.Steps {
		for _, b := range s.Blocks {
			for _, m := range listenerRef.FindAllStringSubmatch(b.Code, -1) {
				out = append(out, m[1])
			}
			for _, c := range b.Checks {
				for _, m := range listenerRef.FindAllStringSubmatch(c.JS, -1) {
					out = append(out, m[1])
				}
			}
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// Part is a piece of a step's body: prose HTML or a block.
type Part struct {
	HTML  template.HTML
	Block *Block
}

// IsTakeaways reports whether the step is the lesson's takeaways (slug
// "takeaways"): not run, shown with the quizzes by the review path.
func (s *Step) IsTakeaways() bool { return s.Slug == "takeaways" }

func (s *Step) blocks(k Kind) []*Block {
	var out []*Block
	for _, b := range s.Blocks {
		if b.Kind == k {
			out = append(out, b)
		}
	}
	return out
}

// Predict returns the step's predict block, or nil.
func (s *Step) Predict() *Block { return first(s.blocks(Predict)) }

// Do returns the step's do block, or nil.
func (s *Step) Do() *Block { return first(s.blocks(Do)) }

// Quizzes returns the step's quiz blocks in order.
func (s *Step) Quizzes() []*Block { return s.blocks(Quiz) }

// Looks returns every look target of the step.
func (s *Step) Looks() []Target {
	var out []Target
	for _, b := range s.blocks(Look) {
		out = append(out, b.Targets...)
	}
	return out
}

// Checks returns every check of the step.
func (s *Step) Checks() []Check {
	var out []Check
	for _, b := range s.blocks(CheckBlock) {
		out = append(out, b.Checks...)
	}
	return out
}

func first(bs []*Block) *Block {
	if len(bs) == 0 {
		return nil
	}
	return bs[0]
}

var kinds = []Kind{Predict, Do, Look, CheckBlock, Quiz}

// Right returns the index of the first right answer.
func (b *Block) Right() int {
	for i, a := range b.Answers {
		if a.Right {
			return i
		}
	}
	return -1
}

// Error is a problem in a lesson file.
type Error struct {
	File string
	Line int
	Msg  string
}

func (e *Error) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("lessons: %s:%d: %s", e.File, e.Line, e.Msg)
	}
	return fmt.Sprintf("lessons: %s: %s", e.File, e.Msg)
}

// Load parses the embedded course.
func Load() (*Course, error) { return LoadFS(files) }

// LoadFS parses every *.md file of fsys except README.md as a lesson. All
// problems found are returned, each naming its file and line.
func LoadFS(fsys fs.FS) (*Course, error) {
	names, err := fs.Glob(fsys, "*.md")
	if err != nil {
		return nil, fmt.Errorf("lessons: %w", err)
	}
	var errs []error
	c := &Course{}
	found := map[*Lesson][]link{}
	for _, name := range names {
		if name == "README.md" {
			continue
		}
		data, err := fs.ReadFile(fsys, name)
		if err != nil {
			errs = append(errs, fmt.Errorf("lessons: %w", err))
			continue
		}
		l, links, err := parse(fsys, name, string(data))
		if err != nil {
			errs = append(errs, err)
			continue
		}
		c.Lessons = append(c.Lessons, l)
		found[l] = links
	}
	slices.SortFunc(c.Lessons, func(a, b *Lesson) int { return a.Order - b.Order })
	ids := map[string]*Lesson{}
	orders := map[int]*Lesson{}
	for _, l := range c.Lessons {
		if o := ids[l.ID]; o != nil {
			errs = append(errs, &Error{File: l.File, Line: 2, Msg: fmt.Sprintf("id %q is also the id of %s", l.ID, o.File)})
		}
		if o := orders[l.Order]; o != nil {
			errs = append(errs, &Error{File: l.File, Line: 2, Msg: fmt.Sprintf("order %d is also the order of %s", l.Order, o.File)})
		}
		ids[l.ID], orders[l.Order] = l, l
	}
	if len(c.Lessons) == 0 && len(errs) == 0 {
		errs = append(errs, errors.New("lessons: no lesson files"))
	}
	// Links between lessons can be checked once every lesson is known.
	for _, l := range c.Lessons {
		errs = append(errs, c.checkLinks(l, found[l])...)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return c, nil
}

// String says in words what a look target points at.
func (t Target) String() string {
	var b strings.Builder
	if t.Side == "any" {
		b.WriteString("either side")
	} else {
		b.WriteString(t.Side)
	}
	switch t.Dir {
	case "send":
		b.WriteString(" sends ")
	case "recv":
		b.WriteString(" receives ")
	default:
		b.WriteString(" sends or receives ")
	}
	if t.Type == "any" {
		b.WriteString("any event")
	} else {
		b.WriteString(t.Type)
	}
	if t.Field != "" {
		b.WriteString(" → " + t.Field)
	}
	return b.String()
}
