// Command mqttbench measures the playground's broker against a tuned
// mosquitto in the same run, on the same machine, with the same load
// clients, and prints the ratios (playground/mosquitto, > 1 = playground
// better):
//
//	./task bench                     # or: go run ./cmd/mqttbench
//	go run ./cmd/mqttbench -rounds 1 -duration 1s -only latency
//
// Each broker runs in a process of its own: the playground's broker (this
// binary in its serve mode, package broker configured as the server
// configures it) three times — tracing at its defaults (each connection
// records its head), tracing off (--trace-limit -1), and watched (a trace
// page is open, so connections record head and tail) — and mosquitto, when
// installed (Debian: apt-get install mosquitto), with set_tcp_nodelay true,
// max_inflight_messages 0 and a TLS listener with a certificate from the
// same CA — and the front end: mosquitto reached through the playground
// command's WebSocket tunnel (--upstream), as a page's wasm client reaches
// a user's broker, which shows what one front-end instance carries.
// Scenarios run over TCP and TLS (the front end: TLS only): connects (TLS handshakes full
// and resumed), QoS 0 and QoS 1 throughput, fan-out 1→N, latency p50/p99,
// and resident memory per idle connection. Every scenario runs for every
// broker in turn, in rounds (the order rotates); the table shows medians.
//
// On a shared machine absolute figures wander with the load; the ratios
// of one run, measured side by side, are what to compare. The header
// prints the load average before and after.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/mqtts-playground/playground/cmd/internal/serverproc"
	"github.com/mqtts-playground/playground/internal/mosquitto"
)

func main() {
	var err error
	if len(os.Args) > 1 && os.Args[1] == "serve" {
		err = serve(os.Args[2:])
	} else {
		err = run(os.Args[1:], os.Stdout)
	}
	if err != nil && err != flag.ErrHelp {
		fmt.Fprintln(os.Stderr, "mqttbench:", err)
		os.Exit(1)
	}
}

// metric is one figure of the table.
type metric struct {
	name  string
	unit  string
	lower bool // lower is better (latency, memory)
}

// step is one scenario: it measures some metrics on one broker.
type step struct {
	name    string
	tcp     bool // over plain TCP: not for a target without a plain listener
	metrics []metric
	run     func(ctx context.Context, t *target) (values []float64, note string, err error)
}

