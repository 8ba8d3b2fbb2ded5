package tlswire

import (
	"testing"
)

// FuzzSplitRecords checks that SplitRecords cuts any bytes into records
// that follow each other from the start, each a well-formed header and its
// body, and that their header fields stay within their bytes.
func FuzzSplitRecords(f *testing.F) {
	f.Add([]byte{22, 3, 1, 0, 4, 1, 0, 0, 0, 21, 3, 3, 0, 2, 2, 48})
	f.Add([]byte{23, 3, 3, 0xff, 0xff})
	f.Add([]byte("GET / HTTP/1.1\r\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		recs, rest, err := SplitRecords(b)
		off := 0
		for i, r := range recs {
			n, ok := BodyLen(r.Wire)
			if !ok || len(r.Wire) != HeaderLen+n || r.End != off+len(r.Wire) || &b[off] != &r.Wire[0] {
				t.Fatalf("record %d at %d: %d bytes, end %d", i, off, len(r.Wire), r.End)
			}
			for _, tls13 := range []bool{false, true} {
				for _, fl := range RecordHeaderFields(r, tls13, tls13) {
					if fl.Start < 0 || fl.End > len(r.Wire) || fl.Start >= fl.End {
						t.Fatalf("record %d: field %s [%d, %d)", i, fl.Name, fl.Start, fl.End)
					}
				}
			}
			off = r.End
		}
		switch {
		case err != nil && (rest != 0 || len(b)-off < HeaderLen):
			t.Fatalf("error %v with %d bytes left, rest %d", err, len(b)-off, rest)
		case err == nil && rest != len(b)-off:
			t.Fatalf("rest %d, want the %d bytes after the last record", rest, len(b)-off)
		}
	})
}
