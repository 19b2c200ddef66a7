package redisstreams

import (
	"time"

	"github.com/socketio-go/socketio/internal/clusterproto"
)

// The Heartbeats mode, as socket.io-adapter's ClusterAdapterWithHeartbeat:
// a heartbeat after HeartbeatInterval without any other message, a node
// gone after HeartbeatTimeout of silence (or on its adapter close message).

// scheduleHeartbeat (re)arms the heartbeat: any message sent counts as one.
func (a *Adapter) scheduleHeartbeat() {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.closed {
		return
	}
	if a.hbTimer != nil {
		a.hbTimer.Reset(a.opts.HeartbeatInterval)
		return
	}
	a.hbTimer = time.AfterFunc(a.opts.HeartbeatInterval, func() {
		a.mu.Lock()
		closed := a.closed
		a.mu.Unlock()
		if !closed && !a.hung.Load() {
			a.publish(clusterproto.MsgHeartbeat, nil)
		}
	})
}

// cleanupLoop removes the nodes not heard from for HeartbeatTimeout.
func (a *Adapter) cleanupLoop() {
	defer close(a.cleanupDone)
	tick := min(time.Second, a.opts.HeartbeatTimeout/4)
	t := time.NewTicker(tick)
	defer t.Stop()
	for {
		select {
		case <-a.stopCleanup:
			return
		case now := <-t.C:
			var gone []string
			a.mu.Lock()
			for uid, seen := range a.nodes {
				if now.Sub(seen) > a.opts.HeartbeatTimeout {
					gone = append(gone, uid)
				}
			}
			a.mu.Unlock()
			for _, uid := range gone {
				a.opts.Logger.Debug("redisstreams: node seems down", "uid", uid)
				a.removeNode(uid)
			}
		}
	}
}

// removeNode forgets a node; the requests that waited only for it end.
func (a *Adapter) removeNode(uid string) {
	a.mu.Lock()
	delete(a.nodes, uid)
	a.mu.Unlock()
	a.peer.NodeGone(uid)
}
