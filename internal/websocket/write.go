package websocket

import (
	"encoding/binary"
	"errors"
	"sync"

	"github.com/socketio-go/socketio/internal/rawio"
)

// Opcodes (RFC 6455 section 5.2).
const (
	opContinuation = 0x0
	opText         = 0x1
	opBinary       = 0x2
	opClose        = 0x8
	opPing         = 0x9
	opPong         = 0xA
)

var errBadMessageType = errors.New("websocket: message type must be Text or Binary")

// sharedCopyMax is the size up to which a prepared frame is copied into the
// write buffer: below it one contiguous write is cheaper than an extra iovec.
const sharedCopyMax = 2048

// maxHeaderLen is the longest unmasked frame header.
const maxHeaderLen = 10

// appendHeader appends an unmasked (server) frame header.
func appendHeader(b []byte, op byte, rsv1 bool, n int) []byte {
	b0 := 0x80 | op // this package never fragments what it sends
	if rsv1 {
		b0 |= 0x40
	}
	switch {
	case n <= 125:
		return append(b, b0, byte(n))
	case n <= 0xffff:
		return append(b, b0, 126, byte(n>>8), byte(n))
	default:
		return binary.BigEndian.AppendUint64(append(b, b0, 127), uint64(n))
	}
}

// appendFrame buffers one frame; wmu must be held.
func (c *Conn) appendFrame(op byte, rsv1 bool, payload []byte) {
	c.borrowWriteBuf()
	if c.client {
		c.wbuf = appendMaskedFrame(c.wbuf, op, rsv1, payload)
		return
	}
	c.wbuf = appendHeader(c.wbuf, op, rsv1, len(payload))
	c.wbuf = append(c.wbuf, payload...)
}

// WriteMessage buffers data as one message; it does not write to the network
// until Flush. On a connection with compression it deflates messages of at
// least Options.CompressionThreshold bytes. data may be reused after it returns.
func (c *Conn) WriteMessage(typ MessageType, data []byte) error {
	return c.writeMessage(typ, data, true)
}

// WriteUncompressed is WriteMessage for a message that is never compressed,
// even on a connection that negotiated compression.
func (c *Conn) WriteUncompressed(typ MessageType, data []byte) error {
	return c.writeMessage(typ, data, false)
}

func (c *Conn) writeMessage(typ MessageType, data []byte, compress bool) error {
	return c.write(typ, -1, data, compress)
}

// WritePrefixed is WriteMessage of the byte prefix followed by data, without
// the caller joining them (an Engine.IO text packet is its type digit and its
// data). With compress false it never compresses, as WriteUncompressed.
func (c *Conn) WritePrefixed(typ MessageType, prefix byte, data []byte, compress bool) error {
	return c.write(typ, int(prefix), data, compress)
}

// write buffers data as one message, after the byte prefix unless prefix < 0.
func (c *Conn) write(typ MessageType, prefix int, data []byte, compress bool) error {
	if typ != Text && typ != Binary {
		return errBadMessageType
	}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if err := c.writableLocked(); err != nil {
		return err
	}
	if prefix >= 0 {
		c.appendPrefixedLocked(typ, byte(prefix), data, compress)
	} else {
		c.appendMessageLocked(typ, data, compress)
	}
	return nil
}

// appendMessageLocked buffers data as one message, deflated when compress
// allows it, the connection negotiated compression and data is large
// enough; wmu must be held.
func (c *Conn) appendMessageLocked(typ MessageType, data []byte, compress bool) {
	if compress && c.compress && len(data) >= c.opts.CompressionThreshold {
		z := getCompressor()
		if out, ok := z.compress(data); ok {
			c.appendFrame(byte(typ), true, out)
			putCompressor(z)
			return
		}
		putCompressor(z)
	}
	c.appendFrame(byte(typ), false, data)
}

