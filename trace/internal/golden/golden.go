// Package golden compares what a test produced with a golden file kept in
// testdata, for the decoder tests of every trace layer. Run the tests with
// -update to rewrite the golden files of the cases that fail (and to write
// missing ones), then review the diff:
//
//	go test ./trace ./trace/tlswire ./trace/mqttwire -run Golden -update
//
// Files that already match are left alone, and the inputs the goldens are
// made from are never touched: recorded inputs come from their own
// recording commands (go test ./trace/internal/sessionrec -record,
// -handshake.record in tlswire, -mqtt.record in mqttwire).
//
// Only tests import it.
package golden

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files of failing golden tests")

// writeFile writes golden files; tests of this package watch it.
var writeFile = os.WriteFile

// Check compares got with the golden file path. When they differ, it
// rewrites the file under -update, and otherwise fails the test with the
// first lines that differ.
func Check(t testing.TB, path string, got []byte) {
	t.Helper()
	want, err := os.ReadFile(path)
	switch {
	case err == nil && bytes.Equal(got, want):
		return
	case *update:
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := writeFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("updated %s", path)
	case errors.Is(err, os.ErrNotExist):
		t.Errorf("%s is missing; run the test with -update to write it", path)
	case err != nil:
		t.Fatal(err)
	default:
		t.Errorf("output differs from %s; run the test with -update and review the diff\n%s", path, Diff(got, want))
	}
}

// JSON marshals v with indent, ends it with a newline, and checks it
// against the golden file path as Check does.
func JSON(t testing.TB, path string, v any, indent string) {
	t.Helper()
	got, err := json.MarshalIndent(v, "", indent)
	if err != nil {
		t.Fatal(err)
	}
	Check(t, path, append(got, '\n'))
}

// maxLines bounds the lines Diff shows of each side of one stretch.
const maxLines = 10

// Diff shows the lines where got and want differ: the first five stretches
// of differing lines (at most maxLines of each side), each with a line of
// context around it.
func Diff(got, want []byte) string {
	g, w := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
	var b strings.Builder
	shown := 0
	for i := 0; i < max(len(g), len(w)) && shown < 5; i++ {
		if i < len(g) && i < len(w) && g[i] == w[i] {
			continue
		}
		j := i
		for j < max(len(g), len(w)) && !(j < len(g) && j < len(w) && g[j] == w[j]) {
			j++
		}
		fmt.Fprintf(&b, "@@ line %d\n", i+1)
		if i > 0 && i-1 < len(w) {
			fmt.Fprintf(&b, "  %s\n", w[i-1])
		}
		for k := i; k < min(j, i+maxLines, len(w)); k++ {
			fmt.Fprintf(&b, "- %s\n", w[k])
		}
		for k := i; k < min(j, i+maxLines, len(g)); k++ {
			fmt.Fprintf(&b, "+ %s\n", g[k])
		}
		if j < len(w) {
			fmt.Fprintf(&b, "  %s\n", w[j])
		}
		shown++
		i = j
	}
	if b.Len() == 0 {
		return fmt.Sprintf("got %d lines, want %d", len(g), len(w))
	}
	return b.String()
}
