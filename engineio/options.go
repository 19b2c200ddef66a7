package engineio

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/socketio-go/socketio/internal/nolog"
)

// Transport names, as used in the "transport" query parameter.
const (
	TransportPolling   = "polling"
	TransportWebSocket = "websocket"
)

// Options configures a Server. The zero value, or a nil *Options, gives the
// defaults of the Node engine.io server. Field names follow engine.io's options.
type Options struct {
	// Path is the URL path prefix the server answers. Default "/engine.io/".
	Path string

	// PingInterval is the time between two pings sent by the server. Default 25 s.
	PingInterval time.Duration
	// PingTimeout is how long the server waits for a pong after a ping before
	// it closes the session with "ping timeout". Default 20 s.
	PingTimeout time.Duration
	// UpgradeTimeout is how long an upgrade from polling to WebSocket may take
	// before the new WebSocket is closed. Default 10 s.
	UpgradeTimeout time.Duration

	// MaxHTTPBufferSize is the largest polling request body, and the largest
	// WebSocket message, that the server accepts (advertised as maxPayload).
	// Default 1e6 bytes. A larger polling body gets HTTP 413; a larger WebSocket
	// message closes the session.
	MaxHTTPBufferSize int64

	// Transports lists the transports clients may use. Default polling and websocket.
	Transports []string
	// DisableUpgrades turns off upgrades from polling to WebSocket (Node's
	// allowUpgrades: false).
	DisableUpgrades bool

	// AllowRequest, when set, is called for every request that would open a
	// session (a handshake) or upgrade one to WebSocket. A non-nil error refuses
	// the request with HTTP 403, code 4 ("Forbidden") and the error's text as the
	// message. Security: this is the place to check credentials or origins of
	// WebSocket requests, which browsers do not subject to CORS.
	AllowRequest func(r *http.Request) error

	// CORS enables Cross-Origin Resource Sharing headers on polling requests.
	// Nil (the default) sends none.
	CORS *CORSOptions

	// Cookie, when set, makes the handshake response set a cookie holding the
	// session id. Nil (the default) sets none.
	Cookie *CookieOptions

	// PerMessageDeflate enables the permessage-deflate WebSocket extension.
	// Off by default, as in Node: it costs CPU and memory on every connection.
	PerMessageDeflate bool

	// DisableHTTPCompression turns off gzip/deflate compression of polling
	// responses (on by default for responses of at least
	// HTTPCompressionThreshold bytes, when the client accepts it).
	DisableHTTPCompression bool
	// HTTPCompressionThreshold is the smallest polling response that is
	// compressed. Default 1024 bytes.
	HTTPCompressionThreshold int

	// GenerateID, when set, makes session ids instead of the default 20
	// characters from crypto/rand. Ids must be unique and unguessable; an error
	// refuses the handshake with code 3 ("Bad request").
	GenerateID func(r *http.Request) (string, error)

	// MaxBufferedBytes caps the bytes queued for one session and not yet
	// written. A session past the cap (a slow consumer) is closed with
	// "transport error". Default 16 MiB. Node has no such cap.
	MaxBufferedBytes int

	// WriteTimeout bounds writes to a WebSocket: a peer that does not read
	// for that long (up to 1.5 times as long: the deadline is renewed, not
	// set on every write) is closed with "transport error". Default: PingTimeout.
	WriteTimeout time.Duration

	// Cluster, when set, lets the other nodes of a cluster serve this
	// server's sessions and this server serve theirs, so that long-polling
	// works behind a load balancer without sticky sessions (see package
	// clusterengine). It makes the session ids, so GenerateID must be nil.
	// Nil (the default): a request for a session this server does not have
	// is refused with code 1 ("Session ID unknown").
	Cluster Cluster

	// Logger receives debug and error logs. Nil (the default) logs nothing.
	Logger *slog.Logger
}

// CORSOptions configures CORS, with the meaning of the Node cors package's options.
type CORSOptions struct {
	// Origins lists the allowed origins ("https://example.com"). "*" allows
	// every origin; it cannot be combined with Credentials.
	Origins []string
	// AllowOrigin, when set, decides for origins not listed in Origins.
	AllowOrigin func(origin string) bool
	// Methods allowed in preflight answers. Default GET, HEAD, PUT, PATCH, POST, DELETE.
	Methods []string
	// AllowedHeaders for preflight answers. Default: the request's
	// Access-Control-Request-Headers.
	AllowedHeaders []string
	// ExposedHeaders lists response headers a page may read.
	ExposedHeaders []string
	// Credentials sets Access-Control-Allow-Credentials: true.
	Credentials bool
	// MaxAge, when positive, caches preflight answers for that long.
	MaxAge time.Duration
}

