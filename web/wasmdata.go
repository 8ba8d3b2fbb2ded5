package web

import (
	"errors"
	"fmt"

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

// joinGap is the longest run of zeros written out to join two segments.
const joinGap = 1024

// compactData returns module with its data segments joined (see above), or
// module itself when it has nothing to join or uses what this does not
// rewrite: passive or multi-memory segments, offsets that are not constants,
// or a data count section.
func compactData(module []byte) ([]byte, error) {
	r := &wasmbin.Reader{B: module, Prefix: "web: wasm"}
	if len(module) < 8 || string(module[:4]) != "\x00asm" {
		return nil, errors.New("web: wasm: not a WebAssembly module")
	}
	r.Off = 8
	for r.Off < len(module) {
		start := r.Off
		id := r.B[r.Off]
		r.Off++
		n := r.U32()
		body := r.Bytes(n)
		if r.Err != nil {
			return nil, r.Err
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
			out = wasmbin.AppendU32(out, len(data))
			out = append(out, data...)
			return append(out, module[r.Off:]...), nil
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
	r := &wasmbin.Reader{B: body, Prefix: "web: wasm"}
	count := r.U32()
	var segs []segment
	for i := 0; i < count && r.Err == nil; i++ {
		if mode := r.U32(); mode != 0 {
			return nil, false, nil
		}
		if op := r.Bytes(1); r.Err != nil || op[0] != 0x41 { // i32.const
			return nil, false, r.Err
		}
		addr := r.S32()
		if end := r.Bytes(1); r.Err != nil || end[0] != 0x0b {
			return nil, false, r.Err
		}
		data := r.Bytes(r.U32())
		if r.Err != nil {
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
	if r.Err == nil && r.Off != len(body) {
		r.Err = fmt.Errorf("web: wasm: %d bytes after the last data segment", len(body)-r.Off)
	}
	if r.Err != nil {
		return nil, false, r.Err
	}
	if len(segs) == count {
		return nil, false, nil
	}
	return activeSegments(segs...), true, nil
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
