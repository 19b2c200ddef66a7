// Package engineio is an Engine.IO v4 server: the transport layer under
// Socket.IO (see the protocol at docs/engine.io-protocol/v4-current.md in the
// socketio/socket.io repository).
//
// A Server is an http.Handler serving HTTP long-polling and WebSocket
// sessions under Options.Path ("/engine.io/" by default), with the upgrade
// from polling to WebSocket, server-sent heartbeats, and the error codes and
// close reasons of Node's engine.io. Its defaults are engine.io's.
//
// Each Session has one reader (the WebSocket read loop, or the polling POST
// handler), a bounded send queue (Options.MaxBufferedBytes; a slow consumer
// is closed, never buffered without end; a polling request left blocked by
// a client that stopped reading its response or sending its body is cut off
// when the session times out), and a writer that exists only
// while there is something to write and coalesces everything queued into
// one write. A PreparedMessage is encoded once for many sessions: every
// WebSocket session writes the same frame bytes.
//
// OnMessage callbacks of a WebSocket session run on its reader
// (Message.FromReader): what they send while more input is already read
// goes out in one write at the end of the burst, and one that must wait
// (for an answer from the same client, say) first hands the reading over
// with Session.ReleaseReader. On Linux an idle WebSocket session has no
// goroutine at all: after its first messages, and after each pong, it
// waits in an epoll set of the server's until input comes. Nor has it a
// timer: one timer per server serves every session's heartbeat (when to
// ping, by when the pong must come). Nor does writing start goroutines: the
// recipients of a broadcast and of a heartbeat are written by a few
// flushers per server, one non-blocking write each; only a session whose
// socket is full gets a writer goroutine of its own, until it drains.
//
// Behind an http.Server, every long-polling request also pays for
// net/http's own per-request work. Server.Listener wraps a net.Listener so
// that the server reads the requests of its connections with a small
// HTTP/1.1 loop and answers the plain long-polling ones itself; a connection
// goes to the http.Server, with what was read of it, at its first request of
// any other kind (another path, a WebSocket upgrade, anything unusual), and
// comes back at its next plain long-polling request (ServeHTTP hijacks it). The
// requests it answers skip the http.Server's handler chain, as Node's
// engine.io answers its path before the application's request listeners.
//
// The WebSocket implementation (internal/websocket) was chosen by
// measurement against gorilla/websocket, lxzan/gws and coder/websocket: see
// internal/websocket/DESIGN.md.
package engineio
