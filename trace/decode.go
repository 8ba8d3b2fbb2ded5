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
	order int  // recording index of the chunk with the event's last byte
	pos   int  // offset of that byte in its stream, to order within a chunk
	tail  bool // the next bytes of the recording may change or remove it
}

// Decode turns a recording into events, ordered as their last bytes were
// seen; never nil. It never fails: what cannot be decoded becomes an event with Error
// set, and decoding of that stream stops there. A recording that keeps
// growing is decoded faster by a [Decoder], with the same events.
func Decode(rec Recording) []Event {
	var d Decoder
	return d.Update(rec)
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

// mqttConn follows both directions of an MQTT byte stream from one update
// of a [Decoder] to the next. The client's direction goes first: its
// CONNECT sets the protocol version the broker's packets are read with.
// After a gap, decoding resumes at the first chunk that starts a packet.
type mqttConn struct {
	dirs   [2]mqttDir
	start1 byte // the version the broker's direction was read with from its start
}

// mqttDir is where the decoding of one direction stands: the events of
// the bytes before it are final.
type mqttDir struct {
	seg     int  // the stretch of the stream it is in: the one after gap seg-1
	off     int  // stream offset of the first byte not decoded for good
	resync  bool // off follows a gap: a chunk that does not start a packet is skipped
	version byte // the protocol version in force at off
}

// update decodes the bytes of both directions of s that the last update
// did not decode for good, into out. It returns false when the broker's
// direction was read with another version than the client's direction
// now sets (a CONNECT that came late): all must be decoded again.
func (m *mqttConn) update(side Side, s *[2]stream, out *[2]sink) bool {
	version := m.dirs[0].version
	m.dirs[0].walk(side, &s[0], true, &version, &out[0])
	d := &m.dirs[1]
	if d.seg == 0 && d.off == 0 {
		// Nothing of the broker's direction is final yet.
		d.version, m.start1 = version, version
	} else if version != m.start1 {
		return false
	}
	version = d.version
	d.walk(side, &s[1], false, &version, &out[1])
	return true
}

// walk decodes one direction from where m stands to the end of the
// stream, stretch by stretch between the gaps.
func (m *mqttDir) walk(side Side, st *stream, fromClient bool, version *byte, out *sink) {
	off, resync := m.off, m.resync
	for g := m.seg; ; g++ {
		end := st.segmentEnd(g)
		closed := g < len(st.gaps)
		m.segment(side, st, fromClient, g, off, end, resync, closed, version, out)
		if !closed {
			return
		}
		out.add(st.gapEvent(g, side, fromClient, LayerMQTT))
		off, resync = end, true
		m.save(g+1, off, resync, *version, out)
	}
}

// save moves m to off in stretch seg, unless something before it may
// still change.
func (m *mqttDir) save(seg, off int, resync bool, version byte, out *sink) {
	if !out.open {
		m.seg, m.off, m.resync, m.version = seg, off, resync, version
	}
}

// segment decodes the packets of one direction between stream offsets off
// and end, in stretch g (closed: followed by a gap, so it will not grow).
// With resync, off follows a gap: a chunk that does not start a packet
// there is skipped.
func (m *mqttDir) segment(side Side, st *stream, fromClient bool, g, off, end int, resync, closed bool, version *byte, out *sink) {
	data := st.data[:end]
	for off < len(data) {
		p, n, err := mqttwire.Decode(data[off:], *version)
		if resync && (err != nil || p.Err != nil) {
			// Not a packet start after all: try the next chunk. One cut
			// short by the end of the recording may yet become a packet.
			if errors.Is(err, io.ErrUnexpectedEOF) && !closed {
				out.open = true
			}
			off = st.nextChunk(off, end)
			m.save(g, off, true, *version, out)
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
			if !closed {
				out.open = true // it holds the rest of the stream, which grows
			}
			out.add(placed{ev: ev, order: order, pos: off + 1})
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
		out.add(placed{ev: ev, order: order, pos: off + n})
		off += n
		m.save(g, off, false, *version, out)
	}
}
