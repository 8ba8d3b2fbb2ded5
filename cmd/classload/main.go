// Command classload is the proof of issue 13: it starts the playground
// server as a subprocess running a class (--workshop) on loopback and
// plays a room of attendees against it. Each simulated attendee does what
// a browser attendee does, with the client code the page's wasm runs
// (package wasm/client, natively):
//
//   - joins at POST /join and reads its credentials (GET /workshop/me),
//   - opens the WebSocket tunnel with its session cookie and runs the TLS
//     handshake and MQTT CONNECT through it,
//   - subscribes to its own space (ws/ID/#),
//   - follows its own connection's trace (GET /trace/stream?conn=…),
//   - publishes a QoS 1 message to its space every few seconds and waits
//     for it to come back.
//
// One attendee in ten also runs a device: the same client over TCP to
// port 8883 with the attendee's user name and password.
//
// It reports the handshake times (TLS handshake and CONNECT, and the whole
// connect with the tunnel's WebSocket upgrade), publish→deliver times, the
// server's peak resident memory and CPU, and the QoS 1 messages lost
// (acknowledged by the broker but never delivered); it exits 1 when a
// goal is missed (-goal-* flags) or a message is lost.
//
//	go run ./cmd/classload                    # ./task class-load
//	go run ./cmd/classload -attendees 50 -duration 30s
//
// Every connection goes to 127.0.0.1 only. The load generator shares the
// machine with the server: its own CPU time is reported beside the
// server's.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/coder/websocket"
	"github.com/mqtts-playground/playground/cmd/internal/serverproc"
	"github.com/mqtts-playground/playground/trace"
	"github.com/mqtts-playground/playground/wasm/client"
	"github.com/mqtts-playground/playground/workshop"
)

// options are the command's flags.
type options struct {
	attendees, devices int
	duration, ramp     time.Duration
	every              time.Duration
	traceLimit         int
	goalHandshake      time.Duration
	goalDeliver        time.Duration
	goalRSS            int
	pprof              string
	noTrace            bool
}

func main() {
	var o options
	flag.IntVar(&o.attendees, "attendees", 300, "attendees, each with a browser's tunnel and trace stream")
	flag.IntVar(&o.devices, "devices", -1, "device clients on the mqtts port (-1: one per ten attendees)")
	flag.DurationVar(&o.ramp, "ramp", 30*time.Second, "time over which the attendees join and connect (a class arriving)")
	flag.DurationVar(&o.duration, "duration", 60*time.Second, "time everyone publishes after the ramp")
	flag.DurationVar(&o.every, "every", 3*time.Second, "time between one client's publishes (jittered ±50 %)")
	flag.IntVar(&o.traceLimit, "trace-limit", 0, "the server's --trace-limit (0: its default)")
	flag.DurationVar(&o.goalHandshake, "goal-handshake", 250*time.Millisecond, "largest p99 of the TLS handshake and CONNECT allowed")
	flag.DurationVar(&o.goalDeliver, "goal-deliver", 100*time.Millisecond, "largest p99 of publish→deliver allowed")
	flag.IntVar(&o.goalRSS, "goal-rss", 1024, "largest peak resident memory of the server allowed, in MiB")
	flag.StringVar(&o.pprof, "pprof", "", "write the server's CPU profile of the publishing phase and its heap at the end to PREFIX-cpu.pprof and PREFIX-heap.pprof (go tool pprof)")
	flag.BoolVar(&o.noTrace, "no-trace-streams", false, "attendees follow no trace stream (to measure what the streams cost; the class itself has them)")
	flag.Parse()
	if o.devices < 0 {
		o.devices = o.attendees / 10
	}
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "classload:", err)
		os.Exit(1)
	}
}

// stats are the figures of the run.
type stats struct {
	mu         sync.Mutex
	handshake  []time.Duration // TLS handshake + CONNECT, browsers through the tunnel
	connect    []time.Duration // the WebSocket upgrade too
	device     []time.Duration // TLS handshake + CONNECT, devices on 8883
	deliver    []time.Duration
	errs       []string
	published  atomic.Int64 // acknowledged by the broker
	delivered  atomic.Int64
	duplicates atomic.Int64
	traceBytes atomic.Int64
}

func (s *stats) add(list *[]time.Duration, d time.Duration) {
	s.mu.Lock()
	*list = append(*list, d)
	s.mu.Unlock()
}

func (s *stats) fail(format string, args ...any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.errs) < 20 {
		s.errs = append(s.errs, fmt.Sprintf(format, args...))
	}
}

