// Package inpage is the broker inside the page, for the static build
// (./wasm/static): a CA that lives in memory, the broker with the same
// options and listeners as the server's (package listenerset), a Dial
// that joins a client to a listener over an in-memory buffered connection,
// and the answers of the server's routes the page reads (GET /healthz,
// /ca.pem, /trace …, POST /pki/csr, /pki/revoke and /pki/rotate) as the
// same JSON bodies.
//
// The client and the broker meet only on that connection: real TLS
// between two crypto/tls ends, real MQTT through the broker's core. The
// package has no syscall/js, so plain `go test` runs all of it; ./wasm/static
// only hands its methods to JavaScript.
//
// It does not serve HTTP, keep anything across page loads, limit request
// rates (the page is the only client) or run a class.
package inpage

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"slices"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/mqtts-playground/playground/broker"
	"github.com/mqtts-playground/playground/broker/listenerset"
	"github.com/mqtts-playground/playground/broker/pki"
	"github.com/mqtts-playground/playground/trace"
	"github.com/mqtts-playground/playground/wasm/memconn"
)

// DefaultNames are the names the broker certificate covers, besides the
// page's host (Options.Names).
var DefaultNames = []string{"localhost", "127.0.0.1", "::1"}

// Options configure New.
type Options struct {
	// Names are more names for the broker certificate (the page's host
	// name, so that a client may dial it), after DefaultNames.
	Names []string
	// Logger receives the broker's log; nil discards it.
	Logger *slog.Logger
	// WatchEvery is how often Watch looks for new events (default 250 ms).
	WatchEvery time.Duration
}

// Broker is the CA, the broker and its listeners, in the page.
type Broker struct {
	ca    *pki.CA
	rot   *pki.Rotator // the broker certificate mqtts and mtls serve
	b     *broker.Broker
	names []string
	every time.Duration
	conns atomic.Uint64 // connections dialed, for their addresses
}

// New makes the CA, the broker certificate, the broker and its listeners,
// all in memory. Lesson certificates are made on the first handshake of
// their listener (see listenerset), so New returns after a few ECDSA keys.
func New(opts Options) (*Broker, error) {
	ca, err := pki.NewMemory()
	if err != nil {
		return nil, err
	}
	names := slices.Clone(DefaultNames)
	for _, n := range opts.Names {
		if n != "" && !slices.Contains(names, n) {
			names = append(names, n)
		}
	}
	cert, _, err := ca.ServerCertificate(names)
	if err != nil {
		return nil, err
	}
	// The server's defaults: a zero Options is every limit at its default.
	b, err := broker.New(broker.Options{Logger: opts.Logger})
	if err != nil {
		return nil, err
	}
	rot := pki.NewRotator(cert)
	if err := listenerset.Add(b, listenerset.Config{CA: ca, Rotator: rot, Names: names}); err != nil {
		b.Close()
		return nil, err
	}
	// The page records its own connections in full, as the server does
	// for a connection someone watches: this broker has no other viewer.
	b.Watch()
	every := opts.WatchEvery
	if every <= 0 {
		every = 250 * time.Millisecond
	}
	return &Broker{ca: ca, rot: rot, b: b, names: names, every: every}, nil
}

// Close ends every connection and stops the broker.
func (p *Broker) Close() error { return p.b.Close() }

// CA is the in-memory CA.
func (p *Broker) CA() *pki.CA { return p.ca }

// Dial opens a connection to the named listener, served by the broker as
// a connection of the page (ConnInfo.Tunnel), and returns the client's
// end. It has the signature of jsapi.Dialer, whose tunnel URL it ignores.
func (p *Broker) Dial(ctx context.Context, listener, _ string) (net.Conn, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := p.b.Tunnelable(listener); err != nil {
		return nil, fmt.Errorf("inpage: %w", err)
	}
	n := p.conns.Add(1)
	client, server := memconn.Pipe(memconn.Addr("page:"+strconv.FormatUint(n, 10)), memconn.Addr("broker:"+listener))
	go p.b.ServeAs(listener, server, broker.Principal{})
	return client, nil
}

// eventsBody is what Watch passes on.
type eventsBody struct {
	Events []trace.Event `json:"events"`
}

// body encodes v as the server's routes do.
func body(v any) string {
	var b bytes.Buffer
	if err := json.NewEncoder(&b).Encode(v); err != nil {
		// Only unsupported values fail, and these types have none.
		panic("inpage: " + err.Error())
	}
	return b.String()
}

// Health is the body of GET /healthz: the listeners (all reachable from
// the page, none with an address) and the names the broker certificate
// covers; no web server.
func (p *Broker) Health() string {
	return body(broker.Health{Listeners: p.b.Listeners(), Names: p.names})
}

