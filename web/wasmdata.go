package web

import (
	"cmp"
	"errors"
	"fmt"
	"slices"

	"github.com/mqtts-playground/playground/internal/wasmbin"
)

// Go's wasm linker writes the initial memory as one data segment per run of
// bytes between zeros (skipping any run of zeros longer than a segment
// header), so a sparse table becomes tens of thousands of tiny segments. The
// largest is runtime.findfunctab, the table that maps a program counter to
// its function: 20 bytes per 4 KB of the address space of code, mostly
// zeros, and since a wasm program counter is the function's index shifted
// left by 16 bits, about 80,000 buckets for the client. Each header (mode,
// offset expression, length) is different, so the compressors cannot fold
// them: about 80 KB of the client's brotli form.
//
// compactData rewrites the data section with neighbouring segments joined
// when fewer than joinGap zero bytes lie between them, the zeros written
// out. Memory starts zeroed (WebAssembly Core Specification §4.5.3.9), so
// the initial memory is byte for byte the same; only the encoding changes.
//
// Joined, findfunctab's buckets wrote out about a megabyte of zeros (4
// bytes of a bucket, 16 zeros, over and over), and a browser pays for
// every byte of the module it is given, compressed on the wire or not: it
// hands the decompressed module to the engine, which reads and validates
// it all before the page's script may run it (in headless Chromium on 2
// cores about 23 ms a megabyte, measured with the client's forms:
// compiling and instantiating the 8.6 MB module without its small segments
// took 150 ms, the 10.5 MB one with them joined 200 ms). So segments of at
// most packMax bytes leave the data section for a custom section,
// PackedDataSection, where each is its distance from the end of the one
// before, its length and its bytes: a few bytes each, in a pattern the
// compressors fold. The page writes them into the memory after
// instantiating the module and before running it (unpackData in
// web/src/wasmdata.ts); the rest are joined as above.

// joinGap is the longest run of zeros written out to join two segments.
const joinGap = 1024

// packMax is the longest segment moved to PackedDataSection.
const packMax = 8

// PackedDataSection is the name of the custom section holding the data
// segments compactData moved out of the data section, in order of address,
// as runs of segments of one length each the same number of bytes after the
// end of the one before (the first after address 0): the number of runs,
// then for each its distance, the segments' length, their number (unsigned
// LEB128 each) and their bytes one after the other. A loader writes them
// into the instance's memory before it runs the module.
const PackedDataSection = "mqtts.data"

// compactData returns module with its data segments joined (see above), or
// module itself when it has nothing to join or uses what this does not
// rewrite: passive or multi-memory segments, offsets that are not constants,
// a data count section, or a start function (it runs while the module is
// instantiated, before a loader could write PackedDataSection).
func compactData(module []byte) ([]byte, error) {
	r := &wasmbin.Reader{B: module, Prefix: "web: wasm"}
	if len(module) < 8 || string(module[:4]) != "\x00asm" {
		return nil, errors.New("web: wasm: not a WebAssembly module")
	}
	r.Off = 8
	var out, packed []byte // the module as rewritten up to r.Off, once the data section is
	for r.Off < len(module) {
		start := r.Off
		id := r.B[r.Off]
		r.Off++
		n := r.U32()
		body := r.Bytes(n)
		if r.Err != nil {
			return nil, r.Err
		}
		switch {
		case id == 12: // data count: segments are counted elsewhere too
			return module, nil
		case id == 8: // start: would run before the packed segments are written
			return module, nil
		case id == 11 && out == nil:
			data, p, ok, err := joinSegments(body)
			if err != nil || !ok {
				return module, err
			}
			out = append([]byte(nil), module[:start]...)
			out = append(out, 11)
			out = wasmbin.AppendU32(out, len(data))
			out = append(out, data...)
			packed = p
		case out != nil:
			out = append(out, module[start:r.Off]...)
		}
	}
	if out == nil {
		return module, nil
	}
	return appendPacked(out, packed), nil
}

// appendPacked appends PackedDataSection holding packed (nothing if nil).
func appendPacked(out, packed []byte) []byte {
	if packed == nil {
		return out
	}
	name := wasmbin.AppendU32(nil, len(PackedDataSection))
	name = append(name, PackedDataSection...)
	out = append(out, 0)
	out = wasmbin.AppendU32(out, len(name)+len(packed))
	return append(append(out, name...), packed...)
}

