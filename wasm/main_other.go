//go:build !(js && wasm)

// Command wasm is the playground's browser client. Build it with
// GOOS=js GOARCH=wasm; the server does that for you (go run ./server).
package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Fprintln(os.Stderr, "wasm: this is the browser client; build it with GOOS=js GOARCH=wasm (go run ./server does)")
	os.Exit(2)
}
