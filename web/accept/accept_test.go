package accept

import (
	"strings"
	"testing"
)

// browserAccept is what Chromium and Firefox send when they navigate.
const browserAccept = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8"

func TestNames(t *testing.T) {
	tests := []struct {
		header string
		values []string
		want   bool
	}{
		// Accept, as GET /trace reads it.
		{"", []string{"text/html"}, false},
		{"*/*", []string{"text/html"}, false},    // fetch, curl
		{"text/*", []string{"text/html"}, false}, // a wildcard names nothing
		{"application/json", []string{"text/html"}, false},
		{"text/html", []string{"text/html"}, true},
		{browserAccept, []string{"text/html"}, true},
		{"application/xhtml+xml", []string{"text/html", "application/xhtml+xml"}, true},
		{"TEXT/HTML", []string{"text/html"}, true},
		{"text/html;q=0", []string{"text/html"}, false},
		{"text/html;q=0.0, */*", []string{"text/html"}, false},
		{"text/html;q=0.000", []string{"text/html"}, false},
		{"text/html ; Q=0", []string{"text/html"}, false},
		{"text/html;q=0.05", []string{"text/html"}, true},
		{"text/html;q=0.001", []string{"text/html"}, true},
		{"text/html;q=1.000", []string{"text/html"}, true},
		{"text/html;level=1", []string{"text/html"}, true},
		{"text/html;level=1;q=0", []string{"text/html"}, false},
		{"text/html;q=0;ext=1", []string{"text/html"}, false},
		{"text/plain, text/html;level=1", []string{"text/html"}, true},
		{"garbage;;;, text/html", []string{"text/html"}, true},
		{"application/json, text/html;q=0", []string{"text/html"}, false},
		{"text/html;q=0, text/html;level=2", []string{"text/html"}, true},
		// Not a qvalue: the element is ignored.
		{"text/html;q=abc", []string{"text/html"}, false},
		{"text/html;q=1.5", []string{"text/html"}, false},
		{"text/html;q=0.0001", []string{"text/html"}, false},
		{"text/html;q=", []string{"text/html"}, false},
		{"text/html;q=-1", []string{"text/html"}, false},
		// Not a media type.
		{"text/html/x", []string{"text/html"}, false},
		{"text /html", []string{"text/html"}, false},
		{"text/html x", []string{"text/html"}, false},

		// Accept-Encoding, as the asset server reads it.
		{"gzip, deflate, br, zstd", []string{"br"}, true},
		{"gzip, deflate", []string{"br"}, false},
		{"br;q=0, gzip", []string{"br"}, false},
		{"br;q=0.0, gzip", []string{"br"}, false}, // the old parser took this as yes
		{"br; q=0.5", []string{"br"}, true},
		{"BR", []string{"br"}, true},
		{"*", []string{"br"}, false},
		{"identity", []string{"gzip"}, false},
		{"gzip", nil, false},
	}
	for _, tt := range tests {
		if got := Names(tt.header, tt.values...); got != tt.want {
			t.Errorf("Names(%q, %q) = %v, want %v", tt.header, tt.values, got, tt.want)
		}
	}
}

func TestQvalue(t *testing.T) {
	for s, want := range map[string]int{"0": 0, "1": 1000, "0.": 0, "1.": 1000, "0.5": 500, "0.25": 250, "0.125": 125, "1.0": 1000, "1.000": 1000} {
		if got, ok := qvalue(s); !ok || got != want {
			t.Errorf("qvalue(%q) = %d, %v; want %d", s, got, ok, want)
		}
	}
	for _, s := range []string{"", "2", ".5", "0.1234", "1.001", "0,5", "0.x", "01", " 1"} {
		if got, ok := qvalue(s); ok {
			t.Errorf("qvalue(%q) = %d, want not a qvalue", s, got)
		}
	}
}

// FuzzNames checks that no header crashes the parser and that a value is
// only ever found where the header spells it.
func FuzzNames(f *testing.F) {
	for _, s := range []string{browserAccept, "gzip, deflate, br, zstd", "br;q=0, gzip", "text/html;q=0.05;ext=\"a;b\"", ";;,,=;q"} {
		f.Add(s, "text/html")
		f.Add(s, "br")
	}
	f.Fuzz(func(t *testing.T, header, value string) {
		if Names(header, value) && !strings.Contains(strings.ToLower(header), strings.ToLower(value)) {
			t.Errorf("Names(%q, %q) is true, but the header does not contain the value", header, value)
		}
	})
}
