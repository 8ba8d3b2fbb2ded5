package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/mqtts-playground/playground/broker"
	"github.com/mqtts-playground/playground/broker/listenerset"
	"github.com/mqtts-playground/playground/broker/pki"
	"github.com/mqtts-playground/playground/lessons"
	"github.com/mqtts-playground/playground/web"
	"github.com/mqtts-playground/playground/workshop"
)

// App is the running playground: CA, broker, and web servers.
type App struct {
	cfg    Config
	log    *slog.Logger
	ca     *pki.CA
	broker *broker.Broker
	assets *web.Assets
	names  []string // what the broker certificate covers
	cert   tls.Certificate
	rot    *pki.Rotator // the broker's current certificate (see POST /pki/rotate)
	course *lessons.Course
	class  *workshop.Class // a class (--workshop); nil outside one
	up     upstreams       // brokers elsewhere the tunnel reaches by name
	// origins are the other sites whose pages may open tunnels (--allow-origin).
	origins originSet

	httpAddr, httpsAddr string
	webCert             *x509.Certificate // the --tls-cert leaf, if given
	readOnly            error             // why the data folder cannot be written; nil if it can
	servers             []*http.Server
}

// httpTimeouts bound how long the web server waits for a client. Streams
// (the tunnel, MQTT over WebSocket, server-sent events) lift the read and
// write deadlines for themselves (see liftDeadlines).
type httpTimeouts struct {
	header time.Duration // to read a request's headers
	read   time.Duration // to read a whole request, body included
	write  time.Duration // to write a response
	idle   time.Duration // a kept-alive connection waits for the next request
}

var defaultHTTPTimeouts = httpTimeouts{header: 10 * time.Second, read: 30 * time.Second, write: 2 * time.Minute, idle: 2 * time.Minute}

// newApp creates the CA (or loads it), opens the broker listeners and the
// web servers. assets may be nil only in tests that do not load the page.
func newApp(cfg Config, assets *web.Assets, log *slog.Logger) (_ *App, err error) {
	a := &App{cfg: cfg, log: log, assets: assets}
	defer func() {
		if err != nil {
			a.Close()
		}
	}()
	if a.course, err = loadLessons(); err != nil {
		return nil, err
	}
	if a.origins, err = newOriginSet(cfg.AllowOrigins); err != nil {
		return nil, err
	}
	if cfg.CACert != "" {
		if a.ca, err = pki.LoadExternal(cfg.CACert, cfg.CAKey, cfg.Data); err != nil {
			return nil, err
		}
		log.Info("issuing from an existing CA", "ca", a.ca.Intermediate.Subject.CommonName, "file", cfg.CACert)
	} else {
		var rep pki.Report
		if a.ca, rep, err = pki.LoadOrCreateWith(cfg.Data, pki.Options{NewIntermediate: cfg.NewIntermediate}); err != nil {
			return nil, err
		}
		if rep.Created {
			log.Info("created a new local CA", "folder", cfg.Data)
		}
		if rep.NewIntermediate && !rep.Created {
			log.Warn("made a new intermediate CA: client certificates issued by the old one no longer verify", "folder", cfg.Data)
		}
		for _, w := range rep.Warnings {
			log.Warn("data folder: "+w, "folder", cfg.Data)
		}
	}
	if a.readOnly = checkWritable(a.ca.Dir()); a.readOnly != nil {
		log.Warn("the data folder cannot be written: revoking, the CRL and rotating the broker certificate will answer 503 until it can",
			"folder", a.ca.Dir(), "err", a.readOnly)
	}
	extra := slices.Clone(cfg.SANs)
	if cfg.ListenAll {
		extra = append(extra, interfaceAddrs()...)
	}
	a.names = pki.HostNames(extra...)
	var issued bool
	a.cert, issued, err = a.ca.ServerCertificate(a.names)
	if err != nil {
		return nil, err
	}
	if issued {
		log.Info("issued the broker certificate", "serial", a.cert.Leaf.SerialNumber.Text(16))
	}
	log.Info("the broker certificate covers "+strings.Join(a.names, ", "), "hint", "connect with one of these names; add more with --san")
	a.rot = pki.NewRotator(a.cert)
	opts := cfg.brokerOptions(log)
	opts.KeepConns = cfg.KeepConns
	if cfg.Workshop {
		if a.class, err = workshop.Open(a.ca.Dir(), cfg.Token); err != nil {
			return nil, err
		}
		a.cfg.Token = a.class.Token()
		opts.Class = a.classOptions()
		log.Info("running a class", "attendees", a.class.Attendees(), "store", filepath.Join(a.ca.Dir(), workshop.StoreFile))
	}
	a.broker, err = broker.New(opts)
	if err != nil {
		return nil, err
	}
	if err := a.addListeners(); err != nil {
		return nil, err
	}
	if a.up, err = newUpstreams(cfg.Upstreams, a.broker); err != nil {
		return nil, err
	}
	if err := a.startWeb(); err != nil {
		return nil, err
	}
	return a, nil
}

