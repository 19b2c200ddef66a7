package redisadapter_test

import (
	"log"
	"net/http"

	"github.com/redis/go-redis/v9"
	socketio "github.com/socketio-go/socketio"
	"github.com/socketio-go/socketio/redisadapter"
)

// Several servers share broadcasts, rooms and acknowledgements through
// Redis; Node servers using @socket.io/redis-adapter can join the same
// cluster. (This example needs a Redis server, so it is not run by go test.)
func ExampleNew() {
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379"})
	adapter, err := redisadapter.New(rdb, &redisadapter.Options{Key: "socket.io"})
	if err != nil {
		log.Fatal(err)
	}
	srv, err := socketio.NewServer(&socketio.Options{Adapter: adapter})
	if err != nil {
		log.Fatal(err)
	}
	srv.OnConnection(func(s *socketio.Socket) {
		socketio.On(s, "chat", func(s *socketio.Socket, msg string) {
			_ = srv.Emit("chat", msg) // reaches the clients of every server
		})
	})
	http.Handle("/socket.io/", srv)
	log.Fatal(http.ListenAndServe("127.0.0.1:3000", nil))
}
