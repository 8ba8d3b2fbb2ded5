package main

import (
	"bufio"
	"context"
	"crypto"
	"encoding/json"
	"encoding/pem"
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

	cmd    *exec.Cmd
	stdin  io.WriteCloser // serve mode's commands; nil for mosquitto
	stdout *bufio.Reader
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
	cert, _, err := ca.ServerCertificate([]string{"localhost", "127.0.0.1"})
	if err != nil {
		return nil, err
	}
	var chain []byte
	for _, der := range cert.Certificate {
		chain = append(chain, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})...)
	}
	key, err := pki.KeyPEM(cert.PrivateKey.(crypto.Signer))
	if err != nil {
		return nil, err
	}
	p := &benchPKI{ca: ca, certFile: filepath.Join(dir, "broker.pem"), keyFile: filepath.Join(dir, "broker.key")}
	if err := os.WriteFile(p.certFile, chain, 0o600); err != nil {
		return nil, err
	}
	if err := os.WriteFile(p.keyFile, key, 0o600); err != nil {
		return nil, err
	}
	return p, nil
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

// findMosquitto returns the mosquitto broker's path, or "" when it is not
// installed (Debian puts it in /usr/sbin, often not in a user's PATH).
func findMosquitto(flagPath string) string {
	if flagPath != "" {
		return flagPath
	}
	if p, err := exec.LookPath("mosquitto"); err == nil {
		return p
	}
	if _, err := os.Stat("/usr/sbin/mosquitto"); err == nil {
		return "/usr/sbin/mosquitto"
	}
	return ""
}

func startMosquitto(path, dir string, p *benchPKI) (*target, error) {
	tcpPort, err := freePort()
	if err != nil {
		return nil, err
	}
	tlsPort, err := freePort()
	if err != nil {
		return nil, err
	}
	conf := filepath.Join(dir, "mosquitto.conf")
	if err := os.WriteFile(conf, fmt.Appendf(nil, mosquittoConf, tcpPort, tlsPort, p.certFile, p.keyFile), 0o600); err != nil {
		return nil, err
	}
	t := &target{key: "mosq", name: "mosquitto " + mosquittoVersion(path), cmd: exec.Command(path, "-c", conf),
		tcp: "127.0.0.1:" + tcpPort, tls: "127.0.0.1:" + tlsPort}
	t.cmd.Stderr = os.Stderr
	if err := t.cmd.Start(); err != nil {
		return nil, err
	}
	// Ready when both ports accept.
	deadline := time.Now().Add(10 * time.Second)
	for _, a := range []string{t.tcp, t.tls} {
		for {
			c, err := net.Dial("tcp", a)
			if err == nil {
				c.Close()
				break
			}
			if time.Now().After(deadline) {
				t.close()
				return nil, fmt.Errorf("mosquitto did not open %s: %w", a, err)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	return t, nil
}

func mosquittoVersion(path string) string {
	out, _ := exec.Command(path, "-h").Output()
	if f := strings.Fields(string(out)); len(f) >= 3 && f[1] == "version" {
		return f[2]
	}
	return ""
}

func freePort() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	return port, nil
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
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", t.cmd.Process.Pid))
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
