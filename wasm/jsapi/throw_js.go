//go:build js && wasm

package jsapi

import "syscall/js"

// Error is a JavaScript Error with err's message. A Go function called
// from JavaScript cannot throw to its caller (a Go panic ends the whole
// program, every connection of the page with it, and syscall/js cannot
// raise an exception), so a method that fails synchronously returns one;
// the page's script (web/src/playground.ts, backend.ts) throws what it gets
// when it is an Error. No JavaScript is made from source for it: the pages'
// Content-Security-Policy has no 'unsafe-eval'.
func Error(err error) js.Value { return js.Global().Get("Error").New(err.Error()) }
