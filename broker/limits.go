package broker

import (
	"errors"
	"fmt"
	"math"
	"net"
	"strings"
	"sync"
	"time"

	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/packets"
)

// addrKey is the address a connection counts against in Options.ConnsPerAddr:
// its IP, or its /64 for IPv6 (one customer's usual share). It is empty for
// connections without an IP address, which are not counted.
func addrKey(a net.Addr) string {
	ta, ok := a.(*net.TCPAddr)
	if !ok {
		return ""
	}
	if ip4 := ta.IP.To4(); ip4 != nil {
		return ip4.String()
	}
	return (&net.IPNet{IP: ta.IP.Mask(net.CIDRMask(64, 128)), Mask: net.CIDRMask(64, 128)}).String()
}

// ErrTooManyConns is returned by Admit for an address that has as many
// connections open as Options.ConnsPerAddr allows.
var ErrTooManyConns = errors.New("broker: too many connections from one address")

// Admit counts a new connection from remote against Options.ConnsPerAddr;
// via names the way it came in, for the log. The listeners with a TCP
// address do it for each connection they accept; a server that hands
// connections to Serve (the tunnel, MQTT over WebSocket) calls it before
// accepting one, so one address's connections count together however they
// come. On success, release must be called once the connection ends. The
// first refusal of an address since it was last under the limit is logged.
func (b *Broker) Admit(via string, remote net.Addr) (release func(), err error) {
	key := addrKey(remote)
	ok, first := b.perAddr.acquire(key)
	if !ok {
		if first {
			b.log.Warn("refusing connections: too many from one address", "via", via, "address", key, "limit", b.perAddr.max,
				"hint", "raise --max-conns-per-addr if one machine really needs more (a NAT, a load test)")
		}
		return nil, fmt.Errorf("%w (%s has %d open; the limit is --max-conns-per-addr)", ErrTooManyConns, key, b.perAddr.max)
	}
	var once sync.Once
	return func() { once.Do(func() { b.perAddr.release(key) }) }, nil
}

// addrLimiter counts open connections per address.
type addrLimiter struct {
	max int

	mu     sync.Mutex
	open   map[string]int
	warned map[string]bool // refused since the count was last under max
}

func newAddrLimiter(max int) *addrLimiter {
	return &addrLimiter{max: max, open: map[string]int{}, warned: map[string]bool{}}
}

