package trace

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/hex"
	"io"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mqtts-playground/playground/trace/pcapng"
)

// TestPCAPNGRoundTripTLS13 exports a TLS 1.3 session to pcapng and reads
// it back: the capture holds the wire and the key log, so it decodes to the
// same TLS events as the recording.
func TestPCAPNGRoundTripTLS13(t *testing.T) {
	cert, pool := testCert(t)
	client, server, _ := session(t,
		&tls.Config{RootCAs: pool, ServerName: "localhost", MinVersion: tls.VersionTLS13},
		&tls.Config{Certificates: []tls.Certificate{cert}})
	for _, rec := range []Recording{client, server} {
		t.Run(string(rec.Side), func(t *testing.T) {
			var buf bytes.Buffer
			if err := pcapng.Write(&buf, rec); err != nil {
				t.Fatal(err)
			}
			got, err := pcapng.Read(&buf)
			if err != nil {
				t.Fatal(err)
			}
			if got.Side != rec.Side || got.KeyLog != rec.KeyLog || rec.KeyLog == "" {
				t.Errorf("side %q key log %q, want %q and %q", got.Side, got.KeyLog, rec.Side, rec.KeyLog)
			}
			tlsKinds := func(rec Recording) []string {
				events := slices.DeleteFunc(Decode(rec), func(e Event) bool { return e.Layer != LayerTLS })
				requireClean(t, events)
				return kinds(events)
			}
			if g, w := tlsKinds(got), tlsKinds(rec); !slices.Equal(g, w) || len(w) < 10 {
				t.Errorf("decoded capture\n got %q\nwant %q", g, w)
			}
		})
	}
}

// Hand-made MQTT 3.1.1 packets for the tshark tests.
var (
	pcapConnect    = mqttPacket(0x10, []byte("\x00\x04MQTT\x04\x02\x00\x3c\x00\x0bpcap-client"))
	pcapConnack    = []byte{0x20, 0x02, 0x00, 0x00}
	pcapPublish    = mqttPacket(0x30, []byte("\x00\x06x/pcaphello pcapng"))
	pcapDisconnect = []byte{0xe0, 0x00}
)

// mqttPacket prefixes body with a fixed header (body shorter than 128 bytes).
func mqttPacket(first byte, body []byte) []byte {
	return append([]byte{first, byte(len(body))}, body...)
}

// mqttSession runs one MQTT connection over loopback TCP, in TLS unless
// scfg is nil, with both ends recorded: the client sends CONNECT, PUBLISH
// x/pcap "hello pcapng" and DISCONNECT, the broker CONNACK. With addrs the
// recorders note the real loopback addresses.
func mqttSession(t *testing.T, ccfg, scfg *tls.Config, addrs bool) (client, server Recording) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	srec, crec := NewRecorder(Broker, 0), NewRecorder(Client, 0)
	done := make(chan error, 1)
	go func() {
		done <- func() error {
			c, err := ln.Accept()
			if err != nil {
				return err
			}
			defer c.Close()
			if addrs {
				srec.SetAddrs(c.RemoteAddr().String(), c.LocalAddr().String())
			}
			conn := srec.Wire(c)
			if scfg != nil {
				cfg := scfg.Clone()
				cfg.KeyLogWriter = srec.KeyLogWriter()
				conn = srec.App(tls.Server(conn, cfg))
			}
			if _, err := io.ReadFull(conn, make([]byte, len(pcapConnect))); err != nil {
				return err
			}
			if _, err := conn.Write(pcapConnack); err != nil {
				return err
			}
			_, err = io.ReadFull(conn, make([]byte, len(pcapPublish)+len(pcapDisconnect)))
			return err
		}()
	}()
	raw, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	if addrs {
		crec.SetAddrs(raw.LocalAddr().String(), raw.RemoteAddr().String())
	}
	conn := crec.Wire(raw)
	if ccfg != nil {
		cfg := ccfg.Clone()
		cfg.KeyLogWriter = crec.KeyLogWriter()
		conn = crec.App(tls.Client(conn, cfg))
	}
	if _, err := conn.Write(pcapConnect); err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadFull(conn, make([]byte, len(pcapConnack))); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Write(pcapPublish); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Write(pcapDisconnect); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	conn.Close()
	return crec.Recording(), srec.Recording()
}

