// Command soak keeps the proof of issue 9: it starts the playground server
// as a subprocess on loopback and, for a bounded time, attacks it the ways a
// room of strangers could, while a canary client publishes QoS 1 messages to
// itself through the broker:
//
//   - a malformed-packet flood on the plain MQTT port,
//   - slowloris on the TLS port (a ClientHello a byte a second),
//   - slowloris on the tunnel (request headers a byte a second, and a
//     tunnel whose TLS handshake trickles),
//   - a burst of 2,000 MQTT connections at once,
//   - oversized packets (fixed headers announcing 256 MB).
//
// It passes when the canary lost no message, the server's peak resident
// memory stayed under the bound, every slow connection was cut within its
// timeout, the burst was served and the server is still alive. It prints
// the figures and exits 1 otherwise.
//
//	go run ./cmd/soak               # ./task soak
//	go run ./cmd/soak -duration 30s -rss-limit 400
//
// Every connection goes to 127.0.0.1 only.
package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
	"github.com/mqtts-playground/playground/cmd/internal/serverproc"
)

func main() {
	duration := flag.Duration("duration", 2*time.Minute, "how long the attacks run")
	rssLimit := flag.Int("rss-limit", 600, "largest peak resident memory of the server allowed, in MiB")
	burst := flag.Int("burst", 2000, "connections opened at once in the burst")
	slow := flag.Int("slowloris", 200, "slow connections held open at a time on each slowloris target")
	flag.Parse()
	if err := run(*duration, *rssLimit, *burst, *slow); err != nil {
		fmt.Fprintln(os.Stderr, "soak:", err)
		os.Exit(1)
	}
}

// ports of the server under test.
type ports struct{ http, mqtt, mqtts string }

