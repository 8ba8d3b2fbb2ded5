package pcapng

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"net/netip"
	"time"

	"github.com/mqtts-playground/playground/trace/recording"
)

// Write writes rec as a pcapng capture that Wireshark and tshark open, and
// decrypt, without any set-up. The capture holds one Ethernet interface and
// synthesized Ethernet/IPv4 (or IPv6)/TCP frames carrying the recording's
// wire chunks: App chunks never crossed the wire and are skipped. A TCP
// three-way handshake precedes the first chunk and a FIN/ACK exchange ends
// the connection; sequence and acknowledgement numbers and the IP and TCP
// checksums are correct. Chunks larger than 1460 bytes are split into
// several segments; PSH marks the last segment of each chunk. Packet times
// are the chunks' times in microseconds, or increasing synthetic times for
// chunks whose time is zero. A gap marker (a wire chunk with Gap > 0)
// becomes a hole in the TCP sequence numbers of its direction, as if Gap
// bytes had not been captured (of at most 2³¹-1 bytes between two segments,
// the most a sequence number jump can tell); Wireshark reports "previous
// segment not captured" there.
//
// A chunk with Dir == Send was sent by rec.Side: by the client when Side is
// Client, by the broker otherwise (as package trace decodes it). ClientAddr and
// ServerAddr give the IP addresses and ports; when empty or unparsable,
// 10.0.0.1:50000 stands for the client and 10.0.0.2 for the server, on port
// 8883 when the first wire byte is a TLS handshake record (0x16) and on
// port 1883 otherwise, so that Wireshark's TLS or MQTT dissector applies.
// When the server's port is not the standard one for what the wire carries,
// a section comment says which decode-as setting Wireshark needs ("decode
// TCP port N as TLS", tshark -d tcp.port==N,tls -d tls.port==N,mqtt).
//
// When rec.KeyLog is not empty, a Decryption Secrets Block (type
// 0x0000000A, secrets type 0x544c534b "TLSK") holding it precedes the first
// packet, so that Wireshark decrypts the TLS records. Write buffers its
// writes and returns the first error writing to w.
func Write(w io.Writer, rec recording.Recording) error {
	bw := bufio.NewWriter(w)
	pw := &writer{w: bw}
	ends := newEndpoints(rec)
	pw.block(blockSHB, shbBody(sectionComments(rec, ends)))
	pw.block(blockIDB, idbBody())
	if rec.KeyLog != "" {
		pw.block(blockDSB, dsbBody([]byte(rec.KeyLog)))
	}
	chunks := wireChunks(rec)
	t := &tcpWriter{w: pw, ends: ends, seq: [2]uint32{clientISN, serverISN}, at: firstTime(chunks).Add(-3 * time.Millisecond)}
	t.open()
	for _, ch := range chunks {
		if pw.err != nil {
			break
		}
		t.chunk(ch)
	}
	t.close()
	if pw.err == nil {
		if err := bw.Flush(); err != nil {
			pw.err = fmt.Errorf("trace: pcapng: write: %w", err)
		}
	}
	return pw.err
}

// sectionComments are the comments of the section header: which end
// recorded the connection, the decode-as setting Wireshark needs, what was
// not recorded.
func sectionComments(rec recording.Recording, ends *endpoints) []string {
	side := recording.Broker
	if rec.Side == recording.Client {
		side = recording.Client
	}
	comments := []string{sideNote + string(side) + ": its TCP payloads, in synthesized Ethernet, IP and TCP headers."}
	if hint := ends.decodeAsHint(); hint != "" {
		comments = append(comments, hint)
	}
	if rec.Dropped > 0 {
		comments = append(comments, fmt.Sprintf("%d bytes were not recorded (the recorder was full): the capture is incomplete.", rec.Dropped))
	}
	return comments
}

// wireChunk is a chunk that crossed the wire, or a gap in the wire.
type wireChunk struct {
	fromClient bool
	data       []byte
	gap        int64
	at         time.Time
}

