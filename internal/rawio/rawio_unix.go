//go:build unix

package rawio

import (
	"io"
	"os"
	"sync"
	"syscall"
)

// Supported reports whether this system has raw socket calls.
const Supported = true

// op is one read or write: its callback for syscall.RawConn is bound once,
// so that a call allocates nothing (a closure capturing the buffer would
// escape on every call), and ops are pooled rather than kept per
// connection, which an idle connection would pay for.
type op struct {
	b       []byte
	n       int
	err     error
	readFn  func(fd uintptr) bool
	writeFn func(fd uintptr) bool
}

var ops = sync.Pool{New: func() any {
	o := &op{}
	o.readFn, o.writeFn = o.read, o.write
	return o
}}

func getOp(b []byte) *op {
	o := ops.Get().(*op)
	o.b, o.n, o.err = b, 0, nil
	return o
}

func (o *op) put() (int, error) {
	n, err := o.n, o.err
	o.b, o.err = nil, nil
	ops.Put(o)
	return n, err
}

// Read reads into b from rc's socket, waiting (in the network poller, with
// rc's read deadline) until some bytes or an error come, as net.Conn's Read
// does. At the end of the stream it returns 0 and io.EOF.
func Read(rc syscall.RawConn, b []byte) (int, error) {
	if len(b) == 0 {
		return 0, nil
	}
	o := getOp(b)
	err := rc.Read(o.readFn)
	eof := err == nil && o.err == nil && o.n == 0
	n, opErr := o.put()
	switch {
	case err != nil:
		return 0, err
	case opErr != nil:
		return 0, opErr
	case eof:
		return 0, io.EOF
	}
	return n, nil
}

func (o *op) read(fd uintptr) bool {
	for {
		r, e := sysRead(fd, o.b)
		switch e {
		case 0:
			o.n = r
			return true
		case syscall.EINTR:
			continue
		case syscall.EAGAIN:
			return false // the poller waits for the socket
		}
		o.err = os.NewSyscallError("read", e)
		return true
	}
}

// Write writes all of b to rc's socket, waiting in the network poller (with
// rc's write deadline) whenever the socket's buffer is full, as net.Conn's
// Write does. It returns how much was written and the first error.
func Write(rc syscall.RawConn, b []byte) (int, error) {
	if len(b) == 0 {
		return 0, nil
	}
	o := getOp(b)
	err := rc.Write(o.writeFn)
	n, opErr := o.put()
	if err == nil {
		err = opErr
	}
	return n, err
}

// TryWrite makes non-blocking writes of b to rc's socket until it is all
// written or the socket would block, and returns how much it took. An error
// (EAGAIN included) ends it, unreported: a blocking write will report it.
func TryWrite(rc syscall.RawConn, b []byte) int {
	if len(b) == 0 {
		return 0
	}
	o := getOp(b)
	o.n = -1 // the callback's sign that it must not wait
	if rc.Write(o.writeFn) != nil {
		o.n = 0
	}
	n, _ := o.put()
	return max(n, 0)
}

func (o *op) write(fd uintptr) bool {
	try := o.n < 0
	if try {
		o.n = 0
	}
	for o.n < len(o.b) {
		r, e := sysWrite(fd, o.b[o.n:])
		switch e {
		case 0:
			if r <= 0 {
				if !try {
					o.err = io.ErrShortWrite
				}
				return true
			}
			o.n += r
			continue
		case syscall.EINTR:
			continue
		case syscall.EAGAIN:
			if try {
				return true
			}
			return false // the poller waits until the socket is writable
		}
		if !try {
			o.err = os.NewSyscallError("write", e)
		}
		return true
	}
	return true
}

// WriteOnce makes one non-blocking write of b to the socket fd (from a
// syscall.RawConn's callback) and returns how much it took; EAGAIN and
// other errors count as 0.
func WriteOnce(fd uintptr, b []byte) int {
	if len(b) == 0 {
		return 0
	}
	for {
		r, e := sysWrite(fd, b)
		if e == syscall.EINTR {
			continue
		}
		if e != 0 || r < 0 {
			return 0
		}
		return r
	}
}
