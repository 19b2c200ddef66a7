package websocket

import (
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/socketio-go/socketio/internal/rawio"
)

// MessageType is the type of a data message.
type MessageType int

const (
	// Text is a UTF-8 text message.
	Text MessageType = 1
	// Binary is a binary message.
	Binary MessageType = 2
)

// ErrClosed is returned by the methods of a Conn that was closed locally
// (Close, CloseNow, or after a read or write error closed it).
var ErrClosed = errors.New("websocket: connection closed")

// Options configure a connection. A nil *Options means the defaults.
type Options struct {
	// MaxMessageSize is the largest message, in bytes after reassembly and
	// decompression, that ReadMessage accepts; a larger one closes the
	// connection with StatusMessageTooBig. It is checked from frame headers
	// before any payload is read, so a header that announces a huge frame
	// costs nothing. 0 means no limit: a peer can then make the server
	// buffer as much as it sends, and a compressed "deflate bomb" can expand
	// without bound, so set a limit whenever the peer is not trusted.
	// Negative values are invalid.
	MaxMessageSize int64

	// Compression negotiates permessage-deflate when the client offers it.
	// Both sides are asked not to keep compression context between
	// messages, so no flate state stays attached to a connection.
	// Default false.
	Compression bool

	// CompressionThreshold is the size below which messages are sent
	// uncompressed even on a compressed connection: deflating a small
	// message costs more CPU than the bytes it saves. 0 means 1024; a
	// negative value compresses every message.
	CompressionThreshold int
}

const defaultCompressionThreshold = 1024

func (o *Options) normalize() (Options, error) {
	var n Options
	if o != nil {
		n = *o
	}
	if n.MaxMessageSize < 0 {
		return n, errors.New("websocket: Options.MaxMessageSize is negative")
	}
	switch {
	case n.CompressionThreshold == 0:
		n.CompressionThreshold = defaultCompressionThreshold
	case n.CompressionThreshold < 0:
		n.CompressionThreshold = 0
	}
	return n, nil
}

// Sizes of the pooled buffers. Read buffers are borrowed only while bytes
// are flowing; write buffers only between the first buffered write and Flush.
const (
	readBufSize     = 4096
	writeBufSize    = 4096
	maxPooledBuffer = 64 << 10 // larger grown buffers are dropped, not pooled
	smallReadSize   = 128      // inline buffer used while a connection is idle
)

var (
	readBufPool  = sync.Pool{New: func() any { b := make([]byte, readBufSize); return &b }}
	writeBufPool = sync.Pool{New: func() any { b := make([]byte, 0, writeBufSize); return &b }}
)

// Conn is a server-side WebSocket connection.
//
// ReadMessage must be called from one goroutine at a time. All other methods
// are safe for concurrent use, including concurrently with ReadMessage.
type Conn struct {
	nc        net.Conn
	opts      Options
	compress  bool // permessage-deflate was negotiated
	client    bool // client side (Dial): masks what it sends, expects unmasked frames
	filled    bool // read side: the last read filled buf, so more is probably waiting in the kernel
	plain     bool // nc is a socket of package net: read and written through raw (internal/rawio)
	closing   atomic.Bool
	closeOnce sync.Once
	closeErr  error

	// Read side, owned by the goroutine in ReadMessage. buf is either
	// small[:] (idle, or small reads) or *pooled (borrowed from
	// readBufPool); buf[r:w] holds bytes read but not yet parsed.
	buf     []byte
	pooled  *[]byte
	r, w    int
	readErr error
	waitErr error // the failed read of WaitReadable, for the next ReadMessage
	small   [smallReadSize]byte

	// Write side, guarded by wmu. wbuf is borrowed from writeBufPool on the
	// first buffered write and returned by Flush. segs holds the order of
	// wbuf pieces and shared prepared frames when a large prepared frame is
	// queued (written with writev, never copied); wbuf[:mark] is already in segs.
	wmu      sync.Mutex
	raw      syscall.RawConn // nil when nc has no file descriptor (TLS, pipes): TryFlush then never writes
	wbuf     []byte
	wpooled  *[]byte
	segs     net.Buffers
	wv       net.Buffers // consumed by WriteTo; a field so it need not escape per Flush
	mark     int
	writeErr error
}

