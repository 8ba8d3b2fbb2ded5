// Package wasmbin reads and writes the pieces of the WebAssembly binary
// format (WebAssembly Core Specification §5) that the build tools need:
// LEB128 numbers (§5.2.2) and byte strings. It does not parse modules; its
// callers walk the sections they care about.
package wasmbin

import "fmt"

// Reader reads numbers and byte strings from B starting at Off, remembering
// the first error in Err; after an error every read returns zero values.
type Reader struct {
	B   []byte
	Off int
	Err error
	// Prefix starts every error, e.g. "size: wasm".
	Prefix string
}

// Fail records an error at the current offset, unless there is one.
func (r *Reader) Fail(format string, args ...any) {
	if r.Err == nil {
		r.Err = fmt.Errorf("%s: offset %d: %s", r.Prefix, r.Off, fmt.Sprintf(format, args...))
	}
}

// U32 reads an unsigned LEB128 number of at most 32 bits.
func (r *Reader) U32() int {
	v := r.leb(false)
	if v > 1<<32-1 {
		r.Fail("number %d does not fit 32 bits", v)
		return 0
	}
	return int(v)
}

// S32 reads a signed LEB128 number of at most 32 bits, such as the
// operand of i32.const.
func (r *Reader) S32() int {
	v := r.leb(true)
	if v < -1<<31 || v > 1<<31-1 {
		r.Fail("number %d does not fit 32 bits", v)
		return 0
	}
	return int(v)
}

func (r *Reader) leb(signed bool) int64 {
	var v int64
	for shift := 0; shift < 35; shift += 7 {
		if r.Err != nil {
			return 0
		}
		if r.Off >= len(r.B) {
			r.Fail("a number runs past the end")
			return 0
		}
		c := r.B[r.Off]
		r.Off++
		v |= int64(c&0x7f) << shift
		if c&0x80 == 0 {
			if signed && c&0x40 != 0 {
				v -= 1 << (shift + 7)
			}
			return v
		}
	}
	r.Fail("a number longer than 5 bytes")
	return 0
}

// Bytes reads the next n bytes (a slice of B).
func (r *Reader) Bytes(n int) []byte {
	if r.Err != nil {
		return nil
	}
	if n < 0 || n > len(r.B)-r.Off {
		r.Fail("%d bytes wanted, %d left", n, len(r.B)-r.Off)
		return nil
	}
	r.Off += n
	return r.B[r.Off-n : r.Off]
}

// AppendU32 appends v (0 ≤ v < 2³²) as an unsigned LEB128 number.
func AppendU32(b []byte, v int) []byte {
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

// AppendS32 appends v as a signed LEB128 number.
func AppendS32(b []byte, v int) []byte {
	for {
		c := byte(v & 0x7f)
		v >>= 7
		if v == 0 && c&0x40 == 0 || v == -1 && c&0x40 != 0 {
			return append(b, c)
		}
		b = append(b, c|0x80)
	}
}
