//go:build unix && !linux

package broker

// inputWaiting would tell how many received bytes wait on the socket fd;
// only Linux is asked (see readable_linux.go): elsewhere it says none, and
// the core writes to idle subscribers after every batch it reads.
func inputWaiting(fd uintptr) int { return 0 }
