// Package websocket is a small server-side implementation of the WebSocket
// protocol (RFC 6455) with optional permessage-deflate (RFC 7692), used by the
// Engine.IO websocket transport.
//
// It exists, rather than a dependency, because the transport needs only the
// server half and cares about two costs that general-purpose libraries pay on
// every connection: memory held by idle connections and work per small
// message. An idle Conn blocked in ReadMessage holds no pooled read or write
// buffer, writes are batched until Flush, and a broadcast frame is encoded
// once (PreparedMessage) and shared by every connection. The measurements
// against gorilla/websocket, lxzan/gws and coder/websocket that justify it are
// in DESIGN.md, with the command that re-runs them.
//
// Concurrency: a Conn has one reader. ReadMessage must be called from one
// goroutine at a time; it answers pings and close frames itself. WriteMessage,
// WritePrepared, Flush, Close, CloseNow and the deadline setters are safe to
// call concurrently with each other and with ReadMessage.
//
// Dial is the client side, used by the Go Socket.IO client: the same Conn,
// in a client mode that masks what it sends and expects unmasked frames.
//
// Only the standard library is used.
package websocket
