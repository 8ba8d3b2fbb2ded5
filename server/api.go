package main

import (
	"github.com/mqtts-playground/playground/broker"
	"github.com/mqtts-playground/playground/lessons"
	"github.com/mqtts-playground/playground/trace"
)

// The JSON bodies the page reads from this server. web/src/gen/server.ts
// is generated from this file (./task generate), so keep it to
// these types.

// Health is the body of GET /healthz.
type Health struct {
	// Listeners are the broker's listeners.
	Listeners []broker.ListenerInfo `json:"listeners"`
	// HTTP and HTTPS are the web server's addresses ("host:port"), empty
	// when it does not serve that scheme.
	HTTP  string `json:"http"`
	HTTPS string `json:"https"`
	// Names are the names the broker certificate covers.
	Names []string `json:"names"`
}

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

// ConnList is the body of GET /trace, and of the "connections" events of
// GET /trace/stream: the broker's recent connections, newest first.
type ConnList struct {
	Connections []broker.ConnInfo `json:"connections"`
}

// ConnTrace is the body of GET /trace/{id}, and of the "events" events of
// GET /trace/stream: a connection and the events the broker recorded of
// it.
type ConnTrace struct {
	Connection broker.ConnInfo `json:"connection"`
	Events     []trace.Event   `json:"events"`
}
