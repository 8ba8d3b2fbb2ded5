//go:build !unix

package broker

import "net"

// writeAhead is a connection whose writes do not wait for the peer; only
// on Unix systems (see writeahead_unix.go). Elsewhere the broker writes as
// usual, from the client's writer goroutine.
type writeAhead struct{ net.Conn }

func newWriteAhead(net.Conn) *writeAhead { return nil }

func (w *writeAhead) CanWriteNow() bool { return false }

func (w *writeAhead) waitWritten() {}

func (w *writeAhead) Readable() bool { return false }
