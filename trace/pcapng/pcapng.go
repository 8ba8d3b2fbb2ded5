// Package pcapng writes a recording as a pcapng capture that Wireshark and
// tshark open, and decrypt, without any set-up, and reads such captures
// back: [Write] and [Read] are a pair, so a recording survives a round trip.
//
// It synthesizes the Ethernet, IP and TCP headers a recording lacks; it
// does not capture from the network and reads of pcapng only what a round
// trip and its tests need (one TCP connection on an Ethernet interface).
package pcapng

import (
	"encoding/binary"
	"time"
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
	// Other link types Read understands (tcpdump's LINKTYPE_ names).
	linkNull      = 0   // LINKTYPE_NULL: BSD loopback
	linkRaw       = 101 // LINKTYPE_RAW: IPv4 or IPv6, no link header
	linkLinuxSLL  = 113 // LINKTYPE_LINUX_SLL: Linux cooked capture
	linkLinuxSLL2 = 276 // LINKTYPE_LINUX_SLL2
	snapLen       = 262144
	mss           = 1460 // largest TCP payload of one synthesized segment
	userAppl      = "MQTTS Playground (github.com/mqtts-playground/playground)"
	// sideNote starts the section comment that says which end recorded
	// the connection; Read reads the side back from it.
	sideNote = "MQTTS Playground recording made at the "
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
	clientMAC = [6]byte{0x02, 0x00, 0x00, 0x00, 0x00, 0x01}
	serverMAC = [6]byte{0x02, 0x00, 0x00, 0x00, 0x00, 0x02}
)

const (
	clientISN = 0x10000000
	serverISN = 0x20000000
	// maxSeqJump is the largest hole in a TCP sequence that reads as one:
	// sequence numbers compare modulo 2³².
	maxSeqJump = 1<<31 - 1
)

// synthBase is the time of the first packet when the recording has no
// times at all.
var synthBase = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

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
	b = appendOption(b, optUserAppl, []byte(userAppl))
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
