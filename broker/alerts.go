package broker

import (
	"bytes"
	"crypto/tls"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"net"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/mqtts-playground/playground/trace/tlskeys"
)

// TLS record content types and sizes used here (RFC 8446 §5.1).
const (
	recordAlert      = 21
	recordAppData    = 23
	recordHeaderLen  = 5
	alertLevelFatal  = 2
	maxHandshakeSent = 64 << 10 // what a server flight may take; more is not kept
	plainAlertLen    = recordHeaderLen + 2
)

// handshakeConn sits between the wire and tls.Server during a TLS
// handshake and does two things crypto/tls does not:
//
//   - It sends the alert a VerifyConnection callback asks for by returning
//     a tls.AlertError (44 certificate_revoked for a revoked client
//     certificate), where crypto/tls always sends 42 bad_certificate
//     (golang/go#77378). In TLS 1.2 the broker's records are still in the
//     clear at that point; in TLS 1.3 the alert is encrypted with the
//     server's application traffic key, taken from the key log.
//   - It names the alert a client sent in the clear after refusing the
//     broker's certificate. OpenSSL clients do that in TLS 1.3, where the
//     broker already expects encrypted records, so crypto/tls reports only
//     "bad record MAC".
//
// After the handshake it passes bytes through untouched.
type handshakeConn struct {
	net.Conn
	done atomic.Bool

	mu     sync.Mutex
	muted  bool   // an alert of ours was sent: crypto/tls's own one is dropped
	tail   []byte // the last bytes received, up to one plaintext alert record
	sent   []byte // what the broker sent (up to maxHandshakeSent)
	secret []byte // SERVER_TRAFFIC_SECRET_0 from the key log (TLS 1.3)
}

func (c *handshakeConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if n > 0 && !c.done.Load() {
		c.mu.Lock()
		c.tail = append(c.tail, p[:n]...)
		if over := len(c.tail) - plainAlertLen; over > 0 {
			c.tail = append(c.tail[:0], c.tail[over:]...)
		}
		c.mu.Unlock()
	}
	return n, err
}

func (c *handshakeConn) Write(p []byte) (int, error) {
	if !c.done.Load() {
		c.mu.Lock()
		muted := c.muted
		if !muted && len(c.sent)+len(p) <= maxHandshakeSent {
			c.sent = append(c.sent, p...)
		}
		c.mu.Unlock()
		if muted {
			return len(p), nil
		}
	}
	return c.Conn.Write(p)
}

// handshakeDone stops watching and frees what was kept.
func (c *handshakeConn) handshakeDone() {
	c.done.Store(true)
	c.mu.Lock()
	c.sent, c.secret = nil, nil
	c.mu.Unlock()
}

// configure makes cfg (one connection's own clone) answer ALPN "mqtt" and
// send the alerts its VerifyConnection asks for.
func (c *handshakeConn) configure(cfg *tls.Config) {
	if len(cfg.NextProtos) == 0 && cfg.GetConfigForClient == nil {
		// Answer "mqtt" to clients offering it (cloud brokers do, on
		// 443 and 8883); crypto/tls refuses clients whose offer does not
		// match, so to those that offer only others, say nothing.
		cfg.NextProtos = []string{"mqtt"}
		cfg.GetConfigForClient = func(hello *tls.ClientHelloInfo) (*tls.Config, error) {
			if len(hello.SupportedProtos) == 0 || slices.Contains(hello.SupportedProtos, "mqtt") {
				return nil, nil
			}
			other := cfg.Clone()
			other.NextProtos, other.GetConfigForClient = nil, nil
			return other, nil
		}
	}
	if verify := cfg.VerifyConnection; verify != nil {
		cfg.VerifyConnection = func(cs tls.ConnectionState) error {
			err := verify(cs)
			var alert tls.AlertError
			if err != nil && errors.As(err, &alert) {
				c.sendAlert(cs, byte(alert))
			}
			return err
		}
	}
}

// keyLog catches the server's TLS 1.3 application traffic secret.
func (c *handshakeConn) keyLog() *secretCatcher { return &secretCatcher{c: c} }

type secretCatcher struct{ c *handshakeConn }

func (w *secretCatcher) Write(p []byte) (int, error) {
	if f := bytes.Fields(p); len(f) == 3 && string(f[0]) == "SERVER_TRAFFIC_SECRET_0" {
		if secret, err := hex.DecodeString(string(f[2])); err == nil {
			w.c.mu.Lock()
			w.c.secret = secret
			w.c.mu.Unlock()
		}
	}
	return len(p), nil
}

// sendAlert writes a fatal alert, in the clear (TLS 1.2: the broker has not
// sent ChangeCipherSpec when it checks the client) or encrypted (TLS 1.3:
// the broker's Finished is sent), and mutes crypto/tls's own alert. On any
// doubt it sends nothing and crypto/tls's bad_certificate goes out.
func (c *handshakeConn) sendAlert(cs tls.ConnectionState, desc byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.muted {
		return
	}
	var record []byte
	if cs.Version < tls.VersionTLS13 {
		record = []byte{recordAlert, 3, 3, 0, 2, alertLevelFatal, desc}
	} else {
		keys, err := tlskeys.NewKeys13(cs.CipherSuite, c.secret, tlskeys.LabelServerTraffic)
		if err != nil {
			return
		}
		countSealed(keys, c.sent)
		record = keys.Seal(recordAlert, []byte{alertLevelFatal, desc})
	}
	if _, err := c.Conn.Write(record); err == nil {
		c.muted = true
	}
}

// countSealed opens, in order, the records in sent that keys opens, so
// that keys.Seq is the sequence number of the next record under that key
// (RFC 8446 §5.3).
func countSealed(keys *tlskeys.Keys13, sent []byte) {
	for len(sent) >= recordHeaderLen {
		n := int(binary.BigEndian.Uint16(sent[3:5]))
		if len(sent) < recordHeaderLen+n {
			break
		}
		if sent[0] == recordAppData {
			keys.Open(sent[:recordHeaderLen+n]) // advances Seq when it is ours
		}
		sent = sent[recordHeaderLen+n:]
	}
}

// clientAlert returns the alert a client sent in the clear, if that is what
// made the handshake fail.
func (c *handshakeConn) clientAlert(err error) (byte, bool) {
	if err == nil || !strings.Contains(err.Error(), "bad record MAC") {
		return 0, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	t := c.tail
	if len(t) != plainAlertLen || t[0] != recordAlert || t[1] != 3 || t[2] > 4 || t[3] != 0 || t[4] != 2 || t[5] < 1 || t[5] > 2 {
		return 0, false
	}
	return t[6], true
}

// clientAlertError is a handshake error that names the alert the client
// sent, worded as crypto/tls words the alerts it can read.
type clientAlertError struct {
	alert byte
	err   error // what crypto/tls said
}

func (e *clientAlertError) Error() string { return "remote error: " + tls.AlertError(e.alert).Error() }

func (e *clientAlertError) Unwrap() []error { return []error{tls.AlertError(e.alert), e.err} }
