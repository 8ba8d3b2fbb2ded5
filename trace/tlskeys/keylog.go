// Package tlskeys decrypts TLS records with the secrets a TLS stack logged
// in the NSS key log format (what crypto/tls writes through
// Config.KeyLogWriter): TLS 1.3 traffic keys (RFC 8446 §7) and TLS 1.2
// AEAD record keys derived from the master secret (RFC 5246 §6.3). It holds
// the one key log parser of the playground, line by line ([ParseLine]) or
// whole logs ([ParseKeyLog]).
//
// It opens records one at a time and keeps their sequence numbers; it does
// not follow a connection (which record comes under which keys is package
// trace's business) and does not decrypt CBC or stream-cipher suites.
package tlskeys

import (
	"bytes"
	"encoding/hex"
)

// Key log labels of TLS 1.3 (RFC 8446 §7.1, as named by NSS) and TLS 1.2.
const (
	LabelClientHandshake = "CLIENT_HANDSHAKE_TRAFFIC_SECRET"
	LabelServerHandshake = "SERVER_HANDSHAKE_TRAFFIC_SECRET"
	LabelClientTraffic   = "CLIENT_TRAFFIC_SECRET_0"
	LabelServerTraffic   = "SERVER_TRAFFIC_SECRET_0"
	LabelClientRandom    = "CLIENT_RANDOM" // TLS 1.2 master secret
)

// Line is one line of an NSS key log: "LABEL client_random secret", the
// two values in hex.
type Line struct {
	Label        string
	ClientRandom []byte // 32 bytes: the random of the connection's ClientHello
	Secret       []byte
}

// ParseLine reads one key log line (surrounding white space, a line break
// included, is ignored). It returns false for comments, empty lines and
// lines it does not understand, which key log readers conventionally skip:
// a line must hold three fields, a client random of 32 bytes and a
// non-empty secret, both in hex.
func ParseLine(line []byte) (Line, bool) {
	line = bytes.TrimSpace(line)
	if len(line) == 0 || line[0] == '#' {
		return Line{}, false
	}
	parts := bytes.Fields(line)
	if len(parts) != 3 || hex.DecodedLen(len(parts[1])) != 32 {
		return Line{}, false
	}
	random, err1 := hex.DecodeString(string(parts[1]))
	secret, err2 := hex.DecodeString(string(parts[2]))
	if err1 != nil || err2 != nil || len(secret) == 0 {
		return Line{}, false
	}
	return Line{Label: string(parts[0]), ClientRandom: random, Secret: secret}, true
}

// KeyLog holds the secrets of a key log, by label and client random. The
// trace uses them to decrypt records for display; the pcapng export
// embeds the log so Wireshark can decrypt too.
type KeyLog struct {
	// secrets maps label → hex(client random) → secret.
	secrets map[string]map[string][]byte
}

// ParseKeyLog reads NSS key log text; lines [ParseLine] rejects are
// ignored, however long they are.
func ParseKeyLog(text []byte) *KeyLog {
	kl := &KeyLog{secrets: map[string]map[string][]byte{}}
	for line := range bytes.Lines(text) {
		l, ok := ParseLine(line)
		if !ok {
			continue
		}
		m := kl.secrets[l.Label]
		if m == nil {
			m = map[string][]byte{}
			kl.secrets[l.Label] = m
		}
		m[hex.EncodeToString(l.ClientRandom)] = l.Secret
	}
	return kl
}

// Secret returns the secret logged under label for the connection whose
// ClientHello carried clientRandom. With a nil clientRandom it returns the
// secret when the log holds exactly one for that label.
func (kl *KeyLog) Secret(label string, clientRandom []byte) []byte {
	if kl == nil {
		return nil
	}
	m := kl.secrets[label]
	if clientRandom != nil {
		return m[hex.EncodeToString(clientRandom)]
	}
	if len(m) == 1 {
		for _, s := range m {
			return s
		}
	}
	return nil
}
