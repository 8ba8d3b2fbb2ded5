package trace

import (
	"fmt"
	"sort"
	"time"

	"github.com/mqtts-playground/playground/trace/tlswire"
)

// gap is a place in a stream where the recorder dropped bytes.
type gap struct {
	off   int          // offset in the stream's data where the bytes are missing
	n     int64        // how many bytes are missing
	next  *RecordStart // for TLS wire streams, where records resume
	order int          // index of the gap marker in the recording
	time  time.Time
}

// addGap notes the gap marker c, chunk index of the recording.
func (s *stream) addGap(index int, c Chunk) {
	s.gaps = append(s.gaps, gap{off: len(s.data), n: c.Gap, next: c.Next, order: index, time: c.Time})
}

// nextChunk returns the offset where the chunk after the one holding the
// byte at off starts, at most end.
func (s *stream) nextChunk(off, end int) int {
	i := sort.SearchInts(s.ends, off+1)
	if i >= len(s.ends) {
		return end
	}
	return min(s.ends[i], end)
}

// segmentEnd returns where the stretch of recorded bytes that follows gap
// g-1 ends: at gap g, or at the end of the data.
func (s *stream) segmentEnd(g int) int {
	if g < len(s.gaps) {
		return s.gaps[g].off
	}
	return len(s.data)
}

// gapEvent is the event that shows gap g of the stream.
func (s *stream) gapEvent(g int, side Side, fromClient bool, layer Layer) placed {
	gp := s.gaps[g]
	return placed{ev: Event{
		Time: gp.time, Dir: dirOf(side, fromClient), Layer: layer, Type: "Gap",
		Summary: fmt.Sprintf("%d bytes not recorded (recorder full)", gp.n),
	}, order: gp.order}
}

// tlsSegment is what a decoder has not decoded yet of a stretch of a TLS
// wire stream between gaps, cut into records.
type tlsSegment struct {
	gap  int // index of the gap before the segment; -1 for the first
	end  int // stream offset where the segment's bytes end
	from int // where its first whole record starts
	at   int // where recs start: from, or where the last update stopped
	recs []tlswire.Record
	err  error
}

// segments cuts the stretches of the direction's wire stream between gaps,
// from the one the decoder is in, into records: from where the last update
// stopped, and in the stretches after, from their first record. After a
// gap, records start where the gap marker's Next says; without it the
// stretch cannot be read.
func (d *tlsDir) segments() []tlsSegment {
	s := d.s
	segs := make([]tlsSegment, 0, len(s.gaps)-d.seg)
	for g := d.seg; g < len(s.gaps); g++ {
		start, end := 0, s.segmentEnd(g+1)
		if g >= 0 {
			start = s.gaps[g].off
		}
		sg := tlsSegment{gap: g, end: end, from: start}
		if g >= 0 {
			sg.from = end
			if next := s.gaps[g].next; next != nil && next.Skip >= 0 {
				sg.from = start + int(min(next.Skip, int64(end-start)))
			}
		}
		sg.at = sg.from
		if g == d.seg && d.entered {
			sg.at = d.at
		}
		var recs []tlswire.Record
		recs, _, sg.err = tlswire.SplitRecordsAt(s.data[sg.at:end], sg.at-sg.from)
		for i := range recs {
			recs[i].End += sg.at
		}
		sg.recs = recs
		segs = append(segs, sg)
	}
	return segs
}

// maxHandshakeRecords bounds the number of records a direction sends
// before its application traffic keys, when a gap hid where they started.
const maxHandshakeRecords = 16

// resume picks up this direction after the gap before sg: it shows the gap,
// forgets what the gap cut, and sets the record sequence number of the
// current keys to that of the first record after the gap.
func (d *tlsDir) resume(sg tlsSegment) {
	d.out.add(d.s.gapEvent(sg.gap, d.c.side, d.fromClient, LayerTLS))
	d.hs, d.hsRecords = nil, 0
	d.finished, d.keyUpdate = false, false
	next := d.s.gaps[sg.gap].next
	if next == nil {
		return
	}
	skipped := max(next.Index-d.index, 0)
	d.index = next.Index
	if d.c.tls13() {
		d.resume13(sg, skipped)
	} else {
		d.resume12(sg, skipped)
	}
}

// resume13 sets the TLS 1.3 keys for the records after a gap. When the
// head showed the switch to application traffic keys, each record the gap
// hid advanced the sequence number by one (RFC 8446 §5.3); when the switch
// itself fell in the gap, the first record after it tells which sequence
// number works.
func (d *tlsDir) resume13(sg tlsSegment, skipped int64) {
	if d.phase == 2 && d.keys != nil {
		d.keys.Seq += uint64(skipped)
		return
	}
	k, err := d.loadKeys(2)
	if err != nil {
		return
	}
	d.keys, d.phase = k, 2
	if len(sg.recs) == 0 {
		return
	}
	for from := int64(1); from <= min(d.index, maxHandshakeRecords); from++ {
		k.Seq = uint64(d.index - from)
		if _, err := k.Open(sg.recs[0].Wire); err == nil {
			k.Seq = uint64(d.index - from)
			return
		}
	}
	k.Seq = 0
}

// resume12 sets the TLS 1.2 sequence number for the records after a gap:
// it counts records from the one after the direction's ChangeCipherSpec
// (RFC 5246 §6.1).
func (d *tlsDir) resume12(sg tlsSegment, skipped int64) {
	k, err := d.c.loadKeys12()
	if err != nil {
		d.ccs = true // what follows a gap is encrypted, decryptable or not
		return
	}
	dir := 1
	if d.fromClient {
		dir = 0
	}
	if d.ccs {
		k.Seq[dir] += uint64(skipped)
		return
	}
	// The ChangeCipherSpec fell in the gap: what follows is encrypted.
	d.ccs = true
	if len(sg.recs) == 0 {
		return
	}
	for from := int64(1); from <= min(d.index, maxHandshakeRecords); from++ {
		k.Seq[dir] = uint64(d.index - from)
		if _, err := k.Open(dir, sg.recs[0]); err == nil {
			k.Seq[dir] = uint64(d.index - from)
			return
		}
	}
	k.Seq[dir] = 0
}