type segment struct {
	addr int
	data []byte
}

// joinSegments rewrites the body of a data section (§5.5.14): the segments
// of at most packMax bytes move to packed (the body of PackedDataSection
// after its name; nil when none moves), the others are joined. ok is false
// when the section holds a segment that is not active in memory 0 at a
// constant offset, overlapping segments, or nothing to change.
func joinSegments(body []byte) (out, packed []byte, ok bool, err error) {
	r := &wasmbin.Reader{B: body, Prefix: "web: wasm"}
	count := r.U32()
	var all []segment
	for i := 0; i < count && r.Err == nil; i++ {
		if mode := r.U32(); mode != 0 {
			return nil, nil, false, nil
		}
		if op := r.Bytes(1); r.Err != nil || op[0] != 0x41 { // i32.const
			return nil, nil, false, r.Err
		}
		addr := r.S32()
		if end := r.Bytes(1); r.Err != nil || end[0] != 0x0b {
			return nil, nil, false, r.Err
		}
		data := r.Bytes(r.U32())
		if r.Err == nil {
			all = append(all, segment{addr, data})
		}
	}
	if r.Err == nil && r.Off != len(body) {
		r.Err = fmt.Errorf("web: wasm: %d bytes after the last data segment", len(body)-r.Off)
	}
	if r.Err != nil {
		return nil, nil, false, r.Err
	}
	// Segments are written in order, a later one over an earlier one; the
	// packed ones are written last and joining writes zeros between two, so
	// nothing changes when two segments overlap. When none do (as Go's
	// linker writes them), the order they are written in does not matter:
	// they are taken in order of address (an i32 offset is an unsigned
	// address, §4.5.3.9), as the joining and the packed form need.
	slices.SortStableFunc(all, func(a, b segment) int { return cmp.Compare(uint32(a.addr), uint32(b.addr)) })
	for i, end := 0, uint64(0); i < len(all); i++ {
		a := uint64(uint32(all[i].addr))
		if a < end {
			return nil, nil, false, nil
		}
		end = a + uint64(len(all[i].data))
	}
	var segs, small []segment
	for _, s := range all {
		if len(s.data) <= packMax {
			small = append(small, s)
			continue
		}
		if n := len(segs); n > 0 {
			last := &segs[n-1]
			if gap := s.addr - (last.addr + len(last.data)); gap >= 0 && gap <= joinGap {
				last.data = append(append(last.data, make([]byte, gap)...), s.data...)
				continue
			}
		}
		segs = append(segs, segment{s.addr, append([]byte(nil), s.data...)})
	}
	if len(segs) == count {
		return nil, nil, false, nil
	}
	return activeSegments(segs...), packRuns(small), true, nil
}

// packRuns encodes segs (in order of address, not overlapping) as the body
// of PackedDataSection after its name; nil for none.
func packRuns(segs []segment) []byte {
	if len(segs) == 0 {
		return nil
	}
	type run struct{ gap, size, n int }
	var runs []run
	end := uint32(0) // of the segment before
	for _, s := range segs {
		gap := int(uint32(s.addr) - end)
		end = uint32(s.addr) + uint32(len(s.data))
		if n := len(runs); n > 0 && runs[n-1].gap == gap && runs[n-1].size == len(s.data) {
			runs[n-1].n++
			continue
		}
		runs = append(runs, run{gap, len(s.data), 1})
	}
	b := wasmbin.AppendU32(nil, len(runs))
	i := 0
	for _, r := range runs {
		b = wasmbin.AppendU32(wasmbin.AppendU32(wasmbin.AppendU32(b, r.gap), r.size), r.n)
		for _, s := range segs[i : i+r.n] {
			b = append(b, s.data...)
		}
		i += r.n
	}
	return b
}

// activeSegments encodes the body of a data section holding segs, each
// active in memory 0 at its address (mode 0, an i32.const offset).
func activeSegments(segs ...segment) []byte {
	b := wasmbin.AppendU32(nil, len(segs))
	for _, s := range segs {
		b = append(b, 0, 0x41)
		b = wasmbin.AppendS32(b, s.addr)
		b = append(b, 0x0b)
		b = wasmbin.AppendU32(b, len(s.data))
		b = append(b, s.data...)
	}
	return b
}
