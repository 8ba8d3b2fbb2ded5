package main

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mqtts-playground/playground/broker"
	"github.com/mqtts-playground/playground/trace"
	"github.com/mqtts-playground/playground/trace/pcapng"
)

// traceAPI serves the broker's view of its recent connections: the list,
// each connection's decoded events and raw recording, and a stream of both
// as server-sent events.
//
// The events show what was recorded, decrypted; the TLS secrets that
// decrypted it (the key log, in the recording and the pcapng export) go
// only to the instructor (see instructor.check): with them, whoever
// captured a connection's packets could decrypt all of it, and a TLS 1.2
// master secret resumes its session. Each end of a connection has its own
// copy of the same secrets anyway (the page's client keeps its key log).
type traceAPI struct {
	b       *broker.Broker
	boss    instructor
	log     *slog.Logger
	every   time.Duration // how often the stream looks for news
	page    http.Handler  // the broker view for browsers at GET /trace (views.go); nil: JSON only
	decodes *decodes
	viewers *viewerLimit
	// scope says which connections a request may see (see withScope); nil:
	// every request sees all of them.
	scope func(*http.Request) (keep func(*broker.ConnInfo) bool, viewer string, err error)
}

// withScope limits what each request sees: scope returns the connections
// it keeps (nil: all), the key its streams count against (an attendee;
// empty: the address), or why it may see none.
func (t *traceAPI) withScope(scope func(*http.Request) (func(*broker.ConnInfo) bool, string, error)) *traceAPI {
	t.scope = scope
	return t
}

// keep is what r may see, narrowed by the filters of its query: ?attendee=
// (an attendee id), ?listener=, ?client= (a client id) and ?outcome=
// (open, ok or failed). It writes the refusal when r may see nothing.
func (t *traceAPI) keep(w http.ResponseWriter, r *http.Request) (keep func(*broker.ConnInfo) bool, viewer string, ok bool) {
	if t.scope != nil {
		var err error
		if keep, viewer, err = t.scope(r); err != nil {
			http.Error(w, err.Error(), http.StatusForbidden)
			return nil, "", false
		}
	}
	f, err := broker.ParseConnFilter(r.URL.Query())
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return nil, "", false
	}
	return f.Keep(keep), viewer, true
}

func newTraceAPI(b *broker.Broker, boss instructor, log *slog.Logger) *traceAPI {
	return &traceAPI{b: b, boss: boss, log: log, every: 500 * time.Millisecond, decodes: newDecodes(b, 64)}
}

// limitViewers caps the open streams: at most total, and perAddr from one
// address (one IPv6 /64); 0 means no limit.
func (t *traceAPI) limitViewers(total, perAddr int) *traceAPI {
	t.viewers = newViewerLimit(total, perAddr)
	// Every stream may watch a connection of its own (a class: each
	// attendee their page's): the shared decodings must hold them all, or
	// each look decodes the whole recording again.
	t.decodes = newDecodes(t.b, max(64, total))
	return t
}

func (t *traceAPI) register(mux *http.ServeMux) {
	mux.HandleFunc("GET /trace", t.list)
	mux.HandleFunc("GET /trace/stream", t.stream)
	mux.HandleFunc("GET /trace/{id}", t.conn)
	mux.HandleFunc("GET /trace/{id}/recording", t.recording)
}

func (t *traceAPI) list(w http.ResponseWriter, r *http.Request) {
	w.Header().Add("Vary", "Accept")
	if t.page != nil && acceptsHTML(r) {
		t.page.ServeHTTP(w, r)
		return
	}
	keep, _, ok := t.keep(w, r)
	if !ok {
		return
	}
	writeJSON(w, broker.ConnList{Connections: t.b.ConnsOf(keep)})
}

