// Package clusterengine lets the nodes of a Socket.IO cluster serve each
// other's Engine.IO sessions, so that HTTP long-polling works behind a load
// balancer without sticky sessions (round-robin included). It is the Go
// counterpart of @socket.io/cluster-engine, over Redis Pub/Sub.
//
// An Engine is set as a server's engineio.Options.Cluster (through
// socketio.Options.Engine). It makes the session ids: "<NodeID>.<20 random
// characters>", so any node can tell a session's owner. When a request names
// a session the node does not have, the Engine relays it to the owner on the
// owner's channel ("<Prefix>#<NodeID>#"):
//
//   - a polling GET or POST is sent whole; the owner serves it with its own
//     engineio.Server and sends the answer back, which is written to the
//     client. A client that aborts a GET makes the owner abort it too.
//   - a WebSocket upgrade is accepted where it lands; its messages are
//     relayed both ways (one Pub/Sub message per client message, one per
//     batch the owner writes), and the owner runs the probe and upgrade as
//     for a direct WebSocket (engineio.Server.ServeRelayedWebSocket). The
//     session stays on its owner for its whole life.
//
// A request for a node that is not subscribed any more is refused with
// "Session ID unknown". Each node checks, every Options.LivenessInterval,
// that the nodes it relays for are still subscribed (PUBSUB NUMSUB); what was
// relayed through a node missing twice in a row is closed, so that its
// clients reconnect at once instead of after a ping timeout.
//
// Unlike Node's cluster engine, a session upgraded through another node is
// not taken over by that node: the relay stays. The message format is this
// package's own (JSON); it does not interoperate with Node's cluster engine.
// One Redis server (or a primary with replicas) carries the messages; Redis
// Cluster's sharded Pub/Sub is not supported.
//
// Known limit: a polling GET relayed through a node that dies after the
// session's node answered it loses that answer (its packets were taken from
// the session's queue). The session goes on; the client misses those
// packets. Sticky sessions, or WebSocket, avoid it.
package clusterengine
