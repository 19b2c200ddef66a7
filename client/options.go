package client

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/socketio-go/socketio/internal/nolog"
)

// Options configures a Manager (and the Engine.IO connection under it). A
// nil *Options, or the zero value, gives the defaults of socket.io-client 4.8.
type Options struct {
	// Path is the Engine.IO path on the server. Default "/socket.io/"
	// (a trailing slash is added, as the JS client does).
	Path string

	// Query is added to the query of every Engine.IO request, after the
	// query of the URL given to NewManager.
	Query url.Values

	// ExtraHeaders are sent with every HTTP request and the WebSocket
	// handshake (JS: extraHeaders).
	ExtraHeaders http.Header

	// Transports are the transports to use, in order of preference:
	// TransportPolling and TransportWebSocket. Default both, polling first
	// (then upgraded to WebSocket).
	Transports []string

	// DisableUpgrade keeps the first transport for the whole connection
	// (JS: upgrade: false).
	DisableUpgrade bool

	// RememberUpgrade starts with WebSocket when the last WebSocket
	// connection made by this process succeeded (JS: rememberUpgrade).
	RememberUpgrade bool

	// TryAllTransports tries the next transport when the first one fails
	// to open (JS: tryAllTransports).
	TryAllTransports bool

	// TLSConfig configures TLS for https:// and wss:// URLs. Nil verifies
	// the server's certificate against the system roots; never set
	// InsecureSkipVerify outside tests.
	TLSConfig *tls.Config

	// HTTPClient sends the polling requests. Default: a client of the
	// Manager's own, using DialContext and TLSConfig, closed with the
	// Manager. A client given here is not closed by the Manager.
	HTTPClient *http.Client

	// DialContext opens TCP connections for WebSocket (and for polling
	// when HTTPClient is nil). Default: a net.Dialer.
	DialContext func(ctx context.Context, network, addr string) (net.Conn, error)

	// MaxMessageSize bounds what the server can make the client buffer: a
	// polling response or WebSocket message larger than this ends the
	// connection. Default 100 MB.
	MaxMessageSize int64

	// DisableReconnection turns automatic reconnection off (JS: reconnection: false).
	DisableReconnection bool

	// ReconnectionAttempts is the number of attempts before giving up
	// (reconnect_failed). Default 0: unlimited.
	ReconnectionAttempts int

	// ReconnectionDelay is the first delay between attempts; it doubles at
	// each attempt. Default 1 s.
	ReconnectionDelay time.Duration

	// ReconnectionDelayMax caps the delay. Default 5 s.
	ReconnectionDelayMax time.Duration

	// RandomizationFactor is the jitter of each delay, between 0 and 1.
	// Default (0) means 0.5; a negative value means no jitter.
	RandomizationFactor float64

	// Timeout bounds each attempt to open the Engine.IO connection.
	// Default 20 s; negative means no limit.
	Timeout time.Duration

	// DisableAutoConnect makes Manager.Socket return sockets that connect
	// only when Socket.Connect is called (JS: autoConnect: false).
	DisableAutoConnect bool

	// Logger receives debug logs. Nil (the default) logs nothing.
	Logger *slog.Logger
}

// SocketOptions configures the socket of one namespace. A nil
// *SocketOptions means the defaults.
type SocketOptions struct {
	// Auth is sent with every connection to the namespace; it must
	// encode as a JSON object (a struct, a map). Nil sends none.
	Auth any

	// AuthFunc, when set, is called before every connection and
	// reconnection; what it returns is sent as Auth. An error aborts that
	// attempt with a connect_error.
	AuthFunc func(ctx context.Context) (any, error)

	// Retries is the number of times an emit is resent when its
	// acknowledgement does not come within AckTimeout. When set, every
	// emit (except volatile ones) asks for an acknowledgement, only one
	// packet is in flight at a time, and order is kept: at-least-once
	// delivery. Default 0: at most once.
	Retries int

	// AckTimeout is the default timeout of acknowledgements (JS:
	// ackTimeout); Timeout on an emit overrides it. Default 0: none.
	AckTimeout time.Duration
}

