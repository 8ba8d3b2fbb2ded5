//go:build js && wasm

// Command wasm is the playground's browser client: Go's crypto/tls and an
// MQTT client running in the page, reaching the broker's listeners through
// the server's WebSocket tunnel. It sets one global object (GlobalName)
// with a connect method; web/src/playground.ts wraps it as
// window.playground.
package main

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"syscall/js"
	"time"

	"github.com/coder/websocket"
	"github.com/mqtts-playground/playground/trace"
	"github.com/mqtts-playground/playground/trace/pcapng"
	"github.com/mqtts-playground/playground/wasm/client"
)

func main() {
	js.Global().Set(GlobalName, js.ValueOf(map[string]any{
		"connect":         js.FuncOf(connect),
		"decode":          js.FuncOf(decode),
		"newIdentity":     js.FuncOf(newIdentity),
		"setIdentityCert": js.FuncOf(setIdentityCert),
		"exportIdentity":  js.FuncOf(exportIdentity),
		"importIdentity":  js.FuncOf(importIdentity),
		"signRevocation":  js.FuncOf(signRevocation),
	}))
	if cb := js.Global().Get(ReadyCallback); cb.Type() == js.TypeFunction {
		cb.Invoke()
	}
	select {}
}

// connectOptions is what the page passes to connect, as JSON: the client
// options plus where the tunnel is.
type connectOptions struct {
	client.Options
	// Listener is the broker listener to reach.
	Listener string `json:"listener"`
	// TunnelURL is the ws:// or wss:// URL of the server's /tunnel.
	TunnelURL string `json:"tunnelURL"`
}

// connect(optionsJSON) → Promise<conn>
func connect(this js.Value, args []js.Value) any {
	if len(args) != 1 || args[0].Type() != js.TypeString {
		return rejected("usage: connect(JSON.stringify(options))")
	}
	return promise(func() (any, error) {
		var o connectOptions
		if err := json.Unmarshal([]byte(args[0].String()), &o); err != nil {
			return nil, fmt.Errorf("bad options: %v", err)
		}
		if o.Listener == "" {
			o.Listener = "mqtts"
		}
		if o.TLS != nil {
			o.TLS.SessionScope = o.Listener
		}
		if o.TLS != nil && o.TLS.Identity != "" {
			idn, err := lookupIdentity(o.TLS.Identity)
			if err != nil {
				return nil, err
			}
			o.TLS.Certificate = idn.cert
		}
		u, err := url.Parse(o.TunnelURL)
		if err != nil {
			return nil, fmt.Errorf("bad tunnel URL %q: %v", o.TunnelURL, err)
		}
		q := u.Query()
		q.Set("to", o.Listener)
		u.RawQuery = q.Encode()
		rec := trace.NewRecorder(trace.Client, 0)
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		ws, resp, err := websocket.Dial(ctx, u.String(), nil)
		if err != nil {
			return nil, tunnelError(o.Listener, resp, err)
		}
		raw := websocket.NetConn(context.Background(), ws, websocket.MessageBinary)
		c, err := client.Dial(ctx, raw, rec, o.Options)
		if err != nil {
			return nil, &traceError{err: err, rec: rec}
		}
		return connObject(c), nil
	})
}

// tunnelError says in plain words why the WebSocket tunnel to a listener
// did not open: resp is the server's answer, when there was one.
func tunnelError(listener string, resp *http.Response, err error) error {
	switch {
	case resp == nil && ctxDone(err):
		return fmt.Errorf("could not open the tunnel to listener %q: the server did not answer in time", listener)
	case resp == nil:
		return fmt.Errorf("could not open the tunnel to listener %q: the server cannot be reached (is it still running?)", listener)
	case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable:
		return fmt.Errorf("could not open the tunnel to listener %q: the server has too many connections open (HTTP %d); try again in a moment", listener, resp.StatusCode)
	case resp.StatusCode == http.StatusNotFound:
		return fmt.Errorf("could not open the tunnel: the server has no listener %q the page may reach", listener)
	}
	return fmt.Errorf("could not open the tunnel to listener %q: the server answered HTTP %d instead of switching to WebSocket", listener, resp.StatusCode)
}

func ctxDone(err error) bool {
	return errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled)
}

// traceError carries the recording of a failed connection to JavaScript,
// where it becomes the Error's trace property.
type traceError struct {
	err error
	rec *trace.Recorder
}

func (e *traceError) Error() string { return e.err.Error() }
func (e *traceError) Unwrap() error { return e.err }