// CAPEM is the body of GET /ca.pem: the root certificate.
func (p *Broker) CAPEM() string { return string(p.ca.RootPEM()) }

// TraceList is the body of GET /trace?query (query without "?", may be
// empty): the recent connections, newest first, as the query's filters
// keep them.
func (p *Broker) TraceList(query string) (string, error) {
	q, err := url.ParseQuery(query)
	if err != nil {
		return "", fmt.Errorf("trace: the query %q does not parse: %w", query, err)
	}
	f, err := broker.ParseConnFilter(q)
	if err != nil {
		return "", err
	}
	return body(broker.ConnList{Connections: p.b.ConnsOf(f.Keep(nil))}), nil
}

// find finds a recent connection by id, hex client random or client id.
func (p *Broker) find(key string) (broker.ConnInfo, trace.Recording, error) {
	info, ok := p.b.Find(key)
	if !ok {
		return info, trace.Recording{}, fmt.Errorf("trace: no recent connection %q (traceList lists them)", key)
	}
	rec, ok := p.b.Recording(info.ID)
	if !ok {
		return info, rec, fmt.Errorf("trace: connection %s was not recorded", info.ID)
	}
	return info, rec, nil
}

// TraceConn is the body of GET /trace/{key}: the connection and the events
// the broker recorded of it; key is a connection id, the hex client random
// of its handshake or its client id.
func (p *Broker) TraceConn(key string) (string, error) {
	info, rec, err := p.find(key)
	if err != nil {
		return "", err
	}
	return body(broker.ConnTrace{Connection: info, Events: trace.Decode(rec)}), nil
}

// Recording is the body of GET /trace/{key}/recording, the key log
// included: the page holds both ends of the connection.
func (p *Broker) Recording(key string) (string, error) {
	_, rec, err := p.find(key)
	if err != nil {
		return "", err
	}
	return body(rec), nil
}

// Watch calls onEvents with {"events":[…]}: the events of the connection
// named key recorded so far, then each new batch, until stop is called
// (as GET /trace/stream?conn=KEY sends them). A key that names no
// connection yet is looked for again until one appears. onEvents is called
// from a goroutine of Watch's, one call at a time. Each look decodes only
// what the connection recorded since the last (trace.Decoder): the page's
// main thread does not decode a long connection again and again.
func (p *Broker) Watch(key string, onEvents func(json string)) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		tick := time.NewTicker(p.every)
		defer tick.Stop()
		var dec trace.Decoder
		sent, chunks, dropped, called := 0, -1, int64(-1), false
		for {
			if info, ok := p.b.Find(key); ok {
				if rec, ok := p.b.Recording(info.ID); ok && (len(rec.Chunks) != chunks || rec.Dropped != dropped) {
					chunks, dropped = len(rec.Chunks), rec.Dropped
					if ev := dec.Update(rec); len(ev) > sent || !called {
						if ctx.Err() != nil {
							return
						}
						onEvents(body(eventsBody{Events: ev[min(sent, len(ev)):]}))
						sent, called = len(ev), true
					}
				}
			}
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
		}
	}()
	return cancel
}

// SignCSR answers POST /pki/csr: the chain PEM, leaf first, of a client
// certificate for the PEM request (pki.CA.SignCSR says what it accepts).
func (p *Broker) SignCSR(csrPEM string) (string, error) {
	chain, _, err := p.ca.SignCSR([]byte(csrPEM), pki.CSROptions{})
	if err != nil {
		return "", err
	}
	return string(chain), nil
}

// Rotate answers POST /pki/rotate: the broker gets a new certificate (new
// key, new serial, the same names) for the handshakes from now on;
// connections already up keep theirs. The JSON of broker.Rotated.
func (p *Broker) Rotate() (string, error) {
	leaf, err := p.ca.Rotate(p.rot, p.names)
	if err != nil {
		return "", err
	}
	b, err := json.Marshal(broker.Rotated{Serial: leaf.SerialNumber.Text(16), NotAfter: leaf.NotAfter.UTC()})
	return string(b), err
}

// Revoke answers POST /pki/revoke with the proof of possession the page
// signs (X-Revoke-Proof, X-Revoke-Time): the certificate is revoked when
// proof is its key's signature (see pki.CheckRevokeProof), and mtls
// refuses it from the next handshake on.
func (p *Broker) Revoke(certPEM, proof, unixTime string) error {
	cert, err := pki.ParseRevocable([]byte(certPEM))
	if err != nil {
		return err
	}
	if proof == "" {
		return errors.New("pki: prove you hold the certificate's key: sign a revocation proof with it (signRevocation)")
	}
	if err := pki.CheckRevokeProof(cert, proof, unixTime, time.Now()); err != nil {
		return err
	}
	return p.ca.Revoke(cert, pki.ReasonUnspecified)
}
