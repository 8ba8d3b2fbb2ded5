package trace

import (
	"bytes"
	"sort"
)

// Decoder decodes a recording that keeps growing, such as the one a
// [Recorder] returns again and again for a live connection: each
// [Decoder.Update] decodes only what was added since the one before, and
// returns exactly the events [Decode] returns for the whole recording.
//
// It keeps, between updates, where each direction of each layer stands:
// the TLS record it reached with its keys and sequence numbers and the
// handshake bytes waiting for the rest of their message, the MQTT packet
// it reached and the protocol version in force. Events that more bytes
// cannot change are never made again; only those at the end of a stream
// (bytes that stopped looking like records or packets, a gap the first
// record after which is still to come) are.
//
// The zero value is ready to use. A Decoder must not be copied after its
// first Update, nor used by two goroutines at once.
type Decoder struct {
	started bool
	side    Side
	keyLog  string
	dropped int64
	chunks  []Chunk // those decoded: copies of the callers' chunks, sharing their bytes

	wire, app [2]stream // index 0 holds what the client sent, 1 what the broker sent
	layer     Layer     // what the wire carries, once known
	tls       *tlsState // on a TLS wire
	mqtt      mqttConn  // on a plain wire
	appMQTT   mqttConn  // above TLS

	events []Event
	keys   []eventKey // of each event, to place those of the next update among them
	tails  int        // index of the first event that is not final; len(events) if none
	made   int        // events made, for tests
}

// eventKey is where an event goes among the others (see placed).
type eventKey struct {
	order, pos int
	tail       bool
}

func (k eventKey) after(p placed) bool {
	return k.order > p.order || (k.order == p.order && k.pos > p.pos)
}

// sink collects the events one direction of one layer decodes in an
// update: the final ones, then, from the first thing that the next bytes
// may change on, the tail ones, which the next update makes again.
type sink struct {
	events []placed
	open   bool // what is added now is tail
}

func (s *sink) add(p placed) {
	p.tail = s.open
	s.events = append(s.events, p)
}

// Update returns the events of rec, as [Decode] does. When rec extends the
// recording of the last Update (the same side, key log and Dropped, and
// the same chunks followed by new ones), only what is new is decoded;
// otherwise rec is decoded from its start. The chunks' bytes must not
// change once passed to Update (a Recorder never changes them).
//
// The slice returned is never changed by later updates: callers may keep
// and share it, and must not change it themselves.
func (d *Decoder) Update(rec Recording) []Event {
	if !d.extends(rec) {
		d.reset(rec)
	} else if len(rec.Chunks) == len(d.chunks) {
		return d.result()
	}
	if !d.decode(rec) {
		// Something the events decoded so far depend on turned up late
		// (a hello, a CONNECT, the first wire bytes of the client).
		d.reset(rec)
		d.decode(rec)
	}
	return d.result()
}

func (d *Decoder) reset(rec Recording) {
	*d = Decoder{started: true, side: rec.Side, keyLog: rec.KeyLog, dropped: rec.Dropped, made: d.made}
}

// extends reports whether rec is the recording of the last update with
// chunks added at the end.
func (d *Decoder) extends(rec Recording) bool {
	if !d.started || rec.Side != d.side || rec.KeyLog != d.keyLog || rec.Dropped != d.dropped || len(rec.Chunks) < len(d.chunks) {
		return false
	}
	for i, c := range d.chunks {
		if !sameChunk(c, rec.Chunks[i]) {
			return false
		}
	}
	return true
}

func sameChunk(a, b Chunk) bool {
	if a.Time != b.Time || a.Dir != b.Dir || a.App != b.App || a.Gap != b.Gap || len(a.Data) != len(b.Data) {
		return false
	}
	if (a.Next == nil) != (b.Next == nil) || (a.Next != nil && *a.Next != *b.Next) {
		return false
	}
	// The bytes of a chunk copied from the same recorder are the same
	// bytes: comparing them is only needed for chunks from elsewhere
	// (decoded JSON).
	return len(a.Data) == 0 || &a.Data[0] == &b.Data[0] || bytes.Equal(a.Data, b.Data)
}

