package trace

import (
	"github.com/mqtts-playground/playground/trace/field"
	"github.com/mqtts-playground/playground/trace/recording"
)

// The data types trace shares with the layer packages, which cannot import
// trace: they live in the leaf packages recording and field, and trace
// names them as its own.

// Side says which end of a connection recorded an event.
type Side = recording.Side

// The two ends of a connection.
const (
	Client = recording.Client
	Broker = recording.Broker
)

// Dir is the direction of bytes as seen by the side that recorded them.
type Dir = recording.Dir

// Directions of travel, from the recording side's point of view.
const (
	Send = recording.Send
	Recv = recording.Recv
)

// Chunk is one Read or Write seen by a tap, or a gap marker (see
// package recording).
type Chunk = recording.Chunk

// RecordStart locates the first whole TLS record after a gap.
type RecordStart = recording.RecordStart

// Recording is everything recorded of one connection from one side: the
// raw material that [Decode] turns into events and that exports save
// (see package recording).
type Recording = recording.Recording

// Field annotates a byte range of an event with its meaning (see
// package field, which the layer decoders share).
type Field = field.Field
