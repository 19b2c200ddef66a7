package clusterengine

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/socketio-go/socketio/internal/nolog"
)

// Options configures New. A nil *Options, or the zero value, gives the
// defaults.
type Options struct {
	// Prefix starts the name of every Pub/Sub channel: a node listens on
	// "<Prefix>#<NodeID>#". Default "engine.io", as @socket.io/cluster-engine.
	// Every node of a cluster must use the same.
	Prefix string

	// NodeID names this node. It starts every session id the node makes
	// ("<NodeID>.<20 random characters>"), which is how the other nodes
	// (and, for sticky routing, a load balancer) find a session's owner.
	// Letters, digits, '-' and '_', at most 64. Default: 12 random hex
	// digits. Two live nodes must not share an id.
	NodeID string

	// LivenessInterval is how often a node checks that the nodes it relays
	// requests to or from are still subscribed to Redis; a node missing at
	// two checks in a row is gone, and what was relayed through it is
	// closed (the clients reconnect). Default 1 s.
	LivenessInterval time.Duration

	// MaxQueuedBytes caps the frames queued for one relayed WebSocket in
	// either direction; past it the connection is closed (a slow consumer).
	// Default 16 MiB.
	MaxQueuedBytes int

	// Logger receives debug logs. Nil logs nothing.
	Logger *slog.Logger
}

// Defaults of Options.
const (
	DefaultPrefix           = "engine.io"
	DefaultLivenessInterval = time.Second
	DefaultMaxQueuedBytes   = 16 << 20
)

func (o *Options) resolve() (Options, error) {
	var r Options
	if o != nil {
		r = *o
	}
	if r.Prefix == "" {
		r.Prefix = DefaultPrefix
	}
	if r.NodeID == "" {
		var b [6]byte
		if _, err := rand.Read(b[:]); err != nil {
			return r, fmt.Errorf("clusterengine: node id: %w", err)
		}
		r.NodeID = hex.EncodeToString(b[:])
	}
	if !validNodeID(r.NodeID) {
		return r, fmt.Errorf("clusterengine: NodeID %q: letters, digits, '-' and '_' only, at most 64", r.NodeID)
	}
	if r.LivenessInterval == 0 {
		r.LivenessInterval = DefaultLivenessInterval
	}
	if r.MaxQueuedBytes == 0 {
		r.MaxQueuedBytes = DefaultMaxQueuedBytes
	}
	if r.LivenessInterval < 0 || r.MaxQueuedBytes < 0 {
		return r, errors.New("clusterengine: durations and sizes must not be negative")
	}
	if r.Logger == nil {
		r.Logger = nolog.New()
	}
	return r, nil
}

func validNodeID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}
