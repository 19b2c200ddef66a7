package websocket

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"unicode/utf8"

	"github.com/socketio-go/socketio/internal/rawio"
)

// header is a parsed client frame header.
type header struct {
	fin, rsv1 bool
	op        byte
	length    int64
	key       [4]byte
}

const (
	// directReadMin is the payload remainder from which ReadMessage reads
	// straight into the message instead of through the read buffer.
	directReadMin = readBufSize
	// growStep bounds how far ahead of the bytes actually received the
	// message buffer is allocated, so that a frame header announcing a huge
	// length costs memory only as its payload arrives.
	growStep = 64 << 10
)

// scratchPool holds buffers for compressed payloads and inflated output,
// which are needed only while one message is being decoded.
var scratchPool = sync.Pool{New: func() any { b := make([]byte, 0, readBufSize); return &b }}

// ReadMessage returns the next data message. The returned slice is newly
// allocated and belongs to the caller. Control frames are handled here: pings
// are answered, pongs ignored, and a close frame is answered and returned as
// a *CloseError. A peer that breaks the protocol is sent the matching close
// code and the connection is closed; the error is then a *CloseError with
// that code (for an oversized message it also matches ErrMessageTooBig);
// before returning it, ReadMessage discards the peer's remaining input for up
// to one second so that the close frame is not lost to a TCP reset.
// io.EOF means the peer closed TCP between messages without a close frame.
//
// Every error is final: the connection is closed and later calls return the
// same error. ReadMessage must not be called concurrently with itself.
func (c *Conn) ReadMessage() (MessageType, []byte, error) {
	if c.readErr != nil {
		return 0, nil, c.readErr
	}
	typ, msg, err := c.readMessage()
	if err != nil {
		var ce *CloseError
		if !errors.As(err, &ce) && c.closing.Load() && errors.Is(err, net.ErrClosed) {
			err = ErrClosed // our own Close or CloseNow ended the read
		}
		_ = c.closeNet()
		c.readErr = err
		c.r, c.w = 0, 0
		c.releaseReadBuf()
		return 0, nil, err
	}
	if c.r == c.w {
		// Drained: an idle connection keeps no pooled buffer.
		c.releaseReadBuf()
	}
	return typ, msg, nil
}

// WaitReadable blocks until at least one byte is buffered (at once when one
// is), or the connection fails; the error is then returned by the next
// ReadMessage. It belongs to the reading goroutine, like ReadMessage.
//
// A reader that waits here, rather than in ReadMessage, while its
// connection is idle parks on a stack under 1 kB deep: a goroutine started
// for it stays within its initial 2 KiB stack while idle.
func (c *Conn) WaitReadable() {
	if c.r < c.w || c.readErr != nil || c.waitErr != nil {
		return
	}
	if err := c.readMore(1); err != nil {
		c.waitErr = err
	}
}

func (c *Conn) readMessage() (MessageType, []byte, error) {
	var (
		typ        MessageType
		msg        []byte
		inMsg      bool
		compressed bool
		scratch    *[]byte // holds the compressed payload
		high       byte    // OR of the payload bytes read (before inflating)
	)
	defer func() {
		if scratch != nil {
			putScratch(scratch, msg)
		}
	}()
	limit := c.opts.MaxMessageSize
	for {
		h, err := c.readHeader(!inMsg)
		if err != nil {
			return 0, nil, err
		}
		if h.op >= opClose {
			if err := c.handleControl(h); err != nil {
				return 0, nil, err
			}
			continue
		}
		switch h.op {
		case opText, opBinary:
			if inMsg {
				return 0, nil, c.fail(StatusProtocolError, "new data frame inside a fragmented message")
			}
			if h.rsv1 && !c.compress {
				return 0, nil, c.fail(StatusProtocolError, "reserved bit set without negotiated extension")
			}
			inMsg, typ, compressed = true, MessageType(h.op), h.rsv1
			if compressed {
				scratch = scratchPool.Get().(*[]byte)
				msg = (*scratch)[:0]
			}
		case opContinuation:
			if !inMsg {
				return 0, nil, c.fail(StatusProtocolError, "continuation frame without a message")
			}
			if h.rsv1 {
				return 0, nil, c.fail(StatusProtocolError, "reserved bit set on a continuation frame")
			}
		default:
			return 0, nil, c.fail(StatusProtocolError, fmt.Sprintf("unknown opcode %d", h.op))
		}
		if limit > 0 {
			wireLimit := limit
			if compressed {
				// Deflate can expand incompressible data slightly; the real
				// check is on the inflated size.
				wireLimit += limit/512 + 64
			}
			if h.length > wireLimit-int64(len(msg)) {
				return 0, nil, c.tooBig()
			}
		}
		if msg == nil {
			msg = make([]byte, 0, min(h.length, growStep))
		}
		var or byte
		msg, or, err = c.readPayload(msg, h.length, h.key)
		high |= or
		if err != nil {
			return 0, nil, err
		}
		if h.fin {
			break
		}
	}
	if compressed {
		out, err := c.inflate(msg)
		putScratch(scratch, msg)
		scratch, msg = nil, nil
		if err != nil {
			return 0, nil, err
		}
		msg = out
	}
	// An uncompressed payload whose bytes all had the high bit clear is
	// ASCII: valid UTF-8 without another pass.
	if typ == Text && (compressed || high&0x80 != 0) && !utf8.Valid(msg) {
		return 0, nil, c.fail(StatusInvalidFramePayloadData, "invalid UTF-8 in text message")
	}
	return typ, msg, nil
}