// TryWritePrefixed is WritePrefixed followed by TryFlush. When nothing else
// is buffered and the frame is small, the frame is assembled in a pooled
// array and written from there with one non-blocking write, the write buffer
// being borrowed only for what the socket does not take.
func (c *Conn) TryWritePrefixed(typ MessageType, prefix byte, data []byte, compress bool) (bool, error) {
	if typ != Text && typ != Binary {
		return false, errBadMessageType
	}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if err := c.writableLocked(); err != nil {
		return false, err
	}
	n := len(data) + 1
	if c.raw != nil && !c.client && len(c.wbuf) == 0 && len(c.segs) == 0 && n <= directMax &&
		!(compress && c.compress && n >= c.opts.CompressionThreshold) {
		var h [maxHeaderLen + 1]byte
		hdr := append(appendHeader(h[:0], byte(typ), false, n), prefix)
		sent := tryWriteJoined(c.raw, hdr, data)
		if sent == len(hdr)+len(data) {
			return true, nil
		}
		// Keep the rest, in order, for the next flush.
		c.borrowWriteBuf()
		c.wbuf = appendUnsent(c.wbuf, hdr, data, sent)
		return false, nil
	}
	c.appendPrefixedLocked(typ, prefix, data, compress)
	return c.tryFlushLocked(), nil
}

// appendUnsent appends to dst what a write of hdr followed by data left
// when it took sent bytes.
func appendUnsent(dst, hdr, data []byte, sent int) []byte {
	if sent < len(hdr) {
		dst = append(dst, hdr[sent:]...)
		sent = len(hdr)
	}
	return append(dst, data[sent-len(hdr):]...)
}

// appendPrefixedLocked buffers prefix+data as one message; wmu must be held.
func (c *Conn) appendPrefixedLocked(typ MessageType, prefix byte, data []byte, compress bool) {
	n := len(data) + 1
	if c.client || (compress && c.compress && n >= c.opts.CompressionThreshold) {
		// Masking and deflating need the payload in one piece.
		c.appendMessageLocked(typ, append(append(make([]byte, 0, n), prefix), data...), compress)
		return
	}
	c.borrowWriteBuf()
	c.wbuf = append(appendHeader(c.wbuf, byte(typ), false, n), prefix)
	c.wbuf = append(c.wbuf, data...)
}

// borrowWriteBuf makes sure wbuf is borrowed from writeBufPool; wmu must be held.
func (c *Conn) borrowWriteBuf() {
	if c.wpooled == nil {
		c.wpooled = writeBufPool.Get().(*[]byte)
		c.wbuf = (*c.wpooled)[:0]
	}
}

func (c *Conn) writableLocked() error {
	if c.writeErr != nil {
		return c.writeErr
	}
	if c.closing.Load() {
		return ErrClosed
	}
	return nil
}

// Flush writes everything buffered with one write (or one writev when large
// prepared frames are queued) and releases the write buffer. A failed write
// closes the connection: the peer may have received part of a frame.
func (c *Conn) Flush() error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if err := c.writableLocked(); err != nil {
		return err
	}
	return c.flushLocked()
}

func (c *Conn) flushLocked() error {
	if c.writeErr != nil {
		return c.writeErr
	}
	var err error
	if len(c.segs) == 0 {
		if len(c.wbuf) > 0 {
			if c.plain {
				_, err = rawio.Write(c.raw, c.wbuf)
			} else {
				_, err = c.nc.Write(c.wbuf)
			}
		}
	} else {
		if len(c.wbuf) > c.mark {
			c.segs = append(c.segs, c.wbuf[c.mark:])
		}
		c.wv = c.segs
		_, err = c.wv.WriteTo(c.nc)
		clear(c.segs) // drop references to shared frames
		c.segs, c.wv = c.segs[:0], nil
	}
	c.releaseWriteBuf()
	if err != nil {
		c.writeErr = err
		_ = c.closeNet()
	}
	return err
}

// PreparedMessage is a message encoded once and written to many connections,
// such as a broadcast. It is safe for concurrent use.
type PreparedMessage struct {
	typ   MessageType
	frame []byte // header + payload, uncompressed
	hlen  int    // header length within frame

	once       sync.Once
	zframe     []byte // compressed frame, or nil if compression does not help
	noCompress bool   // never sent compressed
}

