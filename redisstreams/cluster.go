package redisstreams

import (
	"context"
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// cluster is what the adapters of one factory share, as in the Node
// adapter: one reader per stream (XREAD BLOCK, on a connection of its own),
// one pub/sub subscription, and one writer goroutine draining a bounded
// queue in pipelines, so that no caller waits for a slow or absent Redis.
// It runs while at least one adapter is open.
type cluster struct {
	client redis.UniversalClient
	opts   *Options

	mu       sync.Mutex
	adapters map[string]*Adapter // by namespace
	channels map[string]*Adapter // by pub/sub channel
	run      *run

	queue   chan *job
	dropped atomic.Uint64

	stateMu sync.Mutex
	parts   [3]error // reader, subscription, writer: nil when fine
	up      bool
	healthy atomic.Bool
}

// Parts of the connection whose failures make the adapters unhealthy.
const (
	partRead = iota
	partSub
	partWrite
)

// run is one period during which the cluster's goroutines run.
type run struct {
	ctx     context.Context
	cancel  context.CancelFunc
	reader  redis.UniversalClient // a client of its own, closed to stop XREAD
	ownRead bool
	ps      *redis.PubSub
	wg      sync.WaitGroup
	stopW   chan struct{} // stops the writer, after a last flush
	writerW sync.WaitGroup
}

// job is one command for the writer: XADD when stream is set, SET when key
// is set, else PUBLISH.
type job struct {
	stream  string
	values  []any
	key     string
	ttl     time.Duration
	channel string
	payload []byte
	done    chan string // receives the entry id ("" on failure), when set
}

const (
	writeTimeout = 3 * time.Second
	idlePing     = 5 * time.Second
	minBackoff   = 50 * time.Millisecond
	maxBackoff   = 2 * time.Second
	batchSize    = 64
)

func newCluster(client redis.UniversalClient, o *Options) *cluster {
	c := &cluster{
		client:   client,
		opts:     o,
		adapters: make(map[string]*Adapter),
		channels: make(map[string]*Adapter),
		queue:    make(chan *job, o.PublishQueueSize),
	}
	c.parts[partRead] = errors.New("redisstreams: not started")
	return c
}

// duplicate returns a client with the same options and a pool of its own,
// so that closing it interrupts a blocked XREAD.
func duplicate(client redis.UniversalClient, conns int) (redis.UniversalClient, bool) {
	switch c := client.(type) {
	case *redis.Client:
		o := *c.Options()
		o.PoolSize, o.MinIdleConns, o.MaxIdleConns = conns, 0, conns
		return redis.NewClient(&o), true
	case *redis.ClusterClient:
		o := *c.Options()
		o.PoolSize, o.MinIdleConns, o.MaxIdleConns = conns, 0, conns
		return redis.NewClusterClient(&o), true
	}
	return client, false
}

// register adds an adapter, starting the goroutines for the first one.
func (c *cluster) register(a *Adapter) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.run == nil {
		c.start()
	}
	c.adapters[a.nsp.Name()] = a
	c.channels[a.publicChannel] = a
	c.channels[a.privateChannel] = a
	var err error
	if c.opts.UseShardedPubSub {
		err = c.run.ps.SSubscribe(c.run.ctx, a.publicChannel, a.privateChannel)
	} else {
		err = c.run.ps.Subscribe(c.run.ctx, a.publicChannel, a.privateChannel)
	}
	if err != nil {
		// Remembered all the same: the subscription is renewed on reconnection.
		c.setPart(partSub, err)
	}
}

// unregister removes an adapter, stopping the goroutines after the last one
// (and after its last messages are written).
func (c *cluster) unregister(a *Adapter) {
	c.mu.Lock()
	if c.adapters[a.nsp.Name()] != a {
		c.mu.Unlock()
		return
	}
	delete(c.adapters, a.nsp.Name())
	delete(c.channels, a.publicChannel)
	delete(c.channels, a.privateChannel)
	r := c.run
	if len(c.adapters) > 0 {
		if c.opts.UseShardedPubSub {
			_ = r.ps.SUnsubscribe(r.ctx, a.publicChannel, a.privateChannel)
		} else {
			_ = r.ps.Unsubscribe(r.ctx, a.publicChannel, a.privateChannel)
		}
		c.mu.Unlock()
		return
	}
	c.run = nil
	c.mu.Unlock()
	// Not under c.mu: the goroutines being waited for take it.
	close(r.stopW)
	r.writerW.Wait()
	r.cancel()
	_ = r.ps.Close()
	if r.ownRead {
		_ = r.reader.Close()
	}
	r.wg.Wait()
}

