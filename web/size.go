package web

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// BuildSize is how big one release build is, in bytes: as served raw, and
// in the gzip and brotli forms the server sends to browsers that take them.
type BuildSize struct {
	// Name is the build: "client.wasm", "static.wasm" (the static
	// build's, broker included), "main.js", "main.css".
	Name   string
	Raw    int
	Gzip   int
	Brotli int // 0 when not measured (brotli takes tens of seconds of CPU)
}

// Measure builds the release wasm client and the static build's wasm (into
// outDir) and the page bundle, and returns their sizes; withBrotli adds
// the brotli size.
func Measure(ctx context.Context, root, outDir string, withBrotli bool, logf func(string, ...any)) ([]BuildSize, error) {
	raw, err := BuildWasm(ctx, root, outDir, logf)
	if err != nil {
		return nil, err
	}
	static, err := BuildStaticWasm(ctx, root, outDir, logf)
	if err != nil {
		return nil, err
	}
	files := []*Asset{{Name: "client.wasm", Raw: raw}, {Name: "static.wasm", Raw: static}}
	page, err := bundle(root, true)
	if err != nil {
		return nil, err
	}
	for _, f := range page {
		// main-0123456789ab.js → main.js
		name := f.Name
		if i, j := strings.LastIndex(name, "-"), strings.LastIndex(name, "."); i > 0 && j > i {
			name = name[:i] + name[j:]
		}
		files = append(files, &Asset{Name: name, Raw: f.Raw})
	}
	var out []BuildSize
	for _, f := range files {
		s := BuildSize{Name: f.Name, Raw: len(f.Raw), Gzip: len(gzipBytes(f.Raw))}
		if withBrotli {
			s.Brotli = len(brotliBytes(f.Raw))
		}
		out = append(out, s)
	}
	return out, nil
}

// BudgetSlack is how far past its recorded size a build may grow before
// the size test fails: 10 %.
const BudgetSlack = 0.10

// Budgets are the recorded sizes of the builds, by name (see ReadBudgets).
type Budgets map[string]BuildSize

// ReadBudgets reads a budget file: one line per build, "NAME RAW GZIP
// BROTLI" in bytes (BROTLI 0: not recorded); # starts a comment.
func ReadBudgets(r io.Reader) (Budgets, error) {
	b := Budgets{}
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line, _, _ := strings.Cut(sc.Text(), "#")
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		if len(f) != 4 {
			return nil, fmt.Errorf("web: budget line %d: want NAME RAW GZIP BROTLI, got %q", n, sc.Text())
		}
		var v [3]int
		for i := range v {
			x, err := strconv.Atoi(f[i+1])
			if err != nil || x < 0 {
				return nil, fmt.Errorf("web: budget line %d: %q is not a size in bytes", n, f[i+1])
			}
			v[i] = x
		}
		if _, dup := b[f[0]]; dup {
			return nil, fmt.Errorf("web: budget line %d: %s again", n, f[0])
		}
		b[f[0]] = BuildSize{Name: f[0], Raw: v[0], Gzip: v[1], Brotli: v[2]}
	}
	return b, sc.Err()
}

// Over lists, for a measured build, each form that grew more than
// BudgetSlack past its budget, as "gzip 2,800,000 > 2,560,000 + 10 %".
func (b Budgets) Over(s BuildSize) []string {
	want, ok := b[s.Name]
	if !ok {
		return []string{"no budget recorded"}
	}
	var out []string
	for _, f := range []struct {
		form      string
		got, want int
	}{{"raw", s.Raw, want.Raw}, {"gzip", s.Gzip, want.Gzip}, {"brotli", s.Brotli, want.Brotli}} {
		if f.got > 0 && f.want > 0 && float64(f.got) > float64(f.want)*(1+BudgetSlack) {
			out = append(out, fmt.Sprintf("%s %d > %d + %.0f %%", f.form, f.got, f.want, BudgetSlack*100))
		}
	}
	return out
}
