// Package serverproc runs the playground server as a subprocess for the
// load and soak commands (cmd/soak, cmd/classload): it builds the server,
// starts it on loopback ports, waits for its banner, and watches its
// resident memory and CPU time from /proc.
//
// It is for those commands only; the server's own tests start it in
// process.
package serverproc

import (
	"bufio"
	"errors"
	"fmt"
	"html"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// Server is a running server subprocess.
type Server struct {
	Cmd     *exec.Cmd
	Dir     string // the temporary folder: the binary, the data folder, the log
	Data    string // its --data
	LogFile string // its standard error
	Stdout  io.Reader
	exited  chan error
}

// FreePort returns a free loopback address ("127.0.0.1:port").
func FreePort() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// Build builds the module's ./server (from any folder inside the
// repository, e.g. a test's package folder) into a new temporary folder,
// which Stop removes.
func Build(prefix string) (*Server, error) {
	tmp, err := os.MkdirTemp("", prefix)
	if err != nil {
		return nil, err
	}
	bin := filepath.Join(tmp, "server")
	build := exec.Command("go", "build", "-o", bin, "github.com/mqtts-playground/playground/server")
	if out, err := build.CombinedOutput(); err != nil {
		os.RemoveAll(tmp)
		return nil, fmt.Errorf("go build of the server (run inside the repository): %v\n%s", err, out)
	}
	return &Server{Dir: tmp, Data: filepath.Join(tmp, "data"), LogFile: filepath.Join(tmp, "server.log"), Cmd: exec.Command(bin)}, nil
}

// Start starts the server with args (--data is added) and waits until its
// banner says it is ready, or limit passes.
func (s *Server) Start(limit time.Duration, args ...string) error {
	s.Cmd.Args = append(append(s.Cmd.Args, "--data", s.Data), args...)
	logFile, err := os.Create(s.LogFile)
	if err != nil {
		return err
	}
	stdout, err := s.Cmd.StdoutPipe()
	if err != nil {
		return err
	}
	s.Cmd.Stderr = logFile
	if err := s.Cmd.Start(); err != nil {
		return err
	}
	s.exited = make(chan error, 1)
	go func() { s.exited <- s.Cmd.Wait() }()
	banner, err := waitReady(stdout, s.exited, limit)
	s.Stdout = strings.NewReader(banner)
	if err != nil {
		log, _ := os.ReadFile(s.LogFile)
		return fmt.Errorf("%w\nserver log:\n%s", err, Tail(log, 40))
	}
	return nil
}

// StartOnFreePorts starts the server on n free loopback addresses, which
// args places among its flags. A port found free may be taken by another
// process before the server binds it ("address already in use"): then it
// tries again with new ones, three times at most. It returns the addresses.
func (s *Server) StartOnFreePorts(limit time.Duration, n int, args func(addrs []string) []string) ([]string, error) {
	var err error
	for try := range 3 {
		addrs := make([]string, n)
		for i := range addrs {
			if addrs[i], err = FreePort(); err != nil {
				return nil, err
			}
		}
		if try > 0 {
			s.Cmd = exec.Command(s.Cmd.Path)
		}
		if err = s.Start(limit, args(addrs)...); err == nil {
			return addrs, nil
		}
		if !strings.Contains(err.Error(), "address already in use") {
			return nil, err
		}
	}
	return nil, err
}

// Exited returns the server's exit error if it has exited.
func (s *Server) Exited() (error, bool) {
	select {
	case err := <-s.exited:
		return err, true
	default:
		return nil, false
	}
}

// Stop interrupts the server (kills it after ten seconds) and removes its
// folder.
func (s *Server) Stop() {
	if s.Cmd.Process != nil && s.exited != nil {
		s.Cmd.Process.Signal(os.Interrupt)
		select {
		case <-s.exited:
		case <-time.After(10 * time.Second):
			s.Cmd.Process.Kill()
		}
	}
	os.RemoveAll(s.Dir)
}

// Tail returns the last lines of b.
func Tail(b []byte, lines int) string {
	ls := strings.Split(strings.TrimSpace(string(b)), "\n")
	return strings.Join(ls[max(0, len(ls)-lines):], "\n")
}

// waitReady reads the server's standard output until its banner says it is
// ready, then the banner's end (the line naming the CA certificate), and
// returns what it read; the rest is discarded.
func waitReady(stdout io.Reader, exited <-chan error, limit time.Duration) (string, error) {
	ready := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		var b strings.Builder
		seen := false
		for sc.Scan() {
			b.WriteString(sc.Text() + "\n")
			if strings.Contains(sc.Text(), "is ready") {
				seen = true
			}
			if seen && strings.Contains(sc.Text(), "CA certificate") {
				break
			}
		}
		ready <- b.String()
		io.Copy(io.Discard, stdout)
	}()
	select {
	case banner := <-ready:
		if !strings.Contains(banner, "is ready") {
			return banner, errors.New("the server closed its output before it was ready")
		}
		return banner, nil
	case err := <-exited:
		return "", fmt.Errorf("the server exited before it was ready: %v", err)
	case <-time.After(limit):
		return "", fmt.Errorf("the server was not ready after %s", limit)
	}
}

