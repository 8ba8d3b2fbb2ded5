package trace

import (
	"encoding/hex"
	"errors"
	"io"
	"sort"
	"time"

	"github.com/mqtts-playground/playground/trace/mqttwire"
	"github.com/mqtts-playground/playground/trace/tlswire"
)

// stream is the bytes of one direction of one layer of a recording, with
// the chunk each byte came from.
type stream struct {
	data  []byte
	ends  []int // ends[i]: offset just past chunk i
	order []int // index of chunk i in the recording
	times []time.Time
	gaps  []gap // where the recorder dropped bytes, by offset (gap.go)
}

func (s *stream) add(index int, c Chunk) {
	s.data = append(s.data, c.Data...)
	s.ends = append(s.ends, len(s.data))
	s.order = append(s.order, index)
	s.times = append(s.times, c.Time)
}

// at returns the recording index and time of the chunk that holds the
// byte just before offset end: the moment a message ending there was seen.
func (s *stream) at(end int) (int, time.Time) {
	i := sort.SearchInts(s.ends, end)
	if i >= len(s.ends) {
		i = len(s.ends) - 1
	}
	if i < 0 {
		return 0, time.Time{}
	}
	return s.order[i], s.times[i]
}

// placed is an event with the position that orders it among the others.
type placed struct {
	ev    Event
	order int // recording index of the chunk with the event's last byte
	pos   int // offset of that byte in its stream, to order within a chunk
}

// Decode turns a recording into events, ordered as their last bytes were
// seen. It never fails: what cannot be decoded becomes an event with Error
// set, and decoding of that stream stops there.
func Decode(rec Recording) []Event {
	// Index 0 holds what the client sent, index 1 what the broker sent.
	var wire, app [2]stream
	for i, c := range rec.Chunks {
		k := 1
		if c.FromClient(rec.Side) {
			k = 0
		}
		s := &wire[k]
		if c.App {
			s = &app[k]
		}
		if c.Gap > 0 {
			s.addGap(i, c)
		} else {
			s.add(i, c)
		}
	}
	var out []placed
	switch sniff(wire) {
	case LayerTLS:
		out = append(out, decodeTLSConn(rec, wire)...)
	case LayerMQTT:
		out = append(out, decodeMQTTConn(rec.Side, wire)...)
	}
	out = append(out, decodeMQTTConn(rec.Side, app)...)
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].order != out[j].order {
			return out[i].order < out[j].order
		}
		return out[i].pos < out[j].pos
	})
	events := make([]Event, len(out))
	for i, p := range out {
		p.ev.Seq = i + 1
		p.ev.Side = rec.Side
		if p.ev.Fields == nil {
			p.ev.Fields = []Field{}
		}
		events[i] = p.ev
	}
	return events
}

// sniff tells from the first bytes the client sent whether the wire carries
// TLS or bare MQTT.
func sniff(wire [2]stream) Layer {
	first := func(s stream) (byte, bool) {
		if len(s.gaps) > 0 && s.gaps[0].off == 0 {
			// The start was not recorded: only a TLS stream has records
			// to resume at.
			return tlswire.RecordHandshake, s.gaps[0].next != nil
		}
		if len(s.data) == 0 {
			return 0, false
		}
		return s.data[0], true
	}
	b, ok := first(wire[0])
	if !ok {
		if b, ok = first(wire[1]); !ok {
			return ""
		}
	}
	if b == tlswire.RecordHandshake || b == tlswire.RecordAlert {
		return LayerTLS
	}
	return LayerMQTT
}

// dirOf gives the direction of bytes from the client (fromClient) or from
// the broker, as seen by side.
func dirOf(side Side, fromClient bool) Dir {
	if (side == Client) == fromClient {
		return Send
	}
	return Recv
}

// decodeMQTTConn decodes both directions of an MQTT byte stream. The client's
// direction goes first: its CONNECT sets the protocol version the broker's
// packets are read with. After a gap, decoding resumes at the first chunk
// that starts a packet.
func decodeMQTTConn(side Side, s [2]stream) []placed {
	var out []placed
	var version byte
	for k := range s {
		off, resync := 0, false
		for g := 0; ; g++ {
			end := s[k].segmentEnd(g)
			out = append(out, decodeMQTTSegment(side, &s[k], k == 0, off, end, resync, &version)...)
			if g == len(s[k].gaps) {
				break
			}
			out = append(out, s[k].gapEvent(g, side, k == 0, LayerMQTT))
			off, resync = end, true
		}
	}
	return out
}

// decodeMQTTSegment decodes the packets of one direction between stream
// offsets off and end. With resync, off follows a gap: a chunk that does
// not start a packet there is skipped.
func decodeMQTTSegment(side Side, st *stream, fromClient bool, off, end int, resync bool, version *byte) []placed {
	var out []placed
	data := st.data[:end]
	for off < len(data) {
		p, n, err := mqttwire.Decode(data[off:], *version)
		if resync && (err != nil || p.Err != nil) {
			// Not a packet start after all: try the next chunk.
			off = st.nextChunk(off, end)
			continue
		}
		if errors.Is(err, io.ErrUnexpectedEOF) {
			break
		}
		resync = false
		order, t := st.at(off + max(n, 1))
		ev := Event{Time: t, Dir: dirOf(side, fromClient), Layer: LayerMQTT}
		if err != nil {
			ev.Type = "Malformed"
			ev.Length = len(data) - off
			ev.Bytes = hex.EncodeToString(data[off:])
			ev.Error = err.Error()
			out = append(out, placed{ev, order, off + 1})
			break
		}
		if p.Type == "CONNECT" && p.Version >= 3 && p.Version <= 5 {
			// Even a CONNECT that breaks a rule says which version the
			// rest of the connection speaks.
			*version = p.Version
		}
		ev.Type, ev.Length, ev.Summary, ev.Fields = p.Type, n, p.Summary, p.Fields
		ev.Bytes = hex.EncodeToString(data[off : off+n])
		ev.PacketID = int(p.PacketID)
		if p.Type == "PUBLISH" {
			qos := int(p.QoS)
			ev.QoS = &qos
		}
		if p.Err != nil {
			ev.Error = p.Err.Error()
		}
		out = append(out, placed{ev, order, off + n})
		off += n
	}
	return out
}
