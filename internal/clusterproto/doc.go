// Package clusterproto holds what socket.io's cluster adapters share on the
// wire: the value trees read from and written to Redis (JSON or msgpack, as
// notepack.io and @msgpack/msgpack write them), broadcast options, event
// packets, handshakes and remote sockets, and the message types of
// socket.io-adapter's ClusterAdapter. It is used by redisadapter,
// redisstreams and redisemitter. Peer is the ClusterAdapter's logic itself
// (answering the other nodes' requests, awaiting the answers to this
// node's), which the sharded mode of redisadapter and redisstreams share;
// only how their messages travel differs. Pending, the bookkeeping of what
// a node awaits from the others, also serves redisadapter's classic mode,
// whose messages are its own.
//
// Everything decoded here comes from other processes and is untrusted:
// accessors read a value of the wrong type as absent, and decoders are size-
// and depth-capped.
package clusterproto

// Message types of socket.io-adapter's ClusterAdapter (the sharded mode of
// @socket.io/redis-adapter and @socket.io/redis-streams-adapter).
const (
	MsgInitialHeartbeat       = 1
	MsgHeartbeat              = 2
	MsgBroadcast              = 3
	MsgSocketsJoin            = 4
	MsgSocketsLeave           = 5
	MsgDisconnectSockets      = 6
	MsgFetchSockets           = 7
	MsgFetchSocketsResponse   = 8
	MsgServerSideEmit         = 9
	MsgServerSideEmitResponse = 10
	MsgBroadcastClientCount   = 11
	MsgBroadcastAck           = 12
	MsgAdapterClose           = 13
)

// EmitterUID is the uid of messages from @socket.io/redis-emitter (and
// redisemitter): not a server, never counted as one.
const EmitterUID = "emitter"
