package main

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/mqtts-playground/playground/broker"
)

// The broker's limits are flags (and PLAYGROUND_* variables) with safe
// defaults; 0 turns one off, a negative value is refused.
func TestLimitFlags(t *testing.T) {
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want broker.Options // the limits only
		err  string
	}{
		{name: "defaults", want: broker.Options{MaxPacketSize: broker.DefaultMaxPacketSize, SessionExpiry: broker.DefaultSessionExpiry,
			SessionQueue: broker.DefaultSessionQueue, SessionQueueBytes: broker.DefaultSessionQueueBytes, ConnsPerAddr: broker.DefaultConnsPerAddr}},
		{name: "set", args: []string{"--max-packet-size", "4096", "--session-expiry", "10m", "--session-queue", "50", "--session-queue-bytes", "65536", "--max-conns-per-addr", "5"},
			want: broker.Options{MaxPacketSize: 4096, SessionExpiry: 10 * time.Minute, SessionQueue: 50, SessionQueueBytes: 65536, ConnsPerAddr: 5}},
		{name: "env", env: map[string]string{"PLAYGROUND_SESSION_EXPIRY": "90s", "PLAYGROUND_MAX_CONNS_PER_ADDR": "7"},
			want: broker.Options{MaxPacketSize: broker.DefaultMaxPacketSize, SessionExpiry: 90 * time.Second,
				SessionQueue: broker.DefaultSessionQueue, SessionQueueBytes: broker.DefaultSessionQueueBytes, ConnsPerAddr: 7}},
		{name: "zero is no limit", args: []string{"--max-packet-size", "0", "--session-expiry", "0", "--session-queue", "0", "--session-queue-bytes", "0", "--max-conns-per-addr", "0"},
			want: broker.Options{MaxPacketSize: -1, SessionExpiry: -1, SessionQueue: -1, SessionQueueBytes: -1, ConnsPerAddr: -1}},
		{name: "negative", args: []string{"--session-queue", "-3"}, err: "--session-queue must not be negative"},
		{name: "bad duration", args: []string{"--session-expiry", "soon"}, err: "session-expiry"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			c, err := parseConfig(tt.args, func(k string) string { return tt.env[k] }, &out)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("error %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := c.brokerOptions(nil)
			got.Logger, got.TraceLimit = nil, 0
			if got != tt.want {
				t.Errorf("broker options\n got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}
