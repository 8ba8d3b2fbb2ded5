// Package nodejs runs JavaScript under Node.js for tests that check the
// page's code or the wasm builds outside a browser.
package nodejs

import (
	"errors"
	"os"
	"os/exec"
	"testing"
)

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
// environment and returns what it printed; when node fails, it fails t
// with node's error output.
func Run(t testing.TB, script string, env []string, args ...string) []byte {
	t.Helper()
	cmd := exec.Command(Path(t), append([]string{"-e", script}, args...)...)
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.Output()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		t.Fatalf("node: %v\n%s", err, ee.Stderr)
	} else if err != nil {
		t.Fatalf("node: %v", err)
	}
	return out
}
