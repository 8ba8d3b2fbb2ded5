// Package client is the playground's MQTT client: MQTT 3.1.1 or 5 over an
// optional TLS layer, on any byte stream, with taps on both sides of
// crypto/tls so every byte it sends and receives lands in a trace.
//
// In the browser (see package main in wasm/) the byte stream is a WebSocket
// tunnel to one of the broker's listeners; in tests it is a TCP connection.
// Either way the handshake is Go's own crypto/tls, exactly what a device
// running Go would do. The client checks the broker's certificate itself
// and records every step of the check (see [Check]).
//
// It is a teaching client: one subscription stream, in-order QoS 0/1/2, no
// persistence and no automatic reconnects.
package client

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/mqtts-playground/playground/trace"
	"github.com/mqtts-playground/playground/trace/explain"
	"github.com/mqtts-playground/playground/trace/mqttwire"
)

// Options configure a connection. The zero value is usable: MQTT 5, a
// random client id, plain MQTT (no TLS).
type Options struct {
	// ClientID is the MQTT client identifier; empty picks "playground-" and
	// a random suffix.
	ClientID string `json:"clientId"`
	Username string `json:"username"`
	Password string `json:"password"`
	// MQTTVersion is 4 (MQTT 3.1.1) or 5 (MQTT 5.0, the default).
	MQTTVersion int `json:"mqttVersion"`
	// KeepAlive is the MQTT keep-alive in seconds (default 60).
	KeepAlive int `json:"keepAlive"`
	// CleanStart, when false, asks the broker to carry on the session it
	// keeps for this client id, if any (Clean Start, MQTT 5.0 §3.1.2.4;
	// Clean Session in 3.1.1). Nil means true: a new session.
	CleanStart *bool `json:"cleanStart,omitempty"`
	// SessionExpiry is how many seconds the broker keeps the session after
	// the connection ends (Session Expiry Interval, MQTT 5.0 §3.1.2.11.2);
	// 0, the default, ends it with the connection. MQTT 5 only.
	SessionExpiry int `json:"sessionExpiry,omitempty"`
	// Will is the message the broker publishes for this client when the
	// connection ends without a normal DISCONNECT (MQTT 5.0 §3.1.2.5).
	Will *Will `json:"will,omitempty"`
	// AuthMethod names an enhanced authentication method (Authentication
	// Method, MQTT 5.0 §3.1.2.11.9, §4.12). The client sends it and no
	// AUTH packets: enough to see what a broker answers.
	AuthMethod string `json:"authMethod,omitempty"`
	// TLS, when set, runs MQTT inside TLS with these settings.
	TLS *TLSOptions `json:"tls"`
	// Timeout bounds the TLS handshake and the MQTT CONNECT (default 15 s).
	Timeout time.Duration `json:"-"`
}

// Will is a Last Will message.
type Will struct {
	Topic   string `json:"topic"`
	Payload string `json:"payload"`
	QoS     int    `json:"qos,omitempty"`
	Retain  bool   `json:"retain,omitempty"`
	// Delay is the Will Delay Interval in seconds (MQTT 5.0 §3.1.3.2.2).
	Delay int `json:"delay,omitempty"`
}