func run(duration time.Duration, rssLimit, burstN, slowN int) error {
	fmt.Println("building the server …")
	srv, err := serverproc.Build("playground-soak-")
	if err != nil {
		return err
	}
	defer srv.Stop()
	data := srv.Data
	fmt.Println("starting the server (the first start builds the page and the wasm client) …")
	addrs, err := srv.StartOnFreePorts(5*time.Minute, 3, func(a []string) []string {
		return []string{"--http", a[0], "--https", "off", "--mqtt", a[1], "--mqtts", a[2],
			"--mtls", "off", "--lesson-ports", "off",
			// The attacks come from one address; a real room has many.
			"--max-conns-per-addr", strconv.Itoa(burstN + 2*slowN + 200)}
	})
	if err != nil {
		return err
	}
	p := ports{http: addrs[0], mqtt: addrs[1], mqtts: addrs[2]}
	cmd := srv.Cmd
	caPEM, err := os.ReadFile(filepath.Join(data, "ca.pem"))
	if err != nil {
		return err
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(caPEM)
	tlsCfg := &tls.Config{RootCAs: roots, ServerName: "localhost"}

	mem := serverproc.WatchMemory(cmd.Process.Pid)
	base := mem.Sample()
	fmt.Printf("server ready, pid %d, resident %d MiB; attacking for %s\n", cmd.Process.Pid, base>>20, duration)

	ctx, stop := context.WithTimeout(context.Background(), duration)
	defer stop()
	canary, err := startCanary(p.mqtts, tlsCfg)
	if err != nil {
		return fmt.Errorf("canary: %w", err)
	}
	var wg sync.WaitGroup
	var res results
	attack := func(f func()) { wg.Add(1); go func() { defer wg.Done(); f() }() }
	attack(func() { flood(ctx, p.mqtt, &res) })
	attack(func() { slowTLS(ctx, p.mqtts, slowN, &res.slowTLS) })
	attack(func() { slowHeaders(ctx, p.http, slowN/2, &res.slowHTTP) })
	attack(func() { slowTunnel(ctx, p.http, slowN/2, &res.slowTunnel) })
	attack(func() { oversized(ctx, p.mqtt, &res) })
	attack(func() {
		select { // the burst lands on a server already under the other attacks
		case <-time.After(min(duration/4, 20*time.Second)):
		case <-ctx.Done():
			return
		}
		res.burstOK, res.burstErr, res.burstTook = burst(p.mqtt, burstN)
	})
	canary.run(ctx)
	wg.Wait()
	sent, lost, dups, maxLat := canary.finish(10 * time.Second)
	peak := mem.Stop()
	if err, ok := srv.Exited(); ok {
		return fmt.Errorf("the server exited during the soak: %v", err)
	}

	limit := uint64(rssLimit) << 20
	fmt.Printf(`
figures (%s of attacks):
  canary (QoS 1 over mqtts)   %d sent, %d lost, %d duplicates, slowest delivery %s
  server memory               %d MiB at start, peak %d MiB (bound %d MiB)
  malformed-packet flood      %d connections, %d bytes of junk
  oversized packets           %d sent, %d cut within 2 s
  slowloris on mqtts          %d connections, longest alive %s
  slowloris on HTTP headers   %d connections, longest alive %s
  slowloris in the tunnel     %d connections, longest alive %s
  burst                       %d of %d connected at once (%d failed) in %s
`, duration, sent, lost, dups, maxLat.Round(time.Millisecond), base>>20, peak>>20, rssLimit,
		res.floodConns.Load(), res.floodBytes.Load(), res.oversized.Load(), res.oversizedCut.Load(),
		res.slowTLS.conns.Load(), res.slowTLS.longest(), res.slowHTTP.conns.Load(), res.slowHTTP.longest(),
		res.slowTunnel.conns.Load(), res.slowTunnel.longest(), res.burstOK, burstN, res.burstErr, res.burstTook.Round(time.Millisecond))

	var fails []string
	if lost > 0 || sent == 0 {
		fails = append(fails, fmt.Sprintf("the canary lost %d of %d messages", lost, sent))
	}
	if peak > limit {
		fails = append(fails, fmt.Sprintf("peak resident memory %d MiB over the bound of %d MiB", peak>>20, rssLimit))
	}
	// The broker gives a TLS handshake 10 s, the web server request
	// headers 10 s; a few seconds of slack for a loaded machine.
	for name, s := range map[string]*slowStats{"mqtts": &res.slowTLS, "HTTP headers": &res.slowHTTP, "tunnel": &res.slowTunnel} {
		if s.conns.Load() == 0 {
			fails = append(fails, fmt.Sprintf("no slowloris connection on %s (%v)", name, s.firstErr.Load()))
		} else if s.longest() > 16*time.Second {
			fails = append(fails, fmt.Sprintf("a slowloris connection on %s stayed %s", name, s.longest()))
		}
	}
	if res.oversized.Load() == 0 || res.oversizedCut.Load() < res.oversized.Load()*9/10 {
		fails = append(fails, fmt.Sprintf("only %d of %d oversized packets were cut at once", res.oversizedCut.Load(), res.oversized.Load()))
	}
	if res.burstOK < burstN*99/100 {
		fails = append(fails, fmt.Sprintf("the burst connected %d of %d", res.burstOK, burstN))
	}
	if len(fails) > 0 {
		return errors.New("FAILED: " + strings.Join(fails, "; "))
	}
	fmt.Println("PASS")
	return nil
}

// results collects what the attacks saw.
type results struct {
	floodConns, floodBytes  atomic.Int64
	oversized, oversizedCut atomic.Int64
	slowTLS, slowHTTP       slowStats
	slowTunnel              slowStats
	burstOK, burstErr       int
	burstTook               time.Duration
}

// slowStats counts slow connections and the longest any stayed open.
type slowStats struct {
	firstErr atomic.Value // the first error opening a connection, for the report
	conns    atomic.Int64
	longNS   atomic.Int64
	stopped  atomic.Int64 // cut by the attack's end, not by the server
}

func (s *slowStats) note(d time.Duration) {
	for {
		old := s.longNS.Load()
		if int64(d) <= old || s.longNS.CompareAndSwap(old, int64(d)) {
			return
		}
	}
}

func (s *slowStats) longest() time.Duration {
	return time.Duration(s.longNS.Load()).Round(100 * time.Millisecond)
}

// flood sends junk to the MQTT port from eight workers: random bytes, bad
// fixed headers, CONNECTs with broken fields.
func flood(ctx context.Context, addr string, res *results) {
	junk := [][]byte{
		{0x00, 0x00},                         // reserved packet type
		{0x10, 0xff, 0xff, 0xff, 0xff, 0x01}, // a remaining length of five bytes
		{0x10, 0x04, 0x00, 0x04, 'M', 'Q'},   // CONNECT cut short
		{0x10, 0x0c, 0x00, 0x04, 'M', 'Q', 'T', 'X', 0x04, 0x02, 0x00, 0x3c, 0x00, 0x00},      // wrong protocol name
		{0x10, 0x0d, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x09, 0x02, 0x00, 0x3c, 0x00, 0x01, 'x'}, // protocol level 9
		{0x30, 0x02, 0x00, 0x05}, // PUBLISH before CONNECT
		{0x82, 0x00},             // SUBSCRIBE with no body
	}
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]byte, 512)
			for i := 0; ctx.Err() == nil; i++ {
				c, err := net.DialTimeout("tcp", addr, 2*time.Second)
				if err != nil {
					time.Sleep(10 * time.Millisecond)
					continue
				}
				var b []byte
				if (i+w)%3 == 0 {
					b = make([]byte, 1+mrand.IntN(2048))
					rand.Read(b)
				} else {
					b = junk[(i+w)%len(junk)]
				}
				c.SetDeadline(time.Now().Add(2 * time.Second))
				n, _ := c.Write(b)
				io.ReadFull(c, buf) // until the broker closes it (or the deadline)
				c.Close()
				res.floodConns.Add(1)
				res.floodBytes.Add(int64(n))
			}
		}()
	}
	wg.Wait()
}

