//go:build unix && (!linux || race)

package rawio

import "syscall"

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

// errno returns the syscall package's error as the Errno it is. A type
// assertion, not errors.As, whose target would be allocated on every call.
func errno(err error) syscall.Errno {
	if err == nil {
		return 0
	}
	if e, ok := err.(syscall.Errno); ok {
		return e
	}
	return syscall.EIO
}
