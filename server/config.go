package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/mqtts-playground/playground/broker"
)

// Config is everything the flags (or their PLAYGROUND_* variables) set.
type Config struct {
	Data      string
	HTTP      string
	HTTPS     string
	TLSCert   string
	TLSKey    string
	MQTT      string
	MQTTS     string
	MTLS      string
	ListenAll bool
	SANs      []string
	// AllowOrigins are other sites' pages that may open tunnels.
	AllowOrigins []string
	TraceLimit   int
	BuildAssets  string
	BuildStatic  string // --build-static: where the static build goes
	Dev          bool
	CACert       string
	CAKey        string
	LessonPorts  string
	Token        string
	TokenFile    string
	// Upstreams are brokers elsewhere the tunnel reaches by name
	// (--upstream, --upstreams).
	Upstreams []Upstream
	// NewIntermediate allows a new intermediate CA when half of the old
	// one is missing (see pki.Options).
	NewIntermediate bool

	// Broker limits (0: no limit); see broker.Options.
	MaxPacketSize     int
	SessionExpiry     time.Duration
	SessionQueue      int
	SessionQueueBytes int
	RetainedBytes     int
	MaxConnsPerAddr   int
	KeepConns         int
	CertRequests      int
	TunnelFrameLimit  int
	// Pprof is where Go's profiler is served (net/http/pprof), for load
	// tests; empty: nowhere.
	Pprof string

	// Workshop runs a class: attendees join with a name, get credentials
	// and a topic space of their own, and see only their own connections;
	// the instructor gets a dashboard (see package workshop).
	Workshop bool
	// Per-attendee limits of a class (0: no limit).
	AttendeeConns         int
	AttendeeMsgRate       float64
	AttendeeRetainedBytes int
	// TrustedProxies are the reverse proxies whose X-Forwarded-For (and
	// X-Forwarded-Proto) the server believes.
	TrustedProxies []netip.Prefix
	trustedProxies []string // as given

	// tokenInArgs is set when the instructor token was given on the
	// command line, which every local user can read (/proc/PID/cmdline).
	tokenInArgs bool

	// timeouts of the web server; zero: defaultHTTPTimeouts (tests
	// shorten them).
	timeouts httpTimeouts
}

// Defaults that differ in a class (--workshop).
const (
	defaultKeepConns     = 200
	workshopKeepConns    = 5000
	workshopConnsPerAddr = 1000
)

// listFlag is a repeatable, comma-separated flag.
type listFlag struct{ v *[]string }

func (l listFlag) String() string {
	if l.v == nil {
		return ""
	}
	return strings.Join(*l.v, ",")
}

func (l listFlag) Set(s string) error {
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			*l.v = append(*l.v, p)
		}
	}
	return nil
}

