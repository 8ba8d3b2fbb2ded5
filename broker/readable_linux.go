package broker

import (
	"syscall"
	"unsafe"
)

// inputWaiting returns the number of bytes received on the socket fd and
// not yet read (ioctl FIONREAD, spelled TIOCINQ on Linux).
func inputWaiting(fd uintptr) int {
	var n int32
	if _, _, errno := syscall.Syscall(syscall.SYS_IOCTL, fd, syscall.TIOCINQ, uintptr(unsafe.Pointer(&n))); errno != 0 {
		return 0
	}
	return int(n)
}
