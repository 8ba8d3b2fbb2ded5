package pcapng

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mqtts-playground/playground/trace/recording"
)

// MQTT 3.1.1 packets: a CONNECT of client "p", a CONNACK, a PUBLISH of
// "hi" to t.
var (
	connectPkt = []byte{0x10, 0x0d, 0, 4, 'M', 'Q', 'T', 'T', 4, 2, 0, 60, 0, 1, 'p'}
	connackPkt = []byte{0x20, 2, 0, 0}
	publishPkt = []byte{0x30, 5, 0, 1, 't', 'h', 'i'}
)

func mustHex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.Join(strings.Fields(s), ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestBlocks checks the byte encoding of each block type against
// hand-assembled bytes: little-endian, bodies and options padded to 4 bytes,
// the total length repeated at the end.
func TestBlocks(t *testing.T) {
	at := time.Unix(0x12345678, 0x9abcd*1000) // 0x12345678*1e6+0x9abcd µs
	us := uint64(at.UnixMicro())
	tsHigh, tsLow := make([]byte, 4), make([]byte, 4)
	binary.LittleEndian.PutUint32(tsHigh, uint32(us>>32))
	binary.LittleEndian.PutUint32(tsLow, uint32(us))
	for _, tc := range []struct {
		name string
		got  []byte
		want string
	}{{
		name: "SHB",
		got:  encodeBlock(blockSHB, shbBody([]string{"hi"})),
		want: "0a0d0d0a 68000000" + // type, total length 104
			"4d3c2b1a 0100 0000 ffffffffffffffff" + // magic, version 1.0, section length -1
			"0100 0200 68690000" + // opt_comment "hi", padded
			"0400 3900 " + hex.EncodeToString([]byte(userAppl)) + "000000" + // shb_userappl, 57 bytes + 3 padding
			"0000 0000" + // opt_endofopt
			"68000000",
	}, {
		name: "IDB",
		got:  encodeBlock(blockIDB, idbBody()),
		want: "01000000 34000000" +
			"0100 0000 00000400" + // Ethernet, reserved, snaplen 262144
			"0200 1000 " + hex.EncodeToString([]byte("mqtts-playground")) + // if_name, 16 bytes
			"0900 0100 06000000" + // if_tsresol 6: microseconds
			"0000 0000" +
			"34000000",
	}, {
		name: "EPB",
		got:  encodeBlock(blockEPB, epbBody(at, []byte{1, 2, 3, 4, 5})),
		want: "06000000 28000000" +
			"00000000" + hex.EncodeToString(tsHigh) + hex.EncodeToString(tsLow) +
			"05000000 05000000" + // captured and original length
			"0102030405000000" +
			"28000000",
	}, {
		name: "EPB aligned",
		got:  encodeBlock(blockEPB, epbBody(time.Unix(0, 0), []byte{1, 2, 3, 4})),
		want: "06000000 24000000 00000000 00000000 00000000 04000000 04000000 01020304 24000000",
	}, {
		name: "DSB",
		got:  encodeBlock(blockDSB, dsbBody([]byte("abcdef"))),
		want: "0a000000 1c000000" +
			"4b534c54 06000000" + // "TLSK" as a little-endian number, secrets length
			"616263646566 0000" +
			"1c000000",
	}, {
		name: "empty",
		got:  encodeBlock(0x99, nil),
		want: "99000000 0c000000 0c000000",
	}} {
		if want := mustHex(t, tc.want); !bytes.Equal(tc.got, want) {
			t.Errorf("%s:\n got %x\nwant %x", tc.name, tc.got, want)
		}
		if len(tc.got)%4 != 0 {
			t.Errorf("%s: %d bytes, not a multiple of 4", tc.name, len(tc.got))
		}
	}
	if us>>32 == 0 {
		t.Fatal("the EPB test time should need the high timestamp word")
	}
}

func TestChecksums(t *testing.T) {
	// RFC 1071 §3: the words 0001 f203 f4f5 f6f7 sum to ddf2.
	if got := checksum(0, mustHex(t, "0001f203f4f5f6f7")); got != ^uint16(0xddf2) {
		t.Errorf("RFC 1071 example: %#04x, want %#04x", got, ^uint16(0xddf2))
	}
	// An odd length pads the last byte with zero.
	if got, want := checksum(0, []byte{0x12, 0x34, 0x56}), ^uint16(0x1234+0x5600); got != want {
		t.Errorf("odd length: %#04x, want %#04x", got, want)
	}
	// Carries wrap around: ffff + 0001 = 0001 after folding.
	if got := checksum(0, mustHex(t, "ffff0001")); got != 0xfffe {
		t.Errorf("carry: %#04x, want 0xfffe", got)
	}
	// The IPv4 header of the Wikipedia article "IPv4 header checksum":
	// 192.168.0.1 → 192.168.0.199, UDP, checksum b861.
	hdr := mustHex(t, "4500 0073 0000 4000 4011 0000 c0a8 0001 c0a8 00c7")
	if got := checksum(0, hdr); got != 0xb861 {
		t.Errorf("IPv4 header checksum %#04x, want 0xb861", got)
	}
	binary.BigEndian.PutUint16(hdr[10:], 0xb861)
	if got := checksum(0, hdr); got != 0 {
		t.Errorf("a header with its checksum sums to %#04x, want 0", got)
	}
	// ipv4Header fills in the same kind of checksum.
	h := ipv4Header(netip.MustParseAddr("10.0.0.1"), netip.MustParseAddr("10.0.0.2"), 7, 20)
	if want := mustHex(t, "4500 0028 0007 4000 4006 26c7 0a00 0001 0a00 0002"); !bytes.Equal(h, want) {
		t.Errorf("IPv4 header\n got %x\nwant %x", h, want)
	}
	// A TCP segment 10.0.0.1:50000 → 10.0.0.2:8883 carrying "hi", whose
	// checksum 0x1d59 Wireshark verifies as correct (tcp.checksum.status
	// Good, checked when this test was written).
	seg := tcpSegment(netip.MustParseAddrPort("10.0.0.1:50000"), netip.MustParseAddrPort("10.0.0.2:8883"),
		tcpACK|tcpPSH, 0x10000001, 0x20000001, nil, []byte("hi"))
	if want := mustHex(t, "c350 22b3 10000001 20000001 5018 ffff 1d59 0000 6869"); !bytes.Equal(seg, want) {
		t.Errorf("TCP segment\n got %x\nwant %x", seg, want)
	}
	// The same over IPv6: the pseudo-header differs.
	seg6 := tcpSegment(netip.MustParseAddrPort("[fd00::1]:50000"), netip.MustParseAddrPort("[fd00::2]:8883"),
		tcpACK|tcpPSH, 0x10000001, 0x20000001, nil, []byte("hi"))
	if got := binary.BigEndian.Uint16(seg6[16:]); got != 0x3757 {
		t.Errorf("TCP over IPv6 checksum %#04x, want 0x3757 (Wireshark agrees)", got)
	}
	// Summing a segment with its pseudo-header gives zero when the checksum
	// is right.
	for _, s := range []struct {
		seg      []byte
		src, dst string
	}{{seg, "10.0.0.1", "10.0.0.2"}, {seg6, "fd00::1", "fd00::2"}} {
		ph := pseudoHeaderSum(netip.MustParseAddr(s.src), netip.MustParseAddr(s.dst), len(s.seg))
		if got := checksum(ph, s.seg); got != 0 {
			t.Errorf("%s: segment with pseudo-header sums to %#04x, want 0", s.src, got)
		}
	}
}

// wireBytes concatenates a recording's wire bytes per direction.
func wireBytes(rec recording.Recording) (send, recv []byte) {
	for _, c := range rec.Chunks {
		switch {
		case c.App:
		case c.Dir == recording.Send:
			send = append(send, c.Data...)
		default:
			recv = append(recv, c.Data...)
		}
	}
	return send, recv
}

// wireOnly returns a recording's non-empty wire chunks, with times cut to
// microseconds as pcapng keeps them.
func wireOnly(rec recording.Recording) []recording.Chunk {
	var out []recording.Chunk
	for _, c := range rec.Chunks {
		if !c.App && len(c.Data) > 0 {
			c.Time = time.UnixMicro(c.Time.UnixMicro())
			out = append(out, c)
		}
	}
	return out
}

func roundTrip(t *testing.T, rec recording.Recording) recording.Recording {
	t.Helper()
	var buf bytes.Buffer
	if err := Write(&buf, rec); err != nil {
		t.Fatal(err)
	}
	got, err := Read(&buf)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func sameChunks(t *testing.T, got, want []recording.Chunk) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d chunks, want %d", len(got), len(want))
	}
	for i := range got {
		g, w := got[i], want[i]
		if g.Dir != w.Dir || g.App || !bytes.Equal(g.Data, w.Data) || !g.Time.Equal(w.Time) || g.Gap != w.Gap {
			t.Errorf("chunk %d: got %s app=%v %d bytes gap %d at %v, want %s %d bytes gap %d at %v",
				i, g.Dir, g.App, len(g.Data), g.Gap, g.Time, w.Dir, len(w.Data), w.Gap, w.Time)
		}
	}
}

