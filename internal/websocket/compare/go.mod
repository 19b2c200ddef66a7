module github.com/socketio-go/socketio/internal/websocket/compare

go 1.23

replace github.com/socketio-go/socketio => ../../..

require (
	github.com/coder/websocket v1.8.15
	github.com/gorilla/websocket v1.5.3
	github.com/lxzan/gws v1.8.9
	github.com/socketio-go/socketio v0.0.0-00010101000000-000000000000
)

require (
	github.com/dolthub/maphash v0.1.0 // indirect
	github.com/klauspost/compress v1.17.9 // indirect
)
