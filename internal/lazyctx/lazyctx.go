// Package lazyctx provides a cancellable context that is made only when
// someone asks for it: most sessions and sockets never have their context
// read, and a cancelCtx with its CancelFunc is about 130 bytes of heap per
// connection.
package lazyctx

import (
	"context"
	"sync"
)

// Ctx is a context.Context made on first use and cancelled by Cancel (also
// when made after Cancel). The zero value is ready; it is safe for
// concurrent use and must not be copied.
type Ctx struct {
	mu       sync.Mutex
	ctx      context.Context
	cancel   context.CancelFunc
	canceled bool
}

// Context returns the context, making it if needed; every call returns the
// same one.
func (c *Ctx) Context() context.Context {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ctx == nil {
		c.ctx, c.cancel = context.WithCancel(context.Background())
		if c.canceled {
			c.cancel()
		}
	}
	return c.ctx
}

// Cancel cancels the context, now or as soon as it is made.
func (c *Ctx) Cancel() {
	c.mu.Lock()
	c.canceled = true
	cancel := c.cancel
	c.mu.Unlock()
	if cancel != nil {
		cancel()
	}
}
