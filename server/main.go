// Command server runs the MQTTS Playground: an MQTT broker with plain, TLS
// and mutual-TLS listeners, a local CA, and a web server whose page runs a
// Go TLS + MQTT client in the browser through a WebSocket tunnel.
//
//	go run ./server          # then open the printed URL
//	go run ./server --help   # flags, each also settable as PLAYGROUND_*
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"net/netip"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/mqtts-playground/playground/web"
)

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return
		}
		fmt.Fprintln(os.Stderr, "mqtts-playground:", err)
		os.Exit(1)
	}
}

func run(args []string, stdout, stderr io.Writer) error {
	cfg, err := parseConfig(args, os.Getenv, stderr)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	if cfg.tokenInArgs {
		log.Warn("the instructor token is on the command line, where every user of this machine can read it (ps, /proc); pass it as PLAYGROUND_INSTRUCTOR_TOKEN or with --instructor-token-file")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	if cfg.BuildStatic != "" {
		return buildStatic(ctx, cfg, stdout, log)
	}
	start := time.Now()
	assets, err := loadAssets(ctx, cfg, log)
	if err != nil {
		return err
	}
	if cfg.BuildAssets != "" {
		if err := assets.WriteDir(cfg.BuildAssets); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "web assets written to %s\n", cfg.BuildAssets)
		return nil
	}
	app, err := newApp(cfg, assets, log)
	if err != nil {
		return err
	}
	defer app.Close()
	if cfg.Pprof != "" {
		if err := servePprof(cfg.Pprof, log); err != nil {
			return err
		}
	}
	app.printBanner(stdout, time.Since(start))
	<-ctx.Done()
	fmt.Fprintln(stdout, "shutting down")
	return nil
}

// servePprof serves Go's profiler on a loopback address of its own (never
// on the web server's routes).
func servePprof(addr string, log *slog.Logger) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("--pprof: %w", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	log.Info("serving the profiler", "url", "http://"+ln.Addr().String()+"/debug/pprof/")
	go (&http.Server{Handler: loopbackHostOnly(mux), ReadHeaderTimeout: 10 * time.Second}).Serve(ln)
	return nil
}

// loopbackHostOnly refuses requests whose Host is not a loopback address or
// localhost: a page on another site could otherwise reach a loopback port
// through a name of its own that resolves to 127.0.0.1 (DNS rebinding).
func loopbackHostOnly(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host := r.Host
		if hh, _, err := net.SplitHostPort(host); err == nil {
			host = hh
		}
		host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
		if ip, err := netip.ParseAddr(host); !strings.EqualFold(host, "localhost") && (err != nil || !ip.IsLoopback()) {
			http.Error(w, "the profiler answers only to a loopback address or localhost as Host", http.StatusMisdirectedRequest)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// loadAssets uses the assets embedded in this binary, or builds them from
// the source tree. Building takes a minute the first time and a moment
// after that (go build's cache): it is announced only when it takes long.
func loadAssets(ctx context.Context, cfg Config, log *slog.Logger) (*web.Assets, error) {
	if embedded != nil && cfg.BuildAssets == "" {
		return web.Load(embedded)
	}
	slow := time.AfterFunc(2*time.Second, func() {
		log.Info("building the web page and the Go wasm client (the first run takes a minute)")
	})
	defer slow.Stop()
	return web.Build(ctx, web.Options{Dev: cfg.Dev, Log: func(format string, args ...any) { log.Debug(fmt.Sprintf(format, args...)) }})
}

func (a *App) printBanner(w io.Writer, took time.Duration) {
	fmt.Fprintf(w, "\nMQTTS Playground is ready (%s).\n\n", took.Round(100*time.Millisecond))
	page := ""
	if a.httpAddr != "" {
		page = urlFor("http", a.httpAddr)
		fmt.Fprintf(w, "  Open   %s\n", page)
	}
	if a.httpsAddr != "" {
		if page == "" {
			page = urlFor("https", a.httpsAddr)
			fmt.Fprintf(w, "  Open   %s  (trust the CA below first)\n", page)
		} else {
			fmt.Fprintf(w, "  or     %s  (trust the CA below first)\n", urlFor("https", a.httpsAddr))
		}
	}
	fmt.Fprintln(w)
	var lessonPorts []int
	lessons := 0
	var mqtts string
	for _, l := range a.listeners() {
		if l.Lesson {
			lessons++
			if _, port, err := net.SplitHostPort(l.Addr); err == nil {
				if p, err := strconv.Atoi(port); err == nil {
					lessonPorts = append(lessonPorts, p)
				}
			}
			continue
		}
		addr := l.Addr
		if addr == "" {
			addr = "(through the page only)"
		}
		if l.Name == "mqtts" {
			mqtts = l.Addr
		}
		fmt.Fprintf(w, "  %-8s %-24s %s\n", l.Name, addr, mainListenerWhat[l.Name])
	}
	if lessons > 0 {
		where := "(through the page only)"
		if len(lessonPorts) > 0 {
			slices.Sort(lessonPorts)
			host, _ := dialHost(a.cfg.LessonPorts, "")
			where = fmt.Sprintf("%s:%d-%d", host, lessonPorts[0], lessonPorts[len(lessonPorts)-1])
		}
		read := "README.md, \"Lesson listeners\""
		if page != "" {
			read = page + "lessons"
		}
		fmt.Fprintf(w, "  %-8s %-24s %d listeners broken on purpose; read about them at %s\n", "lessons", where, lessons, read)
	}
	if a.class != nil {
		fmt.Fprintln(w)
		a.printClass(w)
	}
	if mqtts != "" && page != "" && a.class == nil { // a class's clients need credentials: the attendee page has them
		host, port := dialHost(mqtts, "")
		fmt.Fprintf(w, "\n  Try:   curl -O %sca.pem\n", page)
		fmt.Fprintf(w, "         mosquitto_sub -h %s -p %s --cafile ca.pem -t 'x/#' -v\n", host, port)
	}
	fmt.Fprintf(w, "\n  The CA certificate is also in %s\n\n", a.caFile())
}
