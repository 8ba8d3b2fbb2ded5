package main

import (
	"testing"

	"github.com/mqtts-playground/playground/web/tstypes"
)

// The JSON bodies the page reads have the keys of their generated
// TypeScript (web/src/gen/server.ts).
func TestAPIBodiesMatchTypes(t *testing.T) {
	ifaces := tstypes.Load(t, "..", "web/src/gen/server.ts")
	for name, v := range map[string]any{"Health": Health{}, "LessonData": LessonData{}, "ConnList": ConnList{}, "ConnTrace": ConnTrace{}} {
		tstypes.Match(t, ifaces, name, v)
	}
}
