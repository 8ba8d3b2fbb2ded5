package golden

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// recorder stands in for a testing.TB and keeps what Check reports.
type recorder struct {
	testing.TB
	errors []string
}

func (r *recorder) Helper() {}
func (r *recorder) Errorf(format string, a ...any) {
	r.errors = append(r.errors, fmt.Sprintf(format, a...))
}
func (r *recorder) Logf(string, ...any) {}

func TestCheck(t *testing.T) {
	dir := t.TempDir()
	same, differs, missing := filepath.Join(dir, "same.golden"), filepath.Join(dir, "differs.golden"), filepath.Join(dir, "new", "missing.golden")
	input := filepath.Join(dir, "input.hex")
	for file, text := range map[string]string{same: "a\nb\n", differs: "a\nold\n", input: "00\n"} {
		if err := os.WriteFile(file, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var written []string
	writeFile = func(name string, data []byte, perm os.FileMode) error {
		written = append(written, name)
		return os.WriteFile(name, data, perm)
	}
	defer func() { writeFile = os.WriteFile }()

	for _, u := range []bool{false, true} {
		*update = u
		r := &recorder{TB: t}
		Check(r, same, []byte("a\nb\n"))
		Check(r, differs, []byte("a\nnew\n"))
		Check(r, missing, []byte("x\n"))
		if u {
			if len(r.errors) != 0 {
				t.Errorf("-update: errors %q", r.errors)
			}
			continue
		}
		if len(r.errors) != 2 || !strings.Contains(r.errors[0], "- old\n+ new") || !strings.Contains(r.errors[1], "missing") {
			t.Errorf("errors %q, want a diff for %s and a missing %s", r.errors, differs, missing)
		}
		if len(written) != 0 {
			t.Errorf("without -update, wrote %q", written)
		}
	}
	*update = false
	// Only the failing cases were rewritten; the input never.
	if !slices.Equal(written, []string{differs, missing}) {
		t.Errorf("-update wrote %q, want %q", written, []string{differs, missing})
	}
	for file, want := range map[string]string{same: "a\nb\n", differs: "a\nnew\n", missing: "x\n", input: "00\n"} {
		if b, _ := os.ReadFile(file); string(b) != want {
			t.Errorf("%s holds %q, want %q", file, b, want)
		}
	}
}

func TestDiff(t *testing.T) {
	for _, tc := range []struct{ got, want, diff string }{
		{"a\nb\nc\n", "a\nx\nc\n", "@@ line 2\n  a\n- x\n+ b\n  c\n"},
		{"a\nb\n", "a\nb\nc\n", "@@ line 3\n  b\n- c\n- \n+ \n"},
		{"a\n", "a", "@@ line 2\n  a\n+ \n"},
	} {
		if got := Diff([]byte(tc.got), []byte(tc.want)); got != tc.diff {
			t.Errorf("Diff(%q, %q) =\n%s\nwant\n%s", tc.got, tc.want, got, tc.diff)
		}
	}
}
