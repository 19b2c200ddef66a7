package websocket

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/textproto"
	"net/url"
	"strings"
	"time"
)

// DialOptions configure Dial. A nil *DialOptions means the defaults.
type DialOptions struct {
	// Header holds extra request headers (Origin, Cookie, Authorization...).
	// The handshake's own headers (Upgrade, Connection, Sec-WebSocket-*)
	// cannot be overridden.
	Header http.Header

	// DialContext opens the TCP connection. Default: a net.Dialer with a
	// 30 s keep-alive.
	DialContext func(ctx context.Context, network, addr string) (net.Conn, error)

	// TLSConfig is used for wss:// URLs. Nil means a default configuration,
	// which verifies the server's certificate; setting InsecureSkipVerify
	// disables that check and lets anyone on the path read the connection.
	// ServerName defaults to the URL's host.
	TLSConfig *tls.Config

	// MaxMessageSize is the largest message ReadMessage accepts, as in
	// Options. 0 means no limit, which lets the server make the client
	// buffer as much as it sends.
	MaxMessageSize int64
}

// ErrBadHandshake is returned (wrapped) by Dial when the server's answer is
// not a valid WebSocket upgrade; the *http.Response is returned with it.
var ErrBadHandshake = errors.New("websocket: bad handshake")

// maxHandshakeBody bounds how much of a refused handshake's body Dial keeps
// in the returned response.
const maxHandshakeBody = 64 << 10

// Dial opens a client connection to a ws://, wss://, http:// or https:// URL
// and performs the opening handshake. ctx bounds the dial and the handshake
// only; once Dial returns it no longer affects the connection.
//
// The returned Conn masks every frame it sends, expects unmasked frames from
// the server, and offers no extension. On a refused handshake Dial returns
// the server's response (its body holds at most 64 KiB) with an error
// wrapping ErrBadHandshake.
func Dial(ctx context.Context, rawURL string, opts *DialOptions) (*Conn, *http.Response, error) {
	var o DialOptions
	if opts != nil {
		o = *opts
	}
	if o.MaxMessageSize < 0 {
		return nil, nil, errors.New("websocket: DialOptions.MaxMessageSize is negative")
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, nil, fmt.Errorf("websocket: %w", err)
	}
	secure := false
	switch u.Scheme {
	case "ws", "http":
	case "wss", "https":
		secure = true
	default:
		return nil, nil, fmt.Errorf("websocket: unsupported URL scheme %q", u.Scheme)
	}
	host := u.Host
	if u.Port() == "" {
		port := "80"
		if secure {
			port = "443"
		}
		host = net.JoinHostPort(u.Hostname(), port)
	}
	dial := o.DialContext
	if dial == nil {
		d := &net.Dialer{KeepAlive: 30 * time.Second}
		dial = d.DialContext
	}
	nc, err := dial(ctx, "tcp", host)
	if err != nil {
		return nil, nil, err
	}
	// The context bounds the handshake: cancelling it unblocks the reads
	// and writes below by closing the connection.
	stop := context.AfterFunc(ctx, func() { _ = nc.SetDeadline(time.Unix(1, 0)) })
	c, resp, err := handshake(ctx, nc, u, host, secure, &o)
	if !stop() && err == nil {
		err = ctx.Err()
	}
	if err != nil {
		_ = nc.Close()
		if ctx.Err() != nil && !errors.Is(err, ErrBadHandshake) {
			err = fmt.Errorf("websocket: dial: %w", ctx.Err())
		}
		return nil, resp, err
	}
	_ = nc.SetDeadline(time.Time{})
	return c, resp, nil
}

