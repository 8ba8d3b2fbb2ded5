//go:build unix

package broker

import (
	"bytes"
	"io"
	"net"
	"testing"
	"time"
)

// tcpPair returns both ends of a loopback TCP connection, with small
// socket buffers so that a client that does not read fills them soon.
func tcpPair(t *testing.T) (server *net.TCPConn, client net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	client, err = net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	c, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	server = c.(*net.TCPConn)
	server.SetWriteBuffer(16 << 10)
	client.(*net.TCPConn).SetReadBuffer(64 << 10)
	t.Cleanup(func() { server.Close(); client.Close() })
	return server, client
}

// Writes to a client that does not read return at once until maxAhead
// bytes wait; CanWriteNow turns false well before; the client then reads
// every byte, in order.
func TestWriteAheadDoesNotWait(t *testing.T) {
	server, client := tcpPair(t)
	w := newWriteAhead(server)
	if w == nil || !w.CanWriteNow() {
		t.Fatal("a fresh TCP connection can write")
	}
	var sent bytes.Buffer
	chunk := bytes.Repeat([]byte("0123456789abcdef"), 1<<10) // 16 KiB
	start := time.Now()
	for i := 0; w.CanWriteNow(); i++ {
		chunk[0] = byte(i)
		if _, err := w.Write(chunk); err != nil {
			t.Fatal(err)
		}
		sent.Write(chunk)
		if sent.Len() > 2*maxAhead {
			t.Fatalf("CanWriteNow still true with %d bytes written to a client that reads nothing", sent.Len())
		}
	}
	if took := time.Since(start); took > time.Second {
		t.Errorf("writes to a client that does not read took %v", took)
	}
	// A Write beyond maxAhead waits for the client: it returns once the
	// client reads.
	done := make(chan error, 1)
	go func() {
		big := bytes.Repeat([]byte{'z'}, maxAhead)
		_, err := w.Write(big)
		done <- err
	}()
	select {
	case err := <-done:
		t.Fatalf("a Write beyond maxAhead returned at once (%v)", err)
	case <-time.After(100 * time.Millisecond):
	}
	sent.Write(bytes.Repeat([]byte{'z'}, maxAhead))
	got := make([]byte, sent.Len())
	client.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.ReadFull(client, got); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, sent.Bytes()) {
		t.Error("the client read other bytes than were written, or in another order")
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	w.waitWritten()
	if !w.CanWriteNow() {
		t.Error("CanWriteNow false once everything was written")
	}
	if w.pending != nil || w.spare != nil {
		t.Error("an idle connection keeps its buffers")
	}
}

// A write error ends the connection's writes.
func TestWriteAheadError(t *testing.T) {
	server, client := tcpPair(t)
	w := newWriteAhead(server)
	client.Close()
	var err error
	for i := 0; i < 100 && err == nil; i++ {
		_, err = w.Write(make([]byte, 64<<10))
		w.waitWritten()
	}
	if err == nil {
		t.Fatal("writes to a closed peer kept succeeding")
	}
	if w.CanWriteNow() {
		t.Error("CanWriteNow after a write error")
	}
}
