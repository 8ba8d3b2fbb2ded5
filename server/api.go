package main

import (
	"github.com/mqtts-playground/playground/lessons"
)

// The JSON bodies the page reads from this server beyond the broker's
// (broker/info.go: Health, ConnList, ConnTrace, which the static build's
// broker in the page answers with too). web/src/gen/server.ts is
// generated from this file (./task generate), so keep it to these types.

// LessonData is what the step runner reads from a lesson page (the JSON
// of its #lesson-data script).
type LessonData struct {
	// ID is the lesson's id.
	ID string `json:"id"`
	// File is the lesson's file in the lessons folder, for messages that
	// point an author at a line.
	File string `json:"file"`
	// Steps are the lesson's steps, in order.
	Steps []*lessons.Step `json:"steps" tstype:"Step[]"`
	// Vars are the placeholders' values ("port.mqtts" → "8883"), which do
	// blocks read as site (site.port.mqtts); see lessons/placeholders.go.
	Vars lessons.Vars `json:"vars,omitempty"`
}
