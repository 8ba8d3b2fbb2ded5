// Package tstypes holds Go values against the TypeScript interfaces
// generated from their types (web/src/gen, see tygo.yaml), for tests: the
// generator reads struct tags, while the page receives what encoding/json
// writes, and the two differ when a type marshals itself or embeds
// another. It reads only the plain form tygo writes, not TypeScript at
// large, and is meant for tests; nothing in the product imports it.
package tstypes

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// Interface is a generated TypeScript interface: its properties, with
// whether each is optional, its own and those of the interfaces it
// extends.
type Interface map[string]bool

var (
	headRE = regexp.MustCompile(`^export interface (\w+)(?: extends ([\w, ]+))? \{$`)
	propRE = regexp.MustCompile(`^  '?(\w+)'?(\?)?: `)
)

// Parse reads the interfaces of a file tygo wrote. The properties of a
// base interface the file does not declare (Error …) are left out.
func Parse(src string) map[string]Interface {
	out := map[string]Interface{}
	extends := map[string][]string{}
	var cur string
	for _, line := range strings.Split(src, "\n") {
		if m := headRE.FindStringSubmatch(line); m != nil {
			cur = m[1]
			out[cur] = Interface{}
			for _, e := range strings.Split(m[2], ",") {
				if e = strings.TrimSpace(e); e != "" {
					extends[cur] = append(extends[cur], e)
				}
			}
			continue
		}
		if cur == "" {
			continue
		}
		if line == "}" {
			cur = ""
			continue
		}
		if m := propRE.FindStringSubmatch(line); m != nil {
			out[cur][m[1]] = m[2] == "?"
		}
	}
	for name, bases := range extends {
		for _, b := range bases {
			for k, opt := range out[b] {
				out[name][k] = opt
			}
		}
	}
	return out
}

// Load parses a generated file, path relative to the repository root
// ("web/src/gen/trace.ts"); dir is the test's way up to that root ("..").
func Load(t testing.TB, dir, path string) map[string]Interface {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, path))
	if err != nil {
		t.Fatal(err)
	}
	return Parse(string(b))
}

// Match checks that the JSON of Go values of v's type has the properties
// of the TypeScript interface: a value with every field set has exactly
// them, and the zero value has at least the required ones.
func Match(t testing.TB, ifaces map[string]Interface, name string, v any) {
	t.Helper()
	iface, ok := ifaces[name]
	if !ok {
		t.Errorf("no TypeScript interface %s for Go type %T: regenerate with ./task generate", name, v)
		return
	}
	typ := reflect.TypeOf(v)
	full := reflect.New(typ).Elem()
	fill(full, 0)
	got := keys(t, full.Interface())
	var want []string
	for k := range iface {
		want = append(want, k)
	}
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("JSON of a full %v has keys %q; TypeScript %s declares %q", typ, got, name, want)
	}
	zero := keys(t, reflect.Zero(typ).Interface())
	for k, optional := range iface {
		if !optional && !slices.Contains(zero, k) {
			t.Errorf("JSON of a zero %v lacks %q, which TypeScript %s declares required", typ, k, name)
		}
	}
}

// keys returns the keys of the JSON object v marshals to.
func keys(t testing.TB, v any) []string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("json.Marshal(%T): %v", v, err)
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("%T does not marshal to a JSON object: %s", v, b)
	}
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

var timeType = reflect.TypeFor[time.Time]()

// fill sets every exported field of v, recursively, to a non-zero value.
func fill(v reflect.Value, depth int) {
	if depth > 8 {
		return
	}
	if v.Type() == timeType {
		v.Set(reflect.ValueOf(time.Unix(1, 0).UTC()))
		return
	}
	switch v.Kind() {
	case reflect.String:
		v.SetString("x")
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(1)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		v.SetUint(1)
	case reflect.Float32, reflect.Float64:
		v.SetFloat(1)
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		fill(v.Elem(), depth+1)
	case reflect.Slice:
		v.Set(reflect.MakeSlice(v.Type(), 1, 1))
		fill(v.Index(0), depth+1)
	case reflect.Map:
		v.Set(reflect.MakeMap(v.Type()))
		k, e := reflect.New(v.Type().Key()).Elem(), reflect.New(v.Type().Elem()).Elem()
		fill(k, depth+1)
		fill(e, depth+1)
		v.SetMapIndex(k, e)
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				fill(v.Field(i), depth+1)
			}
		}
	}
}
