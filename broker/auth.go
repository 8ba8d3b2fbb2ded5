package broker

import (
	"bytes"
	"strings"

	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/packets"
)

// certAuth decides who a client is and what it may touch.
//
// On a connection authenticated by a client certificate, the certificate
// decides who the client is: the MQTT user name must be empty or equal the
// certificate's common name, and becomes that name.
//
// A session belongs to the identity that made it. Client ids live in one
// space per identity: clients without a certificate share one, each
// certificate common name has its own, and lesson listeners have their own.
// So a session made over mutual TLS is resumed only over mutual TLS with the
// same common name; a client on the plain port using the same client id
// gets a session of its own and never sees the other's queued messages.
//
// Clients of lesson listeners (and of the rogue relay, whose connections
// the relay forwards) may use only topics under LessonTopicPrefix, on every
// path: publish, subscribe, will, retained messages, topic aliases and
// session takeover. A deliberately broken listener never touches real
// traffic.
type certAuth struct {
	mqtt.HookBase
	b *Broker
}

// LessonTopicPrefix is the only topic space open to clients of lesson listeners.
const LessonTopicPrefix = "lesson/"

func (h *certAuth) ID() string { return "playground-cert-auth" }

func (h *certAuth) Provides(b byte) bool {
	return bytes.Contains([]byte{mqtt.OnConnect, mqtt.OnConnectAuthenticate, mqtt.OnACLCheck}, []byte{b})
}

// OnConnect decides, in a class, who the client is (see Principal), then
// puts the client id in its identity's space (see certAuth).
func (h *certAuth) OnConnect(cl *mqtt.Client, pk packets.Packet) error {
	bc, ok := cl.Net.Conn.(*brokerConn)
	if !ok {
		return nil
	}
	if h.b.opts.Class != nil {
		// A tunnel's owner was known, and counted, before CONNECT.
		preset := !bc.info.principal().IsZero()
		who, code, why := h.authenticate(bc, pk)
		if why != "" {
			return h.refuse(cl, bc, code, why, NoticeAuth)
		}
		var release func()
		if !preset {
			var err error
			if release, err = h.b.AdmitOwner("listener "+cl.Net.Listener, who); err != nil {
				return h.refuse(cl, bc, packets.ErrQuotaExceeded, err.Error(), NoticeLimit)
			}
		}
		bc.info.setPrincipal(who, release)
	}
	cl.ID = bc.info.idSpace() + cl.ID
	return nil
}

func (h *certAuth) OnConnectAuthenticate(cl *mqtt.Client, pk packets.Packet) bool {
	bc, ok := cl.Net.Conn.(*brokerConn)
	if !ok {
		return true
	}
	cn := bc.info.Info().PeerCN
	if cn == "" {
		return true
	}
	if u := string(pk.Connect.Username); u != "" && u != cn {
		bc.info.update(func(i *ConnInfo) {
			i.Err = "user name " + quote(u) + " does not match the client certificate's " + quote(cn)
		})
		return false
	}
	cl.Properties.Username = []byte(cn)
	return true
}

// OnACLCheck runs for every publish, will and subscription, and for every
// message before it is delivered or handed over with a session.
func (h *certAuth) OnACLCheck(cl *mqtt.Client, topic string, write bool) bool {
	bc, ok := cl.Net.Conn.(*brokerConn)
	if !ok {
		return true
	}
	if bc.info.lesson && !strings.HasPrefix(topic, LessonTopicPrefix) {
		return false
	}
	if h.b.opts.Class == nil {
		return true
	}
	who := bc.info.principal()
	if who.Instructor || who.Owner != "" && ownsTopic(topic, who.Owner, h.b.opts.Class.OwnerTopics) {
		return true
	}
	if write && h.b.drops.allow("acl "+bc.info.Info().ID) {
		h.b.notify(Notice{Kind: NoticeACL, Info: bc.info.Info(), Topic: topic, Cause: "a topic outside their own",
			Detail: "topic " + quote(topic) + " is not under " + strings.Join(h.spaces(who.Owner), ", ")})
	}
	return false
}

// spaces are owner's topic spaces, as filters.
func (h *certAuth) spaces(owner string) []string {
	var out []string
	for _, p := range h.b.opts.Class.OwnerTopics {
		out = append(out, strings.ReplaceAll(p, "{owner}", owner)+"/#")
	}
	return out
}

// idSpace is the prefix of the broker's key for the sessions of this
// connection's identity (see certAuth). MQTT strings cannot contain U+0000
// ([MQTT-1.5.4-2], and the core refuses them), so no client id can forge one.
func (c *Conn) idSpace() string {
	var s string
	if c.lesson {
		s = "\x00lesson"
	}
	switch who := c.principal(); {
	case who.Instructor:
		s += "\x00instructor"
	case who.Owner != "":
		s += "\x00owner=" + who.Owner
	}
	if cn := c.Info().PeerCN; cn != "" {
		s += "\x00cn=" + cn
	}
	if s != "" {
		s += "\x00"
	}
	return s
}

// clientID is the client id cl sent (or was assigned), without its
// identity's space.
func clientID(cl *mqtt.Client) string {
	return cl.ID[strings.LastIndexByte(cl.ID, 0)+1:]
}

func quote(s string) string { return "\"" + s + "\"" }
