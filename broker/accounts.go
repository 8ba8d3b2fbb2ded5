package broker

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"time"

	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/packets"
	"golang.org/x/time/rate"
)

// A class (workshop mode, Options.Class) gives every connection an
// owner: the attendee whose session cookie opened the tunnel, whose user
// name and password the client sent, or whose id is its client
// certificate's common name. An owner's clients may touch only the owner's
// topics (ClassOptions.OwnerTopics), their client ids live in a space of the
// owner's own, and the owner's connections and messages are counted
// against the per-owner limits. The instructor's clients may touch every
// topic. Without Accounts none of this applies: any client may connect and
// use any topic (lesson listeners keep their own rules).

// ClassOptions configure a class (Options.Class).
type ClassOptions struct {
	// Accounts say who a client is.
	Accounts Accounts
	// OwnerTopics are an attendee's topic spaces, {owner} standing for the
	// attendee id ("ws/{owner}" gives ws/ID and everything under it).
	OwnerTopics []string
	// OwnerConns caps the open connections of one attendee, tunnels and
	// devices together (DefaultOwnerConns; negative: no limit).
	OwnerConns int
	// OwnerRate caps the messages one attendee's clients publish, together,
	// per second, with OwnerBurst at once (0: no limit).
	OwnerRate  float64
	OwnerBurst int
	// OwnerRetainedBytes caps the retained messages on one attendee's
	// topic spaces, counted as Options.RetainedBytes counts them
	// (DefaultOwnerRetainedBytes; negative: only the broker's budget), so
	// that one attendee cannot fill the whole class's budget.
	OwnerRetainedBytes int
	// Notify, when set, hears of connections that fail, are refused or hit
	// a per-attendee limit (see Notice). It must not block.
	Notify func(Notice)
}

// class returns the class options, the zero ones outside a class.
func (o Options) class() ClassOptions {
	if o.Class == nil {
		return ClassOptions{}
	}
	return *o.Class
}

// Principal is who a connection acts for in a class.
type Principal struct {
	// Owner is the attendee id; empty for nobody (and for the instructor).
	Owner string
	// Instructor is the class's instructor, who may touch every topic.
	Instructor bool
}

// IsZero reports whether p is nobody.
func (p Principal) IsZero() bool { return p == Principal{} }

func (p Principal) String() string {
	switch {
	case p.Instructor:
		return "the instructor"
	case p.Owner != "":
		return "attendee " + p.Owner
	}
	return "nobody"
}

// Accounts are the identities of a class.
type Accounts interface {
	// Login checks an MQTT user name and password; the error says why
	// they are refused, in words for the person who typed them.
	Login(user string, password []byte) (Principal, error)
	// Exists reports whether owner is an attendee of the class (a removed
	// attendee's certificate and tunnel stop working).
	Exists(owner string) bool
}

// ErrOwnerLimit is returned by AdmitOwner when an attendee has as many
// connections open as ClassOptions.OwnerConns allows.
var ErrOwnerLimit = errors.New("broker: too many connections for one attendee")

// AdmitOwner counts a new connection of p against ClassOptions.OwnerConns; via
// names the way it came in, for the log. The instructor and nobody are not
// counted. On success, release must be called once the connection ends.
// The tunnel calls it before it accepts a WebSocket for an attendee
// (instead of Admit: a class behind one NAT shares one address); devices
// are counted once their CONNECT names their owner.
func (b *Broker) AdmitOwner(via string, p Principal) (release func(), err error) {
	if p.Owner == "" || p.Instructor {
		return func() {}, nil
	}
	ok, first := b.perOwner.acquire(p.Owner)
	if !ok {
		n := b.perOwner.max
		if first {
			b.log.Warn("refusing a connection: the attendee has too many open", "via", via, "attendee", p.Owner, "limit", n,
				"hint", "raise --attendee-conns if attendees really need more")
		}
		b.notify(Notice{Kind: NoticeLimit, Info: ConnInfo{Owner: p.Owner, Listener: strings.TrimPrefix(via, "tunnel to ")},
			Cause: "too many connections open", Detail: fmt.Sprintf("attendee %s has %d open, the most one attendee may (--attendee-conns)", p.Owner, n)})
		return nil, fmt.Errorf("%w (%s has %d open; close one: the limit is --attendee-conns)", ErrOwnerLimit, p.Owner, n)
	}
	var once sync.Once
	return func() { once.Do(func() { b.perOwner.release(p.Owner) }) }, nil
}

