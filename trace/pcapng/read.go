package pcapng

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/bits"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/mqtts-playground/playground/trace/recording"
)

// Read reads a capture back: what [Write] writes, and enough of
// pcapng in general for round trips, tests and the captures people bring
// (tcpdump, Wireshark, dumpcap), classic pcap files included (see
// readPcap). It reads Section Header,
// Interface Description, Enhanced Packet and Decryption Secrets Blocks, in
// either byte order, and skips other block types. From the packets of the
// first TCP connection on an interface of a supported link type
// (Ethernet, Linux cooked v1 and v2, raw IP, BSD loopback) it returns the TCP
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
	p := &reader{data: data, side: recording.Client}
	read := p.read
	if isPcap(data) {
		read = p.readPcap
	}
	if err := read(); err != nil {
		return recording.Recording{}, err
	}
	if !p.haveConn && len(p.otherLinks) > 0 {
		return recording.Recording{}, p.errorf(p.otherLinkAt, "no TCP connection on an interface this reader understands: link type %d is not Ethernet (1), Linux cooked (113, 276), raw IP (101) or BSD loopback (0)", p.otherLinks[0])
	}
	return p.result(), nil
}

// netInterface is an interface described in the current section.
type netInterface struct {
	link  uint16
	units uint64 // timestamp units per second
}