func TestRoundTripDetails(t *testing.T) {
	big := make([]byte, 3*mss+7)
	for i := range big {
		big[i] = byte(i * 7)
	}
	t0 := time.Date(2024, 5, 6, 7, 8, 9, 123456789, time.UTC)
	rec := recording.Recording{
		Side:       recording.Broker,
		ClientAddr: "[2001:db8::1]:41000",
		ServerAddr: "[2001:db8::2]:8883",
		KeyLog:     "CLIENT_RANDOM 00 11\n",
		Chunks: []recording.Chunk{
			{Time: t0, Dir: recording.Recv, Data: []byte{0x16, 3, 1}},
			{Time: t0.Add(time.Millisecond), Dir: recording.Recv, Data: []byte{0, 1}},
			{Time: t0.Add(2 * time.Millisecond), Dir: recording.Recv, App: true, Data: []byte("not on the wire")},
			{Time: t0.Add(2 * time.Millisecond), Dir: recording.Recv, Data: []byte{}, Gap: 1000},
			{Time: t0.Add(2 * time.Millisecond), Dir: recording.Send, App: true, Data: []byte{}, Gap: 50}, // not on the wire
			{Time: t0.Add(3 * time.Millisecond), Dir: recording.Send, Data: big},
			{Time: t0.Add(4 * time.Millisecond), Dir: recording.Send, Data: nil},
			{Time: t0.Add(5 * time.Millisecond), Dir: recording.Recv, Data: []byte("x")},
			{Time: t0.Add(6 * time.Millisecond), Dir: recording.Send, Data: []byte{}, Gap: 77},
		},
		Dropped: 1000 + 50 + 77,
	}
	got := roundTrip(t, rec)
	if got.Side != recording.Broker || got.KeyLog != rec.KeyLog {
		t.Errorf("side %q key log %q", got.Side, got.KeyLog)
	}
	if got.ClientAddr != rec.ClientAddr || got.ServerAddr != rec.ServerAddr {
		t.Errorf("addresses %s → %s, want %s → %s", got.ClientAddr, got.ServerAddr, rec.ClientAddr, rec.ServerAddr)
	}
	// A gap comes back where the next segment of its direction shows the
	// hole in the sequence numbers, with that segment's time: the trailing
	// one at the broker's FIN, 2 ms after the last chunk.
	us := func(t time.Time) time.Time { return time.UnixMicro(t.UnixMicro()) }
	want := []recording.Chunk{
		{Time: us(t0), Dir: recording.Recv, Data: []byte{0x16, 3, 1}},
		{Time: us(t0.Add(time.Millisecond)), Dir: recording.Recv, Data: []byte{0, 1}},
		{Time: us(t0.Add(3 * time.Millisecond)), Dir: recording.Send, Data: big},
		{Time: us(t0.Add(5 * time.Millisecond)), Dir: recording.Recv, Data: []byte{}, Gap: 1000},
		{Time: us(t0.Add(5 * time.Millisecond)), Dir: recording.Recv, Data: []byte("x")},
		{Time: us(t0.Add(7 * time.Millisecond)), Dir: recording.Send, Data: []byte{}, Gap: 77},
	}
	sameChunks(t, got.Chunks, want)
	if got.Dropped != 1077 {
		t.Errorf("dropped %d, want 1077 (the wire's gaps)", got.Dropped)
	}

	// The big chunk travels in MSS-sized segments, PSH on the last only.
	var buf bytes.Buffer
	if err := Write(&buf, rec); err != nil {
		t.Fatal(err)
	}
	var sizes []int
	var psh []bool
	forEachSegment(t, buf.Bytes(), func(seg []byte) {
		hl := int(seg[12]>>4) * 4
		if n := len(seg) - hl; n > 0 {
			sizes = append(sizes, n)
			psh = append(psh, seg[13]&tcpPSH != 0)
		}
	})
	if want := []int{3, 2, mss, mss, mss, 7, 1}; !slices.Equal(sizes, want) {
		t.Errorf("segment sizes %v, want %v", sizes, want)
	}
	if want := []bool{true, true, false, false, false, true, true}; !slices.Equal(psh, want) {
		t.Errorf("PSH flags %v, want %v", psh, want)
	}
}