// TLSOptions configure the TLS layer.
type TLSOptions struct {
	// ServerName is the name the broker's certificate must be valid for,
	// sent in SNI. Default "localhost".
	ServerName string `json:"serverName"`
	// CAPEM holds the CA certificate(s) to trust, PEM-encoded. Empty means
	// the system's roots (none in the browser).
	CAPEM string `json:"caPEM"`
	// CertPEM and KeyPEM are the client certificate (chain) and key for
	// mutual TLS.
	CertPEM string `json:"certPEM"`
	KeyPEM  string `json:"keyPEM"`
	// Identity names a key pair made in the page (see wasm/identity_js.go);
	// the caller resolves it into Certificate.
	Identity string `json:"identity,omitempty"`
	// Certificate, when set, is the client certificate and key to use
	// instead of CertPEM/KeyPEM.
	Certificate *tls.Certificate `json:"-"`
	// InsecureSkipVerify accepts any certificate. The checks still run and
	// are recorded, so the lesson can show what was ignored.
	InsecureSkipVerify bool `json:"insecureSkipVerify"`
	// IntermediatesPEM holds CA certificates the client may use to build
	// the path from the broker's certificate to a trusted CA, without
	// trusting them (OpenSSL's -untrusted): for a broker that does not send
	// its intermediate.
	IntermediatesPEM string `json:"intermediatesPEM,omitempty"`
	// ALPN lists the application protocols to offer (RFC 7301), such as
	// "mqtt"; TLSInfo.ALPN says which one the broker chose.
	ALPN []string `json:"alpn,omitempty"`
	// Resume, when false, makes a full handshake even if an earlier
	// connection left a session ticket. The ticket this connection
	// receives is still kept, so the next connection resumes. Nil means
	// true.
	Resume *bool `json:"resume,omitempty"`
	// SessionScope separates session tickets: connections resume only
	// sessions of the same scope (the wasm client uses the listener name).
	SessionScope string `json:"-"`
	// Groups, when set, are the key exchange groups to offer, in order of
	// preference, by name: "X25519MLKEM768", "X25519", "P-256", "P-384",
	// "P-521". Leaving out X25519MLKEM768 makes the ClientHello about 1.2 KB
	// smaller (no post-quantum key share).
	Groups []string `json:"groups,omitempty"`
	// MinVersion and MaxVersion bound the TLS version: "1.2" or "1.3".
	MinVersion string `json:"minVersion"`
	MaxVersion string `json:"maxVersion"`
}

// Message is a PUBLISH the client received.
type Message struct {
	Topic   string `json:"topic"`
	Payload []byte `json:"payload"`
	QoS     byte   `json:"qos"`
	Retain  bool   `json:"retain"`
}

// Conn is an MQTT session over one connection.
type Conn struct {
	rec     *trace.Recorder
	raw     net.Conn
	conn    net.Conn // what MQTT reads and writes: the TLS conn's tap, or the raw tap
	tls     *tls.Conn
	version byte
	checks  []Check
	state   *tls.ConnectionState

	clientID     string // the client identifier CONNECT carried
	clientRandom []byte // the ClientHello random, nil without TLS

	haveCert  bool // a client certificate is configured
	certAsked bool // the broker asked for a client certificate

	wmu sync.Mutex // serialises writes of whole packets

	mu       sync.Mutex
	nextID   uint16
	waiting  map[uint16]chan packet // acks awaited by packet id
	inbound  map[uint16]Message     // QoS 2 messages awaiting PUBREL
	closeErr error

	reader   *bufio.Reader
	messages chan Message
	done     chan struct{}
}

// maxPacket bounds the size of a packet the client accepts.
const maxPacket = 1 << 20

// DialError is how Dial fails once it has started on the connection: what
// went wrong in plain words (Error), with what the page shows beside it.
type DialError struct {
	Err error
	// Checks are the steps of the broker certificate check, when the
	// handshake got as far as the certificate.
	Checks []Check
	// ClientRandom is the random of the ClientHello sent, nil before one
	// was: it names the connection at the broker (GET /trace/{random}).
	ClientRandom []byte
}

func (e *DialError) Error() string { return e.Err.Error() }
func (e *DialError) Unwrap() error { return e.Err }

// Dial runs TLS (when opts.TLS is set) and MQTT CONNECT over raw and
// returns the session. Every byte is recorded in rec, also when Dial fails,
// so the trace can show why. Errors say in plain words what went wrong;
// once bytes went out they are a *DialError.
func Dial(ctx context.Context, raw net.Conn, rec *trace.Recorder, opts Options) (*Conn, error) {
	c, err := dial(ctx, raw, rec, opts)
	if err != nil && c != nil {
		return nil, &DialError{Err: err, Checks: c.Checks(), ClientRandom: helloRandom(rec.Recording())}
	}
	return c, err
}

