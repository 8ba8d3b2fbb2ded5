// Package field holds the annotation that every decoder of the trace
// produces: a byte range of a message with its name, its value and what it
// means. It is a leaf: the layer decoders (tlswire, mqttwire) fill fields
// in, package trace places them in its events, and this package imports
// neither.
//
// Decoders of the layers keep one convention for what goes wrong: a
// Decode function returns the decoded message, its length n and an error
// err. err is io.ErrUnexpectedEOF when the input holds only the start of a
// message (wait for more bytes), or another error when the input cannot be
// framed at all; then n is 0 and the message is the zero value. A message
// that frames but breaks a rule comes back whole, with its Err set to the
// first broken rule and Fields holding what was decoded: malformed bytes
// are data. Errors are lowercase, start with "trace: LAYER: " and name the
// offset of the offending bytes.
package field

// Field annotates a byte range of a message with its meaning. Its JSON form
// is part of the event schema shared with the web UI.
type Field struct {
	// Name is the short protocol name of the field, as the specification
	// spells it (legacy_version, cipher_suites, Topic Name …).
	Name string `json:"name"`
	// Value is the decoded value, formatted for people.
	Value string `json:"value"`
	// Start and End delimit the field's bytes: [Start, End) offsets into the
	// event's Bytes, or into Plain when In is "plain".
	Start int `json:"start"`
	End   int `json:"end"`
	// In is "plain" when Start and End index the decrypted Plain bytes; empty
	// means they index Bytes.
	In string `json:"in,omitempty"`
	// Depth nests fields: 0 for top-level fields, 1 for the parts of a depth
	// 0 field, and so on.
	Depth int `json:"depth,omitempty"`
	// About explains in one line what the field is for.
	About string `json:"about,omitempty"`
	// Spec cites the defining section, e.g. "RFC 8446 §4.1.2" or
	// "MQTT 5.0 §3.1.2.3".
	Spec string `json:"spec,omitempty"`
	// ExtName, on a field that holds a whole TLS extension (Name
	// "extension" or "extension_type"), is the extension's registered name
	// without its number ("key_share", "server_name"), so a lesson can
	// select the extension by name; empty for an extension the decoder
	// does not know.
	ExtName string `json:"extName,omitempty"`
}

// Plain is the value of In for fields that index decrypted bytes.
const Plain = "plain"

// Shift returns copies of fields moved by offset by, with In set to in: it
// puts the fields of a message into the coordinates of the bytes that carry
// it.
func Shift(fields []Field, by int, in string) []Field {
	out := make([]Field, len(fields))
	for i, f := range fields {
		f.Start += by
		f.End += by
		f.In = in
		out[i] = f
	}
	return out
}