// acquire counts a new connection from key; ok says whether it is within
// the limit, first whether it is the first refusal since key was last under
// it (worth a log line).
func (l *addrLimiter) acquire(key string) (ok, first bool) {
	if key == "" {
		return true, false
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.open[key] >= l.max {
		first = !l.warned[key]
		l.warned[key] = true
		return false, first
	}
	l.open[key]++
	return true, false
}

func (l *addrLimiter) release(key string) {
	if key == "" {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.open[key]--; l.open[key] <= 0 {
		delete(l.open, key)
	}
	if l.open[key] < l.max {
		delete(l.warned, key)
	}
}

// logLimiter remembers what was logged lately, so that a limit biting again
// and again logs once a period, not once a message.
type logLimiter struct {
	every time.Duration

	mu   sync.Mutex
	last map[string]time.Time
}

func newLogLimiter(every time.Duration) *logLimiter {
	return &logLimiter{every: every, last: map[string]time.Time{}}
}

// allow reports whether key may be logged now, and if so notes it.
func (l *logLimiter) allow(key string) bool {
	now := time.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if t, ok := l.last[key]; ok && now.Sub(t) < l.every {
		return false
	}
	if len(l.last) >= 1024 { // forget the old ones
		for k, t := range l.last {
			if now.Sub(t) >= l.every {
				delete(l.last, k)
			}
		}
	}
	l.last[key] = now
	return true
}

// limitHook logs the session limits when they bite.
type limitHook struct {
	mqtt.HookBase
	b *Broker
}

func (h *limitHook) ID() string { return "playground-limits" }

func (h *limitHook) Provides(b byte) bool {
	return b == mqtt.OnPublishDropped || b == mqtt.OnPublish || b == mqtt.OnWill
}

// RetainedOverhead is what a retained message is counted for beyond its
// topic and payload (the packet and the core's index of it), so that many
// empty-bodied messages on distinct topics count too.
const RetainedOverhead = 512

// recountEvery is how often the retained messages are counted exactly
// even when the running count says there is room.
const recountEvery = 10 * time.Second

// retainedBudget counts the memory of retained messages against
// Options.RetainedBytes.
type retainedBudget struct {
	mu        sync.Mutex
	used      int64
	recounted time.Time // when used was last counted from the store
	// owners is what each attendee's topic spaces hold (in a class).
	owners map[string]int64
}

// recount counts used (and, in a class, each owner's share) exactly from
// the store.
func (r *retainedBudget) recount(store map[string]packets.Packet, ownerTopics []string) {
	r.used, r.recounted = 0, time.Now()
	clear(r.owners)
	for topic, o := range store {
		if coreTopic(topic) {
			continue
		}
		r.used += retainedSize(o)
		if owner := topicOwner(topic, ownerTopics); owner != "" {
			r.owners[owner] += retainedSize(o)
		}
	}
}

// coreTopic tells whether the core publishes topic itself ($SYS, which no
// client may publish to): its retained messages are not the clients' to count.
func coreTopic(topic string) bool {
	return len(topic) >= len(mqtt.SysPrefix) && strings.EqualFold(topic[:len(mqtt.SysPrefix)], mqtt.SysPrefix)
}

func retainedSize(pk packets.Packet) int64 {
	return int64(len(pk.TopicName)+len(pk.Payload)) + RetainedOverhead
}

// OnPublish keeps retained messages within Options.RetainedBytes: a
// stranger must not be able to fill the broker's memory with messages on
// ever new topics.
func (h *limitHook) OnPublish(cl *mqtt.Client, pk packets.Packet) (packets.Packet, error) {
	if !pk.FixedHeader.Retain {
		return pk, nil
	}
	what := h.retain(cl, pk.TopicName, pk.Payload)
	if what == "" {
		return pk, nil
	}
	if cl.Properties.ProtocolVersion == 5 && pk.FixedHeader.Qos > 0 {
		return pk, packets.Code{Code: packets.ErrQuotaExceeded.Code, Reason: "quota exceeded: the broker keeps no more retained messages (" + what + ")"}
	}
	pk.FixedHeader.Retain = false // delivered now, not kept
	return pk, nil
}

// OnWill runs as a client's will is about to go: a retained will counts
// like a retained publish (a client connecting with a retained will on a
// new topic and dropping, again and again, would otherwise fill the
// broker's memory). One over the budget is delivered, not kept.
func (h *limitHook) OnWill(cl *mqtt.Client, will mqtt.Will) (mqtt.Will, error) {
	if will.Retain && h.retain(cl, will.TopicName, will.Payload) != "" {
		will.Retain = false
	}
	return will, nil
}

// retain counts a retained message for topic (an empty payload clears
// the topic's) against Options.RetainedBytes and, in a class, the share of
// the attendee whose topic it is. It returns "" when the message fits, or
// else (having logged it) what is full.
func (h *limitHook) retain(cl *mqtt.Client, topic string, payload []byte) (what string) {
	budget := limit(int64(h.b.opts.RetainedBytes), DefaultRetainedBytes, math.MaxInt64)
	class := h.b.opts.class()
	share := limit(int64(class.OwnerRetainedBytes), DefaultOwnerRetainedBytes, math.MaxInt64)
	r := &h.b.retained
	store := h.b.mq.Topics.Retained
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.owners == nil {
		r.owners = map[string]int64{}
	}
	owner := topicOwner(topic, class.OwnerTopics)
	var old int64
	if o, ok := store.Get(topic); ok {
		old = retainedSize(o)
	}
	size := retainedSize(packets.Packet{TopicName: topic, Payload: payload})
	if len(payload) == 0 { // clears the topic's retained message
		size = 0
	}
	next, mine := r.used-old+size, r.owners[owner]-old+size
	over := func() bool { return next > budget || owner != "" && mine > share }
	if size > 0 && (over() && time.Since(r.recounted) > time.Second || time.Since(r.recounted) > recountEvery) {
		// The running counts drift up when messages leave by other ways
		// (expiry, a later hook refusing the message), and down when two
		// clients race on one topic (the store changes after this hook):
		// count exactly, at most once a second when over, and every
		// recountEvery anyway.
		r.recount(store.GetAll(), class.OwnerTopics)
		next, mine = r.used-old+size, r.owners[owner]-old+size
	}
	if size == 0 || !over() {
		r.used = max(0, next)
		if owner != "" {
			if r.owners[owner] = max(0, mine); mine <= 0 {
				delete(r.owners, owner)
			}
		}
		return ""
	}
	what, flag, lim := "retained messages fill their budget", "--retained-bytes", budget
	if next <= budget {
		what, flag, lim = "the attendee's retained messages fill their share", "--attendee-retained-bytes", share
	}
	if h.b.drops.allow("retained") {
		h.b.log.Warn("not keeping a retained message: "+what, "client", clientID(cl), "listener", cl.Net.Listener,
			"topic", topic, "limit", lim, "owner", owner,
			"hint", "clear retained messages (publish an empty retained message to a topic) or raise "+flag)
	}
	return what
}

// OnPublishDropped runs when a message for a client is dropped because its
// queue is full (Options.SessionQueue, SessionQueueBytes) or it cannot keep up.
func (h *limitHook) OnPublishDropped(cl *mqtt.Client, pk packets.Packet) {
	if !h.b.drops.allow(cl.ID) {
		return
	}
	caps := h.b.mq.Options.Capabilities
	h.b.log.Warn("dropping messages for a client whose queue is full", "client", clientID(cl), "listener", cl.Net.Listener,
		"topic", pk.TopicName, "queued", cl.State.Inflight.Len(), "queuedBytes", cl.State.Inflight.Bytes(),
		"limit", caps.MaximumInflight, "limitBytes", caps.MaximumQueuedBytes,
		"hint", "the client is offline or slow; --session-queue and --session-queue-bytes set the limits")
}
