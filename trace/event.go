// Package trace is the lens of the playground: it records the bytes of a
// connection as they cross the wire (below crypto/tls) and as the application
// sees them (above crypto/tls), and decodes them into [Event]s: TLS records and
// handshake messages, and MQTT control packets, each with annotated fields.
//
// The same package runs inside the WebAssembly client, in the broker and in
// the server, so both ends of a connection produce events in one schema.
// It does not capture packets from the operating system and does not speak
// any protocol itself: it only watches byte streams it is handed.
//
// The decoding is done by one package per layer, which know nothing of
// trace: tlswire (TLS records and handshake messages), tlskeys (record
// decryption from key logs) and mqttwire (MQTT packets), over the shared
// data of field (annotations) and recording (what a Recorder keeps);
// pcapng exports recordings. [Decode] stitches the layers together, from
// bytes to records to messages to events; a [Decoder] does the same for a
// recording that grows, decoding only what is new each time.
package trace

import (
	"time"

	"github.com/mqtts-playground/playground/trace/tlswire"
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

	// The facts below repeat, as data for programs, what some fields say
	// in words.

	// Certs describes the certificates of a Certificate message, in the
	// order sent (the sender's own first).
	Certs []tlswire.CertInfo `json:"certs,omitempty"`
	// PacketID is the Packet Identifier of an MQTT packet that carries
	// one; 0 for the others.
	PacketID int `json:"packetId,omitempty"`
	// QoS is the QoS of an MQTT PUBLISH: 0, 1 or 2; absent for other
	// events.
	QoS *int `json:"qos,omitempty"`
}