// wireChunks returns the chunks of rec that crossed the wire, and its gap
// markers of the wire.
func wireChunks(rec recording.Recording) []wireChunk {
	var chunks []wireChunk
	for _, ch := range rec.Chunks {
		if ch.App || (len(ch.Data) == 0 && ch.Gap <= 0) {
			continue
		}
		chunks = append(chunks, wireChunk{fromClient: ch.FromClient(rec.Side), data: ch.Data, gap: ch.Gap, at: ch.Time})
	}
	return chunks
}

// firstTime is the time of the first chunk that has one and carries bytes,
// or synthBase.
func firstTime(chunks []wireChunk) time.Time {
	for _, ch := range chunks {
		if !ch.at.IsZero() && len(ch.data) > 0 {
			return ch.at
		}
	}
	return synthBase
}

// tcpWriter writes the synthesized TCP connection that carries the wire
// chunks. Index 0 of its arrays is the client's direction, 1 the server's.
type tcpWriter struct {
	w    *writer
	ends *endpoints
	seq  [2]uint32 // next sequence number of each direction
	hole [2]int64  // sequence skipped since the direction's last segment
	at   time.Time // time of the last packet
}

// next is the time of a packet that has none: a millisecond after the
// last one.
func (t *tcpWriter) next() time.Time {
	t.at = t.at.Add(time.Millisecond)
	return t.at
}

// segment writes one segment from the client, or from the server, acking
// all the other direction sent.
func (t *tcpWriter) segment(at time.Time, fromClient bool, flags byte, opts, payload []byte) {
	k := dirIndex(fromClient)
	t.w.packet(at, t.ends.frame(fromClient, flags, t.seq[k], t.seq[1-k], opts, payload))
}

func dirIndex(fromClient bool) int {
	if fromClient {
		return 0
	}
	return 1
}

// open writes the three-way handshake.
func (t *tcpWriter) open() {
	mssOpt := []byte{2, 4, mss >> 8, mss & 0xff}
	t.segment(t.at, true, tcpSYN, mssOpt, nil)
	t.seq[0]++
	t.segment(t.next(), false, tcpSYN|tcpACK, mssOpt, nil)
	t.seq[1]++
	t.segment(t.next(), true, tcpACK, nil, nil)
}

// chunk writes the segments of one chunk, PSH on the last, or, for a gap
// marker, skips sequence numbers.
func (t *tcpWriter) chunk(ch wireChunk) {
	k := dirIndex(ch.fromClient)
	if ch.gap > 0 {
		jump := min(ch.gap, maxSeqJump-t.hole[k])
		t.seq[k] += uint32(jump)
		t.hole[k] += jump
	}
	if len(ch.data) == 0 {
		return
	}
	t.hole[k] = 0
	at := ch.at
	if at.IsZero() {
		at = t.next()
	} else {
		t.at = at
	}
	for data := ch.data; len(data) > 0 && t.w.err == nil; {
		n := min(len(data), mss)
		flags := byte(tcpACK)
		if n == len(data) {
			flags |= tcpPSH
		}
		t.segment(at, ch.fromClient, flags, nil, data[:n])
		t.seq[k] += uint32(n)
		data = data[n:]
	}
}

// close writes the end of the connection: the client closes, the server
// acknowledges and closes too.
func (t *tcpWriter) close() {
	t.segment(t.next(), true, tcpFIN|tcpACK, nil, nil)
	t.seq[0]++
	t.segment(t.next(), false, tcpFIN|tcpACK, nil, nil)
	t.seq[1]++
	t.segment(t.next(), true, tcpACK, nil, nil)
}

// writer writes pcapng blocks (little-endian) and keeps the first error.
type writer struct {
	w   io.Writer
	err error
}

// block writes one block: type, total length, body padded to 4 bytes, and
// the total length again.
func (p *writer) block(typ uint32, body []byte) {
	if p.err != nil {
		return
	}
	if _, err := p.w.Write(encodeBlock(typ, body)); err != nil {
		p.err = fmt.Errorf("trace: pcapng: write: %w", err)
	}
}

