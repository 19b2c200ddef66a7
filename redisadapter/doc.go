// Package redisadapter provides socket.io cluster adapters on Redis that
// speak exactly the protocol of the Node packages, so that Go and Node
// servers can serve one cluster together:
//
//   - New: the classic mode of @socket.io/redis-adapter (Redis pub/sub).
//     Broadcasts go to "<key>#<nsp>#" (or "<key>#<nsp>#<room>#" for one
//     room) as msgpack [uid, packet, {rooms, except, flags}]; requests to
//     "<key>-request#<nsp>#" and answers to "<key>-response#<nsp>#" (or
//     "...#<uid>#"), as JSON, or msgpack when they carry binary; the server
//     count is PUBSUB NUMSUB of the request channel.
//   - NewSharded: its sharded mode (createShardedAdapter; SPUBLISH and
//     SSUBSCRIBE of Redis 7, "dynamic" subscriptions): the ClusterAdapter
//     messages {uid, nsp, type, data} of socket.io-adapter on
//     "<key>#<nsp>#", "<key>#<nsp>#<room>#" and "<key>#<nsp>#<uid>#"; the
//     server count is PUBSUB SHARDNUMSUB. Tested on a standalone Redis; on
//     a Redis Cluster one subscription serves the shard of the first channel only.
//
// Each namespace's adapter opens one subscription connection of its own.
//
// Everything read from Redis is untrusted: messages are size- and
// depth-capped, validated, and unknown types are ignored. A Redis outage
// never stops a node: local delivery goes on, messages for the other nodes
// are dropped, the subscription is renewed with backoff, and the
// application can watch Adapter.Healthy or Options.OnStateChange.
//
// Only the first argument of an acknowledgement crosses nodes (for
// EmitWithAck and ServerSideEmitWithAck), as with socket.io.
//
// The core package does not depend on Redis: only this package does.
package redisadapter
