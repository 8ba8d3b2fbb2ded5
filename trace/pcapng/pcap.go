package pcapng

import (
	"encoding/binary"
	"fmt"
	"time"
)

// Classic pcap files (tcpdump -w, the format before pcapng): a 24-byte
// file header, then records of a 16-byte header and the captured bytes,
// all in the byte order of the machine that wrote them, one link type for
// the whole file, timestamps in microseconds or (another magic number)
// nanoseconds. They hold no TLS secrets: those come in a key log file.
const (
	pcapMagicMicro = 0xA1B2C3D4
	pcapMagicNano  = 0xA1B23C4D
)

// isPcap reports whether data starts like a classic pcap file.
func isPcap(data []byte) bool {
	if len(data) < 4 {
		return false
	}
	for _, m := range []uint32{binary.LittleEndian.Uint32(data), binary.BigEndian.Uint32(data)} {
		if m == pcapMagicMicro || m == pcapMagicNano {
			return true
		}
	}
	return false
}

// readPcap reads a classic pcap file into the reader, as read does a
// pcapng one: the same frames, one interface.
func (p *reader) readPcap() error {
	data := p.data
	if len(data) < 24 {
		return fmt.Errorf("trace: pcapng: pcap file header at offset 0: %d bytes, fewer than 24", len(data))
	}
	units := uint64(1e6)
	switch {
	case binary.LittleEndian.Uint32(data) == pcapMagicMicro:
		p.bo = binary.LittleEndian
	case binary.BigEndian.Uint32(data) == pcapMagicMicro:
		p.bo = binary.BigEndian
	case binary.LittleEndian.Uint32(data) == pcapMagicNano:
		p.bo, units = binary.LittleEndian, 1e9
	default:
		p.bo, units = binary.BigEndian, 1e9
	}
	if major := p.bo.Uint16(data[4:]); major != 2 {
		return fmt.Errorf("trace: pcapng: pcap file header at offset 0: major version %d, want 2", major)
	}
	// The link type is the low 16 bits; the high ones carry FCS flags.
	link := uint16(p.bo.Uint32(data[20:]))
	for off := 24; off < len(data); {
		if len(data)-off < 16 {
			return fmt.Errorf("trace: pcapng: pcap record at offset %d: %d bytes left, fewer than a record header", off, len(data)-off)
		}
		sec, frac := uint64(p.bo.Uint32(data[off:])), uint64(p.bo.Uint32(data[off+4:]))
		n := uint64(p.bo.Uint32(data[off+8:]))
		if n > uint64(len(data)-off-16) {
			return fmt.Errorf("trace: pcapng: pcap record at offset %d: captured length %d exceeds the %d bytes left", off, n, len(data)-off-16)
		}
		if frac >= units {
			return fmt.Errorf("trace: pcapng: pcap record at offset %d: fraction of a second %d is not below %d", off, frac, units)
		}
		at := time.Unix(int64(sec), int64(frac*(1e9/units)))
		if err := p.frame(off, at, link, data[off+16:off+16+int(n)]); err != nil {
			return err
		}
		off += 16 + int(n)
	}
	return nil
}
