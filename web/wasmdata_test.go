package web

import (
	"bytes"
	"strings"
	"testing"

	"github.com/mqtts-playground/playground/internal/wasmbin"
)

// testModule is a wasm module: header, a type section with one empty
// function type, then extra sections as given.
func testModule(sections ...[]byte) []byte {
	m := []byte("\x00asm\x01\x00\x00\x00")
	m = append(m, 1, 4, 1, 0x60, 0, 0) // type section: (func)
	for _, s := range sections {
		m = append(m, s...)
	}
	return m
}

// section encodes a section with its id and length.
func section(id byte, body []byte) []byte {
	return append(wasmbin.AppendU32([]byte{id}, len(body)), body...)
}

// memoryImage reads the data section of m into the bytes each address
// starts with, and also returns the number of segments.
func memoryImage(t *testing.T, m []byte) (map[int]byte, int) {
	t.Helper()
	r := &wasmbin.Reader{B: m, Off: 8, Prefix: "web: wasm"}
	for r.Off < len(m) {
		id := r.Bytes(1)
		body := r.Bytes(r.U32())
		if r.Err != nil {
			t.Fatal(r.Err)
		}
		if id[0] != 11 {
			continue
		}
		s := &wasmbin.Reader{B: body, Prefix: "web: wasm"}
		n := s.U32()
		mem := map[int]byte{}
		for range n {
			s.U32()
			s.Bytes(1)
			addr := s.S32()
			s.Bytes(1)
			for i, c := range s.Bytes(s.U32()) {
				if c != 0 {
					mem[addr+i] = c
				}
			}
		}
		if s.Err != nil {
			t.Fatal(s.Err)
		}
		return mem, n
	}
	return nil, 0
}

func TestCompactData(t *testing.T) {
	gap := make([]byte, joinGap)
	tests := []struct {
		name     string
		segs     []segment
		segments int // after
	}{
		{"neighbours joined", []segment{{16, []byte("ab")}, {20, []byte("c")}, {21, []byte("d")}}, 1},
		{"a gap of joinGap joined", []segment{{0, []byte("a")}, {1 + joinGap, []byte("b")}}, 1},
		{"a longer gap kept", []segment{{0, []byte("a")}, {2 + joinGap, []byte("b")}, {3 + joinGap, []byte("c")}}, 2},
		{"zeros inside kept", []segment{{8, append([]byte("x"), append(gap, 'y')...)}, {8 + joinGap + 2 + 5, []byte("z")}}, 1},
		{"high addresses (negative i32 offsets)", []segment{{-(1 << 20), []byte("a")}, {-(1 << 20) + 9, []byte("b")}}, 1},
		{"overlap not joined", []segment{{10, []byte("abcd")}, {12, []byte("x")}}, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code := section(10, []byte{0}) // an empty code section before, a custom one after
			custom := section(0, []byte("\x04name"))
			in := testModule(code, section(11, activeSegments(tt.segs...)), custom)
			out, err := compactData(in)
			if err != nil {
				t.Fatal(err)
			}
			memIn, _ := memoryImage(t, in)
			memOut, n := memoryImage(t, out)
			if n != tt.segments {
				t.Errorf("%d segments after, want %d", n, tt.segments)
			}
			if len(memIn) != len(memOut) {
				t.Errorf("memory holds %d non-zero bytes after, %d before", len(memOut), len(memIn))
			}
			for a, c := range memIn {
				if memOut[a] != c {
					t.Errorf("memory at %d is %#x after, %#x before", a, memOut[a], c)
				}
			}
			if !bytes.HasPrefix(out, testModule(code)) || !bytes.HasSuffix(out, custom) {
				t.Errorf("the other sections changed:\n% x\n% x", in, out)
			}
		})
	}
}

func TestCompactDataUnchanged(t *testing.T) {
	one := activeSegments(segment{0, []byte("a")}, segment{2, []byte("b")})
	passive := append(wasmbin.AppendU32(nil, 2), append([]byte{1, 1, 'a'}, one[1:]...)...) // a passive segment, then two active
	tests := []struct {
		name string
		m    []byte
	}{
		{"no data section", testModule()},
		{"nothing to join", testModule(section(11, activeSegments(segment{0, []byte("a")}, segment{5000, []byte("b")})))},
		{"a data count section", testModule(section(12, []byte{2}), section(11, one))},
		{"a passive segment", testModule(section(11, passive))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := compactData(tt.m)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(out, tt.m) {
				t.Errorf("changed:\n% x\n% x", tt.m, out)
			}
		})
	}
}

func TestCompactDataErrors(t *testing.T) {
	good := activeSegments(segment{0, []byte("ab")}, segment{3, []byte("c")})
	tests := []struct {
		name, want string
		m          []byte
	}{
		{"not wasm", "not a WebAssembly module", []byte("\x7fELF\x02\x01\x01\x00")},
		{"section past the end", "bytes wanted", testModule([]byte{11, 100, 1})},
		{"segment past the end", "bytes wanted", testModule(section(11, good[:len(good)-1]))},
		{"bytes after the segments", "after the last data segment", testModule(section(11, append(good, 0)))},
		{"an offset longer than 5 bytes", "longer than 5 bytes", testModule(section(11, []byte{1, 0, 0x41, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x0b, 0}))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := compactData(tt.m)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("compactData = %v, want an error with %q", err, tt.want)
			}
		})
	}
}

// FuzzCompactData: any bytes give an error or a module whose memory image
// is the input's.
func FuzzCompactData(f *testing.F) {
	f.Add(testModule(section(11, activeSegments(segment{0, []byte("ab")}, segment{3, []byte("c")}))))
	f.Add(testModule(section(11, activeSegments(segment{-5, []byte("ab")}, segment{100, []byte("c")}))))
	f.Fuzz(func(t *testing.T, m []byte) {
		out, err := compactData(m)
		if err != nil || bytes.Equal(out, m) {
			return
		}
		memIn, _ := memoryImage(t, m)
		memOut, _ := memoryImage(t, out)
		if len(memIn) != len(memOut) {
			t.Fatalf("memory holds %d non-zero bytes after, %d before", len(memOut), len(memIn))
		}
		for a, c := range memIn {
			if memOut[a] != c {
				t.Fatalf("memory at %d is %#x after, %#x before", a, memOut[a], c)
			}
		}
	})
}