func run(o options) error {
	fmt.Println("building the server …")
	srv, err := serverproc.Build("playground-classload-")
	if err != nil {
		return err
	}
	defer srv.Stop()
	fmt.Println("starting the server with --workshop (the first start builds the page and the wasm client) …")
	addrs, err := srv.StartOnFreePorts(5*time.Minute, 3, func(a []string) []string {
		args := []string{"--workshop", "--http", a[0], "--https", "off", "--mqtt", "off", "--mqtts", a[1], "--mtls", "off", "--lesson-ports", "off"}
		if o.traceLimit != 0 {
			args = append(args, "--trace-limit", strconv.Itoa(o.traceLimit))
		}
		if o.pprof != "" {
			args = append(args, "--pprof", a[2])
		}
		return args
	})
	if err != nil {
		return err
	}
	web, mqtts, pprofAddr := addrs[0], addrs[1], ""
	if o.pprof != "" {
		pprofAddr = addrs[2]
	}
	caPEM, err := os.ReadFile(filepath.Join(srv.Data, "ca.pem"))
	if err != nil {
		return err
	}
	pid := srv.Cmd.Process.Pid
	if waited := srv.Settle("http://"+web, 5*time.Minute); waited > 2*time.Second {
		fmt.Printf("waited %s for the server to finish its start-up work (the brotli form of the wasm client)\n", waited.Round(time.Second))
	}
	mem := serverproc.WatchMemory(pid)
	base := mem.Sample()
	fmt.Printf("server ready, pid %d, resident %d MiB, load average %s\n", pid, base>>20, serverproc.LoadAverage())
	fmt.Printf("%d attendees (tunnel, trace stream) and %d devices join over %s, then publish QoS 1 every %s for %s …\n", o.attendees, o.devices, o.ramp, o.every, o.duration)

	var st stats
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cl := &class{base: "http://" + web, mqtts: mqtts, caPEM: string(caPEM), st: &st, every: o.every, noTrace: o.noTrace}
	cpu0, _ := serverproc.CPUTime(pid)
	wait0 := serverproc.RunDelay(pid)
	self0 := selfCPU()
	start := time.Now()
	publishUntil := start.Add(o.ramp + o.duration)
	var wg sync.WaitGroup
	if o.pprof != "" {
		wg.Go(func() {
			time.Sleep(o.ramp + 2*time.Second)
			secs := max(1, int((o.duration-5*time.Second)/time.Second))
			if err := fetch(fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", pprofAddr, secs), o.pprof+"-cpu.pprof"); err != nil {
				st.fail("cpu profile: %v", err)
			}
		})
	}
	for i := range o.attendees {
		at := start.Add(time.Duration(float64(o.ramp) * float64(i) / float64(max(o.attendees, 1))))
		wg.Go(func() {
			time.Sleep(time.Until(at))
			cl.attendee(ctx, i, i < o.devices, publishUntil)
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	if o.pprof != "" {
		if err := fetch("http://"+pprofAddr+"/debug/pprof/heap", o.pprof+"-heap.pprof"); err != nil {
			st.fail("heap profile: %v", err)
		}
	}
	cpu1, _ := serverproc.CPUTime(pid)
	wait1 := serverproc.RunDelay(pid)
	self1 := selfCPU()
	peak := mem.Stop()
	cancel()
	if err, ok := srv.Exited(); ok {
		return fmt.Errorf("the server exited during the run: %v", err)
	}

	lost := st.published.Load() - st.delivered.Load()
	cores := runtime.NumCPU()
	viewers := o.attendees
	if o.noTrace {
		viewers = 0
	}
	fmt.Printf(`
figures (%d attendees through the tunnel + %d devices on mqtts, %s ramp + %s publishing, %d cores):
  handshake (TLS + CONNECT), browsers  %s
  connect (WebSocket upgrade too)      %s
  handshake (TLS + CONNECT), devices   %s
  publish → deliver (QoS 1)            %s
  QoS 1 messages                       %d acknowledged, %d delivered, %d lost, %d duplicates
  trace streams                        %d MiB read by %d viewers
  server memory                        %d MiB at start, peak %d MiB
  server CPU                           %.1f s in %.1f s: %.0f %% of one core (%.0f %% of the machine)
  server threads waiting for a CPU     %.1f s (runnable, queued behind other work)
  load generator CPU                   %.1f s (same machine)
  load average                         %s (at the end)
`, o.attendees, o.devices, o.ramp, o.duration, cores,
		pct(st.handshake), pct(st.connect), pct(st.device), pct(st.deliver),
		st.published.Load(), st.delivered.Load(), lost, st.duplicates.Load(),
		st.traceBytes.Load()>>20, viewers, base>>20, peak>>20,
		(cpu1 - cpu0).Seconds(), elapsed.Seconds(), 100*(cpu1-cpu0).Seconds()/elapsed.Seconds(), 100*(cpu1-cpu0).Seconds()/elapsed.Seconds()/float64(cores),
		(wait1 - wait0).Seconds(), (self1 - self0).Seconds(), serverproc.LoadAverage())
	for _, e := range st.errs {
		fmt.Println("  error:", e)
	}
	var fails []string
	if n := len(st.handshake); n < o.attendees {
		fails = append(fails, fmt.Sprintf("%d of %d attendees connected", n, o.attendees))
	}
	if p := percentile(st.handshake, 99); p > o.goalHandshake {
		fails = append(fails, fmt.Sprintf("handshake p99 %s over %s", p.Round(time.Millisecond), o.goalHandshake))
	}
	if p := percentile(st.deliver, 99); p > o.goalDeliver {
		fails = append(fails, fmt.Sprintf("deliver p99 %s over %s", p.Round(time.Millisecond), o.goalDeliver))
	}
	if peak > uint64(o.goalRSS)<<20 {
		fails = append(fails, fmt.Sprintf("peak memory %d MiB over %d MiB", peak>>20, o.goalRSS))
	}
	if lost != 0 || st.published.Load() == 0 {
		fails = append(fails, fmt.Sprintf("%d QoS 1 messages lost of %d", lost, st.published.Load()))
	}
	if len(fails) > 0 {
		return errors.New("FAILED: " + strings.Join(fails, "; "))
	}
	fmt.Println("PASS")
	return nil
}

// class is the room: the server's addresses and the figures.
type class struct {
	base, mqtts string
	caPEM       string
	st          *stats
	every       time.Duration
	noTrace     bool
}

// attendee plays one attendee until publishUntil, with a device too if
// device is set.
func (c *class) attendee(ctx context.Context, i int, device bool, publishUntil time.Time) {
	jar, _ := cookiejar.New(nil)
	web := &http.Client{Jar: jar, Timeout: 30 * time.Second}
	resp, err := web.PostForm(c.base+"/join", url.Values{"name": {fmt.Sprintf("attendee %d", i)}})
	if err != nil {
		c.st.fail("attendee %d: join: %v", i, err)
		return
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	var me workshop.Me
	if err := getJSON(web, c.base+"/workshop/me", &me); err != nil {
		c.st.fail("attendee %d: /workshop/me: %v", i, err)
		return
	}
	u, _ := url.Parse(c.base)
	cookie := http.Header{}
	for _, k := range jar.Cookies(u) {
		cookie.Add("Cookie", k.String())
	}

	// The page's connection: the tunnel, then TLS and CONNECT in it.
	t0 := time.Now()
	ws, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(c.base, "http")+"/tunnel?to=mqtts", &websocket.DialOptions{HTTPHeader: cookie})
	if err != nil {
		c.st.fail("attendee %d: tunnel: %v", i, err)
		return
	}
	t1 := time.Now()
	page, err := client.Dial(ctx, websocket.NetConn(context.Background(), ws, websocket.MessageBinary), trace.NewRecorder(trace.Client, 0), c.options(me, "page"))
	if err != nil {
		c.st.fail("attendee %d: TLS and CONNECT through the tunnel: %v", i, err)
		return
	}
	defer page.Close()
	c.st.add(&c.st.handshake, time.Since(t1))
	c.st.add(&c.st.connect, time.Since(t0))

	// Its trace, followed live as the page does.
	if !c.noTrace {
		go c.followTrace(ctx, cookie, fmt.Sprintf("%x", page.ClientRandom()))
	}

	var wg sync.WaitGroup
	wg.Go(func() { c.publishLoop(ctx, page, me.Topic+"/page", publishUntil, i) })
	if device {
		wg.Go(func() {
			t0 := time.Now()
			raw, err := net.DialTimeout("tcp", c.mqtts, 10*time.Second)
			if err != nil {
				c.st.fail("device %d: %v", i, err)
				return
			}
			o := c.options(me, "device")
			o.Username, o.Password = me.ID, me.Password
			dev, err := client.Dial(ctx, raw, trace.NewRecorder(trace.Client, 0), o)
			if err != nil {
				c.st.fail("device %d: TLS and CONNECT: %v", i, err)
				return
			}
			defer dev.Close()
			c.st.add(&c.st.device, time.Since(t0))
			c.publishLoop(ctx, dev, me.Topic+"/device", publishUntil, i)
		})
	}
	wg.Wait()
}

// options are a client's: full handshakes (each attendee is a browser of
// its own, with no ticket of another's to resume), the class's CA.
func (c *class) options(me workshop.Me, id string) client.Options {
	no := false
	return client.Options{ClientID: id, KeepAlive: 60, TLS: &client.TLSOptions{ServerName: "localhost", CAPEM: c.caPEM, Resume: &no}}
}

// publishLoop subscribes conn to topic and publishes a QoS 1 message to it
// every few seconds until until, then waits for the last deliveries.
func (c *class) publishLoop(ctx context.Context, conn *client.Conn, topic string, until time.Time, i int) {
	sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	_, err := conn.Subscribe(sctx, topic, 1)
	cancel()
	if err != nil {
		c.st.fail("attendee %d: subscribe %s: %v", i, topic, err)
		return
	}
	var mu sync.Mutex
	sent := map[int64]bool{}
	received := make(chan struct{})
	go func() {
		defer close(received)
		for {
			m, err := conn.NextMessage(ctx)
			if err != nil {
				return
			}
			seq, at, ok := strings.Cut(string(m.Payload), "|")
			n, _ := strconv.ParseInt(seq, 10, 64)
			ns, _ := strconv.ParseInt(at, 10, 64)
			if !ok {
				continue
			}
			mu.Lock()
			pending, known := sent[n]
			if known && pending {
				sent[n] = false
				c.st.delivered.Add(1)
				c.st.add(&c.st.deliver, time.Since(time.Unix(0, ns)))
			} else if known {
				c.st.duplicates.Add(1)
			}
			done := time.Now().After(until) && !slices.Contains(mapValues(sent), true)
			mu.Unlock()
			if done {
				return
			}
		}
	}()
	var seq int64
	for time.Now().Before(until) {
		wait := time.Duration(float64(c.every) * (0.5 + rand.Float64()))
		select {
		case <-ctx.Done():
			return
		case <-time.After(min(wait, time.Until(until))):
		}
		if time.Now().After(until) {
			break
		}
		seq++
		mu.Lock()
		sent[seq] = true
		mu.Unlock()
		pctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		err := conn.Publish(pctx, topic, []byte(fmt.Sprintf("%d|%d", seq, time.Now().UnixNano())), 1, false)
		cancel()
		if err != nil {
			mu.Lock()
			delete(sent, seq) // not acknowledged: not the broker's to deliver
			mu.Unlock()
			c.st.fail("attendee %d: publish: %v", i, err)
			continue
		}
		c.st.published.Add(1)
	}
	select {
	case <-received:
	case <-time.After(10 * time.Second): // the lost ones stay counted as lost
	}
}

func mapValues(m map[int64]bool) []bool {
	out := make([]bool, 0, len(m))
	for _, v := range m {
		out = append(out, v)
	}
	return out
}

// followTrace reads the attendee's trace stream of its own connection
// until ctx ends.
func (c *class) followTrace(ctx context.Context, cookie http.Header, random string) {
	req, _ := http.NewRequestWithContext(ctx, "GET", c.base+"/trace/stream?conn="+random, nil)
	req.Header = cookie.Clone()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		if ctx.Err() == nil {
			c.st.fail("trace stream: %v", err)
		}
		return
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		c.st.fail("trace stream: %d %s", resp.StatusCode, b)
		return
	}
	io.Copy(countWriter{&c.st.traceBytes}, resp.Body)
}

// countWriter counts what is written to it, and keeps nothing.
type countWriter struct{ n *atomic.Int64 }

func (w countWriter) Write(p []byte) (int, error) {
	w.n.Add(int64(len(p)))
	return len(p), nil
}

// fetch saves what url answers in file.
func fetch(url, file string) error {
	resp, err := http.Get(url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s", url, resp.Status)
	}
	f, err := os.Create(file)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = io.Copy(f, resp.Body)
	return err
}

func getJSON(c *http.Client, url string, v any) error {
	resp, err := c.Get(url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		return fmt.Errorf("%d %s", resp.StatusCode, b)
	}
	return json.NewDecoder(resp.Body).Decode(v)
}

// percentile returns the p-th percentile of ds (nearest rank).
func percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	i := int(float64(len(s))*p/100+0.5) - 1
	return s[min(max(i, 0), len(s)-1)]
}

// pct says a distribution in a line.
func pct(ds []time.Duration) string {
	if len(ds) == 0 {
		return "none"
	}
	r := func(d time.Duration) string { return d.Round(100 * time.Microsecond).String() }
	return fmt.Sprintf("p50 %s, p99 %s, max %s (%d)", r(percentile(ds, 50)), r(percentile(ds, 99)), r(percentile(ds, 100)), len(ds))
}

// selfCPU is this process's CPU time so far.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
