package pcapng

import (
	"bytes"
	"encoding/binary"
	"strings"
	"testing"

	"github.com/mqtts-playground/playground/trace/recording"
)

// order is a byte order that appends.
type order interface {
	binary.ByteOrder
	binary.AppendByteOrder
}

// pcapFrame is one packet of a capture: its time and its Ethernet frame.
type pcapFrame struct {
	sec, usec uint32
	eth       []byte
}

// framesOf lists the packets of a capture Write wrote (little-endian, one
// Ethernet interface, microseconds).
func framesOf(t *testing.T, b []byte) []pcapFrame {
	t.Helper()
	var out []pcapFrame
	for off := 0; off < len(b); {
		typ, n := binary.LittleEndian.Uint32(b[off:]), int(binary.LittleEndian.Uint32(b[off+4:]))
		if typ == blockEPB {
			body := b[off+8 : off+n-4]
			ts := uint64(binary.LittleEndian.Uint32(body[4:]))<<32 | uint64(binary.LittleEndian.Uint32(body[8:]))
			caplen := binary.LittleEndian.Uint32(body[12:])
			out = append(out, pcapFrame{sec: uint32(ts / 1e6), usec: uint32(ts % 1e6), eth: body[20 : 20+caplen]})
		}
		off += n
	}
	if len(out) == 0 {
		t.Fatal("no packets in the capture")
	}
	return out
}

// relink rewrites an Ethernet frame as a frame of another link type.
func relink(link uint16, bo order, eth []byte) []byte {
	etype, ip := binary.BigEndian.Uint16(eth[12:]), eth[14:]
	switch link {
	case linkLinuxSLL:
		h := make([]byte, 16) // packet type, ARPHRD, address length and address, protocol
		binary.BigEndian.PutUint16(h[2:], 772)
		binary.BigEndian.PutUint16(h[14:], etype)
		return append(h, ip...)
	case linkLinuxSLL2:
		h := make([]byte, 20) // protocol, reserved, interface index, ARPHRD, …
		binary.BigEndian.PutUint16(h, etype)
		binary.BigEndian.PutUint16(h[8:], 772)
		return append(h, ip...)
	case linkRaw:
		return bytes.Clone(ip)
	case linkNull:
		family := uint32(2)
		if etype == 0x86DD {
			family = 30
		}
		return append(bo.AppendUint32(nil, family), ip...)
	}
	return bytes.Clone(eth)
}

// toPcap writes frames as a classic pcap file.
func toPcap(frames []pcapFrame, link uint16, bo order, nano bool) []byte {
	magic := uint32(pcapMagicMicro)
	if nano {
		magic = pcapMagicNano
	}
	b := bo.AppendUint32(nil, magic)
	b = bo.AppendUint16(b, 2)
	b = bo.AppendUint16(b, 4)
	b = bo.AppendUint32(b, 0)      // thiszone
	b = bo.AppendUint32(b, 0)      // sigfigs
	b = bo.AppendUint32(b, 262144) // snaplen
	b = bo.AppendUint32(b, uint32(link))
	for _, f := range frames {
		frac := f.usec
		if nano {
			frac *= 1000
		}
		data := relink(link, bo, f.eth)
		b = bo.AppendUint32(b, f.sec)
		b = bo.AppendUint32(b, frac)
		b = bo.AppendUint32(b, uint32(len(data)))
		b = bo.AppendUint32(b, uint32(len(data)))
		b = append(b, data...)
	}
	return b
}

// TestReadPcap: a classic pcap file (as tcpdump -w writes it) of the same
// packets reads as the pcapng capture does, but with no key log, in
// either byte order, with either timestamp unit and each link type Read
// understands.
func TestReadPcap(t *testing.T) {
	for _, addrs := range [][2]string{{"192.0.2.1:40000", "192.0.2.2:8883"}, {"[2001:db8::1]:40000", "[2001:db8::2]:8883"}} {
		rec := recording.Recording{Side: recording.Client, KeyLog: "CLIENT_RANDOM 01 02\n", ClientAddr: addrs[0], ServerAddr: addrs[1], Chunks: []recording.Chunk{
			{Dir: recording.Send, Data: connectPkt},
			{Dir: recording.Recv, Data: connackPkt},
			{Dir: recording.Send, Data: bytes.Repeat([]byte{0x17}, 4000)},
		}}
		var ng bytes.Buffer
		if err := Write(&ng, rec); err != nil {
			t.Fatal(err)
		}
		want, err := Read(bytes.NewReader(ng.Bytes()))
		if err != nil {
			t.Fatal(err)
		}
		want.KeyLog = ""
		frames := framesOf(t, ng.Bytes())
		for _, link := range []uint16{linkEther, linkLinuxSLL, linkLinuxSLL2, linkRaw, linkNull} {
			for _, bo := range []order{binary.LittleEndian, binary.BigEndian} {
				for _, nano := range []bool{false, true} {
					got, err := Read(bytes.NewReader(toPcap(frames, link, bo, nano)))
					if err != nil {
						t.Fatalf("%s link %d %v nano %v: %v", addrs[0], link, bo, nano, err)
					}
					if got.ClientAddr != want.ClientAddr || got.ServerAddr != want.ServerAddr || got.KeyLog != "" || got.Side != recording.Client {
						t.Errorf("%s link %d %v nano %v: %+v", addrs[0], link, bo, nano, got)
					}
					sameChunks(t, got.Chunks, want.Chunks)
				}
			}
		}
	}
}

func TestReadPcapErrors(t *testing.T) {
	var ng bytes.Buffer
	if err := Write(&ng, recording.Recording{Side: recording.Client, Chunks: []recording.Chunk{{Dir: recording.Send, Data: connectPkt}}}); err != nil {
		t.Fatal(err)
	}
	frames := framesOf(t, ng.Bytes())
	good := toPcap(frames, linkEther, binary.LittleEndian, false)
	edit := func(off int, v uint32) []byte {
		b := bytes.Clone(good)
		binary.LittleEndian.PutUint32(b[off:], v)
		return b
	}
	for _, tc := range []struct {
		name string
		in   []byte
		want string
	}{
		{"short header", good[:20], "pcap file header at offset 0: 20 bytes"},
		{"version", edit(4, 3), "pcap file header at offset 0: major version 3"},
		{"short record", good[:24+10], "pcap record at offset 24: 10 bytes left"},
		{"captured length", edit(24+8, 1<<30), "pcap record at offset 24: captured length 1073741824"},
		{"microseconds", edit(24+4, 1e6), "pcap record at offset 24: fraction of a second 1000000"},
		{"unknown link type", edit(20, 147), "block at offset 24: no TCP connection on an interface this reader understands: link type 147"},
		{"short frame", edit(24+8, 10), "Ethernet frame of 10 bytes"},
	} {
		_, err := Read(bytes.NewReader(tc.in))
		if err == nil || !strings.HasPrefix(err.Error(), "trace: pcapng: ") || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one containing %q", tc.name, err, tc.want)
		}
	}
}
