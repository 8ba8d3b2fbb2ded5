package lessons

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// wrongClaims are statements a review found wrong in earlier editions of
// the course, each with the fact that replaced it. A pattern matches the
// wrong wording (case-insensitive, across line breaks), so the claim
// cannot come back unnoticed in a lesson, its step files or the client
// comments that the lessons describe.
var wrongClaims = []struct {
	pattern string
	fact    string
}{
	{`repeated\s+until\s+(it\s+is\s+)?(confirmed|acknowledged)`,
		"QoS 1 resends only on reconnect with an existing session (MQTT 5.0 §4.4); duplicates come from reconnects"},
	{`one\s+(ticket\s+)?per\s+server\s+name`,
		"the page's client keeps tickets per listener, and resume:false still stores the new ticket"},
	{`cipher_suites\s+extension`,
		"cipher_suites is a field of the ClientHello, not an extension (RFC 8446 §4.1.2)"},
	{`Finished[^.]{0,80}\bchecksum|checksum\s+over\s+(everything|the\s+(whole\s+)?(handshake|transcript))`,
		"Finished is a keyed MAC (HMAC over the transcript hash), not a checksum (RFC 8446 §4.4.4)"},
	{`TLS\s+(never|does\s+not|doesn't)\s+checks?\s+(the\s+)?(IP\s+)?address`,
		"TLS checks an address against the certificate's IP SANs"},
	{`(broker|server)('s)?\s+key\s+(never|cannot|can't|does\s+not)\s+signs?\b`,
		"the broker's key signs CertificateVerify in every full handshake; what it cannot do is issue certificates"},
	{`\bCN\s+is\s+never\s+(consulted|checked|read)|common\s+name\s+is\s+not\s+consulted|CN\s+no\s+longer\s+counts`,
		"Go and browsers ignore the CN; OpenSSL, Python's ssl and mbedTLS fall back to it without a DNS SAN"},
	{`four\s+more\s+ways`,
		"the list of faults has five entries"},
	{`within\s+(a\s+few\s+)?minutes\s+of\s+(the\s+)?(real|correct|right)\s+time|right\s+to\s+within\s+minutes`,
		"the client clock must fall inside the validity window"},
	{`(keep-?alive|PINGREQ)[^.]{0,60}\btwo[- ]byte\b[^.]{0,40}(only|all|nothing\s+more)|costs\s+a\s+two-byte\s+.?PINGREQ`,
		"over TLS a keep-alive is a whole record (~24 bytes) plus TCP/IP headers, a PINGRESP and a radio wake-up"},
	{`TLS_ECDHE_PSK_WITH_AES_128_GCM_SHA256`,
		"OpenSSL implements ECDHE-PSK-CHACHA20-POLY1305, not the RFC 8442 AES-GCM suite"},
	{`(every|each)\s+key\s+exchange\s+is\s+ephemeral`,
		"with psk_ke a TLS 1.3 resumption has no ephemeral key exchange"},
	{`ECH[^.]{0,40}RFC\s+(8446|9180)\b`,
		"ECH is RFC 9849 (HPKE is RFC 9180)"},
	{`(rides|runs)\s+on\s+exactly\s+that\s+HTTPS\s+connection`,
		"a WebSocket upgrade usually opens a TLS connection of its own"},
	{`(must|has\s+to)\s+wait\s+for\s+(the\s+)?CONNACK\s+before\s+(sending|it\s+sends|publishing)|still\s+wait\s+for\s+.?CONNACK.?\s+anyway`,
		"a client may send PUBLISH before CONNACK (MQTT 5.0 §3.1.4)"},
	{`(22|twenty-two)\s+bytes\s+(of\s+overhead\s+)?(for\s+)?(every|each|any)\s+(suite|cipher)|a\s+fixed\s+22\s+bytes`,
		"record overhead is 22 bytes for GCM and ChaCha20 but 14 with CCM_8 (RFC 7925)"},
}

