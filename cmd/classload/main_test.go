package main

import (
	"testing"
	"time"
)

// A small class runs end to end against the real server with --workshop:
// every attendee joins, connects through the tunnel, follows its trace
// stream and publishes; a device connects on the mqtts port; no QoS 1
// message is lost. The latency goals are loose here (the test shares the
// machine with the other packages' tests); `./task class-load` holds the
// 300-seat figures to the goals.
func TestSmallClass(t *testing.T) {
	err := run(options{
		attendees: 6, devices: 2,
		ramp: time.Second, duration: 3 * time.Second, every: 300 * time.Millisecond,
		goalHandshake: 30 * time.Second, goalDeliver: 30 * time.Second, goalRSS: 1024,
	})
	if err != nil {
		t.Fatal(err)
	}
}
