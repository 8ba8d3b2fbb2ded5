package main

import (
	"testing"

	"github.com/mqtts-playground/playground/web/tstypes"
)

// The JSON bodies the page reads have the keys of their generated
// TypeScript (web/src/gen/server.ts; the broker's bodies are checked in
// package web against gen/broker.ts).
func TestAPIBodiesMatchTypes(t *testing.T) {
	ifaces := tstypes.Load(t, "..", "web/src/gen/server.ts")
	tstypes.Match(t, ifaces, "LessonData", LessonData{})
}
