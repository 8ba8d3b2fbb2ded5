package pki

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Issue 9 #11: with intermediate.pem missing, a start must not write a new
// intermediate.key over the old one: it refuses, naming the file, unless a
// new intermediate is asked for, and then the old key is kept.
func TestHalfIntermediateRefused(t *testing.T) {
	for _, missing := range []string{IntermediateCertFile, IntermediateKeyFile} {
		t.Run(missing, func(t *testing.T) {
			ca, _, err := LoadOrCreate(filepath.Join(t.TempDir(), "ca"))
			if err != nil {
				t.Fatal(err)
			}
			dir := ca.Dir()
			other := IntermediateKeyFile
			if missing == IntermediateKeyFile {
				other = IntermediateCertFile
			}
			os.Remove(filepath.Join(dir, missing))
			kept, _ := os.ReadFile(filepath.Join(dir, other))

			_, _, err = LoadOrCreateWith(dir, Options{})
			if err == nil || !strings.Contains(err.Error(), missing+" does not") || !strings.Contains(err.Error(), "--new-intermediate") {
				t.Fatalf("load with %s missing: %v, want an error naming it and --new-intermediate", missing, err)
			}
			if now, _ := os.ReadFile(filepath.Join(dir, other)); !bytes.Equal(now, kept) {
				t.Fatalf("%s was overwritten", other)
			}

			ca2, rep, err := LoadOrCreateWith(dir, Options{NewIntermediate: true})
			if err != nil {
				t.Fatal(err)
			}
			if !rep.NewIntermediate || ca2.Intermediate.SerialNumber.Cmp(ca.Intermediate.SerialNumber) == 0 {
				t.Errorf("asked for a new intermediate: report %+v", rep)
			}
			aside, _ := filepath.Glob(filepath.Join(dir, other+".old-*"))
			if len(aside) != 1 {
				t.Fatalf("old %s not kept: %v (warnings %q)", other, aside, rep.Warnings)
			}
			if b, _ := os.ReadFile(aside[0]); !bytes.Equal(b, kept) {
				t.Errorf("%s does not hold the old %s", aside[0], other)
			}
		})
	}
}

// Issue 9 #14: a data folder others may read and keys others may read are
// reported and made private.
func TestLoosePermissionsTightened(t *testing.T) {
	ca, _, err := LoadOrCreate(filepath.Join(t.TempDir(), "ca"))
	if err != nil {
		t.Fatal(err)
	}
	dir := ca.Dir()
	if _, _, err := ca.ServerCertificate([]string{"localhost"}); err != nil {
		t.Fatal(err)
	}
	loose := map[string]os.FileMode{dir: 0o755, filepath.Join(dir, RootKeyFile): 0o644, filepath.Join(dir, IntermediateKeyFile): 0o640, filepath.Join(dir, ServerKeyFile): 0o604}
	for p, m := range loose {
		if err := os.Chmod(p, m); err != nil {
			t.Fatal(err)
		}
	}
	_, rep, err := LoadOrCreateWith(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for p := range loose {
		want := os.FileMode(0o600)
		if p == dir {
			want = 0o700
		}
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != want {
			t.Errorf("%s: mode %04o, want %04o", p, fi.Mode().Perm(), want)
		}
		found := false
		for _, w := range rep.Warnings {
			found = found || strings.Contains(w, p+" had mode")
		}
		if !found {
			t.Errorf("no warning about %s: %q", p, rep.Warnings)
		}
	}
	// Private already: nothing to say.
	if _, rep, _ := LoadOrCreateWith(dir, Options{}); len(rep.Warnings) != 0 {
		t.Errorf("warnings for a private folder: %q", rep.Warnings)
	}
}
