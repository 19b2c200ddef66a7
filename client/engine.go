package client

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/socketio-go/socketio/internal/eiocodec"
)

// This file is the Engine.IO v4 client, modelled on engine.io-client's
// socket.ts: one connection made of a current transport, a write buffer
// drained by one writer goroutine, one reader goroutine at a time (the poll
// loop, then the WebSocket reader after an upgrade), and one heartbeat timer.

// Transport names, for Options.Transports.
const (
	TransportPolling   = "polling"
	TransportWebSocket = "websocket"
)

// Engine.IO close reasons, as engine.io-client reports them.
const (
	reasonTransportClose = "transport close"
	reasonTransportError = "transport error"
	reasonPingTimeout    = "ping timeout"
	reasonForcedClose    = "forced close"
	reasonParseError     = "parse error"
)

// priorWebsocketSuccess is engine.io-client's static flag of the same name:
// with RememberUpgrade, a process whose last WebSocket worked starts with it.
var priorWebsocketSuccess atomic.Bool

// engineConfig is the resolved Engine.IO part of Options.
type engineConfig struct {
	base             *url.URL // http(s) URL with the Engine.IO path
	query            url.Values
	header           http.Header
	transports       []string
	upgrade          bool
	rememberUpgrade  bool
	tryAllTransports bool
	httpClient       *http.Client
	dial             func(ctx context.Context, network, addr string) (net.Conn, error)
	tlsConfig        *tls.Config
	maxMessageSize   int64
	logger           *slog.Logger
}

// handshakeData is the JSON of the open packet.
type handshakeData struct {
	SID          string   `json:"sid"`
	Upgrades     []string `json:"upgrades"`
	PingInterval int64    `json:"pingInterval"`
	PingTimeout  int64    `json:"pingTimeout"`
	MaxPayload   int64    `json:"maxPayload"`
}

func parseHandshake(data []byte) (handshakeData, error) {
	var hs handshakeData
	if err := json.Unmarshal(data, &hs); err != nil {
		return hs, fmt.Errorf("%w: bad open packet: %v", ErrProtocol, err)
	}
	if hs.SID == "" || hs.PingInterval <= 0 || hs.PingTimeout <= 0 || hs.MaxPayload < 0 {
		return hs, fmt.Errorf("%w: bad open packet %s", ErrProtocol, data)
	}
	// Bound the timer arithmetic against absurd values.
	const maxMillis = int64(24 * time.Hour / time.Millisecond)
	hs.PingInterval, hs.PingTimeout = min(hs.PingInterval, maxMillis), min(hs.PingTimeout, maxMillis)
	return hs, nil
}

// transport is one way of carrying Engine.IO packets.
type transport interface {
	name() string
	// send writes packets, in order; an error ends the connection.
	send(ctx context.Context, pkts []eiocodec.Packet) error
	// run reads packets and hands them to e.handle until the transport
	// fails or closes (it returns the close reason and error), or, for
	// polling, until it is paused (it returns "").
	run(e *engine) (reason string, err error)
	// close ends the transport; graceful sends a close packet first.
	close(graceful bool)
}

// engine is one Engine.IO connection.
type engine struct {
	cfg       *engineConfig
	hs        handshakeData
	onMessage func(data []byte, binary bool)
	onPing    func()

	ctx    context.Context // cancelled when the connection is over
	cancel context.CancelFunc
	wg     sync.WaitGroup
	wake   chan struct{}  // the writer has work
	upCh   chan transport // a probed WebSocket, ready to take over
	done   chan struct{}  // closed when the connection closes

	mu        sync.Mutex
	tr        transport
	wbuf      []eiocodec.Packet
	upgrading bool
	closed    bool
	graceful  bool
	drained   chan struct{} // closed by the writer once a graceful close has nothing left to write
	reason    string
	cerr      error
	pingTimer *time.Timer
	// The next ping is due pingWait after pingFrom (kept apart so that
	// checking takes one reading of the monotonic clock: time.Since).
	pingFrom time.Time
	pingWait time.Duration
}

