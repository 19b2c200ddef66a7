// Package nolog provides the logger the packages use when the user gives
// none: it discards everything (slog.DiscardHandler needs Go 1.24).
package nolog

import (
	"context"
	"log/slog"
)

// New returns a logger that discards every record.
func New() *slog.Logger { return slog.New(discard{}) }

type discard struct{}

func (discard) Enabled(context.Context, slog.Level) bool  { return false }
func (discard) Handle(context.Context, slog.Record) error { return nil }
func (d discard) WithAttrs([]slog.Attr) slog.Handler      { return d }
func (d discard) WithGroup(string) slog.Handler           { return d }