// oversized announces 256 MB packets, before and after CONNECT, and checks
// the connection is cut at once.
func oversized(ctx context.Context, addr string, res *results) {
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ctx.Err() == nil; i++ {
				c, err := net.DialTimeout("tcp", addr, 2*time.Second)
				if err != nil {
					time.Sleep(10 * time.Millisecond)
					continue
				}
				c.SetDeadline(time.Now().Add(2 * time.Second))
				if (i+w)%2 == 1 {
					c.Write(connectPacket(fmt.Sprintf("big-%d-%d", w, i)))
					io.ReadFull(c, make([]byte, 4)) // CONNACK
				}
				// PUBLISH announcing 268,435,455 bytes, then some of them.
				c.Write(append([]byte{0x30, 0xff, 0xff, 0xff, 0x7f}, make([]byte, 4096)...))
				res.oversized.Add(1)
				_, err = io.Copy(io.Discard, c)
				if err == nil || !isTimeout(err) {
					res.oversizedCut.Add(1) // closed or reset by the broker
				}
				c.Close()
			}
		}()
	}
	wg.Wait()
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// connectPacket is an MQTT 3.1.1 CONNECT with clean session and client id.
func connectPacket(id string) []byte {
	body := []byte{0, 4, 'M', 'Q', 'T', 'T', 4, 0x02, 0, 60, byte(len(id) >> 8), byte(len(id))}
	body = append(body, id...)
	return append([]byte{0x10, byte(len(body))}, body...)
}