// TestNoWrongClaims: no lesson, step file or client comment repeats a
// statement the review corrected.
func TestNoWrongClaims(t *testing.T) {
	res := make([]*regexp.Regexp, len(wrongClaims))
	for i, w := range wrongClaims {
		res[i] = regexp.MustCompile(`(?is)` + w.pattern)
	}
	texts := map[string]string{}
	err := fs.WalkDir(FS(), ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || path == "README.md" {
			return err
		}
		if ext := filepath.Ext(path); ext == ".md" || ext == ".ts" {
			b, err := fs.ReadFile(FS(), path)
			texts[path] = string(b)
			return err
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// The client's comments describe the behaviour lesson 9 teaches.
	b, err := os.ReadFile("../wasm/client/client.go")
	if err != nil {
		t.Fatal(err)
	}
	texts["wasm/client/client.go"] = string(b)
	if len(texts) < 20 {
		t.Fatalf("only %d files read", len(texts))
	}
	for path, text := range texts {
		for i, re := range res {
			if loc := re.FindStringIndex(text); loc != nil {
				line := 1 + strings.Count(text[:loc[0]], "\n")
				t.Errorf("%s:%d: %q: %s", path, line, text[loc[0]:loc[1]], wrongClaims[i].fact)
			}
		}
	}
}

// TestWrongClaimsMatch: each pattern catches the wording it is there for,
// so that a typo in a pattern cannot make it match nothing.
func TestWrongClaimsMatch(t *testing.T) {
	samples := []string{
		"with QoS 1 a message is repeated until confirmed by the receiver",
		"the client keeps one per server name",
		"the cipher_suites extension lists",
		"Finished is a checksum of everything",
		"TLS never checks the IP address",
		"the broker key cannot sign anything",
		"The CN is never consulted.",
		"Four more ways to fail",
		"a clock within minutes of the real time",
		"a keep-alive costs a two-byte PINGREQ and nothing more",
		"such as TLS_ECDHE_PSK_WITH_AES_128_GCM_SHA256",
		"every key exchange is ephemeral",
		"ECH (RFC 9180) hides the name",
		"rides on exactly that HTTPS connection",
		"a client must wait for CONNACK before sending a PUBLISH",
		"22 bytes of overhead for every suite",
	}
	if len(samples) != len(wrongClaims) {
		t.Fatalf("%d samples for %d claims", len(samples), len(wrongClaims))
	}
	for i, w := range wrongClaims {
		if !regexp.MustCompile(`(?is)` + w.pattern).MatchString(samples[i]) {
			t.Errorf("pattern %q does not match its sample %q", w.pattern, samples[i])
		}
	}
}

// jsLooking finds what a JavaScript expression has and a sentence has not.
var jsLooking = regexp.MustCompile(`===|!==|==|&&|\|\||=>|\b(state|conn|pg|site|events)\.[a-z]|\(\)|[{};\[\]]|\.(join|some|every|includes|startsWith|length)\b`)

// TestCheckLabelsArePlain: every js check has a label, and the label reads
// as a sentence, not as code: the learner sees it next to the check.
func TestCheckLabelsArePlain(t *testing.T) {
	c, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, l := range c.Lessons {
		for _, s := range l.Steps {
			for _, ch := range s.Checks() {
				if ch.JS == "" {
					continue
				}
				n++
				switch {
				case ch.Label == "":
					t.Errorf("%s:%d: js check without a label: write js \"what it checks, in words\": %s", l.File, ch.Line, ch.JS)
				case jsLooking.MatchString(ch.Label):
					t.Errorf("%s:%d: label %q looks like code (%q): say in words what the check wants", l.File, ch.Line, ch.Label, jsLooking.FindString(ch.Label))
				}
			}
		}
	}
	if n == 0 {
		t.Fatal("no js checks found")
	}
	for _, bad := range []string{`state.wrong.failed.join() === "name matches"`, "conn.tlsInfo().resumed", "a && b"} {
		if !jsLooking.MatchString(bad) {
			t.Errorf("%q is not recognised as code", bad)
		}
	}
}

// TestLessonNumbers: a link that names a lesson by number ("[lesson
// 9](/lessons/session-resumption)") names the number the course gives it,
// so that a new lesson or a new order cannot leave stale numbers behind.
func TestLessonNumbers(t *testing.T) {
	c, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	order := map[string]int{}
	for _, l := range c.Lessons {
		order[l.ID] = l.Order
	}
	link := regexp.MustCompile(`(?i)\[lesson\s+(\d+)\]\(/lessons/([a-z0-9-]+)`)
	n := 0
	for _, l := range c.Lessons {
		b, err := fs.ReadFile(FS(), l.File)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range link.FindAllStringSubmatchIndex(string(b), -1) {
			n++
			num, id := string(b[m[2]:m[3]]), string(b[m[4]:m[5]])
			if want, ok := order[id]; ok && num != strconv.Itoa(want) {
				t.Errorf("%s:%d: [lesson %s] links to %s, which is lesson %d", l.File, 1+strings.Count(string(b[:m[0]]), "\n"), num, id, want)
			}
		}
	}
	if n == 0 {
		t.Fatal("no numbered lesson links found")
	}
}

// TestReadmeLessonList: the project README lists the lessons in course
// order, each with its id, so the list cannot drift from the files.
func TestReadmeLessonList(t *testing.T) {
	c, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	item := regexp.MustCompile("(?m)^(\\d+)\\. [^\\n]*?\\(`([a-z0-9-]+)`\\)")
	var got []string
	for _, m := range item.FindAllStringSubmatch(string(b), -1) {
		got = append(got, m[1]+" "+m[2])
	}
	var want []string
	for i, l := range c.Lessons {
		want = append(want, strconv.Itoa(i+1)+" "+l.ID)
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("README.md lists the lessons\n%s\nthe course has\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
