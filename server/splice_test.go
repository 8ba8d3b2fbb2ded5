package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// spliceServer is a WebSocket endpoint spliced to a fresh TCP connection
// to upstream for every request, as the tunnel does for an upstream.
func spliceServer(t *testing.T, upstream string) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		up, err := net.Dial("tcp", upstream)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		ws, err := websocket.Accept(w, r, nil)
		if err != nil {
			up.Close()
			return
		}
		splice(r.Context(), ws, up)
	}))
	t.Cleanup(srv.Close)
	return "ws" + strings.TrimPrefix(srv.URL, "http")
}

// spliceListen accepts connections on a loopback port and hands each to serve.
func spliceListen(t *testing.T, serve func(net.Conn)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go serve(c)
		}
	}()
	return ln.Addr().String()
}

func spliceDial(t *testing.T, url string) (*websocket.Conn, net.Conn) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	return ws, websocket.NetConn(context.Background(), ws, websocket.MessageBinary)
}

// Bytes cross the splice unchanged both ways, in messages smaller and
// larger than its copy buffers; either side's end ends the other.
func TestSplice(t *testing.T) {
	echo := spliceListen(t, func(c net.Conn) { io.Copy(c, c); c.Close() })
	t.Run("echo", func(t *testing.T) {
		_, c := spliceDial(t, spliceServer(t, echo))
		defer c.Close()
		sent := make([]byte, 300<<10)
		rand.Read(sent)
		go func() {
			for rest, i := sent, 0; len(rest) > 0; i++ {
				n := min(len(rest), []int{1, 100, 5000, 40 << 10, 70 << 10}[i%5])
				if _, err := c.Write(rest[:n]); err != nil {
					return
				}
				rest = rest[n:]
			}
		}()
		c.SetReadDeadline(time.Now().Add(10 * time.Second))
		got := make([]byte, len(sent))
		if _, err := io.ReadFull(c, got); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, sent) {
			t.Error("the bytes came back changed")
		}
	})
	t.Run("upstream ends", func(t *testing.T) {
		hello := spliceListen(t, func(c net.Conn) { c.Write([]byte("bye")); c.Close() })
		_, c := spliceDial(t, spliceServer(t, hello))
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		got, err := io.ReadAll(c)
		if string(got) != "bye" || err != nil {
			t.Errorf("read %q, %v; want bye and the end", got, err)
		}
	})
	t.Run("browser ends", func(t *testing.T) {
		ended := make(chan string, 1)
		up := spliceListen(t, func(c net.Conn) {
			c.SetReadDeadline(time.Now().Add(5 * time.Second))
			b, err := io.ReadAll(c)
			if err != nil {
				ended <- err.Error()
			}
			ended <- string(b)
		})
		_, c := spliceDial(t, spliceServer(t, up))
		c.Write([]byte("last words"))
		c.Close()
		if got := <-ended; got != "last words" {
			t.Errorf("upstream read %q", got)
		}
	})
	t.Run("text message", func(t *testing.T) {
		ws, _ := spliceDial(t, spliceServer(t, echo))
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		ws.Write(ctx, websocket.MessageText, []byte("hello"))
		_, _, err := ws.Read(ctx)
		if websocket.CloseStatus(err) != websocket.StatusUnsupportedData {
			t.Errorf("read after a text message: %v; want close 1003", err)
		}
	})
}
