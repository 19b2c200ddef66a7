package engineio_test

import (
	"bytes"
	"fmt"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/socketio-go/socketio/engineio"
)

// TestFlushersOrderAndSlowPeer broadcasts to WebSocket sessions whose
// writers are idle, so that the flushers write them, mixing in messages
// sent to each session alone: every reading client must get every message,
// in order, while one client that never reads fills its socket (its
// session is handed to its writer goroutine, then cut off as a slow
// consumer) without holding the others up.
func TestFlushersOrderAndSlowPeer(t *testing.T) {
	const readers, rounds = 8, 3000
	h := newHarness(t, &engineio.Options{MaxBufferedBytes: 256 << 10})
	type peer struct {
		c   *wsClient
		sid string
	}
	var peers []peer
	for range readers {
		c, sid := h.wsHandshake()
		peers = append(peers, peer{c, sid})
	}
	_, slowSID := h.wsHandshake() // never reads
	slow := h.rec(slowSID)

	done := make(chan error, readers)
	var read [readers]atomic.Int64 // messages each client has read
	for k, p := range peers {
		go func(c *wsClient, read *atomic.Int64) {
			for want := 0; want < rounds; {
				b0, data, err := c.readFrame()
				if err != nil {
					done <- fmt.Errorf("after %d messages: %v", want, err)
					return
				}
				if b0&0x0f != opText || bytes.Equal(data, []byte("2")) {
					continue // a ping
				}
				// "4" + kind + number + padding
				if len(data) < 3 {
					done <- fmt.Errorf("message %q", data)
					return
				}
				num, _, _ := bytes.Cut(data[2:], []byte(" "))
				n, err := strconv.Atoi(string(num))
				if err != nil || n != want || (data[1] == 'u') != (n%3 == 0) {
					done <- fmt.Errorf("got %.20q, want message %d", data, want)
					return
				}
				want++
				read.Store(int64(want))
			}
			done <- nil
		}(p.c, &read[k])
	}
	pad := bytes.Repeat([]byte(" "), 2000) // under the size the WebSocket layer copies
	slowErr := error(nil)
	for i := 0; i < rounds; i++ {
		if i%10 == 0 {
			// The reading clients keep up (within the queue's bound);
			// the one that never reads falls behind.
			deadline := time.Now().Add(waitTimeout)
			for k := range read {
				for read[k].Load() < int64(i-20) {
					if time.Now().After(deadline) {
						t.Fatalf("client %d stuck at %d messages of %d sent", k, read[k].Load(), i)
					}
					time.Sleep(time.Millisecond)
				}
			}
		}
		if i%3 == 0 {
			for _, p := range peers {
				if err := h.rec(p.sid).sess.Send(engineio.Message{Data: fmt.Appendf(nil, "u%d%s", i, pad)}); err != nil {
					t.Fatalf("send %d: %v", i, err)
				}
			}
			continue
		}
		pm := engineio.NewPreparedMessage(engineio.Message{Data: fmt.Appendf(nil, "b%d%s", i, pad)})
		for _, p := range peers {
			if err := h.rec(p.sid).sess.SendPrepared(pm); err != nil {
				t.Fatalf("broadcast %d: %v", i, err)
			}
		}
		if slowErr == nil {
			slowErr = slow.sess.SendPrepared(pm)
		}
	}
	for range peers {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	// The kernel's buffers may have taken all that: more, until the
	// queue's bound is hit.
	for n := 0; slowErr == nil && n < 50000; n++ {
		slowErr = slow.sess.SendPrepared(engineio.NewPreparedMessage(engineio.Message{Data: pad}))
	}
	if slowErr == nil {
		t.Fatal("100 MB of broadcasts to a peer that never reads were all accepted")
	}
	if reason := slow.waitClosed(t); reason != "transport error" {
		t.Errorf("slow peer closed with %q", reason)
	}
}
