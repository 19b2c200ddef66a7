package clusterproto

import (
	"context"
	"fmt"
	"sync"

	"github.com/redis/go-redis/v9"
)

// NumSub returns the number of subscribers of channel (PUBSUB NUMSUB, summed
// over the masters of a Redis Cluster), or of a sharded channel (PUBSUB
// SHARDNUMSUB): the server count of the adapters that have no heartbeat.
func NumSub(ctx context.Context, client redis.UniversalClient, channel string, sharded bool) (int, error) {
	count := func(c redis.UniversalClient) (int, error) {
		var res map[string]int64
		var err error
		if sharded {
			res, err = c.PubSubShardNumSub(ctx, channel).Result()
		} else {
			res, err = c.PubSubNumSub(ctx, channel).Result()
		}
		if err != nil {
			return 0, fmt.Errorf("server count: %w", err)
		}
		return int(res[channel]), nil
	}
	if cc, ok := client.(*redis.ClusterClient); ok && !sharded {
		var mu sync.Mutex
		total := 0
		err := cc.ForEachMaster(ctx, func(ctx context.Context, c *redis.Client) error {
			n, err := count(c)
			mu.Lock()
			total += n
			mu.Unlock()
			return err
		})
		return total, err
	}
	return count(client)
}