// dial is Dial; it returns the half-made Conn with the error once the
// connection has started.
func dial(ctx context.Context, raw net.Conn, rec *trace.Recorder, opts Options) (*Conn, error) {
	if opts.MQTTVersion == 0 {
		opts.MQTTVersion = 5
	}
	if opts.MQTTVersion != 4 && opts.MQTTVersion != 5 {
		raw.Close()
		return nil, fmt.Errorf("mqttVersion %d is not supported: use 4 (MQTT 3.1.1) or 5 (MQTT 5.0)", opts.MQTTVersion)
	}
	if opts.KeepAlive <= 0 {
		opts.KeepAlive = 60
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 15 * time.Second
	}
	if opts.ClientID == "" {
		opts.ClientID = "playground-" + randomSuffix()
	}
	c := &Conn{
		rec: rec, raw: raw, version: byte(opts.MQTTVersion), clientID: opts.ClientID,
		waiting: map[uint16]chan packet{}, inbound: map[uint16]Message{},
		messages: make(chan Message, 1024), done: make(chan struct{}),
	}
	ctx, cancel := context.WithTimeout(ctx, opts.Timeout)
	defer cancel()
	c.conn = rec.Wire(raw)
	if opts.TLS != nil {
		cfg, err := c.tlsConfig(opts.TLS)
		if err != nil {
			raw.Close()
			return nil, err
		}
		if err := c.handshake(ctx, cfg); err != nil {
			raw.Close()
			return c, err
		}
	}
	if err := c.connect(ctx, opts); err != nil {
		raw.Close()
		return c, err
	}
	go c.readLoop()
	go c.keepAlive(time.Duration(opts.KeepAlive) * time.Second)
	return c, nil
}

// handshake runs the TLS handshake over c.conn with cfg (from tlsConfig)
// and puts MQTT inside it; errors are explained.
func (c *Conn) handshake(ctx context.Context, cfg *tls.Config) error {
	tc := tls.Client(c.conn, cfg)
	if err := tc.HandshakeContext(ctx); err != nil {
		return c.explainHandshake(err, ctx)
	}
	st := tc.ConnectionState()
	c.state, c.tls = &st, tc
	c.clientRandom = helloRandom(c.rec.Recording())
	c.conn = c.rec.App(tc)
	return nil
}

// Recorder returns the connection's recorder.
func (c *Conn) Recorder() *trace.Recorder { return c.rec }

// Checks returns the steps of the server certificate check (empty without TLS).
func (c *Conn) Checks() []Check { return append([]Check(nil), c.checks...) }

// TLSState returns the negotiated TLS parameters, nil without TLS.
func (c *Conn) TLSState() *tls.ConnectionState { return c.state }

// ClientID returns the MQTT client identifier the CONNECT carried (the
// one picked for it when Options.ClientID was empty).
func (c *Conn) ClientID() string { return c.clientID }

// ClientRandom returns the random of the ClientHello this client sent,
// which names the connection in key logs; nil without TLS.
func (c *Conn) ClientRandom() []byte { return c.clientRandom }

// helloRandom reads the random of the ClientHello from the start of what
// the client sent on the wire: a handshake record (RFC 8446 §5.1: type 22,
// 2-byte version, 2-byte length) holding a client_hello (§4: type 1,
// 3-byte length), whose body starts with the 2-byte legacy_version and
// the 32-byte random (§4.1.2). It returns nil when the bytes are not that.
func helloRandom(rec trace.Recording) []byte {
	const start, end = 5 + 4 + 2, 5 + 4 + 2 + 32
	var hello []byte
	for _, ch := range rec.Chunks {
		if ch.Dir != trace.Send || ch.App || ch.Gap > 0 {
			continue
		}
		hello = append(hello, ch.Data...)
		if len(hello) >= end {
			break
		}
	}
	if len(hello) < end || hello[0] != 22 || hello[5] != 1 {
		return nil
	}
	return bytes.Clone(hello[start:end])
}

