// Package broker is the playground's MQTT broker: a mochi-mqtt core behind a
// small API of named listeners. Every listener runs the same pipeline for a
// TCP connection from a device, a tunnelled connection from a browser or an
// MQTT-over-WebSocket connection:
//
//	conn → [tap: wire bytes] → tls.Server (TLS listeners) → [tap: MQTT bytes] → mochi
//
// The taps record each connection (bounded in size) so the trace can show
// the broker's view of it. Recording costs little but is not free, so it is
// mostly off for connections nobody watches: while no one watches (see
// [Broker.Watch]), a new connection records only its head, the handshake
// and first packets, and nothing after.
//
// The core is mochi-mqtt, a patched copy (third_party/mochi-mqtt, see its
// PATCHES.md): its defects are fixed there, while the playground's rules
// live here as hooks and options: who a client is and which session is its
// own, what lesson clients may touch, and the limits that keep one client
// from taking the broker's memory (see Options).
//
// The package does not parse protocols (that is package trace's job; the
// one exception is the few bytes of a TLS alert, see handshakeConn) and
// does not choose certificates (package pki and the server do).
package broker

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/packets"
	"github.com/mqtts-playground/playground/trace"
	"github.com/mqtts-playground/playground/trace/explain"
)

// Listener describes one named way into the broker.
type Listener struct {
	// Name is the stable name clients and the tunnel use ("mqtt", "mqtts", "mtls" …).
	Name string
	// Addr is the TCP address to listen on; empty for a listener reached
	// only in-process (through the tunnel or a WebSocket handler).
	Addr string
	// TLS, when set, makes the listener speak MQTT over TLS with this
	// configuration. Set ClientAuth to require client certificates. The
	// broker answers ALPN "mqtt" (unless NextProtos or GetConfigForClient
	// is set), and an error from VerifyConnection that wraps a
	// tls.AlertError is refused with that alert (crypto/tls alone always
	// sends bad_certificate). A listener that asks for client
	// certificates issues no TLS 1.2 session tickets (see noTickets12).
	TLS *tls.Config
	// Lesson marks a listener that is deliberately weak or broken for a
	// lesson; it must never carry real traffic.
	Lesson bool
	// About says in one line what the listener is for.
	About string
	// Fault, for a lesson listener, is what is wrong with it on purpose.
	// The broker's log names it for each handshake on the listener, and
	// gives its advice instead of the generic one when the client refuses
	// the broker.
	Fault *explain.Fault
	// NoTunnel keeps the listener out of reach of the byte tunnel (for
	// listeners that are not byte streams, like MQTT over WebSocket).
	NoTunnel bool
	// RelayTo, for a lesson listener, makes it a man in the middle: it
	// terminates TLS with its own certificate (TLS) and relays the
	// decrypted bytes over a fresh TLS connection (RelayTLS) to the named
	// listener. Its recording shows what the relay could read.
	RelayTo  string
	RelayTLS *tls.Config
}

