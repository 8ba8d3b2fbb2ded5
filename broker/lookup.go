package broker

import (
	"bytes"
	"encoding/hex"
	"strings"
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
	if f := bytes.Fields(p); len(f) == 3 && len(f[1]) == 64 {
		if _, err := hex.DecodeString(string(f[1])); err == nil {
			w.done = true
			random := strings.ToLower(string(f[1]))
			w.conn.update(func(i *ConnInfo) { i.ClientRandom = random })
		}
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
