package websocket

import (
	"bytes"
	"io"
	"testing"
)

// loopReader serves the same stream forever, so a benchmark can read any
// number of messages without allocating input.
type loopReader struct {
	data []byte
	off  int
}

func (l *loopReader) Read(p []byte) (int, error) {
	n := copy(p, l.data[l.off:])
	l.off = (l.off + n) % len(l.data)
	return n, nil
}

func BenchmarkWriteMessage(b *testing.B) {
	for _, size := range []int{32, 16 << 10} {
		b.Run(byteSize(size), func(b *testing.B) {
			c := newConn(&memConn{r: bytes.NewReader(nil), discard: true}, nil, Options{}, false)
			msg := make([]byte, size)
			b.SetBytes(int64(size))
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				if err := c.WriteMessage(Binary, msg); err != nil {
					b.Fatal(err)
				}
				if err := c.Flush(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkReadMessage(b *testing.B) {
	for _, size := range []int{32, 16 << 10} {
		b.Run(byteSize(size), func(b *testing.B) {
			var stream []byte
			for i := 0; i < 1000; i++ {
				stream = append(stream, clientFrame(0x82, make([]byte, size), true)...)
			}
			c := newConn(&memConn{r: &loopReader{data: stream}, discard: true}, nil, Options{}, false)
			b.SetBytes(int64(size))
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				if _, _, err := c.ReadMessage(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkPrepared(b *testing.B) {
	for _, size := range []int{32, 64 << 10} {
		b.Run(byteSize(size), func(b *testing.B) {
			pm := NewPreparedMessage(Binary, make([]byte, size))
			conns := make([]*Conn, 10)
			for i := range conns {
				conns[i] = newConn(&memConn{r: bytes.NewReader(nil), discard: true}, nil, Options{}, false)
			}
			b.SetBytes(int64(size))
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				c := conns[i%len(conns)]
				if err := c.WritePrepared(pm); err != nil {
					b.Fatal(err)
				}
				if err := c.Flush(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkWriteCompressed(b *testing.B) {
	c := newConn(&memConn{r: bytes.NewReader(nil), discard: true}, nil, Options{CompressionThreshold: 1}, true)
	msg := bytes.Repeat([]byte(`{"event":"chat","data":"hello"}`), 64)
	b.SetBytes(int64(len(msg)))
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		c.WriteMessage(Text, msg)
		c.Flush()
	}
}

func byteSize(n int) string {
	if n >= 1<<10 {
		return itoa(n>>10) + "KiB"
	}
	return itoa(n) + "B"
}

func itoa(n int) string {
	var b [20]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
		if n == 0 {
			return string(b[i:])
		}
	}
}

var _ io.Reader = (*loopReader)(nil)
