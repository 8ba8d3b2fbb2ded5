//go:build js && wasm

// Command static is the static build's wasm: the broker (the server's
// broker core and listeners, lesson listeners included, see package
// listenerset), an in-memory CA and the browser client in one page, joined
// by an in-memory buffered connection (package inpage). It sets
// window.__playgroundBroker (inpage.GlobalName, with inpage.Methods), then
// installs the client's API as ./wasm does, connect dialing the broker in
// the page, which calls the ready callback.
package main

import (
	"context"
	"fmt"
	"net"
	"syscall/js"

	"github.com/mqtts-playground/playground/wasm/inpage"
	"github.com/mqtts-playground/playground/wasm/jsapi"
)

func main() {
	var names []string
	if loc := js.Global().Get("location"); loc.Type() == js.TypeObject {
		names = append(names, loc.Get("hostname").String())
	}
	b, err := inpage.New(inpage.Options{Names: names})
	if err != nil {
		// No broker: the page finds no __playgroundBroker but the reason
		// (inpage.ErrorName), and connect says why.
		js.Global().Get("console").Call("error", "static: the broker in the page did not start: "+err.Error())
		js.Global().Set(inpage.ErrorName, "the broker in the page did not start: "+err.Error())
		jsapi.Install(func(context.Context, string, string) (net.Conn, error) {
			return nil, fmt.Errorf("the broker in the page did not start: %w", err)
		}, nil)
		select {}
	}
	js.Global().Set(inpage.GlobalName, brokerObject(b))
	jsapi.Install(b.Dial, nil)
	select {}
}

// brokerObject is the value of window.__playgroundBroker.
func brokerObject(b *inpage.Broker) js.Value {
	str := func(f func(args []js.Value) (string, error)) any {
		return js.FuncOf(func(this js.Value, args []js.Value) any {
			v, err := f(args)
			if err != nil {
				return jsapi.Error(err) // thrown by the page's script (backend.ts)
			}
			return v
		})
	}
	arg := func(args []js.Value, i int) string {
		if i < len(args) && args[i].Type() == js.TypeString {
			return args[i].String()
		}
		return ""
	}
	settled := func(v any, err error) any {
		if err != nil {
			return js.Global().Get("Promise").Call("reject", jsapi.Error(err))
		}
		return js.Global().Get("Promise").Call("resolve", v)
	}
	m := map[string]any{
		"mode":      inpage.Mode,
		"health":    str(func([]js.Value) (string, error) { return b.Health(), nil }),
		"caPEM":     str(func([]js.Value) (string, error) { return b.CAPEM(), nil }),
		"traceList": str(func(a []js.Value) (string, error) { return b.TraceList(arg(a, 0)) }),
		"traceConn": str(func(a []js.Value) (string, error) { return b.TraceConn(arg(a, 0)) }),
		"recording": str(func(a []js.Value) (string, error) { return b.Recording(arg(a, 0)) }),
		"watch": js.FuncOf(func(this js.Value, args []js.Value) any {
			if len(args) != 2 || args[1].Type() != js.TypeFunction {
				js.Global().Get("console").Call("error", "usage: watch(key, onEvents)")
				return js.Undefined()
			}
			// Each batch goes to onEvents in a task of its own (setTimeout):
			// never during the call to watch, and what onEvents throws
			// stays in JavaScript (thrown through Go, it would end the
			// program).
			onEvents, setTimeout := args[1], js.Global().Get("setTimeout")
			stop := b.Watch(arg(args, 0), func(json string) { setTimeout.Invoke(onEvents, 0, json) })
			var fn js.Func
			fn = js.FuncOf(func(js.Value, []js.Value) any {
				stop()
				fn.Release()
				return js.Undefined()
			})
			return fn
		}),
		// Signing and revoking take a millisecond: they run at once, and
		// the Promise is settled when returned.
		"signCSR": js.FuncOf(func(this js.Value, args []js.Value) any {
			return settled(b.SignCSR(arg(args, 0)))
		}),
		"revoke": js.FuncOf(func(this js.Value, args []js.Value) any {
			return settled(js.Undefined(), b.Revoke(arg(args, 0), arg(args, 1), arg(args, 2)))
		}),
		"rotate": js.FuncOf(func(this js.Value, args []js.Value) any {
			return settled(b.Rotate())
		}),
	}
	return js.ValueOf(m)
}