// Options configure a Broker.
type Options struct {
	// Logger receives connection and error logs; nil discards them.
	Logger *slog.Logger
	// TraceLimit is the number of bytes recorded per connection: 0 means
	// trace.DefaultLimit, a negative value turns recording off. It is split
	// as trace.SplitLimit says into a head (the start of the connection)
	// and a tail (its most recent bytes); connections opened while nobody
	// watches (see Broker.Watch) record the head only.
	TraceLimit int
	// KeepConns is how many recent connections stay listed with their
	// recordings (default 200).
	KeepConns int
	// HandshakeTimeout bounds a TLS handshake (default 10 s).
	HandshakeTimeout time.Duration

	// The limits below keep one client from taking the broker's memory.
	// For each, 0 means the default named beside it and a negative value
	// means no limit (not advised where strangers connect).

	// MaxPacketSize is the largest MQTT packet accepted, in bytes, fixed
	// header included (DefaultMaxPacketSize). A larger one ends the
	// connection as soon as its fixed header arrives, before CONNECT too;
	// MQTT 5 clients learn the limit from CONNACK.
	MaxPacketSize int
	// SessionExpiry caps how long the session of a disconnected client
	// (its subscriptions and queued messages) is kept (DefaultSessionExpiry).
	// MQTT 5 clients asking for more are told the cap in CONNACK; MQTT
	// 3.1.1 sessions (clean session 0) last exactly this long.
	SessionExpiry time.Duration
	// SessionQueue caps the QoS 1 and 2 messages held for one session,
	// waiting for an acknowledgement or for the client to come back
	// (DefaultSessionQueue; at most 65535). Messages over it are dropped.
	SessionQueue int
	// SessionQueueBytes caps the bytes (topics and payloads) of the
	// messages held for one session, those waiting to be written to a slow
	// client included (DefaultSessionQueueBytes).
	SessionQueueBytes int
	// ConnsPerAddr caps the open connections from one address (one IPv6
	// /64) on the listeners with a TCP address (DefaultConnsPerAddr).
	// Connections handed to Serve (the tunnel, WebSocket) count when their
	// server calls Admit, as WebSocket does.
	ConnsPerAddr int
	// RetainedBytes caps the memory of retained messages, counting each as
	// its topic, its payload and RetainedOverhead (DefaultRetainedBytes).
	// A retained message over it is delivered but not kept (MQTT 5 QoS 1
	// and 2: refused with 0x97 Quota exceeded).
	RetainedBytes int

	// Class, when set, makes the broker a class's (workshop mode): every
	// client must be an attendee or the instructor, and an attendee's
	// clients touch only the attendee's topics (see Principal).
	Class *ClassOptions
}

// Defaults of the limits in Options.
const (
	DefaultMaxPacketSize     = 1 << 20
	DefaultSessionExpiry     = time.Hour
	DefaultSessionQueue      = 1000
	DefaultSessionQueueBytes = 8 << 20
	DefaultConnsPerAddr      = 100
	DefaultRetainedBytes     = 64 << 20
	DefaultOwnerConns        = 20
	// DefaultOwnerRetainedBytes is ClassOptions.OwnerRetainedBytes' default.
	DefaultOwnerRetainedBytes = 1 << 20
)

// topicAliasMaximum is how many topic aliases a client may set up (each
// holds a topic of up to 64 KiB); mosquitto's default.
const topicAliasMaximum = 10

// limit resolves an Options limit: 0 gives def, a negative value max.
func limit(v, def, max int64) int64 {
	switch {
	case v == 0:
		return def
	case v < 0 || v > max:
		return max
	}
	return v
}

// capabilities are what the core enforces and announces for opts.
func capabilities(opts Options) *mqtt.Capabilities {
	c := mqtt.NewDefaultServerCapabilities()
	c.MaximumPacketSize = uint32(limit(int64(opts.MaxPacketSize), DefaultMaxPacketSize, 268435455+5)) // the largest an MQTT fixed header can announce
	expiry := int64(opts.SessionExpiry / time.Second)
	switch {
	case opts.SessionExpiry < 0:
		expiry = -1
	case opts.SessionExpiry > 0 && expiry == 0:
		expiry = 1 // the protocol counts in seconds
	}
	c.MaximumSessionExpiryInterval = uint32(limit(expiry, int64(DefaultSessionExpiry/time.Second), math.MaxUint32))
	c.MaximumInflight = uint16(limit(int64(opts.SessionQueue), DefaultSessionQueue, math.MaxUint16))
	if q := limit(int64(opts.SessionQueueBytes), DefaultSessionQueueBytes, math.MaxInt64); q < math.MaxInt64 {
		c.MaximumQueuedBytes = q
	}
	// Deliver what the publisher sent: no message expiry unless the
	// publisher set one (the core's default adds 24 h to every v5
	// delivery and deletes retained messages after a day).
	c.MaximumMessageExpiryInterval = 0
	c.TopicAliasMaximum = topicAliasMaximum
	// An acknowledgement carries its own properties, not the publish's
	// (MQTT.js and Python paho refuse a PUBACK echoing User Properties).
	c.Compatibilities.NoInheritedPropertiesOnAck = true
	return c
}

