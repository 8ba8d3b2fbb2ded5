//go:build !(js && wasm)

// Command static is the static build's wasm: the broker and the browser
// client in one page. Build it with GOOS=js GOARCH=wasm; the static task
// does that for you.
package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Fprintln(os.Stderr, "static: this is the static build's wasm (broker and client in the page); build it with GOOS=js GOARCH=wasm")
	os.Exit(2)
}