func (c *Conn) tooBig() error {
	return fmt.Errorf("%w: %w", ErrMessageTooBig, c.fail(StatusMessageTooBig, "message too big"))
}

func putScratch(p *[]byte, b []byte) {
	if cap(b) <= maxPooledBuffer {
		*p = b[:0]
		scratchPool.Put(p)
	}
}

// readHeader reads and validates one frame header. atBoundary says no
// message is in progress, where a clean EOF is io.EOF rather than truncation.
func (c *Conn) readHeader(atBoundary bool) (header, error) {
	var h header
	empty := c.r == c.w
	if err := c.fill(2); err != nil {
		if err == io.EOF && !(atBoundary && empty && c.r == c.w) {
			err = io.ErrUnexpectedEOF
		}
		return h, err
	}
	b0, b1 := c.buf[c.r], c.buf[c.r+1]
	n := 2
	switch b1 & 0x7f {
	case 126:
		n += 2
	case 127:
		n += 8
	}
	if c.client {
		if b1&0x80 != 0 {
			return h, c.fail(StatusProtocolError, "masked server frame")
		}
	} else {
		if b1&0x80 == 0 {
			return h, c.fail(StatusProtocolError, "unmasked client frame")
		}
		n += 4
	}
	if err := c.fill(n); err != nil {
		return h, noEOF(err)
	}
	b := c.buf[c.r : c.r+n]
	h.fin = b0&0x80 != 0
	h.rsv1 = b0&0x40 != 0
	h.op = b0 & 0x0f
	if b0&0x30 != 0 {
		return h, c.fail(StatusProtocolError, "reserved bits set")
	}
	switch b1 & 0x7f {
	case 126:
		h.length = int64(binary.BigEndian.Uint16(b[2:]))
	case 127:
		l := binary.BigEndian.Uint64(b[2:])
		if l>>63 != 0 {
			return h, c.fail(StatusProtocolError, "invalid frame length")
		}
		h.length = int64(l)
	default:
		h.length = int64(b1 & 0x7f)
	}
	if !c.client {
		copy(h.key[:], b[n-4:])
	} // a server frame has no key: the zero key leaves the payload as it is
	c.r += n
	return h, nil
}

// handleControl processes a ping, pong or close frame; its header has been
// consumed.
func (c *Conn) handleControl(h header) error {
	if !h.fin || h.length > 125 {
		return c.fail(StatusProtocolError, "fragmented or oversized control frame")
	}
	if h.rsv1 {
		return c.fail(StatusProtocolError, "reserved bit set on a control frame")
	}
	n := int(h.length)
	if err := c.fill(n); err != nil {
		return noEOF(err)
	}
	payload := c.buf[c.r : c.r+n]
	mask(h.key, 0, payload)
	c.r += n
	switch h.op {
	case opPing:
		// payload points into the read buffer, which only this goroutine
		// touches; writeControl copies it before returning.
		return c.writeControl(opPong, payload)
	case opPong:
		return nil
	case opClose:
		return c.handleClose(payload)
	}
	return c.fail(StatusProtocolError, fmt.Sprintf("unknown opcode %d", h.op))
}

func (c *Conn) handleClose(p []byte) error {
	switch {
	case len(p) == 0:
		_ = c.closeWith(0, "", false)
		return &CloseError{Code: StatusNoStatusRcvd}
	case len(p) == 1:
		return c.fail(StatusProtocolError, "close frame with a 1-byte payload")
	}
	code := StatusCode(binary.BigEndian.Uint16(p))
	if !validReceivedCode(code) {
		return c.fail(StatusProtocolError, fmt.Sprintf("invalid close code %d", int(code)))
	}
	if !utf8.Valid(p[2:]) {
		return c.fail(StatusInvalidFramePayloadData, "invalid UTF-8 in close reason")
	}
	reason := string(p[2:])
	_ = c.closeWith(code, "", true) // echo the code, as RFC 6455 5.5.1 asks
	return &CloseError{Code: code, Reason: reason}
}

