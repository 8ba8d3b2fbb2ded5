package jsapi

import (
	"encoding/base64"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/mqtts-playground/playground/trace"
	"github.com/mqtts-playground/playground/trace/recording"
	"github.com/mqtts-playground/playground/wasm/client"
)

// The JSON the module hands the page, written by hand: encoding/json and
// the reflection it needs cost the browser client about half a megabyte of
// wasm (120 KB gzipped). Each type writes the JSON encoding/json would
// write for it, with the same keys and omissions (json_test.go compares the
// two), so the generated TypeScript types stay true.

// jsonValuer is a value that writes its own JSON.
type jsonValuer interface {
	appendJSON(b []byte) []byte
}

// obj writes one JSON object, key by key.
type obj struct {
	b     []byte
	first bool
}

func newObj(b []byte) *obj { return &obj{b: append(b, '{'), first: true} }

func (o *obj) key(k string) {
	if !o.first {
		o.b = append(o.b, ',')
	}
	o.first = false
	o.b = appendString(o.b, k)
	o.b = append(o.b, ':')
}

func (o *obj) str(k, v string) {
	o.key(k)
	o.b = appendString(o.b, v)
}

// strOmit writes k unless v is empty (`json:",omitempty"`).
func (o *obj) strOmit(k, v string) {
	if v != "" {
		o.str(k, v)
	}
}

func (o *obj) int(k string, v int64) {
	o.key(k)
	o.b = strconv.AppendInt(o.b, v, 10)
}

func (o *obj) intOmit(k string, v int64) {
	if v != 0 {
		o.int(k, v)
	}
}

func (o *obj) bool(k string, v bool) {
	o.key(k)
	o.b = strconv.AppendBool(o.b, v)
}

func (o *obj) boolOmit(k string, v bool) {
	if v {
		o.bool(k, v)
	}
}

func (o *obj) time(k string, t time.Time) {
	o.key(k)
	o.b = append(o.b, '"')
	o.b = t.AppendFormat(o.b, time.RFC3339Nano)
	o.b = append(o.b, '"')
}

func (o *obj) bytes(k string, v []byte) {
	o.key(k)
	if v == nil {
		o.b = append(o.b, "null"...)
		return
	}
	o.b = append(o.b, '"')
	o.b = base64.StdEncoding.AppendEncode(o.b, v)
	o.b = append(o.b, '"')
}

func (o *obj) end() []byte { return append(o.b, '}') }

// appendList writes a JSON array of n elements, null when the slice is nil.
func appendList(b []byte, isNil bool, n int, elem func(b []byte, i int) []byte) []byte {
	if isNil {
		return append(b, "null"...)
	}
	b = append(b, '[')
	for i := range n {
		if i > 0 {
			b = append(b, ',')
		}
		b = elem(b, i)
	}
	return append(b, ']')
}

const hexDigits = "0123456789abcdef"

// appendString writes s as a JSON string as encoding/json does: invalid
// UTF-8 becomes U+FFFD, and <, >, &, U+2028 and U+2029 are escaped.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// events is a trace, as conn.trace() and decode() return it.
type events []trace.Event

func (es events) appendJSON(b []byte) []byte {
	return appendList(b, es == nil, len(es), func(b []byte, i int) []byte {
		e := &es[i]
		o := newObj(b)
		o.int("seq", int64(e.Seq))
		o.time("time", e.Time)
		o.str("side", string(e.Side))
		o.str("dir", string(e.Dir))
		o.str("layer", string(e.Layer))
		o.str("type", e.Type)
		o.int("length", int64(e.Length))
		o.str("bytes", e.Bytes)
		o.boolOmit("encrypted", e.Encrypted)
		o.strOmit("plain", e.Plain)
		o.strOmit("summary", e.Summary)
		o.key("fields")
		o.b = appendList(o.b, e.Fields == nil, len(e.Fields), func(b []byte, i int) []byte {
			f := &e.Fields[i]
			o := newObj(b)
			o.str("name", f.Name)
			o.str("value", f.Value)
			o.int("start", int64(f.Start))
			o.int("end", int64(f.End))
			o.strOmit("in", f.In)
			o.intOmit("depth", int64(f.Depth))
			o.strOmit("about", f.About)
			o.strOmit("spec", f.Spec)
			o.strOmit("ext", f.Ext)
			return o.end()
		})
		o.strOmit("error", e.Error)
		if len(e.Certs) > 0 {
			o.key("certs")
			o.b = appendList(o.b, false, len(e.Certs), func(b []byte, i int) []byte {
				c := &e.Certs[i]
				o := newObj(b)
				o.int("field", int64(c.Field))
				o.strOmit("error", c.Error)
				o.str("subject", c.Subject)
				o.strOmit("subjectCN", c.SubjectCN)
				o.str("issuer", c.Issuer)
				o.strOmit("issuerCN", c.IssuerCN)
				o.boolOmit("selfSigned", c.SelfSigned)
				o.boolOmit("ca", c.CA)
				o.time("notBefore", c.NotBefore)
				o.time("notAfter", c.NotAfter)
				if len(c.Names) > 0 {
					o.key("names")
					o.b = appendList(o.b, false, len(c.Names), func(b []byte, i int) []byte { return appendString(b, c.Names[i]) })
				}
				o.str("key", c.Key)
				o.str("signature", c.Signature)
				o.str("serial", c.Serial)
				o.str("fingerprint", c.Fingerprint)
				return o.end()
			})
		}
		o.intOmit("packetId", int64(e.PacketID))
		if e.QoS != nil {
			o.int("qos", int64(*e.QoS))
		}
		return o.end()
	})
}