// envName is the environment variable that sets a flag when the command
// line does not: --mqtts → PLAYGROUND_MQTTS.
func envName(flagName string) string {
	return "PLAYGROUND_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

func defaultDataDir() string {
	if d, err := os.UserConfigDir(); err == nil {
		return filepath.Join(d, "mqtts-playground")
	}
	return ".mqtts-playground"
}

// placeholders name what --help shows after each flag that takes a value:
// "--mqtts HOST:PORT" says more than the Go type "--mqtts string".
var placeholders = map[string]string{
	"data": "FOLDER", "http": "HOST:PORT", "https": "HOST:PORT", "tls-cert": "FILE", "tls-key": "FILE",
	"mqtt": "HOST:PORT", "mqtts": "HOST:PORT", "mtls": "HOST:PORT", "san": "NAMES", "allow-origin": "ORIGIN", "ca-cert": "FILE", "ca-key": "FILE",
	"lesson-ports": "HOST:PORT", "instructor-token": "TOKEN", "instructor-token-file": "FILE", "trace-limit": "BYTES",
	"max-packet-size": "BYTES", "session-expiry": "DURATION", "session-queue": "COUNT", "session-queue-bytes": "BYTES", "retained-bytes": "BYTES",
	"max-conns-per-addr": "COUNT", "build-assets": "FOLDER", "build-static": "FOLDER", "upstream": "NAME=HOST:PORT", "upstreams": "FILE",
	"keep-conns": "COUNT", "cert-requests": "COUNT", "tunnel-frame-limit": "BYTES", "attendee-conns": "COUNT",
	"attendee-msg-rate": "PER-SECOND", "attendee-retained-bytes": "BYTES", "trusted-proxy": "CIDR", "pprof": "HOST:PORT",
}

// parseConfig reads flags, then environment variables for flags not given.
func parseConfig(args []string, getenv func(string) string, out io.Writer) (Config, error) {
	var c Config
	fs := flag.NewFlagSet("mqtts-playground", flag.ContinueOnError)
	fs.SetOutput(out)
	fs.StringVar(&c.Data, "data", defaultDataDir(), "folder for the CA, certificates and keys (keys are written 0600)")
	fs.StringVar(&c.HTTP, "http", "127.0.0.1:8080", "address of the web page over plain HTTP (\"off\" to disable)")
	fs.StringVar(&c.HTTPS, "https", "127.0.0.1:8443", "address of the web page over HTTPS, certificate from the local CA or --tls-cert (\"off\" to disable)")
	fs.StringVar(&c.TLSCert, "tls-cert", "", "PEM certificate chain for the HTTPS server, instead of one from the local CA")
	fs.StringVar(&c.TLSKey, "tls-key", "", "PEM private key for --tls-cert")
	fs.StringVar(&c.MQTT, "mqtt", "127.0.0.1:1883", "address of the plain MQTT listener (no TLS: lesson 1's before picture; \"off\" to disable)")
	fs.StringVar(&c.MQTTS, "mqtts", "127.0.0.1:8883", "address of the MQTT over TLS listener (\"off\" to disable)")
	fs.StringVar(&c.MTLS, "mtls", "127.0.0.1:8884", "address of the mutual-TLS listener: clients need a certificate from the local CA (\"off\" to disable)")
	fs.BoolVar(&c.ListenAll, "listen-all", false, "listen on every network interface instead of loopback only (for workshops), and add the machine's addresses to the certificate")
	fs.Var(listFlag{&c.SANs}, "san", "extra DNS names or IP addresses for the broker's certificate (comma-separated, repeatable)")
	fs.Var(listFlag{&c.AllowOrigins}, "allow-origin", "origin of another site whose pages may open tunnels to the broker (https://docs.example.com: docs that embed the widget); pages of the playground's own origin always may (comma-separated, repeatable)")
	fs.StringVar(&c.CACert, "ca-cert", "", "PEM certificate of an existing CA to issue from, instead of the local CA in --data (with --ca-key)")
	fs.StringVar(&c.CAKey, "ca-key", "", "PEM private key for --ca-cert")
	fs.StringVar(&c.LessonPorts, "lesson-ports", "127.0.0.1:8900", "address of the first lesson listener (deliberately broken certificates); the others take the next ports in turn (\"off\": reachable only through the page's tunnel)")
	var upSpecs []string
	var upFile string
	fs.Var(listFlag{&upSpecs}, "upstream", "NAME=HOST:PORT: a broker elsewhere that the page may reach through the tunnel by NAME, doing its TLS handshake with that broker (NAME=mqtt://HOST:PORT for plain MQTT; comma-separated, repeatable)")
	fs.StringVar(&upFile, "upstreams", "", "file of upstreams, one NAME=HOST:PORT a line (# comments), added to --upstream")
	fs.StringVar(&c.Token, "instructor-token", "", "secret that lets an instructor revoke any client certificate, rotate the broker certificate and read every connection's TLS secrets (Authorization: Bearer TOKEN); without one only requests from this machine may. Prefer the environment variable or --instructor-token-file: every local user can read a process's flags")
	fs.StringVar(&c.TokenFile, "instructor-token-file", "", "file holding the instructor token (its first line)")
	fs.BoolVar(&c.NewIntermediate, "new-intermediate", false, "make a new intermediate CA when the data folder holds only half of one (its certificate or its key); the half left is kept, renamed. Client certificates issued by the old one stop verifying")
	fs.IntVar(&c.TraceLimit, "trace-limit", 1<<20, "bytes recorded per broker connection for its trace (negative: record nothing)")
	fs.IntVar(&c.MaxPacketSize, "max-packet-size", broker.DefaultMaxPacketSize, "largest MQTT packet the broker accepts, in bytes; a larger one ends the connection (0: no limit)")
	fs.DurationVar(&c.SessionExpiry, "session-expiry", broker.DefaultSessionExpiry, "longest time the session of a disconnected client is kept, whatever it asks for (0: no limit)")
	fs.IntVar(&c.SessionQueue, "session-queue", broker.DefaultSessionQueue, "QoS 1 and 2 messages held for one session (unacknowledged, or waiting for the client to come back); more are dropped (0: the most the protocol allows, 65535)")
	fs.IntVar(&c.SessionQueueBytes, "session-queue-bytes", broker.DefaultSessionQueueBytes, "bytes of the messages held for one session, those waiting for a slow client included; more are dropped (0: no limit)")
	fs.IntVar(&c.RetainedBytes, "retained-bytes", broker.DefaultRetainedBytes, "bytes of retained messages kept, counting topic + payload + 512 each; a retained message over it is delivered but not kept (0: no limit)")
	fs.IntVar(&c.MaxConnsPerAddr, "max-conns-per-addr", broker.DefaultConnsPerAddr, "open connections one address (one IPv6 /64) may have on the MQTT ports, the page's tunnel and /mqtt together; more are refused (0: no limit); with --workshop the default is 1000")
	fs.IntVar(&c.KeepConns, "keep-conns", defaultKeepConns, "recent connections the broker keeps listed with their recordings (in /trace and the instructor's broker view); with --workshop the default is "+fmt.Sprint(workshopKeepConns))
	fs.IntVar(&c.CertRequests, "cert-requests", 10, "client certificate requests one client may make at once, then one every six seconds; a client is an attendee in a class, else an address (one IPv6 /64)")
	fs.IntVar(&c.TunnelFrameLimit, "tunnel-frame-limit", 32768, "largest WebSocket message the page's tunnel accepts, in bytes (a TLS record is at most about 16.6 KB); a larger one ends the tunnel")
	fs.BoolVar(&c.Workshop, "workshop", false, "run a class: attendees join at /join with a name and get credentials, a topic space (ws/ID/#) and a trace of their own; the instructor opens the printed /instructor URL. Implies --listen-all unless addresses are given")
	fs.IntVar(&c.AttendeeConns, "attendee-conns", broker.DefaultOwnerConns, "open connections one attendee may have, their page's tunnels and their devices together (--workshop; 0: no limit)")
	fs.Float64Var(&c.AttendeeMsgRate, "attendee-msg-rate", 20, "messages a second one attendee's clients may publish together, with five seconds' worth at once (--workshop; 0: no limit)")
	fs.IntVar(&c.AttendeeRetainedBytes, "attendee-retained-bytes", broker.DefaultOwnerRetainedBytes, "bytes of retained messages kept on one attendee's topics, counted as --retained-bytes counts them, so that one attendee cannot fill the class's budget (--workshop; 0: only --retained-bytes)")
	fs.Var(listFlag{&c.trustedProxies}, "trusted-proxy", "address or CIDR of a reverse proxy in front of the server: its X-Forwarded-For names the client (comma-separated, repeatable)")
	fs.StringVar(&c.Pprof, "pprof", "", "serve Go's profiler (net/http/pprof) at this loopback address, for load tests (./task class-load -pprof)")
	fs.StringVar(&c.BuildAssets, "build-assets", "", "build the web assets into this folder and exit (used by `./task build`)")
	fs.StringVar(&c.BuildStatic, "build-static", "", "write the static build into this folder and exit: pages, script, stylesheet and a wasm that runs the broker inside the page, for any static file host, root or sub-path (used by `./task static`)")
	fs.BoolVar(&c.Dev, "dev", false, "serve unminified scripts")
	fs.Usage = func() {
		fmt.Fprintf(out, `MQTTS Playground: a real MQTT broker with TLS listeners, a local CA and a web page
that runs Go's crypto/tls in the browser and shows every byte.

Usage: go run ./server [flags]

Every flag can also be set with an environment variable, shown in brackets.

`)
		fs.VisitAll(func(f *flag.Flag) {
			name, usage := flag.UnquoteUsage(f)
			if p, ok := placeholders[f.Name]; ok {
				name = p
			}
			if name != "" {
				name = " " + name
			}
			fmt.Fprintf(out, "  --%s%s  [%s]\n    \t%s", f.Name, name, envName(f.Name), usage)
			if f.DefValue != "" && f.DefValue != "false" && f.DefValue != "0" {
				fmt.Fprintf(out, " (default %q)", f.DefValue)
			}
			fmt.Fprintln(out)
		})
	}
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected argument %q (flags start with --; see --help)", fs.Arg(0))
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	c.tokenInArgs = set["instructor-token"]
	var envErr error
	fs.VisitAll(func(f *flag.Flag) {
		if set[f.Name] {
			return
		}
		if v := getenv(envName(f.Name)); v != "" {
			if err := fs.Set(f.Name, v); err != nil && envErr == nil {
				envErr = fmt.Errorf("%s=%q: %v", envName(f.Name), v, err)
			}
			set[f.Name] = true
		}
	})
	if envErr != nil {
		return c, envErr
	}
	if c.Workshop {
		if !set["listen-all"] {
			c.ListenAll = true
		}
		if !set["keep-conns"] {
			c.KeepConns = workshopKeepConns
		}
		if !set["max-conns-per-addr"] {
			// A class behind one NAT is one address; each attendee has
			// their own limit (--attendee-conns).
			c.MaxConnsPerAddr = workshopConnsPerAddr
		}
	}
	for _, p := range c.trustedProxies {
		pfx, err := netip.ParsePrefix(p)
		if err != nil {
			a, aerr := netip.ParseAddr(p)
			if aerr != nil {
				return c, fmt.Errorf("--trusted-proxy %q is not an address or CIDR (10.0.0.5, 10.0.0.0/24, ::1)", p)
			}
			pfx = netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen())
		}
		c.TrustedProxies = append(c.TrustedProxies, pfx.Masked())
	}
	if c.ListenAll {
		for name, addr := range map[string]*string{"http": &c.HTTP, "https": &c.HTTPS, "mqtt": &c.MQTT, "mqtts": &c.MQTTS, "mtls": &c.MTLS, "lesson-ports": &c.LessonPorts} {
			if !set[name] && *addr != "off" {
				_, port, _ := net.SplitHostPort(*addr)
				*addr = ":" + port
			}
		}
	}
	if c.TokenFile != "" {
		if c.Token != "" {
			return c, errors.New("--instructor-token and --instructor-token-file: give one")
		}
		b, err := os.ReadFile(c.TokenFile)
		if err != nil {
			return c, fmt.Errorf("--instructor-token-file: %w", err)
		}
		line, _, _ := strings.Cut(string(b), "\n")
		if c.Token = strings.TrimSpace(line); c.Token == "" {
			return c, fmt.Errorf("--instructor-token-file: %s holds no token on its first line", c.TokenFile)
		}
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		return c, errors.New("--tls-cert and --tls-key go together")
	}
	if _, err := newOriginSet(c.AllowOrigins); err != nil {
		return c, err
	}
	if (c.CACert == "") != (c.CAKey == "") {
		return c, errors.New("--ca-cert and --ca-key go together")
	}
	for name, v := range map[string]int64{"max-packet-size": int64(c.MaxPacketSize), "session-expiry": int64(c.SessionExpiry), "session-queue": int64(c.SessionQueue),
		"session-queue-bytes": int64(c.SessionQueueBytes), "retained-bytes": int64(c.RetainedBytes), "max-conns-per-addr": int64(c.MaxConnsPerAddr), "keep-conns": int64(c.KeepConns),
		"cert-requests": int64(c.CertRequests), "tunnel-frame-limit": int64(c.TunnelFrameLimit), "attendee-conns": int64(c.AttendeeConns), "attendee-msg-rate": int64(c.AttendeeMsgRate),
		"attendee-retained-bytes": int64(c.AttendeeRetainedBytes)} {
		if v < 0 {
			return c, fmt.Errorf("--%s must not be negative (0: no limit)", name)
		}
	}
	if c.Pprof != "" {
		h, _, err := net.SplitHostPort(c.Pprof)
		if ip, perr := netip.ParseAddr(h); err != nil || perr != nil || !ip.IsLoopback() {
			return c, fmt.Errorf("--pprof %q: give a loopback address and port (127.0.0.1:6060): the profiler is for this machine only", c.Pprof)
		}
	}
	if upFile != "" {
		more, err := readUpstreams(upFile)
		if err != nil {
			return c, fmt.Errorf("--upstreams: %w", err)
		}
		upSpecs = append(upSpecs, more...)
	}
	for _, spec := range upSpecs {
		u, err := parseUpstream(spec)
		if err != nil {
			return c, fmt.Errorf("--upstream: %w", err)
		}
		c.Upstreams = append(c.Upstreams, u)
	}
	for name, addr := range map[string]string{"http": c.HTTP, "https": c.HTTPS, "mqtt": c.MQTT, "mqtts": c.MQTTS, "mtls": c.MTLS, "lesson-ports": c.LessonPorts} {
		if addr == "off" {
			continue
		}
		if _, _, err := net.SplitHostPort(addr); err != nil {
			return c, fmt.Errorf("--%s %q is not host:port: %v", name, addr, err)
		}
	}
	return c, nil
}