// Broker is an MQTT 3.1.1/5 broker with named listeners.
type Broker struct {
	mq   *mqtt.Server
	opts Options
	log  *slog.Logger

	mu        sync.Mutex
	listeners map[string]*listener
	conns     []*Conn                // recent connections, oldest first
	live      map[*endpoint]struct{} // connections being served, closed by Close
	nextID    atomic.Uint64
	closed    bool
	watchers  atomic.Int64 // see Watch
	retained  retainedBudget
	changes   atomic.Uint64 // see Changes

	perAddr  *addrLimiter // see Options.ConnsPerAddr
	perOwner *addrLimiter // see ClassOptions.OwnerConns
	rates    *ownerRates  // see ClassOptions.OwnerRate; nil: no limit
	drops    *logLimiter  // sessions whose full queue was logged lately
}

type listener struct {
	Listener
	ln net.Listener // nil for in-process listeners

	// The figures of its TLS handshakes, for monitoring (ListenerInfo).
	handshakes, failures atomic.Int64
	lastFailure          atomic.Pointer[string]
}

// certNotAfter is the end of the validity of the certificate a TLS
// listener serves (to a client asking for no name in particular), or zero.
func (l *listener) certNotAfter() time.Time {
	cert := (*tls.Certificate)(nil)
	if len(l.TLS.Certificates) > 0 {
		cert = &l.TLS.Certificates[0]
	} else if l.TLS.GetCertificate != nil {
		cert, _ = l.TLS.GetCertificate(&tls.ClientHelloInfo{})
	}
	if cert == nil || len(cert.Certificate) == 0 {
		return time.Time{}
	}
	leaf := cert.Leaf
	if leaf == nil {
		var err error
		if leaf, err = x509.ParseCertificate(cert.Certificate[0]); err != nil {
			return time.Time{}
		}
	}
	return leaf.NotAfter
}

// ErrUnknownListener is returned for a listener name the broker does not have.
var ErrUnknownListener = errors.New("broker: unknown listener")

// New starts a broker with no listeners.
func New(opts Options) (*Broker, error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if opts.KeepConns <= 0 {
		opts.KeepConns = 200
	}
	if opts.HandshakeTimeout <= 0 {
		opts.HandshakeTimeout = 10 * time.Second
	}
	b := &Broker{opts: opts, log: opts.Logger, listeners: map[string]*listener{}, live: map[*endpoint]struct{}{},
		perAddr:  newAddrLimiter(int(limit(int64(opts.ConnsPerAddr), DefaultConnsPerAddr, math.MaxInt))),
		perOwner: newAddrLimiter(int(limit(int64(opts.class().OwnerConns), DefaultOwnerConns, math.MaxInt))),
		rates:    newOwnerRates(opts.class().OwnerRate, opts.class().OwnerBurst),
		drops:    newLogLimiter(time.Minute)}
	// mochi logs every connection at info; keep only its warnings.
	mqLog := slog.New(&levelFilter{opts.Logger.Handler(), slog.LevelWarn})
	b.mq = mqtt.New(&mqtt.Options{InlineClient: false, Logger: mqLog, Capabilities: capabilities(opts),
		// Messages waiting for a client go out in writes of up to one TLS
		// record's worth.
		ClientNetWriteBufferSize: 16 << 10})
	if err := b.mq.AddHook(&certAuth{b: b}, nil); err != nil {
		return nil, fmt.Errorf("broker: %w", err)
	}
	if err := b.mq.AddHook(&sessionHook{b: b}, nil); err != nil {
		return nil, fmt.Errorf("broker: %w", err)
	}
	if err := b.mq.AddHook(&limitHook{b: b}, nil); err != nil {
		return nil, fmt.Errorf("broker: %w", err)
	}
	if b.rates != nil {
		if err := b.mq.AddHook(&ownerHook{b: b}, nil); err != nil {
			return nil, fmt.Errorf("broker: %w", err)
		}
	}
	if err := b.mq.Serve(); err != nil {
		return nil, fmt.Errorf("broker: %w", err)
	}
	return b, nil
}

