package tlskeys

import (
	"bytes"
	"testing"
)

// FuzzParseKeyLog checks that any text parses without panicking, and that
// the secret of every line ParseLine accepts can be found again (the last
// line of a label and client random wins).
func FuzzParseKeyLog(f *testing.F) {
	f.Add([]byte("# comment\nCLIENT_RANDOM " + string(bytes.Repeat([]byte("ab"), 32)) + " 0102\n"))
	f.Add([]byte("SERVER_TRAFFIC_SECRET_0 zz 01\n\n  \t\nx y\n"))
	f.Fuzz(func(t *testing.T, text []byte) {
		kl := ParseKeyLog(text)
		want := map[string][]byte{}
		for _, line := range bytes.Split(text, []byte("\n")) {
			if l, ok := ParseLine(line); ok {
				if len(l.ClientRandom) != 32 || len(l.Secret) == 0 || l.Label == "" {
					t.Fatalf("line %q parsed as %+v", line, l)
				}
				want[l.Label+" "+string(l.ClientRandom)] = l.Secret
			}
		}
		for k, secret := range want {
			label, random, _ := bytes.Cut([]byte(k), []byte(" "))
			if got := kl.Secret(string(label), random); !bytes.Equal(got, secret) {
				t.Fatalf("%s: secret %x, want %x", label, got, secret)
			}
		}
	})
}
