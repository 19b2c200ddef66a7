package websocket

import (
	"bufio"
	"crypto/sha1"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/textproto"
	"strings"
	"time"
)

// websocketGUID is appended to the client's key to compute the accept key
// (RFC 6455 section 1.3).
const websocketGUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

// IsUpgradeRequest reports whether r asks for a WebSocket upgrade: a GET
// whose Connection header contains the token "upgrade" and whose Upgrade
// header contains "websocket".
func IsUpgradeRequest(r *http.Request) bool {
	return r.Method == http.MethodGet &&
		headerHasToken(r.Header, "Connection", "upgrade") &&
		headerHasToken(r.Header, "Upgrade", "websocket")
}

// headerHasToken reports whether a comma-separated header (possibly sent
// on several lines) contains token, ignoring case.
func headerHasToken(h http.Header, name, token string) bool {
	for _, v := range h[name] {
		for v != "" {
			var t string
			t, v, _ = strings.Cut(v, ",")
			if strings.EqualFold(strings.TrimSpace(t), token) {
				return true
			}
		}
	}
	return false
}

// HandshakeError describes a rejected handshake; Upgrade has already written
// the HTTP error response.
type HandshakeError struct {
	Status int
	Reason string
}

func (e *HandshakeError) Error() string {
	return fmt.Sprintf("websocket: bad handshake (%d): %s", e.Status, e.Reason)
}

func reject(w http.ResponseWriter, status int, reason string) error {
	if status == http.StatusUpgradeRequired {
		w.Header().Set("Sec-WebSocket-Version", "13")
	}
	http.Error(w, "websocket: "+reason, status)
	return &HandshakeError{Status: status, Reason: reason}
}

// Upgrade validates the handshake in r, writes the 101 response (with the
// extra headers in hdr, which may be nil), takes over the connection and
// returns it. On a bad handshake it writes 400 (426 with
// Sec-WebSocket-Version: 13 for an unsupported version) and returns a
// *HandshakeError. Bytes the client sent right after its request are kept.
// Deadlines set by the http.Server are cleared.
func Upgrade(w http.ResponseWriter, r *http.Request, hdr http.Header, opts *Options) (*Conn, error) {
	o, err := opts.normalize()
	if err != nil {
		http.Error(w, "websocket: server misconfigured", http.StatusInternalServerError)
		return nil, err
	}
	switch {
	case r.Method != http.MethodGet:
		return nil, reject(w, http.StatusBadRequest, "method is not GET")
	case r.ProtoMajor != 1:
		return nil, reject(w, http.StatusBadRequest, "WebSocket over HTTP/2 is not supported")
	case !headerHasToken(r.Header, "Connection", "upgrade"):
		return nil, reject(w, http.StatusBadRequest, `Connection header has no "upgrade" token`)
	case !headerHasToken(r.Header, "Upgrade", "websocket"):
		return nil, reject(w, http.StatusBadRequest, `Upgrade header has no "websocket" token`)
	case r.Header.Get("Sec-WebSocket-Version") != "13":
		return nil, reject(w, http.StatusUpgradeRequired, "unsupported Sec-WebSocket-Version")
	}
	key := r.Header.Get("Sec-WebSocket-Key")
	if raw, err := base64.StdEncoding.DecodeString(key); err != nil || len(raw) != 16 {
		return nil, reject(w, http.StatusBadRequest, "invalid Sec-WebSocket-Key")
	}
	hj, ok := w.(http.Hijacker)
	if !ok {
		http.Error(w, "websocket: connection cannot be hijacked", http.StatusInternalServerError)
		return nil, errors.New("websocket: http.ResponseWriter does not implement http.Hijacker")
	}
	compress := o.Compression && negotiateDeflate(r.Header["Sec-Websocket-Extensions"])

	resp := make([]byte, 0, 256)
	resp = append(resp, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: "...)
	resp = append(resp, acceptKey(key)...)
	resp = append(resp, "\r\n"...)
	if compress {
		resp = append(resp, "Sec-WebSocket-Extensions: "+extensionResponse+"\r\n"...)
	}
	resp = appendExtraHeaders(resp, hdr, compress)
	resp = append(resp, "\r\n"...)

	nc, brw, err := hj.Hijack()
	if err != nil {
		return nil, fmt.Errorf("websocket: hijack: %w", err)
	}
	// The http.Server's read/write timeouts were meant for the request, not
	// for a long-lived connection.
	_ = nc.SetDeadline(time.Time{})
	var buffered []byte
	if n := brw.Reader.Buffered(); n > 0 {
		buffered, _ = brw.Reader.Peek(n)
	}
	c := newConn(nc, buffered, o, compress)
	// newConn copied the buffered bytes. The hijacked bufio.Reader and
	// Writer are ours now, but net/http keeps pointers to them for as long
	// as the handler runs (which is the connection's lifetime when the
	// handler reads in its own goroutine): zeroing them frees their 8 KiB
	// of buffers, most of the memory an idle connection would hold.
	*brw.Reader = bufio.Reader{}
	*brw.Writer = bufio.Writer{}
	if _, err := nc.Write(resp); err != nil {
		_ = nc.Close()
		return nil, fmt.Errorf("websocket: writing handshake response: %w", err)
	}
	return c, nil
}

// appendExtraHeaders appends hdr, skipping the headers the handshake owns and
// neutralising line breaks so a value cannot inject response lines.
func appendExtraHeaders(b []byte, hdr http.Header, compress bool) []byte {
	for k, vs := range hdr {
		ck := textproto.CanonicalMIMEHeaderKey(k)
		switch ck {
		case "Upgrade", "Connection", "Sec-Websocket-Accept":
			continue
		case "Sec-Websocket-Extensions":
			if compress {
				continue
			}
		}
		if strings.ContainsAny(k, " :\r\n") || k == "" {
			continue
		}
		for _, v := range vs {
			v = strings.Map(func(r rune) rune {
				if r == '\r' || r == '\n' {
					return ' '
				}
				return r
			}, v)
			b = append(b, k...)
			b = append(b, ": "...)
			b = append(b, v...)
			b = append(b, "\r\n"...)
		}
	}
	return b
}

func acceptKey(key string) string {
	h := sha1.New()
	h.Write([]byte(key))
	h.Write([]byte(websocketGUID))
	return base64.StdEncoding.EncodeToString(h.Sum(nil))
}
