package mqttwire

import (
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/mqtts-playground/playground/trace/field"
)

// decoder holds the state of decoding one packet. Its read methods take a
// field template (Name, Depth, About and Spec set; Start, End and Value
// filled in by the reader) and report with ok whether the packet can be
// followed further: when it cannot, they record the broken rule and every
// caller returns at once.
type decoder struct {
	b     []byte // exactly the packet's bytes
	pos   int    // next byte to read
	end   int    // reads must stay below end: len(b), or the end of a property block
	scope string // what end delimits, for error messages ("" means the packet)
	typ   byte
	flags byte
	ver   byte
	p     Packet

	// values collected for the summary
	qos        byte
	hasKeep    bool
	keepAlive  uint16
	hasClient  bool
	hasUser    bool
	hasWill    bool
	willTopic  string
	hasTopic   bool
	hasPID     bool
	hasPayload bool
	alias      uint16
	hasReason  bool
	sessPres   bool
	codes      []string // SUBACK / UNSUBACK code names, SUBSCRIBE / UNSUBSCRIBE filters
	authMethod string
}

// sec cites a section of the specification the packet is decoded with.
func (d *decoder) sec(s311, s5 string) string {
	if d.ver == 5 {
		return "MQTT 5.0 §" + s5
	}
	return "MQTT 3.1.1 §" + s311
}

// rule formats a conformance statement ID for the version in force, or
// nothing when that version has none for the rule.
func (d *decoder) rule(id311, id5 string) string {
	id := id311
	if d.ver == 5 {
		id = id5
	}
	if id == "" {
		return ""
	}
	return " [MQTT-" + id + "]"
}

// violate records the first broken rule and carries on decoding.
func (d *decoder) violate(format string, args ...any) {
	if d.p.Err == nil {
		d.p.Err = fmt.Errorf("trace: mqtt: "+format, args...)
	}
}

// fail records the first broken rule and returns false: the packet cannot
// be followed any further.
func (d *decoder) fail(format string, args ...any) bool {
	d.violate(format, args...)
	return false
}

// add appends f and returns its index.
func (d *decoder) add(f field.Field) int {
	d.p.Fields = append(d.p.Fields, f)
	return len(d.p.Fields) - 1
}

// put appends the field of template f over [start, end) with value.
func (d *decoder) put(f field.Field, start, end int, value string) int {
	f.Start, f.End, f.Value = start, end, value
	return d.add(f)
}

// bits appends parts, fields of depth 1 over the byte at offset at: the
// bits of a flags byte.
func (d *decoder) bits(at int, parts ...field.Field) {
	for _, f := range parts {
		f.Start, f.End, f.Depth = at, at+1, 1
		d.add(f)
	}
}

// cut appends the field of template f over [start, end) for a value the
// bytes break off in.
func (d *decoder) cut(f field.Field, start, end int, value string) {
	d.add(field.Field{Name: f.Name, Value: value, Start: start, End: end, Depth: f.Depth,
		About: "The bytes run out before this field is complete.", Spec: f.Spec})
}

func (d *decoder) where() string {
	if d.scope == "" {
		return "packet"
	}
	return d.scope
}

// take reserves k bytes at the read position for the field of template f
// and returns where they start; when fewer are left, a cut-off field still
// covers what there is.
func (d *decoder) take(k int, f field.Field) (int, bool) {
	if left := d.end - d.pos; left < k {
		if left > 0 {
			d.cut(f, d.pos, d.end, "(cut short)")
		}
		return 0, d.fail("%s at offset %d needs %d bytes but only %d remain in the %s", f.Name, d.pos, k, left, d.where())
	}
	s := d.pos
	d.pos += k
	return s, true
}

func (d *decoder) u8(f field.Field) (byte, int, bool) {
	s, ok := d.take(1, f)
	if !ok {
		return 0, 0, false
	}
	return d.b[s], s, true
}

func (d *decoder) u16(f field.Field) (uint16, int, bool) {
	s, ok := d.take(2, f)
	if !ok {
		return 0, 0, false
	}
	return uint16(d.b[s])<<8 | uint16(d.b[s+1]), s, true
}

func (d *decoder) u32(f field.Field) (uint32, int, bool) {
	s, ok := d.take(4, f)
	if !ok {
		return 0, 0, false
	}
	return uint32(d.b[s])<<24 | uint32(d.b[s+1])<<16 | uint32(d.b[s+2])<<8 | uint32(d.b[s+3]), s, true
}

// varint reads a Variable Byte Integer for the field of template f: 7 bits
// per byte, least significant group first, the top bit saying another
// byte follows. It returns the value, where it starts and its size.
func (d *decoder) varint(f field.Field) (v, start, size int, ok bool) {
	start = d.pos
	mult := 1
	for i := 0; ; i++ {
		if i == 4 {
			d.add(field.Field{Name: f.Name, Value: "(longer than 4 bytes)", Start: start, End: d.pos, Depth: f.Depth,
				About: "A variable byte integer may use at most 4 bytes.", Spec: f.Spec})
			return 0, start, 0, d.fail("%s at offset %d exceeds 4 bytes", f.Name, start)
		}
		if d.pos >= d.end {
			if d.pos > start {
				d.cut(f, start, d.pos, "(cut short)")
			}
			return 0, start, 0, d.fail("%s at offset %d is cut short: the %s ends at offset %d", f.Name, start, d.where(), d.end)
		}
		c := d.b[d.pos]
		d.pos++
		v += int(c&0x7f) * mult
		mult *= 128
		if c&0x80 == 0 {
			break
		}
	}
	size = d.pos - start
	if size > varintLen(v) && d.ver == 5 {
		d.violate("%s at offset %d uses %d bytes where %d would do [MQTT-1.5.5-1]", f.Name, start, size, varintLen(v))
	}
	return v, start, size, true
}

