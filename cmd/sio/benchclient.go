package main

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/socketio-go/socketio/client"
)

// startLibEcho runs echo mode through the client library (package client)
// instead of the raw fast path: the comparison with the official Node client
// (bench/node/client.mjs) measures the library a user would use.
func (r *benchRun) startLibEcho(ctx context.Context, wg *sync.WaitGroup) func() error {
	return func() error {
		payload := payloadOf(r.cfg.size)
		socks := make([]*client.Socket, r.cfg.conns)
		for i := range socks {
			cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
			s, err := client.Connect(cctx, r.cfg.url, &client.Options{Transports: []string{"websocket"}, DisableReconnection: true}, nil)
			cancel()
			if err != nil {
				for _, s := range socks[:i] {
					s.Manager().Close()
				}
				return fmt.Errorf("connection %d: %w", i, err)
			}
			socks[i] = s
			r.connected.Add(1)
		}
		for _, s := range socks {
			h := r.newHist()
			// Handlers of one socket run one at a time, in order: a FIFO of
			// send times gives each echo its latency.
			var mu sync.Mutex
			var sentAt []time.Time
			emit := func() {
				mu.Lock()
				sentAt = append(sentAt, time.Now())
				mu.Unlock()
				if err := s.Emit("echo", payload); err != nil {
					r.fail(err)
				}
			}
			client.On(s, "echo", func(string) {
				mu.Lock()
				t := sentAt[0]
				sentAt = sentAt[1:]
				mu.Unlock()
				r.count(h, time.Since(t))
				if !r.stopping.Load() {
					emit()
				}
			})
			for i := 0; i < r.cfg.inflight; i++ {
				emit()
			}
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-ctx.Done()
			for _, s := range socks {
				s.Manager().Close()
			}
		}()
		return nil
	}
}