// decode decodes the chunks of rec that are new, and places their events.
// It returns false when that cannot be done without decoding again what
// was decoded before.
func (d *Decoder) decode(rec Recording) bool {
	for i := len(d.chunks); i < len(rec.Chunks); i++ {
		c := rec.Chunks[i]
		k := 1
		if c.FromClient(d.side) {
			k = 0
		}
		s := &d.wire[k]
		if c.App {
			s = &d.app[k]
		}
		if c.Gap > 0 {
			s.addGap(i, c)
		} else {
			s.add(i, c)
		}
	}
	d.chunks = append(d.chunks, rec.Chunks[len(d.chunks):]...)
	// By direction of the wire, then of the application side.
	var out [2][2]sink
	if layer := sniff(d.wire); layer != d.layer {
		if d.layer != "" {
			return false
		}
		d.layer = layer
		if layer == LayerTLS {
			d.tls = newTLSState(d.side, d.keyLog, &d.wire)
		}
	}
	switch d.layer {
	case LayerTLS:
		if !d.tls.update(&out[0]) {
			return false
		}
	case LayerMQTT:
		if !d.mqtt.update(d.side, &d.wire, &out[0]) {
			return false
		}
	}
	if !d.appMQTT.update(d.side, &d.app, &out[1]) {
		return false
	}
	var fresh []placed
	for _, layer := range out {
		for _, s := range layer {
			fresh = append(fresh, s.events...)
		}
	}
	d.place(fresh)
	return true
}

// Held is the number of recorded bytes the decoder keeps between updates
// (its copies of each stream, wire and decrypted), for callers that bound
// the memory of many decoders.
func (d *Decoder) Held() int64 {
	var n int64
	for i := range 2 {
		n += int64(len(d.wire[i].data) + len(d.app[i].data))
	}
	return n
}

// place puts the events of an update among those of the last: it takes
// out the tail events of the last update and orders the new ones with the
// rest as their last bytes were seen. Events of different streams never
// share a place (each chunk belongs to one stream), and those of one
// stream come in order.
func (d *Decoder) place(fresh []placed) {
	sort.SliceStable(fresh, func(i, j int) bool {
		if fresh[i].order != fresh[j].order {
			return fresh[i].order < fresh[j].order
		}
		return fresh[i].pos < fresh[j].pos
	})
	n := len(d.events)
	cut := d.tails
	if len(fresh) > 0 {
		cut = min(cut, sort.Search(n, func(i int) bool { return d.keys[i].after(fresh[0]) }))
	}
	events, keys := d.events, d.keys
	if cut < n {
		// Events already handed out change place or go: copy them, so
		// that the slices returned before stay as they were.
		events = make([]Event, cut, n+len(fresh))
		keys = make([]eventKey, cut, n+len(fresh))
		copy(events, d.events[:cut])
		copy(keys, d.keys[:cut])
	}
	d.tails = -1
	push := func(ev Event, k eventKey) {
		if k.tail && d.tails < 0 {
			d.tails = len(events)
		}
		ev.Seq = len(events) + 1
		events = append(events, ev)
		keys = append(keys, k)
	}
	pushFresh := func(p placed) {
		d.made++
		p.ev.Side = d.side
		if p.ev.Fields == nil {
			p.ev.Fields = []Field{}
		}
		push(p.ev, eventKey{p.order, p.pos, p.tail})
	}
	i := 0
	for j := cut; j < n; j++ {
		if d.keys[j].tail {
			continue
		}
		for i < len(fresh) && d.keys[j].after(fresh[i]) {
			pushFresh(fresh[i])
			i++
		}
		push(d.events[j], d.keys[j])
	}
	for ; i < len(fresh); i++ {
		pushFresh(fresh[i])
	}
	if d.tails < 0 {
		d.tails = len(events)
	}
	d.events, d.keys = events, keys
}

// result is the events decoded so far, in a slice that appending to cannot
// reach the decoder's own.
func (d *Decoder) result() []Event {
	if d.events == nil {
		d.events = []Event{}
	}
	return d.events[:len(d.events):len(d.events)]
}