// packet writes frame as an Enhanced Packet Block on interface 0.
func (p *writer) packet(at time.Time, frame []byte) {
	if p.err == nil {
		p.block(blockEPB, epbBody(at, frame))
	}
}

// endpoints holds the synthesized addresses of a connection.
type endpoints struct {
	client, server netip.AddrPort
	tls            bool   // the wire starts with a TLS handshake record
	ipID           uint16 // next IPv4 identification
}

func newEndpoints(rec recording.Recording) *endpoints {
	c := &endpoints{}
	for _, ch := range rec.Chunks {
		if !ch.App && len(ch.Data) > 0 {
			c.tls = ch.Data[0] == tlsHandshake
			break
		}
	}
	port := uint16(1883)
	if c.tls {
		port = 8883
	}
	parse := func(s string) (netip.AddrPort, bool) {
		ap, err := netip.ParseAddrPort(s)
		if err != nil || ap.Port() == 0 || !ap.Addr().IsValid() {
			return netip.AddrPort{}, false
		}
		// Zones cannot be written in an IPv6 header.
		return netip.AddrPortFrom(ap.Addr().Unmap().WithZone(""), ap.Port()), true
	}
	cl, okC := parse(rec.ClientAddr)
	sv, okS := parse(rec.ServerAddr)
	if okC && okS && (cl.Addr().Is4() != sv.Addr().Is4() || cl == sv) {
		okC, okS = false, false
	}
	v6 := (okC && cl.Addr().Is6()) || (okS && sv.Addr().Is6())
	defC, defS := netip.MustParseAddr("10.0.0.1"), netip.MustParseAddr("10.0.0.2")
	if v6 {
		defC, defS = netip.MustParseAddr("fd00::1"), netip.MustParseAddr("fd00::2")
	}
	if !okC {
		cl = netip.AddrPortFrom(defC, 50000)
		if okS && sv.Addr() == defC {
			cl = netip.AddrPortFrom(defS, 50000)
		}
	}
	if !okS {
		sv = netip.AddrPortFrom(defS, port)
		if sv == cl {
			sv = netip.AddrPortFrom(defC, port)
		}
	}
	c.client, c.server = cl, sv
	return c
}

// decodeAsHint says what Wireshark needs to dissect a server port that is
// not the standard one for what the wire carries; empty when none.
func (c *endpoints) decodeAsHint() string {
	p := c.server.Port()
	switch {
	case c.tls && p != 8883:
		return fmt.Sprintf("decode TCP port %d as TLS (tshark -d tcp.port==%d,tls -d tls.port==%d,mqtt)", p, p, p)
	case !c.tls && p != 1883:
		return fmt.Sprintf("decode TCP port %d as MQTT (tshark -d tcp.port==%d,mqtt)", p, p)
	}
	return ""
}

// frame builds one Ethernet frame carrying a TCP segment.
func (c *endpoints) frame(fromClient bool, flags byte, seq, ack uint32, opts, payload []byte) []byte {
	src, dst := c.client, c.server
	srcMAC, dstMAC := clientMAC, serverMAC
	if !fromClient {
		src, dst = dst, src
		srcMAC, dstMAC = dstMAC, srcMAC
	}
	seg := tcpSegment(src, dst, flags, seq, ack, opts, payload)
	b := make([]byte, 0, 14+40+len(seg))
	b = append(b, dstMAC[:]...)
	b = append(b, srcMAC[:]...)
	if src.Addr().Is4() {
		b = binary.BigEndian.AppendUint16(b, 0x0800)
		b = append(b, ipv4Header(src.Addr(), dst.Addr(), c.ipID, len(seg))...)
		c.ipID++
	} else {
		b = binary.BigEndian.AppendUint16(b, 0x86DD)
		b = append(b, ipv6Header(src.Addr(), dst.Addr(), len(seg))...)
	}
	return append(b, seg...)
}

