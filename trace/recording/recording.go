// Package recording holds the raw material of a trace: the bytes of one
// connection as one of its ends saw them, Read by Read and Write by Write,
// with the TLS secrets that connection logged. It is a leaf of plain data
// types: package trace records and decodes recordings, package pcapng
// writes and reads them, and this package imports neither.
package recording

import "time"

// Side says which end of a connection recorded it.
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

// Chunk is one Read or Write seen by a tap, or a gap marker: the place in
// a recording where the recorder, being full, dropped bytes.
type Chunk struct {
	// Time is when the call returned; for a gap marker, when the first of
	// the dropped bytes passed.
	Time time.Time `json:"time"`
	// Dir is send for writes and recv for reads.
	Dir Dir `json:"dir" tstype:"'send' | 'recv'"`
	// App is true for the application side of TLS (plaintext MQTT), false
	// for the wire side (TLS records, or MQTT on a plain connection).
	App bool `json:"app,omitempty"`
	// Data holds the bytes; it is empty in a gap marker.
	Data []byte `json:"data"`
	// Gap, when positive, makes the chunk a gap marker: Gap bytes of its
	// stream (its Dir and App) passed here but were not kept.
	Gap int64 `json:"gap,omitempty"`
	// Next, on the gap marker of a TLS wire stream, locates the first TLS
	// record that starts in the bytes recorded after the gap, so decoding
	// can resume there. It is nil when no record start is known.
	Next *RecordStart `json:"next,omitempty"`
}

// RecordStart locates the first whole TLS record after a gap.
type RecordStart struct {
	// Skip is the number of recorded bytes of the stream, just after the
	// gap, that come before the record: the end of a record the gap cut.
	Skip int64 `json:"skip"`
	// Index numbers the record among all the records of its direction,
	// from 0 (the ClientHello is record 0 of the client's direction). The
	// record's AEAD sequence number derives from it.
	Index int64 `json:"index"`
}

// Recording is everything recorded of one connection from one side: the
// raw material that package trace decodes into events and that exports
// save.
//
// A recorder that ran out of room keeps the head of the connection and the
// most recent bytes; between them, Chunks holds one gap marker (see
// [Chunk.Gap]) for each stream that lost bytes.
type Recording struct {
	// Side is the end that recorded the connection.
	Side Side `json:"side" tstype:"'client' | 'broker'"`
	// ClientAddr and ServerAddr are the two ends' addresses ("ip:port")
	// when known, for exports that need them (pcapng); empty otherwise.
	ClientAddr string  `json:"clientAddr,omitempty"`
	ServerAddr string  `json:"serverAddr,omitempty"`
	Chunks     []Chunk `json:"chunks"`
	// KeyLog holds the connection's TLS secrets in NSS key log format.
	KeyLog string `json:"keylog,omitempty"`
	// Dropped counts bytes that were not kept because the recorder was
	// full: the sum of the gap markers' Gap.
	Dropped int64 `json:"dropped,omitempty"`
}

// FromClient reports whether c travelled from the client to the broker, in
// a recording made at side.
func (c Chunk) FromClient(side Side) bool {
	return (c.Dir == Send) == (side == Client)
}