// forEachSegment calls f with the TCP segment of each packet of a capture
// Write wrote (little-endian, Ethernet).
func forEachSegment(t *testing.T, b []byte, f func(seg []byte)) {
	t.Helper()
	for off := 0; off < len(b); {
		typ, n := binary.LittleEndian.Uint32(b[off:]), int(binary.LittleEndian.Uint32(b[off+4:]))
		if typ == blockEPB {
			frame := b[off+28 : off+28+int(binary.LittleEndian.Uint32(b[off+20:]))]
			ip := frame[14:]
			if ip[0]>>4 == 4 {
				f(ip[int(ip[0]&15)*4:])
			} else {
				f(ip[40:])
			}
		}
		off += n
	}
}

func TestSynthesized(t *testing.T) {
	// No times, no addresses, plain MQTT: synthetic increasing times and
	// the MQTT port.
	rec := recording.Recording{Side: recording.Client, ClientAddr: "nonsense", Chunks: []recording.Chunk{
		{Dir: recording.Send, Data: connectPkt},
		{Dir: recording.Recv, Data: connackPkt},
		{Dir: recording.Send, Data: publishPkt},
	}}
	got := roundTrip(t, rec)
	if got.ClientAddr != "10.0.0.1:50000" || got.ServerAddr != "10.0.0.2:1883" {
		t.Errorf("addresses %s → %s, want 10.0.0.1:50000 → 10.0.0.2:1883", got.ClientAddr, got.ServerAddr)
	}
	if len(got.Chunks) != 3 {
		t.Fatalf("%d chunks", len(got.Chunks))
	}
	for i, c := range got.Chunks {
		if c.Time.IsZero() || c.Time.Unix() <= 0 {
			t.Errorf("chunk %d: time %v, want a synthetic one", i, c.Time)
		}
		if i > 0 && !c.Time.After(got.Chunks[i-1].Time) {
			t.Errorf("chunk %d: time %v not after %v", i, c.Time, got.Chunks[i-1].Time)
		}
		if c.Dir != rec.Chunks[i].Dir || !bytes.Equal(c.Data, rec.Chunks[i].Data) {
			t.Errorf("chunk %d differs", i)
		}
	}

	// Addresses: which are kept, and what replaces the others.
	for _, tc := range []struct {
		client, server string
		tls            bool
		wantC, wantS   string
		hint           string
	}{
		{"", "", true, "10.0.0.1:50000", "10.0.0.2:8883", ""},
		{"127.0.0.1:40000", "127.0.0.1:8883", true, "127.0.0.1:40000", "127.0.0.1:8883", ""},
		{"127.0.0.1:40000", "127.0.0.1:9000", true, "127.0.0.1:40000", "127.0.0.1:9000", "decode TCP port 9000 as TLS"},
		{"127.0.0.1:40000", "127.0.0.1:9000", false, "127.0.0.1:40000", "127.0.0.1:9000", "decode TCP port 9000 as MQTT"},
		{"192.0.2.7:1234", "", false, "192.0.2.7:1234", "10.0.0.2:1883", ""},
		{"", "10.0.0.1:1883", false, "10.0.0.2:50000", "10.0.0.1:1883", ""},
		{"[::1]:40000", "", true, "[::1]:40000", "[fd00::2]:8883", ""},
		{"[::ffff:10.1.2.3]:5", "10.1.2.4:8883", true, "10.1.2.3:5", "10.1.2.4:8883", ""},
		{"[fe80::1%eth0]:5", "[fe80::2%eth0]:8883", true, "[fe80::1]:5", "[fe80::2]:8883", ""},
		{"[::1]:40000", "127.0.0.1:8883", true, "10.0.0.1:50000", "10.0.0.2:8883", ""},  // mixed families
		{"10.9.9.9:8883", "10.9.9.9:8883", true, "10.0.0.1:50000", "10.0.0.2:8883", ""}, // the same end twice
		{"10.9.9.9:0", "10.9.9.8:8883", true, "10.0.0.1:50000", "10.9.9.8:8883", ""},
		{"10.9.9.9:1", "10.9.9.8:1883", true, "10.9.9.9:1", "10.9.9.8:1883", "decode TCP port 1883 as TLS"},
	} {
		first := byte(0x10)
		if tc.tls {
			first = 0x16
		}
		rec := recording.Recording{Side: recording.Client, ClientAddr: tc.client, ServerAddr: tc.server, Chunks: []recording.Chunk{{Dir: recording.Send, Data: []byte{first, 0}}}}
		c := newEndpoints(rec)
		if c.client.String() != tc.wantC || c.server.String() != tc.wantS {
			t.Errorf("%q → %q: %s → %s, want %s → %s", tc.client, tc.server, c.client, c.server, tc.wantC, tc.wantS)
		}
		if hint := c.decodeAsHint(); !strings.HasPrefix(hint, tc.hint) || (tc.hint == "") != (hint == "") {
			t.Errorf("%q → %q: hint %q, want %q", tc.client, tc.server, hint, tc.hint)
		}
		var buf bytes.Buffer
		if err := Write(&buf, rec); err != nil {
			t.Fatal(err)
		}
		if tc.hint != "" && !bytes.Contains(buf.Bytes(), []byte(tc.hint)) {
			t.Errorf("%q → %q: the section header has no comment %q", tc.client, tc.server, tc.hint)
		}
	}
}

