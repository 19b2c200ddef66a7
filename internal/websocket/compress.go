package websocket

import (
	"compress/flate"
	"io"
	"strings"
	"sync"
)

// extensionResponse is the only permessage-deflate configuration this
// package accepts: without context takeover on either side, every message is
// deflated and inflated on its own, so the (large) flate state is pooled
// between messages instead of held by each connection.
const extensionResponse = "permessage-deflate; server_no_context_takeover; client_no_context_takeover"

// negotiateDeflate reports whether one of the permessage-deflate offers in
// the Sec-WebSocket-Extensions header values can be accepted.
func negotiateDeflate(values []string) bool {
	for _, v := range values {
		for _, offer := range strings.Split(v, ",") {
			if acceptableOffer(offer) {
				return true
			}
		}
	}
	return false
}

func acceptableOffer(offer string) bool {
	params := strings.Split(offer, ";")
	if !strings.EqualFold(strings.TrimSpace(params[0]), "permessage-deflate") {
		return false
	}
	seen := map[string]bool{}
	for _, p := range params[1:] {
		name, val, hasVal := strings.Cut(p, "=")
		name = strings.ToLower(strings.TrimSpace(name))
		val = strings.Trim(strings.TrimSpace(val), `"`)
		if seen[name] {
			return false // RFC 7692 5.1: duplicate parameters make the offer invalid
		}
		seen[name] = true
		switch name {
		case "server_no_context_takeover", "client_no_context_takeover":
			if hasVal {
				return false
			}
		case "server_max_window_bits":
			// compress/flate always uses a 32 KiB window, so only 15 can be honoured.
			if val != "15" {
				return false
			}
		case "client_max_window_bits":
			// The client may use any window: the inflater handles all of them.
			if hasVal && !validWindowBits(val) {
				return false
			}
		default:
			return false
		}
	}
	return true
}

func validWindowBits(v string) bool {
	switch v {
	case "8", "9", "10", "11", "12", "13", "14", "15":
		return true
	}
	return false
}

// compressor deflates one message into buf. Pooled: a flate.Writer
// allocates hundreds of KiB.
type compressor struct {
	fw  *flate.Writer
	buf []byte
}

var compressorPool sync.Pool

func getCompressor() *compressor {
	if z, ok := compressorPool.Get().(*compressor); ok {
		return z
	}
	z := &compressor{}
	// BestSpeed: messages are small and latency matters more than ratio.
	z.fw, _ = flate.NewWriter(nil, flate.BestSpeed)
	return z
}

func putCompressor(z *compressor) {
	if cap(z.buf) > maxPooledBuffer {
		z.buf = nil
	}
	compressorPool.Put(z)
}

func (z *compressor) Write(p []byte) (int, error) {
	z.buf = append(z.buf, p...)
	return len(p), nil
}

// compress returns the deflated data without the trailing empty block
// (RFC 7692 7.2.1); ok is false when compression would not shrink the data.
// The result is valid until the compressor is reused.
func (z *compressor) compress(data []byte) (out []byte, ok bool) {
	z.buf = z.buf[:0]
	z.fw.Reset(z)
	_, _ = z.fw.Write(data) // writes to z cannot fail
	_ = z.fw.Flush()
	out = z.buf
	if len(out) >= 4 {
		out = out[:len(out)-4] // 0x00 0x00 0xff 0xff
	}
	return out, len(out) < len(data)
}

// deflateTail ends a message's stream: the empty stored block the sender
// removed, then a final empty block so the inflater reports io.EOF.
var deflateTail = []byte{0x00, 0x00, 0xff, 0xff, 0x01, 0x00, 0x00, 0xff, 0xff}

// decompressor inflates one message. It implements io.ByteReader over the
// payload and tail itself, so flate does not wrap it in a bufio.Reader.
type decompressor struct {
	fr   io.ReadCloser
	a, b []byte
}

var decompressorPool sync.Pool

func getDecompressor(payload []byte) *decompressor {
	d, ok := decompressorPool.Get().(*decompressor)
	if !ok {
		d = &decompressor{}
	}
	d.a, d.b = payload, deflateTail
	if d.fr == nil {
		d.fr = flate.NewReader(d)
	} else {
		_ = d.fr.(flate.Resetter).Reset(d, nil)
	}
	return d
}

func putDecompressor(d *decompressor) {
	d.a, d.b = nil, nil
	decompressorPool.Put(d)
}

func (d *decompressor) Read(p []byte) (int, error) {
	if len(d.a) == 0 {
		d.a, d.b = d.b, nil
	}
	if len(d.a) == 0 {
		return 0, io.EOF
	}
	n := copy(p, d.a)
	d.a = d.a[n:]
	return n, nil
}

func (d *decompressor) ReadByte() (byte, error) {
	if len(d.a) == 0 {
		d.a, d.b = d.b, nil
	}
	if len(d.a) == 0 {
		return 0, io.EOF
	}
	b := d.a[0]
	d.a = d.a[1:]
	return b, nil
}
