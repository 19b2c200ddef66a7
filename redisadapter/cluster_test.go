package redisadapter_test

import (
	"context"
	"testing"

	"github.com/redis/go-redis/v9"
	socketio "github.com/socketio-go/socketio"
	"github.com/socketio-go/socketio/redisadapter"
)

func classic(t *testing.T, c *redis.Client, key string, o *redisadapter.Options) func(*socketio.Namespace) socketio.Adapter {
	t.Helper()
	var opts redisadapter.Options
	if o != nil {
		opts = *o
	}
	opts.Key = key
	mk, err := redisadapter.New(c, &opts)
	if err != nil {
		t.Fatal(err)
	}
	return mk
}

// TestGoCluster: two Go nodes on one Redis, official clients on both.
func TestGoCluster(t *testing.T) {
	c := newRedis(t)
	key := uniqueKey(t)
	nodeDir(t)
	runScenario(t, []node{
		newGoNode(t, "go1", classic(t, c, key, nil)),
		newGoNode(t, "go2", classic(t, c, key, &redisadapter.Options{PublishOnSpecificResponseChannel: true})),
	})
}

// TestMixedCluster: two Go nodes and one Node node (socket.io with
// @socket.io/redis-adapter) on one Redis, official clients on every node.
func TestMixedCluster(t *testing.T) {
	c := newRedis(t)
	key := uniqueKey(t)
	js := newNodeNode(t, "classic", key, "js")
	runScenario(t, []node{
		newGoNode(t, "go1", classic(t, c, key, nil)),
		newGoNode(t, "go2", classic(t, c, key, &redisadapter.Options{PublishOnSpecificResponseChannel: true})),
		js,
	})
}

func sharded(t *testing.T, c *redis.Client, key string) func(*socketio.Namespace) socketio.Adapter {
	t.Helper()
	mk, err := redisadapter.NewSharded(c, &redisadapter.Options{Key: key})
	if err != nil {
		t.Fatal(err)
	}
	return mk
}

// TestMixedShardedCluster: the same with the sharded mode of
// @socket.io/redis-adapter (SPUBLISH/SSUBSCRIBE, Redis 7).
func TestMixedShardedCluster(t *testing.T) {
	c := newRedis(t)
	if v, err := c.Do(context.Background(), "COMMAND", "INFO", "SPUBLISH").Slice(); err != nil || len(v) == 0 || v[0] == nil {
		skipOrFail(t, "this Redis server has no SPUBLISH (Redis 7 needed)")
	}
	key := uniqueKey(t)
	js := newNodeNode(t, "sharded", key, "js")
	runScenario(t, []node{
		newGoNode(t, "go1", sharded(t, c, key)),
		newGoNode(t, "go2", sharded(t, c, key)),
		js,
	})
}
