package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/mqtts-playground/playground/broker"
	"github.com/mqtts-playground/playground/trace"
	"github.com/mqtts-playground/playground/trace/pcapng"
)

// traceAPI serves the broker's view of its recent connections: the list,
// each connection's decoded events and raw recording, and a stream of both
// as server-sent events.
type traceAPI struct {
	b     *broker.Broker
	every time.Duration // how often the stream looks for news
	page  http.Handler  // the broker view for browsers at GET /trace (views.go); nil: JSON only
}

func newTraceAPI(b *broker.Broker) *traceAPI { return &traceAPI{b: b, every: 500 * time.Millisecond} }

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
	writeJSON(w, ConnList{Connections: t.b.Conns()})
}

// lookup finds the connection named by the {id} path value: a connection
// id, the hex client random of its TLS handshake, or its MQTT client id.
func (t *traceAPI) lookup(w http.ResponseWriter, r *http.Request) (broker.ConnInfo, trace.Recording, bool) {
	id := strings.TrimSuffix(r.PathValue("id"), ".pcapng")
	info, ok := t.b.Find(id)
	if !ok {
		http.Error(w, fmt.Sprintf("trace: no recent connection %q (GET /trace lists them)", id), http.StatusNotFound)
		return info, trace.Recording{}, false
	}
	rec, ok := t.b.Recording(info.ID)
	if !ok {
		http.Error(w, fmt.Sprintf("trace: connection %s was not recorded (recording is off: --trace-limit)", info.ID), http.StatusNotFound)
		return info, rec, false
	}
	return info, rec, true
}

// conn serves /trace/{id} as JSON events, and /trace/{id}.pcapng as a
// capture with the connection's TLS secrets embedded, which Wireshark opens
// decrypted.
func (t *traceAPI) conn(w http.ResponseWriter, r *http.Request) {
	info, rec, ok := t.lookup(w, r)
	if !ok {
		return
	}
	if strings.HasSuffix(r.PathValue("id"), ".pcapng") {
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
	writeJSON(w, ConnTrace{Connection: info, Events: trace.Decode(rec)})
}

func (t *traceAPI) recording(w http.ResponseWriter, r *http.Request) {
	info, rec, ok := t.lookup(w, r)
	if !ok {
		return
	}
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="%s-broker.json"`, info.ID))
	writeJSON(w, rec)
}

// stream sends server-sent events: "connections" with the list whenever it
// changes, and, with ?conn=ID, "events" with that connection's new events
// (those after ?after=SEQ, default 0).
func (t *traceAPI) stream(w http.ResponseWriter, r *http.Request) {
	flusher, ok := w.(http.Flusher)
	if !ok {
		http.Error(w, "trace: streaming unsupported", http.StatusInternalServerError)
		return
	}
	// Someone is watching: the broker records new connections in full.
	stop := t.b.Watch()
	defer stop()
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	connID := r.URL.Query().Get("conn")
	after, _ := strconv.Atoi(r.URL.Query().Get("after"))
	ctx, cancel := context.WithTimeout(r.Context(), 30*time.Minute)
	defer cancel()
	send := func(event string, v any) bool {
		b, err := json.Marshal(v)
		if err != nil {
			return false
		}
		if _, err := fmt.Fprintf(w, "event: %s\ndata: %s\n\n", event, b); err != nil {
			return false
		}
		flusher.Flush()
		return true
	}
	last := "\x00" // no list sent yet: the first one always goes out
	seenChunks, seenDropped := -1, int64(-1)
	tick := time.NewTicker(t.every)
	defer tick.Stop()
	for {
		conns := t.b.Conns()
		if sig := connsSignature(conns); sig != last {
			last = sig
			if !send("connections", ConnList{Connections: conns}) {
				return
			}
		}
		if connID != "" {
			if info, ok := t.b.Find(connID); ok {
				// Decode again only when something new was recorded.
				if rec, ok := t.b.Recording(info.ID); ok && (len(rec.Chunks) != seenChunks || rec.Dropped != seenDropped) {
					seenChunks, seenDropped = len(rec.Chunks), rec.Dropped
					events := trace.Decode(rec)
					if len(events) > after {
						if !send("events", ConnTrace{Connection: info, Events: events[after:]}) {
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
}

// connsSignature changes whenever a connection starts, ends or learns its
// client id.
func connsSignature(conns []broker.ConnInfo) string {
	var b strings.Builder
	for _, c := range conns {
		fmt.Fprintf(&b, "%s|%s|%t|%s;", c.ID, c.ClientID, c.Ended.IsZero(), c.Err)
	}
	return b.String()
}
