// Package trace is the lens of the playground: it records the bytes of a
// connection as they cross the wire (below crypto/tls) and as the application
// sees them (above crypto/tls), and decodes them into [Event]s: TLS records and
// handshake messages, and MQTT control packets, each with annotated fields.
//
// The same package runs inside the WebAssembly client, in the broker and in
// the server, so both ends of a connection produce events in one schema.
// It does not capture packets from the operating system and does not speak
// any protocol itself: it only watches byte streams it is handed.
package trace

import "time"

// Side says which end of a connection recorded an event.
type Side string

// The two ends of a connection.
const (
	Client Side = "client"
	Broker Side = "broker"
)

// Dir is the direction of bytes as seen by the side that recorded them.
type Dir string

// Directions of travel, from the recording side's point of view.
const (
	Send Dir = "send"
	Recv Dir = "recv"
)

// Layer names the protocol layer an event belongs to.
type Layer string

// Layers of the stack the trace decodes.
const (
	// LayerTLS holds TLS records and handshake messages: the bytes on the wire
	// of a TLS connection.
	LayerTLS Layer = "tls"
	// LayerMQTT holds MQTT control packets: the bytes the MQTT client and
	// broker exchange, inside TLS when TLS is used.
	LayerMQTT Layer = "mqtt"
)

// Event is one unit of a trace: a TLS record or handshake message, or an MQTT
// control packet. Its JSON form is the schema shared by the wasm client, the
// broker and the web UI (web/src/gen/trace.ts is generated from this file).
type Event struct {
	// Seq numbers the events of one side of one connection from 1, in the
	// order their last byte was seen.
	Seq int `json:"seq"`
	// Time is when the last byte of the event was read or written.
	Time time.Time `json:"time"`
	// Side is the end that recorded the event.
	Side Side `json:"side" tstype:"'client' | 'broker'"`
	// Dir is send or recv from Side's point of view.
	Dir Dir `json:"dir" tstype:"'send' | 'recv'"`
	// Layer is tls or mqtt.
	Layer Layer `json:"layer"`
	// Type names the message: a TLS handshake message type (ClientHello,
	// Finished …), a TLS record content type (ApplicationData, Alert,
	// ChangeCipherSpec) or an MQTT packet type (CONNECT, PUBLISH …).
	Type string `json:"type"`
	// Length is the number of bytes the event occupied on its layer's wire:
	// the whole TLS record(s) for tls events, the whole packet for mqtt events.
	Length int `json:"length"`
	// Bytes is the hex encoding of those bytes.
	Bytes string `json:"bytes"`
	// Encrypted is true when the bytes travelled encrypted: then Plain holds
	// the decrypted content, when the keys were known.
	Encrypted bool `json:"encrypted,omitempty"`
	// Plain is the hex encoding of the decrypted content of an encrypted
	// record (the inner handshake message or application data).
	Plain string `json:"plain,omitempty"`
	// Summary is a one-line description for lists and diagrams.
	Summary string `json:"summary,omitempty"`
	// Fields annotate the bytes, in order of their start offset.
	Fields []Field `json:"fields"`
	// Error says what could not be decoded or decrypted, if anything.
	Error string `json:"error,omitempty"`
}

// Field annotates a byte range of an event with its meaning.
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
}
