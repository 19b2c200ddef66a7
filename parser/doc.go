// Package parser implements the Socket.IO v5 packet codec, wire-compatible with
// the official socket.io-parser (socket.io 4.x).
//
// A Socket.IO packet travels as one Engine.IO text message, followed by one
// Engine.IO binary message per binary attachment:
//
//	<type>[<attachments>-][<namespace>,][<ack id>][<JSON payload>]
//
// for example 2["chat","hello"], 0/admin,{"token":"123"}, 312["ok"] or
// 51-["file",{"_placeholder":true,"num":0}] followed by the file's bytes.
//
// The payload stays raw JSON ([Packet.Data]) all the way to the handler that
// knows what Go types it wants: [Packet.Args] gives an event's arguments
// without decoding them (for a decoded packet, as split by the decoder
// while it validated the payload; [SplitArray] and [NewArgs] split any
// array), and [Unmarshal] or [Args.Decode] decodes one argument, putting
// binary attachments back where their placeholders were. In the other direction
// [MarshalArgs] and [MarshalEvent] encode Go values, turning every []byte into
// a placeholder and an attachment, and [JSONEncoder] (the Encoder of
// [NewJSONParser]) encodes whole packets, or an event or acknowledgement
// straight from its arguments into one buffer ([EventEncoder]).
//
// MarshalArgs, MarshalEvent, SplitArray, Unmarshal and JSONEncoder are safe
// for concurrent use. A Parser is too; each Decoder holds one connection's
// state.
//
// The decoder enforces the same rules as the reference implementation and
// reports any violation as an error; the caller is expected to close the
// connection, as the reference server does.
package parser
