package main

import (
	"bufio"
	"crypto/tls"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	_ "net/http/pprof" // served with -pprof, for profiling the broker under load
	"os"
	"runtime"
	"runtime/debug"

	"github.com/mqtts-playground/playground/broker"
)

// serveAddrs is what the serve mode prints on its first line.
type serveAddrs struct {
	TCP   string `json:"tcp"`
	TLS   string `json:"tls"`
	PProf string `json:"pprof,omitempty"`
}

// serve is the bench's broker process: the playground's broker (package
// broker, as `go run ./server` configures it, the per-address cap aside)
// with a plain and a TLS listener. It prints their addresses as JSON on
// one line, then answers commands on stdin: "gc" collects garbage and
// returns freed memory to the system (so the resident size is the live
// memory), answering "ok". It exits when stdin closes.
func serve(args []string) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	tracing := fs.String("trace", "default", "recording: default (what the server does: the head of each connection), off (--trace-limit -1), watched (a trace page is open: head and tail)")
	certFile := fs.String("cert", "", "PEM certificate chain of the TLS listener")
	keyFile := fs.String("key", "", "PEM private key of the TLS listener")
	pprofAddr := fs.String("pprof", "", "serve net/http/pprof on this address")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cert, err := tls.LoadX509KeyPair(*certFile, *keyFile)
	if err != nil {
		return err
	}
	opts := broker.Options{
		Logger:       slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
		TraceLimit:   1 << 20, // the server's --trace-limit default
		ConnsPerAddr: -1,      // every bench client comes from 127.0.0.1
	}
	switch *tracing {
	case "default", "watched":
	case "off":
		opts.TraceLimit = -1
	default:
		return fmt.Errorf("serve: -trace %q: want default, off or watched", *tracing)
	}
	b, err := broker.New(opts)
	if err != nil {
		return err
	}
	defer b.Close()
	if *tracing == "watched" {
		defer b.Watch()()
	}
	for _, l := range []broker.Listener{
		{Name: "mqtt", Addr: "127.0.0.1:0"},
		{Name: "mqtts", Addr: "127.0.0.1:0", TLS: &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}},
	} {
		if err := b.Add(l); err != nil {
			return err
		}
	}
	var out serveAddrs
	for _, l := range b.Listeners() {
		switch l.Name {
		case "mqtt":
			out.TCP = l.Addr
		case "mqtts":
			out.TLS = l.Addr
		}
	}
	if *pprofAddr != "" {
		out.PProf = *pprofAddr
		go http.ListenAndServe(*pprofAddr, nil)
	}
	line, _ := json.Marshal(out)
	fmt.Printf("%s\n", line)
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		switch in.Text() {
		case "gc":
			runtime.GC()
			debug.FreeOSMemory()
			fmt.Println("ok")
		}
	}
	if err := in.Err(); err != nil && err != io.EOF {
		return err
	}
	return nil
}
