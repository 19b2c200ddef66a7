package redisadapter_test

import (
	"testing"

	"github.com/socketio-go/socketio/internal/redistest"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m,
		// go-redis's process-wide helpers, started on first use.
		goleak.IgnoreAnyFunction("github.com/redis/go-redis/v9/internal/pool.(*ConnPool).reaper"),
		goleak.IgnoreAnyFunction("github.com/redis/go-redis/v9/maintnotifications.(*poolHook).cleanupWorker"),
		goleak.IgnoreAnyFunction("github.com/redis/go-redis/v9/internal.(*process).start.func1"),
	)
}

// The harness (Go and Node nodes, official clients, the scenario) is
// shared with the other Redis packages: see internal/redistest.
type node = redistest.Node

var (
	skipOrFail  = redistest.SkipOrFail
	newRedis    = redistest.NewRedis
	newRedisAt  = redistest.NewRedisAt
	uniqueKey   = redistest.UniqueKey
	newGoNode   = redistest.NewGoNode
	newNodeNode = redistest.NewNodeNode
	nodeDir     = redistest.NodeDir
	eventually  = redistest.Eventually
	runScenario = redistest.RunScenario
)
