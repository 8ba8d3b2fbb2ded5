package tlswire

import (
	"strings"
	"testing"
)

func TestSplitRecords(t *testing.T) {
	tests := []struct {
		name    string
		in      []byte
		records int
		rest    int
		err     string
	}{
		{"empty", nil, 0, 0, ""},
		{"one alert", []byte{21, 3, 3, 0, 2, 2, 40}, 1, 0, ""},
		{"alert and a partial header", []byte{21, 3, 3, 0, 2, 2, 40, 22, 3}, 1, 2, ""},
		{"partial body", []byte{22, 3, 1, 0, 10, 1, 2, 3}, 0, 8, ""},
		{"not TLS", []byte("GET / HTTP/1.1\r\n"), 0, 0, "not a TLS record header"},
		{"too long", []byte{23, 3, 3, 0xff, 0xff}, 0, 0, "more than the 18432"},
		// type byte, version major 3, length
		{"bad version", []byte{22, 2, 0, 0, 1, 0}, 0, 0, "version 0x0200"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			recs, rest, err := SplitRecords(tt.in)
			if len(recs) != tt.records || rest != tt.rest {
				t.Errorf("got %d records, %d rest; want %d, %d", len(recs), rest, tt.records, tt.rest)
			}
			if (err == nil) != (tt.err == "") || (err != nil && !strings.Contains(err.Error(), tt.err)) {
				t.Errorf("error %v, want %q", err, tt.err)
			}
		})
	}
}
