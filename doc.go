// Package socketio is a Socket.IO v5 server for Go, wire-compatible with the
// official JavaScript client and server (socket.io 4.x).
//
// A Server is an http.Handler. Clients connect to namespaces (the main
// namespace "/" and any other, static or dynamic); each connection to a
// namespace is a Socket with its own event handlers, rooms and data.
//
//	srv, err := socketio.NewServer(nil)
//	if err != nil { ... }
//	srv.OnConnection(func(s *socketio.Socket) {
//		socketio.On(s, "chat", func(s *socketio.Socket, msg string) {
//			s.Broadcast().Emit("chat", msg) // everyone but the sender
//		})
//	})
//	http.Handle("/socket.io/", srv)
//
// With many long-polling clients, serve the listener returned by
// Server.Listener: the server then answers plain long-polling requests with
// its own HTTP/1.1 loop instead of net/http's (a tenth to two fifths less
// CPU per message, depending on the machine); the other requests go to the
// http.Server. The requests the loop answers skip the http.Server's handler
// chain, as with Node's socket.io attached to an http.Server.
//
//	hs := &http.Server{Handler: mux} // mux serves srv at /socket.io/ too
//	err = hs.Serve(srv.Listener(ln))
//
// # Events and acknowledgements
//
// Event arguments stay raw JSON until a handler decodes them (Event.Decode,
// Event.Bind, Event.DecodeString, or the typed helpers On and OnWithAck; a
// string argument costs those two and DecodeString one allocation, its
// bytes, where Decode into a *string costs two). A []byte anywhere in
// emitted arguments travels as a binary attachment, and decodes back into
// []byte. EmitWithAck waits for the client's acknowledgement under a
// context; Timeout bounds the wait the way socket.io's timeout() does.
//
// # Ordering and concurrency
//
// Every type is safe for concurrent use. A socket's handlers run one at a
// time, in the order its packets arrived. For a client on WebSocket they run
// on the goroutine that reads its connection, as Node runs them on its event
// loop: an event costs no goroutine hand-off. A handler may still block: a
// wait for an acknowledgement (EmitWithAck) hands the reading over to a new
// goroutine at once, and any handler still running after
// Options.InlineHandlerTimeout (10 ms by default) does the same, so a slow
// handler holds up its own client's other input at most that long and
// never anyone else's. Events that arrive over long-polling, and every event
// with a negative InlineHandlerTimeout, run on a goroutine that the socket
// holds only while there is work: one of a pool the server keeps, parked
// between runs, that shrinks once the server has gone quiet for a second.
//
// What handlers send goes out without waiting for the peer: written at once
// when the connection is idle, and coalesced into one write when more input
// is waiting (the rest of a burst the reader holds, or events queued behind
// the running handler).
//
// # Broadcasting
//
// Broadcasts (Namespace.Emit, To, Except, Socket.Broadcast, ...) go through the
// namespace's Adapter. The packet is encoded once and every recipient gets
// the same prepared bytes. The default InMemoryAdapter serves one process;
// cluster adapters share broadcasts between servers.
//
// # Connection state recovery
//
// With Options.ConnectionStateRecovery set, a client that lost its
// connection and comes back within MaxDisconnectionDuration gets its socket
// id, rooms and data back, and receives the packets it missed
// (Socket.Recovered reports it).
//
// The Engine.IO layer underneath (package engineio) handles transports
// (HTTP long-polling and WebSocket), upgrades and heartbeats; its options
// are in Options.Engine.
package socketio
