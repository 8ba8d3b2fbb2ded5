// Package accept reads the Accept family of HTTP request headers: Accept
// (media types, RFC 9110 §12.5.1) and Accept-Encoding (content codings,
// §12.5.3), each a list of values with quality weights (§12.4.2).
//
// It answers one question, "does the client name this value, wanting it?",
// which is all the playground asks: does a browser navigate here (it names
// text/html), may an asset go out brotli or gzip compressed. It does not
// rank a server's offers, and a wildcard (*/*, text/*, *) names nothing:
// fetch and curl send */* and still want JSON.
package accept

import "strings"

// Names reports whether header, the value of an Accept or Accept-Encoding
// field, names one of values with a quality above zero. Values compare
// case-insensitively; media type parameters other than q do not matter
// (text/html;level=1 names text/html). Elements that do not parse, or
// whose q is not a qvalue, are ignored.
func Names(header string, values ...string) bool {
	for elem := range strings.SplitSeq(header, ",") {
		value, q, ok := parseElement(elem)
		if !ok || q == 0 {
			continue
		}
		for _, v := range values {
			if strings.EqualFold(value, v) {
				return true
			}
		}
	}
	return false
}

// parseElement splits one list element, `value *( OWS ";" OWS name=value )`,
// into its value and its weight in thousandths (1000 when q is absent).
func parseElement(elem string) (value string, q int, ok bool) {
	value, params, _ := strings.Cut(elem, ";")
	value = strings.TrimSpace(value)
	typ, sub, hasSub := strings.Cut(value, "/")
	if !isToken(typ) || hasSub && !isToken(sub) {
		return "", 0, false
	}
	q = 1000
	for params != "" {
		var p string
		p, params, _ = strings.Cut(params, ";")
		name, v, _ := strings.Cut(strings.TrimSpace(p), "=")
		if strings.EqualFold(strings.TrimSpace(name), "q") {
			if q, ok = qvalue(strings.TrimSpace(v)); !ok {
				return "", 0, false
			}
			// What follows q are accept extensions, which change nothing here.
			break
		}
	}
	return value, q, true
}

// qvalue parses `( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] )`
// (RFC 9110 §12.4.2) into thousandths.
func qvalue(s string) (int, bool) {
	if s == "" || s[0] != '0' && s[0] != '1' {
		return 0, false
	}
	n := int(s[0]-'0') * 1000
	rest := s[1:]
	if rest == "" {
		return n, true
	}
	if rest[0] != '.' || len(rest) > 4 {
		return 0, false
	}
	scale := 100
	for _, c := range []byte(rest[1:]) {
		if c < '0' || c > '9' || n == 1000 && c != '0' {
			return 0, false
		}
		n += int(c-'0') * scale
		scale /= 10
	}
	return n, true
}

// isToken reports whether s is a non-empty token (RFC 9110 §5.6.2).
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range []byte(s) {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0) {
			return false
		}
	}
	return true
}