func (c *cluster) start() {
	ctx, cancel := context.WithCancel(context.Background())
	streams := map[string]struct{}{}
	if c.opts.StreamCount <= 1 {
		streams[c.opts.StreamName] = struct{}{}
	} else {
		for i := 0; i < c.opts.StreamCount; i++ {
			streams[c.opts.StreamName+"-"+itoa(i)] = struct{}{}
		}
	}
	reader, own := duplicate(c.client, len(streams)+1)
	r := &run{ctx: ctx, cancel: cancel, reader: reader, ownRead: own, stopW: make(chan struct{})}
	if c.opts.UseShardedPubSub {
		r.ps = c.client.SSubscribe(ctx)
	} else {
		r.ps = c.client.Subscribe(ctx)
	}
	c.run = r
	for s := range streams {
		// Read from the last entry now, so that nothing published after
		// this adapter exists is missed (the Node adapter starts at "$").
		offset := "$"
		qctx, qcancel := context.WithTimeout(ctx, 2*time.Second)
		if last, err := reader.XRevRangeN(qctx, s, "+", "-", 1).Result(); err == nil {
			if len(last) > 0 {
				offset = last[0].ID
			}
			c.setPart(partRead, nil)
		} else {
			c.setPart(partRead, err)
		}
		qcancel()
		r.wg.Add(1)
		go c.read(r, s, offset)
	}
	r.wg.Add(1)
	go c.receive(r)
	r.writerW.Add(1)
	go c.write(r)
}

func itoa(i int) string {
	if i < 10 {
		return string(rune('0' + i))
	}
	return itoa(i/10) + itoa(i%10)
}

// read follows one stream.
func (c *cluster) read(r *run, stream, offset string) {
	defer r.wg.Done()
	backoff := minBackoff
	failed := false
	for {
		if failed {
			// Show the recovery at once rather than after a quiet BLOCK.
			if err := r.reader.Ping(r.ctx).Err(); err == nil {
				c.setPart(partRead, nil)
			}
		}
		res, err := r.reader.XRead(r.ctx, &redis.XReadArgs{
			Streams: []string{stream, offset},
			Count:   c.opts.ReadCount,
			Block:   c.opts.BlockTime,
		}).Result()
		if r.ctx.Err() != nil {
			return
		}
		if err != nil && !errors.Is(err, redis.Nil) {
			failed = true
			c.setPart(partRead, err)
			select {
			case <-time.After(backoff):
			case <-r.ctx.Done():
				return
			}
			backoff = min(2*backoff, maxBackoff)
			continue
		}
		failed, backoff = false, minBackoff
		c.setPart(partRead, nil)
		for _, s := range res {
			for _, e := range s.Messages {
				offset = e.ID
				c.onEntry(e)
			}
		}
	}
}

func (c *cluster) onEntry(e redis.XMessage) {
	m, err := decodeEntry(e.Values, c.opts.MaxMessageSize)
	if err != nil {
		c.opts.Logger.Debug("redisstreams: ignored entry", "id", e.ID, "err", err)
		return
	}
	c.mu.Lock()
	a := c.adapters[m.nsp]
	c.mu.Unlock()
	if a != nil {
		a.onMessage(m, e.ID)
	}
}

