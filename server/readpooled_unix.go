//go:build unix

package main

import (
	"io"
	"net"
	"syscall"
)

// readPooled waits until c has bytes to read without holding a buffer,
// then reads them into a buffer from copyBufs, which the caller puts back.
// The wait is the runtime's poller's, as for any read.
func readPooled(c net.Conn) (*[]byte, int, error) {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return readPlain(c)
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return readPlain(c)
	}
	var (
		buf  *[]byte
		n    int
		rerr error
	)
	err = rc.Read(func(fd uintptr) bool {
		buf = copyBufs.Get().(*[]byte)
		for {
			n, rerr = syscall.Read(int(fd), *buf)
			if rerr != syscall.EINTR {
				break
			}
		}
		if rerr == syscall.EAGAIN {
			copyBufs.Put(buf) // nothing yet: wait without it
			buf = nil
			return false
		}
		return true
	})
	if err == nil && rerr == nil && n > 0 {
		return buf, n, nil
	}
	if buf != nil {
		copyBufs.Put(buf)
	}
	switch {
	case err != nil:
		return nil, 0, err
	case rerr != nil:
		return nil, 0, rerr
	}
	return nil, 0, io.EOF
}
