package memconn

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"os"
	"testing"
	"time"

	"golang.org/x/net/nettest"
)

// The conn behaves as net.Conn promises: io, deadlines, concurrent use.
func TestConformance(t *testing.T) {
	nettest.TestConn(t, func() (c1, c2 net.Conn, stop func(), err error) {
		a, b := Pipe(Addr("a"), Addr("b"))
		return a, b, func() { a.Close(); b.Close() }, nil
	})
}

func TestEnds(t *testing.T) {
	tests := []struct {
		name string
		run  func(a, b *Conn) error
		want error
	}{
		{"write never waits for the reader", func(a, b *Conn) error {
			for range 1000 {
				if _, err := a.Write(make([]byte, 1024)); err != nil {
					return err
				}
			}
			return nil
		}, nil},
		{"peer reads the rest, then EOF", func(a, b *Conn) error {
			a.Write([]byte("bye"))
			a.Close()
			buf := make([]byte, 8)
			if n, err := b.Read(buf); n != 3 || err != nil {
				return errors.New("lost the bytes written before Close")
			}
			_, err := b.Read(buf)
			return err
		}, io.EOF},
		{"writing to a closed peer succeeds, reading tells", func(a, b *Conn) error {
			b.Write([]byte("alert"))
			b.Close()
			if n, err := a.Write([]byte("x")); n != 1 || err != nil {
				return fmt.Errorf("write after the peer closed: %d, %v; want it taken, as TCP does", n, err)
			}
			buf := make([]byte, 8)
			if n, err := a.Read(buf); string(buf[:n]) != "alert" || err != nil {
				return fmt.Errorf("read %q, %v: want the peer's last bytes", buf[:n], err)
			}
			_, err := a.Read(buf)
			return err
		}, io.EOF},
		{"reading a closed end", func(a, b *Conn) error {
			a.Close()
			_, err := a.Read(make([]byte, 1))
			return err
		}, net.ErrClosed},
		{"closing twice", func(a, b *Conn) error {
			a.Close()
			return a.Close()
		}, net.ErrClosed},
		{"read deadline", func(a, b *Conn) error {
			a.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
			_, err := a.Read(make([]byte, 1))
			return err
		}, os.ErrDeadlineExceeded},
		{"write deadline passed", func(a, b *Conn) error {
			a.SetWriteDeadline(time.Now().Add(-time.Second))
			_, err := a.Write([]byte("x"))
			return err
		}, os.ErrDeadlineExceeded},
		{"write deadline to come", func(a, b *Conn) error {
			a.SetWriteDeadline(time.Now().Add(time.Hour))
			_, err := a.Write([]byte("x"))
			return err
		}, nil},
		{"both deadlines at once", func(a, b *Conn) error {
			a.SetDeadline(time.Now().Add(-time.Second))
			if _, err := a.Write([]byte("x")); !errors.Is(err, os.ErrDeadlineExceeded) {
				return fmt.Errorf("write: %v, want a timeout", err)
			}
			_, err := a.Read(make([]byte, 1))
			return err
		}, os.ErrDeadlineExceeded},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, b := Pipe(Addr("a"), Addr("b"))
			defer a.Close()
			defer b.Close()
			if err := tt.run(a, b); !errors.Is(err, tt.want) {
				t.Errorf("got %v, want %v", err, tt.want)
			}
		})
	}
}

// The reason for the package: a TLS connection closes (close_notify
// written, nobody reading) without waiting.
func TestTLSClose(t *testing.T) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "mem"}, DNSNames: []string{"mem"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, _ := x509.ParseCertificate(der)
	roots := x509.NewCertPool()
	roots.AddCert(leaf)
	a, b := Pipe(Addr("client"), Addr("broker"))
	srv := tls.Server(b, &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}})
	cli := tls.Client(a, &tls.Config{RootCAs: roots, ServerName: "mem"})
	done := make(chan error, 1)
	go func() {
		buf := make([]byte, 5)
		if _, err := io.ReadFull(srv, buf); err != nil {
			done <- err
			return
		}
		_, err := srv.Write(buf)
		done <- err
	}()
	if _, err := cli.Write([]byte("hello")); err != nil {
		t.Fatal(err)
	}
	echo := make([]byte, 5)
	if _, err := io.ReadFull(cli, echo); err != nil || string(echo) != "hello" {
		t.Fatalf("echo %q, %v", echo, err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	closed := make(chan error, 1)
	go func() { closed <- cli.Close() }()
	select {
	case err := <-closed:
		if err != nil {
			t.Errorf("close: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("tls.Conn.Close waits for a reader")
	}
	// The server reads the close_notify as the end of the stream.
	if _, err := srv.Read(make([]byte, 1)); err != io.EOF {
		t.Errorf("server read after the client's close: %v, want EOF", err)
	}
}