// Memory samples a process's resident set every 100 ms and keeps the peak.
type Memory struct {
	pid  int
	peak atomic.Uint64
	done chan struct{}
}

// WatchMemory starts sampling pid.
func WatchMemory(pid int) *Memory {
	m := &Memory{pid: pid, done: make(chan struct{})}
	go func() {
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-m.done:
				return
			case <-t.C:
				m.Sample()
			}
		}
	}()
	return m
}

// Sample reads VmRSS (and VmHWM, the kernel's own peak) in bytes and
// returns the resident set now.
func (m *Memory) Sample() uint64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", m.pid))
	if err != nil {
		return 0
	}
	var rss uint64
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) >= 2 && (f[0] == "VmRSS:" || f[0] == "VmHWM:") {
			kb, _ := strconv.ParseUint(f[1], 10, 64)
			if f[0] == "VmRSS:" {
				rss = kb << 10
			}
			for {
				old := m.peak.Load()
				if kb<<10 <= old || m.peak.CompareAndSwap(old, kb<<10) {
					break
				}
			}
		}
	}
	return rss
}

// Stop ends the sampling and returns the peak in bytes.
func (m *Memory) Stop() uint64 {
	m.Sample()
	close(m.done)
	return m.peak.Load()
}

// CPUTime is the user and system CPU time pid has used so far (from
// /proc/PID/stat, in clock ticks of 1/100 s, as Linux counts them).
func CPUTime(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name (field 2) may hold spaces: count from its ')'.
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(f) < 13 {
		return 0, errors.New("serverproc: /proc/PID/stat too short")
	}
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(utime+stime) * 10 * time.Millisecond, nil
}

// LoadAverage is the machine's load average (/proc/loadavg's first three
// fields), for the report: other work on the machine skews the figures.
func LoadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

// Settle waits until the server has finished the start-up work it does in
// the background — the brotli form of the wasm client when it had no
// cached copy (tens of seconds of CPU) — and then until it uses less than
// a fifth of a core for a second, or limit passes. web is its web
// server's base URL ("http://127.0.0.1:PORT"). It returns how long it
// waited.
func (s *Server) Settle(web string, limit time.Duration) time.Duration {
	start := time.Now()
	for time.Since(start) < limit && !brotliReady(web) {
		time.Sleep(time.Second)
	}
	for time.Since(start) < limit {
		c0, err := CPUTime(s.Cmd.Process.Pid)
		if err != nil {
			break
		}
		time.Sleep(time.Second)
		c1, err := CPUTime(s.Cmd.Process.Pid)
		if err != nil || c1-c0 < 200*time.Millisecond {
			break
		}
	}
	return time.Since(start)
}

var wasmRef = regexp.MustCompile(`data-wasm="([^"]+)"`)

// brotliReady reports whether the server sends the wasm client its pages
// name (data-wasm) brotli compressed yet; true when no page names one.
func brotliReady(web string) bool {
	c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableCompression: true}}
	var page string
	for _, path := range []string{"/join", "/"} {
		resp, err := c.Get(web + path)
		if err != nil {
			return false
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if m := wasmRef.FindSubmatch(b); m != nil {
			page = html.UnescapeString(string(m[1]))
			break
		}
	}
	if page == "" {
		return true
	}
	req, _ := http.NewRequest("HEAD", web+page, nil)
	req.Header.Set("Accept-Encoding", "br, gzip")
	resp, err := c.Do(req)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.Header.Get("Content-Encoding") == "br"
}

// RunDelay is the time pid's threads have spent runnable but waiting for
// a CPU so far (the second field of /proc/PID/task/*/schedstat, summed;
// threads that have ended are not counted). On a shared machine it says
// how much of a latency is the queue for a CPU rather than the server's
// own work.
func RunDelay(pid int) time.Duration {
	tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/schedstat", pid))
	var total int64
	for _, t := range tasks {
		b, err := os.ReadFile(t)
		if err != nil {
			continue
		}
		if f := strings.Fields(string(b)); len(f) >= 2 {
			ns, _ := strconv.ParseInt(f[1], 10, 64)
			total += ns
		}
	}
	return time.Duration(total)
}
