package main

import (
	"bytes"
	"slices"
	"strings"
	"testing"
)

func TestPackageOf(t *testing.T) {
	for sym, want := range map[string]string{
		"crypto_tls.(*Conn).Read": "crypto_tls",
		"runtime.gcStart_m":       "runtime",
		"github.com_mqtts_playground_playground_trace_mqttwire.__decoder_.connect": "github.com_mqtts_playground_playground_trace_mqttwire",
		"type_.eq.github.com_mqtts_playground_playground_trace_field.Field":        "type_",
		"vendor_golang.org_x_crypto_cryptobyte.(*String).ReadASN1":                 "vendor_golang.org_x_crypto_cryptobyte",
		"golang.org_x_net_idna.init":                                               "golang.org_x_net_idna",
		"main.main":                                                                "main",
		"wasm_export_run":                                                          "wasm_export_run",
		"":                                                                         "(unnamed)",
	} {
		if got := packageOf(sym); got != want {
			t.Errorf("packageOf(%q) = %q, want %q", sym, got, want)
		}
	}
}

// module assembles a WebAssembly module from sections (id, body).
func module(sections ...[]byte) []byte {
	b := []byte("\x00asm\x01\x00\x00\x00")
	for _, s := range sections {
		b = append(b, s[0])
		b = append(b, leb(len(s)-1)...)
		b = append(b, s[1:]...)
	}
	return b
}

func leb(v int) []byte {
	var b []byte
	for {
		c := byte(v & 0x7f)
		v >>= 7
		if v == 0 {
			return append(b, c)
		}
		b = append(b, c|0x80)
	}
}

func str(s string) []byte { return append(leb(len(s)), s...) }

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

// tiny is a module with two imported functions, a memory import, three
// function bodies (of 2, 3 and 200 bytes) and names for two of them.
var tiny = module(
	cat([]byte{2}, leb(3),
		str("go"), str("debug"), []byte{0}, leb(0), // function import 0
		str("go"), str("mem"), []byte{2, 1}, leb(1), leb(2), // memory, limits with a max
		str("go"), str("wasmExit"), []byte{0}, leb(0)), // function import 1
	cat([]byte{10}, leb(3),
		leb(2), []byte{0, 0x0b},
		leb(3), []byte{0, 0x01, 0x0b},
		leb(200), bytes.Repeat([]byte{0x01}, 200)),
	cat([]byte{0}, str("name"),
		[]byte{1}, leb(len(cat(leb(2), leb(2), str("runtime.a"), leb(4), str("crypto_tls.b")))),
		leb(2), leb(2), str("runtime.a"), leb(4), str("crypto_tls.b")),
)

func TestReadWasm(t *testing.T) {
	m, err := readWasm(tiny)
	if err != nil {
		t.Fatal(err)
	}
	want := []wasmFunc{{"runtime.a", 2}, {"", 3}, {"crypto_tls.b", 200}}
	if !slices.Equal(m.funcs, want) {
		t.Errorf("functions %v, want %v", m.funcs, want)
	}
	total := 8
	for _, n := range m.sections {
		total += n
	}
	if total != len(tiny) || m.sections["code"] == 0 || m.sections["custom:name"] == 0 || m.sections["import"] == 0 {
		t.Errorf("sections %v add up to %d of %d bytes", m.sections, total, len(tiny))
	}
	if got, want := m.byPackage(), []wasmFunc{{"crypto_tls", 200}, {"(unnamed)", 3}, {"runtime", 2}}; !slices.Equal(got, want) {
		t.Errorf("by package %v, want %v", got, want)
	}
	// Cut anywhere: an error with the prefix (a cut at a section boundary
	// leaves a valid module), never a panic.
	for cut := 0; cut < len(tiny); cut++ {
		_, err := readWasm(tiny[:cut])
		if cut < 8 && err == nil {
			t.Errorf("cut at %d: no error", cut)
		}
		if err != nil && !strings.HasPrefix(err.Error(), "size: wasm: ") {
			t.Errorf("cut at %d: error %q without the prefix", cut, err)
		}
	}
}

func FuzzReadWasm(f *testing.F) {
	f.Add(tiny)
	f.Add([]byte("\x00asm\x01\x00\x00\x00\x0a\xff\xff\xff\xff\x0f"))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := readWasm(b)
		if err != nil {
			return
		}
		code := 0
		for _, fn := range m.funcs {
			code += fn.size
		}
		if code > len(b) {
			t.Fatalf("%d bytes of function bodies in a %d-byte module", code, len(b))
		}
	})
}
