// Package redisstreams provides the socket.io cluster adapter of
// @socket.io/redis-streams-adapter (version 0.3), on Redis streams, so that
// Go and Node servers can serve one cluster together:
//
//   - the messages of socket.io-adapter's ClusterAdapter, {uid, nsp, type,
//     data}, go into one stream ("socket.io"; XADD MAXLEN ~ 10000) as the
//     fields uid, nsp, type (decimal) and data (JSON, or base64 msgpack when
//     it holds binary); every node reads it (XREAD BLOCK);
//   - broadcasts with acknowledgements, server-side emits and fetchSockets
//     requests are published, as msgpack, on "<prefix>#<nsp>#", and every
//     answer on the requester's "<prefix>#<nsp>#<uid>#" (pub/sub, or sharded
//     pub/sub);
//   - the server count is PUBSUB NUMSUB of "<prefix>#<nsp>#", or, with
//     Options.Heartbeats, the nodes heard from lately, as with
//     ClusterAdapterWithHeartbeat;
//   - with connection state recovery on, the offset of a broadcast is its
//     stream entry id, a disconnected socket's session is kept in Redis as
//     "sio:session:<pid>", and a client recovers on any node: its id,
//     rooms and data, and the broadcasts it missed, read back from the
//     stream.
//
// Everything read from Redis is untrusted: messages are size- and
// depth-capped, validated, and unknown types are ignored. A Redis outage
// never stops a node: local delivery goes on, messages for the other nodes
// are dropped once the bounded queue is full, the reader and the
// subscription reconnect with backoff, and the application can watch
// Adapter.Healthy or Options.OnStateChange.
//
// Only the first argument of an acknowledgement crosses nodes, as with
// socket.io.
package redisstreams