// recordingJSON is a connection's recording, as conn.recording() returns it.
type recordingJSON recording.Recording

func (r recordingJSON) appendJSON(b []byte) []byte {
	o := newObj(b)
	o.str("side", string(r.Side))
	o.strOmit("clientAddr", r.ClientAddr)
	o.strOmit("serverAddr", r.ServerAddr)
	o.key("chunks")
	o.b = appendList(o.b, r.Chunks == nil, len(r.Chunks), func(b []byte, i int) []byte {
		c := &r.Chunks[i]
		o := newObj(b)
		o.time("time", c.Time)
		o.str("dir", string(c.Dir))
		o.boolOmit("app", c.App)
		o.bytes("data", c.Data)
		o.intOmit("gap", c.Gap)
		if c.Next != nil {
			o.key("next")
			n := newObj(o.b)
			n.int("skip", c.Next.Skip)
			n.int("index", c.Next.Index)
			o.b = n.end()
		}
		return o.end()
	})
	o.strOmit("keylog", r.KeyLog)
	o.intOmit("dropped", r.Dropped)
	return o.end()
}

// checks are the certificate check's steps, as conn.checks() returns them.
type checks []client.Check

func (cs checks) appendJSON(b []byte) []byte {
	return appendList(b, cs == nil, len(cs), func(b []byte, i int) []byte {
		o := newObj(b)
		o.str("step", cs[i].Step)
		o.bool("ok", cs[i].OK)
		o.str("detail", cs[i].Detail)
		return o.end()
	})
}

func (t *TLSInfo) appendJSON(b []byte) []byte {
	if t == nil {
		return append(b, "null"...)
	}
	o := newObj(b)
	o.str("version", t.Version)
	o.str("cipherSuite", t.CipherSuite)
	o.strOmit("group", t.Group)
	o.bool("resumed", t.Resumed)
	o.str("serverName", t.ServerName)
	o.str("clientRandom", t.ClientRandom)
	o.strOmit("alpn", t.ALPN)
	return o.end()
}

func (m Message) appendJSON(b []byte) []byte {
	o := newObj(b)
	o.str("topic", m.Topic)
	o.str("payload", m.Payload)
	o.int("qos", int64(m.QoS))
	o.bool("retain", m.Retain)
	return o.end()
}

func (i Identity) appendJSON(b []byte) []byte {
	o := newObj(b)
	o.str("id", i.ID)
	o.str("name", i.Name)
	o.str("subject", i.Subject)
	o.str("issuer", i.Issuer)
	o.str("serial", i.Serial)
	o.str("notAfter", i.NotAfter)
	o.str("chainPEM", i.ChainPEM)
	return o.end()
}

func (r IdentityRequest) appendJSON(b []byte) []byte {
	o := newObj(b)
	o.str("id", r.ID)
	o.str("csrPEM", r.CSRPEM)
	return o.end()
}

func (s SavedIdentity) appendJSON(b []byte) []byte {
	o := newObj(b)
	o.str("name", s.Name)
	o.str("keyPEM", s.KeyPEM)
	o.str("chainPEM", s.ChainPEM)
	return o.end()
}

func (p RevocationProof) appendJSON(b []byte) []byte {
	o := newObj(b)
	o.str("certPEM", p.CertPEM)
	o.str("proof", p.Proof)
	return o.end()
}
