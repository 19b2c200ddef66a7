package clusterproto

import (
	socketio "github.com/socketio-go/socketio"
	"github.com/socketio-go/socketio/internal/msgpack"
)

// EncodeRemoteSocket writes a socket as the answer to fetchSockets does:
// {id, handshake, rooms, data}.
func EncodeRemoteSocket(s *socketio.RemoteSocket) msgpack.Map {
	return msgpack.Map{
		{Key: "id", Value: s.ID},
		{Key: "handshake", Value: EncodeHandshake(s.Handshake)},
		{Key: "rooms", Value: StringList(s.Rooms)},
		{Key: "data", Value: ValueOf(s.Data)},
	}
}

// DecodeRemoteSocket reads a socket of an answer to fetchSockets, or
// returns nil.
func DecodeRemoteSocket(nsp *socketio.Namespace, v any) *socketio.RemoteSocket {
	m, ok := v.(msgpack.Map)
	if !ok {
		return nil
	}
	id, ok := GetString(m, "id")
	if !ok {
		return nil
	}
	hs, _ := m.Get("handshake")
	rooms, _ := m.Get("rooms")
	data, _ := m.Get("data")
	return socketio.NewRemoteSocket(nsp, id, DecodeHandshake(hs), RoomList(rooms), Plain(data))
}
