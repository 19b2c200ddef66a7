// Package gotrack counts running goroutines so that a shutdown can wait for them.
package gotrack

import (
	"context"
	"sync"
)

// Tracker counts goroutines. Unlike sync.WaitGroup, Add may be called while
// Wait is waiting. The zero value is ready to use.
type Tracker struct {
	mu   sync.Mutex
	n    int
	zero chan struct{}
}

// Add records one more running goroutine.
func (t *Tracker) Add() {
	t.mu.Lock()
	t.n++
	t.mu.Unlock()
}

// Done records that one goroutine ended.
func (t *Tracker) Done() {
	t.mu.Lock()
	t.n--
	if t.n == 0 && t.zero != nil {
		close(t.zero)
		t.zero = nil
	}
	t.mu.Unlock()
}

// Wait waits until no goroutine runs or ctx is done.
func (t *Tracker) Wait(ctx context.Context) error {
	t.mu.Lock()
	if t.n == 0 {
		t.mu.Unlock()
		return nil
	}
	if t.zero == nil {
		t.zero = make(chan struct{})
	}
	ch := t.zero
	t.mu.Unlock()
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