func (c *Conn) tlsConfig(o *TLSOptions) (*tls.Config, error) {
	name := o.ServerName
	if name == "" {
		name = "localhost"
	}
	cfg := &tls.Config{
		ServerName:   name,
		NextProtos:   o.ALPN,
		KeyLogWriter: c.rec.KeyLogWriter(),
		// The client runs the verification itself (see VerifyConnection) so
		// each step can be recorded; crypto/tls would stop at the first error.
		InsecureSkipVerify: true,
	}
	// Tickets are kept per listener (crypto/tls keys them by server name,
	// which every listener shares), so one listener's ticket never stands
	// in for another's.
	cache := &sessions{prefix: o.SessionScope + "|", noResume: o.Resume != nil && !*o.Resume}
	cfg.ClientSessionCache = cache
	var err error
	if cfg.MinVersion, err = parseVersion(o.MinVersion, "minVersion"); err != nil {
		return nil, err
	}
	if cfg.MaxVersion, err = parseVersion(o.MaxVersion, "maxVersion"); err != nil {
		return nil, err
	}
	if cfg.MinVersion == 0 {
		cfg.MinVersion = tls.VersionTLS12
	}
	for _, g := range o.Groups {
		id, ok := groupIDs[strings.ToUpper(strings.ReplaceAll(g, "_", "-"))]
		if !ok {
			return nil, fmt.Errorf("tls.groups: %q is not a group this client knows (X25519MLKEM768, X25519, P-256, P-384, P-521)", g)
		}
		cfg.CurvePreferences = append(cfg.CurvePreferences, id)
	}
	var roots *x509.CertPool
	if o.CAPEM != "" {
		roots = x509.NewCertPool()
		if !roots.AppendCertsFromPEM([]byte(o.CAPEM)) {
			return nil, errors.New("tls.caPEM holds no PEM certificate: paste the CA file's text, starting with -----BEGIN CERTIFICATE-----")
		}
	} else if sys, err := x509.SystemCertPool(); err == nil {
		roots = sys
	} else {
		// No system roots (a browser gives a wasm program none): trust
		// nothing, so the check fails as "unknown authority".
		roots = x509.NewCertPool()
	}
	extra, err := parseCerts(o.IntermediatesPEM)
	if err != nil {
		return nil, fmt.Errorf("tls.intermediatesPEM: %v", err)
	}
	if o.Certificate != nil {
		cfg.Certificates = []tls.Certificate{*o.Certificate}
		c.haveCert = true
	} else if o.CertPEM != "" || o.KeyPEM != "" {
		cert, err := tls.X509KeyPair([]byte(o.CertPEM), []byte(o.KeyPEM))
		if err != nil {
			return nil, fmt.Errorf("client certificate unusable: %v (give tls.certPEM and tls.keyPEM as PEM, and the key must belong to the certificate)", err)
		}
		cfg.Certificates = []tls.Certificate{cert}
		c.haveCert = true
	}
	// As crypto/tls would choose from cfg.Certificates, noting that the
	// broker asked, so a refusal can be explained.
	cfg.GetClientCertificate = func(cri *tls.CertificateRequestInfo) (*tls.Certificate, error) {
		c.certAsked = true
		for i := range cfg.Certificates {
			if cri.SupportsCertificate(&cfg.Certificates[i]) == nil {
				return &cfg.Certificates[i], nil
			}
		}
		return new(tls.Certificate), nil
	}
	skip := o.InsecureSkipVerify
	trust := trustKey(o.CAPEM, o.IntermediatesPEM, name)
	cfg.VerifyConnection = func(cs tls.ConnectionState) error {
		checks, err := verifyOnce(cs.DidResume, trust, cs.PeerCertificates, roots, name, time.Now(), extra, o.CAPEM)
		if len(cs.OCSPResponse) > 0 && len(cs.PeerCertificates) > 0 {
			ch, serr := checkStaple(cs.OCSPResponse, cs.PeerCertificates, extra, time.Now())
			checks = append(checks, ch)
			if err == nil {
				err = serr
			}
		}
		if skip {
			checks = append(checks, Check{Step: "verification skipped", OK: false,
				Detail: "insecureSkipVerify is on: the connection goes ahead whatever the checks above say, so an impostor's certificate would be accepted too"})
			err = nil
		}
		c.checks = checks
		return err
	}
	return cfg, nil
}

