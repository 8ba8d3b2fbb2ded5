package broker

import (
	"encoding/hex"
	"strings"

	"github.com/mqtts-playground/playground/trace/tlskeys"
)

// randomCatcher reads the client random from the first key log line of a
// connection's handshake (every line names it), so that a client can find
// the broker's side of its own connection.
type randomCatcher struct {
	conn *Conn
	done bool
}

func (w *randomCatcher) Write(p []byte) (int, error) {
	if w.done {
		return len(p), nil
	}
	// crypto/tls writes one line per call.
	if l, ok := tlskeys.ParseLine(p); ok {
		w.done = true
		random := hex.EncodeToString(l.ClientRandom)
		w.conn.update(func(i *ConnInfo) { i.ClientRandom = random })
	}
	return len(p), nil
}

// Find returns a recent connection by its id, by the hex client random of
// its TLS handshake, or by its MQTT client id (the most recent one).
func (b *Broker) Find(idOrRandom string) (ConnInfo, bool) {
	b.mu.Lock()
	list := append([]*Conn(nil), b.conns...)
	b.mu.Unlock()
	key := strings.ToLower(idOrRandom)
	for i := len(list) - 1; i >= 0; i-- {
		info := list[i].Info()
		if info.ID == idOrRandom || (info.ClientRandom != "" && info.ClientRandom == key) || (info.ClientID != "" && info.ClientID == idOrRandom) {
			return info, true
		}
	}
	return ConnInfo{}, false
}
