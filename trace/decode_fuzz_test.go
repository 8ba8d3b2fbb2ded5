package trace

import (
	"encoding/json"
	"testing"
)

// FuzzDecode feeds arbitrary byte streams, split into the two directions of
// a connection, to the whole decoder: it must never panic, and every field
// must stay within its event's bytes.
func FuzzDecode(f *testing.F) {
	f.Add([]byte{22, 3, 1, 0, 4, 1, 0, 0, 0}, []byte{21, 3, 3, 0, 2, 2, 48}, false)
	f.Add(connectPkt, connackPkt, true)
	f.Add([]byte{22, 3, 1, 0, 0}, []byte{23, 3, 3, 0, 20, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20}, false)
	f.Fuzz(func(t *testing.T, fromClient, fromServer []byte, app bool) {
		rec := Recording{Side: Client, Chunks: []Chunk{
			{Dir: Send, App: app, Data: fromClient},
			{Dir: Recv, App: app, Data: fromServer},
		}}
		events := Decode(rec)
		for _, e := range events {
			if err := checkRanges(e); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := json.Marshal(events); err != nil {
			t.Fatal(err)
		}
	})
}
