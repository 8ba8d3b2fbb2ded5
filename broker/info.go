package broker

import (
	"time"

	"github.com/mqtts-playground/playground/trace"
	"github.com/mqtts-playground/playground/trace/explain"
)

// The broker's descriptions of its listeners and connections. They reach
// the page as JSON (GET /healthz, GET /trace): web/src/gen/broker.ts is
// generated from this file (./task generate), so keep it to these
// types.

// ListenerInfo is what the broker tells about a listener.
type ListenerInfo struct {
	// Name is the listener's name, which the tunnel and clients use
	// ("mqtts", "mtls", a lesson listener's name …).
	Name string `json:"name"`
	// Addr is where devices reach it ("host:port", or a URL for MQTT over
	// WebSocket).
	Addr string `json:"addr"`
	// TLS is true when the listener speaks TLS.
	TLS bool `json:"tls"`
	// MTLS is true when it also asks for a client certificate.
	MTLS bool `json:"mtls,omitempty"`
	// Lesson marks a listener with deliberately broken certificates.
	Lesson bool `json:"lesson"`
	// Tunnel is true when the page can reach it through /tunnel.
	Tunnel bool `json:"tunnel"`
	// Upstream marks a broker elsewhere that the server's tunnel reaches
	// by name (the server's --upstream), not a listener of this broker:
	// a TLS client's handshake is with that broker.
	Upstream bool `json:"upstream,omitempty"`
	// About says in one line what the listener is for.
	About string `json:"about"`
	// CertNotAfter is when the certificate a TLS listener serves expires:
	// what an expiry alert watches.
	CertNotAfter time.Time `json:"certNotAfter,omitzero"`
	// Handshakes and HandshakeFailures count the TLS handshakes the
	// listener completed and those that failed since the broker started;
	// LastFailure says why the last one failed. A rise in failures is what
	// a handshake alert watches.
	Handshakes        int64  `json:"handshakes,omitempty"`
	HandshakeFailures int64  `json:"handshakeFailures,omitempty"`
	LastFailure       string `json:"lastFailure,omitempty"`
	// Fault, for a lesson listener, is what is wrong with it on purpose.
	Fault *explain.Fault `json:"fault,omitempty"`
}

// ConnInfo describes one connection the broker served or is serving.
type ConnInfo struct {
	// ID names the connection in GET /trace/{id} ("c1", "c2" …).
	ID string `json:"id"`
	// Listener is the name of the listener it came in on.
	Listener string `json:"listener"`
	// Remote is the peer's address as the listener saw it.
	Remote string `json:"remote"`
	// Started is when the connection was accepted.
	Started time.Time `json:"started"`
	// ClientID is the MQTT client identifier of its CONNECT, once seen.
	ClientID string `json:"clientId,omitempty"`
	// ClientRandom is the hex of the TLS ClientHello random: what a client
	// that recorded its own side uses to find the broker's side.
	ClientRandom string `json:"clientRandom,omitempty"`
	// TLSVersion is the negotiated version ("TLS 1.3"), empty without TLS.
	TLSVersion string `json:"tlsVersion,omitempty"`
	// Resumed is true when the TLS handshake resumed an earlier session.
	Resumed bool `json:"resumed,omitempty"`
	// PeerCN is the common name of the client certificate, if one was sent
	// and verified (an unverified certificate names no one).
	PeerCN string `json:"peerCN,omitempty"`
	// Ended is when the connection closed; zero while it is open.
	Ended time.Time `json:"ended,omitzero"`
	// Err says why the connection ended, when it ended with an error.
	Err string `json:"error,omitempty"`
	// Cause is the short cause of Err, to group failures by ("the client
	// did not speak TLS", "wrong user name or password").
	Cause string `json:"cause,omitempty"`
	// Tunnel is true for a connection a page made through the server's
	// WebSocket tunnel (see Broker.ServeAs), false for one that reached a
	// listener's port.
	Tunnel bool `json:"tunnel,omitempty"`
	// Owner is the attendee the connection belongs to, in a class
	// (workshop mode); empty outside one, for the instructor, and until
	// the owner is known.
	Owner string `json:"owner,omitempty"`
}

// Health is the body of GET /healthz, of the server and of the static
// build's broker in the page.
type Health struct {
	// Listeners are the broker's listeners.
	Listeners []ListenerInfo `json:"listeners"`
	// HTTP and HTTPS are the web server's addresses ("host:port"), empty
	// when it does not serve that scheme (and in the static build).
	HTTP  string `json:"http"`
	HTTPS string `json:"https"`
	// Names are the names the broker certificate covers.
	Names []string `json:"names"`
}

// ConnList is the body of GET /trace, and of the "connections" events of
// GET /trace/stream: the broker's recent connections, newest first.
type ConnList struct {
	Connections []ConnInfo `json:"connections"`
}

// ConnTrace is the body of GET /trace/{id}, and of the "events" events of
// GET /trace/stream: a connection and the events the broker recorded of
// it.
type ConnTrace struct {
	Connection ConnInfo      `json:"connection"`
	Events     []trace.Event `json:"events"`
}

// Rotated answers POST /pki/rotate (and the static build's rotate): the
// broker's new certificate. Connections already up keep the one they
// were shown.
type Rotated struct {
	// Serial is the new certificate's serial number, hex.
	Serial string `json:"serial"`
	// NotAfter is when it expires.
	NotAfter time.Time `json:"notAfter"`
}
