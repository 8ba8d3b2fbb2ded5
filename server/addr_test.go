package main

import "testing"

func TestDialHost(t *testing.T) {
	tests := []struct {
		addr, near string
		host, port string
	}{
		{"127.0.0.1:8883", "", "127.0.0.1", "8883"},
		{"127.0.0.1:8883", "trainer.lan", "127.0.0.1", "8883"}, // bound to one address: that one
		{"192.0.2.7:8883", "", "192.0.2.7", "8883"},
		{"[::1]:8883", "", "::1", "8883"},
		{"localhost:8883", "", "localhost", "8883"},
		// Every interface: the name the client came by, else loopback.
		{":8883", "", "127.0.0.1", "8883"},
		{"0.0.0.0:8883", "", "127.0.0.1", "8883"},
		{"[::]:8883", "", "127.0.0.1", "8883"},
		{"[::ffff:0.0.0.0]:8883", "", "127.0.0.1", "8883"},
		{":8883", "trainer.lan", "trainer.lan", "8883"},
		{"[::]:8883", "192.168.1.20", "192.168.1.20", "8883"},
		{"0.0.0.0:8883", "fd00::5", "fd00::5", "8883"},
		// No port: as given.
		{"", "", "", ""},
		{"broker", "", "broker", ""},
	}
	for _, tt := range tests {
		if host, port := dialHost(tt.addr, tt.near); host != tt.host || port != tt.port {
			t.Errorf("dialHost(%q, %q) = %q, %q; want %q, %q", tt.addr, tt.near, host, port, tt.host, tt.port)
		}
	}
}

func TestURLFor(t *testing.T) {
	for addr, want := range map[string]string{
		"127.0.0.1:8080": "http://127.0.0.1:8080/",
		":8080":          "http://127.0.0.1:8080/",
		"[::]:8080":      "http://127.0.0.1:8080/",
		"[::1]:8080":     "http://[::1]:8080/",
	} {
		if got := urlFor("http", addr); got != want {
			t.Errorf("urlFor(http, %q) = %q, want %q", addr, got, want)
		}
	}
}
