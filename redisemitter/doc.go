// Package redisemitter publishes to a socket.io cluster from a process
// that serves no clients (a worker, a cron job), as @socket.io/redis-emitter
// does: events to the clients of every server, rooms joined and left,
// sockets disconnected, and events to the servers themselves.
//
// It speaks the classic protocol of @socket.io/redis-adapter, so the
// servers, Go (redisadapter.New) or Node, must use that adapter with the
// same key. Broadcasts are msgpack [ "emitter", packet, {rooms, flags,
// except} ] on "<key>#<nsp>#" (or "<key>#<nsp>#<room>#" for one room);
// requests are JSON on "<key>-request#<nsp>#". As with the Node emitter,
// nothing is acknowledged: a message published while no server listens is
// lost.
package redisemitter
