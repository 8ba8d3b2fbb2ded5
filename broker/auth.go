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

// OnConnect puts the client id in its identity's space (see certAuth).
func (h *certAuth) OnConnect(cl *mqtt.Client, _ packets.Packet) error {
	if bc, ok := cl.Net.Conn.(*brokerConn); ok {
		cl.ID = bc.info.idSpace() + cl.ID
	}
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
func (h *certAuth) OnACLCheck(cl *mqtt.Client, topic string, _ bool) bool {
	bc, ok := cl.Net.Conn.(*brokerConn)
	if !ok || !bc.info.lesson {
		return true
	}
	return strings.HasPrefix(topic, LessonTopicPrefix)
}

// idSpace is the prefix of the broker's key for the sessions of this
// connection's identity (see certAuth). MQTT strings cannot contain U+0000
// ([MQTT-1.5.4-2], and the core refuses them), so no client id can forge one.
func (c *Conn) idSpace() string {
	var s string
	if c.lesson {
		s = "\x00lesson"
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
