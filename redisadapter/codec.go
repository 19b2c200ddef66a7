package redisadapter

import "github.com/socketio-go/socketio/internal/clusterproto"

// The codec is shared with redisstreams and redisemitter (the value trees,
// options, packets, handshakes and remote sockets of socket.io's adapters):
// see internal/clusterproto. These names keep this package's code short.
var (
	errMalformed       = clusterproto.ErrMalformed
	decodeMessage      = clusterproto.DecodeMessage
	encodeMessage      = clusterproto.EncodeMessage
	getInt             = clusterproto.GetInt
	getString          = clusterproto.GetString
	getMap             = clusterproto.GetMap
	getArray           = clusterproto.GetArray
	roomList           = clusterproto.RoomList
	stringList         = clusterproto.StringList
	encodeOptions      = clusterproto.EncodeOptions
	decodeOptions      = clusterproto.DecodeOptions
	dedup              = clusterproto.Dedup
	encodePacket       = clusterproto.EncodePacket
	decodePacket       = clusterproto.DecodePacket
	argsOf             = clusterproto.ArgsOf
	valuesOf           = clusterproto.ValuesOf
	firstArg           = clusterproto.FirstArg
	encodeHandshake    = clusterproto.EncodeHandshake
	decodeHandshake    = clusterproto.DecodeHandshake
	encodeRemoteSocket = clusterproto.EncodeRemoteSocket
	decodeRemoteSocket = clusterproto.DecodeRemoteSocket
)