// Add opens a listener. With a TCP address it starts accepting connections
// at once; a port of 0 picks a free port (see Listeners for the address).
func (b *Broker) Add(l Listener) error {
	if l.Name == "" || strings.ContainsAny(l.Name, " /?#&") {
		return fmt.Errorf("broker: invalid listener name %q", l.Name)
	}
	if l.TLS != nil {
		l.TLS = l.TLS.Clone()
		// Each connection gets a clone of this config (for its own key log):
		// fixed ticket keys let tickets issued on one connection resume on
		// the next.
		var key [32]byte
		if _, err := rand.Read(key[:]); err != nil {
			return fmt.Errorf("broker: %w", err)
		}
		l.TLS.SetSessionTicketKeys([][32]byte{key})
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return errors.New("broker: closed")
	}
	if _, ok := b.listeners[l.Name]; ok {
		return fmt.Errorf("broker: listener %q already exists", l.Name)
	}
	ls := &listener{Listener: l}
	if l.Addr != "" {
		// No TCP keep-alive: the MQTT keep-alive finds dead clients, as
		// in mosquitto, and every accepted connection saves four system
		// calls setting it up.
		ln, err := (&net.ListenConfig{KeepAlive: -1}).Listen(context.Background(), "tcp", l.Addr)
		if err != nil {
			return fmt.Errorf("broker: listener %s: %w", l.Name, err)
		}
		ls.ln = ln
		go b.accept(ls)
	}
	b.listeners[l.Name] = ls
	return nil
}