// trickle keeps up to n connections made by open alive, writing the next
// byte of msg every second, and notes how long each lived until the server
// cut it.
func trickle(ctx context.Context, n int, s *slowStats, open func() (net.Conn, error), msg []byte) {
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				c, err := open()
				if err != nil {
					s.firstErr.CompareAndSwap(nil, err.Error())
					time.Sleep(100 * time.Millisecond)
					continue
				}
				s.conns.Add(1)
				start := time.Now()
				cut := make(chan struct{})
				go func() { io.Copy(io.Discard, c); close(cut) }()
				for i := 0; ; i = (i + 1) % len(msg) {
					if _, err := c.Write(msg[i : i+1]); err != nil {
						break
					}
					select {
					case <-cut:
					case <-time.After(time.Second):
						continue
					case <-ctx.Done():
						// Still open when the attack ends: as long as the
						// attack, which the check will see.
						s.stopped.Add(1)
						s.note(time.Since(start))
						c.Close()
						<-cut
						return
					}
					break
				}
				s.note(time.Since(start))
				c.Close()
			}
		}()
	}
	wg.Wait()
}

// clientHello is the start of a TLS record holding a ClientHello: enough
// bytes to trickle for longer than any timeout.
var clientHello = append([]byte{0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03}, make([]byte, 64)...)

func slowTLS(ctx context.Context, addr string, n int, s *slowStats) {
	trickle(ctx, n, s, func() (net.Conn, error) { return net.DialTimeout("tcp", addr, 2*time.Second) }, clientHello)
}

// slowHeaders sends an HTTP request's headers a byte a second.
func slowHeaders(ctx context.Context, addr string, n int, s *slowStats) {
	req := []byte("GET /tunnel?to=mqtts HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nX-Padding: " + strings.Repeat("a", 100))
	trickle(ctx, n, s, func() (net.Conn, error) { return net.DialTimeout("tcp", addr, 2*time.Second) }, req)
}

// slowTunnel opens real tunnels to mqtts and trickles a ClientHello
// through them, one WebSocket message per byte.
func slowTunnel(ctx context.Context, addr string, n int, s *slowStats) {
	trickle(ctx, n, s, func() (net.Conn, error) { return dialTunnel(addr) }, clientHello)
}

// burst opens n MQTT connections at once, each waiting for its CONNACK,
// holds them for two seconds and closes them.
func burst(addr string, n int) (ok, failed int, took time.Duration) {
	start := time.Now()
	var okN, failN atomic.Int64
	var ready, hold sync.WaitGroup
	release := make(chan struct{})
	for i := range n {
		ready.Add(1)
		hold.Add(1)
		go func() {
			defer hold.Done()
			c, err := net.DialTimeout("tcp", addr, 30*time.Second)
			if err != nil {
				failN.Add(1)
				ready.Done()
				return
			}
			defer c.Close()
			c.SetDeadline(time.Now().Add(60 * time.Second))
			ack := make([]byte, 4)
			if _, err := c.Write(connectPacket(fmt.Sprintf("burst-%d", i))); err == nil {
				if _, err = io.ReadFull(c, ack); err == nil && ack[0] == 0x20 && ack[3] == 0 {
					okN.Add(1)
					ready.Done()
					<-release
					c.Write([]byte{0xe0, 0x00})
					return
				}
			}
			failN.Add(1)
			ready.Done()
		}()
	}
	ready.Wait()
	took = time.Since(start)
	time.Sleep(2 * time.Second)
	close(release)
	hold.Wait()
	return int(okN.Load()), int(failN.Load()), took
}

// canary publishes numbered QoS 1 messages to itself over mqtts, 20 a
// second, with a persistent session: a reconnect must not lose one either.
type canary struct {
	pub, sub paho.Client
	mu       sync.Mutex
	sentAt   map[int]time.Time
	got      map[int]int
	maxLat   time.Duration
	next     int
}

const canaryTopic = "soak/canary"