// groupIDs names the key exchange groups Groups may list.
var groupIDs = map[string]tls.CurveID{
	"X25519MLKEM768": tls.X25519MLKEM768,
	"X25519":         tls.X25519,
	"P-256":          tls.CurveP256,
	"SECP256R1":      tls.CurveP256,
	"P-384":          tls.CurveP384,
	"SECP384R1":      tls.CurveP384,
	"P-521":          tls.CurveP521,
	"SECP521R1":      tls.CurveP521,
}

// sessions is the client's view of sessionCache: scoped keys, and with
// noResume it offers no ticket but still keeps the one the broker sends, for
// the next connection.
type sessions struct {
	prefix   string
	noResume bool
}

func (s *sessions) Get(key string) (*tls.ClientSessionState, bool) {
	if s.noResume {
		return nil, false
	}
	return sessionCache.Get(s.prefix + key)
}

func (s *sessions) Put(key string, cs *tls.ClientSessionState) { sessionCache.Put(s.prefix+key, cs) }

// sessionCache keeps TLS session tickets across connections of this
// process, so a reconnect can resume.
var sessionCache = tls.NewLRUClientSessionCache(64)

func parseVersion(s, field string) (uint16, error) {
	switch strings.TrimPrefix(strings.ToUpper(strings.ReplaceAll(s, " ", "")), "TLS") {
	case "":
		return 0, nil
	case "1.0", "10":
		return tls.VersionTLS10, nil
	case "1.1", "11":
		return tls.VersionTLS11, nil
	case "1.2", "12":
		return tls.VersionTLS12, nil
	case "1.3", "13":
		return tls.VersionTLS13, nil
	}
	return 0, fmt.Errorf("tls.%s %q is not a TLS version: use \"1.2\" or \"1.3\"", field, s)
}

// writePacket writes one whole encoded packet.
func (c *Conn) writePacket(pk []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	_, err := c.conn.Write(pk)
	return err
}

func (c *Conn) connect(ctx context.Context, o Options) error {
	if w := o.Will; w != nil && (w.QoS < 0 || w.QoS > 2) {
		return fmt.Errorf("will.qos %d is not 0, 1 or 2", w.QoS)
	}
	if dl, ok := ctx.Deadline(); ok {
		c.conn.SetDeadline(dl)
		defer c.conn.SetDeadline(time.Time{})
	}
	if err := c.writePacket(connectPacket(c.version, o)); err != nil {
		return fmt.Errorf("sending CONNECT failed: %w", err)
	}
	r := bufio.NewReader(c.conn)
	ack, err := readPacket(r, c.version)
	if err != nil {
		if errors.Is(err, io.EOF) {
			return errors.New("the broker closed the connection instead of answering CONNECT (wrong port, or a TLS listener reached without TLS?)")
		}
		if strings.Contains(err.Error(), "remote error: tls: ") {
			return errors.New(c.explainAlert(err.Error()))
		}
		return &wordsError{words: "waiting for CONNACK failed: " + explain.Ended(err, "the broker"), err: err}
	}
	if ack.typ != mqttwire.TypeConnack {
		return fmt.Errorf("the broker answered CONNECT with packet type %d instead of CONNACK", ack.typ)
	}
	if ack.reason != 0 {
		return fmt.Errorf("broker refused the MQTT connection: %s", connackReason(c.version, ack.reason))
	}
	c.reader = r
	return nil
}

func connackReason(version, code byte) string {
	if version < 5 {
		names := []string{"accepted", "unacceptable protocol version", "identifier rejected", "server unavailable", "bad user name or password", "not authorized"}
		if int(code) < len(names) {
			return names[code]
		}
		return fmt.Sprintf("return code %d", code)
	}
	return fmt.Sprintf("%s (0x%02x)", mqttwire.ReasonName(code), code)
}