// OwnerTopics are an attendee's topic spaces in a class: their own
// (ws/ID), and those the lessons use (lessons/ID, lesson/ID on the lesson
// listeners), where the attendee id stands in for the page's learner id.
var ownerTopics = []string{"ws/{owner}", "lessons/{owner}", broker.LessonTopicPrefix + "{owner}"}

// classOptions are the broker's options for the class.
func (a *App) classOptions() *broker.ClassOptions {
	conns := a.cfg.AttendeeConns
	if conns == 0 {
		conns = -1
	}
	retained := a.cfg.AttendeeRetainedBytes
	if retained == 0 {
		retained = -1
	}
	return &broker.ClassOptions{Accounts: a.class, OwnerTopics: ownerTopics, OwnerConns: conns, OwnerRetainedBytes: retained,
		OwnerRate: a.cfg.AttendeeMsgRate, OwnerBurst: max(1, int(5*a.cfg.AttendeeMsgRate)), Notify: a.class.Notice}
}

// brokerOptions turns the flags into broker options: a flag's 0 (no
// limit) is the broker's negative.
func (c Config) brokerOptions(log *slog.Logger) broker.Options {
	noLimit := func(v int64) int64 {
		if v == 0 {
			return -1
		}
		return v
	}
	return broker.Options{
		Logger:            log,
		TraceLimit:        c.TraceLimit,
		MaxPacketSize:     int(noLimit(int64(c.MaxPacketSize))),
		SessionExpiry:     time.Duration(noLimit(int64(c.SessionExpiry))),
		SessionQueue:      int(noLimit(int64(c.SessionQueue))),
		SessionQueueBytes: int(noLimit(int64(c.SessionQueueBytes))),
		RetainedBytes:     int(noLimit(int64(c.RetainedBytes))),
		ConnsPerAddr:      int(noLimit(int64(c.MaxConnsPerAddr))),
	}
}

func addrOrEmpty(a string) string {
	if a == "off" {
		return ""
	}
	return a
}

// addListeners opens the broker's listeners: those of package listenerset
// (the static build opens the same), then MQTT over WebSocket on the web
// port. A main listener set "off" has no port but is still reachable
// through the tunnel.
func (a *App) addListeners() error {
	err := listenerset.Add(a.broker, listenerset.Config{
		CA: a.ca, Rotator: a.rot, Names: a.names,
		MQTT: addrOrEmpty(a.cfg.MQTT), MQTTS: addrOrEmpty(a.cfg.MQTTS), MTLS: addrOrEmpty(a.cfg.MTLS),
		LessonPorts: a.cfg.LessonPorts,
		// Start-up makes every lesson certificate, so that one that
		// cannot be made stops the server at once.
		Warm: true,
	})
	if err != nil {
		return err
	}
	return a.broker.Add(broker.Listener{Name: "ws", NoTunnel: true, About: "MQTT over WebSocket at /mqtt on the web port, for MQTT.js and other browser clients"})
}