// receive reads the pub/sub subscription; go-redis reconnects and
// resubscribes on its own, this loop backs off and watches health.
func (c *cluster) receive(r *run) {
	defer r.wg.Done()
	backoff := minBackoff
	for {
		msg, err := r.ps.ReceiveTimeout(r.ctx, idlePing)
		if r.ctx.Err() != nil {
			return
		}
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				if err := r.ps.Ping(r.ctx); err != nil {
					c.setPart(partSub, err)
				}
				continue
			}
			c.setPart(partSub, err)
			select {
			case <-time.After(backoff):
			case <-r.ctx.Done():
				return
			}
			backoff = min(2*backoff, maxBackoff)
			continue
		}
		backoff = minBackoff
		c.setPart(partSub, nil)
		m, ok := msg.(*redis.Message)
		if !ok {
			continue
		}
		c.mu.Lock()
		a := c.channels[m.Channel]
		c.mu.Unlock()
		if a == nil {
			continue
		}
		pm, err := decodePubSub([]byte(m.Payload), c.opts.MaxMessageSize)
		if err != nil {
			c.opts.Logger.Debug("redisstreams: ignored message", "channel", m.Channel, "err", err)
			continue
		}
		a.onMessage(pm, "")
	}
}

// enqueue hands a job to the writer; it never blocks. It reports false
// when the job was dropped.
func (c *cluster) enqueue(j *job) bool {
	c.mu.Lock()
	running := c.run != nil
	c.mu.Unlock()
	if running {
		select {
		case c.queue <- j:
			return true
		default:
		}
	}
	c.dropped.Add(1)
	c.opts.Logger.Debug("redisstreams: message dropped (queue full or adapter closed)")
	if j.done != nil {
		j.done <- ""
	}
	return false
}

// write drains the queue, a pipeline at a time, in order.
func (c *cluster) write(r *run) {
	defer r.writerW.Done()
	batch := make([]*job, 0, batchSize)
	for {
		select {
		case j := <-c.queue:
			batch = append(batch[:0], j)
		case <-r.stopW:
			// A last flush, for the adapter close messages.
			for {
				batch = batch[:0]
				for len(batch) < batchSize {
					select {
					case j := <-c.queue:
						batch = append(batch, j)
						continue
					default:
					}
					break
				}
				if len(batch) == 0 {
					return
				}
				c.flush(batch)
			}
		}
	more:
		for len(batch) < batchSize {
			select {
			case j := <-c.queue:
				batch = append(batch, j)
			default:
				break more
			}
		}
		c.flush(batch)
	}
}

func (c *cluster) flush(batch []*job) {
	ctx, cancel := context.WithTimeout(context.Background(), writeTimeout)
	defer cancel()
	pipe := c.client.Pipeline()
	cmds := make([]redis.Cmder, len(batch))
	for i, j := range batch {
		switch {
		case j.stream != "":
			cmds[i] = pipe.XAdd(ctx, &redis.XAddArgs{Stream: j.stream, MaxLen: c.opts.MaxLen, Approx: true, Values: j.values})
		case j.key != "":
			cmds[i] = pipe.Set(ctx, j.key, j.payload, j.ttl)
		case c.opts.UseShardedPubSub:
			cmds[i] = pipe.SPublish(ctx, j.channel, j.payload)
		default:
			cmds[i] = pipe.Publish(ctx, j.channel, j.payload)
		}
	}
	_, err := pipe.Exec(ctx)
	for i, j := range batch {
		id := ""
		if cerr := cmds[i].Err(); cerr != nil {
			c.dropped.Add(1)
		} else if x, ok := cmds[i].(*redis.StringCmd); ok && j.stream != "" {
			id = x.Val()
		}
		if j.done != nil {
			j.done <- id
		}
	}
	if err != nil {
		c.opts.Logger.Debug("redisstreams: write failed", "err", err, "commands", len(batch))
	}
	c.setPart(partWrite, err)
}

// setPart records the state of one part and reports a change of the
// overall health.
func (c *cluster) setPart(part int, err error) {
	c.stateMu.Lock()
	defer c.stateMu.Unlock()
	c.parts[part] = err
	up := c.parts[0] == nil && c.parts[1] == nil && c.parts[2] == nil
	if up == c.up {
		return
	}
	c.up = up
	c.healthy.Store(up)
	if up {
		c.opts.Logger.Info("redisstreams: connected")
	} else {
		c.opts.Logger.Warn("redisstreams: connection lost", "err", err)
	}
	if c.opts.OnStateChange != nil {
		c.opts.OnStateChange(State{Healthy: up, Err: err})
	}
}
