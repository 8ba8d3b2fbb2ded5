package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// bench holds what every scenario uses.
type bench struct {
	pki      *benchPKI
	duration time.Duration // of each timed scenario
	workers  int           // concurrent connecting clients
	pairs    int           // publisher/subscriber pairs for throughput
	fanout   int           // subscribers of the fan-out publisher
	samples  int           // latency round trips
	idle     int           // idle connections for the memory figure
	rest     time.Duration // pause before resting memory is measured
	window   int           // messages a publisher may have on the way
	payload  []byte

	ids atomic.Int64 // client ids
}

// tlsConfig is what the bench clients offer: TLS 1.3 with X25519 only,
// like OpenSSL-based devices (Go's default would add a post-quantum key
// share mosquitto's OpenSSL does not take), trusting the bench CA.
func (b *bench) tlsConfig(cache tls.ClientSessionCache) *tls.Config {
	return &tls.Config{RootCAs: b.pki.ca.Pool(), ServerName: "localhost", CurvePreferences: []tls.CurveID{tls.X25519}, ClientSessionCache: cache}
}

func (b *bench) id(prefix string) string { return fmt.Sprintf("%s-%d", prefix, b.ids.Add(1)) }

// Client buffer sizes: small for connections that only connect, large for
// those that stream messages.
const (
	smallBuf = 512
	largeBuf = 32 << 10
)

// dial connects one client; TLS without a session cache when useTLS.
func (b *bench) dial(ctx context.Context, t *target, useTLS bool, prefix string, bufSize int) (*mqttConn, error) {
	var cfg *tls.Config
	if useTLS {
		cfg = b.tlsConfig(nil)
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	return dialMQTT(ctx, t.streamer(useTLS), cfg, b.id(prefix), bufSize)
}

// connects opens and closes connections (CONNECT, CONNACK, DISCONNECT)
// from b.workers clients at once for b.duration, and returns how many per
// second. With TLS, resume makes each client keep its session ticket, so
// every connection after its first resumes (when the broker allows it);
// resumedShare says how many did.
func (b *bench) connects(ctx context.Context, t *target, useTLS, resume bool) (perSec, resumedShare float64, err error) {
	var done, resumed atomic.Int64
	var firstErr error
	var mu sync.Mutex
	end := time.Now().Add(b.duration)
	start := time.Now()
	var wg sync.WaitGroup
	for range b.workers {
		wg.Go(func() {
			var cfg *tls.Config
			if useTLS {
				var cache tls.ClientSessionCache
				if resume {
					cache = tls.NewLRUClientSessionCache(1)
				}
				cfg = b.tlsConfig(cache)
			}
			for time.Now().Before(end) && ctx.Err() == nil {
				dctx, cancel := context.WithTimeout(ctx, 10*time.Second)
				m, err := dialMQTT(dctx, t.streamer(useTLS), cfg, b.id("conn"), smallBuf)
				cancel()
				if err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
					return
				}
				if m.resumed {
					resumed.Add(1)
				}
				m.disconnect()
				done.Add(1)
			}
		})
	}
	wg.Wait()
	if firstErr != nil {
		return 0, 0, firstErr
	}
	n := done.Load()
	return float64(n) / time.Since(start).Seconds(), float64(resumed.Load()) / float64(max(n, 1)), nil
}

// group is one publisher and its subscribers on one topic.
type group struct {
	pub       *mqttConn
	subs      []*mqttConn
	topic     string
	delivered atomic.Int64
	acked     atomic.Int64  // PUBACKs the publisher received
	wake      chan struct{} // a subscriber or the ack reader made progress
	stalls    atomic.Int64  // times the publisher gave up waiting (messages lost)
}

func (g *group) signal() {
	select {
	case g.wake <- struct{}{}:
	default:
	}
}