// openEngine performs the Engine.IO handshake; the returned engine does
// nothing until start.
func openEngine(ctx context.Context, cfg *engineConfig) (*engine, []eiocodec.Packet, error) {
	names := slices.Clone(cfg.transports)
	if cfg.rememberUpgrade && priorWebsocketSuccess.Load() && slices.Contains(names, TransportWebSocket) {
		names = append([]string{TransportWebSocket}, slices.DeleteFunc(names, func(s string) bool { return s == TransportWebSocket })...)
	}
	if len(names) == 0 {
		return nil, nil, errors.New("client: no transports available")
	}
	ectx, cancel := context.WithCancel(context.Background())
	e := &engine{
		cfg: cfg, ctx: ectx, cancel: cancel,
		wake: make(chan struct{}, 1), upCh: make(chan transport), done: make(chan struct{}),
		drained: make(chan struct{}),
	}
	var lastErr error
	for i, name := range names {
		var (
			tr    transport
			hs    handshakeData
			extra []eiocodec.Packet
			err   error
		)
		if name == TransportWebSocket {
			tr, hs, err = e.openWebSocket(ctx)
		} else {
			tr, hs, extra, err = e.openPolling(ctx)
		}
		if err == nil {
			e.tr, e.hs = tr, hs
			priorWebsocketSuccess.Store(name == TransportWebSocket)
			return e, extra, nil
		}
		priorWebsocketSuccess.Store(false)
		lastErr = err
		if !cfg.tryAllTransports || ctx.Err() != nil || i == len(names)-1 {
			break
		}
		cfg.logger.Debug("engine.io: trying next transport", "failed", name, "err", err)
	}
	cancel()
	return nil, nil, lastErr
}

// start runs the connection: extra are packets that came with the handshake.
func (e *engine) start(onMessage func([]byte, bool), onPing func(), extra []eiocodec.Packet) {
	e.onMessage, e.onPing = onMessage, onPing
	e.mu.Lock()
	e.pingFrom, e.pingWait = time.Now(), e.heartbeat()
	e.pingTimer = time.AfterFunc(e.heartbeat(), func() { e.close(reasonPingTimeout, nil) })
	tr := e.tr
	e.mu.Unlock()
	e.wg.Add(2)
	go e.writeLoop()
	go e.readLoop(tr, extra)
	if tr.name() == TransportPolling && e.cfg.upgrade &&
		slices.Contains(e.hs.Upgrades, TransportWebSocket) && slices.Contains(e.cfg.transports, TransportWebSocket) {
		e.wg.Add(1)
		go e.probe()
	}
}

func (e *engine) heartbeat() time.Duration {
	return time.Duration(e.hs.PingInterval+e.hs.PingTimeout) * time.Millisecond
}

func (e *engine) readLoop(tr transport, extra []eiocodec.Packet) {
	defer e.wg.Done()
	for _, p := range extra {
		if !e.handle(p) {
			e.close(reasonTransportClose, nil)
			return
		}
	}
	if reason, err := tr.run(e); reason != "" {
		e.close(reason, err)
	}
}

// handle processes one received packet; false means the server closed the
// connection.
func (e *engine) handle(p eiocodec.Packet) bool {
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return true
	}
	if p.Type == eiocodec.Ping {
		d := e.heartbeat()
		e.pingFrom, e.pingWait = time.Now(), d
		e.pingTimer.Reset(d)
	}
	e.mu.Unlock()
	switch p.Type {
	case eiocodec.Ping:
		e.write(eiocodec.Packet{Type: eiocodec.Pong, Data: p.Data})
		if e.onPing != nil {
			e.onPing()
		}
	case eiocodec.Message:
		e.onMessage(p.Data, p.Binary)
	case eiocodec.Close:
		return false
	}
	return true
}

// write queues packets; they are dropped once the connection is closed.
func (e *engine) write(pkts ...eiocodec.Packet) {
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return
	}
	e.wbuf = append(e.wbuf, pkts...)
	e.mu.Unlock()
	select {
	case e.wake <- struct{}{}:
	default:
	}
}

// writable reports whether a packet written now goes out without waiting
// for an upgrade to finish (volatile packets are dropped otherwise).
func (e *engine) writable() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return !e.closed && !e.upgrading
}

// pingExpired reports whether the heartbeat deadline has passed (a timer
// can fire late, for example after the machine slept).
func (e *engine) pingExpired() bool {
	e.mu.Lock()
	expired := !e.closed && time.Since(e.pingFrom) > e.pingWait
	e.mu.Unlock()
	if expired {
		e.close(reasonPingTimeout, nil)
	}
	return expired
}

func (e *engine) transportName() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.tr.name()
}

func (e *engine) writeLoop() {
	defer e.wg.Done()
	for {
		select {
		case <-e.wake:
		case ws := <-e.upCh:
			if !e.switchTo(ws) {
				return
			}
		case <-e.ctx.Done():
			return
		}
		for {
			e.mu.Lock()
			if e.closed && !e.graceful {
				e.mu.Unlock()
				return
			}
			if len(e.wbuf) == 0 {
				if e.closed {
					select {
					case <-e.drained:
					default:
						close(e.drained)
					}
				}
				e.mu.Unlock()
				break
			}
			n := e.batchLen()
			pkts := slices.Clone(e.wbuf[:n])
			e.wbuf = slices.Delete(e.wbuf, 0, n)
			tr := e.tr
			e.mu.Unlock()
			if err := tr.send(e.ctx, pkts); err != nil {
				e.close(reasonTransportError, err)
				return
			}
		}
	}
}

