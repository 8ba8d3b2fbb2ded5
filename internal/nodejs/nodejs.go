// Package nodejs runs JavaScript under Node.js for tests that check the
// page's code or the wasm builds outside a browser.
package nodejs

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"testing"
	"time"
)

// runFor bounds a Run: a script that never ends fails its test with what
// it is instead of holding the package until go test's own timeout.
const runFor = 5 * time.Minute

// Path returns the path of node, or fails t naming the step that
// installs it (the tests need it; they do not skip without it).
func Path(t testing.TB) string {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatal("no node found: install Node.js (Debian: sudo apt-get install nodejs; scripts/install-test-deps.sh, which .ci/run and ./task test run, installs it)")
	}
	return node
}

// Run runs script (node -e) with args and env added to the test's
// environment and returns what it printed; when node fails, or runs
// longer than runFor, it fails t with node's error output.
func Run(t testing.TB, script string, env []string, args ...string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), runFor)
	defer cancel()
	cmd := exec.CommandContext(ctx, Path(t), append([]string{"-e", script}, args...)...)
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.Output()
	var ee *exec.ExitError
	switch {
	case ctx.Err() != nil && errors.As(err, &ee):
		t.Fatalf("node: stopped after %v: the script did not end (a loop, or a timer or socket left open?)\n%s%s", runFor, out, ee.Stderr)
	case errors.As(err, &ee):
		t.Fatalf("node: %v\n%s", err, ee.Stderr)
	case err != nil:
		t.Fatalf("node: %v", err)
	}
	return out
}