// startWeb opens the web listeners, then serves the routes on them.
func (a *App) startWeb() (err error) {
	var lns []net.Listener
	defer func() {
		if err != nil {
			for _, ln := range lns {
				ln.Close()
			}
		}
	}()
	if addr := addrOrEmpty(a.cfg.HTTP); addr != "" {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			return fmt.Errorf("web server: %w", err)
		}
		a.httpAddr = ln.Addr().String()
		lns = append(lns, ln)
	}
	if addr := addrOrEmpty(a.cfg.HTTPS); addr != "" {
		cfg, err := a.webTLS()
		if err != nil {
			return err
		}
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			return fmt.Errorf("web server: %w", err)
		}
		a.httpsAddr = ln.Addr().String()
		lns = append(lns, tls.NewListener(ln, cfg))
	}
	mux := a.routes()
	for _, ln := range lns {
		a.serve(ln, mux)
	}
	return nil
}

// webTLS is the HTTPS server's TLS configuration.
func (a *App) webTLS() (*tls.Config, error) {
	cfg := &tls.Config{GetCertificate: a.rot.GetCertificate, MinVersion: tls.VersionTLS12, NextProtos: []string{"h2", "http/1.1"},
		// A client certificate from the local CA, when the client has
		// one, proves possession for POST /pki/revoke.
		ClientAuth: tls.VerifyClientCertIfGiven, ClientCAs: a.ca.Pool()}
	cfg.ClientCAs.AddCert(a.ca.Intermediate)
	if a.cfg.TLSCert != "" {
		c, err := tls.LoadX509KeyPair(a.cfg.TLSCert, a.cfg.TLSKey)
		if err != nil {
			return nil, fmt.Errorf("--tls-cert/--tls-key: %w", err)
		}
		cfg.GetCertificate, cfg.Certificates = nil, []tls.Certificate{c}
		a.webCert = c.Leaf
	}
	return cfg, nil
}

func (a *App) serve(ln net.Listener, h http.Handler) {
	t := a.cfg.timeouts
	if t == (httpTimeouts{}) {
		t = defaultHTTPTimeouts
	}
	// Handler panics are logged by recoverPanics; what is left for
	// ErrorLog is mostly clients that hang up mid-handshake.
	srv := &http.Server{Handler: h, ReadHeaderTimeout: t.header, ReadTimeout: t.read, WriteTimeout: t.write, IdleTimeout: t.idle,
		ErrorLog: slog.NewLogLogger(a.log.Handler(), slog.LevelDebug)}
	a.servers = append(a.servers, srv)
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			a.log.Error("web server stopped", "addr", ln.Addr(), "err", err)
		}
	}()
}

// Close stops the web servers and the broker.
func (a *App) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	for _, s := range a.servers {
		if s.Shutdown(ctx) != nil {
			s.Close()
		}
	}
	var err error
	if a.broker != nil {
		err = a.broker.Close()
	}
	if a.class != nil {
		a.class.Close()
	}
	return err
}

// writable says why the data folder cannot be written, as found at start;
// nil when it can.
func (a *App) writable() error { return a.readOnly }

// checkWritable tries to write a file in dir.
func checkWritable(dir string) error {
	f, err := os.CreateTemp(dir, ".write-check-*")
	if err != nil {
		return err
	}
	f.Close()
	return os.Remove(f.Name())
}

// caFile is where the CA certificate lives on this machine.
func (a *App) caFile() string { return filepath.Join(a.ca.Dir(), pki.RootCertFile) }

// interfaceAddrs lists the machine's unicast addresses, for the certificate
// of a broker that listens on every interface.
func interfaceAddrs() []string {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return nil
	}
	var out []string
	for _, ad := range addrs {
		if ipn, ok := ad.(*net.IPNet); ok && ipn.IP.IsGlobalUnicast() {
			out = append(out, ipn.IP.String())
		}
	}
	return out
}
