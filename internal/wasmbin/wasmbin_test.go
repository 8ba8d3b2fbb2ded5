package wasmbin

import (
	"strings"
	"testing"
)

func TestNumbers(t *testing.T) {
	tests := []struct {
		v        int
		unsigned []byte // nil: not encoded unsigned
		signed   []byte
	}{
		{0, []byte{0}, []byte{0}},
		{63, []byte{63}, []byte{63}},
		{64, []byte{64}, []byte{0xc0, 0}},
		{127, []byte{127}, []byte{0xff, 0}},
		{128, []byte{0x80, 1}, []byte{0x80, 1}},
		{624485, []byte{0xe5, 0x8e, 0x26}, []byte{0xe5, 0x8e, 0x26}},
		{1<<31 - 1, []byte{0xff, 0xff, 0xff, 0xff, 0x07}, []byte{0xff, 0xff, 0xff, 0xff, 0x07}},
		{1<<32 - 1, []byte{0xff, 0xff, 0xff, 0xff, 0x0f}, nil},
		{-1, nil, []byte{0x7f}},
		{-64, nil, []byte{0x40}},
		{-65, nil, []byte{0xbf, 0x7f}},
		{-123456, nil, []byte{0xc0, 0xbb, 0x78}},
		{-1 << 31, nil, []byte{0x80, 0x80, 0x80, 0x80, 0x78}},
	}
	for _, tt := range tests {
		if tt.unsigned != nil {
			if got := AppendU32(nil, tt.v); string(got) != string(tt.unsigned) {
				t.Errorf("AppendU32(%d) = % x, want % x", tt.v, got, tt.unsigned)
			}
			r := &Reader{B: tt.unsigned}
			if got := r.U32(); got != tt.v || r.Err != nil || r.Off != len(tt.unsigned) {
				t.Errorf("U32(% x) = %d, %v at %d; want %d", tt.unsigned, got, r.Err, r.Off, tt.v)
			}
		}
		if tt.signed != nil {
			if got := AppendS32(nil, tt.v); string(got) != string(tt.signed) {
				t.Errorf("AppendS32(%d) = % x, want % x", tt.v, got, tt.signed)
			}
			r := &Reader{B: tt.signed}
			if got := r.S32(); got != tt.v || r.Err != nil || r.Off != len(tt.signed) {
				t.Errorf("S32(% x) = %d, %v at %d; want %d", tt.signed, got, r.Err, r.Off, tt.v)
			}
		}
	}
}

func TestErrors(t *testing.T) {
	tests := []struct {
		name, want string
		read       func(r *Reader)
		b          []byte
	}{
		{"number past the end", "offset 1: a number runs past the end", func(r *Reader) { r.U32() }, []byte{0x80}},
		{"six bytes", "offset 5: a number longer than 5 bytes", func(r *Reader) { r.U32() }, []byte{0x80, 0x80, 0x80, 0x80, 0x80, 0}},
		{"unsigned over 32 bits", "does not fit 32 bits", func(r *Reader) { r.U32() }, []byte{0xff, 0xff, 0xff, 0xff, 0x1f}},
		{"signed over 32 bits", "does not fit 32 bits", func(r *Reader) { r.S32() }, []byte{0xff, 0xff, 0xff, 0xff, 0x0f}},
		{"bytes past the end", "offset 1: 3 bytes wanted, 1 left", func(r *Reader) { r.Bytes(1); r.Bytes(3) }, []byte{1, 2}},
		{"first error kept", "offset 0: 5 bytes wanted", func(r *Reader) { r.Bytes(5); r.Fail("later") }, []byte{1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &Reader{B: tt.b, Prefix: "test: wasm"}
			tt.read(r)
			if r.Err == nil || !strings.HasPrefix(r.Err.Error(), "test: wasm: ") || !strings.Contains(r.Err.Error(), tt.want) {
				t.Fatalf("error %v, want %q with the prefix", r.Err, tt.want)
			}
			if r.U32() != 0 || r.Bytes(0) != nil {
				t.Error("reads after an error return values")
			}
		})
	}
}
