//go:build js && wasm

package main

import (
	"crypto/tls"

	"github.com/mqtts-playground/playground/trace/tlswire"
	"github.com/mqtts-playground/playground/wasm/client"
)

// tlsInfoJSON is what conn.tlsInfo() returns.
type tlsInfoJSON struct {
	Version     string `json:"version"`
	CipherSuite string `json:"cipherSuite"`
	Group       string `json:"group,omitempty"`
	Resumed     bool   `json:"resumed"`
	ServerName  string `json:"serverName"`
}

func tlsInfo(c *client.Conn) *tlsInfoJSON {
	st := c.TLSState()
	if st == nil {
		return nil
	}
	info := &tlsInfoJSON{
		Version:     tls.VersionName(st.Version),
		CipherSuite: tls.CipherSuiteName(st.CipherSuite),
		Resumed:     st.DidResume,
		ServerName:  st.ServerName,
	}
	if st.CurveID != 0 {
		info.Group = tlswire.GroupName(uint16(st.CurveID))
	}
	return info
}
