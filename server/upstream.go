package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"
	"github.com/mqtts-playground/playground/broker"
)

// Upstream is a broker elsewhere (the user's mosquitto, EMQX, a cloud IoT
// endpoint) that the tunnel reaches by name, set with --upstream
// NAME=HOST:PORT. The tunnel forwards the browser's bytes to it untouched,
// so the wasm client's TLS handshake is with that broker, not with the
// playground; the client records and decrypts its own side as always. The
// address comes only from the server's configuration: a page names an
// upstream, it never gives a host or port.
type Upstream struct {
	// Name is what the page asks the tunnel for (/tunnel?to=NAME).
	Name string
	// Addr is the broker's "host:port".
	Addr string
	// TLS is true unless the address was given as mqtt://HOST:PORT (plain
	// MQTT): it tells the page whether to run TLS over the tunnel.
	TLS bool
}

var upstreamName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$`)

// parseUpstream reads NAME=HOST:PORT, NAME=mqtts://HOST:PORT (the same) or
// NAME=mqtt://HOST:PORT (plain MQTT).
func parseUpstream(s string) (Upstream, error) {
	name, target, ok := strings.Cut(strings.TrimSpace(s), "=")
	if !ok {
		return Upstream{}, fmt.Errorf("upstream %q: want NAME=HOST:PORT", s)
	}
	u := Upstream{Name: strings.TrimSpace(name), TLS: true}
	if !upstreamName.MatchString(u.Name) {
		return Upstream{}, fmt.Errorf("upstream %q: a name is letters, digits, '.', '_' and '-'", s)
	}
	target = strings.TrimSpace(target)
	if rest, ok := strings.CutPrefix(target, "mqtt://"); ok {
		target, u.TLS = rest, false
	} else {
		target = strings.TrimPrefix(target, "mqtts://")
	}
	host, port, err := net.SplitHostPort(target)
	if err != nil || host == "" || port == "" {
		return Upstream{}, fmt.Errorf("upstream %q: %q is not HOST:PORT", s, target)
	}
	u.Addr = target
	return u, nil
}

// readUpstreams reads a file of upstreams: one NAME=HOST:PORT a line;
// blank lines and lines starting with # are skipped.
func readUpstreams(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var specs []string
	s := bufio.NewScanner(f)
	for n := 1; s.Scan(); n++ {
		line := strings.TrimSpace(s.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if _, err := parseUpstream(line); err != nil {
			return nil, fmt.Errorf("%s:%d: %w", path, n, err)
		}
		specs = append(specs, line)
	}
	return specs, s.Err()
}

// upstreams are the configured upstreams by name.
type upstreams map[string]Upstream

// newUpstreams checks that the names are unique and none is taken by one
// of the broker's listeners.
func newUpstreams(list []Upstream, b *broker.Broker) (upstreams, error) {
	taken := map[string]bool{}
	for _, l := range b.Listeners() {
		taken[l.Name] = true
	}
	u := upstreams{}
	for _, up := range list {
		if taken[up.Name] {
			return nil, fmt.Errorf("--upstream %s: the name is one of the broker's listeners", up.Name)
		}
		if _, dup := u[up.Name]; dup {
			return nil, fmt.Errorf("--upstream %s: given twice", up.Name)
		}
		u[up.Name] = up
	}
	return u, nil
}

// infos lists the upstreams the way the broker lists its listeners, for
// the page and /healthz.
func (u upstreams) infos() []broker.ListenerInfo {
	out := make([]broker.ListenerInfo, 0, len(u))
	for _, up := range u {
		about := "your broker at " + up.Addr + ", reached through the tunnel: the TLS handshake is with it, not with the playground"
		if !up.TLS {
			about = "your broker at " + up.Addr + ", plain MQTT, reached through the tunnel"
		}
		out = append(out, broker.ListenerInfo{Name: up.Name, Addr: up.Addr, TLS: up.TLS, Tunnel: true, Upstream: true, About: about})
	}
	return out
}

// names lists the upstreams' names, for error messages.
func (u upstreams) names() []string {
	var out []string
	for n := range u {
		out = append(out, n)
	}
	return out
}

// upstreamDialTimeout bounds connecting to an upstream.
const upstreamDialTimeout = 10 * time.Second

// dialUpstream connects to up.
func dialUpstream(ctx context.Context, up Upstream) (net.Conn, error) {
	d := net.Dialer{Timeout: upstreamDialTimeout}
	c, err := d.DialContext(ctx, "tcp", up.Addr)
	if err != nil {
		return nil, fmt.Errorf("tunnel: upstream %s (%s): %w", up.Name, up.Addr, err)
	}
	return c, nil
}

// splice copies bytes both ways between the browser's WebSocket and the
// upstream connection until either side ends, then closes both. An idle
// tunnel holds no copy buffer (io.Copy would hold 32 KiB each way, most of
// what a tunnel cost): the browser's side waits for its next message, the
// upstream's for bytes to read (see readPooled), and each takes a buffer
// from a pool only to move what arrived.
func splice(ctx context.Context, ws *websocket.Conn, up net.Conn) {
	ws.SetReadLimit(-1) // the stream's bytes, in messages of any size
	var once sync.Once
	done := func() {
		once.Do(func() {
			up.Close()
			ws.Close(websocket.StatusNormalClosure, "")
		})
	}
	var wg sync.WaitGroup
	wg.Go(func() {
		defer done()
		for {
			buf, n, err := readPooled(up)
			if err != nil {
				return
			}
			err = ws.Write(ctx, websocket.MessageBinary, (*buf)[:n])
			copyBufs.Put(buf)
			if err != nil {
				return
			}
		}
	})
	defer wg.Wait()
	defer done()
	for {
		typ, r, err := ws.Reader(ctx)
		if err != nil {
			return
		}
		if typ != websocket.MessageBinary {
			ws.Close(websocket.StatusUnsupportedData, "tunnel: binary messages only")
			return
		}
		buf := copyBufs.Get().(*[]byte)
		_, err = io.CopyBuffer(writerOnly{up}, r, *buf)
		copyBufs.Put(buf)
		if err != nil {
			return
		}
	}
}

// copyBufs holds the tunnel's copy buffers, as large as io.Copy's.
var copyBufs = sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}

// writerOnly hides a connection's ReadFrom, which would copy through a
// buffer of its own instead of the pooled one.
type writerOnly struct{ io.Writer }

// readPlain reads from c into a pooled buffer, holding it while it waits:
// for connections that cannot say when they are readable.
func readPlain(c net.Conn) (*[]byte, int, error) {
	buf := copyBufs.Get().(*[]byte)
	n, err := c.Read(*buf)
	if n > 0 {
		return buf, n, nil
	}
	copyBufs.Put(buf)
	if err == nil {
		err = io.ErrNoProgress
	}
	return nil, 0, err
}