// fill ensures that at least n unread bytes are buffered.
func (c *Conn) fill(n int) error {
	for c.w-c.r < n {
		if err := c.readMore(n); err != nil {
			return err
		}
	}
	return nil
}

// readMore performs one read into the buffer, choosing the buffer first: an
// idle connection reads into the small inline array so that it holds no
// pooled buffer while blocked; the pooled buffer is borrowed when the
// inline one is too small or the last read filled it (more is waiting).
func (c *Conn) readMore(need int) error {
	if err := c.waitErr; err != nil {
		c.waitErr = nil
		return err
	}
	if c.r == c.w {
		c.r, c.w = 0, 0
	}
	if c.pooled == nil {
		if need > len(c.small) || c.filled {
			c.borrowReadBuf(need)
		}
	} else if c.r == c.w && !c.filled && need <= len(c.small) {
		c.releaseReadBuf()
	}
	if len(c.buf)-c.r < need || c.w == len(c.buf) {
		c.w = copy(c.buf, c.buf[c.r:c.w])
		c.r = 0
	}
	var n int
	var err error
	if c.plain {
		n, err = rawio.Read(c.raw, c.buf[c.w:]) // see internal/rawio
	} else {
		n, err = c.nc.Read(c.buf[c.w:])
	}
	c.w += n
	c.filled = c.w == len(c.buf)
	if n > 0 {
		return nil
	}
	if err == nil {
		err = io.ErrNoProgress
	}
	return err
}

// readPayload appends n payload bytes to dst, unmasked, and returns the OR
// of those bytes (its high bit clear: they are ASCII).
func (c *Conn) readPayload(dst []byte, n int64, key [4]byte) ([]byte, byte, error) {
	pos := 0
	var or, o byte
	for n > 0 {
		if c.r == c.w {
			if n >= directReadMin {
				// Large remainder: read straight into the message, growing it
				// only as far as the data that is actually arriving.
				if len(dst) == cap(dst) {
					dst = grow(dst, n)
				}
				l := len(dst)
				chunk := int(min(n, int64(cap(dst)-l)))
				m, err := io.ReadFull(c.nc, dst[l:l+chunk])
				dst = dst[:l+m]
				pos, o = maskOr(key, pos, dst[l:])
				or |= o
				n -= int64(m)
				if err != nil {
					return dst, or, noEOF(err)
				}
				continue
			}
			if err := c.readMore(1); err != nil {
				return dst, or, noEOF(err)
			}
		}
		k := int(min(int64(c.w-c.r), n))
		l := len(dst)
		dst = append(dst, c.buf[c.r:c.r+k]...)
		pos, o = maskOr(key, pos, dst[l:])
		or |= o
		c.r += k
		n -= int64(k)
	}
	return dst, or, nil
}

// grow returns dst with room for min(n, max(len(dst), growStep)) more bytes.
func grow(dst []byte, n int64) []byte {
	add := int(min(n, int64(max(len(dst), growStep))))
	nd := make([]byte, len(dst), len(dst)+add)
	copy(nd, dst)
	return nd
}

func noEOF(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// inflate decompresses one message payload into a new slice, enforcing
// MaxMessageSize on the output as it is produced.
func (c *Conn) inflate(src []byte) ([]byte, error) {
	d := getDecompressor(src)
	defer putDecompressor(d)
	p := scratchPool.Get().(*[]byte)
	out := (*p)[:0]
	defer func() { putScratch(p, out) }()
	limit := c.opts.MaxMessageSize
	for {
		if len(out) == cap(out) {
			size := max(2*cap(out), readBufSize)
			if limit > 0 && int64(size) > limit+1 {
				size = int(limit + 1)
			}
			nb := make([]byte, len(out), size)
			copy(nb, out)
			out = nb
		}
		n, err := d.fr.Read(out[len(out):cap(out)])
		out = out[:len(out)+n]
		if limit > 0 && int64(len(out)) > limit {
			return nil, c.tooBig()
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, c.fail(StatusInvalidFramePayloadData, "invalid compressed data")
		}
	}
	msg := make([]byte, len(out))
	copy(msg, out)
	return msg, nil
}
