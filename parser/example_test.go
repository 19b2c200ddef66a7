package parser_test

import (
	"encoding/json"
	"fmt"

	"github.com/socketio-go/socketio/parser"
)

func Example() {
	p := parser.NewJSONParser(nil)

	// Sending: encode the arguments, then the packet.
	data, atts, _ := parser.MarshalEvent("upload", []any{"a.png", []byte{0x89, 0x50}})
	msgs, _ := p.NewEncoder().Encode(&parser.Packet{Type: parser.Event, Namespace: "/files", Data: data, Attachments: atts})
	for _, m := range msgs {
		fmt.Printf("%q\n", m)
	}

	// Receiving: feed the messages, split the arguments, decode each one.
	dec := p.NewDecoder()
	var pkt *parser.Packet
	for i, m := range msgs {
		var err error
		if pkt, err = dec.Add(m, i > 0); err != nil {
			fmt.Println("protocol violation:", err) // close the connection
			return
		}
	}
	args, _ := parser.SplitArray(pkt.Data)
	var event, name string
	var content []byte
	_ = parser.Unmarshal(args[0], pkt.Attachments, &event)
	_ = parser.Unmarshal(args[1], pkt.Attachments, &name)
	_ = parser.Unmarshal(args[2], pkt.Attachments, &content)
	fmt.Println(pkt.Type, pkt.Namespace, event, name, content)
	// Output:
	// "51-/files,[\"upload\",\"a.png\",{\"_placeholder\":true,\"num\":0}]"
	// "\x89P"
	// BINARY_EVENT /files upload a.png [137 80]
}

func ExampleNewJSONParser() {
	p := parser.NewJSONParser(&parser.Options{MaxAttachments: 2})
	dec := p.NewDecoder()
	pkt, err := dec.Add([]byte(`2/chat,7["message",{"text":"hi"}]`), false)
	fmt.Println(pkt.Type, pkt.Namespace, pkt.ID, pkt.HasID, string(pkt.Data), err)

	_, err = dec.Add([]byte(`2["disconnect"]`), false)
	fmt.Println(err)

	msgs, _ := p.NewEncoder().Encode(&parser.Packet{Type: parser.Ack, Namespace: "/chat", ID: 7, HasID: true, Data: json.RawMessage(`["ok"]`)})
	fmt.Println(string(msgs[0]))
	// Output:
	// EVENT /chat 7 true ["message",{"text":"hi"}] <nil>
	// parser: invalid payload: reserved event name "disconnect"
	// 3/chat,7["ok"]
}

func ExampleJSONEncoder_EncodeEvent() {
	var enc parser.JSONEncoder // what NewJSONParser's NewEncoder returns
	text, atts, _ := enc.EncodeEvent("/chat", 12, true, "message", []any{"hi", 3, []byte{1, 2}})
	fmt.Printf("%s %d\n", text, len(atts))
	ack, _, _ := enc.EncodeAck("/", 12, []any{"ok"})
	fmt.Printf("%s\n", ack)
	// Output:
	// 51-/chat,12["message","hi",3,{"_placeholder":true,"num":0}] 1
	// 312["ok"]
}

func ExampleMarshalArgs() {
	type photo struct {
		Title string `json:"title"`
		Image []byte `json:"image"`
	}
	data, atts, _ := parser.MarshalArgs([]any{photo{Title: "cat", Image: []byte("...")}, 42})
	fmt.Println(string(data), len(atts))
	// Output: [{"title":"cat","image":{"_placeholder":true,"num":0}},42] 1
}

func ExampleSplitArray() {
	args, _ := parser.SplitArray(json.RawMessage(`["chat", {"user":"a"}, [1,2]]`))
	for _, a := range args {
		fmt.Println(string(a))
	}
	// Output:
	// "chat"
	// {"user":"a"}
	// [1,2]
}

func ExamplePacket_Args() {
	dec := parser.NewJSONParser(nil).NewDecoder()
	p, err := dec.Add([]byte(`2["chat","hello",42]`), false)
	if err != nil {
		panic(err)
	}
	args, err := p.Args() // the elements the decoder found while validating
	if err != nil {
		panic(err)
	}
	var name, text string
	var n int
	if err := args.Bind(&name, &text, &n); err != nil {
		panic(err)
	}
	fmt.Println(args.Len(), name, text, n)
	// Output: 3 chat hello 42
}

func ExampleUnmarshal() {
	raw := json.RawMessage(`{"title":"cat","image":{"_placeholder":true,"num":0},"meta":{"thumb":{"_placeholder":true,"num":1}}}`)
	atts := [][]byte{[]byte("full"), []byte("thumb")}
	var photo struct {
		Title string
		Image []byte
		Meta  any
	}
	err := parser.Unmarshal(raw, atts, &photo)
	fmt.Printf("%s %s %q %v\n", photo.Title, photo.Image, photo.Meta, err)
	// Output: cat full map["thumb":"thumb"] <nil>
}

func ExampleArgs_DecodeString() {
	p, err := parser.NewJSONParser(nil).NewDecoder().Add([]byte(`2["chat","hello",42]`), false)
	if err != nil {
		panic(err)
	}
	args, _ := p.Args()
	text, err := args.DecodeString(1)
	fmt.Println(text, err)
	_, err = args.DecodeString(2) // a number is not a string
	fmt.Println(err != nil)
	// Output:
	// hello <nil>
	// true
}

func ExampleDecodeAs() {
	p, err := parser.NewJSONParser(nil).NewDecoder().Add([]byte(`2["move",{"x":3,"y":4}]`), false)
	if err != nil {
		panic(err)
	}
	args, _ := p.Args()
	type point struct{ X, Y int }
	name, _ := parser.DecodeAs[string](args, 0)
	pt, err := parser.DecodeAs[point](args, 1)
	fmt.Println(name, pt, err)
	// Output: move {3 4} <nil>
}
