// Package rawio reads and writes sockets with system calls that do not go
// through the Go scheduler's system call bookkeeping.
//
// A socket of package net is non-blocking: a read or write returns at once,
// with EAGAIN when it would have to wait, and the waiting is done by the
// runtime's network poller. Yet syscall.Read and syscall.Write, which net
// uses, call entersyscall and exitsyscall around each call, as for a call
// that may block. That bookkeeping costs a few hundred instructions per
// call, and it has effects on the whole process:
//
//   - entering a system call wakes the runtime's monitor thread (sysmon)
//     when it sleeps because the process was idle, and resets its polling
//     interval to 20 µs. A server that goes idle and busy again thousands of
//     times a second (long-polling clients at a few messages a second each)
//     keeps sysmon waking up: in bench/NOTES.md's twelfth pass it took 11%
//     of the server's CPU time on one core;
//   - a P that stays in a system call for more than one sysmon tick (20 µs,
//     which a loopback write that wakes its reader on another CPU can take)
//     can be taken from it and handed to another thread, which has to be
//     woken, and the caller then has to get a P back when the call returns.
//
// The calls here go through syscall.RawConn, so that the network poller
// still does the waiting (deadlines and Close work as for net.Conn), but
// make the system call itself with syscall.RawSyscall, which skips that
// bookkeeping. That is sound only because the descriptors never block.
//
// The raw calls are made on Linux, in builds without the race detector
// (sys_linux.go says why not with it); elsewhere the same functions make
// syscall's calls, and on systems without syscall.RawConn sockets
// (rawio_other.go) Supported is false and callers use the net.Conn.
//
// What this gives up: a goroutine in a raw call keeps its P (for a
// non-blocking call, microseconds), and since these calls no longer wake
// sysmon, a process whose only system calls are these lets sysmon sleep
// until its next timer while it works, so that a goroutine that computes
// for a long time without any call is preempted later than it would be.
// CloudWeGo's netpoll makes the same choice for its reads (readv).
package rawio
