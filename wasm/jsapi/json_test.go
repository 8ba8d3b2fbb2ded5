package jsapi

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"testing/quick"
	"time"

	"github.com/mqtts-playground/playground/trace"
	"github.com/mqtts-playground/playground/trace/recording"
	"github.com/mqtts-playground/playground/wasm/client"
)

// sameJSON fails unless v's own JSON is what encoding/json makes of v:
// byte for byte.
func sameJSON(t *testing.T, name string, v jsonValuer, std any) {
	t.Helper()
	want, err := json.Marshal(std)
	if err != nil {
		t.Fatal(err)
	}
	got := v.appendJSON(nil)
	if string(got) != string(want) {
		var g, w any
		json.Unmarshal(got, &g)
		json.Unmarshal(want, &w)
		if !reflect.DeepEqual(g, w) {
			t.Errorf("%s: hand-written JSON differs from encoding/json:\n got %.400s\nwant %.400s", name, got, want)
			return
		}
		t.Errorf("%s: same value, other bytes:\n got %.400s\nwant %.400s", name, got, want)
	}
}

// Every recorded session of trace's golden files: the recording and its
// decoded events.
func TestJSONSessions(t *testing.T) {
	files, _ := filepath.Glob("../../trace/testdata/sessions/*.json")
	if len(files) < 4 {
		t.Fatalf("only %d session files", len(files))
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		name := filepath.Base(f)
		if strings.HasSuffix(f, ".golden.json") {
			var es []trace.Event
			if err := json.Unmarshal(b, &es); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			sameJSON(t, name, events(es), es)
			continue
		}
		var rec recording.Recording
		if err := json.Unmarshal(b, &rec); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		sameJSON(t, name, recordingJSON(rec), rec)
		es := trace.Decode(rec)
		sameJSON(t, name+" decoded", events(es), es)
	}
}

func TestJSONValues(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 123456789, time.FixedZone("x", 3600))
	var nilInfo *TLSInfo
	for _, tt := range []struct {
		name string
		v    jsonValuer
		std  any
	}{
		{"no events", events(nil), []trace.Event(nil)},
		{"empty events", events{}, []trace.Event{}},
		{"event, every field", events{{Seq: 1, Time: now, Side: "client", Dir: "send", Layer: "tls", Type: "ClientHello", Length: 3, Bytes: "010203",
			Encrypted: true, Plain: "ff", Summary: "a <b> & c", Error: "bad\x01", Fields: []trace.Field{{Name: "n", Value: "v\u2028", Start: 1, End: 2, In: "plain", Depth: 2, About: "a", Spec: "RFC"}}}},
			[]trace.Event{{Seq: 1, Time: now, Side: "client", Dir: "send", Layer: "tls", Type: "ClientHello", Length: 3, Bytes: "010203",
				Encrypted: true, Plain: "ff", Summary: "a <b> & c", Error: "bad\x01", Fields: []trace.Field{{Name: "n", Value: "v\u2028", Start: 1, End: 2, In: "plain", Depth: 2, About: "a", Spec: "RFC"}}}}},
		{"recording with a gap", recordingJSON{Side: "broker", Chunks: []recording.Chunk{{Time: now, Dir: "recv", App: true, Data: []byte{}}, {Time: now, Dir: "send", Gap: 7, Next: &recording.RecordStart{Skip: 1, Index: 2}}}, Dropped: 7},
			recording.Recording{Side: "broker", Chunks: []recording.Chunk{{Time: now, Dir: "recv", App: true, Data: []byte{}}, {Time: now, Dir: "send", Gap: 7, Next: &recording.RecordStart{Skip: 1, Index: 2}}}, Dropped: 7}},
		{"checks", checks{{Step: "s", OK: true, Detail: "d"}}, []client.Check{{Step: "s", OK: true, Detail: "d"}}},
		{"no TLS", nilInfo, nilInfo},
		{"TLS", &TLSInfo{Version: "TLS 1.3", CipherSuite: "c", Group: "g", Resumed: true, ServerName: "s", ClientRandom: "r"}, TLSInfo{Version: "TLS 1.3", CipherSuite: "c", Group: "g", Resumed: true, ServerName: "s", ClientRandom: "r"}},
		{"TLS with ALPN", &TLSInfo{Version: "TLS 1.3", CipherSuite: "c", Resumed: false, ServerName: "s", ClientRandom: "r", ALPN: "mqtt"}, TLSInfo{Version: "TLS 1.3", CipherSuite: "c", ServerName: "s", ClientRandom: "r", ALPN: "mqtt"}},
		{"message", Message{Topic: "t", Payload: "p\xff", QoS: 2, Retain: true}, Message{Topic: "t", Payload: "p\xff", QoS: 2, Retain: true}},
		{"identity", Identity{ID: "1", Name: "n", Subject: "s", Issuer: "i", Serial: "0a", NotAfter: "x", ChainPEM: "-----"}, Identity{ID: "1", Name: "n", Subject: "s", Issuer: "i", Serial: "0a", NotAfter: "x", ChainPEM: "-----"}},
		{"identity request", IdentityRequest{ID: "1", CSRPEM: "c"}, IdentityRequest{ID: "1", CSRPEM: "c"}},
		{"saved identity", SavedIdentity{Name: "n", KeyPEM: "k", ChainPEM: "c"}, SavedIdentity{Name: "n", KeyPEM: "k", ChainPEM: "c"}},
		{"revocation proof", RevocationProof{CertPEM: "c", Proof: "p"}, RevocationProof{CertPEM: "c", Proof: "p"}},
	} {
		sameJSON(t, tt.name, tt.v, tt.std)
	}
}

// Strings, any bytes at all: escaped as encoding/json escapes them.
func TestJSONStrings(t *testing.T) {
	f := func(s string, raw []byte) bool {
		for _, x := range []string{s, string(raw)} {
			want, _ := json.Marshal(x)
			if got := appendString(nil, x); string(got) != string(want) {
				t.Logf("%q: got %s, want %s", x, got, want)
				return false
			}
		}
		return true
	}
	if err := quick.Check(f, &quick.Config{MaxCount: 5000}); err != nil {
		t.Error(err)
	}
	for _, s := range []string{"\u2028\u2029", "\x00\x1f\x7f", "é\xc3", "<script>&amp;", `"\`} {
		want, _ := json.Marshal(s)
		if got := appendString(nil, s); string(got) != string(want) {
			t.Errorf("%q: got %s, want %s", s, got, want)
		}
	}
}