func varintLen(v int) int {
	switch {
	case v < 128:
		return 1
	case v < 16384:
		return 2
	case v < 2097152:
		return 3
	}
	return 4
}

func varintNote(v, size int) string {
	note := fmt.Sprintf("%d (%d byte%s, varint", v, size, plural(size))
	if size > varintLen(v) {
		note += ", longer than needed"
	}
	return note + ")"
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// lenPrefixed describes a length-prefixed value to read: a two-byte length
// and the bytes it announces.
type lenPrefixed struct {
	// parent makes the value a field of its own (the template) with
	// "length" and "value" parts one level deeper; without it, only the
	// parts are added, at the template's depth.
	parent bool
	// partAbout explains the "value" part.
	partAbout string
	// show formats the bytes for display.
	show func([]byte) string
}

// lenPrefixed reads the value lp describes for the field of template f and
// returns its bytes and where its length starts.
func (d *decoder) lenPrefixed(f field.Field, lp lenPrefixed) ([]byte, int, bool) {
	s, ok := d.take(2, f)
	if !ok {
		return nil, 0, false
	}
	l := int(d.b[s])<<8 | int(d.b[s+1])
	part := f
	if lp.parent {
		part.Depth++
	}
	length := field.Field{Name: "length", Value: fmt.Sprintf("%d", l), Start: s, End: s + 2, Depth: part.Depth,
		About: "Two-byte big-endian count of the bytes that follow.", Spec: f.Spec}
	if left := d.end - d.pos; left < l {
		cut := fmt.Sprintf("(cut short: %d bytes announced, %d remain)", l, left)
		if lp.parent {
			d.put(f, s, d.end, cut)
		}
		d.add(length)
		if !lp.parent && left > 0 {
			d.add(field.Field{Name: "value", Value: cut, Start: d.pos, End: d.end, Depth: part.Depth, About: lp.partAbout, Spec: f.Spec})
		}
		return nil, 0, d.fail("%s at offset %d announces %d bytes but only %d remain in the %s", f.Name, s, l, left, d.where())
	}
	v := d.b[d.pos : d.pos+l]
	d.pos += l
	shown := lp.show(v)
	if lp.parent {
		d.put(f, s, d.pos, shown)
	}
	d.add(length)
	if l > 0 {
		d.add(field.Field{Name: "value", Value: shown, Start: s + 2, End: d.pos, Depth: part.Depth, About: lp.partAbout, Spec: f.Spec})
	}
	return v, s, true
}

// str reads a UTF-8 Encoded String as a field of template f with its
// length and value parts, and checks that it is well formed.
func (d *decoder) str(f field.Field) (string, bool) { return d.text(f, true) }

// strParts reads a UTF-8 Encoded String as length and value parts only, at
// the depth of template f.
func (d *decoder) strParts(f field.Field) (string, bool) { return d.text(f, false) }

func (d *decoder) text(f field.Field, parent bool) (string, bool) {
	v, s, ok := d.lenPrefixed(f, lenPrefixed{parent: parent, partAbout: "The characters, encoded as UTF-8.", show: quoteBytes})
	if !ok {
		return "", false
	}
	d.checkUTF8(f.Name, s, v)
	return string(v), true
}

// bin reads Binary Data for the field of template f (see lenPrefixed for
// parent); the result is a copy.
func (d *decoder) bin(f field.Field, parent bool) ([]byte, bool) {
	v, _, ok := d.lenPrefixed(f, lenPrefixed{parent: parent, partAbout: "The bytes themselves.", show: showBytes})
	return append([]byte{}, v...), ok
}

func (d *decoder) checkUTF8(name string, at int, v []byte) {
	if !utf8.Valid(v) {
		d.violate("%s at offset %d is not well-formed UTF-8%s", name, at, d.rule("1.5.3-1", "1.5.4-1"))
	} else if strings.IndexByte(string(v), 0) >= 0 {
		d.violate("%s at offset %d contains the null character U+0000%s", name, at, d.rule("1.5.3-2", "1.5.4-2"))
	}
}

const showMax = 200

func quoteBytes(b []byte) string { return quote(string(b)) }

// quote quotes a string for display, cutting it after showMax runes.
func quote(s string) string {
	cut := false
	if utf8.RuneCountInString(s) > showMax {
		i, r := 0, 0
		for i = range s {
			if r == showMax {
				break
			}
			r++
		}
		s, cut = s[:i], true
	}
	q := strconv.Quote(s)
	if cut {
		q += "…"
	}
	return q
}

// showBytes shows binary data as its text when it is printable UTF-8 and
// as hex otherwise, cut after about showMax characters.
func showBytes(b []byte) string {
	if len(b) == 0 {
		return "(empty)"
	}
	if utf8.Valid(b) && printable(b) {
		s := string(b)
		if utf8.RuneCountInString(s) > showMax {
			r := 0
			for i := range s {
				if r == showMax {
					return s[:i] + "…"
				}
				r++
			}
		}
		return s
	}
	if len(b) > showMax/2 {
		return "0x" + hex.EncodeToString(b[:showMax/2]) + "…"
	}
	return "0x" + hex.EncodeToString(b)
}

func printable(b []byte) bool {
	for _, r := range string(b) {
		if !unicode.IsPrint(r) && r != '\n' && r != '\r' && r != '\t' {
			return false
		}
	}
	return true
}

func onOff(v byte) string {
	if v != 0 {
		return "1 (set)"
	}
	return "0 (not set)"
}

var qosNames = [4]string{"0 (at most once)", "1 (at least once)", "2 (exactly once)", "3 (invalid)"}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