func startCanary(addr string, tlsCfg *tls.Config) (*canary, error) {
	c := &canary{sentAt: map[int]time.Time{}, got: map[int]int{}}
	opts := func(id string) *paho.ClientOptions {
		return paho.NewClientOptions().AddBroker("ssl://" + addr).SetClientID(id).SetTLSConfig(tlsCfg).
			SetCleanSession(false).SetAutoReconnect(true).SetConnectRetry(true).SetOrderMatters(false).
			SetConnectTimeout(10 * time.Second).SetWriteTimeout(10 * time.Second)
	}
	sub := opts("soak-canary-sub")
	sub.SetOnConnectHandler(func(cl paho.Client) {
		cl.Subscribe(canaryTopic, 1, func(_ paho.Client, m paho.Message) {
			n, err := strconv.Atoi(string(m.Payload()))
			if err != nil {
				return
			}
			c.mu.Lock()
			c.got[n]++
			if t, ok := c.sentAt[n]; ok && c.got[n] == 1 {
				c.maxLat = max(c.maxLat, time.Since(t))
			}
			c.mu.Unlock()
		}).WaitTimeout(10 * time.Second)
	})
	c.sub = paho.NewClient(sub)
	if t := c.sub.Connect(); !t.WaitTimeout(15*time.Second) || t.Error() != nil {
		return nil, fmt.Errorf("subscriber: %v", t.Error())
	}
	c.pub = paho.NewClient(opts("soak-canary-pub"))
	if t := c.pub.Connect(); !t.WaitTimeout(15*time.Second) || t.Error() != nil {
		return nil, fmt.Errorf("publisher: %v", t.Error())
	}
	time.Sleep(500 * time.Millisecond) // the subscription is in place
	return c, nil
}

// run publishes until ctx ends; each publish waits for its PUBACK (paho
// resends it over a new connection if one was lost).
func (c *canary) run(ctx context.Context) {
	t := time.NewTicker(50 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		c.mu.Lock()
		n := c.next
		c.next++
		c.sentAt[n] = time.Now()
		c.mu.Unlock()
		c.pub.Publish(canaryTopic, 1, false, strconv.Itoa(n)).WaitTimeout(30 * time.Second)
	}
}

// finish waits up to wait for the last messages and counts.
func (c *canary) finish(wait time.Duration) (sent, lost, dups int, maxLat time.Duration) {
	deadline := time.Now().Add(wait)
	for {
		c.mu.Lock()
		lost = 0
		for n := range c.next {
			if c.got[n] == 0 {
				lost++
			}
		}
		c.mu.Unlock()
		if lost == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	c.pub.Disconnect(500)
	c.sub.Disconnect(500)
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, k := range c.got {
		if k > 1 {
			dups += k - 1
		}
	}
	return c.next, lost, dups, c.maxLat
}

// dialTunnel opens /tunnel?to=mqtts with a hand-made WebSocket handshake
// and returns a conn that sends each Write as one binary message.
func dialTunnel(addr string) (net.Conn, error) {
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		return nil, err
	}
	key := make([]byte, 16)
	rand.Read(key)
	fmt.Fprintf(c, "GET /tunnel?to=mqtts HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: %s\r\n\r\n",
		addr, base64.StdEncoding.EncodeToString(key))
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		c.Close()
		return nil, err
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		c.Close()
		return nil, fmt.Errorf("tunnel: %s", resp.Status)
	}
	c.SetReadDeadline(time.Time{})
	return &wsConn{Conn: c, r: br}, nil
}

// wsConn frames writes as masked binary WebSocket messages (a client must
// mask) and reads raw frames, enough to notice the close.
type wsConn struct {
	net.Conn
	r *bufio.Reader
}

func (w *wsConn) Read(p []byte) (int, error) { return w.r.Read(p) }

func (w *wsConn) Write(p []byte) (int, error) {
	frame := []byte{0x82, 0x80 | byte(len(p)), 0, 0, 0, 0} // FIN, binary; masked with a zero key
	if len(p) > 125 {
		return 0, errors.New("soak: frame too long")
	}
	if _, err := w.Conn.Write(append(frame, p...)); err != nil {
		return 0, err
	}
	return len(p), nil
}