// ServeAs is Serve for a connection the page's WebSocket tunnel carries
// (ConnInfo.Tunnel), made on behalf of p: in a class, the client is p
// whatever user name it sends, and only a client certificate of p's own is
// accepted. Outside a class p is zero.
func (b *Broker) ServeAs(name string, c net.Conn, p Principal) error {
	l, err := b.listenerFor(name, c)
	if err != nil {
		return err
	}
	return b.serveAs(l, &tunnelConn{c}, nil, p)
}

// tunnelConn marks a connection of the tunnel.
type tunnelConn struct{ net.Conn }

// DisconnectOwner ends every connection of an attendee (MQTT 5 clients
// read DISCONNECT 0x87 Not authorized first) and returns how many it
// ended.
func (b *Broker) DisconnectOwner(owner string) int {
	if owner == "" {
		return 0
	}
	// The connections are counted before any is told to go: a DISCONNECT
	// ends its connection, which then leaves b.live by itself.
	b.mu.Lock()
	var ends []*endpoint
	for e := range b.live {
		if e.conn != nil && e.conn.principal().Owner == owner {
			ends = append(ends, e)
		}
	}
	b.mu.Unlock()
	for _, cl := range b.mq.Clients.GetAll() {
		if bc, ok := cl.Net.Conn.(*brokerConn); ok && bc.info.principal().Owner == owner && !cl.Closed() && cl.Properties.ProtocolVersion == 5 {
			b.mq.DisconnectClient(cl, packets.ErrNotAuthorized)
		}
	}
	for _, e := range ends {
		e.close(shutdownLinger)
	}
	return len(ends)
}

// ownsTopic reports whether topic (or filter) lies in one of owner's
// spaces: a pattern of ClassOptions.OwnerTopics with {owner} filled in, the
// space itself or anything under it. A shared subscription
// ($share/group/filter) is judged by its filter.
func ownsTopic(topic, owner string, patterns []string) bool {
	if rest, ok := strings.CutPrefix(topic, "$share/"); ok {
		_, topic, _ = strings.Cut(rest, "/")
	}
	for _, p := range patterns {
		if inSpace(topic, p, owner) {
			return true
		}
	}
	return false
}

// topicOwner is the attendee whose topic space (one of patterns) topic
// lies in, or "" for a topic in nobody's space.
func topicOwner(topic string, patterns []string) string {
	for _, p := range patterns {
		lit, _, ok := strings.Cut(p, "{owner}")
		if !ok {
			continue
		}
		rest, ok := strings.CutPrefix(topic, lit)
		if !ok {
			continue
		}
		owner, _, _ := strings.Cut(rest, "/")
		if owner != "" && inSpace(topic, p, owner) {
			return owner
		}
	}
	return ""
}

// inSpace reports whether topic is the space pattern names for owner
// (every {owner} standing for owner) or lies under it. It runs for every
// message delivered in a class, so it matches piece by piece instead of
// building the space.
func inSpace(topic, pattern, owner string) bool {
	for {
		lit, rest, more := strings.Cut(pattern, "{owner}")
		var ok bool
		if topic, ok = strings.CutPrefix(topic, lit); !ok {
			return false
		}
		if !more {
			return topic == "" || topic[0] == '/'
		}
		if topic, ok = strings.CutPrefix(topic, owner); !ok {
			return false
		}
		pattern = rest
	}
}