// throughput runs groups publishers, each with subs subscribers on its own
// topic, publishing at qos as fast as the messages arrive (at most
// b.window on the way per publisher, and no more than the broker's
// Receive Maximum unacknowledged at QoS 1), and returns the messages
// delivered per second, all subscribers together.
func (b *bench) throughput(ctx context.Context, t *target, useTLS bool, qos byte, groups, subs int) (perSec float64, stalls int64, err error) {
	run := b.id("run")
	var gs []*group
	defer func() {
		for _, g := range gs {
			if g.pub != nil {
				g.pub.disconnect()
			}
			for _, s := range g.subs {
				s.disconnect()
			}
		}
	}()
	for i := range groups {
		g := &group{topic: fmt.Sprintf("bench/%s/%d", run, i), wake: make(chan struct{}, 1)}
		gs = append(gs, g)
		for range subs {
			s, err := b.dial(ctx, t, useTLS, "sub", largeBuf)
			if err != nil {
				return 0, 0, err
			}
			g.subs = append(g.subs, s)
			if err := s.subscribe(g.topic, qos); err != nil {
				return 0, 0, err
			}
		}
		if g.pub, err = b.dial(ctx, t, useTLS, "pub", largeBuf); err != nil {
			return 0, 0, err
		}
	}
	var stop atomic.Bool
	var wg sync.WaitGroup
	for _, g := range gs {
		for _, s := range g.subs {
			wg.Go(func() { g.receive(s) })
		}
		if qos > 0 {
			wg.Go(func() { g.readAcks() })
		}
		wg.Go(func() { g.publish(&stop, qos, b.window, subs, b.payload) })
	}
	total := func() (n int64) {
		for _, g := range gs {
			n += g.delivered.Load()
		}
		return n
	}
	time.Sleep(b.duration / 5) // warm up
	n0, t0 := total(), time.Now()
	select {
	case <-time.After(b.duration):
	case <-ctx.Done():
	}
	n1, t1 := total(), time.Now()
	stop.Store(true)
	for _, g := range gs {
		g.signal()
		g.pub.disconnect()
		for _, s := range g.subs {
			s.disconnect()
		}
		stalls += g.stalls.Load()
	}
	wg.Wait()
	gs = nil
	return float64(n1-n0) / t1.Sub(t0).Seconds(), stalls, ctx.Err()
}

// receive counts the messages one subscriber gets, acknowledging QoS 1.
func (g *group) receive(s *mqttConn) {
	acks := 0 // written, not yet flushed
	for {
		typ, flags, body, err := s.read()
		if err != nil {
			return
		}
		if typ != typePublish {
			continue
		}
		id, _, err := publishBody(flags, body)
		if err != nil {
			return
		}
		if id != 0 {
			s.wmu.Lock()
			s.puback(id)
			s.wmu.Unlock()
			acks++
		}
		g.delivered.Add(1)
		// Acknowledge promptly (a broker holds at most so many
		// unacknowledged messages per client, then drops more).
		if empty := s.r.Buffered() == 0; empty || acks >= 32 {
			if acks > 0 {
				s.wmu.Lock()
				s.flush()
				s.wmu.Unlock()
				acks = 0
			}
			if empty {
				g.signal()
			}
		}
	}
}

// readAcks counts the publisher's PUBACKs.
func (g *group) readAcks() {
	for {
		typ, _, _, err := g.pub.read()
		if err != nil {
			return
		}
		if typ == typePuback {
			g.acked.Add(1)
		}
		if g.pub.r.Buffered() == 0 {
			g.signal()
		}
	}
}

