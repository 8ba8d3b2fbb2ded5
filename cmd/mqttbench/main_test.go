package main

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"github.com/mqtts-playground/playground/internal/mosquitto"
)

// TestMain lets the test binary be the bench's broker process too (the
// bench starts itself with "serve").
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == "serve" {
		if err := serve(os.Args[2:]); err != nil {
			os.Stderr.WriteString(err.Error() + "\n")
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// A short run of every scenario against every broker prints a table with
// a figure for each broker and a ratio against mosquitto on every line.
func TestBenchRuns(t *testing.T) {
	if mosquitto.Path() == "" {
		t.Fatal("mosquitto not found: " + mosquitto.InstallHint)
	}
	var out bytes.Buffer
	err := run([]string{"-rounds", "1", "-duration", "100ms", "-workers", "2", "-pairs", "1", "-fanout", "3",
		"-samples", "20", "-idle", "20", "-rest", "10ms", "-window", "16"}, &out)
	if err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	table := out.String()
	for _, want := range []string{"idle memory per connection TCP", "idle memory per connection TLS", "connects/s TCP",
		"connects/s TLS, full handshake", "connects/s TLS, resumed", "QoS 0 msgs/s TCP", "QoS 1 msgs/s TLS",
		"fan-out 1→3 msgs/s TLS", "latency p50 TCP", "latency p99 TLS", "load average"} {
		if !strings.Contains(table, want) {
			t.Errorf("no %q in\n%s", want, table)
		}
	}
	for line := range strings.Lines(table) {
		if !strings.HasPrefix(line, "| ") || strings.HasPrefix(line, "| scenario") {
			continue
		}
		cells := strings.Split(line, " | ")
		// scenario, pg, off, watched, mosq, front, pg/mosq, watched/mosq, front/mosq, costs
		// (the front end has no plain listener: no TCP figures)
		if len(cells) < 10 || strings.Contains(strings.Join(cells[1:5], " "), "–") || strings.Contains(cells[6], "–") {
			t.Errorf("missing figures: %s", line)
		}
		if tcp := strings.Contains(cells[0], "TCP"); tcp != (cells[5] == "–") || tcp != (cells[8] == "–") {
			t.Errorf("front end figures only for TLS: %s", line)
		}
	}
}
