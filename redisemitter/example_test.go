package redisemitter_test

import (
	"context"
	"log"

	"github.com/redis/go-redis/v9"
	"github.com/socketio-go/socketio/redisemitter"
)

// A worker with no client of its own tells the clients of a cluster (whose
// servers use the classic Redis adapter) that a job is done.
func Example() {
	client := redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379"})
	defer client.Close()
	e, err := redisemitter.New(client, nil)
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	_ = e.To("user:42").Emit(ctx, "job done", map[string]any{"id": 7})
	_ = e.Of("/admin").Except("muted").Emit(ctx, "report", "ok")
	_ = e.In("room1").SocketsJoin(ctx, "room2")
	_ = e.ServerSideEmit(ctx, "refresh")
}
