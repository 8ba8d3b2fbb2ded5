package main

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/mqtts-playground/playground/internal/wasmbin"
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

// readWasm reads a module's sections, function sizes and names.
func readWasm(b []byte) (*wasmModule, error) {
	if len(b) < 8 || !bytes.Equal(b[:4], []byte("\x00asm")) {
		return nil, errors.New("size: wasm: not a WebAssembly module (no \\0asm magic)")
	}
	m := &wasmModule{sections: map[string]int{}}
	r := &wasmbin.Reader{B: b, Off: 8, Prefix: "size: wasm"}
	imported := 0
	names := map[int]string{}
	for r.Off < len(b) && r.Err == nil {
		start := r.Off
		head := r.Bytes(1)
		if r.Err != nil {
			break
		}
		id := int(head[0])
		n := r.U32()
		body := r.Bytes(n)
		if r.Err != nil {
			break
		}
		name := fmt.Sprintf("unknown(%d)", id)
		if id < len(sectionNames) {
			name = sectionNames[id]
		}
		s := &wasmbin.Reader{B: body, Prefix: "size: wasm"}
		switch id {
		case 0:
			name = "custom:" + string(s.Bytes(s.U32()))
			if name == "custom:name" {
				readNames(s, names)
			}
		case 2:
			imported = countFuncImports(s)
		case 10:
			count := s.U32()
			for i := 0; i < count && s.Err == nil; i++ {
				size := s.U32()
				s.Bytes(size)
				m.funcs = append(m.funcs, wasmFunc{size: size})
			}
		}
		if s.Err != nil {
			r.Err = fmt.Errorf("size: wasm: %s section at offset %d: %s", name, start, strings.TrimPrefix(s.Err.Error(), "size: wasm: "))
			break
		}
		m.sections[name] += r.Off - start
	}
	if r.Err != nil {
		return nil, r.Err
	}
	for i := range m.funcs {
		m.funcs[i].name = names[imported+i]
	}
	return m, nil
}

// countFuncImports counts the imported functions: they come first in the
// function index space, before the code section's.
func countFuncImports(s *wasmbin.Reader) int {
	n, funcs := s.U32(), 0
	for i := 0; i < n && s.Err == nil; i++ {
		s.Bytes(s.U32()) // module
		s.Bytes(s.U32()) // name
		kind := s.Bytes(1)
		if s.Err != nil {
			break
		}
		switch kind[0] {
		case 0: // function: type index
			s.U32()
			funcs++
		case 1: // table: element type, limits
			s.Bytes(1)
			readLimits(s)
		case 2: // memory: limits
			readLimits(s)
		case 3: // global: value type, mutability
			s.Bytes(2)
		default:
			s.Fail("import of kind %d", kind[0])
		}
	}
	return funcs
}

func readLimits(s *wasmbin.Reader) {
	flags := s.Bytes(1)
	s.U32()
	if len(flags) == 1 && flags[0]&1 != 0 {
		s.U32()
	}
}

// readNames reads the function names subsection (id 1) of a name section.
func readNames(s *wasmbin.Reader, names map[int]string) {
	for s.Off < len(s.B) && s.Err == nil {
		id := s.Bytes(1)
		sub := &wasmbin.Reader{B: s.Bytes(s.U32()), Prefix: "size: wasm"}
		if s.Err != nil || id[0] != 1 {
			continue
		}
		n := sub.U32()
		for i := 0; i < n && sub.Err == nil; i++ {
			idx := sub.U32()
			names[idx] = string(sub.Bytes(sub.U32()))
		}
		if sub.Err != nil {
			s.Err = sub.Err
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
