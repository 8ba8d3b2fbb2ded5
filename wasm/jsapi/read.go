package jsapi

import (
	"encoding/base64"
	"fmt"
	"math"
	"time"

	"github.com/mqtts-playground/playground/trace/recording"
	"github.com/mqtts-playground/playground/wasm/client"
)

// What the page passes in (connect's options, decode's recording) is read
// property by property from the JavaScript object, as encoding/json would
// read its JSON (read_test.go compares the two), without encoding/json.

// object reads a property of a JavaScript object: nil when absent or null,
// else a string, float64, bool, []any or a nested object.
type object func(key string) any

// reader collects the first error of reading an object.
type reader struct {
	path string // where in the value, for errors: "options.tls"
	err  error
}

func (r *reader) fail(key, want string, v any) {
	if r.err == nil {
		r.err = fmt.Errorf("%s.%s must be %s, not %s", r.path, key, want, typeName(v))
	}
}

func typeName(v any) string {
	switch v.(type) {
	case string:
		return "a string"
	case float64:
		return "a number"
	case bool:
		return "a boolean"
	case []any:
		return "an array"
	case object:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}

func (r *reader) str(o object, key string) string {
	switch v := o(key).(type) {
	case nil:
		return ""
	case string:
		return v
	default:
		r.fail(key, "a string", v)
		return ""
	}
}

func (r *reader) int(o object, key string) int64 {
	switch v := o(key).(type) {
	case nil:
		return 0
	case float64:
		if v != math.Trunc(v) || math.Abs(v) > 1<<53 {
			r.fail(key, "a whole number", v)
			return 0
		}
		return int64(v)
	default:
		r.fail(key, "a number", v)
		return 0
	}
}

func (r *reader) bool(o object, key string) bool {
	switch v := o(key).(type) {
	case nil:
		return false
	case bool:
		return v
	default:
		r.fail(key, "a boolean", v)
		return false
	}
}

// boolPtr reads an optional boolean: nil when absent.
func (r *reader) boolPtr(o object, key string) *bool {
	if o(key) == nil {
		return nil
	}
	b := r.bool(o, key)
	return &b
}

func (r *reader) obj(o object, key string) object {
	switch v := o(key).(type) {
	case nil:
		return nil
	case object:
		return v
	default:
		r.fail(key, "an object", v)
		return nil
	}
}

func (r *reader) list(o object, key string) []any {
	switch v := o(key).(type) {
	case nil:
		return nil
	case []any:
		return v
	default:
		r.fail(key, "an array", v)
		return nil
	}
}

func (r *reader) strings(o object, key string) []string {
	l := r.list(o, key)
	if l == nil {
		return nil
	}
	out := make([]string, len(l))
	for i, x := range l {
		s, ok := x.(string)
		if !ok {
			r.fail(fmt.Sprintf("%s[%d]", key, i), "a string", x)
			return nil
		}
		out[i] = s
	}
	return out
}

// connectOptions is what the page passes to connect: the client options
// plus where the broker is.
type connectOptions struct {
	client.Options
	// Listener is the broker listener to reach.
	Listener string `json:"listener"`
	// TunnelURL is the ws:// or wss:// URL of the server's /tunnel.
	TunnelURL string `json:"tunnelURL"`
}

// readOptions reads connect's options.
func readOptions(o object) (connectOptions, error) {
	r := &reader{path: "options"}
	var c connectOptions
	c.Listener = r.str(o, "listener")
	c.TunnelURL = r.str(o, "tunnelURL")
	c.ClientID = r.str(o, "clientId")
	c.Username = r.str(o, "username")
	c.Password = r.str(o, "password")
	c.MQTTVersion = int(r.int(o, "mqttVersion"))
	c.KeepAlive = int(r.int(o, "keepAlive"))
	c.CleanStart = r.boolPtr(o, "cleanStart")
	c.SessionExpiry = int(r.int(o, "sessionExpiry"))
	c.AuthMethod = r.str(o, "authMethod")
	if w := r.obj(o, "will"); w != nil {
		wr := &reader{path: "options.will"}
		c.Will = &client.Will{
			Topic:   wr.str(w, "topic"),
			Payload: wr.str(w, "payload"),
			QoS:     int(wr.int(w, "qos")),
			Retain:  wr.bool(w, "retain"),
			Delay:   int(wr.int(w, "delay")),
		}
		if r.err == nil {
			r.err = wr.err
		}
	}
	if t := r.obj(o, "tls"); t != nil {
		tr := &reader{path: "options.tls"}
		c.TLS = &client.TLSOptions{
			ServerName:         tr.str(t, "serverName"),
			CAPEM:              tr.str(t, "caPEM"),
			CertPEM:            tr.str(t, "certPEM"),
			KeyPEM:             tr.str(t, "keyPEM"),
			Identity:           tr.str(t, "identity"),
			InsecureSkipVerify: tr.bool(t, "insecureSkipVerify"),
			IntermediatesPEM:   tr.str(t, "intermediatesPEM"),
			ALPN:               tr.strings(t, "alpn"),
			Resume:             tr.boolPtr(t, "resume"),
			Groups:             tr.strings(t, "groups"),
			MinVersion:         tr.str(t, "minVersion"),
			MaxVersion:         tr.str(t, "maxVersion"),
		}
		if r.err == nil {
			r.err = tr.err
		}
	}
	if r.err != nil {
		return connectOptions{}, fmt.Errorf("bad options: %w", r.err)
	}
	return c, nil
}

// readRecording reads a recording (recording.Recording's JSON form).
func readRecording(o object) (recording.Recording, error) {
	r := &reader{path: "recording"}
	rec := recording.Recording{
		Side:       recording.Side(r.str(o, "side")),
		ClientAddr: r.str(o, "clientAddr"),
		ServerAddr: r.str(o, "serverAddr"),
		KeyLog:     r.str(o, "keylog"),
		Dropped:    r.int(o, "dropped"),
	}
	chunks := r.list(o, "chunks")
	if chunks != nil {
		rec.Chunks = make([]recording.Chunk, 0, len(chunks))
	}
	for i, x := range chunks {
		co, ok := x.(object)
		if !ok {
			r.fail(fmt.Sprintf("chunks[%d]", i), "an object", x)
			break
		}
		cr := &reader{path: fmt.Sprintf("recording.chunks[%d]", i)}
		c := recording.Chunk{Dir: recording.Dir(cr.str(co, "dir")), App: cr.bool(co, "app"), Gap: cr.int(co, "gap")}
		if ts := cr.str(co, "time"); ts != "" {
			t, err := time.Parse(time.RFC3339Nano, ts)
			if err != nil && cr.err == nil {
				cr.err = fmt.Errorf("%s.time: %v", cr.path, err)
			}
			c.Time = t
		}
		switch d := co("data").(type) {
		case nil:
		case string:
			b, err := base64.StdEncoding.DecodeString(d)
			if err != nil && cr.err == nil {
				cr.err = fmt.Errorf("%s.data is not base64: %v", cr.path, err)
			}
			c.Data = b
		default:
			cr.fail("data", "a base64 string", d)
		}
		if n := cr.obj(co, "next"); n != nil {
			nr := &reader{path: cr.path + ".next"}
			c.Next = &recording.RecordStart{Skip: nr.int(n, "skip"), Index: nr.int(n, "index")}
			if cr.err == nil {
				cr.err = nr.err
			}
		}
		if cr.err != nil {
			r.err = cr.err
			break
		}
		rec.Chunks = append(rec.Chunks, c)
	}
	if r.err != nil {
		return recording.Recording{}, fmt.Errorf("not a recording: %w", r.err)
	}
	return rec, nil
}