func connObject(c *client.Conn) js.Value {
	ctx := context.Background()
	return js.ValueOf(map[string]any{
		"subscribe": js.FuncOf(func(this js.Value, args []js.Value) any {
			if len(args) < 1 {
				return rejected("usage: subscribe(filter, qos?)")
			}
			filter, qos := args[0].String(), intArg(args, 1, 0)
			return promise(func() (any, error) {
				ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
				defer cancel()
				granted, err := c.Subscribe(ctx, filter, byte(qos))
				return int(granted), err
			})
		}),
		"publish": js.FuncOf(func(this js.Value, args []js.Value) any {
			if len(args) < 2 {
				return rejected("usage: publish(topic, payload, {qos, retain}?)")
			}
			topic, payload := args[0].String(), bytesArg(args[1])
			qos, retain := 0, false
			if len(args) > 2 && args[2].Type() == js.TypeObject {
				if v := args[2].Get("qos"); v.Type() == js.TypeNumber {
					qos = v.Int()
				}
				retain = args[2].Get("retain").Truthy()
			}
			return promise(func() (any, error) {
				ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
				defer cancel()
				return nil, c.Publish(ctx, topic, payload, byte(qos), retain)
			})
		}),
		"nextMessage": js.FuncOf(func(this js.Value, args []js.Value) any {
			timeout := intArg(args, 0, 5000)
			return promise(func() (any, error) {
				ctx, cancel := context.WithTimeout(ctx, time.Duration(timeout)*time.Millisecond)
				defer cancel()
				m, err := c.NextMessage(ctx)
				if err != nil {
					return nil, err
				}
				return jsonValue(Message{Topic: m.Topic, Payload: string(m.Payload), QoS: int(m.QoS), Retain: m.Retain})
			})
		}),
		"trace": js.FuncOf(func(this js.Value, args []js.Value) any {
			v, _ := jsonValue(c.Recorder().Events())
			return v
		}),
		"checks": js.FuncOf(func(this js.Value, args []js.Value) any {
			v, _ := jsonValue(c.Checks())
			return v
		}),
		"recording": js.FuncOf(func(this js.Value, args []js.Value) any {
			v, _ := jsonValue(c.Recorder().Recording())
			return v
		}),
		"pcapng": js.FuncOf(func(this js.Value, args []js.Value) any {
			var buf bytes.Buffer
			if err := pcapng.Write(&buf, c.Recorder().Recording()); err != nil {
				panic(js.Global().Get("Error").New(err.Error()))
			}
			a := js.Global().Get("Uint8Array").New(buf.Len())
			js.CopyBytesToJS(a, buf.Bytes())
			return a
		}),
		"keylog": js.FuncOf(func(this js.Value, args []js.Value) any {
			return c.Recorder().Recording().KeyLog
		}),
		"tlsInfo": js.FuncOf(func(this js.Value, args []js.Value) any {
			v, _ := jsonValue(tlsInfo(c))
			return v
		}),
		"clientId": js.FuncOf(func(this js.Value, args []js.Value) any {
			return c.ClientID()
		}),
		"brokerKey": js.FuncOf(func(this js.Value, args []js.Value) any {
			return brokerKey(c)
		}),
		"close": js.FuncOf(func(this js.Value, args []js.Value) any {
			return promise(func() (any, error) {
				err := c.Close()
				if errors.Is(err, client.ErrClosed) {
					err = nil
				}
				return nil, err
			})
		}),
		"drop": js.FuncOf(func(this js.Value, args []js.Value) any {
			return promise(func() (any, error) {
				c.Drop()
				return nil, nil
			})
		}),
	})
}

func intArg(args []js.Value, i, def int) int {
	if len(args) > i && args[i].Type() == js.TypeNumber {
		return args[i].Int()
	}
	return def
}

// bytesArg takes a string (sent as UTF-8) or a Uint8Array.
func bytesArg(v js.Value) []byte {
	if v.Type() == js.TypeObject && v.InstanceOf(js.Global().Get("Uint8Array")) {
		b := make([]byte, v.Get("length").Int())
		js.CopyBytesToGo(b, v)
		return b
	}
	return []byte(v.String())
}

// jsonValue hands Go data to JavaScript through JSON.parse.
func jsonValue(v any) (any, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return js.Global().Get("JSON").Call("parse", string(b)), nil
}

// promise runs f in a goroutine inside a JavaScript Promise: its value
// resolves the promise, its error rejects it with an Error.
func promise(f func() (any, error)) any {
	var handler js.Func
	handler = js.FuncOf(func(this js.Value, args []js.Value) any {
		resolve, reject := args[0], args[1]
		go func() {
			defer handler.Release()
			v, err := f()
			if err != nil {
				e := js.Global().Get("Error").New(err.Error())
				var te *traceError
				if errors.As(err, &te) {
					if t, jerr := jsonValue(te.rec.Events()); jerr == nil {
						e.Set("trace", t)
					}
				}
				var de *client.DialError
				if errors.As(err, &de) {
					if v, jerr := jsonValue(de.Checks); jerr == nil && len(de.Checks) > 0 {
						e.Set("checks", v)
					}
					if de.ClientRandom != nil {
						e.Set("brokerKey", hex.EncodeToString(de.ClientRandom))
					}
				}
				reject.Invoke(e)
				return
			}
			resolve.Invoke(v)
		}()
		return nil
	})
	return js.Global().Get("Promise").New(handler)
}

func rejected(msg string) any {
	return js.Global().Get("Promise").Call("reject", js.Global().Get("Error").New(msg))
}

// decode(recordingJSON) → events: decodes a saved recording (a connection's
// recording() or a server's /trace/{id}/recording), for replays.
func decode(this js.Value, args []js.Value) any {
	if len(args) != 1 || args[0].Type() != js.TypeString {
		panic(js.Global().Get("Error").New("usage: decode(JSON.stringify(recording))"))
	}
	var rec trace.Recording
	if err := json.Unmarshal([]byte(args[0].String()), &rec); err != nil {
		panic(js.Global().Get("Error").New("decode: not a recording: " + err.Error()))
	}
	v, _ := jsonValue(trace.Decode(rec))
	return v
}
