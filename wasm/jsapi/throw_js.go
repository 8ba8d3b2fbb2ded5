//go:build js && wasm

package jsapi

import "syscall/js"

// A Go function called from JavaScript cannot throw to its caller: a Go
// panic ends the whole program (every connection of the page with it), and
// syscall/js has no way to raise an exception. A function whose errors
// must be thrown returns them as Error objects instead, and Throwing wraps
// it with a line of JavaScript that throws what it returns when that is an
// Error.

// thrower makes that wrapper; undefined when the page's
// Content-Security-Policy forbids making functions from source (no
// 'unsafe-eval'): the Error is then returned, not thrown.
var thrower = func() (v js.Value) {
	defer func() { recover() }()
	return js.Global().Get("Function").New("f", "return function(...a) { const r = f.apply(this, a); if (r instanceof Error) throw r; return r; };")
}()

// Throwing wraps f, which returns an Error object (see Error) to fail, so
// that its caller gets the Error thrown.
func Throwing(f js.Func) js.Value {
	if thrower.Type() != js.TypeFunction {
		return f.Value
	}
	return thrower.Invoke(f)
}

// Error is a JavaScript Error with err's message, for a function wrapped by
// Throwing to return.
func Error(err error) js.Value { return js.Global().Get("Error").New(err.Error()) }
