// Package client is a Socket.IO v5 client for Go (socket.io-client 4.x),
// with the Engine.IO v4 client under it: HTTP long-polling, WebSocket, and
// the upgrade from one to the other.
//
// A Manager is one Engine.IO connection to a server, shared by the sockets
// of several namespaces, with reconnection (exponential backoff with jitter).
// A Socket is the connection to one namespace:
//
//	s, err := client.Connect(ctx, "http://localhost:3000/chat", nil, &client.SocketOptions{
//		Auth: map[string]string{"token": "abc"},
//	})
//	if err != nil { ... }
//	defer s.Manager().Close()
//	client.On(s, "message", func(msg string) { fmt.Println(msg) })
//	ack, err := s.Timeout(5*time.Second).EmitWithAck(ctx, "hello", "world")
//
// or, for several namespaces on one connection:
//
//	m, err := client.NewManager("http://localhost:3000", &client.Options{DisableAutoConnect: true})
//	chat := m.Socket("/chat", nil)
//	chat.OnConnect(func() { ... })
//	chat.Connect()
//	admin := m.Socket("/admin", &client.SocketOptions{Auth: ...})
//	admin.Connect()
//
// As with io() in JavaScript, Manager.Socket starts connecting at once
// unless Options.DisableAutoConnect is set. Go has no event loop to hold the
// connection back until the caller's next statements have run: a handler
// for the first connection (OnConnect, OnConnectError) added after Socket
// may come too late. Set DisableAutoConnect, add the handlers, then call
// Socket.Connect; the function Connect does that for one namespace.
//
// # Behaviour
//
// The client follows the official JavaScript client: its options (with
// zero values meaning its defaults), its reserved events (OnOpen, OnClose,
// OnReconnectAttempt, OnConnectError, ...), its disconnect reasons ("io
// server disconnect", "transport close", "ping timeout", ...), the
// buffering of emits made while disconnected (sent in order on connect;
// Volatile emits are dropped instead), acknowledgements with timeouts,
// at-least-once delivery with SocketOptions.Retries, and connection state
// recovery (Socket.Recovered). A []byte anywhere in the arguments travels as
// a binary attachment.
//
// # Concurrency
//
// Every type is safe for concurrent use. Handlers run one at a time, in the
// order the packets arrived, on a goroutine of the Manager that exists only
// while there is work; a handler may block (for example on EmitWithAck)
// without stopping the connection's reader. Every wait takes a
// context.Context. Manager.Close stops every goroutine of the Manager.
//
// The client logs nothing unless Options.Logger is set. TLS certificates
// are verified unless Options.TLSConfig says otherwise.
package client