// reader parses a whole capture held in memory.
type reader struct {
	data   []byte
	bo     binary.ByteOrder // of the current section
	ifaces []netInterface
	side   recording.Side
	keylog strings.Builder
	// otherLinks are the link types of packets skipped as not understood,
	// the first seen at offset otherLinkAt.
	otherLinks  []uint16
	otherLinkAt int

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

func (p *reader) errorf(off int, format string, args ...any) error {
	return fmt.Errorf("trace: pcapng: block at offset %d: %s", off, fmt.Sprintf(format, args...))
}

func (p *reader) read() error {
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
func (p *reader) options(off, at int, body []byte, each func(code uint16, value []byte) error) error {
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

func (p *reader) shb(off int, body []byte) error {
	if len(body) < 16 {
		return p.errorf(off, "section header body of %d bytes, fewer than 16", len(body))
	}
	if major := p.bo.Uint16(body[4:]); major != 1 {
		return p.errorf(off, "pcapng major version %d, want 1", major)
	}
	return p.options(off, off+8+16, body[16:], func(code uint16, v []byte) error {
		if code == optComment {
			if rest, ok := strings.CutPrefix(string(v), sideNote); ok {
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

func (p *reader) idb(off int, body []byte) error {
	if len(body) < 8 {
		return p.errorf(off, "interface description body of %d bytes, fewer than 8", len(body))
	}
	iface := netInterface{link: p.bo.Uint16(body), units: 1e6}
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

func (p *reader) dsb(off int, body []byte) error {
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

func (p *reader) epb(off int, body []byte) error {
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
	// The fraction of a second, in nanoseconds: frac < units, so the
	// 128-bit product's high word is below units and Div64 cannot panic.
	hi, lo := bits.Mul64(ts%iface.units, 1e9)
	nsec, _ := bits.Div64(hi, lo, iface.units)
	at := time.Unix(int64(ts/iface.units), int64(nsec))
	return p.frame(off, at, iface.link, body[20:20+n])
}

// segment is what the reader needs of a TCP segment.
type segment struct {
	from, to netip.AddrPort
	flags    byte
	seq      uint32
	payload  []byte
	len      int // of the payload as sent, for the sequence numbers
}

// frame takes the TCP payload out of a frame of the link type. Frames that
// carry no TCP, or TCP of another connection, are skipped.
func (p *reader) frame(off int, at time.Time, link uint16, f []byte) error {
	seg, ok, err := p.tcp(off, link, f)
	if err != nil || !ok {
		return err
	}
	if !p.haveConn {
		p.haveConn = true
		p.client, p.server = seg.from, seg.to
		if seg.flags&(tcpSYN|tcpACK) == tcpSYN|tcpACK {
			p.client, p.server = seg.to, seg.from
		}
	}
	var fromClient bool
	switch {
	case seg.from == p.client && seg.to == p.server:
		fromClient = true
	case seg.from == p.server && seg.to == p.client:
	default:
		return nil
	}
	dir := recording.Recv
	if fromClient == (p.side == recording.Client) {
		dir = recording.Send
	}
	k := 0
	if fromClient {
		k = 1
	}
	payload := p.follow(k, seg, at, dir)
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
	if seg.flags&(tcpPSH|tcpFIN) != 0 {
		p.flush()
	}
	return nil
}

// follow checks seg, in direction k (see reader.next), against the
// sequence numbers seen so far: a hole becomes a gap marker, bytes seen
// already are dropped. It returns the new bytes.
func (p *reader) follow(k int, seg segment, at time.Time, dir recording.Dir) []byte {
	payload := seg.payload
	switch {
	case seg.flags&tcpSYN != 0:
		p.next[k], p.haveNext[k] = seg.seq+1, true
		return nil // data on a SYN is not followed
	case len(payload) > 0 || seg.flags&tcpFIN != 0:
		if !p.haveNext[k] {
			p.next[k], p.haveNext[k] = seg.seq, true
		}
		if d := int32(seg.seq - p.next[k]); d > 0 {
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
		end := seg.seq + uint32(seg.len)
		if seg.flags&tcpFIN != 0 {
			end++
		}
		// A segment wholly in the past leaves the expectation alone.
		if int32(end-p.next[k]) > 0 {
			p.next[k] = end
		}
	}
	return payload
}

// tcp reads the TCP segment of a frame; ok is false for frames that carry
// no TCP.
func (p *reader) tcp(off int, link uint16, f []byte) (seg segment, ok bool, err error) {
	src, dst, b, ok, err := p.ip(off, link, f)
	if err != nil || !ok {
		return segment{}, false, err
	}
	if len(b) < 20 {
		return segment{}, false, p.errorf(off, "TCP segment of %d bytes, fewer than 20", len(b))
	}
	hl := int(b[12]>>4) * 4
	if hl < 20 || hl > len(b) {
		return segment{}, false, p.errorf(off, "TCP header length %d does not fit the %d-byte segment", hl, len(b))
	}
	return segment{
		from:    netip.AddrPortFrom(src, binary.BigEndian.Uint16(b)),
		to:      netip.AddrPortFrom(dst, binary.BigEndian.Uint16(b[2:])),
		flags:   b[13],
		seq:     binary.BigEndian.Uint32(b[4:]),
		payload: b[hl:],
		len:     len(b) - hl,
	}, true, nil
}

// network strips the link layer of a frame: it returns the EtherType of
// what the frame carries and those bytes; ok is false for link types the
// reader does not know (noted in otherLinks).
func (p *reader) network(off int, link uint16, f []byte) (etype uint16, rest []byte, ok bool, err error) {
	switch link {
	case linkEther:
		if len(f) < 14 {
			return 0, nil, false, p.errorf(off, "Ethernet frame of %d bytes, fewer than 14", len(f))
		}
		return binary.BigEndian.Uint16(f[12:]), f[14:], true, nil
	case linkLinuxSLL: // tcpdump -i any, before libpcap 1.10
		if len(f) < 16 {
			return 0, nil, false, p.errorf(off, "Linux cooked frame of %d bytes, fewer than 16", len(f))
		}
		return binary.BigEndian.Uint16(f[14:]), f[16:], true, nil
	case linkLinuxSLL2: // tcpdump -i any
		if len(f) < 20 {
			return 0, nil, false, p.errorf(off, "Linux cooked v2 frame of %d bytes, fewer than 20", len(f))
		}
		return binary.BigEndian.Uint16(f), f[20:], true, nil
	case linkRaw:
		if len(f) == 0 {
			return 0, nil, false, p.errorf(off, "empty raw IP packet")
		}
		if f[0]>>4 == 6 {
			return 0x86DD, f, true, nil
		}
		return 0x0800, f, true, nil
	case linkNull: // BSD loopback: the address family, in the capturing host's byte order
		if len(f) < 4 {
			return 0, nil, false, p.errorf(off, "loopback frame of %d bytes, fewer than 4", len(f))
		}
		family := binary.LittleEndian.Uint32(f)
		if family > 0xffff {
			family = binary.BigEndian.Uint32(f)
		}
		switch family {
		case 2:
			return 0x0800, f[4:], true, nil
		case 10, 24, 28, 30: // AF_INET6 of Linux, the BSDs, macOS
			return 0x86DD, f[4:], true, nil
		}
		return 0, nil, false, nil
	}
	if len(p.otherLinks) == 0 {
		p.otherLinkAt = off
	}
	if !slices.Contains(p.otherLinks, link) {
		p.otherLinks = append(p.otherLinks, link)
	}
	return 0, nil, false, nil
}

// ip reads the IPv4 or IPv6 packet of a frame (VLAN tags skipped) and
// returns its addresses and its TCP segment; ok is false for packets of
// another protocol.
func (p *reader) ip(off int, link uint16, f []byte) (src, dst netip.Addr, seg []byte, ok bool, err error) {
	etype, f, ok, err := p.network(off, link, f)
	if err != nil || !ok {
		return src, dst, nil, false, err
	}
	for etype == 0x8100 || etype == 0x88A8 { // VLAN tags
		if len(f) < 4 {
			return src, dst, nil, false, p.errorf(off, "truncated VLAN tag")
		}
		etype, f = binary.BigEndian.Uint16(f[2:]), f[4:]
	}
	switch etype {
	case 0x0800:
		if len(f) < 20 || f[0]>>4 != 4 {
			return src, dst, nil, false, p.errorf(off, "truncated or invalid IPv4 header")
		}
		hl, total := int(f[0]&0x0f)*4, int(binary.BigEndian.Uint16(f[2:]))
		if hl < 20 || total < hl || total > len(f) {
			return src, dst, nil, false, p.errorf(off, "IPv4 header length %d and total length %d do not fit the %d bytes captured", hl, total, len(f))
		}
		if f[9] != 6 {
			return src, dst, nil, false, nil
		}
		return netip.AddrFrom4([4]byte(f[12:16])), netip.AddrFrom4([4]byte(f[16:20])), f[hl:total], true, nil
	case 0x86DD:
		if len(f) < 40 || f[0]>>4 != 6 {
			return src, dst, nil, false, p.errorf(off, "truncated or invalid IPv6 header")
		}
		n := int(binary.BigEndian.Uint16(f[4:]))
		if n > len(f)-40 {
			return src, dst, nil, false, p.errorf(off, "IPv6 payload length %d exceeds the %d bytes captured", n, len(f)-40)
		}
		if f[6] != 6 { // extension headers are not followed
			return src, dst, nil, false, nil
		}
		return netip.AddrFrom16([16]byte(f[8:24])), netip.AddrFrom16([16]byte(f[24:40])), f[40 : 40+n], true, nil
	}
	return src, dst, nil, false, nil
}

func (p *reader) flush() {
	if p.pending != nil {
		p.chunks = append(p.chunks, *p.pending)
		p.pending = nil
	}
}

func (p *reader) result() recording.Recording {
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
