//go:build js && wasm

package jsapi

import (
	"crypto/tls"
	"encoding/hex"

	"github.com/mqtts-playground/playground/trace/tlswire"
	"github.com/mqtts-playground/playground/wasm/client"
)

// tlsInfo is what conn.tlsInfo() returns: nil without TLS.
func tlsInfo(c *client.Conn) *TLSInfo {
	st := c.TLSState()
	if st == nil {
		return nil
	}
	info := &TLSInfo{
		Version:      tls.VersionName(st.Version),
		CipherSuite:  tls.CipherSuiteName(st.CipherSuite),
		Resumed:      st.DidResume,
		ServerName:   st.ServerName,
		ClientRandom: hex.EncodeToString(c.ClientRandom()),
		ALPN:         st.NegotiatedProtocol,
	}
	if st.CurveID != 0 {
		info.Group = tlswire.GroupName(uint16(st.CurveID))
	}
	return info
}

// brokerKey is how the broker names the connection in GET /trace/{key}:
// the client random of the TLS handshake, else (without TLS) the MQTT
// client id of the CONNECT.
func brokerKey(c *client.Conn) string {
	if r := c.ClientRandom(); r != nil {
		return hex.EncodeToString(r)
	}
	return c.ClientID()
}