// batchLen is how many buffered packets the next write carries: all of them,
// except that a polling request stays within the server's maxPayload (at
// least one packet is always sent), as engine.io-client does.
func (e *engine) batchLen() int {
	if e.tr.name() != TransportPolling || e.hs.MaxPayload <= 0 || len(e.wbuf) < 2 {
		return len(e.wbuf)
	}
	size := int64(0)
	for i, p := range e.wbuf {
		l := int64(eiocodec.TextLen(p.Data, p.Binary))
		if i > 0 {
			l++ // separator
			if size+l > e.hs.MaxPayload {
				return i
			}
		}
		size += l
	}
	return len(e.wbuf)
}

// probe tries the WebSocket transport alongside polling and hands it to the
// writer once the server answered the probe.
func (e *engine) probe() {
	defer e.wg.Done()
	ctx, cancel := context.WithTimeout(e.ctx, 10*time.Second)
	defer cancel()
	wt, err := e.dialWebSocket(ctx, e.hs.SID)
	if err != nil {
		priorWebsocketSuccess.Store(false)
		e.cfg.logger.Debug("engine.io: probe failed", "err", err)
		return
	}
	stop := context.AfterFunc(ctx, func() { _ = wt.conn.CloseNow() })
	err = wt.send(ctx, []eiocodec.Packet{{Type: eiocodec.Ping, Data: []byte("probe")}})
	var p eiocodec.Packet
	if err == nil {
		p, err = wt.readPacket()
	}
	if !stop() || err != nil || p.Type != eiocodec.Pong || string(p.Data) != "probe" {
		priorWebsocketSuccess.Store(false)
		e.cfg.logger.Debug("engine.io: probe failed", "err", err)
		wt.close(false)
		return
	}
	e.mu.Lock()
	e.upgrading = !e.closed
	e.mu.Unlock()
	select {
	case e.upCh <- wt:
	case <-e.ctx.Done():
		wt.close(false)
	}
}

// switchTo replaces polling with the probed WebSocket, on the writer's
// goroutine so that no write is in flight: polling is paused (its pending
// GET returns), then the upgrade packet goes out on the WebSocket.
func (e *engine) switchTo(ws transport) bool {
	e.mu.Lock()
	old := e.tr
	e.mu.Unlock()
	if p, ok := old.(*pollingTransport); ok {
		p.pause(e.ctx)
	}
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		ws.close(false)
		return e.graceful
	}
	e.tr = ws
	e.mu.Unlock()
	if err := ws.send(e.ctx, []eiocodec.Packet{{Type: eiocodec.Upgrade}}); err != nil {
		e.close(reasonTransportError, err)
		return false
	}
	priorWebsocketSuccess.Store(true)
	e.mu.Lock()
	e.upgrading = false
	e.mu.Unlock()
	e.wg.Add(1)
	go e.readLoop(ws, nil)
	e.cfg.logger.Debug("engine.io: upgraded to websocket")
	select {
	case e.wake <- struct{}{}:
	default:
	}
	return true
}

// close ends the connection once; later calls do nothing. A forced close
// (ours) first sends what is buffered, for up to a second.
func (e *engine) close(reason string, err error) {
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return
	}
	e.closed, e.reason, e.cerr = true, reason, err
	e.graceful = reason == reasonForcedClose
	if e.pingTimer != nil {
		e.pingTimer.Stop()
	}
	tr := e.tr
	close(e.done)
	e.mu.Unlock()
	if !e.graceful {
		e.cancel()
		tr.close(false)
		return
	}
	e.wg.Add(1)
	go func() {
		defer e.wg.Done()
		select {
		case e.wake <- struct{}{}:
		default:
		}
		t := time.NewTimer(time.Second)
		select {
		case <-e.drained:
		case <-t.C:
		}
		t.Stop()
		e.mu.Lock()
		tr := e.tr
		e.mu.Unlock()
		tr.close(true)
		e.cancel()
	}()
}

// closeReason returns why the connection closed.
func (e *engine) closeReason() (string, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.reason, e.cerr
}

// wait returns once every goroutine of the connection has ended.
func (e *engine) wait() { e.wg.Wait() }

// requestURL returns the Engine.IO URL for a transport.
func (e *engine) requestURL(name, sid string) *url.URL {
	u := *e.cfg.base
	q := url.Values{}
	for k, v := range e.cfg.query {
		q[k] = v
	}
	q.Set("EIO", "4")
	q.Set("transport", name)
	if sid != "" {
		q.Set("sid", sid)
	}
	if name == TransportPolling {
		q.Set("t", cacheBuster())
	}
	u.RawQuery = q.Encode()
	return &u
}

var cacheCounter atomic.Uint64

// cacheBuster returns a unique value for the "t" query parameter, which
// keeps caches from answering a poll.
func cacheBuster() string {
	return strconv.FormatInt(time.Now().UnixMilli(), 36) + "." + strconv.FormatUint(cacheCounter.Add(1), 36)
}
