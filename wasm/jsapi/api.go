package jsapi

// The names and the data the JavaScript side relies on. This file has no
// syscall/js so that plain `go test` can compare them with
// web/src/playground.d.ts, and web/src/gen/wasm.ts is generated from it
// (./task generate): keep it to names and data types.

// GlobalName is the global object the wasm module fills in. The page's
// script wraps it as window.playground (see web/src/playground.ts).
const GlobalName = "__playgroundGo"

// ReadyCallback is the global function, if any, the module calls once its
// API is in place.
const ReadyCallback = "__playgroundGoReady"

// GlobalMethods are the methods of GlobalName.
var GlobalMethods = []string{"connect", "decode", "readCapture", "newIdentity", "setIdentityCert", "exportIdentity", "importIdentity", "signRevocation"}

// ConnMethods are the methods of the connection object connect resolves to.
var ConnMethods = []string{"subscribe", "publish", "nextMessage", "trace", "checks", "recording", "pcapng", "keylog", "tlsInfo", "clientId", "brokerKey", "close", "drop"}

// ScriptConnMethods are connection methods web/src/playground.ts adds in
// JavaScript on top of ConnMethods.
var ScriptConnMethods = []string{"brokerTrace"}

// TLSInfo is what conn.tlsInfo() returns: the negotiated TLS parameters.
type TLSInfo struct {
	// Version is "TLS 1.3" or "TLS 1.2".
	Version string `json:"version"`
	// CipherSuite is the suite's IANA name (TLS_AES_128_GCM_SHA256 …).
	CipherSuite string `json:"cipherSuite"`
	// Group is the key exchange group (X25519MLKEM768, X25519 …); empty
	// when none was used (TLS 1.2 RSA key exchange).
	Group string `json:"group,omitempty"`
	// Resumed is true when the handshake resumed an earlier session.
	Resumed bool `json:"resumed"`
	// ServerName is the SNI the client sent; empty for an IP address.
	ServerName string `json:"serverName"`
	// ClientRandom is the hex of the ClientHello random, which names the
	// connection in the key log and in GET /trace/{clientRandom}.
	ClientRandom string `json:"clientRandom"`
	// ALPN is the application protocol the broker chose from the client's
	// tls.alpn list (RFC 7301), empty when none was negotiated.
	ALPN string `json:"alpn,omitempty"`
}

// Message is what conn.nextMessage() resolves to: a PUBLISH received.
type Message struct {
	Topic string `json:"topic"`
	// Payload is the payload as UTF-8 text.
	Payload string `json:"payload"`
	QoS     int    `json:"qos"`
	Retain  bool   `json:"retain"`
}

// Identity is a client identity as the page sees it: a key pair made in
// the page (the private key stays in the wasm module) and its certificate.
type Identity struct {
	// ID is the handle for connect({tls: {identity}}); valid while the
	// page is open.
	ID string `json:"id"`
	// Name is the certificate's subject common name, also the MQTT user
	// name on the mtls listener.
	Name    string `json:"name"`
	Subject string `json:"subject"`
	Issuer  string `json:"issuer"`
	// Serial is the certificate's serial number in hex.
	Serial string `json:"serial"`
	// NotAfter is the end of the certificate's validity, RFC 3339.
	NotAfter string `json:"notAfter"`
	// ChainPEM is the certificate chain, leaf first (no private key).
	ChainPEM string `json:"chainPEM"`
}

// IdentityRequest is what newIdentity(name) resolves to: the handle of a
// fresh key pair and a certificate signing request for it, for POST
// /pki/csr.
type IdentityRequest struct {
	ID     string `json:"id"`
	CSRPEM string `json:"csrPEM"`
}

// SavedIdentity is what exportIdentity(id) resolves to and what the page
// keeps in IndexedDB when the learner saves an identity.
type SavedIdentity struct {
	Name     string `json:"name"`
	KeyPEM   string `json:"keyPEM"`
	ChainPEM string `json:"chainPEM"`
}

// RevocationProof is what signRevocation(id, unixTime) resolves to: the
// body and the X-Revoke-Proof header of POST /pki/revoke.
type RevocationProof struct {
	// CertPEM is the certificate to revoke.
	CertPEM string `json:"certPEM"`
	// Proof is the base64 ECDSA signature, by the identity's key, of
	// "mqtts-playground revoke SERIAL UNIXTIME".
	Proof string `json:"proof"`
}
