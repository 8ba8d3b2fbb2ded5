package main

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"
)

// The WebAssembly binary format, as far as counting where a module's bytes
// go needs it (WebAssembly Core Specification §5.5): the sections, the
// number of imported functions, the size of each function body and the
// function names of the "name" custom section that Go writes when the
// binary is not stripped (-s).

// wasmModule is what sizeOf reads of a module.
type wasmModule struct {
	// sections are the bytes of each section, header included, by name
	// ("code", "data", "custom:name" …).
	sections map[string]int
	// funcs are the defined functions: their names (when the module has a
	// name section) and body sizes.
	funcs []wasmFunc
}

type wasmFunc struct {
	name string
	size int
}

var sectionNames = []string{"custom", "type", "import", "function", "table", "memory", "global", "export", "start", "element", "code", "data", "datacount"}

// wasmReader reads LEB128 numbers and byte strings, remembering the first
// error.
type wasmReader struct {
	b   []byte
	off int
	err error
}

func (r *wasmReader) fail(format string, args ...any) {
	if r.err == nil {
		r.err = fmt.Errorf("size: wasm: offset %d: %s", r.off, fmt.Sprintf(format, args...))
	}
}

func (r *wasmReader) u32() int {
	var v uint64
	for shift := 0; shift < 35; shift += 7 {
		if r.err != nil {
			return 0
		}
		if r.off >= len(r.b) {
			r.fail("a number runs past the end")
			return 0
		}
		c := r.b[r.off]
		r.off++
		v |= uint64(c&0x7f) << shift
		if c&0x80 == 0 {
			if v > 1<<32-1 {
				r.fail("number %d does not fit 32 bits", v)
				return 0
			}
			return int(v)
		}
	}
	r.fail("a number longer than 5 bytes")
	return 0
}

func (r *wasmReader) bytes(n int) []byte {
	if r.err != nil {
		return nil
	}
	if n < 0 || n > len(r.b)-r.off {
		r.fail("%d bytes wanted, %d left", n, len(r.b)-r.off)
		return nil
	}
	b := r.b[r.off : r.off+n]
	r.off += n
	return b
}

// readWasm reads a module's sections, function sizes and names.
func readWasm(b []byte) (*wasmModule, error) {
	if len(b) < 8 || !bytes.Equal(b[:4], []byte("\x00asm")) {
		return nil, errors.New("size: wasm: not a WebAssembly module (no \\0asm magic)")
	}
	m := &wasmModule{sections: map[string]int{}}
	r := &wasmReader{b: b, off: 8}
	imported := 0
	names := map[int]string{}
	for r.off < len(b) && r.err == nil {
		start := r.off
		head := r.bytes(1)
		if r.err != nil {
			break
		}
		id := int(head[0])
		n := r.u32()
		body := r.bytes(n)
		if r.err != nil {
			break
		}
		name := fmt.Sprintf("unknown(%d)", id)
		if id < len(sectionNames) {
			name = sectionNames[id]
		}
		s := &wasmReader{b: body}
		switch id {
		case 0:
			name = "custom:" + string(s.bytes(s.u32()))
			if name == "custom:name" {
				readNames(s, names)
			}
		case 2:
			imported = countFuncImports(s)
		case 10:
			count := s.u32()
			for i := 0; i < count && s.err == nil; i++ {
				size := s.u32()
				s.bytes(size)
				m.funcs = append(m.funcs, wasmFunc{size: size})
			}
		}
		if s.err != nil {
			r.err = fmt.Errorf("size: wasm: %s section at offset %d: %s", name, start, strings.TrimPrefix(s.err.Error(), "size: wasm: "))
			break
		}
		m.sections[name] += r.off - start
	}
	if r.err != nil {
		return nil, r.err
	}
	for i := range m.funcs {
		m.funcs[i].name = names[imported+i]
	}
	return m, nil
}

// countFuncImports counts the imported functions: they come first in the
// function index space, before the code section's.
func countFuncImports(s *wasmReader) int {
	n, funcs := s.u32(), 0
	for i := 0; i < n && s.err == nil; i++ {
		s.bytes(s.u32()) // module
		s.bytes(s.u32()) // name
		kind := s.bytes(1)
		if s.err != nil {
			break
		}
		switch kind[0] {
		case 0: // function: type index
			s.u32()
			funcs++
		case 1: // table: element type, limits
			s.bytes(1)
			readLimits(s)
		case 2: // memory: limits
			readLimits(s)
		case 3: // global: value type, mutability
			s.bytes(2)
		default:
			s.fail("import of kind %d", kind[0])
		}
	}
	return funcs
}

func readLimits(s *wasmReader) {
	flags := s.bytes(1)
	s.u32()
	if len(flags) == 1 && flags[0]&1 != 0 {
		s.u32()
	}
}

// readNames reads the function names subsection (id 1) of a name section.
func readNames(s *wasmReader, names map[int]string) {
	for s.off < len(s.b) && s.err == nil {
		id := s.bytes(1)
		sub := &wasmReader{b: s.bytes(s.u32())}
		if s.err != nil || id[0] != 1 {
			continue
		}
		n := sub.u32()
		for i := 0; i < n && sub.err == nil; i++ {
			idx := sub.u32()
			names[idx] = string(sub.bytes(sub.u32()))
		}
		if sub.err != nil {
			s.err = sub.err
		}
	}
}

// packageOf is the Go package of a function name as Go's wasm linker
// writes it, with a path's "/" and "-" as "_":
// "crypto_tls.(*Conn).Read" → "crypto_tls",
// "github.com_mochi_mqtt_server_v2_packets.decodeString" →
// "github.com_mochi_mqtt_server_v2_packets". A path that starts with a
// domain keeps the domain's dots.
func packageOf(sym string) string {
	if sym == "" {
		return "(unnamed)"
	}
	rest, prefix := sym, ""
	if r, ok := strings.CutPrefix(sym, "vendor_"); ok {
		rest, prefix = r, "vendor_"
	}
	start := 0
	if dom := domain.FindString(rest); dom != "" {
		start = len(dom)
	}
	dot := strings.Index(rest[start:], ".")
	if dot < 0 {
		return sym
	}
	return prefix + rest[:start+dot]
}

// domain matches the host name a package path may start with, up to the
// "_" that stands for its first "/".
var domain = regexp.MustCompile(`^[a-z0-9-]+(\.[a-z0-9-]+)+_`)

// byPackage sums function body sizes by Go package, largest first.
func (m *wasmModule) byPackage() []wasmFunc {
	sum := map[string]int{}
	for _, f := range m.funcs {
		sum[packageOf(f.name)] += f.size
	}
	out := make([]wasmFunc, 0, len(sum))
	for p, n := range sum {
		out = append(out, wasmFunc{name: p, size: n})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].size != out[j].size {
			return out[i].size > out[j].size
		}
		return out[i].name < out[j].name
	})
	return out
}
