package websocket_test

import (
	"log"
	"net/http"

	"github.com/socketio-go/socketio/internal/websocket"
)

// An echo server that answers a burst of pipelined messages with one write:
// WriteMessage only buffers, and the handler flushes once the input it has
// already received is consumed.
func ExampleUpgrade() {
	http.HandleFunc("/ws", func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Upgrade(w, r, nil, &websocket.Options{MaxMessageSize: 1 << 20, Compression: true})
		if err != nil {
			return // Upgrade has written the HTTP error
		}
		defer c.CloseNow()
		for {
			typ, msg, err := c.ReadMessage()
			if err != nil {
				return
			}
			if err := c.WriteMessage(typ, msg); err != nil {
				return
			}
			if c.Buffered() == 0 {
				if err := c.Flush(); err != nil {
					return
				}
			}
		}
	})
	log.Fatal(http.ListenAndServe("127.0.0.1:8080", nil))
}

// A broadcast encodes the frame once for all connections.
func ExampleNewPreparedMessage() {
	var conns []*websocket.Conn // the connections of a room
	pm := websocket.NewPreparedMessage(websocket.Text, []byte(`42["news","hello"]`))
	for _, c := range conns {
		if c.WritePrepared(pm) != nil || c.Flush() != nil {
			c.CloseNow()
		}
	}
}
