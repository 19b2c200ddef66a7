//go:build unix && (!linux || race)

package rawio

import (
	"errors"
	"syscall"
)

// Elsewhere, and under the race detector (see sys_linux.go), sysRead and
// sysWrite are the syscall package's calls: the saving is measured on Linux
// only, and other systems (Darwin's calls go through libc) keep the usual
// path.
func sysRead(fd uintptr, b []byte) (int, syscall.Errno) {
	n, err := syscall.Read(int(fd), b)
	return n, errno(err)
}

func sysWrite(fd uintptr, b []byte) (int, syscall.Errno) {
	n, err := syscall.Write(int(fd), b)
	return n, errno(err)
}

func errno(err error) syscall.Errno {
	var e syscall.Errno
	if err == nil {
		return 0
	}
	if errors.As(err, &e) {
		return e
	}
	return syscall.EIO
}