// find finds the connection named by the {id} path value (without a
// ".pcapng" suffix) among those r may see: a connection id, the hex client
// random of its TLS handshake, or its MQTT client id.
func (t *traceAPI) find(w http.ResponseWriter, r *http.Request) (broker.ConnInfo, bool) {
	id := strings.TrimSuffix(r.PathValue("id"), ".pcapng")
	keep, _, ok := t.keep(w, r)
	if !ok {
		return broker.ConnInfo{}, false
	}
	info, ok := t.b.FindOf(id, keep)
	if !ok {
		http.Error(w, fmt.Sprintf("trace: no recent connection %q (GET /trace lists them)", id), http.StatusNotFound)
	}
	return info, ok
}

// lookup finds the connection named by the {id} path value (see find) and
// its recording, which keeps the key log only for the instructor.
func (t *traceAPI) lookup(w http.ResponseWriter, r *http.Request) (broker.ConnInfo, trace.Recording, bool) {
	info, ok := t.find(w, r)
	if !ok {
		return info, trace.Recording{}, false
	}
	rec, ok := t.b.Recording(info.ID)
	if !ok {
		http.Error(w, fmt.Sprintf("trace: connection %s was not recorded (recording is off: --trace-limit)", info.ID), http.StatusNotFound)
		return info, rec, false
	}
	if rec.KeyLog != "" && t.boss.check(r) != nil {
		rec.KeyLog = ""
		w.Header().Set("X-Trace-Secrets", "withheld: the TLS secrets go to the instructor only; your own client has its own")
	}
	return info, rec, true
}

// conn serves /trace/{id} as JSON events, and /trace/{id}.pcapng as a
// capture (with the connection's TLS secrets embedded for the instructor,
// so that Wireshark opens it decrypted).
func (t *traceAPI) conn(w http.ResponseWriter, r *http.Request) {
	if strings.HasSuffix(r.PathValue("id"), ".pcapng") {
		info, rec, ok := t.lookup(w, r)
		if !ok {
			return
		}
		var buf bytes.Buffer
		if err := pcapng.Write(&buf, rec); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/vnd.tcpdump.pcap")
		w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="%s-broker.pcapng"`, info.ID))
		w.Write(buf.Bytes())
		return
	}
	info, ok := t.find(w, r)
	if !ok {
		return
	}
	events, ok := t.decodes.events(info.ID, 0)
	if !ok {
		http.Error(w, fmt.Sprintf("trace: connection %s was not recorded (recording is off: --trace-limit)", info.ID), http.StatusNotFound)
		return
	}
	writeJSON(w, broker.ConnTrace{Connection: info, Events: events})
}

func (t *traceAPI) recording(w http.ResponseWriter, r *http.Request) {
	info, rec, ok := t.lookup(w, r)
	if !ok {
		return
	}
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="%s-broker.json"`, info.ID))
	writeJSON(w, rec)
}

// streamQuery is what GET /trace/stream takes: ?conn=ID (a connection id,
// client random or client id) and ?after=SEQ (events already seen).
type streamQuery struct {
	conn  string
	after int
}

// maxConnKey bounds ?conn: an id, a hex client random or a client id.
const maxConnKey = 256

func parseStreamQuery(q url.Values) (streamQuery, error) {
	var sq streamQuery
	for k, v := range q {
		if len(v) > 1 {
			return sq, fmt.Errorf("trace: ?%s given %d times; give it once", k, len(v))
		}
	}
	sq.conn = q.Get("conn")
	if len(sq.conn) > maxConnKey {
		return sq, fmt.Errorf("trace: ?conn is %d bytes long; a connection id, client random or client id is at most %d", len(sq.conn), maxConnKey)
	}
	if s := q.Get("after"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 || n > math.MaxInt32 {
			return sq, fmt.Errorf("trace: ?after=%q is not a number of events (0 or more)", s)
		}
		sq.after = n
	}
	return sq, nil
}

