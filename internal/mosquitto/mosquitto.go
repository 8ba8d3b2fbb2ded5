// Package mosquitto runs Eclipse mosquitto, the broker the playground's
// --upstream test reaches through the tunnel and its benchmark compares
// with. It finds the program, starts it on a configuration file and waits
// until it listens; it does not write configurations (each caller knows
// what it needs).
package mosquitto

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	"time"
)

// InstallHint says how to get mosquitto.
const InstallHint = "install mosquitto (apt-get install mosquitto; scripts/install-test-deps.sh does)"

// Path returns where the mosquitto program is, or "" when it is not
// installed (Debian puts it in /usr/sbin, often not in a user's PATH).
func Path() string {
	if p, err := exec.LookPath("mosquitto"); err == nil {
		return p
	}
	if _, err := os.Stat("/usr/sbin/mosquitto"); err == nil {
		return "/usr/sbin/mosquitto"
	}
	return ""
}

// Version returns the version the program at path reports ("2.0.11").
func Version(path string) string {
	out, _ := exec.Command(path, "-h").Output()
	if f := strings.Fields(string(out)); len(f) >= 3 && f[1] == "version" {
		return f[2]
	}
	return ""
}

// FreePort returns a loopback TCP port that was free a moment ago.
func FreePort() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	return port, nil
}

// Process is a running mosquitto.
type Process struct {
	Cmd *exec.Cmd
	out strings.Builder
}

// Start runs the program at path on the configuration file conf and
// returns once every address in addrs accepts connections (at most 10 s).
func Start(path, conf string, addrs ...string) (*Process, error) {
	p := &Process{Cmd: exec.Command(path, "-c", conf)}
	p.Cmd.Stdout, p.Cmd.Stderr = &p.out, &p.out
	if err := p.Cmd.Start(); err != nil {
		return nil, fmt.Errorf("mosquitto: %w", err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for _, a := range addrs {
		for {
			c, err := net.Dial("tcp", a)
			if err == nil {
				c.Close()
				break
			}
			if time.Now().After(deadline) {
				p.Stop()
				return nil, fmt.Errorf("mosquitto did not listen on %s: %w\n%s", a, err, p.out.String())
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	return p, nil
}

// Stop ends the process: asked to stop, then killed after 3 s.
func (p *Process) Stop() {
	p.Cmd.Process.Signal(os.Interrupt)
	done := make(chan struct{})
	go func() { p.Cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(3 * time.Second):
		p.Cmd.Process.Kill()
		<-done
	}
}