// tshark runs tshark with args on a clean profile and returns its output.
func tshark(t *testing.T, args ...string) string {
	t.Helper()
	path, err := exec.LookPath("tshark")
	if err != nil {
		t.Fatal("tshark is not installed: apt-get install tshark (.ci/run does this)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	home := t.TempDir()
	cmd := exec.CommandContext(ctx, path, args...)
	cmd.Env = append(os.Environ(), "HOME="+home, "XDG_CONFIG_HOME="+filepath.Join(home, ".config"))
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("tshark %s: %v\nstderr:\n%s", strings.Join(args, " "), err, stderr.String())
	}
	t.Logf("tshark %s:\n%s", strings.Join(args, " "), stdout.String())
	if stdout.Len() == 0 {
		t.Logf("tshark stderr:\n%s", stderr.String())
	}
	return stdout.String()
}

// writeCapture writes rec to a pcapng file in a temporary directory.
func writeCapture(t *testing.T, rec Recording) string {
	t.Helper()
	f := filepath.Join(t.TempDir(), string(rec.Side)+".pcapng")
	var buf bytes.Buffer
	if err := pcapng.Write(&buf, rec); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(f, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return f
}

// lines splits tshark's output into non-empty lines.
func lines(s string) []string {
	var out []string
	for l := range strings.SplitSeq(s, "\n") {
		if l = strings.TrimRight(l, "\r"); l != "" {
			out = append(out, l)
		}
	}
	return out
}

// checkTshark opens a capture of a TLS 1.3 MQTT session with tshark and
// checks that it decrypts with the key log inside and shows the PUBLISH.
// One tshark run lists every frame's handshake and MQTT fields (tshark
// takes a second or more to start, so each check does not get a run).
func checkTshark(t *testing.T, f string, decodeAs ...string) {
	t.Helper()
	args := append(append([]string{"-r", f}, decodeAs...), "-T", "fields", "-e", "tls.handshake.type", "-e", "mqtt.msgtype", "-e", "mqtt.topic", "-e", "mqtt.msg")
	out := tshark(t, args...)
	var found bool
	handshake := map[string]bool{}
	for _, l := range lines(out) {
		fs := strings.Split(l, "\t")
		if len(fs) != 4 {
			continue
		}
		// A frame of several handshake messages lists their types "2,8,11".
		for _, typ := range strings.Split(fs[0], ",") {
			handshake[typ] = true
		}
		// A segment holding PUBLISH and DISCONNECT shows types "3,14".
		if slices.Contains(strings.Split(fs[1], ","), "3") && fs[2] == "x/pcap" &&
			(fs[3] == "hello pcapng" || strings.EqualFold(strings.ReplaceAll(fs[3], ":", ""), hex.EncodeToString([]byte("hello pcapng")))) {
			found = true
		}
	}
	if !found {
		t.Errorf("no PUBLISH x/pcap \"hello pcapng\" in tshark's MQTT packets:\n%s", out)
	}
	for _, typ := range []string{"1", "8", "20"} { // ClientHello, EncryptedExtensions, Finished
		if !handshake[typ] {
			t.Errorf("tshark finds no handshake message of type %s", typ)
		}
	}
	checkTsharkTCP(t, append([]string{"-r", f}, decodeAs...)...)
}

// checkTsharkTCP asks tshark to verify the IP and TCP checksums and to
// report TCP analysis problems (lost segments, bad acknowledgements …).
func checkTsharkTCP(t *testing.T, args ...string) {
	t.Helper()
	args = append(args, "-o", "ip.check_checksum:TRUE", "-o", "tcp.check_checksum:TRUE",
		"-Y", "ip.checksum.status!=1 || tcp.checksum.status!=1 || tcp.analysis.flags || _ws.expert.severity>=warning",
		"-T", "fields", "-e", "frame.number", "-e", "_ws.expert.message")
	if out := tshark(t, args...); len(lines(out)) != 0 {
		t.Errorf("tshark finds bad checksums or TCP problems:\n%s", out)
	}
}

func TestPCAPNGTshark(t *testing.T) {
	cert, pool := testCert(t)
	ccfg := &tls.Config{RootCAs: pool, ServerName: "localhost", MinVersion: tls.VersionTLS13}
	scfg := &tls.Config{Certificates: []tls.Certificate{cert}}

	t.Run("default addresses", func(t *testing.T) {
		client, server := mqttSession(t, ccfg, scfg, false)
		for _, rec := range []Recording{client, server} {
			t.Run(string(rec.Side), func(t *testing.T) { checkTshark(t, writeCapture(t, rec)) })
		}
		// Without the Decryption Secrets Block tshark sees the ClientHello
		// but nothing encrypted: the block is what makes it decrypt.
		client.KeyLog = ""
		f := writeCapture(t, client)
		if out := tshark(t, "-r", f, "-Y", "tls.handshake.type==1", "-T", "fields", "-e", "frame.number"); len(lines(out)) != 1 {
			t.Errorf("no ClientHello without the key log")
		}
		if out := tshark(t, "-r", f, "-Y", "tls.handshake.type==8 || mqtt", "-T", "fields", "-e", "frame.number"); len(lines(out)) != 0 {
			t.Errorf("without the key log, tshark still decrypts frames %q", lines(out))
		}
	})

	t.Run("loopback addresses", func(t *testing.T) {
		client, server := mqttSession(t, ccfg, scfg, true)
		for _, rec := range []Recording{client, server} {
			t.Run(string(rec.Side), func(t *testing.T) {
				port := netip.MustParseAddrPort(rec.ServerAddr).Port()
				f := writeCapture(t, rec)
				b, err := os.ReadFile(f)
				if err != nil {
					t.Fatal(err)
				}
				if hint := "decode TCP port " + strconv.Itoa(int(port)) + " as TLS"; !bytes.Contains(b, []byte(hint)) {
					t.Errorf("no comment %q in the section header", hint)
				}
				p := strconv.Itoa(int(port))
				checkTshark(t, f, "-d", "tcp.port=="+p+",tls", "-d", "tls.port=="+p+",mqtt")
			})
		}
	})
}

// TestPCAPNGTsharkGap checks that Wireshark sees a recorder's gap as
// segments that were not captured.
func TestPCAPNGTsharkGap(t *testing.T) {
	rec := Recording{Side: Client, Chunks: []Chunk{
		{Dir: Send, Data: pcapConnect},
		{Dir: Recv, Data: pcapConnack},
		{Dir: Send, Data: []byte{}, Gap: 4000},
		{Dir: Send, Data: pcapPublish},
	}}
	f := writeCapture(t, rec)
	out := tshark(t, "-r", f, "-Y", "tcp.analysis.lost_segment", "-T", "fields", "-e", "tcp.seq", "-e", "tcp.len")
	// Relative sequence number 1 + CONNECT's 25 bytes + 4000; PUBLISH is 22.
	if want := "4026\t22"; strings.TrimSpace(out) != want {
		t.Errorf("tshark's lost segments: %q, want %q", out, want)
	}
}

func TestPCAPNGTsharkPlainMQTT(t *testing.T) {
	client, server := mqttSession(t, nil, nil, false)
	for _, rec := range []Recording{client, server} {
		t.Run(string(rec.Side), func(t *testing.T) {
			f := writeCapture(t, rec)
			out := tshark(t, "-r", f, "-Y", "mqtt", "-T", "fields", "-e", "tcp.dstport", "-e", "mqtt.msgtype", "-e", "mqtt.clientid", "-e", "mqtt.topic")
			// PUBLISH and DISCONNECT share a segment when the broker read
			// them at once.
			got := strings.Join(lines(out), "\n")
			want := "1883\t1\tpcap-client\t\n50000\t2\t\t\n1883\t3\t\tx/pcap\n1883\t14\t\t"
			if got != want && got != "1883\t1\tpcap-client\t\n50000\t2\t\t\n1883\t3,14\t\tx/pcap" {
				t.Errorf("tshark shows\n%s\nwant\n%s", got, want)
			}
			checkTsharkTCP(t, "-r", f)
		})
	}
}
