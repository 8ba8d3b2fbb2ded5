// Package pcapng writes a recording as a pcapng capture that Wireshark and
// tshark open, and decrypt, without any set-up, and reads such captures
// back: [Write] and [Read] are a pair, so a recording survives a round trip.
//
// It synthesizes the Ethernet, IP and TCP headers a recording lacks; it
// does not capture from the network and reads of pcapng only what a round
// trip and its tests need (one TCP connection on an Ethernet interface).
package pcapng

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/bits"
	"net/netip"
	"strings"
	"time"

	"github.com/mqtts-playground/playground/trace/recording"
)

// pcapng block types (draft-ietf-opsawg-pcapng).
const (
	blockSHB = 0x0A0D0D0A // Section Header Block
	blockIDB = 0x00000001 // Interface Description Block
	blockEPB = 0x00000006 // Enhanced Packet Block
	blockDSB = 0x0000000A // Decryption Secrets Block

	byteOrderMagic   = 0x1A2B3C4D
	secretsTLSKeyLog = 0x544c534b // "TLSK": an NSS key log in a DSB

	optEnd      = 0 // opt_endofopt
	optComment  = 1 // opt_comment
	optUserAppl = 4 // shb_userappl
	optIfName   = 2 // if_name
	optTSResol  = 9 // if_tsresol
	linkEther   = 1 // LINKTYPE_ETHERNET
	snapLen     = 262144
	pcapMSS     = 1460 // largest TCP payload of one synthesized segment
	pcapUserApp = "MQTTS Playground (github.com/mqtts-playground/playground)"
	// pcapSideNote starts the section comment that says which end recorded
	// the connection; Read reads the side back from it.
	pcapSideNote = "MQTTS Playground recording made at the "
	// tlsHandshake is the content type of a TLS handshake record (RFC 8446
	// §5.1): a wire that starts with it carries TLS.
	tlsHandshake = 22
)

// TCP flags.
const (
	tcpFIN = 0x01
	tcpSYN = 0x02
	tcpPSH = 0x08
	tcpACK = 0x10
)

// Made-up, locally administered MAC addresses of the two ends, and the
// initial sequence numbers of their synthesized TCP streams.
var (
	pcapClientMAC = [6]byte{0x02, 0x00, 0x00, 0x00, 0x00, 0x01}
	pcapServerMAC = [6]byte{0x02, 0x00, 0x00, 0x00, 0x00, 0x02}
)

const (
	pcapClientISN = 0x10000000
	pcapServerISN = 0x20000000
	// maxSeqJump is the largest hole in a TCP sequence that reads as one:
	// sequence numbers compare modulo 2³².
	maxSeqJump = 1<<31 - 1
)

