package main

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"time"
)

// MQTT packet types the load clients use (MQTT 5 §2.1.2).
const (
	typeConnect    = 1
	typeConnack    = 2
	typePublish    = 3
	typePuback     = 4
	typeSubscribe  = 8
	typeSuback     = 9
	typeDisconnect = 14
)

// mqttConn is a minimal MQTT 5 client on one connection: the few packets
// the scenarios need, encoded by hand so that the load generator costs as
// little as possible and the same for every broker it drives.
type mqttConn struct {
	net.Conn
	r *bufio.Reader
	w *bufio.Writer

	wmu     sync.Mutex // one writer at a time (publisher and its ack reader)
	recvMax int        // the broker's Receive Maximum from CONNACK
	resumed bool       // the TLS handshake resumed a session
	body    []byte     // the last packet read; reused
}

// dialMQTT opens a byte stream with dial, runs TLS over it when cfg is
// set, sends CONNECT with a clean start and waits for a successful
// CONNACK. The client buffers bufSize bytes each way.
func dialMQTT(ctx context.Context, dial func(context.Context) (net.Conn, error), cfg *tls.Config, id string, bufSize int) (*mqttConn, error) {
	raw, err := dial(ctx)
	if err != nil {
		return nil, err
	}
	c := raw
	m := &mqttConn{}
	if cfg != nil {
		tc := tls.Client(raw, cfg)
		if err := tc.HandshakeContext(ctx); err != nil {
			raw.Close()
			return nil, fmt.Errorf("tls: %w", err)
		}
		m.resumed = tc.ConnectionState().DidResume
		c = tc
	}
	m.Conn, m.r, m.w = c, bufio.NewReaderSize(c, bufSize), bufio.NewWriterSize(c, bufSize)
	if dl, ok := ctx.Deadline(); ok {
		c.SetDeadline(dl)
	}
	if err := m.connect(id); err != nil {
		c.Close()
		return nil, err
	}
	c.SetDeadline(time.Time{})
	return m, nil
}

// request writes one packet (first byte header, body p) and reads the
// answer; it must be called before anything else reads the connection.
func (m *mqttConn) request(header byte, p []byte) (typ byte, body []byte, err error) {
	m.wmu.Lock()
	writePacket(m.w, header, p)
	err = m.w.Flush()
	m.wmu.Unlock()
	if err != nil {
		return 0, nil, err
	}
	typ, _, body, err = m.read()
	return typ, body, err
}

func (m *mqttConn) connect(id string) error {
	// Variable header: protocol name, version 5, flags (clean start),
	// keep-alive 60 s, no properties; payload: the client id.
	p := []byte{0, 4, 'M', 'Q', 'T', 'T', 5, 0x02, 0, 60, 0}
	p = appendString(p, id)
	typ, body, err := m.request(typeConnect<<4, p)
	if err != nil {
		return fmt.Errorf("connack: %w", err)
	}
	if typ != typeConnack || len(body) < 3 {
		return fmt.Errorf("connack: got packet type %d", typ)
	}
	if body[1] != 0 {
		return fmt.Errorf("connack: reason code %#x", body[1])
	}
	m.recvMax = 65535
	props, _, err := readVarint(body[2:])
	if err != nil {
		return err
	}
	// Receive Maximum (0x21) is the one property the load needs.
	for p := body[2+varintLen(props) : 2+varintLen(props)+props]; len(p) > 0; {
		id := p[0]
		p = p[1:]
		switch id {
		case 0x21:
			m.recvMax = int(binary.BigEndian.Uint16(p))
			p = p[2:]
		case 0x24, 0x25, 0x28, 0x29, 0x2a: // bytes
			p = p[1:]
		case 0x13, 0x22: // two-byte integers
			p = p[2:]
		case 0x11, 0x27: // four-byte integers
			p = p[4:]
		case 0x12, 0x1a, 0x1c, 0x1f, 0x15, 0x16: // strings, binary data
			n := int(binary.BigEndian.Uint16(p))
			p = p[2+n:]
		case 0x26: // user property: two strings
			n := int(binary.BigEndian.Uint16(p))
			p = p[2+n:]
			n = int(binary.BigEndian.Uint16(p))
			p = p[2+n:]
		default:
			return fmt.Errorf("connack: property %#x", id)
		}
	}
	return nil
}

