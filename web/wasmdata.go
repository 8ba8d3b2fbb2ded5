package web

import (
	"errors"
	"fmt"
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

// joinGap is the longest run of zeros written out to join two segments.
const joinGap = 1024

// compactData returns module with its data segments joined (see above), or
// module itself when it has nothing to join or uses what this does not
// rewrite: passive or multi-memory segments, offsets that are not constants,
// or a data count section.
func compactData(module []byte) ([]byte, error) {
	r := &wasmBytes{b: module}
	if len(module) < 8 || string(module[:4]) != "\x00asm" {
		return nil, errors.New("web: wasm: not a WebAssembly module")
	}
	r.off = 8
	for r.off < len(module) {
		start := r.off
		id := r.b[r.off]
		r.off++
		n := r.u32()
		body := r.take(n)
		if r.err != nil {
			return nil, r.err
		}
		switch id {
		case 12: // data count: segments are counted elsewhere too
			return module, nil
		case 11:
			data, ok, err := joinSegments(body)
			if err != nil || !ok {
				return module, err
			}
			out := append([]byte(nil), module[:start]...)
			out = append(out, 11)
			out = appendU32(out, len(data))
			out = append(out, data...)
			return append(out, module[r.off:]...), nil
		}
	}
	return module, nil
}

type segment struct {
	addr int
	data []byte
}

// joinSegments rewrites the body of a data section (§5.5.14); ok is false
// when it holds a segment that is not active in memory 0 at a constant
// offset, or nothing to join.
func joinSegments(body []byte) (out []byte, ok bool, err error) {
	r := &wasmBytes{b: body}
	count := r.u32()
	var segs []segment
	for i := 0; i < count && r.err == nil; i++ {
		if mode := r.u32(); mode != 0 {
			return nil, false, nil
		}
		if op := r.take(1); r.err != nil || op[0] != 0x41 { // i32.const
			return nil, false, r.err
		}
		addr := r.s32()
		if end := r.take(1); r.err != nil || end[0] != 0x0b {
			return nil, false, r.err
		}
		data := r.take(r.u32())
		if r.err != nil {
			break
		}
		if n := len(segs); n > 0 {
			last := &segs[n-1]
			if gap := addr - (last.addr + len(last.data)); gap >= 0 && gap <= joinGap {
				last.data = append(append(last.data, make([]byte, gap)...), data...)
				continue
			}
		}
		segs = append(segs, segment{addr, append([]byte(nil), data...)})
	}
	if r.err == nil && r.off != len(body) {
		r.err = fmt.Errorf("web: wasm: %d bytes after the last data segment", len(body)-r.off)
	}
	if r.err != nil {
		return nil, false, r.err
	}
	if len(segs) == count {
		return nil, false, nil
	}
	out = appendU32(nil, len(segs))
	for _, s := range segs {
		out = append(out, 0, 0x41)
		out = appendS32(out, s.addr)
		out = append(out, 0x0b)
		out = appendU32(out, len(s.data))
		out = append(out, s.data...)
	}
	return out, true, nil
}

// wasmBytes reads LEB128 numbers (§5.2.2) and byte strings, remembering the
// first error.
type wasmBytes struct {
	b   []byte
	off int
	err error
}

func (r *wasmBytes) fail(format string, args ...any) {
	if r.err == nil {
		r.err = fmt.Errorf("web: wasm: offset %d: %s", r.off, fmt.Sprintf(format, args...))
	}
}

func (r *wasmBytes) take(n int) []byte {
	if r.err != nil {
		return nil
	}
	if n < 0 || n > len(r.b)-r.off {
		r.fail("%d bytes wanted, %d left", n, len(r.b)-r.off)
		return nil
	}
	r.off += n
	return r.b[r.off-n : r.off]
}

// leb reads an LEB128 number of at most 5 bytes; signed extends its sign.
func (r *wasmBytes) leb(signed bool) int {
	var v int64
	for shift := 0; shift < 35; shift += 7 {
		c := r.take(1)
		if c == nil {
			return 0
		}
		v |= int64(c[0]&0x7f) << shift
		if c[0]&0x80 == 0 {
			if signed && c[0]&0x40 != 0 {
				v -= 1 << (shift + 7)
			}
			return int(v)
		}
	}
	r.fail("a number longer than 5 bytes")
	return 0
}

func (r *wasmBytes) u32() int { return r.leb(false) }
func (r *wasmBytes) s32() int { return r.leb(true) }

func appendU32(b []byte, v int) []byte {
	for {
		c := byte(v & 0x7f)
		if v >>= 7; v != 0 {
			c |= 0x80
		}
		if b = append(b, c); v == 0 {
			return b
		}
	}
}

func appendS32(b []byte, v int) []byte {
	for {
		c := byte(v & 0x7f)
		v >>= 7
		if v == 0 && c&0x40 == 0 || v == -1 && c&0x40 != 0 {
			return append(b, c)
		}
		b = append(b, c|0x80)
	}
}