func handshake(ctx context.Context, nc net.Conn, u *url.URL, hostPort string, secure bool, o *DialOptions) (*Conn, *http.Response, error) {
	if secure {
		cfg := o.TLSConfig
		if cfg == nil {
			cfg = &tls.Config{}
		} else {
			cfg = cfg.Clone()
		}
		if cfg.ServerName == "" {
			cfg.ServerName = u.Hostname()
		}
		// Only HTTP/1.1 can be upgraded.
		cfg.NextProtos = []string{"http/1.1"}
		tc := tls.Client(nc, cfg)
		if err := tc.HandshakeContext(ctx); err != nil {
			return nil, nil, err
		}
		nc = tc
	}
	var raw [16]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return nil, nil, err
	}
	key := base64.StdEncoding.EncodeToString(raw[:])

	path := u.RequestURI()
	var b strings.Builder
	b.WriteString("GET " + path + " HTTP/1.1\r\nHost: " + u.Host + "\r\n")
	b.WriteString("Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: " + key + "\r\n")
	for k, vs := range o.Header {
		ck := textproto.CanonicalMIMEHeaderKey(k)
		switch ck {
		case "Host", "Upgrade", "Connection", "Sec-Websocket-Key", "Sec-Websocket-Version", "Sec-Websocket-Extensions":
			continue
		}
		if k == "" || strings.ContainsAny(k, " :\r\n") {
			continue
		}
		for _, v := range vs {
			b.WriteString(ck + ": " + strings.NewReplacer("\r", " ", "\n", " ").Replace(v) + "\r\n")
		}
	}
	b.WriteString("\r\n")
	if _, err := io.WriteString(nc, b.String()); err != nil {
		return nil, nil, fmt.Errorf("websocket: writing handshake: %w", err)
	}

	br := bufio.NewReaderSize(nc, 4096)
	req := &http.Request{Method: http.MethodGet, URL: u}
	resp, err := http.ReadResponse(br, req)
	if err != nil {
		return nil, nil, fmt.Errorf("websocket: reading handshake response: %w", err)
	}
	switch {
	case resp.StatusCode != http.StatusSwitchingProtocols:
		body, _ := io.ReadAll(io.LimitReader(resp.Body, maxHandshakeBody))
		resp.Body = io.NopCloser(strings.NewReader(string(body)))
		return nil, resp, fmt.Errorf("%w: status %s", ErrBadHandshake, resp.Status)
	case !headerHasToken(resp.Header, "Upgrade", "websocket"):
		return nil, resp, fmt.Errorf(`%w: Upgrade header has no "websocket" token`, ErrBadHandshake)
	case !headerHasToken(resp.Header, "Connection", "upgrade"):
		return nil, resp, fmt.Errorf(`%w: Connection header has no "upgrade" token`, ErrBadHandshake)
	case resp.Header.Get("Sec-WebSocket-Accept") != acceptKey(key):
		return nil, resp, fmt.Errorf("%w: wrong Sec-WebSocket-Accept", ErrBadHandshake)
	case resp.Header.Get("Sec-WebSocket-Extensions") != "":
		return nil, resp, fmt.Errorf("%w: server chose an extension that was not offered", ErrBadHandshake)
	}
	resp.Body = http.NoBody
	var buffered []byte
	if n := br.Buffered(); n > 0 {
		buffered, _ = br.Peek(n)
	}
	c := newConn(nc, buffered, Options{MaxMessageSize: o.MaxMessageSize}, false)
	c.client = true
	return c, resp, nil
}

// appendMaskedFrame appends a client frame: the header with the mask bit and
// a fresh random key, then the masked payload (RFC 6455 section 5.3).
func appendMaskedFrame(b []byte, op byte, rsv1 bool, payload []byte) []byte {
	b = appendHeader(b, op, rsv1, len(payload))
	// appendHeader wrote an unmasked header: the mask bit is in its second byte.
	hl := 2
	switch {
	case len(payload) > 0xffff:
		hl = 10
	case len(payload) > 125:
		hl = 4
	}
	b[len(b)-hl+1] |= 0x80
	var key [4]byte
	binary.LittleEndian.PutUint32(key[:], maskKey())
	b = append(b, key[:]...)
	start := len(b)
	b = append(b, payload...)
	mask(key, 0, b[start:])
	return b
}

// maskKey returns a masking key. RFC 6455 asks for keys an intermediary
// cannot predict; crypto/rand gives that.
func maskKey() uint32 {
	var k [4]byte
	_, _ = rand.Read(k[:])
	return binary.LittleEndian.Uint32(k[:])
}
