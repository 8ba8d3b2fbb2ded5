package main

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/coder/websocket"
)

// The front end: the playground's own command (./server), with mosquitto's
// TLS listener as its upstream "bench" (--upstream), measured as a page's
// wasm client uses it: a WebSocket tunnel per connection, the client's TLS
// handshake with mosquitto inside. Against mosquitto reached directly it
// shows what a front end adds, and how many sessions one instance carries.

// buildServer builds the playground's command into dir, from the module
// the bench belongs to.
func buildServer(ctx context.Context, dir string) (string, error) {
	gomod, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("front end: go env GOMOD: %w", err)
	}
	bin := filepath.Join(dir, "playground")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./server")
	cmd.Dir = filepath.Dir(strings.TrimSpace(string(gomod)))
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("front end: go build ./server: %w\n%s", err, out)
	}
	return bin, nil
}

var openLine = regexp.MustCompile(`Open\s+http://(\S+?)/`)

// startFrontend runs the playground command bin with the upstream "bench"
// at mosquitto's TLS address, its page on a free port, no MQTT ports of
// its own. The first start in a data folder builds the page and the wasm
// client (a minute).
func startFrontend(ctx context.Context, bin, data string, mosq *target) (*target, error) {
	t := &target{key: "front", name: "mosquitto through the playground's tunnel (the command, --upstream)",
		cmd: exec.Command(bin, "--data", data, "--http", "127.0.0.1:0", "--https", "off", "--mqtt", "off", "--mqtts", "off",
			"--mtls", "off", "--lesson-ports", "off", "--max-conns-per-addr", "0", "--upstream", "bench="+mosq.tls)}
	var logs strings.Builder
	t.cmd.Stderr = &logs
	out, err := t.cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := t.cmd.Start(); err != nil {
		return nil, err
	}
	found := make(chan string, 1)
	go func() {
		s := bufio.NewScanner(out)
		for s.Scan() {
			if m := openLine.FindStringSubmatch(s.Text()); m != nil {
				select {
				case found <- m[1]:
				default:
				}
			}
		}
	}()
	select {
	case addr := <-found:
		t.tls = addr + " (tunnel)"
		t.tunnel = func(ctx context.Context) (net.Conn, error) {
			ws, _, err := websocket.Dial(ctx, "ws://"+addr+"/tunnel?to=bench", nil)
			if err != nil {
				return nil, err
			}
			return websocket.NetConn(context.Background(), ws, websocket.MessageBinary), nil
		}
		return t, nil
	case <-time.After(5 * time.Minute):
	case <-ctx.Done():
	}
	t.close()
	return nil, fmt.Errorf("front end: %s did not start:\n%s", bin, logs.String())
}

// frontendDir is the front end's data folder (its CA), kept across
// rounds; Go's build cache makes its later starts take seconds.
func frontendDir(dir string) string {
	d := filepath.Join(dir, "front")
	os.MkdirAll(d, 0o700)
	return d
}