// TestLayout checks the order of the blocks and the TCP bookkeeping:
// handshake, data with running sequence numbers, FIN/ACK.
func TestLayout(t *testing.T) {
	rec := recording.Recording{Side: recording.Client, KeyLog: "k\n", Chunks: []recording.Chunk{
		{Dir: recording.Send, Data: []byte{0x16, 1, 2}},
		{Dir: recording.Recv, Data: []byte{4, 5}},
	}}
	var buf bytes.Buffer
	if err := Write(&buf, rec); err != nil {
		t.Fatal(err)
	}
	b := buf.Bytes()
	var types []uint32
	for off := 0; off < len(b); off += int(binary.LittleEndian.Uint32(b[off+4:])) {
		types = append(types, binary.LittleEndian.Uint32(b[off:]))
	}
	want := []uint32{blockSHB, blockIDB, blockDSB}
	for range 3 + 2 + 3 {
		want = append(want, blockEPB)
	}
	if !slices.Equal(types, want) {
		t.Fatalf("block types %#x, want %#x", types, want)
	}
	type seg struct {
		flags    byte
		seq, ack uint32
		n        int
	}
	var segs []seg
	forEachSegment(t, b, func(s []byte) {
		segs = append(segs, seg{s[13], binary.BigEndian.Uint32(s[4:]), binary.BigEndian.Uint32(s[8:]), len(s) - int(s[12]>>4)*4})
	})
	c, s := uint32(clientISN), uint32(serverISN)
	wantSegs := []seg{
		{tcpSYN, c, 0, 0},
		{tcpSYN | tcpACK, s, c + 1, 0},
		{tcpACK, c + 1, s + 1, 0},
		{tcpACK | tcpPSH, c + 1, s + 1, 3},
		{tcpACK | tcpPSH, s + 1, c + 4, 2},
		{tcpFIN | tcpACK, c + 4, s + 3, 0},
		{tcpFIN | tcpACK, s + 3, c + 5, 0},
		{tcpACK, c + 5, s + 4, 0},
	}
	if !slices.Equal(segs, wantSegs) {
		t.Errorf("segments\n got %+v\nwant %+v", segs, wantSegs)
	}
}