// pcapSynthBase is the time of the first packet when the recording has no
// times at all.
var pcapSynthBase = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

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
	pw := &pcapWriter{w: bw}
	c := newPcapConn(rec)

	side := recording.Broker
	if rec.Side == recording.Client {
		side = recording.Client
	}
	comments := []string{pcapSideNote + string(side) + ": its TCP payloads, in synthesized Ethernet, IP and TCP headers."}
	if hint := c.decodeAsHint(); hint != "" {
		comments = append(comments, hint)
	}
	if rec.Dropped > 0 {
		comments = append(comments, fmt.Sprintf("%d bytes were not recorded (the recorder was full): the capture is incomplete.", rec.Dropped))
	}
	pw.block(blockSHB, shbBody(comments))
	pw.block(blockIDB, idbBody())
	if rec.KeyLog != "" {
		pw.block(blockDSB, dsbBody([]byte(rec.KeyLog)))
	}

	// The wire chunks, and when each was seen.
	type wireChunk struct {
		fromClient bool
		data       []byte
		gap        int64
		at         time.Time
	}
	var chunks []wireChunk
	for _, ch := range rec.Chunks {
		if ch.App || (len(ch.Data) == 0 && ch.Gap <= 0) {
			continue
		}
		chunks = append(chunks, wireChunk{fromClient: (ch.Dir == recording.Send) == (side == recording.Client), data: ch.Data, gap: ch.Gap, at: ch.Time})
	}
	base := pcapSynthBase
	for _, ch := range chunks {
		if !ch.at.IsZero() && len(ch.data) > 0 {
			base = ch.at
			break
		}
	}
	at := base.Add(-3 * time.Millisecond)
	next := func() time.Time { at = at.Add(time.Millisecond); return at }

	// The three-way handshake.
	seqC, seqS := uint32(pcapClientISN), uint32(pcapServerISN)
	mssOpt := []byte{2, 4, pcapMSS >> 8, pcapMSS & 0xff}
	pw.packet(at, c.frame(true, tcpSYN, seqC, 0, mssOpt, nil))
	seqC++
	pw.packet(next(), c.frame(false, tcpSYN|tcpACK, seqS, seqC, mssOpt, nil))
	seqS++
	pw.packet(next(), c.frame(true, tcpACK, seqC, seqS, nil, nil))

	var hole [2]int64 // sequence skipped since the last segment: client, server
	for _, ch := range chunks {
		seq, ack, h := &seqC, seqS, &hole[0]
		if !ch.fromClient {
			seq, ack, h = &seqS, seqC, &hole[1]
		}
		if ch.gap > 0 {
			jump := min(ch.gap, maxSeqJump-*h)
			*seq += uint32(jump)
			*h += jump
		}
		if len(ch.data) == 0 {
			continue
		}
		*h = 0
		t := ch.at
		if t.IsZero() {
			t = next()
		} else {
			at = t
		}
		for data := ch.data; len(data) > 0 && pw.err == nil; {
			n := min(len(data), pcapMSS)
			flags := byte(tcpACK)
			if n == len(data) {
				flags |= tcpPSH
			}
			pw.packet(t, c.frame(ch.fromClient, flags, *seq, ack, nil, data[:n]))
			*seq += uint32(n)
			data = data[n:]
		}
		if pw.err != nil {
			break
		}
	}

	// The client closes; the server acknowledges and closes too.
	pw.packet(next(), c.frame(true, tcpFIN|tcpACK, seqC, seqS, nil, nil))
	seqC++
	pw.packet(next(), c.frame(false, tcpFIN|tcpACK, seqS, seqC, nil, nil))
	seqS++
	pw.packet(next(), c.frame(true, tcpACK, seqC, seqS, nil, nil))

	if pw.err == nil {
		if err := bw.Flush(); err != nil {
			pw.err = fmt.Errorf("trace: pcapng: write: %w", err)
		}
	}
	return pw.err
}

// pcapWriter writes pcapng blocks (little-endian) and keeps the first error.
type pcapWriter struct {
	w   io.Writer
	err error
}

// block writes one block: type, total length, body padded to 4 bytes, and
// the total length again.
func (p *pcapWriter) block(typ uint32, body []byte) {
	if p.err != nil {
		return
	}
	if _, err := p.w.Write(encodeBlock(typ, body)); err != nil {
		p.err = fmt.Errorf("trace: pcapng: write: %w", err)
	}
}

// packet writes frame as an Enhanced Packet Block on interface 0.
func (p *pcapWriter) packet(at time.Time, frame []byte) {
	if p.err == nil {
		p.block(blockEPB, epbBody(at, frame))
	}
}

// pad4 rounds n up to a multiple of 4.
func pad4(n int) int { return (n + 3) &^ 3 }

func encodeBlock(typ uint32, body []byte) []byte {
	total := 12 + pad4(len(body))
	b := make([]byte, 0, total)
	b = binary.LittleEndian.AppendUint32(b, typ)
	b = binary.LittleEndian.AppendUint32(b, uint32(total))
	b = append(b, body...)
	b = append(b, make([]byte, pad4(len(body))-len(body))...)
	return binary.LittleEndian.AppendUint32(b, uint32(total))
}

// appendOption appends one option: code, length, value padded to 4 bytes.
func appendOption(b []byte, code uint16, value []byte) []byte {
	b = binary.LittleEndian.AppendUint16(b, code)
	b = binary.LittleEndian.AppendUint16(b, uint16(len(value)))
	b = append(b, value...)
	return append(b, make([]byte, pad4(len(value))-len(value))...)
}

// endOptions appends opt_endofopt.
func endOptions(b []byte) []byte { return appendOption(b, optEnd, nil) }

