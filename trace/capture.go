package trace

import (
	"encoding/hex"
	"sort"
)

// WithPlaintext gives a recording of the wire alone (a capture made with
// tcpdump or Wireshark) the application side the taps record beside it:
// each TLS record whose application data the key log decrypts becomes an
// App chunk, at the time and in the direction of that record, so that
// Decode shows the MQTT packets it carried. A recording that has App
// chunks already, or whose records nothing decrypts, comes back as it is.
func WithPlaintext(rec Recording) Recording {
	for _, c := range rec.Chunks {
		if c.App {
			return rec
		}
	}
	var app []Chunk
	for _, e := range Decode(rec) {
		if e.Layer != LayerTLS || e.Type != "ApplicationData" || !e.Encrypted || e.Error != "" || e.Plain == "" {
			continue
		}
		plain, err := hex.DecodeString(e.Plain)
		if err != nil {
			continue
		}
		for _, f := range e.Fields {
			if f.Name == "application_data" && f.In == "plain" && 0 <= f.Start && f.Start <= f.End && f.End <= len(plain) {
				app = append(app, Chunk{Time: e.Time, Dir: e.Dir, App: true, Data: plain[f.Start:f.End]})
			}
		}
	}
	if len(app) == 0 {
		return rec
	}
	// Each App chunk goes beside the wire chunk that completed its record
	// (an event's time is that chunk's), where a tap records it: what the
	// recording side sends, before (written, then encrypted); what it
	// receives, after (decrypted, then read).
	rank := func(c Chunk) int {
		switch {
		case !c.App:
			return 1
		case c.Dir == Send:
			return 0
		}
		return 2
	}
	chunks := append(append(make([]Chunk, 0, len(rec.Chunks)+len(app)), rec.Chunks...), app...)
	sort.SliceStable(chunks, func(i, j int) bool {
		if !chunks[i].Time.Equal(chunks[j].Time) {
			return chunks[i].Time.Before(chunks[j].Time)
		}
		return rank(chunks[i]) < rank(chunks[j])
	})
	rec.Chunks = chunks
	return rec
}
