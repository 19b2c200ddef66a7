package redisadapter

import (
	"context"
	"crypto/rand"
	"errors"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// link is an adapter's connection to Redis: one subscription read by one
// goroutine (which reconnects with backoff), and one publisher goroutine
// draining a bounded queue, so that no caller ever waits for Redis.
type link struct {
	client  redis.UniversalClient
	sharded bool
	nsp     string
	log     *slog.Logger
	onState func(State)
	handle  func(*redis.Message)

	ps      *redis.PubSub
	queue   chan outgoing
	ctx     context.Context
	cancel  context.CancelFunc
	wg      sync.WaitGroup
	healthy atomic.Bool
	stateMu sync.Mutex
	dropped atomic.Uint64
}

type outgoing struct {
	channel string
	payload []byte
}

const (
	idlePing       = 5 * time.Second
	publishTimeout = 3 * time.Second
	minBackoff     = 50 * time.Millisecond
	maxBackoff     = 2 * time.Second
)

func newLink(client redis.UniversalClient, sharded bool, nsp string, o *Options, handle func(*redis.Message)) *link {
	ctx, cancel := context.WithCancel(context.Background())
	l := &link{
		client: client, sharded: sharded, nsp: nsp, log: o.Logger, onState: o.OnStateChange,
		handle: handle, queue: make(chan outgoing, o.PublishQueueSize), ctx: ctx, cancel: cancel,
	}
	if sharded {
		l.ps = client.SSubscribe(ctx)
	} else {
		l.ps = client.Subscribe(ctx)
	}
	return l
}

// subscribe adds channels (or, with pattern, a pattern). The subscription is
// remembered even when Redis is down, and renewed on every reconnection.
func (l *link) subscribe(pattern bool, channels ...string) {
	var err error
	switch {
	case pattern:
		err = l.ps.PSubscribe(l.ctx, channels...)
	case l.sharded:
		err = l.ps.SSubscribe(l.ctx, channels...)
	default:
		err = l.ps.Subscribe(l.ctx, channels...)
	}
	if err != nil {
		l.setHealthy(false, err)
	}
}

func (l *link) unsubscribe(channels ...string) {
	if l.sharded {
		_ = l.ps.SUnsubscribe(l.ctx, channels...)
	} else {
		_ = l.ps.Unsubscribe(l.ctx, channels...)
	}
}

func (l *link) start() {
	l.wg.Add(2)
	go l.receive()
	go l.publishLoop()
}

func (l *link) receive() {
	defer l.wg.Done()
	backoff := minBackoff
	for {
		msg, err := l.ps.ReceiveTimeout(l.ctx, idlePing)
		if l.ctx.Err() != nil {
			return
		}
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				// Quiet channel: a PING shows whether Redis is still there.
				if err := l.ps.Ping(l.ctx); err != nil {
					l.setHealthy(false, err)
				}
				continue
			}
			l.setHealthy(false, err)
			select {
			case <-time.After(backoff):
			case <-l.ctx.Done():
				return
			}
			backoff = min(2*backoff, maxBackoff)
			continue
		}
		backoff = minBackoff
		l.setHealthy(true, nil)
		if m, ok := msg.(*redis.Message); ok {
			l.handle(m)
		}
	}
}

func (l *link) publishLoop() {
	defer l.wg.Done()
	for {
		select {
		case <-l.ctx.Done():
			return
		case m := <-l.queue:
			ctx, cancel := context.WithTimeout(l.ctx, publishTimeout)
			var err error
			if l.sharded {
				err = l.client.SPublish(ctx, m.channel, m.payload).Err()
			} else {
				err = l.client.Publish(ctx, m.channel, m.payload).Err()
			}
			cancel()
			if err != nil && l.ctx.Err() == nil {
				l.dropped.Add(1)
				l.log.Debug("redisadapter: publish failed", "nsp", l.nsp, "channel", m.channel, "err", err)
				l.setHealthy(false, err)
			}
		}
	}
}

// publish queues a message; it never blocks.
func (l *link) publish(channel string, payload []byte) {
	select {
	case l.queue <- outgoing{channel, payload}:
	default:
		l.dropped.Add(1)
		l.log.Debug("redisadapter: publish queue full, message dropped", "nsp", l.nsp, "channel", channel)
	}
}

func (l *link) setHealthy(ok bool, err error) {
	l.stateMu.Lock()
	defer l.stateMu.Unlock()
	if l.healthy.Load() == ok || l.ctx.Err() != nil {
		return
	}
	l.healthy.Store(ok)
	if ok {
		l.log.Info("redisadapter: connected", "nsp", l.nsp)
	} else {
		l.log.Warn("redisadapter: connection lost", "nsp", l.nsp, "err", err)
	}
	if l.onState != nil {
		l.onState(State{Namespace: l.nsp, Healthy: ok, Err: err})
	}
}

func (l *link) close() {
	l.cancel()
	_ = l.ps.Close()
	l.wg.Wait()
}

const uidAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// uid returns n random characters, like the uid2 package of the Node adapter.
func uid(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = uidAlphabet[int(b[i])%len(uidAlphabet)]
	}
	return string(b)
}