// Listeners lists the listeners, sorted by name.
func (b *Broker) Listeners() []ListenerInfo {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := make([]ListenerInfo, 0, len(b.listeners))
	for _, l := range b.listeners {
		info := ListenerInfo{Name: l.Name, TLS: l.TLS != nil, Lesson: l.Lesson, About: l.About, Tunnel: !l.NoTunnel, Fault: l.Fault}
		if l.ln != nil {
			info.Addr = l.ln.Addr().String()
		}
		if l.TLS != nil && l.TLS.ClientAuth >= tls.VerifyClientCertIfGiven {
			info.MTLS = true
		}
		if l.TLS != nil {
			info.CertNotAfter = l.certNotAfter()
			info.Handshakes, info.HandshakeFailures = l.handshakes.Load(), l.failures.Load()
			if f := l.lastFailure.Load(); f != nil {
				info.LastFailure = *f
			}
		}
		out = append(out, info)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Tunnelable reports whether the byte tunnel may reach the named listener,
// and if not, why, in words for the person who asked.
func (b *Broker) Tunnelable(name string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	l, ok := b.listeners[name]
	if !ok {
		names := make([]string, 0, len(b.listeners))
		for n, l := range b.listeners {
			if !l.NoTunnel {
				names = append(names, n)
			}
		}
		slices.Sort(names)
		return fmt.Errorf("%w %q: the tunnel reaches only the broker's own listeners (%s)", ErrUnknownListener, name, strings.Join(names, ", "))
	}
	if l.NoTunnel {
		return fmt.Errorf("broker: listener %q is not reachable through the tunnel", name)
	}
	return nil
}

func (b *Broker) accept(l *listener) {
	for {
		c, err := l.ln.Accept()
		if err != nil {
			if !errors.Is(err, net.ErrClosed) {
				b.log.Error("accept failed", "listener", l.Name, "err", err)
			}
			return
		}
		release, err := b.Admit("listener "+l.Name, c.RemoteAddr())
		if err != nil {
			c.Close()
			continue
		}
		if l.TLS != nil {
			go b.serveAccepted(l, c, release)
			continue
		}
		// Opening a plain connection does not wait for the client.
		if s, err := b.open(l, c, release, Principal{}); err == nil {
			go b.run(s)
		}
	}
}

// Serve runs the named listener's pipeline on c (a tunnelled or WebSocket
// connection) and returns when the connection ends. It closes c.
func (b *Broker) Serve(name string, c net.Conn) error {
	l, err := b.listenerFor(name, c)
	if err != nil {
		return err
	}
	return b.serve(l, c, nil)
}

// listenerFor is the named listener, for a connection c to it; when there
// is none, c is closed.
func (b *Broker) listenerFor(name string, c net.Conn) (*listener, error) {
	b.mu.Lock()
	l, ok := b.listeners[name]
	b.mu.Unlock()
	if !ok {
		c.Close()
		return nil, fmt.Errorf("%w %q", ErrUnknownListener, name)
	}
	return l, nil
}

// serve runs l's pipeline on raw; closed, if not nil, runs once raw is closed.
func (b *Broker) serve(l *listener, raw net.Conn, closed func()) error {
	return b.serveAs(l, raw, closed, Principal{})
}

// serveAs is serve for a connection whose owner is known before it starts
// (see ServeAs); zero who learns it at CONNECT, in a class.
func (b *Broker) serveAs(l *listener, raw net.Conn, closed func(), who Principal) error {
	s, err := b.open(l, raw, closed, who)
	if err != nil {
		return err
	}
	return b.run(s)
}

// serveAccepted is serve for a TLS connection a listener accepted, on a
// goroutine of its own. A TLS handshake (certificates, key exchange) grows
// the goroutine's stack to tens of KiB, and a goroutine keeps its stack:
// so the session, which may stay idle for days, runs on a fresh goroutine
// with a small one.
func (b *Broker) serveAccepted(l *listener, raw net.Conn, closed func()) {
	s, err := b.open(l, raw, closed, Principal{})
	if err != nil {
		return
	}
	go b.run(s)
}

// session is a connection past its TLS handshake, ready for MQTT.
type session struct {
	l    *listener
	conn *Conn
	end  *endpoint
	c    net.Conn // what MQTT reads and writes
}

// open starts l's pipeline on raw, up to and including the TLS handshake,
// for who (zero: learnt at CONNECT). When it fails, the connection is closed.
func (b *Broker) open(l *listener, raw net.Conn, closed func(), who Principal) (_ *session, err error) {
	end := &endpoint{raw: raw, done: make(chan struct{})}
	end.closed = func() {
		b.mu.Lock()
		delete(b.live, end)
		b.mu.Unlock()
		if closed != nil {
			closed()
		}
	}
	conn := &Conn{info: ConnInfo{ID: "c" + strconv.FormatUint(b.nextID.Add(1), 10), Listener: l.Name, Remote: raw.RemoteAddr().String(), Started: time.Now(), Owner: who.Owner},
		lesson: l.Lesson, who: who, changed: &b.changes}
	// Set before the endpoint is live: DisconnectOwner reads it under b.mu.
	end.conn = conn
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		end.close(0)
		return nil, errors.New("broker: closed")
	}
	b.live[end] = struct{}{}
	b.mu.Unlock()
	if _, ok := raw.(*tunnelConn); ok {
		conn.info.Tunnel = true
	}
	if rc, ok := raw.(*relayedConn); ok && rc.lesson {
		// Relayed for a lesson listener: its rules follow the client.
		conn.lesson = true
	}
	var c net.Conn = raw
	// A TCP connection takes writes without waiting for the client, so
	// that the core may write to an idle client from the goroutine that
	// has the message (see writeAhead).
	if end.wa = newWriteAhead(raw); end.wa != nil {
		c = end.wa
	}
	if b.opts.TraceLimit >= 0 {
		conn.rec = trace.NewRecorderLimits(trace.Broker, b.traceLimits())
		conn.rec.SetAddrs(conn.info.Remote, raw.LocalAddr().String())
		c = conn.rec.Wire(c)
	}
	b.remember(conn)
	s := &session{l: l, conn: conn, end: end, c: c}
	if l.TLS != nil {
		if s.c, err = b.handshake(l, conn, end, c); err != nil {
			conn.ended()
			conn.releaseOwner()
			end.close(closeLinger)
			return nil, err
		}
	}
	return s, nil
}

// handshake runs the TLS handshake of l on c and returns the TLS
// connection, tapped when recording.
func (b *Broker) handshake(l *listener, conn *Conn, end *endpoint, c net.Conn) (net.Conn, error) {
	remote := conn.info.Remote
	hc := &handshakeConn{Conn: c}
	cfg := l.TLS.Clone()
	cfg.KeyLogWriter = io.MultiWriter(&randomCatcher{conn: conn}, hc.keyLog())
	if conn.rec != nil {
		cfg.KeyLogWriter = io.MultiWriter(conn.rec.KeyLogWriter(), cfg.KeyLogWriter)
	}
	hc.configure(cfg)
	noTickets12(cfg)
	tc := tls.Server(hc, cfg)
	ctx, cancel := context.WithTimeout(context.Background(), b.opts.HandshakeTimeout)
	err := tc.HandshakeContext(ctx)
	cancel()
	hc.handshakeDone()
	if err != nil {
		var note string
		if a, ok := hc.clientAlert(err); ok {
			err = &clientAlertError{alert: a, err: err}
			note = "the client sent its alert unencrypted, which crypto/tls reads as a bad record; the alert is decoded from the bytes received"
		}
		l.failures.Add(1)
		why := err.Error()
		l.lastFailure.Store(&why)
		ex := explain.Broker(err)
		if l.Fault != nil {
			ex = l.Fault.OnBroker(err)
		}
		conn.update(func(i *ConnInfo) { i.Err, i.Cause = joinWords(ex.Cause, ex.Detail), ex.Cause })
		b.notify(Notice{Kind: NoticeHandshake, Info: conn.Info(), Cause: ex.Cause, Detail: ex.Detail})
		msg := "TLS handshake failed"
		if ex.Cause != msg {
			msg += ": " + ex.Cause
		}
		attrs := []any{"listener", l.Name, "remote", remote}
		if l.Fault != nil {
			attrs = append(attrs, "fault", l.Fault.What)
		}
		attrs = append(attrs, "detail", ex.Detail, "why", ex.Why, "fix", fixFor(ex), "err", err)
		if note != "" {
			attrs = append(attrs, "note", note)
		}
		b.log.Info(msg, attrs...)
		return nil, fmt.Errorf("broker: %s: TLS handshake with %s: %w", l.Name, remote, err)
	}
	hc.forget()
	l.handshakes.Add(1)
	if l.Fault != nil {
		// A lesson listener: say what the client accepted.
		ex := l.Fault.OnBroker(nil)
		b.log.Info("lesson listener: "+ex.Cause, "listener", l.Name, "remote", remote, "fault", l.Fault.What, "why", ex.Why, "fix", fixFor(ex))
	}
	end.setTLS(tc)
	st := tc.ConnectionState()
	conn.update(func(i *ConnInfo) {
		i.TLSVersion = tls.VersionName(st.Version)
		i.Resumed = st.DidResume
		// Only a verified certificate names the client: a listener that
		// asks for one without verifying it (RequestClientCert,
		// RequireAnyClientCert) would otherwise let anyone pass as any
		// common name, in a class as any attendee.
		if len(st.VerifiedChains) > 0 {
			i.PeerCN = st.VerifiedChains[0][0].Subject.CommonName
		}
	})
	if conn.rec != nil {
		return conn.rec.App(tc), nil
	}
	return tc, nil
}

// run serves MQTT (or the relay) on an open session until it ends; its
// frame stays on the stack as long as the connection lasts, so it is kept
// small.
func (b *Broker) run(s *session) error {
	defer s.end.close(closeLinger)
	defer s.conn.releaseOwner()
	defer s.conn.ended()
	if s.l.RelayTo != "" {
		return b.relay(s.l, s.conn, s.c)
	}
	// A client gets as long for its CONNECT as for a TLS handshake; mochi
	// replaces this deadline with the keep-alive once CONNECT has arrived.
	s.c.SetDeadline(time.Now().Add(b.opts.HandshakeTimeout))
	if err := b.mq.EstablishConnection(s.l.Name, &brokerConn{Conn: s.c, info: s.conn, end: s.end}); err != nil && !errors.Is(err, io.EOF) {
		b.sessionFailed(s, err)
	}
	return nil
}

// sessionFailed notes why an MQTT session ended with err.
func (b *Broker) sessionFailed(s *session, err error) {
	s.conn.update(func(i *ConnInfo) {
		if i.Err == "" { // a refusal's own reason (certAuth.refuse) says more
			i.Err = explain.Ended(err, "the client")
		}
	})
	if errors.Is(err, packets.ErrPacketTooLarge) {
		b.log.Info("refused a packet over the maximum packet size", "listener", s.l.Name, "remote", s.conn.info.Remote,
			"limit", b.mq.Options.Capabilities.MaximumPacketSize, "hint", "raise --max-packet-size if clients really send larger messages")
	}
}

// Close stops every listener, ends every connection (MQTT 5 clients get a
// DISCONNECT saying the server is shutting down) and stops the broker core.
func (b *Broker) Close() error {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return nil
	}
	b.closed = true
	for _, l := range b.listeners {
		if l.ln != nil {
			l.ln.Close()
		}
	}
	live := make([]*endpoint, 0, len(b.live))
	for e := range b.live {
		live = append(live, e)
	}
	b.mu.Unlock()
	// mochi's Close only ends the clients of listeners it runs itself, and
	// waits for every client: end ours first, or it waits forever.
	for _, cl := range b.mq.Clients.GetAll() {
		if cl.Properties.ProtocolVersion == 5 && !cl.Closed() {
			b.mq.DisconnectClient(cl, packets.ErrServerShuttingDown)
		}
	}
	// Give clients a moment to read their DISCONNECT, then cut.
	for _, e := range live {
		e.close(shutdownLinger)
	}
	timer := time.NewTimer(shutdownLinger)
	defer timer.Stop()
	expired := false
	for _, e := range live {
		if !expired {
			select {
			case <-e.done:
				continue
			case <-timer.C:
				expired = true
			}
		}
		e.raw.Close()
	}
	return b.mq.Close()
}