func run(args []string, out io.Writer) error {
	fs := flag.NewFlagSet("mqttbench", flag.ContinueOnError)
	b := &bench{}
	fs.DurationVar(&b.duration, "duration", 2*time.Second, "length of each timed scenario")
	fs.IntVar(&b.workers, "workers", 8, "clients connecting at once (connects, idle connections)")
	fs.IntVar(&b.pairs, "pairs", 4, "publisher/subscriber pairs for QoS 0/1 throughput")
	fs.IntVar(&b.fanout, "fanout", 100, "subscribers of the one publisher in the fan-out scenario")
	fs.IntVar(&b.samples, "samples", 2000, "round trips for latency")
	fs.IntVar(&b.idle, "idle", 1000, "idle connections for the memory figure")
	fs.DurationVar(&b.rest, "rest", time.Second, "pause after the idle connections opened, before their memory is measured")
	fs.IntVar(&b.window, "window", 256, "messages a publisher may have on the way")
	payload := fs.Int("payload", 64, "payload bytes")
	rounds := fs.Int("rounds", 3, "rounds; each runs every scenario on every broker (medians are shown)")
	only := fs.String("only", "", "run only the scenarios whose name contains one of these comma-separated words (memory, connects, handshakes, qos, fan-out, latency)")
	targets := fs.String("targets", "pg,off,watched,mosq,front", "brokers: pg (tracing at its defaults), off (tracing off), watched (a trace page open), mosq (mosquitto), front (mosquitto through the playground command's tunnel, --upstream; needs mosq)")
	mosqFlag := fs.String("mosquitto", "", "path of the mosquitto broker (default: from PATH or /usr/sbin)")
	pprof := fs.String("pprof", "", "serve net/http/pprof of the playground broker (tracing at its defaults) on this address, e.g. 127.0.0.1:6060")
	if err := fs.Parse(args); err != nil {
		return err
	}
	b.payload = make([]byte, *payload)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()

	dir, err := os.MkdirTemp("", "mqttbench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	if b.pki, err = newBenchPKI(dir); err != nil {
		return err
	}
	want := map[string]bool{}
	for _, k := range strings.Split(*targets, ",") {
		want[strings.TrimSpace(k)] = true
	}
	if want["front"] {
		want["mosq"] = true // the front end's upstream, and what it is compared with
	}
	mosqPath := *mosqFlag
	if mosqPath == "" {
		mosqPath = mosquitto.Path()
	}
	mosqNote := ""
	if want["mosq"] && mosqPath == "" {
		mosqNote = "mosquitto is not installed (Debian: apt-get install mosquitto): no ratios, no front end"
	}
	var serverBin string
	if want["front"] && mosqPath != "" {
		fmt.Fprintln(os.Stderr, "building the playground command for the front end (go build ./server)")
		if serverBin, err = buildServer(ctx, dir); err != nil {
			return err
		}
	}
	// start starts the brokers, each in a process of its own; every round
	// gets fresh ones, so that what one round left (recent connections'
	// recordings) does not bias the next one's memory figures.
	var ts []*target
	stopAll := func() {
		for _, t := range ts {
			t.close()
		}
		ts = nil
	}
	defer stopAll()
	start := func() error {
		for _, p := range []struct{ key, name, tracing string }{
			{"pg", "playground", "default"},
			{"off", "playground, tracing off", "off"},
			{"watched", "playground, watched", "watched"},
		} {
			if !want[p.key] {
				continue
			}
			pp := ""
			if p.key == "pg" {
				pp = *pprof
			}
			t, err := startPlayground(p.key, p.name, p.tracing, b.pki, pp)
			if err != nil {
				return err
			}
			ts = append(ts, t)
		}
		if want["mosq"] && mosqPath != "" {
			mosq, err := startMosquitto(mosqPath, dir, b.pki)
			if err != nil {
				return err
			}
			ts = append(ts, mosq)
			if serverBin != "" {
				fmt.Fprintln(os.Stderr, "starting the front end (its first start builds the page and the wasm client)")
				front, err := startFrontend(ctx, serverBin, frontendDir(dir), mosq)
				if err != nil {
					return err
				}
				ts = append(ts, front)
			}
		}
		if len(ts) == 0 {
			return fmt.Errorf("no broker to measure (-targets %q)", *targets)
		}
		return nil
	}

	steps := b.steps()
	if *only != "" {
		steps = slices.DeleteFunc(steps, func(s step) bool {
			for _, w := range strings.Split(*only, ",") {
				if w = strings.TrimSpace(w); w != "" && strings.Contains(s.name, w) {
					return false
				}
			}
			return true
		})
	}
	res := newResults()
	load0 := serverproc.LoadAverage()
	began := time.Now()
	var names []*target // of the last round, for the header
	for r := range *rounds {
		if err := start(); err != nil {
			return err
		}
		names = ts
		for _, s := range steps {
			for i := range ts {
				t := ts[(i+r)%len(ts)] // rotate who goes first
				if s.tcp && t.tcp == "" {
					continue
				}
				fmt.Fprintf(os.Stderr, "round %d/%d: %-28s %s\n", r+1, *rounds, s.name, t.name)
				vals, note, err := s.run(ctx, t)
				if err != nil {
					if ctx.Err() != nil {
						return ctx.Err()
					}
					return fmt.Errorf("%s on %s: %w", s.name, t.name, err)
				}
				for k, m := range s.metrics {
					res.add(m, t.key, vals[k], note)
				}
			}
		}
		stopAll()
	}
	fmt.Fprintf(out, "mqttbench %s: %d round(s) in %s\n", time.Now().Format("2006-01-02 15:04"), *rounds, time.Since(began).Round(time.Second))
	fmt.Fprintf(out, "machine: %s, %d cores (GOMAXPROCS %d), %s; load average %s before, %s after\n",
		cpuModel(), runtime.NumCPU(), runtime.GOMAXPROCS(0), runtime.Version(), load0, serverproc.LoadAverage())
	fmt.Fprintf(out, "clients: %d connecting at once, %d pairs, fan-out 1→%d, %d-byte payloads, window %d, %d latency samples, %d idle connections, %s per timed scenario\n",
		b.workers, b.pairs, b.fanout, *payload, b.window, b.samples, b.idle, b.duration)
	for _, t := range names {
		fmt.Fprintf(out, "%-8s %s\n", t.key, t.name)
	}
	if mosqNote != "" {
		fmt.Fprintln(out, mosqNote)
	}
	fmt.Fprintln(out)
	res.table(out, steps, names)
	return nil
}