// newConn wraps an established connection. buffered holds bytes the client
// already sent after its handshake.
func newConn(nc net.Conn, buffered []byte, opts Options, compress bool) *Conn {
	c := &Conn{nc: nc, opts: opts, compress: compress}
	if sc, ok := nc.(syscall.Conn); ok {
		c.raw, _ = sc.SyscallConn()
	}
	// Reads and blocking writes skip nc's methods only for the sockets of
	// package net themselves: a wrapper that has a SyscallConn may still do
	// something in Read or Write.
	switch nc.(type) {
	case *net.TCPConn, *net.UnixConn:
		c.plain = c.raw != nil && rawio.Supported
	}
	c.buf = c.small[:]
	if len(buffered) > len(c.small) {
		c.borrowReadBuf(len(buffered))
	}
	c.w = copy(c.buf, buffered)
	return c
}

// RemoteAddr returns the address of the peer.
func (c *Conn) RemoteAddr() net.Addr { return c.nc.RemoteAddr() }

// SyscallConn returns the raw connection under c, for waiting on its file
// descriptor outside the Go runtime (engineio parks idle connections in an
// epoll set); ok is false when it has none (TLS, pipes). Reading or writing
// through it would bypass c's buffers: use it only to watch the descriptor.
func (c *Conn) SyscallConn() (rc syscall.RawConn, ok bool) { return c.raw, c.raw != nil }

// CompressionEnabled reports whether permessage-deflate was negotiated.
func (c *Conn) CompressionEnabled() bool { return c.compress }

// SetReadDeadline sets the deadline for ReadMessage. A read that times out
// leaves the stream at an unknown position, so it ends the connection.
func (c *Conn) SetReadDeadline(t time.Time) error { return c.nc.SetReadDeadline(t) }

// SetWriteDeadline sets the deadline for Flush (and for the pongs and close
// replies ReadMessage sends). A write that times out ends the connection.
func (c *Conn) SetWriteDeadline(t time.Time) error { return c.nc.SetWriteDeadline(t) }

// Buffered returns the number of bytes received but not yet consumed by
// ReadMessage. Like ReadMessage, it belongs to the reading goroutine. An echo
// or request/response loop can flush its replies only when it is 0, so that
// pipelined requests are answered with one write.
func (c *Conn) Buffered() int { return c.w - c.r }

// borrowReadBuf moves the unread bytes into a pooled buffer of at least n bytes.
func (c *Conn) borrowReadBuf(n int) {
	p := readBufPool.Get().(*[]byte)
	if len(*p) < n {
		b := make([]byte, n)
		p = &b
	}
	nb := *p
	c.w = copy(nb, c.buf[c.r:c.w])
	c.r = 0
	c.buf = nb
	c.pooled = p
}

// releaseReadBuf returns the pooled buffer; it is called only when the unread
// bytes fit in the inline array.
func (c *Conn) releaseReadBuf() {
	if c.pooled == nil {
		return
	}
	c.w = copy(c.small[:], c.buf[c.r:c.w])
	c.r = 0
	c.buf = c.small[:]
	if len(*c.pooled) <= maxPooledBuffer {
		readBufPool.Put(c.pooled)
	}
	c.pooled = nil
}

func (c *Conn) releaseWriteBuf() {
	if c.wpooled == nil {
		return
	}
	if cap(c.wbuf) <= maxPooledBuffer {
		*c.wpooled = c.wbuf[:0]
		writeBufPool.Put(c.wpooled)
	}
	c.wbuf, c.wpooled, c.mark = nil, nil, 0
}

// closeNet closes the TCP connection once; later calls return the first result.
func (c *Conn) closeNet() error {
	c.closing.Store(true)
	c.closeOnce.Do(func() { c.closeErr = c.nc.Close() })
	return c.closeErr
}