// stream sends server-sent events: "connections" with the list whenever it
// changes, and, with ?conn=ID, "events" with that connection's new events
// (those after ?after=SEQ, default 0). Every viewer of a connection shares
// one decoding of it (see decodes).
func (t *traceAPI) stream(w http.ResponseWriter, r *http.Request) {
	sq, err := parseStreamQuery(r.URL.Query())
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	keep, viewer, ok := t.keep(w, r)
	if !ok {
		return
	}
	key, hint := viewer, "each attendee may watch up to --attendee-conns streams"
	if key == "" {
		key, hint = clientKey(r.RemoteAddr).String(), "each address may watch up to --max-conns-per-addr streams"
	}
	done, err := t.viewers.acquire(key, viewer != "")
	if err != nil {
		if t.viewers.warn.allow(key) {
			t.log.Warn("refusing trace streams", "from", clientIP(r), "viewer", key, "err", err, "hint", hint)
		}
		w.Header().Set("Retry-After", "10")
		http.Error(w, err.Error(), http.StatusTooManyRequests)
		return
	}
	defer done()
	// Someone is watching: the broker records new connections in full.
	stop := t.b.Watch()
	defer stop()
	after := sq.after
	ctx, cancel := context.WithTimeout(r.Context(), 30*time.Minute)
	defer cancel()
	sse(w, r, func(send func(string, any) bool) {
		last := "\x00" // no list sent yet: the first one always goes out
		var seen uint64
		var id string // the watched connection's, once found
		tick := time.NewTicker(t.every)
		defer tick.Stop()
		for first := true; ; first = false {
			// The list is read again only when something changed.
			if n := t.b.Changes(); first || n != seen {
				seen = n
				conns := t.b.ConnsOf(keep)
				if sig := connsSignature(conns); sig != last {
					last = sig
					if !send("connections", broker.ConnList{Connections: conns}) {
						return
					}
				}
			}
			if sq.conn != "" {
				// The connection is looked up (a walk over every recent one)
				// until found, and again only when there is news to send.
				if id == "" {
					if info, ok := t.b.FindOf(sq.conn, keep); ok {
						id = info.ID
					}
				}
				if id != "" {
					if events, ok := t.decodes.events(id, t.every); ok && len(events) > after {
						if info, ok := t.b.FindOf(id, keep); ok {
							if !send("events", broker.ConnTrace{Connection: info, Events: events[after:]}) {
								return
							}
							after = len(events)
						}
					}
				}
			}
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
		}
	})
}

// streamWriteTimeout bounds one write of a stream: a viewer that stops
// reading is let go.
const streamWriteTimeout = 30 * time.Second

// connsSignature changes whenever a connection starts, ends or learns its
// client id.
func connsSignature(conns []broker.ConnInfo) string {
	var b strings.Builder
	for _, c := range conns {
		fmt.Fprintf(&b, "%s|%s|%t|%s;", c.ID, c.ClientID, c.Ended.IsZero(), c.Err)
	}
	return b.String()
}

// decodes shares the decoding of a connection's recording among all who
// look at it (every stream viewer, GET /trace/{id}): the recording is read
// at most once per interval a caller allows, and decoded again only when
// something new was recorded, and then only what is new (trace.Decoder):
// a long-lived connection costs the same per message late in its life as
// early. It remembers a bounded number of connections, the least recently
// looked at forgotten first.
type decodes struct {
	b       *broker.Broker
	mu      sync.Mutex
	entries *lru[string, *decoded]
	// held is the size of the recordings whose decodings are kept (their
	// chunks' bytes, a measure of the events' memory, and the decoders'
	// copies of them), budget its most: past it the least recently looked
	// at are forgotten, however few.
	held, budget int64
	count        atomic.Int64 // decodings (updates) done, for tests
	now          func() time.Time
}

// decoded is one connection's latest decoding.
type decoded struct {
	mu      sync.Mutex
	checked time.Time // when the recording was last read
	chunks  int       // its number of chunks then
	dropped int64     // and of bytes dropped
	size    int64     // its bytes and dec.Held() (guarded by decodes.mu)
	dec     trace.Decoder
	events  []trace.Event
}

