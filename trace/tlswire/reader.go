package tlswire

import (
	"fmt"
	"strconv"

	"github.com/mqtts-playground/playground/trace/field"
	"golang.org/x/crypto/cryptobyte"
)

// The readers of the handshake decoder take a field template: a
// field.Field with Name, Depth, About and Spec set, whose Start, End and
// Value the reader fills in. They report with ok whether the message can be
// followed further; when it cannot, they record the error through failf and
// every caller returns at once.

// span is a cursor over part of a message: the bytes not read yet and the
// offset of the first of them in the whole message.
type span struct {
	s   cryptobyte.String
	off int
}

func (r *span) empty() bool { return r.s.Empty() }
func (r *span) left() int   { return len(r.s) }

// skip moves the cursor n bytes on.
func (r *span) skip(n int) {
	r.s = r.s[n:]
	r.off += n
}

// vec describes a TLS vector, <min..max> bytes with a length prefix of size
// bytes (1 to 3); max 0 means no maximum beyond what the prefix can count.
type vec struct {
	size     int
	min, max int
}

// failf records the first error, naming what was being read and where it
// starts. It returns false so callers can return its result.
func (d *decoder) failf(off int, what, format string, args ...any) bool {
	if d.err == nil {
		d.err = fmt.Errorf("trace: tls: %s: %s at offset %d: %s", d.name, what, off, fmt.Sprintf(format, args...))
	}
	return false
}

// add appends the field of template f over [start, end) with value and
// returns its index, so that its Value can be set once its children are
// decoded.
func (d *decoder) add(f field.Field, start, end int, value string) int {
	f.Start, f.End, f.Value = start, end, value
	d.fields = append(d.fields, f)
	return len(d.fields) - 1
}

// need reports whether r holds n more bytes, recording a truncation error
// about what when it does not.
func (d *decoder) need(r *span, n int, what string) bool {
	if n <= r.left() {
		return true
	}
	return d.failf(r.off, what, "truncated: need %s, have %d", nbytes(n), r.left())
}

// readUint reads a big-endian unsigned integer of size bytes (1 to 4).
func (d *decoder) readUint(r *span, size int, what string, out *uint32) bool {
	if !d.need(r, size, what) {
		return false
	}
	switch size {
	case 1:
		var v uint8
		r.s.ReadUint8(&v)
		*out = uint32(v)
	case 2:
		var v uint16
		r.s.ReadUint16(&v)
		*out = uint32(v)
	case 3:
		r.s.ReadUint24(out)
	case 4:
		r.s.ReadUint32(out)
	}
	r.off += size
	return true
}

// num reads a size-byte integer as the field of template f, valued in
// decimal; callers replace the value with something friendlier when there
// is.
func (d *decoder) num(r *span, size int, f field.Field) (uint32, int, bool) {
	start := r.off
	var v uint32
	if !d.readUint(r, size, f.Name, &v) {
		return 0, -1, false
	}
	return v, d.add(f, start, r.off, strconv.FormatUint(uint64(v), 10)), true
}

// fixed reads n bytes as the field of template f.
func (d *decoder) fixed(r *span, n int, f field.Field) ([]byte, int, bool) {
	start := r.off
	if !d.need(r, n, f.Name) {
		return nil, -1, false
	}
	b := []byte(r.s[:n])
	r.skip(n)
	return b, d.add(f, start, r.off, hexValue(b)), true
}

// vector reads the TLS vector v, annotated as the field of template f
// (valued with its byte count until the caller sets a value through the
// returned index) with its length as "<name> length" one level deeper,
// where the caller also puts the elements it decodes from the returned
// span.
func (d *decoder) vector(r *span, v vec, f field.Field) (span, int, bool) {
	return d.readVector(r, v, f, true)
}

// list reads the TLS vector v whose elements the caller puts next to its
// length, "<name> length" at the depth of template f: f itself gets no
// field.
func (d *decoder) list(r *span, v vec, f field.Field) (span, bool) {
	sub, _, ok := d.readVector(r, v, f, false)
	return sub, ok
}

func (d *decoder) readVector(r *span, v vec, f field.Field, parent bool) (sub span, idx int, ok bool) {
	start := r.off
	var n uint32
	if !d.readUint(r, v.size, f.Name, &n) {
		return span{}, -1, false
	}
	length := field.Field{Name: f.Name + " length", Depth: f.Depth,
		About: "How many bytes of " + f.Name + " follow, so a reader knows where it ends", Spec: f.Spec}
	if int(n) > r.left() {
		d.add(length, start, r.off, nbytes(int(n)))
		return span{}, -1, d.failf(start, f.Name, "length %d exceeds the %s left", n, nbytes(r.left()))
	}
	end := r.off + int(n)
	idx = -1
	if parent {
		idx = d.add(f, start, end, nbytes(int(n)))
		length.Depth++
	}
	d.add(length, start, r.off, nbytes(int(n)))
	sub = span{s: r.s[:n], off: r.off}
	r.skip(int(n))
	return sub, idx, d.checkLen(start, f.Name, int(n), v)
}

// checkLen checks that a vector of n bytes called name, whose length
// starts at offset start, respects the bounds of v.
func (d *decoder) checkLen(start int, name string, n int, v vec) bool {
	if n < v.min {
		return d.failf(start, name, "length %d is below the minimum of %d", n, v.min)
	}
	if v.max > 0 && n > v.max {
		return d.failf(start, name, "length %d is above the maximum of %d", n, v.max)
	}
	return true
}

// opaque reads a variable-length byte string (opaque name<min..max> with a
// v.size-byte length) and annotates "<name> length" and, unless it is
// empty, the field of template f, both at f's depth. idx is the index of
// f's field, -1 when the string is empty.
func (d *decoder) opaque(r *span, v vec, f field.Field) (b []byte, idx int, ok bool) {
	start := r.off
	sub, ok := d.list(r, vec{size: v.size}, f)
	if !ok {
		return nil, -1, false
	}
	b = sub.s
	idx = -1
	if len(b) > 0 {
		idx = d.add(f, sub.off, sub.off+len(b), hexValue(b))
	}
	return b, idx, d.checkLen(start, f.Name, len(b), v)
}

// rest annotates whatever is left in r as the field of template f.
func (d *decoder) rest(r *span, f field.Field) ([]byte, int) {
	b := []byte(r.s)
	idx := -1
	if len(b) > 0 {
		idx = d.add(f, r.off, r.off+len(b), hexValue(b))
	}
	r.skip(len(b))
	return b, idx
}

// index returns the index of the first field called name, or -1.
func (d *decoder) index(name string) int {
	for i, f := range d.fields {
		if f.Name == name {
			return i
		}
	}
	return -1
}

// set replaces the Value and About of field idx with those that are not
// empty; an idx of -1 sets nothing.
func (d *decoder) set(idx int, value, about string) {
	if idx < 0 {
		return
	}
	if value != "" {
		d.fields[idx].Value = value
	}
	if about != "" {
		d.fields[idx].About = about
	}
}