// Defaults of Options.
const (
	DefaultPath                 = "/socket.io/"
	DefaultReconnectionDelay    = time.Second
	DefaultReconnectionDelayMax = 5 * time.Second
	DefaultRandomizationFactor  = 0.5
	DefaultTimeout              = 20 * time.Second
	DefaultMaxMessageSize       = 100 << 20
)

// resolved is Options with defaults applied.
type resolved struct {
	Options
	engine     engineConfig
	ownsClient *http.Transport // closed with the Manager
}

func resolveOptions(rawURL string, o *Options) (*resolved, error) {
	r := &resolved{}
	if o != nil {
		r.Options = *o
	}
	u, err := url.Parse(trimScheme(rawURL))
	if err != nil {
		return nil, fmt.Errorf("client: bad URL: %w", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("client: bad URL %q: the scheme must be http, https, ws or wss", rawURL)
	}
	if u.Host == "" {
		return nil, fmt.Errorf("client: bad URL %q: no host", rawURL)
	}
	if r.Path == "" {
		r.Path = DefaultPath
	}
	r.Path = "/" + strings.Trim(r.Path, "/") + "/"
	if r.Path == "//" {
		r.Path = "/"
	}
	if len(r.Transports) == 0 {
		r.Transports = []string{TransportPolling, TransportWebSocket}
	}
	for _, t := range r.Transports {
		if t != TransportPolling && t != TransportWebSocket {
			return nil, fmt.Errorf("client: unknown transport %q", t)
		}
	}
	switch {
	case r.ReconnectionAttempts < 0:
		return nil, errors.New("client: ReconnectionAttempts must not be negative")
	case r.ReconnectionDelay < 0 || r.ReconnectionDelayMax < 0:
		return nil, errors.New("client: reconnection delays must not be negative")
	case r.RandomizationFactor > 1:
		return nil, errors.New("client: RandomizationFactor must be at most 1")
	case r.MaxMessageSize < 0:
		return nil, errors.New("client: MaxMessageSize must not be negative")
	}
	if r.ReconnectionDelay == 0 {
		r.ReconnectionDelay = DefaultReconnectionDelay
	}
	if r.ReconnectionDelayMax == 0 {
		r.ReconnectionDelayMax = DefaultReconnectionDelayMax
	}
	if r.RandomizationFactor == 0 {
		r.RandomizationFactor = DefaultRandomizationFactor
	} else if r.RandomizationFactor < 0 {
		r.RandomizationFactor = 0
	}
	if r.Timeout == 0 {
		r.Timeout = DefaultTimeout
	}
	if r.MaxMessageSize == 0 {
		r.MaxMessageSize = DefaultMaxMessageSize
	}
	if r.Logger == nil {
		r.Logger = nolog.New()
	}
	dial := r.DialContext
	if dial == nil {
		dial = (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	}
	hc := r.HTTPClient
	if hc == nil {
		tr := &http.Transport{
			Proxy:               http.ProxyFromEnvironment,
			DialContext:         dial,
			TLSClientConfig:     r.TLSConfig,
			MaxIdleConnsPerHost: 4,
			IdleConnTimeout:     30 * time.Second,
		}
		r.ownsClient = tr
		hc = &http.Client{Transport: tr}
	}
	query := u.Query()
	for k, v := range r.Query {
		query[k] = append(query[k], v...)
	}
	base := &url.URL{Scheme: u.Scheme, Host: u.Host, User: u.User, Path: r.Path}
	r.engine = engineConfig{
		base:             base,
		query:            query,
		header:           r.ExtraHeaders.Clone(),
		transports:       slices.Clone(r.Transports),
		upgrade:          !r.DisableUpgrade,
		rememberUpgrade:  r.RememberUpgrade,
		tryAllTransports: r.TryAllTransports,
		httpClient:       hc,
		dial:             dial,
		tlsConfig:        r.TLSConfig,
		maxMessageSize:   r.MaxMessageSize,
		logger:           r.Logger,
	}
	return r, nil
}
