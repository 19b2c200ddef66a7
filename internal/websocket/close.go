package websocket

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"
)

// StatusCode is a close code (RFC 6455 section 7.4).
type StatusCode int

// Close codes used by this package. Applications may also use 4000-4999.
const (
	StatusNormalClosure           StatusCode = 1000
	StatusGoingAway               StatusCode = 1001
	StatusProtocolError           StatusCode = 1002
	StatusUnsupportedData         StatusCode = 1003
	StatusNoStatusRcvd            StatusCode = 1005 // never sent: reported when a close frame had no code
	StatusAbnormalClosure         StatusCode = 1006 // never sent
	StatusInvalidFramePayloadData StatusCode = 1007
	StatusPolicyViolation         StatusCode = 1008
	StatusMessageTooBig           StatusCode = 1009
	StatusInternalError           StatusCode = 1011
)

// CloseError is returned by ReadMessage when the peer sent a close frame,
// or when this side closed the connection because the peer violated the
// protocol; then Code is the code that was sent.
type CloseError struct {
	Code   StatusCode
	Reason string
}

func (e *CloseError) Error() string {
	if e.Reason == "" {
		return fmt.Sprintf("websocket: close %d", int(e.Code))
	}
	return fmt.Sprintf("websocket: close %d: %s", int(e.Code), e.Reason)
}

// ErrMessageTooBig is returned (wrapped together with a *CloseError of code
// StatusMessageTooBig) when a message exceeds Options.MaxMessageSize.
var ErrMessageTooBig = errors.New("websocket: message too big")

// closeTimeout bounds the close frame write, so that Close returns promptly
// even when the peer has stopped reading.
const closeTimeout = time.Second

// maxCloseReason keeps the close payload within the 125 bytes allowed for
// control frames (2 of them are the code).
const maxCloseReason = 123

// validReceivedCode reports whether a peer may send code (RFC 6455 7.4.1,
// plus the codes registered later with IANA and the 3000-4999 ranges).
func validReceivedCode(code StatusCode) bool {
	switch {
	case code >= 1000 && code <= 1003, code >= 1007 && code <= 1014:
		return true
	case code >= 3000 && code <= 4999:
		return true
	}
	return false
}

// Close sends a close frame with code and reason (best effort, bounded by a
// one-second write deadline) after anything already buffered, then closes the
// TCP connection. It does not wait for the peer's reply: the server closes
// the TCP connection first, as RFC 6455 recommends. Calls after the first
// return nil. A reason longer than 123 bytes is truncated; a code that may
// not be sent (1005, 1006, 1015, out of range) sends a close frame without one.
func (c *Conn) Close(code StatusCode, reason string) error {
	return c.closeWith(code, reason, true)
}

// CloseNow closes the TCP connection without a close frame. Calls after the
// first return nil.
func (c *Conn) CloseNow() error {
	if c.closing.Swap(true) {
		return nil
	}
	return c.closeNet()
}

// closeWith sends a close frame (withCode=false sends an empty one, the reply
// to a close frame without code) and closes the connection.
func (c *Conn) closeWith(code StatusCode, reason string, withCode bool) error {
	if c.closing.Swap(true) {
		return nil
	}
	err := c.sendClose(code, reason, withCode)
	if cerr := c.closeNet(); err == nil {
		err = cerr
	}
	return err
}

// sendClose writes a close frame after anything buffered; it is the last
// write on the connection.
func (c *Conn) sendClose(code StatusCode, reason string, withCode bool) error {
	// A writer stuck on a peer that stopped reading holds wmu; the deadline
	// unblocks it so that the close is bounded too.
	_ = c.nc.SetWriteDeadline(time.Now().Add(closeTimeout))
	c.wmu.Lock()
	var err error
	if c.writeErr == nil {
		var p [125]byte
		payload := p[:0]
		if withCode && validReceivedCode(code) {
			payload = binary.BigEndian.AppendUint16(payload, uint16(code))
			payload = append(payload, truncateUTF8(reason, maxCloseReason)...)
		}
		c.appendFrame(opClose, false, payload)
		err = c.flushLocked()
		c.writeErr = ErrClosed
	}
	clear(c.segs)
	c.segs = c.segs[:0]
	c.releaseWriteBuf()
	c.wmu.Unlock()
	return err
}

// truncateUTF8 cuts s to at most n bytes without splitting a rune.
func truncateUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// Bounds of the lingering close after a protocol error.
const (
	lingerTimeout = time.Second
	lingerBytes   = 1 << 20
)

// fail closes the connection with code because the peer broke the protocol
// and returns the error ReadMessage reports. It runs on the reading
// goroutine. Closing a TCP connection that still has unread input makes the
// kernel send a reset, which can destroy the close frame before the peer
// reads it, and the peer would see 1006 instead of, say, 1009. So, like an
// HTTP server's lingering close, it half-closes and discards input for a
// bounded time and size before closing.
func (c *Conn) fail(code StatusCode, reason string) error {
	if !c.closing.Swap(true) {
		_ = c.sendClose(code, reason, true)
		if cw, ok := c.nc.(interface{ CloseWrite() error }); ok {
			_ = cw.CloseWrite()
		}
		_ = c.nc.SetReadDeadline(time.Now().Add(lingerTimeout))
		if c.pooled == nil {
			c.borrowReadBuf(readBufSize)
		}
		for n := 0; n < lingerBytes; {
			m, err := c.nc.Read(c.buf)
			n += m
			if err != nil {
				break
			}
		}
		c.r, c.w = 0, 0
		_ = c.closeNet()
	}
	return &CloseError{Code: code, Reason: reason}
}