// NewPreparedMessage encodes data (copied) as a server frame. The compressed
// variant, used for connections that negotiated compression, is computed on
// first use.
func NewPreparedMessage(typ MessageType, data []byte) *PreparedMessage {
	pm := &PreparedMessage{typ: typ}
	frame := appendHeader(make([]byte, 0, len(data)+10), byte(typ), false, len(data))
	pm.hlen = len(frame)
	pm.frame = append(frame, data...)
	return pm
}

// NewUncompressedPreparedMessage is NewPreparedMessage for a message that
// is never compressed, even on connections that negotiated compression.
func NewUncompressedPreparedMessage(typ MessageType, data []byte) *PreparedMessage {
	pm := NewPreparedMessage(typ, data)
	pm.noCompress = true
	return pm
}

// Payload returns the message's type and data (not to be modified), for a
// connection that relays messages rather than frames.
func (pm *PreparedMessage) Payload() (MessageType, []byte) { return pm.typ, pm.frame[pm.hlen:] }

func (pm *PreparedMessage) compressed() []byte {
	pm.once.Do(func() {
		z := getCompressor()
		if out, ok := z.compress(pm.frame[pm.hlen:]); ok {
			pm.zframe = append(appendHeader(make([]byte, 0, len(out)+10), byte(pm.typ), true, len(out)), out...)
		}
		putCompressor(z)
	})
	return pm.zframe
}

// WritePrepared buffers pm like WriteMessage, without encoding it again: small
// frames are copied into the write buffer, larger ones are queued by reference
// and written with writev by Flush.
func (c *Conn) WritePrepared(pm *PreparedMessage) error {
	if pm == nil || (pm.typ != Text && pm.typ != Binary) {
		return errBadMessageType
	}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if err := c.writableLocked(); err != nil {
		return err
	}
	if c.client {
		// Prepared frames are encoded unmasked, for servers.
		c.appendFrame(byte(pm.typ), false, pm.frame[pm.hlen:])
		return nil
	}
	frame := pm.frame
	if c.compress && !pm.noCompress && len(frame)-pm.hlen >= c.opts.CompressionThreshold {
		if z := pm.compressed(); z != nil {
			frame = z
		}
	}
	if len(frame) <= sharedCopyMax {
		c.borrowWriteBuf()
		c.wbuf = append(c.wbuf, frame...)
		return nil
	}
	if len(c.wbuf) > c.mark {
		c.segs = append(c.segs, c.wbuf[c.mark:])
		c.mark = len(c.wbuf)
	}
	c.segs = append(c.segs, frame)
	return nil
}

// writeControl sends a control frame now (pong, used by the reader).
func (c *Conn) writeControl(op byte, payload []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if err := c.writableLocked(); err != nil {
		return err
	}
	c.appendFrame(op, false, payload)
	return c.flushLocked()
}

// TryFlush is Flush for a writer that must not block: it makes one
// non-blocking write of what is buffered and reports whether everything was
// written. What the socket did not take stays buffered, in order, for the
// next Flush (or TryFlush). It never waits, so it needs no write deadline;
// on connections without a file descriptor (TLS, pipes), with large
// prepared frames queued, or when the write fails, it writes nothing and
// leaves the buffer (and any error) to Flush.
func (c *Conn) TryFlush() bool {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	return c.tryFlushLocked()
}

func (c *Conn) tryFlushLocked() bool {
	if c.writableLocked() != nil || c.raw == nil || len(c.segs) != 0 {
		return false
	}
	if len(c.wbuf) == 0 {
		c.releaseWriteBuf()
		return true
	}
	n := tryWrite(c.raw, c.wbuf)
	if n == len(c.wbuf) {
		c.releaseWriteBuf()
		return true
	}
	if n > 0 {
		c.wbuf = c.wbuf[:copy(c.wbuf, c.wbuf[n:])]
	}
	return false
}