// publish publishes until stop, keeping at most window messages on the way
// to the slowest reckoning of its subscribers.
func (g *group) publish(stop *atomic.Bool, qos byte, window, subs int, payload []byte) {
	limit := int64(window)
	if qos > 0 {
		limit = min(limit, int64(g.pub.recvMax))
	}
	var sent int64
	var id uint16
	base := int64(0) // messages given up for lost
	for !stop.Load() {
		room := int64(window) - (sent - base - g.delivered.Load()/int64(subs))
		if qos > 0 {
			room = min(room, limit-(sent-g.acked.Load()))
		}
		if room <= 0 {
			select {
			case <-g.wake:
			case <-time.After(250 * time.Millisecond):
				// The broker dropped messages (a full queue): count it,
				// and carry on from what arrived.
				g.stalls.Add(1)
				base = sent - g.delivered.Load()/int64(subs)
			}
			continue
		}
		g.pub.wmu.Lock()
		for range min(room, 64) {
			if qos > 0 {
				if id++; id == 0 {
					id = 1
				}
			}
			g.pub.publish(g.topic, qos, id, payload)
			sent++
		}
		err := g.pub.flush()
		g.pub.wmu.Unlock()
		if err != nil {
			return
		}
	}
}

// latency sends one message at a time from a publisher to a subscriber
// and measures each round trip; it returns the median and the 99th
// percentile.
func (b *bench) latency(ctx context.Context, t *target, useTLS bool) (p50, p99 time.Duration, err error) {
	sub, err := b.dial(ctx, t, useTLS, "lsub", smallBuf)
	if err != nil {
		return 0, 0, err
	}
	defer sub.disconnect()
	topic := "bench/" + b.id("lat")
	if err := sub.subscribe(topic, 0); err != nil {
		return 0, 0, err
	}
	pub, err := b.dial(ctx, t, useTLS, "lpub", smallBuf)
	if err != nil {
		return 0, 0, err
	}
	defer pub.disconnect()
	warm := b.samples / 10
	lat := make([]time.Duration, 0, b.samples)
	for i := range warm + b.samples {
		if ctx.Err() != nil {
			return 0, 0, ctx.Err()
		}
		sub.SetReadDeadline(time.Now().Add(5 * time.Second))
		t0 := time.Now()
		pub.publish(topic, 0, 0, b.payload)
		if err := pub.flush(); err != nil {
			return 0, 0, err
		}
		for {
			typ, _, _, err := sub.read()
			if err != nil {
				return 0, 0, fmt.Errorf("latency: message %d: %w", i, err)
			}
			if typ == typePublish {
				break
			}
		}
		if i >= warm {
			lat = append(lat, time.Since(t0))
		}
	}
	slices.Sort(lat)
	return lat[len(lat)/2], lat[len(lat)*99/100], nil
}

// idleMemory opens b.idle connections that each subscribe to a topic of
// their own and then rest, and returns the broker's resident memory per
// connection: its growth from before they opened, both measured at rest.
func (b *bench) idleMemory(ctx context.Context, t *target, useTLS bool) (perConn float64, err error) {
	if err := t.settle(ctx); err != nil {
		return 0, err
	}
	before, err := t.rss()
	if err != nil {
		return 0, err
	}
	conns := make([]*mqttConn, b.idle)
	defer func() {
		for _, c := range conns {
			if c != nil {
				c.disconnect()
			}
		}
	}()
	var next atomic.Int64
	errs := make(chan error, b.workers)
	var wg sync.WaitGroup
	for range b.workers {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= len(conns) {
					return
				}
				c, err := b.dial(ctx, t, useTLS, "idle", smallBuf)
				if err == nil {
					err = c.subscribe(fmt.Sprintf("idle/%d", i), 0)
				}
				if err != nil {
					errs <- fmt.Errorf("idle connection %d: %w", i, err)
					return
				}
				conns[i] = c
			}
		})
	}
	wg.Wait()
	select {
	case err := <-errs:
		return 0, err
	default:
	}
	time.Sleep(b.rest) // let the last handshakes' garbage become garbage
	if err := t.settle(ctx); err != nil {
		return 0, err
	}
	after, err := t.rss()
	if err != nil {
		return 0, err
	}
	if after < before {
		return 0, errors.New("resident memory shrank while connections opened")
	}
	return float64(after-before) / float64(b.idle), nil
}