// authenticate decides who the client of a class is, at CONNECT: the
// owner its tunnel was opened for, else its certificate's common name,
// else its user name and password. It returns the reason code that
// refuses it, with the reason in words; zero when it is accepted.
func (h *certAuth) authenticate(bc *brokerConn, pk packets.Packet) (Principal, packets.Code, string) {
	acc := h.b.opts.Class.Accounts
	who := bc.info.principal()
	cn := bc.info.Info().PeerCN
	switch {
	case !who.IsZero():
		if who.Owner != "" && !acc.Exists(who.Owner) {
			return who, packets.ErrNotAuthorized, "attendee " + who.Owner + " is no longer in the class"
		}
		if cn != "" && !who.Instructor && cn != who.Owner {
			return who, packets.ErrNotAuthorized, "the client certificate is " + quote(cn) + "'s, not " + who.Owner + "'s"
		}
		return who, packets.Code{}, ""
	case cn != "":
		if !acc.Exists(cn) {
			return who, packets.ErrNotAuthorized, "the client certificate's common name " + quote(cn) + " is not an attendee of this class"
		}
		return Principal{Owner: cn}, packets.Code{}, ""
	case pk.Connect.UsernameFlag:
		p, err := acc.Login(string(pk.Connect.Username), pk.Connect.Password)
		if err != nil {
			return who, packets.ErrBadUsernameOrPassword, err.Error()
		}
		return p, packets.Code{}, ""
	}
	return who, packets.ErrNotAuthorized, "this broker runs a class: connect with the user name and password your attendee page shows (or your client certificate on the mtls port)"
}

// refuse answers CONNECT with code (mapped for MQTT 3.1.1 clients, whose
// return codes are fewer) and the reason string why (MQTT 5), notes why
// on the connection and tells the class.
func (h *certAuth) refuse(cl *mqtt.Client, bc *brokerConn, code packets.Code, why string, kind string) error {
	if cl.Properties.ProtocolVersion < 5 {
		switch code.Code {
		case packets.ErrQuotaExceeded.Code:
			code = packets.Err3ServerUnavailable
		default:
			code = packets.Err3NotAuthorized
		}
	} else {
		code.Reason = why
	}
	bc.info.update(func(i *ConnInfo) {
		i.Err, i.Cause = why, causeOf(kind, why)
		if i.ClientID == "" { // the id it asked for: the instructor finds the refused device by it
			i.ClientID = cl.ID
		}
	})
	if kind != NoticeLimit { // AdmitOwner told already
		h.b.notify(Notice{Kind: kind, Info: bc.info.Info(), Cause: causeOf(kind, why), Detail: why})
	}
	h.b.log.Info("refused a client", "listener", cl.Net.Listener, "remote", bc.info.Info().Remote, "client", cl.ID, "why", why)
	h.b.mq.SendConnack(cl, code, false, nil)
	return code
}

// causeOf is the short cause a class groups refusals by.
func causeOf(kind, why string) string {
	switch {
	case kind == NoticeLimit:
		return "too many connections open"
	case strings.Contains(why, "no longer in the class"):
		return "removed from the class"
	case strings.Contains(why, "user name and password your attendee page"):
		return "connected without credentials"
	case strings.Contains(why, "certificate"):
		return "a client certificate that is not theirs"
	}
	return "wrong user name or password"
}

// ownerRates gives each attendee a token bucket for the messages their
// clients publish (ClassOptions.OwnerRate).
type ownerRates struct {
	every rate.Limit
	burst int

	mu   sync.Mutex
	byID map[string]*rate.Limiter
}

func newOwnerRates(perSecond float64, burst int) *ownerRates {
	if perSecond <= 0 {
		return nil
	}
	return &ownerRates{every: rate.Limit(perSecond), burst: max(burst, 1), byID: map[string]*rate.Limiter{}}
}

