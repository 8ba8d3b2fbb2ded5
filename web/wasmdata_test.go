package web

import (
	"bytes"
	"slices"
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

// memoryImage reads the data section of m, and then PackedDataSection as a
// loader would, into the bytes each address starts with (the non-zero
// ones), and also returns the number of segments in the data section and
// in PackedDataSection.
func memoryImage(t *testing.T, m []byte) (mem map[int]byte, segments, packed int) {
	t.Helper()
	mem = map[int]byte{}
	write := func(addr int, data []byte) {
		for i, c := range data {
			if c != 0 {
				mem[addr+i] = c
			} else {
				delete(mem, addr+i)
			}
		}
	}
	r := &wasmbin.Reader{B: m, Off: 8, Prefix: "web: wasm"}
	var pack []byte
	data := false
	for r.Off < len(m) {
		id := r.Bytes(1)
		body := r.Bytes(r.U32())
		if r.Err != nil {
			break // what follows a data section compactData read (fuzzed input)
		}
		switch id[0] {
		case 0:
			s := &wasmbin.Reader{B: body}
			if string(s.Bytes(s.U32())) == PackedDataSection && s.Err == nil {
				pack = body[s.Off:]
			}
		case 11:
			if data {
				continue // a module has one; compactData reads the first
			}
			data = true
			s := &wasmbin.Reader{B: body, Prefix: "web: wasm"}
			segments = s.U32()
			for range segments {
				s.U32()
				s.Bytes(1)
				addr := int(uint32(s.S32()))
				s.Bytes(1)
				write(addr, s.Bytes(s.U32()))
			}
			if s.Err != nil {
				t.Fatal(s.Err)
			}
		}
	}
	if pack != nil {
		s := &wasmbin.Reader{B: pack, Prefix: PackedDataSection}
		at := 0
		for range s.U32() {
			gap, size, n := s.U32(), s.U32(), s.U32()
			for range n {
				at += gap
				write(at, s.Bytes(size))
				at += size
			}
			packed += n
		}
		if s.Err != nil || s.Off != len(pack) {
			t.Fatalf("%s: %v, %d of %d bytes read", PackedDataSection, s.Err, s.Off, len(pack))
		}
	}
	return mem, segments, packed
}

// sameMemory fails t when the two images differ.
func sameMemory(t *testing.T, before, after map[int]byte) {
	t.Helper()
	if len(before) != len(after) {
		t.Errorf("memory holds %d non-zero bytes after, %d before", len(after), len(before))
	}
	for a, c := range before {
		if after[a] != c {
			t.Errorf("memory at %d is %#x after, %#x before", a, after[a], c)
		}
	}
}

func TestCompactData(t *testing.T) {
	gap := make([]byte, joinGap)
	long := func(s string) []byte { return []byte(strings.Repeat(s, packMax+1)) } // too long to pack
	tests := []struct {
		name             string
		segs             []segment
		segments, packed int // after
	}{
		{"neighbours joined", []segment{{16, long("a")}, {16 + packMax + 1 + 3, long("c")}, {16 + 2*(packMax+1) + 3, long("d")}}, 1, 0},
		{"a gap of joinGap joined", []segment{{0, long("a")}, {packMax + 1 + joinGap, long("b")}}, 1, 0},
		{"a longer gap kept", []segment{{0, long("a")}, {packMax + 2 + joinGap, long("b")}, {2*(packMax+1) + 1 + joinGap, long("c")}}, 2, 0},
		{"zeros inside kept", []segment{{8, append([]byte("x"), append(gap, 'y')...)}, {8 + joinGap + 2 + 5, long("z")}}, 1, 0},
		{"high addresses (negative i32 offsets)", []segment{{-(1 << 20), long("a")}, {-(1 << 20) + 9 + packMax, long("b")}}, 1, 0},
		{"small ones packed", []segment{{4, []byte("a")}, {24, []byte("bcdefghi")}, {100, long("j")}, {120, []byte("k")}}, 1, 3},
		{"a table of small ones packed", table(1000), 0, 1000},
		{"out of order: taken in order of address", []segment{{300, long("a")}, {100, []byte("b")}, {10, long("c")}, {10 + packMax + 1, long("d")}}, 1, 1},
		{"a joined run over a segment written before it", []segment{{40, []byte("b")}, {0, long("a")}, {80, long("c")}}, 1, 1},
		{"small ones at high addresses packed", []segment{{-(1 << 20), []byte("a")}, {-20, []byte("bc")}, {-2, []byte("de")}}, 0, 3},
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
			memIn, _, _ := memoryImage(t, in)
			memOut, n, p := memoryImage(t, out)
			if n != tt.segments || p != tt.packed {
				t.Errorf("%d segments and %d packed after, want %d and %d", n, p, tt.segments, tt.packed)
			}
			sameMemory(t, memIn, memOut)
			rest := out[len(testModule(code)):]
			if !bytes.HasPrefix(out, testModule(code)) || !bytes.Contains(rest, custom) {
				t.Errorf("the other sections changed:\n% x\n% x", in, out)
			}
		})
	}
}

// table is n segments of 4 bytes each 20 bytes apart: runtime.findfunctab
// as Go's linker writes it.
func table(n int) []segment {
	segs := make([]segment, n)
	for i := range segs {
		segs[i] = segment{1<<16 + 20*i, []byte{byte(i / 16), 1, 0, 0}}
	}
	return segs
}

func TestCompactDataUnchanged(t *testing.T) {
	one := activeSegments(segment{0, []byte("a")}, segment{2, []byte("b")})
	passive := append(wasmbin.AppendU32(nil, 2), append([]byte{1, 1, 'a'}, one[1:]...)...) // a passive segment, then two active
	tests := []struct {
		name string
		m    []byte
	}{
		{"no data section", testModule()},
		{"nothing to join or pack", testModule(section(11, activeSegments(segment{0, []byte("abcdefghi")}, segment{5000, []byte("jklmnopqr")})))},
		{"a data count section", testModule(section(12, []byte{2}), section(11, one))},
		{"a passive segment", testModule(section(11, passive))},
		// A start function runs at instantiation, before the page writes
		// the packed segments: it would see them missing.
		{"a start function", testModule(section(3, []byte{1, 0}), section(8, []byte{0}), section(10, []byte{1, 2, 0, 0x0b}),
			section(11, activeSegments(segment{0, []byte("a")}, segment{2, []byte("b")})))},
		// Joining writes zeros, packing writes last: either would change
		// what the overlapped bytes end as.
		{"overlapping segments", testModule(section(11, activeSegments(segment{10, []byte("abcd")}, segment{12, []byte("x")}, segment{40, []byte("y")})))},
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
		memIn, _, _ := memoryImage(t, m)
		memOut, _, _ := memoryImage(t, out)
		sameMemory(t, memIn, memOut)
	})
}

// TestPackRuns: a table like findfunctab is one run after its first
// segment (which is its distance from address 0), 4 bytes a segment.
func TestPackRuns(t *testing.T) {
	b := packRuns(table(1000))
	r := &wasmbin.Reader{B: b}
	type run struct{ gap, size, n int }
	var got []run
	for range r.U32() {
		got = append(got, run{r.U32(), r.U32(), r.U32()})
		r.Off += got[len(got)-1].size * got[len(got)-1].n
	}
	if want := []run{{1 << 16, 4, 1}, {16, 4, 999}}; !slices.Equal(got, want) || r.Err != nil || r.Off != len(b) {
		t.Errorf("packed as %v (%v, %d of %d bytes read), want %v", got, r.Err, r.Off, len(b), want)
	}
}