// ipv4Header builds a 20-byte IPv4 header for a TCP payload of n bytes.
func ipv4Header(src, dst netip.Addr, id uint16, n int) []byte {
	h := make([]byte, 20)
	h[0] = 0x45 // version 4, 5 words
	binary.BigEndian.PutUint16(h[2:], uint16(20+n))
	binary.BigEndian.PutUint16(h[4:], id)
	binary.BigEndian.PutUint16(h[6:], 0x4000) // don't fragment
	h[8] = 64                                 // TTL
	h[9] = 6                                  // TCP
	s, d := src.As4(), dst.As4()
	copy(h[12:], s[:])
	copy(h[16:], d[:])
	binary.BigEndian.PutUint16(h[10:], checksum(0, h))
	return h
}

// ipv6Header builds a 40-byte IPv6 header for a TCP payload of n bytes.
func ipv6Header(src, dst netip.Addr, n int) []byte {
	h := make([]byte, 40)
	h[0] = 0x60
	binary.BigEndian.PutUint16(h[4:], uint16(n))
	h[6] = 6  // next header: TCP
	h[7] = 64 // hop limit
	s, d := src.As16(), dst.As16()
	copy(h[8:], s[:])
	copy(h[24:], d[:])
	return h
}

// tcpSegment builds a TCP header (with opts, a multiple of 4 bytes) and
// payload, with the checksum over the IPv4 or IPv6 pseudo-header.
func tcpSegment(src, dst netip.AddrPort, flags byte, seq, ack uint32, opts, payload []byte) []byte {
	hl := 20 + len(opts)
	b := make([]byte, hl, hl+len(payload))
	binary.BigEndian.PutUint16(b[0:], src.Port())
	binary.BigEndian.PutUint16(b[2:], dst.Port())
	binary.BigEndian.PutUint32(b[4:], seq)
	if flags&tcpACK != 0 {
		binary.BigEndian.PutUint32(b[8:], ack)
	}
	b[12] = byte(hl/4) << 4
	b[13] = flags
	binary.BigEndian.PutUint16(b[14:], 65535) // window
	copy(b[20:], opts)
	b = append(b, payload...)
	binary.BigEndian.PutUint16(b[16:], checksum(pseudoHeaderSum(src.Addr(), dst.Addr(), len(b)), b))
	return b
}

// pseudoHeaderSum is the ones' complement sum, not yet folded, of the
// pseudo-header of a TCP segment of n bytes (RFC 9293 §3.1, RFC 8200 §8.1).
func pseudoHeaderSum(src, dst netip.Addr, n int) uint32 {
	var b []byte
	if src.Is4() {
		s, d := src.As4(), dst.As4()
		b = append(append(b, s[:]...), d[:]...)
		b = append(b, 0, 6)
		b = binary.BigEndian.AppendUint16(b, uint16(n))
	} else {
		s, d := src.As16(), dst.As16()
		b = append(append(b, s[:]...), d[:]...)
		b = binary.BigEndian.AppendUint32(b, uint32(n))
		b = append(b, 0, 0, 0, 6)
	}
	return onesSum(0, b)
}

// onesSum adds b, as big-endian 16-bit words (an odd last byte padded with
// zero), to sum without folding the carries.
func onesSum(sum uint32, b []byte) uint32 {
	for len(b) >= 2 {
		sum += uint32(b[0])<<8 | uint32(b[1])
		b = b[2:]
		// Fold early so that sum never overflows, whatever the length.
		if sum > 0xffff0000 {
			sum = sum&0xffff + sum>>16
		}
	}
	if len(b) == 1 {
		sum += uint32(b[0]) << 8
	}
	return sum
}

// checksum is the Internet checksum (RFC 1071) of b, starting from the
// unfolded partial sum initial: the ones' complement of the ones'
// complement sum.
func checksum(initial uint32, b []byte) uint16 {
	sum := onesSum(initial, b)
	for sum>>16 != 0 {
		sum = sum&0xffff + sum>>16
	}
	return ^uint16(sum)
}
