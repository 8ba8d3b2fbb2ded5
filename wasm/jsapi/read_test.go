package jsapi

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/mqtts-playground/playground/trace/recording"
	"github.com/mqtts-playground/playground/wasm/client"
)

// toObject turns what encoding/json decodes into any into the values the
// page's objects give (see object in read_js.go).
func toObject(v any) any {
	switch v := v.(type) {
	case map[string]any:
		return object(func(k string) any { return toObject(v[k]) })
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = toObject(x)
		}
		return out
	}
	return v
}

func parseObject(t *testing.T, s string) object {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatal(err)
	}
	return toObject(v).(object)
}

func TestReadRecordingSessions(t *testing.T) {
	files, _ := filepath.Glob("../../trace/testdata/sessions/*.json")
	n := 0
	for _, f := range files {
		if strings.HasSuffix(f, ".golden.json") {
			continue
		}
		b, _ := os.ReadFile(f)
		var want recording.Recording
		if err := json.Unmarshal(b, &want); err != nil {
			t.Fatal(err)
		}
		got, err := readRecording(parseObject(t, string(b)))
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: read differently than encoding/json", f)
		}
		n++
	}
	if n < 4 {
		t.Fatalf("only %d recordings", n)
	}
}

func TestReadOptions(t *testing.T) {
	all := `{"listener": "mtls", "tunnelURL": "ws://x/tunnel", "clientId": "c", "username": "u", "password": "p", "mqttVersion": 4, "keepAlive": 30,
		"cleanStart": false, "sessionExpiry": 60, "authMethod": "SCRAM-SHA-1",
		"will": {"topic": "lesson/w", "payload": "gone", "qos": 1, "retain": true, "delay": 5},
		"tls": {"serverName": "s", "caPEM": "ca", "certPEM": "cert", "keyPEM": "key", "identity": "id", "insecureSkipVerify": true, "resume": false,
			"intermediatesPEM": "im", "alpn": ["mqtt"],
			"groups": ["X25519", "P-256"], "minVersion": "1.2", "maxVersion": "1.3"}}`
	// "every option" has every key the Go client reads.
	for _, typ := range []reflect.Type{reflect.TypeFor[connectOptions](), reflect.TypeFor[client.Options](), reflect.TypeFor[client.TLSOptions]()} {
		for i := range typ.NumField() {
			name, _, _ := strings.Cut(typ.Field(i).Tag.Get("json"), ",")
			if name != "" && name != "-" && !strings.Contains(all, `"`+name+`":`) {
				t.Errorf("the test's options lack %q (%s)", name, typ)
			}
		}
	}
	for _, tt := range []struct {
		name, json, err string
	}{
		{"every option", all, ""},
		{"none", `{}`, ""},
		{"tls without resume", `{"tls": {"serverName": "s"}}`, ""},
		{"nulls", `{"clientId": null, "tls": null}`, ""},
		{"a number for a string", `{"clientId": 5}`, "bad options: options.clientId must be a string, not a number"},
		{"a fraction", `{"mqttVersion": 4.5}`, "bad options: options.mqttVersion must be a whole number, not a number"},
		{"tls not an object", `{"tls": "yes"}`, "bad options: options.tls must be an object, not a string"},
		{"a group not a string", `{"tls": {"groups": ["X25519", 1]}}`, "bad options: options.tls.groups[1] must be a string, not a number"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := readOptions(parseObject(t, tt.json))
			if tt.err != "" {
				if err == nil || err.Error() != tt.err {
					t.Fatalf("error %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var want connectOptions
			json.Unmarshal([]byte(tt.json), &want)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("read %+v (tls %+v), encoding/json reads %+v (tls %+v)", got, got.TLS, want, want.TLS)
			}
		})
	}
}

func TestReadRecordingErrors(t *testing.T) {
	for _, tt := range []struct{ json, err string }{
		{`{"chunks": 3}`, "not a recording: recording.chunks must be an array, not a number"},
		{`{"chunks": [{"data": "!!"}]}`, "not a recording: recording.chunks[0].data is not base64"},
		{`{"chunks": [{"time": "yesterday"}]}`, "not a recording: recording.chunks[0].time:"},
		{`{"chunks": [7]}`, "not a recording: recording.chunks[0] must be an object, not a number"},
		{`{"chunks": [{"next": {"skip": "1"}}]}`, "not a recording: recording.chunks[0].next.skip must be a number, not a string"},
	} {
		_, err := readRecording(parseObject(t, tt.json))
		if err == nil || !strings.HasPrefix(err.Error(), tt.err) {
			t.Errorf("%s: error %v, want %q", tt.json, err, tt.err)
		}
	}
}
