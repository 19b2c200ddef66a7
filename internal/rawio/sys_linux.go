//go:build linux && !race

package rawio

import (
	"syscall"
	"unsafe"
)

// sysRead and sysWrite use syscall.RawSyscall: no entersyscall/exitsyscall
// (the package comment says why). b is not empty.
//
// Not under the race detector: there syscall.Read and syscall.Write record
// that a write to any descriptor happens before a later read, which is how
// data handed between goroutines through a socket (a test's client and its
// server) is not reported as a race; RawSyscall records nothing, and that
// record (syscall's ioSync) cannot be reached from here. sys_unix.go serves
// race-enabled builds.
func sysRead(fd uintptr, b []byte) (int, syscall.Errno) {
	r, _, e := syscall.RawSyscall(syscall.SYS_READ, fd, uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)))
	return int(r), e
}

func sysWrite(fd uintptr, b []byte) (int, syscall.Errno) {
	r, _, e := syscall.RawSyscall(syscall.SYS_WRITE, fd, uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)))
	return int(r), e
}
