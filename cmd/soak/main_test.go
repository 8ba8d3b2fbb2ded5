package main

import (
	"testing"
	"time"
)

// A short soak runs every attack against the real server and checks its
// verdict: the canary client loses nothing, the server stays up and under
// its memory bound. `./task soak` runs the two-minute version.
func TestShortSoak(t *testing.T) {
	if err := run(5*time.Second, 600, 200, 20); err != nil {
		t.Fatal(err)
	}
}
