package redisstreams_test

import (
	"testing"

	"github.com/redis/go-redis/v9"
	socketio "github.com/socketio-go/socketio"
	"github.com/socketio-go/socketio/redisstreams"
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

// options isolates a test: its own stream, channels and session keys, as
// node.mjs names them in streams mode.
func options(key string, o *redisstreams.Options) *redisstreams.Options {
	var opts redisstreams.Options
	if o != nil {
		opts = *o
	}
	opts.StreamName = key
	opts.ChannelPrefix = key
	opts.SessionKeyPrefix = key + ":session:"
	return &opts
}

func streams(t *testing.T, c redis.UniversalClient, key string, o *redisstreams.Options) func(*socketio.Namespace) socketio.Adapter {
	t.Helper()
	mk, err := redisstreams.New(c, options(key, o))
	if err != nil {
		t.Fatal(err)
	}
	// Tests share one Redis server: remove this test's stream and sessions.
	t.Cleanup(func() { cleanupKeys(c, key) })
	return mk
}
