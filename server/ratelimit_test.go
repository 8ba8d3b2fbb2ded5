package main

import (
	"net/http/httptest"
	"net/netip"
	"testing"
	"time"
)

func TestClientKey(t *testing.T) {
	for addr, want := range map[string]string{
		"192.0.2.1:5000":                  "192.0.2.1/32",
		"[::ffff:192.0.2.1]:5000":         "192.0.2.1/32", // the same client over a dual-stack socket
		"[2001:db8:1:2:aaaa::1]:5000":     "2001:db8:1:2::/64",
		"[2001:db8:1:2:bbbb::9]:6000":     "2001:db8:1:2::/64",
		"[fe80::1%eth0]:5000":             "fe80::/64",
		"[::1]:5000":                      "::/64",
		"not an address":                  "invalid Prefix",
		"192.0.2.1":                       "invalid Prefix", // no port: not a RemoteAddr
		"[2001:db8:1:3::1]:5000":          "2001:db8:1:3::/64",
		"[2001:db8:ffff:ffff:1::]:443":    "2001:db8:ffff:ffff::/64",
		"[2001:db8:ffff:ffff:ffff::]:443": "2001:db8:ffff:ffff::/64",
	} {
		if got := clientKey(addr).String(); got != want {
			t.Errorf("clientKey(%q) = %s, want %s", addr, got, want)
		}
	}
}

// fakeClock is a clock the test moves by hand.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time          { return c.t }
func (c *fakeClock) advance(d time.Duration) { c.t = c.t.Add(d) }

func newTestLimiter(size int) (*clientLimiter, *fakeClock) {
	clock := &fakeClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	l := newClientLimiter(6*time.Second, 10, size)
	l.now = clock.now
	return l, clock
}

// allowFrom asks l for a token for a request from addr.
func allowFrom(l *clientLimiter, addr string) (bool, time.Duration) {
	r := httptest.NewRequest("POST", "/pki/csr", nil)
	r.RemoteAddr = addr
	return l.allow(r)
}

// drain takes n tokens for addr and fails unless all are granted.
func drain(t *testing.T, l *clientLimiter, addr string, n int) {
	t.Helper()
	for i := range n {
		if ok, _ := allowFrom(l, addr); !ok {
			t.Fatalf("%s: request %d refused, want %d allowed", addr, i+1, n)
		}
	}
}

func TestClientLimiter(t *testing.T) {
	l, clock := newTestLimiter(100)
	const a = "192.0.2.1:1000"

	// Ten at once, then none until the bucket refills: one per six seconds.
	drain(t, l, a, 10)
	ok, wait := allowFrom(l, a)
	if ok || wait != 6*time.Second {
		t.Fatalf("11th request: allowed %v, wait %v; want refused, 6s", ok, wait)
	}
	if got := retryAfter(wait); got != "6" {
		t.Errorf("Retry-After %q, want 6", got)
	}
	clock.advance(2 * time.Second)
	if ok, wait := allowFrom(l, a); ok || wait != 4*time.Second {
		t.Errorf("2s later: allowed %v, wait %v; want refused, 4s", ok, wait)
	}
	clock.advance(4 * time.Second)
	drain(t, l, a, 1)
	if ok, _ := allowFrom(l, a); ok {
		t.Error("a refilled token was granted twice")
	}

	// Another port is the same client; another address is not.
	if ok, _ := allowFrom(l, "192.0.2.1:2000"); ok {
		t.Error("the same address from another port got a fresh bucket")
	}
	drain(t, l, "192.0.2.2:1000", 10)

	// IPv6: one bucket per /64.
	drain(t, l, "[2001:db8::1]:1000", 10)
	if ok, _ := allowFrom(l, "[2001:db8::ffff:2]:1000"); ok {
		t.Error("another address in the same /64 got a fresh bucket")
	}
	drain(t, l, "[2001:db8:0:1::1]:1000", 10)
}

// TestClientLimiterBounded: a flood of new addresses costs bounded memory
// and forgets only the least recently active clients; an active client keeps
// its (empty) bucket.
func TestClientLimiterBounded(t *testing.T) {
	l, _ := newTestLimiter(3)
	const active, idle = "192.0.2.1:1", "192.0.2.2:1"
	drain(t, l, idle, 10)
	drain(t, l, active, 10)
	for i := range 1000 {
		allowFrom(l, netip.AddrPortFrom(netip.AddrFrom4([4]byte{198, 51, byte(i >> 8), byte(i)}), 1).String())
		if i%2 == 0 {
			if ok, _ := allowFrom(l, active); ok {
				t.Fatalf("after %d other clients the active client's limit was reset", i+1)
			}
		}
		if n := l.clients.len(); n > 3 {
			t.Fatalf("%d clients remembered, want at most 3", n)
		}
	}
	// The idle client was forgotten: it starts again with a full bucket.
	drain(t, l, idle, 10)
}

func TestLRU(t *testing.T) {
	c := newLRU[string, int](2)
	c.add("a", 1)
	c.add("b", 2)
	if v, ok := c.get("a"); !ok || v != 1 { // a is now the most recent
		t.Fatalf("get a = %d, %v", v, ok)
	}
	c.add("c", 3) // forgets b
	if _, ok := c.get("b"); ok {
		t.Error("b survived, want the least recently used forgotten")
	}
	for k, want := range map[string]int{"a": 1, "c": 3} {
		if v, ok := c.get(k); !ok || v != want {
			t.Errorf("get %s = %d, %v; want %d", k, v, ok, want)
		}
	}
	c.add("a", 10) // an update, not a new entry
	if v, _ := c.get("a"); v != 10 || c.len() != 2 {
		t.Errorf("after update: a = %d, len %d", v, c.len())
	}
	if _, ok := c.get("c"); !ok {
		t.Error("an update forgot another entry")
	}
}
