//go:build !unix

package main

import "net"

// readPooled reads from c into a buffer from copyBufs, which the caller
// puts back (here the buffer is held while it waits).
func readPooled(c net.Conn) (*[]byte, int, error) { return readPlain(c) }
