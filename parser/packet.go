package parser

import (
	"encoding/json"
	"errors"
	"strconv"
)

// Type is the type of a Socket.IO packet.
type Type byte

// The packet types of the Socket.IO v5 protocol.
const (
	Connect      Type = 0 // CONNECT: join a namespace, or the server's answer
	Disconnect   Type = 1 // DISCONNECT: leave a namespace
	Event        Type = 2 // EVENT: an event with its arguments
	Ack          Type = 3 // ACK: the answer to an event that asked for one
	ConnectError Type = 4 // CONNECT_ERROR: the server refused the connection to a namespace
	BinaryEvent  Type = 5 // BINARY_EVENT: an EVENT with binary attachments
	BinaryAck    Type = 6 // BINARY_ACK: an ACK with binary attachments
)

var typeNames = [...]string{"CONNECT", "DISCONNECT", "EVENT", "ACK", "CONNECT_ERROR", "BINARY_EVENT", "BINARY_ACK"}

// String returns the reference implementation's name for t, such as "BINARY_EVENT".
func (t Type) String() string {
	if int(t) < len(typeNames) {
		return typeNames[t]
	}
	return "Type(" + strconv.Itoa(int(t)) + ")"
}

// MaxAckID is the largest acknowledgement id: the largest integer a
// JavaScript number holds exactly (2^53-1).
const MaxAckID = 1<<53 - 1

// Packet is one Socket.IO packet.
//
// A Packet returned by a [Decoder] shares memory with the messages given to
// [Decoder.Add]; a Packet given to an [Encoder] is only read. A decoded
// Packet also keeps, unexported, where the elements of its Data are (for
// [Packet.Args]): compare packets by their exported fields rather than
// with reflect.DeepEqual.
type Packet struct {
	Type Type
	// Namespace is "/" when the packet names no namespace. The encoder omits
	// "/" (and ""); any other namespace must start with "/" and contain no ",".
	Namespace string
	// ID is the acknowledgement id, valid when HasID is set. It is at most MaxAckID.
	ID    uint64
	HasID bool
	// Data is the raw JSON payload, nil when the packet has none. For
	// BinaryEvent and BinaryAck packets it still holds the
	// {"_placeholder":true,"num":N} objects that stand for the attachments;
	// use Unmarshal to decode it.
	Data json.RawMessage
	// Attachments are the binary attachments of a BinaryEvent or BinaryAck
	// packet, in the order of their placeholders' num.
	Attachments [][]byte

	// The top-level elements of Data, found by the decoder while it
	// validated them (nil for packets not from a Decoder): Args uses them
	// instead of scanning Data again. splitOf is the Data they were found
	// in.
	split   []json.RawMessage
	splitOf json.RawMessage
	plain   uint64 // bit k: split[k] is a string without escapes or non-ASCII bytes
}

// arrayPacket is how the decoder allocates a packet with an array payload
// (events and acknowledgements): with storage for the split of the
// commonest ones (an event's name and up to three arguments), so that it
// costs no allocation of its own. Other packets (a CONNECT, which every
// connection sends) stay in a smaller size class.
type arrayPacket struct {
	Packet
	inline [4]json.RawMessage
}

// Args returns the packet's Data and Attachments as [Args], as
// NewArgs(p.Data, p.Attachments) does. For a packet from a [Decoder] whose
// Data has not been replaced since, it reuses the split the decoder made
// while validating Data, instead of scanning it again.
func (p *Packet) Args() (Args, error) {
	if p.split != nil && len(p.Data) == len(p.splitOf) && len(p.Data) > 0 && &p.Data[0] == &p.splitOf[0] {
		return Args{raw: p.split, attachments: p.Attachments, plain: p.plain}, nil
	}
	return NewArgs(p.Data, p.Attachments)
}

// Errors reported by this package. Errors are wrapped with details: test for
// them with errors.Is. Any error returned by Decoder.Add is a protocol
// violation.
var (
	// ErrInvalidPacket: malformed packet header (unknown type, empty
	// message, bad ack id), or a packet the encoder cannot represent.
	ErrInvalidPacket = errors.New("parser: invalid packet")
	// ErrInvalidPayload: the payload is not valid JSON or not what its packet type requires.
	ErrInvalidPayload = errors.New("parser: invalid payload")
	// ErrIllegalAttachments: a malformed attachment count, or a placeholder
	// whose num is not the index of an attachment.
	ErrIllegalAttachments = errors.New("parser: illegal attachments")
	// ErrTooManyAttachments: more attachments announced than Options.MaxAttachments allows.
	ErrTooManyAttachments = errors.New("parser: too many attachments")
	// ErrUnexpectedBinary: a binary message arrived while no binary packet was being reconstructed.
	ErrUnexpectedBinary = errors.New("parser: got binary data when not reconstructing a packet")
	// ErrUnexpectedText: a text message arrived while a binary packet still waited for attachments.
	ErrUnexpectedText = errors.New("parser: got plaintext data when reconstructing a packet")
	// ErrUnsupportedValue: MarshalArgs met a value it cannot encode (too deep, cyclic, bad map key).
	ErrUnsupportedValue = errors.New("parser: unsupported value")
)

// Parser creates encoders and decoders for one packet format. JSON (the
// reference implementation's default) is provided by NewJSONParser. A Parser
// is safe for concurrent use; its encoders and decoders are not.
type Parser interface {
	NewEncoder() Encoder
	NewDecoder() Decoder
}

// Encoder turns packets into Engine.IO messages.
type Encoder interface {
	// Encode returns the Engine.IO messages for p: the first is a text
	// message (the header and the JSON payload), followed by one binary
	// message per attachment. The header's attachment count comes from
	// len(p.Attachments).
	Encode(p *Packet) ([][]byte, error)
}

// Decoder turns Engine.IO messages into packets. A Decoder keeps the state of
// one connection and is not safe for concurrent use.
type Decoder interface {
	// Add feeds one Engine.IO message (binary tells whether it arrived as
	// binary). It returns a complete packet, or nil while a binary packet
	// still waits for attachments. Any error is a protocol violation: the
	// caller closes the connection. After an error the decoder must be Reset
	// or dropped.
	//
	// The returned packet keeps references to data (and to earlier binary
	// messages): the caller must not modify or reuse them afterwards.
	Add(data []byte, binary bool) (*Packet, error)
	// Reset drops a partly reconstructed binary packet.
	Reset()
}

// DefaultMaxAttachments is the number of binary attachments a packet may
// carry when Options.MaxAttachments is 0, as in the reference implementation.
const DefaultMaxAttachments = 10

// Options configures NewJSONParser. A nil *Options means the defaults.
type Options struct {
	// MaxAttachments is the largest number of binary attachments a decoded
	// packet may announce; a packet announcing more is refused before any
	// attachment is buffered. 0 means DefaultMaxAttachments (10); a negative
	// value refuses every binary packet. Each attachment can be as large as
	// the Engine.IO layer allows, so a large value lets a peer make the
	// server buffer that many messages.
	MaxAttachments int
}

// NewJSONParser returns the default parser, the JSON format of the
// reference implementation.
func NewJSONParser(opts *Options) Parser {
	max := DefaultMaxAttachments
	if opts != nil && opts.MaxAttachments != 0 {
		max = opts.MaxAttachments
		if max < 0 {
			max = 0
		}
	}
	return jsonParser{maxAttachments: max}
}

type jsonParser struct{ maxAttachments int }

func (p jsonParser) NewEncoder() Encoder { return JSONEncoder{} }

func (p jsonParser) NewDecoder() Decoder { return &jsonDecoder{max: p.maxAttachments} }
