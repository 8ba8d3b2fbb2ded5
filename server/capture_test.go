package main

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// tcpdumpSession captures a mosquitto_pub --cafile session to the mqtts
// listener with tcpdump on loopback and writes, beside the capture, the
// key log of that connection (the broker's secrets: a device's own
// SSLKEYLOGFILE holds the same lines). It returns the paths.
func tcpdumpSession(t *testing.T, app *App, clientID, topic, msg string) (pcap, keylog string) {
	t.Helper()
	bin := need(t, "tcpdump", "apt-get install tcpdump")
	dir := t.TempDir()
	pcap, keylog = filepath.Join(dir, "mqtt.pcap"), filepath.Join(dir, "sslkeylog.txt")
	port := app.listener(t, "mqtts").Addr
	port = port[strings.LastIndex(port, ":")+1:]
	// --immediate-mode: packets reach the file as they come, not when the
	// kernel's buffer block fills or times out (stopping would lose them).
	cmd := exec.Command(bin, "-i", "lo", "-n", "--immediate-mode", "-U", "-w", pcap, "tcp port "+port)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("tcpdump: %v", err)
	}
	// tcpdump says "listening on lo" once it captures.
	listening := make(chan string, 1)
	go func() {
		var said strings.Builder
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			said.WriteString(sc.Text() + "\n")
			if strings.Contains(sc.Text(), "listening on") {
				listening <- ""
			}
		}
		listening <- said.String()
	}()
	select {
	case said := <-listening:
		if said != "" {
			t.Fatalf("tcpdump stopped: %s (it needs root or the capture capability: setcap cap_net_raw,cap_net_admin=eip %s)", said, bin)
		}
	case <-time.After(10 * time.Second):
		cmd.Process.Kill()
		t.Fatal("tcpdump did not start capturing within 10 s")
	}
	mosquittoPub(t, app, topic, msg, "-i", clientID)
	rec, _ := app.broker.Recording(connID(t, app, clientID))
	if !strings.Contains(rec.KeyLog, "CLIENT_TRAFFIC_SECRET_0") {
		t.Fatalf("the broker logged no secrets for %s: %q", clientID, rec.KeyLog)
	}
	if err := os.WriteFile(keylog, []byte(rec.KeyLog), 0o600); err != nil {
		t.Fatal(err)
	}
	// Let the last packets (FIN, ACK) reach the file, then stop.
	time.Sleep(300 * time.Millisecond)
	cmd.Process.Signal(os.Interrupt)
	cmd.Wait()
	if fi, err := os.Stat(pcap); err != nil || fi.Size() < 1000 {
		t.Fatalf("tcpdump captured too little: %v, %v", fi, err)
	}
	return pcap, keylog
}

// TestBrowserReplayCapture: a tcpdump capture of a mosquitto_pub --cafile
// session opens on /replay with decrypted MQTT packets, with its key log
// beside it or embedded in a pcapng (editcap --inject-secrets, as
// Wireshark saves one); without secrets, or with a key log alone, the page
// says what is missing.
func TestBrowserReplayCapture(t *testing.T) {
	t.Parallel()
	app := startApp(t, testConfig(t), true)
	pcap, keylog := tcpdumpSession(t, app, "byo-capture", "x/byo/capture", "hello from tcpdump")
	withSecrets := filepath.Join(filepath.Dir(pcap), "mqtt-dsb.pcapng")
	editcap := need(t, "editcap", "apt-get install tshark")
	if out, err := exec.Command(editcap, "--inject-secrets", "tls,"+keylog, pcap, withSecrets).CombinedOutput(); err != nil {
		t.Fatalf("editcap: %v\n%s", err, out)
	}

	// A recording whose bytes are not base64: the wasm's decode fails (an
	// Error returned, thrown by the page's script), and the page says so.
	bad := filepath.Join(t.TempDir(), "bad.json")
	if err := os.WriteFile(bad, []byte(`{"side":"client","chunks":[{"dir":"send","data":"%%% not base64"}]}`), 0o600); err != nil {
		t.Fatal(err)
	}

	ctx := newBrowser(t)
	for _, tt := range []struct {
		name    string
		files   []string
		publish bool   // a decrypted PUBLISH of the topic is shown
		status  string // in the status line
		err     string // in the error line; "" when it is hidden
	}{
		{"tcpdump pcap and key log", []string{pcap, keylog}, true, "from mqtt.pcap, secrets from sslkeylog.txt", ""},
		{"pcapng with embedded secrets", []string{withSecrets}, true, "from mqtt-dsb.pcapng, secrets embedded", ""},
		{"pcap alone", []string{pcap}, false, "from mqtt.pcap", "mqtt.pcap holds no TLS secrets (no Decryption Secrets Block) and no key log was given"},
		{"key log alone", []string{keylog}, false, "Nothing to show", "a TLS key log alone shows nothing"},
		{"a recording that does not decode", []string{bad}, false, "", "Could not decode bad.json: decode: "},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if err := chromedp.Do(ctx, chromedp.Navigate("http://"+app.httpAddr+"/replay")); err != nil {
				t.Fatal(err)
			}
			waitJS(t, ctx, "the wasm client", `playground.ready.then(() => true)`)
			if err := chromedp.Do(ctx, chromedp.SetUploadFiles(`[data-testid="replay-file"]`, tt.files)); err != nil {
				t.Fatal(err)
			}
			waitJS(t, ctx, "the replay's status", `(() => { const s = document.querySelector('[data-testid="replay-status"]'); return !/Loading|Reading|Decoding|Give a session/.test(s.textContent); })()`)
			got := evalJS[map[string]any](t, ctx, `({
				status: document.querySelector('[data-testid="replay-status"]').textContent,
				error: (e => e.hidden ? "" : e.textContent)(document.querySelector('[data-testid="replay-error"]')),
				publish: [...document.querySelectorAll('[data-testid="trace-event"][data-type="PUBLISH"]')].map((e) => e.textContent).join(" | "),
				connect: document.querySelectorAll('[data-testid="trace-event"][data-type="CONNECT"]').length,
				types: [...document.querySelectorAll('[data-testid="trace-event"]')].map((e) => e.dataset.type).join(" "),
			})`)
			status, _ := got["status"].(string)
			errText, _ := got["error"].(string)
			publish, _ := got["publish"].(string)
			if !strings.Contains(status, tt.status) {
				t.Errorf("status %q, want %q", status, tt.status)
			}
			if tt.err == "" && errText != "" || !strings.Contains(errText, tt.err) {
				t.Errorf("error %q, want %q", errText, tt.err)
			}
			if tt.publish != strings.Contains(publish, "x/byo/capture") || tt.publish != (got["connect"] == float64(1)) {
				t.Errorf("decrypted PUBLISH rows %q and %v CONNECT; want them: %v; rows %v", publish, got["connect"], tt.publish, got["types"])
			}
		})
	}
}
