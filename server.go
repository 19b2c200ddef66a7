package socketio

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/socketio-go/socketio/engineio"
	"github.com/socketio-go/socketio/internal/gotrack"
	"github.com/socketio-go/socketio/parser"
)

// Errors returned by the package.
var (
	// ErrReservedEvent is returned when emitting an event whose name socket.io reserves.
	ErrReservedEvent = errors.New("socketio: reserved event name")
	// ErrDisconnected is returned when emitting on a socket that is not connected.
	ErrDisconnected = errors.New("socketio: socket disconnected")
	// ErrTimeout is returned when acknowledgements did not all arrive in time.
	ErrTimeout = errors.New("socketio: operation has timed out")
)

// ConnectError refuses a connection to a namespace from a middleware. The
// client receives a CONNECT_ERROR packet with Message and Data, and its
// connect_error event fires with them.
type ConnectError struct {
	Message string
	Data    any
}

// Error returns the message.
func (e *ConnectError) Error() string { return e.Message }

// Server is a Socket.IO server: an http.Handler serving Options.Path. It is
// safe for concurrent use.
type Server struct {
	opts Options
	eio  *engineio.Server
	log  *slog.Logger

	mu      sync.RWMutex
	nsps    map[string]*Namespace
	parents []*ParentNamespace
	closed  bool

	goroutines gotrack.Tracker
	inline     inlineWatch // times the handlers run on readers (InlineHandlerTimeout)
	workers    workerPool  // the goroutines that run queued handlers
	// jsonEncoding: the parser encodes with parser.JSONEncoder, which
	// encodeArgs calls without an interface (see there).
	jsonEncoding bool
}

// NewServer returns a server (nil opts for the defaults) with its main namespace "/".
func NewServer(opts *Options) (*Server, error) {
	o, err := opts.resolve()
	if err != nil {
		return nil, err
	}
	eio, err := engineio.NewServer(&o.Engine)
	if err != nil {
		return nil, err
	}
	s := &Server{opts: o, eio: eio, log: o.Logger, nsps: make(map[string]*Namespace)}
	s.inline.d = o.InlineHandlerTimeout / 2
	_, s.jsonEncoding = o.Parser.NewEncoder().(parser.JSONEncoder)
	eio.OnConnection(s.onEngineConnection)
	s.Of("/")
	return s, nil
}

// ServeHTTP serves the Engine.IO transports under the server's path.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.eio.ServeHTTP(w, r) }

// Listener returns a listener that answers the server's HTTP long-polling
// requests itself, without net/http's per-request work, hands a connection
// to the http.Server that serves it at its first request of another kind,
// and takes it back at its next long-polling request
// (engineio.Server.Listener). Long-polling messages then cost a tenth to
// two fifths less CPU, depending on the machine. The requests it answers
// skip that http.Server's handler chain, as Node's socket.io answers its
// path before an application's own request listeners: mount the server in
// the chain as usual for the rest (WebSocket upgrades, CORS preflights).
func (s *Server) Listener(ln net.Listener) net.Listener { return s.eio.Listener(ln) }

// ConnectionStateRecovery returns a copy of the server's recovery options,
// defaults applied, or nil when recovery is off. Cluster adapters that keep
// sessions themselves (in Redis, say) read it.
func (s *Server) ConnectionStateRecovery() *RecoveryOptions {
	if s.opts.ConnectionStateRecovery == nil {
		return nil
	}
	c := *s.opts.ConnectionStateRecovery
	return &c
}

// Engine returns the Engine.IO server underneath.
func (s *Server) Engine() *engineio.Server { return s.eio }

// Of returns the namespace with the given name, creating it if needed. A
// name without a leading "/" gets one. If a dynamic namespace (OfRegexp)
// matches the name, the namespace is created as its child.
func (s *Server) Of(name string) *Namespace {
	if !strings.HasPrefix(name, "/") {
		name = "/" + name
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if nsp := s.nsps[name]; nsp != nil {
		return nsp
	}
	for _, p := range s.parents {
		if p.re != nil && p.re.MatchString(name) {
			return p.createChildLocked(name)
		}
	}
	nsp := newNamespace(s, name, nil)
	s.nsps[name] = nsp
	return nsp
}

// OfRegexp declares dynamic namespaces: a client may connect to any namespace
// whose name matches re; each gets a child namespace of the returned parent,
// which shares the parent's middlewares and connection handlers.
func (s *Server) OfRegexp(re *regexp.Regexp) *ParentNamespace {
	p := newParentNamespace(s, re, nil)
	s.mu.Lock()
	s.parents = append(s.parents, p)
	s.mu.Unlock()
	return p
}

// OfFunc declares dynamic namespaces decided by fn, which gets the namespace
// name and the client's auth payload and reports whether to allow it.
func (s *Server) OfFunc(fn func(name string, auth json.RawMessage) bool) *ParentNamespace {
	p := newParentNamespace(s, nil, fn)
	s.mu.Lock()
	s.parents = append(s.parents, p)
	s.mu.Unlock()
	return p
}

// lookupNamespace finds the namespace a CONNECT packet asks for, creating a
// child of a dynamic namespace when one allows it. It returns nil when none does.
func (s *Server) lookupNamespace(name string, auth json.RawMessage) *Namespace {
	s.mu.RLock()
	nsp := s.nsps[name]
	parents := s.parents
	s.mu.RUnlock()
	if nsp != nil {
		return nsp
	}
	for _, p := range parents {
		if p.allows(name, auth) {
			s.mu.Lock()
			defer s.mu.Unlock()
			if nsp := s.nsps[name]; nsp != nil {
				return nsp
			}
			return p.createChildLocked(name)
		}
	}
	return nil
}

func (s *Server) removeNamespace(nsp *Namespace) {
	s.mu.Lock()
	if s.nsps[nsp.name] == nsp {
		delete(s.nsps, nsp.name)
	}
	s.mu.Unlock()
	if nsp.parent != nil {
		nsp.parent.removeChild(nsp)
	}
	nsp.adapter.Close()
}

func (s *Server) namespaces() []*Namespace {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]*Namespace, 0, len(s.nsps))
	for _, n := range s.nsps {
		out = append(out, n)
	}
	return out
}