func newDecodes(b *broker.Broker, size int) *decodes {
	d := &decodes{b: b, entries: newLRU[string, *decoded](size), now: time.Now, budget: decodeBudget}
	d.entries.evicted = func(_ string, e *decoded) { d.held -= e.size }
	return d
}

// decodeBudget bounds the recordings whose decodings are kept at once, in
// bytes: a class of 300 watching their own connections holds a few MiB;
// viewers of many busy connections cannot make the cache hold gigabytes.
const decodeBudget = 64 << 20

// events returns the decoded events of connection id, read from a
// recording at most maxAge old; false when the broker has no recording of
// it. The slice is shared: callers must not change it.
func (d *decodes) events(id string, maxAge time.Duration) ([]trace.Event, bool) {
	d.mu.Lock()
	e, ok := d.entries.get(id)
	if !ok {
		e = &decoded{chunks: -1, dropped: -1}
		d.entries.add(id, e)
	}
	d.mu.Unlock()
	e.mu.Lock()
	defer e.mu.Unlock()
	now := d.now()
	if e.events != nil && maxAge > 0 && now.Sub(e.checked) < maxAge {
		return e.events, true
	}
	rec, ok := d.b.Recording(id)
	if !ok {
		return nil, false
	}
	e.checked = now
	if len(rec.Chunks) != e.chunks || rec.Dropped != e.dropped || e.events == nil {
		e.chunks, e.dropped = len(rec.Chunks), rec.Dropped
		e.events = e.dec.Update(rec)
		d.count.Add(1)
		size := e.dec.Held() // the decoder's copies of the bytes
		for _, c := range rec.Chunks {
			size += int64(len(c.Data))
		}
		d.mu.Lock()
		if cur, ok := d.entries.get(id); ok && cur == e {
			d.held += size - e.size
		}
		e.size = size
		for d.held > d.budget && d.entries.len() > 0 {
			d.entries.removeOldest()
		}
		d.mu.Unlock()
	}
	return e.events, true
}

// viewerLimit counts open trace streams, in all and per viewer: an
// address (one IPv6 /64), or in a class an attendee.
type viewerLimit struct {
	total, perAddr int // 0: no limit
	perAttendee    int // 0: no limit
	warn           *logEvery

	mu     sync.Mutex
	open   int
	byAddr map[string]int
}

func newViewerLimit(total, perAddr int) *viewerLimit {
	return &viewerLimit{total: total, perAddr: perAddr, warn: newLogEvery(time.Minute), byAddr: map[string]int{}}
}

// acquire counts a new stream of a viewer (attendee: an attendee id, else
// an address), or says why not; done ends it.
func (l *viewerLimit) acquire(key string, attendee bool) (done func(), err error) {
	if l == nil {
		return func() {}, nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	switch {
	case l.total > 0 && l.open >= l.total:
		return nil, fmt.Errorf("trace: %d streams are open, the most this server allows; try again later", l.open)
	case attendee && l.perAttendee > 0 && l.byAddr[key] >= l.perAttendee:
		return nil, fmt.Errorf("trace: attendee %s has %d streams open, the most one attendee may (--attendee-conns); close a tab", key, l.byAddr[key])
	case !attendee && l.perAddr > 0 && l.byAddr[key] >= l.perAddr:
		return nil, fmt.Errorf("trace: this address has %d streams open, the most one address may (--max-conns-per-addr); close one", l.byAddr[key])
	}
	l.open++
	l.byAddr[key]++
	var once sync.Once
	return func() {
		once.Do(func() {
			l.mu.Lock()
			defer l.mu.Unlock()
			l.open--
			if l.byAddr[key]--; l.byAddr[key] <= 0 {
				delete(l.byAddr, key)
			}
		})
	}, nil
}
