package websocket

import (
	"bytes"
	"encoding/binary"
	"testing"
)

// FuzzReadMessage feeds arbitrary bytes as the client's side of a connection.
// ReadMessage must never panic or hang, and must stop with an error once the
// input is exhausted.
func FuzzReadMessage(f *testing.F) {
	seeds := [][]byte{
		clientFrame(0x81, []byte("hello"), true),
		append(clientFrame(0x01, []byte("he"), true), clientFrame(0x80, []byte("llo"), true)...),
		clientFrame(0x82, make([]byte, 300), true),
		clientFrame(0x89, []byte("ping"), true),
		clientFrame(0x88, []byte{0x03, 0xe8, 'b', 'y', 'e'}, true),
		clientFrame(0xc1, []byte{0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00}, true),
		binary.BigEndian.AppendUint64([]byte{0x82, 0xff}, 1<<40),
		{0x81, 0x7e, 0xff},
	}
	for _, s := range seeds {
		f.Add(s, true)
		f.Add(s, false)
	}
	f.Fuzz(func(t *testing.T, data []byte, compress bool) {
		mc := &memConn{r: bytes.NewReader(data), discard: true}
		c := newConn(mc, nil, Options{MaxMessageSize: 1 << 16, CompressionThreshold: 1}, compress)
		// Every message or control frame consumes at least 2 input bytes.
		for i := 0; i <= len(data); i++ {
			typ, msg, err := c.ReadMessage()
			if err != nil {
				if _, _, err2 := c.ReadMessage(); err2 != err {
					t.Fatalf("error not sticky: %v then %v", err, err2)
				}
				return
			}
			if typ != Text && typ != Binary {
				t.Fatalf("message type %d", typ)
			}
			if len(msg) > 1<<16 {
				t.Fatalf("message of %d bytes exceeds the limit", len(msg))
			}
		}
		t.Fatal("ReadMessage did not stop at the end of the input")
	})
}
