package trace

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"strings"
)

// KeyLog holds TLS secrets in the NSS key log format that crypto/tls writes
// through Config.KeyLogWriter (one "LABEL client_random secret" line each).
// The trace uses them to decrypt records for display; the pcapng export
// embeds them so Wireshark can decrypt too.
type KeyLog struct {
	// secrets maps label → hex(client random) → secret.
	secrets map[string]map[string][]byte
}

// ParseKeyLog reads NSS key log text. Comment lines and lines it does not
// understand are ignored, as key log readers conventionally do.
func ParseKeyLog(text []byte) *KeyLog {
	kl := &KeyLog{secrets: map[string]map[string][]byte{}}
	sc := bufio.NewScanner(bytes.NewReader(text))
	sc.Buffer(make([]byte, 0, 1024), 64*1024)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		parts := strings.Fields(line)
		if len(parts) != 3 {
			continue
		}
		random, err1 := hex.DecodeString(parts[1])
		secret, err2 := hex.DecodeString(parts[2])
		if err1 != nil || err2 != nil || len(random) != 32 || len(secret) == 0 {
			continue
		}
		m := kl.secrets[parts[0]]
		if m == nil {
			m = map[string][]byte{}
			kl.secrets[parts[0]] = m
		}
		m[hex.EncodeToString(random)] = secret
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

// Key log labels of TLS 1.3 (RFC 8446 §7.1, as named by NSS) and TLS 1.2.
const (
	labelClientHandshake = "CLIENT_HANDSHAKE_TRAFFIC_SECRET"
	labelServerHandshake = "SERVER_HANDSHAKE_TRAFFIC_SECRET"
	labelClientTraffic   = "CLIENT_TRAFFIC_SECRET_0"
	labelServerTraffic   = "SERVER_TRAFFIC_SECRET_0"
	labelClientRandom    = "CLIENT_RANDOM" // TLS 1.2 master secret
)
