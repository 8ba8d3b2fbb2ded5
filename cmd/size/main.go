// Command size prints how big each release build of the page is (the wasm
// client, the static build's wasm with the broker, the script and the
// stylesheet): raw, gzip and brotli, beside the
// budgets recorded in web/testdata/size-budget.txt, which TestSizeBudget
// (./web) enforces with 10 % of slack. With -where it also shows where the
// wasm client's bytes go: its sections, and its code by Go package, read
// from the name section of a build that keeps its symbols.
//
//	go run ./cmd/size            # ./task size
//	go run ./cmd/size -where -top 25
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/mqtts-playground/playground/web"
)

func main() {
	noBrotli := flag.Bool("no-brotli", false, "skip brotli (it takes tens of seconds of CPU for the wasm client)")
	where := flag.Bool("where", false, "also show where the wasm client's bytes go: sections and code by Go package")
	top := flag.Int("top", 20, "packages shown with -where")
	budgetFile := flag.String("budget", "web/testdata/size-budget.txt", "the recorded budgets")
	flag.Parse()
	log.SetFlags(0)
	root, err := web.Root()
	if err != nil {
		log.Fatal(err)
	}
	dir, err := os.MkdirTemp("", "mqtts-size-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	ctx := context.Background()
	sizes, err := web.Measure(ctx, root, dir, !*noBrotli, func(string, ...any) {})
	if err != nil {
		log.Fatal(err)
	}
	var budgets web.Budgets
	if f, err := os.Open(filepath.Join(root, *budgetFile)); err == nil {
		budgets, err = web.ReadBudgets(f)
		f.Close()
		if err != nil {
			log.Fatal(err)
		}
	}
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "build\traw\tgzip\tbrotli\tbudget raw/gzip/brotli\t")
	over := false
	for _, s := range sizes {
		b, ok := budgets[s.Name]
		verdict := "none recorded"
		if ok {
			verdict = fmt.Sprintf("%s / %s / %s", n(b.Raw), n(b.Gzip), n(b.Brotli))
			if o := budgets.Over(s); len(o) > 0 {
				verdict += " OVER: " + strings.Join(o, ", ")
				over = true
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t\n", s.Name, n(s.Raw), n(s.Gzip), n(s.Brotli), verdict)
	}
	tw.Flush()
	if *where {
		if err := whereBytesGo(ctx, root, dir, *top); err != nil {
			log.Fatal(err)
		}
	}
	if over {
		os.Exit(1)
	}
}

// n formats a byte count: 1,953,104.
func n(v int) string {
	if v == 0 {
		return "-"
	}
	s := fmt.Sprint(v)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// whereBytesGo builds the wasm client with the release flags but its
// symbols (the release build strips them) and prints its sections and its
// code by package.
func whereBytesGo(ctx context.Context, root, dir string, top int) error {
	out := filepath.Join(dir, "client-symbols.wasm")
	args := []string{"build"}
	for _, f := range web.WasmBuildFlags {
		if !strings.HasPrefix(f, "-ldflags=") { // keep the symbols
			args = append(args, f)
		}
	}
	cmd := exec.CommandContext(ctx, "go", append(args, "-o", out, "./wasm")...)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm", "CGO_ENABLED=0")
	if msg, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("size: building the wasm client with symbols: %v\n%s", err, msg)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		return err
	}
	m, err := readWasm(b)
	if err != nil {
		return err
	}
	fmt.Printf("\nclient.wasm with symbols: %s bytes; by section:\n", n(len(b)))
	var secs []wasmFunc
	for name, size := range m.sections {
		secs = append(secs, wasmFunc{name, size})
	}
	sort.Slice(secs, func(i, j int) bool { return secs[i].size > secs[j].size })
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	for _, s := range secs {
		fmt.Fprintf(tw, "  %s\t%s\t%.1f %%\t\n", s.name, n(s.size), 100*float64(s.size)/float64(len(b)))
	}
	tw.Flush()
	code := 0
	for _, f := range m.funcs {
		code += f.size
	}
	fmt.Printf("\ncode by Go package (%d functions, %s bytes of bodies), largest %d:\n", len(m.funcs), n(code), top)
	tw = tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	for i, p := range m.byPackage() {
		if i == top {
			break
		}
		fmt.Fprintf(tw, "  %s\t%s\t%.1f %%\t\n", p.name, n(p.size), 100*float64(p.size)/float64(code))
	}
	tw.Flush()
	return nil
}
