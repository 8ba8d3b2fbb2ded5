//go:build js && wasm

package jsapi

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"syscall/js"
	"time"

	"github.com/mqtts-playground/playground/trace"
	"github.com/mqtts-playground/playground/trace/pcapng"
	"github.com/mqtts-playground/playground/wasm/client"
	"github.com/mqtts-playground/playground/wasm/wsconn"
)

// Dialer opens the byte stream to a broker listener: the server's tunnel
// at tunnelURL (Tunnel), or a broker in the same page (the static build).
type Dialer func(ctx context.Context, listener, tunnelURL string) (net.Conn, error)

// Tunnel dials the server's WebSocket tunnel to the listener.
func Tunnel(ctx context.Context, listener, tunnelURL string) (net.Conn, error) {
	u, err := url.Parse(tunnelURL)
	if err != nil {
		return nil, fmt.Errorf("bad tunnel URL %q: %v", tunnelURL, err)
	}
	q := u.Query()
	q.Set("to", listener)
	u.RawQuery = q.Encode()
	c, err := wsconn.Dial(ctx, u.String())
	if err != nil {
		crossOrigin := !strings.EqualFold(u.Host, js.Global().Get("location").Get("host").String())
		return nil, tunnelError(listener, tunnelStatus(ctx, u), crossOrigin, err)
	}
	return c, nil
}

// tunnelStatus asks the tunnel with a plain GET how it answers, after the
// browser's WebSocket, which never tells why, failed to open: the status
// code, or 0 when the server did not answer.
func tunnelStatus(ctx context.Context, u *url.URL) int {
	p := *u
	p.Scheme = strings.Replace(strings.Replace(p.Scheme, "wss", "https", 1), "ws", "http", 1)
	status := make(chan int, 1)
	var then, fail js.Func
	then = js.FuncOf(func(this js.Value, args []js.Value) any {
		status <- args[0].Get("status").Int()
		return nil
	})
	fail = js.FuncOf(func(this js.Value, args []js.Value) any {
		status <- 0
		return nil
	})
	defer then.Release()
	defer fail.Release()
	js.Global().Call("fetch", p.String(), map[string]any{"cache": "no-store"}).Call("then", then, fail)
	select {
	case s := <-status:
		return s
	case <-ctx.Done():
		return 0
	}
}

// tunnelError says in plain words why the WebSocket tunnel to a listener
// did not open; status is the server's answer to a plain GET (0: none, or
// not readable by a page of another site).
func tunnelError(listener string, status int, crossOrigin bool, err error) error {
	switch {
	case status == 0 && (errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled)):
		return fmt.Errorf("could not open the tunnel to listener %q: the server did not answer in time", listener)
	case status == 0 && crossOrigin:
		return fmt.Errorf("could not open the tunnel to listener %q: the server cannot be reached, or it does not take tunnels from pages of this site (its operator can allow them with --allow-origin)", listener)
	case status == 0:
		return fmt.Errorf("could not open the tunnel to listener %q: the server cannot be reached (is it still running?)", listener)
	case status == 429 || status == 503:
		return fmt.Errorf("could not open the tunnel to listener %q: the server has too many connections open (HTTP %d); try again in a moment", listener, status)
	case status == 404:
		return fmt.Errorf("could not open the tunnel: the server has no listener %q the page may reach", listener)
	case status == 403:
		return fmt.Errorf("could not open the tunnel to listener %q: the server does not take tunnels from pages of this site (its operator can allow them with --allow-origin)", listener)
	}
	return fmt.Errorf("could not open the tunnel to listener %q: the WebSocket did not open (%v)", listener, err)
}

// Install sets the global GlobalName: the methods of GlobalMethods, with
// connect reaching brokers through dial, plus extra (the static build's
// broker methods). Then it calls ReadyCallback if the page set one.
func Install(dial Dialer, extra map[string]any) {
	m := map[string]any{
		"connect":         js.FuncOf(func(this js.Value, args []js.Value) any { return connect(dial, args) }),
		"decode":          js.FuncOf(decode),
		"readCapture":     js.FuncOf(readCapture),
		"newIdentity":     js.FuncOf(newIdentity),
		"setIdentityCert": js.FuncOf(setIdentityCert),
		"exportIdentity":  js.FuncOf(exportIdentity),
		"importIdentity":  js.FuncOf(importIdentity),
		"signRevocation":  js.FuncOf(signRevocation),
	}
	for k, v := range extra {
		m[k] = v
	}
	js.Global().Set(GlobalName, js.ValueOf(m))
	if cb := js.Global().Get(ReadyCallback); cb.Type() == js.TypeFunction {
		cb.Invoke()
	}
}

// Object reads a JavaScript object's properties (see object).
func Object(v js.Value) object {
	return func(key string) any { return goValue(v.Get(key)) }
}

var arrayClass = js.Global().Get("Array")