// capture wraps frames in a pcapng section with one Ethernet interface,
// one packet per millisecond.
func capture(frames ...[]byte) []byte {
	var buf bytes.Buffer
	pw := &writer{w: &buf}
	pw.block(blockSHB, shbBody(nil))
	pw.block(blockIDB, idbBody())
	for i, f := range frames {
		pw.packet(time.UnixMilli(int64(1000+i)), f)
	}
	return buf.Bytes()
}

// TestReadSequence checks that Read follows the sequence
// numbers: repeated bytes are dropped, missing ones make a gap.
func TestReadSequence(t *testing.T) {
	c := &endpoints{client: netip.MustParseAddrPort("192.0.2.1:1000"), server: netip.MustParseAddrPort("192.0.2.2:1883")}
	in := capture(
		c.frame(true, tcpSYN, 100, 0, nil, nil),
		c.frame(false, tcpSYN|tcpACK, 500, 101, nil, nil),
		c.frame(true, tcpACK, 101, 501, nil, []byte("abc")),
		c.frame(true, tcpACK|tcpPSH, 101, 501, nil, []byte("abc")),   // a retransmission
		c.frame(true, tcpACK|tcpPSH, 102, 501, nil, []byte("bcdef")), // overlaps by 2
		c.frame(false, tcpACK|tcpPSH, 501, 107, nil, []byte("xy")),
		c.frame(true, tcpACK, 107, 503, nil, nil),                // a pure ACK
		c.frame(true, tcpACK|tcpPSH, 110, 503, nil, []byte("z")), // 3 bytes missing
		c.frame(true, tcpACK|tcpPSH, 106, 503, nil, []byte("e")), // old news
		c.frame(false, tcpFIN|tcpACK, 503, 111, nil, nil),
		c.frame(true, tcpFIN|tcpACK, 120, 504, nil, nil), // 9 more missing
	)
	got, err := Read(bytes.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	ms := func(n int64) time.Time { return time.UnixMilli(1000 + n) }
	want := []recording.Chunk{
		{Time: ms(2), Dir: recording.Send, Data: []byte("abc")}, // the time of the last new bytes
		{Time: ms(4), Dir: recording.Send, Data: []byte("def")},
		{Time: ms(5), Dir: recording.Recv, Data: []byte("xy")},
		{Time: ms(7), Dir: recording.Send, Data: []byte{}, Gap: 3},
		{Time: ms(7), Dir: recording.Send, Data: []byte("z")},
		{Time: ms(10), Dir: recording.Send, Data: []byte{}, Gap: 9},
	}
	sameChunks(t, got.Chunks, want)
	if got.Side != recording.Client || got.Dropped != 12 || got.ClientAddr != "192.0.2.1:1000" || got.ServerAddr != "192.0.2.2:1883" {
		t.Errorf("side %s dropped %d addresses %s → %s", got.Side, got.Dropped, got.ClientAddr, got.ServerAddr)
	}

	// Packets of another connection, or not TCP, are skipped.
	other := &endpoints{client: netip.MustParseAddrPort("192.0.2.1:1001"), server: c.server}
	udp := c.frame(true, tcpACK|tcpPSH, 1, 1, nil, []byte("udp"))
	udp[14+9] = 17
	arp := append(make([]byte, 12), 0x08, 0x06, 1, 2, 3)
	got, err = Read(bytes.NewReader(capture(
		c.frame(true, tcpACK|tcpPSH, 1, 1, nil, []byte("one")),
		other.frame(true, tcpACK|tcpPSH, 4, 1, nil, []byte("other")),
		udp, arp,
		c.frame(true, tcpACK|tcpPSH, 4, 1, nil, []byte("two")),
	)))
	if err != nil {
		t.Fatal(err)
	}
	sameChunks(t, got.Chunks, []recording.Chunk{{Time: ms(0), Dir: recording.Send, Data: []byte("one")}, {Time: ms(4), Dir: recording.Send, Data: []byte("two")}})
}

// TestReadBigEndian reads a section written in big-endian byte order,
// with nanosecond timestamps and blocks Read skips.
func TestReadBigEndian(t *testing.T) {
	be := binary.BigEndian
	block := func(typ uint32, body []byte) []byte {
		n := uint32(12 + pad4(len(body)))
		b := be.AppendUint32(nil, typ)
		b = be.AppendUint32(b, n)
		b = append(b, body...)
		b = append(b, make([]byte, pad4(len(body))-len(body))...)
		return be.AppendUint32(b, n)
	}
	shb := be.AppendUint32(nil, byteOrderMagic)
	shb = append(shb, 0, 1, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff)
	comment := sideNote + "broker"
	shb = be.AppendUint16(shb, optComment)
	shb = be.AppendUint16(shb, uint16(len(comment)))
	shb = append(shb, comment...)
	shb = append(shb, make([]byte, pad4(len(comment))-len(comment))...)
	idb := []byte{0, 1, 0, 0, 0, 0, 0xff, 0xff, 0, 9, 0, 1, 9, 0, 0, 0} // Ethernet, if_tsresol 9
	frame := (&endpoints{client: netip.MustParseAddrPort("10.1.1.1:1000"), server: netip.MustParseAddrPort("10.1.1.2:1883")}).
		frame(false, tcpACK|tcpPSH, 1, 1, nil, connackPkt)
	var ns int64 = 1_700_000_000_123_456_789
	epb := be.AppendUint32(nil, 0)
	epb = be.AppendUint32(epb, uint32(uint64(ns)>>32))
	epb = be.AppendUint32(epb, uint32(uint64(ns)))
	epb = be.AppendUint32(epb, uint32(len(frame)))
	epb = be.AppendUint32(epb, uint32(len(frame)))
	epb = append(epb, frame...)
	var in []byte
	in = append(in, block(blockSHB, shb)...)
	in = append(in, block(0x0BAD, []byte("unknown block"))...)
	in = append(in, block(blockIDB, idb)...)
	in = append(in, block(blockDSB, append([]byte{0, 0, 0, 1, 0, 0, 0, 1}, 'z'))...) // not TLSK: skipped
	in = append(in, block(blockEPB, epb)...)
	got, err := Read(bytes.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	if got.Side != recording.Broker || got.KeyLog != "" || len(got.Chunks) != 1 {
		t.Fatalf("got %+v", got)
	}
	// The first packet comes from the server, but without SYN nothing says
	// so: its sender is taken for the client.
	if c := got.Chunks[0]; c.Dir != recording.Recv || !bytes.Equal(c.Data, connackPkt) || c.Time.UnixNano() != ns {
		t.Errorf("chunk %s %x at %d", c.Dir, c.Data, c.Time.UnixNano())
	}
	if got.ClientAddr != "10.1.1.2:1883" {
		t.Errorf("client %s", got.ClientAddr)
	}
}

func TestReadErrors(t *testing.T) {
	var good bytes.Buffer
	if err := Write(&good, recording.Recording{Side: recording.Client, KeyLog: "x", Chunks: []recording.Chunk{{Dir: recording.Send, Data: connectPkt}}}); err != nil {
		t.Fatal(err)
	}
	g := good.Bytes()
	shbLen := int(binary.LittleEndian.Uint32(g[4:]))
	idbLen := int(binary.LittleEndian.Uint32(g[shbLen+4:]))
	dsbOff := shbLen + idbLen
	epbOff := dsbOff + int(binary.LittleEndian.Uint32(g[dsbOff+4:]))
	edit := func(f func(b []byte) []byte) []byte { return f(bytes.Clone(g)) }
	put := func(b []byte, off int, v uint32) []byte { binary.LittleEndian.PutUint32(b[off:], v); return b }
	for _, tc := range []struct {
		name string
		in   []byte
		want string
	}{
		{"empty", nil, "offset 0"},
		{"not pcapng", []byte("GET / HTTP/1.1\r\n\r\n"), "block at offset 0: not a pcapng section header"},
		{"truncated header", g[:10], "block at offset 0: 10 bytes left"},
		{"bad magic", edit(func(b []byte) []byte { return put(b, 8, 0x01020304) }), "block at offset 0: section header with unknown byte-order magic"},
		{"length past end", g[:shbLen+idbLen-4], "block at offset " + itoa(shbLen) + ": total length"},
		{"odd length", edit(func(b []byte) []byte { return put(b, shbLen+4, uint32(idbLen-2)) }), "block at offset " + itoa(shbLen) + ": total length"},
		{"huge length", edit(func(b []byte) []byte { return put(b, shbLen+4, 0xfffffffc) }), "block at offset " + itoa(shbLen) + ": total length 4294967292"},
		{"short length", edit(func(b []byte) []byte { return put(b, shbLen+4, 8) }), "block at offset " + itoa(shbLen) + ": total length 8"},
		{"trailer", edit(func(b []byte) []byte { return put(b, shbLen+idbLen-4, 8) }), "block at offset " + itoa(shbLen) + ": trailing total length 8"},
		{"version", edit(func(b []byte) []byte { b[12] = 2; return b }), "block at offset 0: pcapng major version 2"},
		{"option length", edit(func(b []byte) []byte { b[shbLen+8+8+2] = 0xff; return b }), "block at offset " + itoa(shbLen) + ": option 2 at offset " + itoa(shbLen+16)},
		{"secrets length", edit(func(b []byte) []byte { return put(b, dsbOff+12, 1000) }), "block at offset " + itoa(dsbOff) + ": secrets length 1000"},
		{"interface", edit(func(b []byte) []byte { return put(b, epbOff+8, 3) }), "block at offset " + itoa(epbOff) + ": packet on interface 3"},
		{"captured length", edit(func(b []byte) []byte { return put(b, epbOff+20, 0xffffffff) }), "block at offset " + itoa(epbOff) + ": captured length 4294967295"},
		{"short frame", edit(func(b []byte) []byte { return put(b, epbOff+20, 10) }), "block at offset " + itoa(epbOff) + ": Ethernet frame of 10 bytes"},
		{"ip length", edit(func(b []byte) []byte { b[epbOff+28+14+2] = 0xff; return b }), "block at offset " + itoa(epbOff) + ": IPv4 header length"},
		{"tcp offset", edit(func(b []byte) []byte { b[epbOff+28+14+20+12] = 0x10; return b }), "block at offset " + itoa(epbOff) + ": TCP header length 4"},
		{"tsresol", edit(func(b []byte) []byte {
			i := bytes.Index(b, []byte{9, 0, 1, 0, 6})
			b[i+4] = 20
			return b
		}), "block at offset " + itoa(shbLen) + ": if_tsresol 0x14"},
	} {
		_, err := Read(bytes.NewReader(tc.in))
		if err == nil || !strings.HasPrefix(err.Error(), "trace: pcapng: ") || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one containing %q", tc.name, err, tc.want)
		}
	}
	// A section with no packets is not an error.
	rec, err := Read(bytes.NewReader(g[:shbLen]))
	if err != nil || len(rec.Chunks) != 0 || rec.ClientAddr != "" {
		t.Errorf("section header only: %+v, %v", rec, err)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

type failWriter struct{ n int }

func (w *failWriter) Write(p []byte) (int, error) {
	if w.n < len(p) {
		return 0, errors.New("disk full")
	}
	w.n -= len(p)
	return len(p), nil
}

func TestWriteError(t *testing.T) {
	rec := recording.Recording{Side: recording.Client, Chunks: []recording.Chunk{{Dir: recording.Send, Data: make([]byte, 100_000)}}}
	for _, n := range []int{0, 100, 5000, 50_000} {
		err := Write(&failWriter{n: n}, rec)
		if err == nil || !strings.HasPrefix(err.Error(), "trace: pcapng: write: ") || !strings.Contains(err.Error(), "disk full") {
			t.Errorf("writer failing after %d bytes: error %v", n, err)
		}
	}
	var buf bytes.Buffer
	if err := Write(&buf, rec); err != nil || buf.Len() < 100_000 {
		t.Errorf("%d bytes, %v", buf.Len(), err)
	}
}
