package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/mqtts-playground/playground/broker/pki"
	"github.com/mqtts-playground/playground/internal/mosquitto"
)

// target is one broker under test, running in its own process.
type target struct {
	key  string // short name: pg, off, watched, mosq, front
	name string // for people
	tcp  string // its plain MQTT address ("" when it has none)
	tls  string // its MQTT over TLS address
	// tunnel, when set, opens a byte stream to the broker (TLS only) some
	// other way than TCP to tls: through the playground's tunnel.
	tunnel func(context.Context) (net.Conn, error)

	cmd    *exec.Cmd      // the playground's process
	stdin  io.WriteCloser // serve mode's commands; nil for the front end
	stdout *bufio.Reader
	mosq   *mosquitto.Process
}

// benchPKI is the local CA of one bench run and the broker certificate
// both brokers serve, as files.
type benchPKI struct {
	ca       *pki.CA
	certFile string // chain: leaf, intermediate
	keyFile  string
}

func newBenchPKI(dir string) (*benchPKI, error) {
	ca, _, err := pki.LoadOrCreate(filepath.Join(dir, "ca"))
	if err != nil {
		return nil, err
	}
	// ServerCertificate stores the chain and key where mosquitto reads them.
	if _, _, err := ca.ServerCertificate([]string{"localhost", "127.0.0.1"}); err != nil {
		return nil, err
	}
	return &benchPKI{ca: ca, certFile: filepath.Join(ca.Dir(), pki.ServerCertFile), keyFile: filepath.Join(ca.Dir(), pki.ServerKeyFile)}, nil
}

// startPlayground starts the bench binary in serve mode (see serve).
func startPlayground(key, name, tracing string, p *benchPKI, pprofAddr string) (*target, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	args := []string{"serve", "-trace", tracing, "-cert", p.certFile, "-key", p.keyFile}
	if pprofAddr != "" {
		args = append(args, "-pprof", pprofAddr)
	}
	t := &target{key: key, name: name, cmd: exec.Command(self, args...)}
	t.cmd.Stderr = os.Stderr
	if t.stdin, err = t.cmd.StdinPipe(); err != nil {
		return nil, err
	}
	out, err := t.cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	t.stdout = bufio.NewReader(out)
	if err := t.cmd.Start(); err != nil {
		return nil, err
	}
	line, err := t.stdout.ReadString('\n')
	if err != nil {
		t.close()
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	var addrs serveAddrs
	if err := json.Unmarshal([]byte(line), &addrs); err != nil {
		t.close()
		return nil, fmt.Errorf("%s: %q: %w", name, line, err)
	}
	t.tcp, t.tls = addrs.TCP, addrs.TLS
	return t, nil
}

// mosquittoConf is the tuned mosquitto the issue compares with: Nagle off,
// no limit on messages in flight, a TLS listener with the bench's
// certificate; anonymous clients, no persistence, errors logged only.
const mosquittoConf = `# written by mqttbench
per_listener_settings false
allow_anonymous true
persistence false
user root
log_dest stderr
log_type error
log_type warning
set_tcp_nodelay true
max_inflight_messages 0

listener %s 127.0.0.1

listener %s 127.0.0.1
certfile %s
keyfile %s
`

func startMosquitto(path, dir string, p *benchPKI) (*target, error) {
	tcpPort, err := mosquitto.FreePort()
	if err != nil {
		return nil, err
	}
	tlsPort, err := mosquitto.FreePort()
	if err != nil {
		return nil, err
	}
	conf := filepath.Join(dir, "mosquitto.conf")
	if err := os.WriteFile(conf, fmt.Appendf(nil, mosquittoConf, tcpPort, tlsPort, p.certFile, p.keyFile), 0o600); err != nil {
		return nil, err
	}
	t := &target{key: "mosq", name: "mosquitto " + mosquitto.Version(path), tcp: "127.0.0.1:" + tcpPort, tls: "127.0.0.1:" + tlsPort}
	if t.mosq, err = mosquitto.Start(path, conf, t.tcp, t.tls); err != nil {
		return nil, err
	}
	return t, nil
}

// streamer returns how to open a byte stream to the target's plain or
// TLS listener.
func (t *target) streamer(useTLS bool) func(context.Context) (net.Conn, error) {
	if useTLS && t.tunnel != nil {
		return t.tunnel
	}
	addr := t.tcp
	if useTLS {
		addr = t.tls
	}
	return func(ctx context.Context) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "tcp", addr)
	}
}

// settle lets the broker reach its resting memory: a garbage collection
// that returns freed memory to the system, for the Go broker; nothing for
// mosquitto, which frees as it goes.
func (t *target) settle(ctx context.Context) error {
	if t.stdin == nil {
		return nil
	}
	if _, err := io.WriteString(t.stdin, "gc\n"); err != nil {
		return err
	}
	done := make(chan error, 1)
	go func() {
		line, err := t.stdout.ReadString('\n')
		if err == nil && line != "ok\n" {
			err = fmt.Errorf("gc: %q", line)
		}
		done <- err
	}()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// rss is the broker process's resident memory in bytes.
func (t *target) rss() (int64, error) {
	pid := 0
	if t.mosq != nil {
		pid = t.mosq.Cmd.Process.Pid
	} else {
		pid = t.cmd.Process.Pid
	}
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, fmt.Errorf("resident memory (Linux /proc only): %w", err)
	}
	for line := range strings.Lines(string(data)) {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			f := strings.Fields(rest)
			kb, err := strconv.ParseInt(f[0], 10, 64)
			return kb << 10, err
		}
	}
	return 0, errors.New("no VmRSS in /proc status")
}

func (t *target) close() {
	if t.mosq != nil {
		t.mosq.Stop()
		return
	}
	if t.stdin != nil {
		t.stdin.Close() // the serve mode exits
	} else {
		t.cmd.Process.Signal(os.Interrupt)
	}
	done := make(chan struct{})
	go func() { t.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(3 * time.Second):
		t.cmd.Process.Kill()
		<-done
	}
}