func (r *ownerRates) allow(owner string) bool {
	if r == nil || owner == "" {
		return true
	}
	r.mu.Lock()
	lim, ok := r.byID[owner]
	if !ok {
		lim = rate.NewLimiter(r.every, r.burst)
		r.byID[owner] = lim
	}
	r.mu.Unlock()
	return lim.Allow()
}

// ownerHook enforces the per-owner message rate.
type ownerHook struct {
	mqtt.HookBase
	b *Broker
}

func (h *ownerHook) ID() string { return "playground-owner-rate" }

func (h *ownerHook) Provides(b byte) bool { return bytes.Contains([]byte{mqtt.OnPublish}, []byte{b}) }

// OnPublish refuses a message over the owner's rate: an MQTT 5 client gets
// PUBACK 0x97 Quota exceeded for QoS 1 and 2 (QoS 0 is dropped); an MQTT
// 3.1.1 client, which has no negative acknowledgement, is disconnected
// (3.1.1 has no DISCONNECT for a server to send: the connection closes).
func (h *ownerHook) OnPublish(cl *mqtt.Client, pk packets.Packet) (packets.Packet, error) {
	bc, ok := cl.Net.Conn.(*brokerConn)
	if !ok {
		return pk, nil
	}
	who := bc.info.principal()
	if who.Instructor || h.b.rates.allow(who.Owner) {
		return pk, nil
	}
	if h.b.drops.allow("rate " + who.Owner) {
		h.b.log.Warn("refusing messages: the attendee publishes faster than allowed", "attendee", who.Owner, "client", clientID(cl),
			"listener", cl.Net.Listener, "limit", fmt.Sprintf("%g/s, burst %d", float64(h.b.rates.every), h.b.rates.burst),
			"hint", "raise --attendee-msg-rate if attendees really publish this fast")
		h.b.notify(Notice{Kind: NoticeLimit, Info: bc.info.Info(), Cause: "publishing too fast",
			Detail: fmt.Sprintf("more than %g messages a second (--attendee-msg-rate)", float64(h.b.rates.every))})
	}
	if cl.Properties.ProtocolVersion < 5 {
		// Stop, not DisconnectClient: it writes nothing and does not wait
		// for the client, so it runs here, once; the reader stops before
		// the next packet.
		cl.Stop(packets.ErrQuotaExceeded)
		return pk, packets.ErrRejectPacket
	}
	if pk.FixedHeader.Qos == 0 {
		return pk, packets.ErrRejectPacket
	}
	return pk, packets.Code{Code: packets.ErrQuotaExceeded.Code, Reason: "quota exceeded: more messages a second than this class allows each attendee"}
}

// Notice is something a class's instructor wants to know about: a
// connection that failed, was refused or hit a limit.
type Notice struct {
	// Time is when it happened.
	Time time.Time
	// Kind is NoticeHandshake, NoticeAuth, NoticeACL or NoticeLimit.
	Kind string
	// Info describes the connection as it was then (Info.Owner is empty
	// when the owner is unknown, as for a device whose TLS handshake
	// failed).
	Info ConnInfo
	// Cause is a short cause to group notices by; Detail says more.
	Cause, Detail string
	// Topic is the topic or filter refused (NoticeACL).
	Topic string
}

// Kinds of Notice.
const (
	NoticeHandshake = "handshake" // a TLS handshake failed
	NoticeAuth      = "auth"      // CONNECT was refused: who the client is
	NoticeACL       = "acl"       // a topic outside the owner's spaces
	NoticeLimit     = "limit"     // a per-attendee limit bit
)

// notify hands n to ClassOptions.Notify, if set.
func (b *Broker) notify(n Notice) {
	if b.opts.Class == nil || b.opts.Class.Notify == nil {
		return
	}
	if n.Time.IsZero() {
		n.Time = time.Now()
	}
	b.opts.Class.Notify(n)
}
