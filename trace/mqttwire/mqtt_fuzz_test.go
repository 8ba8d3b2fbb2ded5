package mqttwire

import (
	"errors"
	"io"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/mochi-mqtt/server/v2/packets/tpackets"
)

// FuzzDecode checks that Decode never panics, keeps n and every field
// range within bounds and in order, and decodes b[:n] exactly as it decoded b.
func FuzzDecode(f *testing.F) {
	for _, cases := range [][]packetCase{validPackets, badPackets} {
		for _, c := range cases {
			f.Add(c.raw, c.version)
		}
	}
	for typ := byte(1); typ <= 15; typ++ {
		for _, c := range tpackets.TPacketData[typ] {
			if len(c.RawBytes) > 0 {
				f.Add(c.RawBytes, byte(4))
				f.Add(c.RawBytes, byte(5))
			}
		}
	}
	files, _ := filepath.Glob(filepath.Join("testdata", "*.hex"))
	for _, file := range files {
		if stream, err := readHex(file); err == nil {
			f.Add(stream, byte(0))
			f.Add(stream, byte(5))
		}
	}

	f.Fuzz(func(t *testing.T, b []byte, version byte) {
		p, n, err := Decode(b, version)
		if err != nil {
			if n != 0 || !reflect.DeepEqual(p, Packet{}) {
				t.Fatalf("error %v with n=%d and packet %+v, want 0 and a zero packet", err, n, p)
			}
			if !errors.Is(err, io.ErrUnexpectedEOF) && !strings.HasPrefix(err.Error(), "trace: mqtt: ") {
				t.Fatalf("error %q lacks the trace: mqtt: prefix", err)
			}
			return
		}
		if n < 2 || n > len(b) {
			t.Fatalf("n = %d for %d bytes", n, len(b))
		}
		if p.Type == "" || p.Summary == "" || (p.Version != 3 && p.Version != 4 && p.Version != 5) {
			t.Fatalf("incomplete packet %+v", p)
		}
		if p.Err != nil && !strings.HasPrefix(p.Err.Error(), "trace: mqtt: ") {
			t.Fatalf("p.Err %q lacks the trace: mqtt: prefix", p.Err)
		}
		checkFields(t, p, n)

		again, n2, err2 := Decode(b[:n], version)
		if err2 != nil || n2 != n || !reflect.DeepEqual(viewOf(again, n2, err2), viewOf(p, n, err)) ||
			!reflect.DeepEqual(again.Fields, p.Fields) {
			t.Fatalf("b[:n] decodes differently: n=%d err=%v", n2, err2)
		}
	})
}

// BenchmarkDecode decodes the recorded sessions of testdata, packet by
// packet.
func BenchmarkDecode(b *testing.B) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.hex"))
	var streams [][]byte
	var n int64
	for _, file := range files {
		s, err := readHex(file)
		if err != nil {
			b.Fatal(err)
		}
		streams = append(streams, s)
		n += int64(len(s))
	}
	b.SetBytes(n)
	b.ReportAllocs()
	for b.Loop() {
		for _, s := range streams {
			version := byte(0)
			for off := 0; off < len(s); {
				p, k, err := Decode(s[off:], version)
				if err != nil {
					b.Fatal(err)
				}
				if p.Type == "CONNECT" {
					version = p.Version
				}
				off += k
			}
		}
	}
}