// subscribe subscribes to filter and waits for the SUBACK; it must be
// called before anything else reads the connection.
func (m *mqttConn) subscribe(filter string, qos byte) error {
	p := []byte{0, 1, 0} // packet id 1, no properties
	p = appendString(p, filter)
	p = append(p, qos)
	typ, body, err := m.request(typeSubscribe<<4|0x02, p)
	if err != nil {
		return fmt.Errorf("suback: %w", err)
	}
	if typ != typeSuback || len(body) < 4 || body[len(body)-1] > 2 {
		return fmt.Errorf("suback: type %d % x", typ, body)
	}
	return nil
}

// publish writes a PUBLISH into the buffer; flush sends it.
func (m *mqttConn) publish(topic string, qos byte, id uint16, payload []byte) {
	n := 2 + len(topic) + 1 + len(payload)
	if qos > 0 {
		n += 2
	}
	m.w.WriteByte(typePublish<<4 | qos<<1)
	writeVarint(m.w, n)
	m.w.WriteByte(byte(len(topic) >> 8))
	m.w.WriteByte(byte(len(topic)))
	m.w.WriteString(topic)
	if qos > 0 {
		m.w.WriteByte(byte(id >> 8))
		m.w.WriteByte(byte(id))
	}
	m.w.WriteByte(0) // no properties
	m.w.Write(payload)
}

// puback writes a PUBACK (success, no properties) into the buffer.
func (m *mqttConn) puback(id uint16) {
	m.w.Write([]byte{typePuback << 4, 2, byte(id >> 8), byte(id)})
}

func (m *mqttConn) flush() error { return m.w.Flush() }

// disconnect sends a normal DISCONNECT and closes the connection.
func (m *mqttConn) disconnect() {
	m.wmu.Lock()
	m.w.Write([]byte{typeDisconnect << 4, 0})
	m.w.Flush()
	m.wmu.Unlock()
	m.Close()
}

// read reads the next packet; body is valid until the next read.
func (m *mqttConn) read() (typ, flags byte, body []byte, err error) {
	b, err := m.r.ReadByte()
	if err != nil {
		return 0, 0, nil, err
	}
	n, mul := 0, 1
	for i := 0; ; i++ {
		c, err := m.r.ReadByte()
		if err != nil {
			return 0, 0, nil, err
		}
		n += int(c&0x7f) * mul
		if c&0x80 == 0 {
			break
		}
		if mul *= 128; i == 3 {
			return 0, 0, nil, errors.New("malformed remaining length")
		}
	}
	if cap(m.body) < n {
		m.body = make([]byte, n)
	}
	m.body = m.body[:n]
	if _, err := io.ReadFull(m.r, m.body); err != nil {
		return 0, 0, nil, err
	}
	return b >> 4, b & 0x0f, m.body, nil
}

// publishBody splits the body of a PUBLISH with flags into its packet id
// (0 for QoS 0) and payload.
func publishBody(flags byte, body []byte) (id uint16, payload []byte, err error) {
	if len(body) < 2 {
		return 0, nil, errors.New("short publish")
	}
	i := 2 + int(binary.BigEndian.Uint16(body))
	if qos := flags >> 1 & 3; qos > 0 {
		if len(body) < i+2 {
			return 0, nil, errors.New("short publish")
		}
		id = binary.BigEndian.Uint16(body[i:])
		i += 2
	}
	if i > len(body) {
		return 0, nil, errors.New("short publish")
	}
	props, k, err := readVarint(body[i:])
	if err != nil || i+k+props > len(body) {
		return 0, nil, errors.New("bad publish properties")
	}
	return id, body[i+k+props:], nil
}

func writePacket(w *bufio.Writer, first byte, body []byte) {
	w.WriteByte(first)
	writeVarint(w, len(body))
	w.Write(body)
}

func writeVarint(w *bufio.Writer, n int) {
	for {
		b := byte(n & 0x7f)
		if n >>= 7; n > 0 {
			b |= 0x80
		}
		w.WriteByte(b)
		if n == 0 {
			return
		}
	}
}

func readVarint(p []byte) (n, size int, err error) {
	mul := 1
	for i, c := range p {
		if i == 4 {
			break
		}
		n += int(c&0x7f) * mul
		mul *= 128
		if c&0x80 == 0 {
			return n, i + 1, nil
		}
	}
	return 0, 0, errors.New("malformed variable byte integer")
}

func varintLen(n int) int {
	k := 1
	for n >= 128 {
		n >>= 7
		k++
	}
	return k
}

func appendString(p []byte, s string) []byte {
	p = append(p, byte(len(s)>>8), byte(len(s)))
	return append(p, s...)
}
