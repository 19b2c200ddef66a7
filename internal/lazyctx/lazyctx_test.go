package lazyctx

import (
	"context"
	"errors"
	"testing"
)

func TestCtx(t *testing.T) {
	var c Ctx
	ctx := c.Context()
	if ctx != c.Context() {
		t.Fatal("Context returned two contexts")
	}
	if ctx.Err() != nil {
		t.Fatal("cancelled before Cancel")
	}
	c.Cancel()
	if !errors.Is(ctx.Err(), context.Canceled) {
		t.Fatalf("after Cancel: %v", ctx.Err())
	}

	var late Ctx
	late.Cancel()
	if !errors.Is(late.Context().Err(), context.Canceled) {
		t.Fatal("a context made after Cancel is not cancelled")
	}
}
