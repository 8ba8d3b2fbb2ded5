package lessons

import "html/template"

// The lesson data the page's step runner reads (the JSON in a lesson
// page's #lesson-data script). web/src/gen/lessons.ts is generated from
// this file (./task generate), so keep it to these types; their
// methods live in lessons.go.

// Step is one ## heading of a lesson and what follows it.
type Step struct {
	// N numbers the steps of a lesson from 1: the anchor is step-N.
	N     int    `json:"n"`
	Title string `json:"title"`
	// Slug is the optional second anchor ({#slug} after the heading).
	Slug string `json:"slug,omitempty"`
	// Essential steps make the overview path.
	Essential bool `json:"essential,omitempty"`
	// Server marks a step that needs the playground server ({server}: a
	// device or command-line client of the learner's, the instructor, the
	// server's files): the static build says so instead of running it.
	Server bool `json:"server,omitempty"`
	// Line is the heading's line in the file.
	Line int `json:"line"`
	// Prose is all of the step's Markdown outside its blocks, as HTML.
	Prose template.HTML `json:"-"`
	// Body is the step in file order: prose and blocks.
	Body []Part `json:"-"`
	// Blocks are the step's fenced blocks in file order.
	Blocks []*Block `json:"blocks" tstype:"Block[]"`
}

// Kind names a block type: the info string of its fence.
type Kind string

// The block kinds.
const (
	Predict    Kind = "predict"
	Do         Kind = "do"
	Look       Kind = "look"
	CheckBlock Kind = "check"
	Quiz       Kind = "quiz"
)

// Block is a fenced block of a step.
type Block struct {
	// Kind is the block type (a Kind constant).
	Kind Kind `json:"kind" tstype:"'predict' | 'do' | 'look' | 'check' | 'quiz'"`
	// Line is the line of the opening fence.
	Line int `json:"line"`
	// Index numbers the step's blocks of this kind from 0.
	Index int `json:"index"`
	// Question and Answers of a predict or quiz block; Question is HTML.
	Question template.HTML `json:"question,omitempty"`
	Answers  []Answer      `json:"answers,omitempty"`
	// Code of a do block: JavaScript, run by the page (and shown, for the
	// learner to edit). For a block that names a step file it is the body of
	// the file's function.
	Code string `json:"code,omitempty"`
	// File is the step file the code comes from, in the lessons folder
	// ("02-tls-basics/handshake.ts"); empty for code written in the block.
	File string `json:"file,omitempty"`
	// CodeLine is the line of File where Code starts.
	CodeLine int `json:"codeLine,omitempty"`
	// Solution is the solved code of an exercise (a do block whose code
	// the learner must fix), from SolutionFile.
	Solution     string `json:"solution,omitempty"`
	SolutionFile string `json:"solutionFile,omitempty"`
	// Targets of a look block.
	Targets []Target `json:"targets,omitempty"`
	// Checks of a check block.
	Checks []Check `json:"checks,omitempty"`
}

// Answer is one option of a predict or quiz block.
type Answer struct {
	// Text is the option, as HTML.
	Text template.HTML `json:"text"`
	// Right marks a right answer.
	Right bool `json:"right"`
	// Explanation says, as HTML, why the option is right or wrong.
	Explanation template.HTML `json:"explanation"`
}

// Target selects trace events (and, with Field, a field of them): a look
// target, and the selector part of an event check.
type Target struct {
	// Side is client, broker or any (empty in the Check of a js: line).
	Side string `json:"side" tstype:"'client' | 'broker' | 'any' | ''"`
	// Dir is send, recv or any (empty in the Check of a js: line).
	Dir string `json:"dir" tstype:"'send' | 'recv' | 'any' | ''"`
	// Type is an event type (one of trace.EventTypes: ClientHello,
	// CONNECT …) or any (empty in the Check of a js: line).
	Type string `json:"type"`
	// Field, when set, names a field the event must have: by its name, or
	// for a TLS extension by the extension's name (key_share).
	Field string `json:"field,omitempty"`
}

// Check is one line of a check block: an event check or a js: expression.
type Check struct {
	// Source is the line as written.
	Source string `json:"source"`
	// Text says in words what the check wants: the label of a js check,
	// else words made from the event check.
	Text string `json:"text"`
	// Label is the words of a labelled js check (js "LABEL": EXPR).
	Label string `json:"label,omitempty"`
	// Line is the check's line in the lesson file.
	Line int `json:"line,omitempty"`
	// JS is the expression of a js: check; empty for an event check.
	JS string `json:"js,omitempty"`
	// Event check: the selector, then the text the field's value (or
	// without a field, the event's summary) must contain, and how many
	// events must match (at least).
	Target `tstype:",extends"`
	Value  string `json:"value,omitempty"`
	Count  int    `json:"count,omitempty"`
}