// fixFor is the fix a log line gives: mosquitto's, as the command-line
// client people reach for, else the broker's.
func fixFor(ex explain.Explanation) string {
	if fix := ex.Fix["mosquitto"]; fix != "" {
		return fix
	}
	return ex.Fix["broker"]
}

// joinWords is "cause: detail", or the cause alone.
func joinWords(cause, detail string) string {
	if detail == "" {
		return cause
	}
	return cause + ": " + detail
}

// levelFilter drops the core's records below a level, and keeps what the
// core would dump of a packet out of the log (see Handle).
type levelFilter struct {
	slog.Handler
	min slog.Level
}

func (h *levelFilter) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= h.min && h.Handler.Enabled(ctx, l)
}

// Handle passes r on without the packet ("pk", "packet") that mochi
// attaches to a failed packet: its dump holds the payload and, for a
// CONNECT, the password, which a log must not show. A packet that failed
// only because the client had gone (reset, broken pipe, closed) is not
// logged: the connection's end is recorded already.
func (h *levelFilter) Handle(ctx context.Context, r slog.Record) error {
	out := slog.NewRecord(r.Time, r.Level, r.Message, r.PC)
	gone := false
	r.Attrs(func(a slog.Attr) bool {
		switch a.Key {
		case "pk", "packet":
			return true
		case "error":
			if err, ok := a.Value.Any().(error); ok && clientGone(err) {
				gone = true
			}
		}
		out.AddAttrs(a)
		return true
	})
	if gone {
		return nil
	}
	return h.Handler.Handle(ctx, out)
}

// WithAttrs keeps the filter on loggers the core derives (its hooks' and
// listeners' loggers are Log.With(…)).
func (h *levelFilter) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &levelFilter{h.Handler.WithAttrs(attrs), h.min}
}

// WithGroup keeps the filter on grouped loggers too.
func (h *levelFilter) WithGroup(name string) slog.Handler {
	return &levelFilter{h.Handler.WithGroup(name), h.min}
}

// clientGone tells whether err only says that the client's connection has
// ended.
func clientGone(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed) || errors.Is(err, syscall.EPIPE) || errors.Is(err, syscall.ECONNRESET)
}
