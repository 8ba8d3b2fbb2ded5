package broker

import (
	"bytes"
	"strings"

	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/packets"
)

// certAuth lets every client in, except that on a connection authenticated
// by a client certificate the certificate decides who the client is: the
// MQTT user name must be empty or equal the certificate's common name, and
// becomes that name. Clients of lesson listeners may use only topics under
// LessonTopicPrefix, so a deliberately broken listener never touches real
// traffic.
type certAuth struct {
	mqtt.HookBase
	b *Broker
}

// LessonTopicPrefix is the only topic space open to clients of lesson listeners.
const LessonTopicPrefix = "lesson/"

func (h *certAuth) ID() string { return "playground-cert-auth" }

func (h *certAuth) Provides(b byte) bool {
	return bytes.Contains([]byte{mqtt.OnConnectAuthenticate, mqtt.OnACLCheck}, []byte{b})
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

func (h *certAuth) OnACLCheck(cl *mqtt.Client, topic string, _ bool) bool {
	bc, ok := cl.Net.Conn.(*brokerConn)
	if !ok || !h.b.isLesson(bc.info.Info().Listener) {
		return true
	}
	return strings.HasPrefix(topic, LessonTopicPrefix)
}

// isLesson reports whether the named listener is a lesson listener.
func (b *Broker) isLesson(name string) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	l, ok := b.listeners[name]
	return ok && l.Lesson
}

func quote(s string) string { return "\"" + s + "\"" }