func shbBody(comments []string) []byte {
	b := binary.LittleEndian.AppendUint32(nil, byteOrderMagic)
	b = binary.LittleEndian.AppendUint16(b, 1) // major version
	b = binary.LittleEndian.AppendUint16(b, 0) // minor version
	b = binary.LittleEndian.AppendUint64(b, ^uint64(0))
	for _, c := range comments {
		b = appendOption(b, optComment, []byte(truncOption(c)))
	}
	b = appendOption(b, optUserAppl, []byte(pcapUserApp))
	return endOptions(b)
}

// truncOption cuts s to fit an option's 16-bit length.
func truncOption(s string) string {
	if len(s) > 0xffff {
		return s[:0xffff]
	}
	return s
}

func idbBody() []byte {
	b := binary.LittleEndian.AppendUint16(nil, linkEther)
	b = binary.LittleEndian.AppendUint16(b, 0) // reserved
	b = binary.LittleEndian.AppendUint32(b, snapLen)
	b = appendOption(b, optIfName, []byte("mqtts-playground"))
	b = appendOption(b, optTSResol, []byte{6}) // microseconds
	return endOptions(b)
}

func epbBody(at time.Time, frame []byte) []byte {
	us := uint64(max(at.UnixMicro(), 0))
	b := binary.LittleEndian.AppendUint32(nil, 0) // interface 0
	b = binary.LittleEndian.AppendUint32(b, uint32(us>>32))
	b = binary.LittleEndian.AppendUint32(b, uint32(us))
	b = binary.LittleEndian.AppendUint32(b, uint32(len(frame)))
	b = binary.LittleEndian.AppendUint32(b, uint32(len(frame)))
	b = append(b, frame...)
	return append(b, make([]byte, pad4(len(frame))-len(frame))...)
}

func dsbBody(secrets []byte) []byte {
	b := binary.LittleEndian.AppendUint32(nil, secretsTLSKeyLog)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(secrets)))
	b = append(b, secrets...)
	return append(b, make([]byte, pad4(len(secrets))-len(secrets))...)
}

// pcapConn holds the synthesized addresses of a connection.
type pcapConn struct {
	client, server netip.AddrPort
	tls            bool   // the wire starts with a TLS handshake record
	ipID           uint16 // next IPv4 identification
}

