package main

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"testing"
	"time"

	"github.com/mqtts-playground/playground/broker"
	"github.com/mqtts-playground/playground/trace"
	"github.com/mqtts-playground/playground/wasm/client"
	"github.com/mqtts-playground/playground/wasm/inpage"
)

// TestInPageBodies checks that the static build's broker (package inpage)
// answers with the bodies this server answers with (the broker's types,
// broker/info.go): each decodes into its type with no field left over,
// and encodes back to the same bytes, so the page parses both with the
// same generated types.
func TestInPageBodies(t *testing.T) {
	b, err := inpage.New(inpage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	raw, err := b.Dial(ctx, "mqtts", "")
	if err != nil {
		t.Fatal(err)
	}
	c, err := client.Dial(ctx, raw, trace.NewRecorder(trace.Client, 0), client.Options{ClientID: "same-json", TLS: &client.TLSOptions{CAPEM: b.CAPEM()}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	key := hex.EncodeToString(c.ClientRandom())
	list, err := b.TraceList("")
	if err != nil {
		t.Fatal(err)
	}
	conn, err := b.TraceConn(key)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name string
		body string
		into any
	}{
		{"health", b.Health(), new(broker.Health)},
		{"traceList", list, new(broker.ConnList)},
		{"traceConn", conn, new(broker.ConnTrace)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dec := json.NewDecoder(bytes.NewReader([]byte(tt.body)))
			dec.DisallowUnknownFields()
			if err := dec.Decode(tt.into); err != nil {
				t.Fatalf("the type does not read %s: %v", tt.name, err)
			}
			var again bytes.Buffer
			json.NewEncoder(&again).Encode(tt.into)
			if again.String() != tt.body {
				t.Errorf("%s differs from the server's encoding:\n in-page %s\n server  %s", tt.name, tt.body, again.String())
			}
		})
	}
}
