package redisstreams_test

import (
	"log"
	"net/http"

	"github.com/redis/go-redis/v9"
	socketio "github.com/socketio-go/socketio"
	"github.com/socketio-go/socketio/redisstreams"
)

// A server in a cluster on Redis streams, with connection state recovery:
// a client that loses its connection may come back to any node.
func Example() {
	client := redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379"})
	adapter, err := redisstreams.New(client, &redisstreams.Options{
		OnStateChange: func(s redisstreams.State) { log.Printf("redis healthy: %v (%v)", s.Healthy, s.Err) },
	})
	if err != nil {
		log.Fatal(err)
	}
	srv, err := socketio.NewServer(&socketio.Options{
		Adapter:                 adapter,
		ConnectionStateRecovery: &socketio.RecoveryOptions{},
	})
	if err != nil {
		log.Fatal(err)
	}
	srv.OnConnection(func(s *socketio.Socket) {
		s.Join("news")
		// Reaches the sockets in "news" on every node, Go or Node.
		_ = srv.To("news").Emit("hello", s.ID())
	})
	log.Fatal(http.ListenAndServe(":3000", srv))
}