// Main-namespace shortcuts, as socket.io's io.on, io.use, io.to, io.emit.

// OnConnection adds a handler for sockets connecting to the main namespace.
func (s *Server) OnConnection(fn func(*Socket)) { s.Of("/").OnConnection(fn) }

// Use adds a middleware to the main namespace.
func (s *Server) Use(fn Middleware) { s.Of("/").Use(fn) }

// To selects rooms of the main namespace for a broadcast.
func (s *Server) To(rooms ...string) *BroadcastOperator { return s.Of("/").To(rooms...) }

// In is the same as To.
func (s *Server) In(rooms ...string) *BroadcastOperator { return s.Of("/").In(rooms...) }

// Except excludes rooms of the main namespace from a broadcast.
func (s *Server) Except(rooms ...string) *BroadcastOperator { return s.Of("/").Except(rooms...) }

// Emit broadcasts an event to every socket of the main namespace.
func (s *Server) Emit(event string, args ...any) error { return s.Of("/").Emit(event, args...) }

// Local selects the main namespace's sockets on this server only.
func (s *Server) Local() *BroadcastOperator { return s.Of("/").Local() }

// Volatile makes a broadcast on the main namespace skip the clients that are
// not ready to receive it.
func (s *Server) Volatile() *BroadcastOperator { return s.Of("/").Volatile() }

// Compress sets the compression of a broadcast on the main namespace.
func (s *Server) Compress(compress bool) *BroadcastOperator { return s.Of("/").Compress(compress) }

// Timeout bounds the wait of a broadcast's EmitWithAck on the main namespace.
func (s *Server) Timeout(d time.Duration) *BroadcastOperator { return s.Of("/").Timeout(d) }

// FetchSockets returns the sockets of the main namespace, on every server.
func (s *Server) FetchSockets(ctx context.Context) ([]*RemoteSocket, error) {
	return s.Of("/").FetchSockets(ctx)
}

// SocketsJoin makes every socket of the main namespace join the rooms.
func (s *Server) SocketsJoin(rooms ...string) { s.Of("/").SocketsJoin(rooms...) }

// SocketsLeave makes every socket of the main namespace leave the rooms.
func (s *Server) SocketsLeave(rooms ...string) { s.Of("/").SocketsLeave(rooms...) }

// DisconnectSockets disconnects every socket of the main namespace; with
// close, their underlying connections close too.
func (s *Server) DisconnectSockets(close bool) { s.Of("/").DisconnectSockets(close) }

// ServerSideEmit sends an event to the other servers of a cluster, on the
// main namespace.
func (s *Server) ServerSideEmit(event string, args ...any) error {
	return s.Of("/").ServerSideEmit(event, args...)
}

// ServerSideEmitWithAck is Namespace.ServerSideEmitWithAck on the main
// namespace.
func (s *Server) ServerSideEmitWithAck(ctx context.Context, event string, args ...any) ([]Args, error) {
	return s.Of("/").ServerSideEmitWithAck(ctx, event, args...)
}

// Shutdown disconnects every socket with the reason "server shutting down",
// closes the adapters and the Engine.IO sessions, and waits until their
// goroutines have ended or ctx is done.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	for _, nsp := range s.namespaces() {
		for _, sock := range nsp.localSockets() {
			sock.onClose(ReasonServerShuttingDown)
		}
		nsp.adapter.Close()
	}
	err := s.eio.Shutdown(ctx)
	if werr := s.goroutines.Wait(ctx); err == nil {
		err = werr
	}
	s.workers.close()
	return err
}

// Close is Shutdown without a deadline.
func (s *Server) Close() error { return s.Shutdown(context.Background()) }

func (s *Server) onEngineConnection(conn *engineio.Session) {
	newClient(s, conn)
}

// newID returns 20 URL-safe characters from 15 random bytes, like Node's base64id.
func newID() string {
	var b [15]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("socketio: crypto/rand failed: " + err.Error())
	}
	return base64.URLEncoding.EncodeToString(b[:])
}