// goValue converts a property value: nil, string, float64, bool, []any or
// a nested object.
func goValue(v js.Value) any {
	switch v.Type() {
	case js.TypeString:
		return v.String()
	case js.TypeNumber:
		return v.Float()
	case js.TypeBoolean:
		return v.Bool()
	case js.TypeObject:
		if arrayClass.Call("isArray", v).Bool() {
			out := make([]any, v.Length())
			for i := range out {
				out[i] = goValue(v.Index(i))
			}
			return out
		}
		return Object(v)
	}
	return nil // undefined, null, functions, symbols
}

// connect(options) → Promise<conn>
func connect(dial Dialer, args []js.Value) any {
	if len(args) != 1 || args[0].Type() != js.TypeObject {
		return rejected("usage: connect(options)")
	}
	o, err := readOptions(Object(args[0]))
	if err != nil {
		return rejected(err.Error())
	}
	return promise(func() (any, error) {
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
		rec := trace.NewRecorder(trace.Client, 0)
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		raw, err := dial(ctx, o.Listener, o.TunnelURL)
		if err != nil {
			return nil, err
		}
		c, err := client.Dial(ctx, raw, rec, o.Options)
		if err != nil {
			return nil, &traceError{err: err, rec: rec}
		}
		return connObject(c), nil
	})
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
				return jsonValue(Message{Topic: m.Topic, Payload: string(m.Payload), QoS: int(m.QoS), Retain: m.Retain}), nil
			})
		}),
		"trace": js.FuncOf(func(this js.Value, args []js.Value) any {
			return jsonValue(events(c.Recorder().Events()))
		}),
		"checks": js.FuncOf(func(this js.Value, args []js.Value) any {
			return jsonValue(checks(c.Checks()))
		}),
		"recording": js.FuncOf(func(this js.Value, args []js.Value) any {
			return jsonValue(recordingJSON(c.Recorder().Recording()))
		}),
		"pcapng": js.FuncOf(func(this js.Value, args []js.Value) any {
			var buf bytes.Buffer
			if err := pcapng.Write(&buf, c.Recorder().Recording()); err != nil {
				return Error(err)
			}
			return uint8Array(buf.Bytes())
		}),
		"keylog": js.FuncOf(func(this js.Value, args []js.Value) any {
			return c.Recorder().Recording().KeyLog
		}),
		"tlsInfo": js.FuncOf(func(this js.Value, args []js.Value) any {
			return jsonValue(tlsInfo(c))
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

func uint8Array(b []byte) js.Value {
	a := js.Global().Get("Uint8Array").New(len(b))
	js.CopyBytesToJS(a, b)
	return a
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

var jsonParse = js.Global().Get("JSON").Get("parse")

// jsonValue hands Go data to JavaScript through JSON.parse: one call
// across, however many events.
func jsonValue(v jsonValuer) js.Value {
	return jsonParse.Invoke(string(v.appendJSON(nil)))
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
					e.Set("trace", jsonValue(events(te.rec.Events())))
				}
				// A handshake that failed after it started: the certificate
				// check so far, and the name of the connection at the broker.
				var de *client.DialError
				if errors.As(err, &de) {
					if len(de.Checks) > 0 {
						e.Set("checks", jsonValue(checks(de.Checks)))
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

// decode(recording) → events: decodes a saved recording (a connection's
// recording() or a server's /trace/{id}/recording), for replays. It
// returns an Error for what is not a recording (see Error).
func decode(this js.Value, args []js.Value) any {
	if len(args) != 1 || args[0].Type() != js.TypeObject {
		return js.Global().Get("Error").New("usage: decode(recording)")
	}
	rec, err := readRecording(Object(args[0]))
	if err != nil {
		return js.Global().Get("Error").New("decode: " + err.Error())
	}
	return jsonValue(events(trace.Decode(rec)))
}

// readCapture(bytes, keylog) → Promise<recording>: reads a capture file a
// person brings (pcapng, with the secrets of its Decryption Secrets Blocks,
// or classic pcap; tcpdump, Wireshark) into the recording of its first TCP
// connection, with the plaintext its secrets decrypt (trace.WithPlaintext),
// for decode. keylog is the text of an SSLKEYLOGFILE, or "".
func readCapture(this js.Value, args []js.Value) any {
	if len(args) != 2 || args[0].Type() != js.TypeObject || args[1].Type() != js.TypeString {
		return rejected("usage: readCapture(bytes: Uint8Array, keylog: string)")
	}
	b := make([]byte, args[0].Get("length").Int())
	if n := js.CopyBytesToGo(b, args[0]); n != len(b) {
		return rejected("readCapture: the capture is not a Uint8Array")
	}
	keylog := args[1].String()
	return promise(func() (any, error) {
		rec, err := pcapng.Read(bytes.NewReader(b))
		if err != nil {
			return nil, err
		}
		if keylog != "" {
			if rec.KeyLog != "" && !strings.HasSuffix(rec.KeyLog, "\n") {
				rec.KeyLog += "\n"
			}
			rec.KeyLog += keylog
		}
		// A capture holds the wire only: add what its records decrypt to,
		// so the MQTT packets show as in a tap's recording.
		return jsonValue(recordingJSON(trace.WithPlaintext(rec))), nil
	})
}
