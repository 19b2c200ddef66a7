package clusterengine_test

import (
	"context"
	"log"
	"net/http"

	"github.com/redis/go-redis/v9"

	"github.com/socketio-go/socketio"
	"github.com/socketio-go/socketio/clusterengine"
	"github.com/socketio-go/socketio/engineio"
	"github.com/socketio-go/socketio/redisadapter"
)

// One node of a cluster behind a round-robin load balancer: the Redis
// adapter shares broadcasts, the cluster engine shares sessions.
func Example() {
	ctx := context.Background()
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379"})
	defer rdb.Close()

	ce, err := clusterengine.New(ctx, rdb, &clusterengine.Options{NodeID: "n1"})
	if err != nil {
		log.Fatal(err)
	}
	defer ce.Close() // after the server's Shutdown
	adapter, err := redisadapter.New(rdb, nil)
	if err != nil {
		log.Fatal(err)
	}
	srv, err := socketio.NewServer(&socketio.Options{
		Adapter: adapter,
		Engine:  engineio.Options{Cluster: ce},
	})
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	srv.OnConnection(func(s *socketio.Socket) {
		socketio.On(s, "chat message", func(s *socketio.Socket, msg string) {
			_ = srv.Emit("chat message", msg) // to the clients of every node
		})
	})
	http.Handle("/socket.io/", srv)
	// log.Fatal(http.ListenAndServe(":3000", nil))
}
