package main

import (
	"container/list"
	"math"
	"net/http"
	"net/netip"
	"strconv"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// clientLimiter gives each client its own token bucket: burst events at
// once, then one every so often. A client is an IPv4 address or an IPv6 /64,
// the block one host or household usually gets, so a single machine cannot
// mint fresh buckets by hopping addresses inside it.
//
// It remembers the most recently active clients only, up to a fixed number:
// the least recently active one is forgotten to make room (and starts again
// with a full bucket if it comes back), so a flood of addresses costs
// bounded memory and never resets everyone else's limit.
type clientLimiter struct {
	mu      sync.Mutex
	every   rate.Limit
	burst   int
	clients *lru[string, *rate.Limiter]
	now     func() time.Time
	warn    *logEvery // refusals logged lately
}

// newClientLimiter allows each client burst events at once and then one
// per interval, remembering up to size clients.
func newClientLimiter(interval time.Duration, burst, size int) *clientLimiter {
	return &clientLimiter{every: rate.Every(interval), burst: burst, clients: newLRU[string, *rate.Limiter](size), now: time.Now, warn: newLogEvery(time.Minute)}
}

// allow takes a token from the bucket of the request's client. When there is
// none it returns false and how long until the next one.
func (l *clientLimiter) allow(r *http.Request) (bool, time.Duration) {
	return l.allowKey(clientKey(r.RemoteAddr).String())
}

// allowKey is allow for a client named by key: in a class, an attendee's
// requests count against the attendee, wherever they come from.
func (l *clientLimiter) allowKey(key string) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	lim, ok := l.clients.get(key)
	if !ok {
		lim = rate.NewLimiter(l.every, l.burst)
		l.clients.add(key, lim)
	}
	now := l.now()
	if lim.AllowN(now, 1) {
		return true, 0
	}
	wait := time.Duration((1 - lim.TokensAt(now)) / float64(l.every) * float64(time.Second))
	return false, wait.Round(time.Millisecond) // float noise off
}

// clientKey is the rate-limit identity of a remote address (IP:port): the
// IPv4 address, or the /64 of an IPv6 one. An address that does not parse
// (never so for a TCP connection) shares one bucket with all such.
func clientKey(remoteAddr string) netip.Prefix {
	ap, err := netip.ParseAddrPort(remoteAddr)
	if err != nil {
		return netip.Prefix{}
	}
	ip := ap.Addr().Unmap().WithZone("")
	bits := 32
	if ip.Is6() {
		bits = 64
	}
	p, _ := ip.Prefix(bits)
	return p
}

// retryAfter is the value of a Retry-After header for a wait: whole
// seconds, at least one.
func retryAfter(wait time.Duration) string {
	return strconv.Itoa(max(1, int(math.Ceil(wait.Seconds()))))
}

// lru is a map of at most size entries that forgets the least recently used
// one to make room. It is not safe for concurrent use.
type lru[K comparable, V any] struct {
	size  int
	order *list.List // of *lruEntry, most recently used first
	items map[K]*list.Element
	// evicted, when set, is told of each entry forgotten to make room or
	// by removeOldest.
	evicted func(K, V)
}

type lruEntry[K comparable, V any] struct {
	key K
	val V
}

func newLRU[K comparable, V any](size int) *lru[K, V] {
	return &lru[K, V]{size: max(size, 1), order: list.New(), items: map[K]*list.Element{}}
}

// get returns the value stored for k and marks it the most recently used.
func (c *lru[K, V]) get(k K) (V, bool) {
	e, ok := c.items[k]
	if !ok {
		var zero V
		return zero, false
	}
	c.order.MoveToFront(e)
	return e.Value.(*lruEntry[K, V]).val, true
}

// add stores v for k as the most recently used entry, forgetting the least
// recently used one when the map is full.
func (c *lru[K, V]) add(k K, v V) {
	if e, ok := c.items[k]; ok {
		e.Value.(*lruEntry[K, V]).val = v
		c.order.MoveToFront(e)
		return
	}
	if c.order.Len() >= c.size {
		c.removeOldest()
	}
	c.items[k] = c.order.PushFront(&lruEntry[K, V]{k, v})
}

// removeOldest forgets the least recently used entry, if any.
func (c *lru[K, V]) removeOldest() {
	oldest := c.order.Back()
	if oldest == nil {
		return
	}
	e := c.order.Remove(oldest).(*lruEntry[K, V])
	delete(c.items, e.key)
	if c.evicted != nil {
		c.evicted(e.key, e.val)
	}
}

// len returns the number of entries.
func (c *lru[K, V]) len() int { return c.order.Len() }