// CookieOptions configures the session cookie, with Node's defaults.
type CookieOptions struct {
	// Name of the cookie. Default "io".
	Name string
	// Path of the cookie. Default "/".
	Path string
	// Domain of the cookie. Default none.
	Domain string
	// NoHTTPOnly drops the HttpOnly attribute (set by default).
	NoHTTPOnly bool
	// SameSite. Default http.SameSiteLaxMode.
	SameSite http.SameSite
	// Secure sets the Secure attribute.
	Secure bool
	// MaxAge in seconds; 0 means a session cookie.
	MaxAge int
}

// Defaults of Options, equal to Node engine.io's.
const (
	DefaultPath                     = "/engine.io/"
	DefaultPingInterval             = 25 * time.Second
	DefaultPingTimeout              = 20 * time.Second
	DefaultUpgradeTimeout           = 10 * time.Second
	DefaultMaxHTTPBufferSize        = 1e6
	DefaultHTTPCompressionThreshold = 1024
	DefaultMaxBufferedBytes         = 16 << 20
)

// resolve returns a copy of o with defaults filled in, or an error for an
// invalid combination.
func (o *Options) resolve() (Options, error) {
	var r Options
	if o != nil {
		r = *o
	}
	if r.Path == "" {
		r.Path = DefaultPath
	}
	if !strings.HasPrefix(r.Path, "/") {
		return r, fmt.Errorf("engineio: Path %q must start with /", r.Path)
	}
	if !strings.HasSuffix(r.Path, "/") {
		r.Path += "/"
	}
	if r.PingInterval == 0 {
		r.PingInterval = DefaultPingInterval
	}
	if r.PingTimeout == 0 {
		r.PingTimeout = DefaultPingTimeout
	}
	if r.UpgradeTimeout == 0 {
		r.UpgradeTimeout = DefaultUpgradeTimeout
	}
	if r.MaxHTTPBufferSize == 0 {
		r.MaxHTTPBufferSize = DefaultMaxHTTPBufferSize
	}
	if r.HTTPCompressionThreshold == 0 {
		r.HTTPCompressionThreshold = DefaultHTTPCompressionThreshold
	}
	if r.MaxBufferedBytes == 0 {
		r.MaxBufferedBytes = DefaultMaxBufferedBytes
	}
	if r.WriteTimeout == 0 {
		r.WriteTimeout = r.PingTimeout
	}
	if r.PingInterval < 0 || r.PingTimeout < 0 || r.UpgradeTimeout < 0 || r.MaxHTTPBufferSize < 0 ||
		r.MaxBufferedBytes < 0 || r.WriteTimeout < 0 || r.HTTPCompressionThreshold < 0 {
		return r, errors.New("engineio: durations and sizes must not be negative")
	}
	if r.Transports == nil {
		r.Transports = []string{TransportPolling, TransportWebSocket}
	} else {
		r.Transports = append([]string(nil), r.Transports...)
	}
	if len(r.Transports) == 0 {
		return r, errors.New("engineio: Transports must not be empty")
	}
	for _, t := range r.Transports {
		if t != TransportPolling && t != TransportWebSocket {
			return r, fmt.Errorf("engineio: unknown transport %q", t)
		}
	}
	if c := r.CORS; c != nil {
		for _, o := range c.Origins {
			if o == "*" && c.Credentials {
				return r, errors.New("engineio: CORS origin \"*\" cannot be combined with Credentials; list the origins")
			}
		}
	}
	if r.Cookie != nil {
		c := *r.Cookie
		if c.Name == "" {
			c.Name = "io"
		}
		if c.Path == "" {
			c.Path = "/"
		}
		if c.SameSite == 0 {
			c.SameSite = http.SameSiteLaxMode
		}
		r.Cookie = &c
	}
	if r.Cluster != nil && r.GenerateID != nil {
		return r, errors.New("engineio: GenerateID cannot be combined with Cluster, which makes the session ids")
	}
	if r.Logger == nil {
		r.Logger = nolog.New()
	}
	return r, nil
}

func (o *Options) allows(transport string) bool {
	for _, t := range o.Transports {
		if t == transport {
			return true
		}
	}
	return false
}