func newPcapConn(rec recording.Recording) *pcapConn {
	c := &pcapConn{}
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
func (c *pcapConn) decodeAsHint() string {
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
func (c *pcapConn) frame(fromClient bool, flags byte, seq, ack uint32, opts, payload []byte) []byte {
	src, dst := c.client, c.server
	srcMAC, dstMAC := pcapClientMAC, pcapServerMAC
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

// Read reads a capture back: what [Write] writes, and enough of
// pcapng in general for round trips and tests. It reads Section Header,
// Interface Description, Enhanced Packet and Decryption Secrets Blocks, in
// either byte order, and skips other block types. From the packets of the
// first TCP connection on an Ethernet interface it returns the TCP
// payloads, in order, as wire chunks: consecutive segments in one
// direction join into one chunk until one with PSH set. Bytes a segment
// repeats (retransmissions) are dropped, and a hole in a direction's
// sequence numbers becomes a gap marker (a chunk with Gap set, counted in
// Dropped; its Next is nil), so gap markers survive a round trip through
// Write. Each chunk has the
// time of its last segment and its direction from the point of view of the
// recording side, which is read from the section comment Write writes
// (Client when there is none). The client is the end that sent the first
// SYN (without ACK), or else the sender of the first packet. ClientAddr and
// ServerAddr are the connection's addresses and KeyLog the concatenated
// TLS key logs of the Decryption Secrets Blocks.
//
// Malformed input returns an error that names the offset of the offending
// block; Read never panics and allocates no more than the size of the
// input on the word of a length field. Segments that arrive out of order
// are not put back in order: they read as a gap, then a repeat.
func Read(r io.Reader) (recording.Recording, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return recording.Recording{}, fmt.Errorf("trace: pcapng: read: %w", err)
	}
	p := &pcapReader{data: data, side: recording.Client}
	if err := p.read(); err != nil {
		return recording.Recording{}, err
	}
	return p.result(), nil
}

// pcapIface is an interface described in the current section.
type pcapIface struct {
	link  uint16
	units uint64 // timestamp units per second
}

// pcapReader parses a whole capture held in memory.
type pcapReader struct {
	data   []byte
	bo     binary.ByteOrder // of the current section
	ifaces []pcapIface
	side   recording.Side
	keylog strings.Builder

	// The connection: set by its first packet.
	haveConn       bool
	client, server netip.AddrPort
	chunks         []recording.Chunk
	pending        *recording.Chunk
	dropped        int64
	// The next sequence number expected from the server [0] and the
	// client [1], once known.
	next     [2]uint32
	haveNext [2]bool
}

func (p *pcapReader) errorf(off int, format string, args ...any) error {
	return fmt.Errorf("trace: pcapng: block at offset %d: %s", off, fmt.Sprintf(format, args...))
}

func (p *pcapReader) read() error {
	data := p.data
	if len(data) == 0 {
		return errors.New("trace: pcapng: empty input: no section header block at offset 0")
	}
	for off := 0; off < len(data); {
		if len(data)-off < 12 {
			return p.errorf(off, "%d bytes left, fewer than a block header and trailer", len(data)-off)
		}
		typ := binary.LittleEndian.Uint32(data[off:]) // SHB's type reads the same both ways
		if typ == blockSHB {
			switch binary.LittleEndian.Uint32(data[off+8:]) {
			case byteOrderMagic:
				p.bo = binary.LittleEndian
			case 0x4D3C2B1A:
				p.bo = binary.BigEndian
			default:
				return p.errorf(off, "section header with unknown byte-order magic %#08x", binary.LittleEndian.Uint32(data[off+8:]))
			}
			p.ifaces = nil
		} else if p.bo == nil {
			return p.errorf(off, "not a pcapng section header (type %#08x)", typ)
		} else {
			typ = p.bo.Uint32(data[off:])
		}
		n := uint64(p.bo.Uint32(data[off+4:]))
		if n < 12 || n%4 != 0 || n > uint64(len(data)-off) {
			return p.errorf(off, "total length %d is not a multiple of 4 between 12 and the %d bytes left", n, len(data)-off)
		}
		end := off + int(n)
		if trail := uint64(p.bo.Uint32(data[end-4:])); trail != n {
			return p.errorf(off, "trailing total length %d differs from the leading %d", trail, n)
		}
		body := data[off+8 : end-4]
		var err error
		switch typ {
		case blockSHB:
			err = p.shb(off, body)
		case blockIDB:
			err = p.idb(off, body)
		case blockEPB:
			err = p.epb(off, body)
		case blockDSB:
			err = p.dsb(off, body)
		}
		if err != nil {
			return err
		}
		off = end
	}
	return nil
}

// options splits the options that follow a block's fixed fields: body
// starts at offset at of the block that starts at off.
func (p *pcapReader) options(off, at int, body []byte, each func(code uint16, value []byte) error) error {
	for len(body) > 0 {
		if len(body) < 4 {
			return p.errorf(off, "option at offset %d: %d bytes, fewer than an option header", at, len(body))
		}
		code, n := p.bo.Uint16(body), int(p.bo.Uint16(body[2:]))
		if code == optEnd {
			return nil
		}
		if pad4(n) > len(body)-4 {
			return p.errorf(off, "option %d at offset %d: length %d exceeds the %d bytes left", code, at, n, len(body)-4)
		}
		if err := each(code, body[4:4+n]); err != nil {
			return err
		}
		at += 4 + pad4(n)
		body = body[4+pad4(n):]
	}
	return nil
}

func (p *pcapReader) shb(off int, body []byte) error {
	if len(body) < 16 {
		return p.errorf(off, "section header body of %d bytes, fewer than 16", len(body))
	}
	if major := p.bo.Uint16(body[4:]); major != 1 {
		return p.errorf(off, "pcapng major version %d, want 1", major)
	}
	return p.options(off, off+8+16, body[16:], func(code uint16, v []byte) error {
		if code == optComment {
			if rest, ok := strings.CutPrefix(string(v), pcapSideNote); ok {
				switch {
				case strings.HasPrefix(rest, string(recording.Client)):
					p.side = recording.Client
				case strings.HasPrefix(rest, string(recording.Broker)):
					p.side = recording.Broker
				}
			}
		}
		return nil
	})
}

func (p *pcapReader) idb(off int, body []byte) error {
	if len(body) < 8 {
		return p.errorf(off, "interface description body of %d bytes, fewer than 8", len(body))
	}
	iface := pcapIface{link: p.bo.Uint16(body), units: 1e6}
	err := p.options(off, off+8+8, body[8:], func(code uint16, v []byte) error {
		if code != optTSResol {
			return nil
		}
		if len(v) != 1 {
			return p.errorf(off, "if_tsresol of %d bytes, want 1", len(v))
		}
		e := uint64(v[0] & 0x7f)
		switch {
		case v[0]&0x80 == 0 && e <= 19:
			iface.units = 1
			for range e {
				iface.units *= 10
			}
		case v[0]&0x80 != 0 && e <= 63:
			iface.units = 1 << e
		default:
			return p.errorf(off, "if_tsresol %#02x is out of range", v[0])
		}
		return nil
	})
	if err != nil {
		return err
	}
	p.ifaces = append(p.ifaces, iface)
	return nil
}

func (p *pcapReader) dsb(off int, body []byte) error {
	if len(body) < 8 {
		return p.errorf(off, "decryption secrets body of %d bytes, fewer than 8", len(body))
	}
	typ, n := p.bo.Uint32(body), uint64(p.bo.Uint32(body[4:]))
	if n > uint64(len(body)-8) {
		return p.errorf(off, "secrets length %d exceeds the %d bytes of the block", n, len(body)-8)
	}
	if typ == secretsTLSKeyLog {
		p.keylog.Write(body[8 : 8+n])
	}
	return nil
}

func (p *pcapReader) epb(off int, body []byte) error {
	if len(body) < 20 {
		return p.errorf(off, "enhanced packet body of %d bytes, fewer than 20", len(body))
	}
	id := uint64(p.bo.Uint32(body))
	if id >= uint64(len(p.ifaces)) {
		return p.errorf(off, "packet on interface %d, but %d interfaces are described", id, len(p.ifaces))
	}
	iface := p.ifaces[id]
	ts := uint64(p.bo.Uint32(body[4:]))<<32 | uint64(p.bo.Uint32(body[8:]))
	n := uint64(p.bo.Uint32(body[12:]))
	if n > uint64(len(body)-20) {
		return p.errorf(off, "captured length %d exceeds the %d bytes of the block", n, len(body)-20)
	}
	if iface.link != linkEther {
		return nil
	}
	// The fraction of a second, in nanoseconds: frac < units, so the
	// 128-bit product's high word is below units and Div64 cannot panic.
	hi, lo := bits.Mul64(ts%iface.units, 1e9)
	nsec, _ := bits.Div64(hi, lo, iface.units)
	at := time.Unix(int64(ts/iface.units), int64(nsec))
	return p.frame(off, at, body[20:20+n])
}

// frame takes the TCP payload out of an Ethernet frame. Frames that carry
// no TCP, or TCP of another connection, are skipped.
func (p *pcapReader) frame(off int, at time.Time, f []byte) error {
	if len(f) < 14 {
		return p.errorf(off, "Ethernet frame of %d bytes, fewer than 14", len(f))
	}
	etype, f := binary.BigEndian.Uint16(f[12:]), f[14:]
	for etype == 0x8100 || etype == 0x88A8 { // VLAN tags
		if len(f) < 4 {
			return p.errorf(off, "truncated VLAN tag")
		}
		etype, f = binary.BigEndian.Uint16(f[2:]), f[4:]
	}
	var src, dst netip.Addr
	var seg []byte
	switch etype {
	case 0x0800:
		if len(f) < 20 || f[0]>>4 != 4 {
			return p.errorf(off, "truncated or invalid IPv4 header")
		}
		hl, total := int(f[0]&0x0f)*4, int(binary.BigEndian.Uint16(f[2:]))
		if hl < 20 || total < hl || total > len(f) {
			return p.errorf(off, "IPv4 header length %d and total length %d do not fit the %d bytes captured", hl, total, len(f))
		}
		if f[9] != 6 {
			return nil
		}
		src, dst = netip.AddrFrom4([4]byte(f[12:16])), netip.AddrFrom4([4]byte(f[16:20]))
		seg = f[hl:total]
	case 0x86DD:
		if len(f) < 40 || f[0]>>4 != 6 {
			return p.errorf(off, "truncated or invalid IPv6 header")
		}
		n := int(binary.BigEndian.Uint16(f[4:]))
		if n > len(f)-40 {
			return p.errorf(off, "IPv6 payload length %d exceeds the %d bytes captured", n, len(f)-40)
		}
		if f[6] != 6 { // extension headers are not followed
			return nil
		}
		src, dst = netip.AddrFrom16([16]byte(f[8:24])), netip.AddrFrom16([16]byte(f[24:40]))
		seg = f[40 : 40+n]
	default:
		return nil
	}
	if len(seg) < 20 {
		return p.errorf(off, "TCP segment of %d bytes, fewer than 20", len(seg))
	}
	hl := int(seg[12]>>4) * 4
	if hl < 20 || hl > len(seg) {
		return p.errorf(off, "TCP header length %d does not fit the %d-byte segment", hl, len(seg))
	}
	from := netip.AddrPortFrom(src, binary.BigEndian.Uint16(seg))
	to := netip.AddrPortFrom(dst, binary.BigEndian.Uint16(seg[2:]))
	flags := seg[13]
	if !p.haveConn {
		p.haveConn = true
		p.client, p.server = from, to
		if flags&(tcpSYN|tcpACK) == tcpSYN|tcpACK {
			p.client, p.server = to, from
		}
	}
	var fromClient bool
	switch {
	case from == p.client && to == p.server:
		fromClient = true
	case from == p.server && to == p.client:
	default:
		return nil
	}
	dir := recording.Recv
	if fromClient == (p.side == recording.Client) {
		dir = recording.Send
	}
	payload := seg[hl:]
	seq := binary.BigEndian.Uint32(seg[4:])
	k := 0
	if fromClient {
		k = 1
	}
	switch {
	case flags&tcpSYN != 0:
		p.next[k], p.haveNext[k] = seq+1, true
		payload = nil // data on a SYN is not followed
	case len(payload) > 0 || flags&tcpFIN != 0:
		if !p.haveNext[k] {
			p.next[k], p.haveNext[k] = seq, true
		}
		if d := int32(seq - p.next[k]); d > 0 {
			// Bytes are missing: a gap.
			p.flush()
			p.chunks = append(p.chunks, recording.Chunk{Time: at, Dir: dir, Data: []byte{}, Gap: int64(d)})
			p.dropped += int64(d)
		} else if d < 0 {
			// Bytes seen already: a retransmission.
			if int64(len(payload)) <= -int64(d) {
				payload = nil
			} else {
				payload = payload[-int64(d):]
			}
		}
		end := seq + uint32(len(seg[hl:]))
		if flags&tcpFIN != 0 {
			end++
		}
		// A segment wholly in the past leaves the expectation alone.
		if int32(end-p.next[k]) > 0 {
			p.next[k] = end
		}
	}
	if len(payload) > 0 {
		if p.pending != nil && p.pending.Dir != dir {
			p.flush()
		}
		if p.pending == nil {
			p.pending = &recording.Chunk{Dir: dir}
		}
		p.pending.Data = append(p.pending.Data, payload...)
		p.pending.Time = at
	}
	if flags&(tcpPSH|tcpFIN) != 0 {
		p.flush()
	}
	return nil
}

func (p *pcapReader) flush() {
	if p.pending != nil {
		p.chunks = append(p.chunks, *p.pending)
		p.pending = nil
	}
}

func (p *pcapReader) result() recording.Recording {
	p.flush()
	rec := recording.Recording{Side: p.side, Chunks: p.chunks, KeyLog: p.keylog.String(), Dropped: p.dropped}
	if rec.Chunks == nil {
		rec.Chunks = []recording.Chunk{}
	}
	if p.haveConn {
		rec.ClientAddr, rec.ServerAddr = p.client.String(), p.server.String()
	}
	return rec
}