// steps are the scenarios, in the order they run.
func (b *bench) steps() []step {
	var s []step
	for _, l := range []struct {
		name string
		tls  bool
	}{{"TCP", false}, {"TLS", true}} {
		s = append(s, step{name: "memory " + l.name, tcp: !l.tls, metrics: []metric{{"idle memory per connection " + l.name, "KiB", true}},
			run: func(ctx context.Context, t *target) ([]float64, string, error) {
				v, err := b.idleMemory(ctx, t, l.tls)
				return []float64{v / 1024}, "", err
			}})
	}
	s = append(s,
		step{name: "connects TCP", tcp: true, metrics: []metric{{"connects/s TCP", "/s", false}},
			run: func(ctx context.Context, t *target) ([]float64, string, error) {
				v, _, err := b.connects(ctx, t, false, false)
				return []float64{v}, "", err
			}},
		step{name: "handshakes TLS full", metrics: []metric{{"connects/s TLS, full handshake", "/s", false}},
			run: func(ctx context.Context, t *target) ([]float64, string, error) {
				v, _, err := b.connects(ctx, t, true, false)
				return []float64{v}, "", err
			}},
		step{name: "handshakes TLS resumed", metrics: []metric{{"connects/s TLS, resumed", "/s", false}},
			run: func(ctx context.Context, t *target) ([]float64, string, error) {
				v, share, err := b.connects(ctx, t, true, true)
				return []float64{v}, fmt.Sprintf("%.0f%% resumed", 100*share), err
			}},
	)
	for _, l := range []struct {
		name string
		tls  bool
	}{{"TCP", false}, {"TLS", true}} {
		for _, qos := range []byte{0, 1} {
			s = append(s, step{name: fmt.Sprintf("qos%d %s", qos, l.name), tcp: !l.tls, metrics: []metric{{fmt.Sprintf("QoS %d msgs/s %s (%d pairs)", qos, l.name, b.pairs), "/s", false}},
				run: func(ctx context.Context, t *target) ([]float64, string, error) {
					v, stalls, err := b.throughput(ctx, t, l.tls, qos, b.pairs, 1)
					return []float64{v}, stallNote(stalls), err
				}})
		}
		s = append(s, step{name: "fan-out " + l.name, tcp: !l.tls, metrics: []metric{{fmt.Sprintf("fan-out 1→%d msgs/s %s", b.fanout, l.name), "/s", false}},
			run: func(ctx context.Context, t *target) ([]float64, string, error) {
				v, stalls, err := b.throughput(ctx, t, l.tls, 0, 1, b.fanout)
				return []float64{v}, stallNote(stalls), err
			}})
		s = append(s, step{name: "latency " + l.name, tcp: !l.tls, metrics: []metric{{"latency p50 " + l.name, "µs", true}, {"latency p99 " + l.name, "µs", true}},
			run: func(ctx context.Context, t *target) ([]float64, string, error) {
				p50, p99, err := b.latency(ctx, t, l.tls)
				return []float64{float64(p50.Microseconds()), float64(p99.Microseconds())}, "", err
			}})
	}
	return s
}

func stallNote(stalls int64) string {
	if stalls == 0 {
		return ""
	}
	return fmt.Sprintf("%d stall(s): messages dropped", stalls)
}

func cpuModel() string {
	data, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return runtime.GOARCH
	}
	for line := range strings.Lines(string(data)) {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return runtime.GOARCH
}
