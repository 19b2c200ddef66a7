package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/socketio-go/socketio/internal/eiocodec"
	"github.com/socketio-go/socketio/internal/websocket"
)

// maxPollBody bounds a polling response body when Options.MaxMessageSize
// is not set, so that a hostile server cannot make the client buffer
// without limit.
const maxPollBody = 100 << 20

// HandshakeError is returned when the server refused an Engine.IO request,
// with the HTTP status and, when the server sent one, its JSON error
// ({"code":N,"message":"..."}).
type HandshakeError struct {
	Status  int
	Code    int
	Message string
}

func (e *HandshakeError) Error() string {
	if e.Message != "" {
		return fmt.Sprintf("client: server refused the request (%d): %s", e.Status, e.Message)
	}
	return fmt.Sprintf("client: server refused the request (%d)", e.Status)
}

func refusal(status int, body []byte) error {
	he := &HandshakeError{Status: status}
	var msg struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	}
	if json.Unmarshal(body, &msg) == nil {
		he.Code, he.Message = msg.Code, msg.Message
	}
	return he
}

// pollingTransport is HTTP long-polling: a loop of GETs reads, and each
// batch of writes is one POST.
type pollingTransport struct {
	e      *engine
	sid    string
	paused atomic.Bool
	done   chan struct{} // closed when run returns
}

func (e *engine) openPolling(ctx context.Context) (transport, handshakeData, []eiocodec.Packet, error) {
	body, err := e.httpDo(ctx, http.MethodGet, e.requestURL(TransportPolling, ""), nil)
	if err != nil {
		return nil, handshakeData{}, nil, err
	}
	var (
		hs     handshakeData
		extra  []eiocodec.Packet
		opened bool
	)
	err = eiocodec.DecodePayload(body, func(p eiocodec.Packet) error {
		if !opened {
			if p.Type != eiocodec.Open {
				return fmt.Errorf("%w: expected an open packet, got %v", ErrProtocol, p.Type)
			}
			var err error
			hs, err = parseHandshake(p.Data)
			opened = true
			return err
		}
		extra = append(extra, p)
		return nil
	})
	if err != nil {
		return nil, hs, nil, fmt.Errorf("client: handshake: %w", err)
	}
	return &pollingTransport{e: e, sid: hs.SID, done: make(chan struct{})}, hs, extra, nil
}

// httpDo performs one polling request and returns the response body.
func (e *engine) httpDo(ctx context.Context, method string, u fmt.Stringer, body []byte) ([]byte, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), rd)
	if err != nil {
		return nil, err
	}
	for k, vs := range e.cfg.header {
		req.Header[k] = vs
	}
	if body != nil {
		req.Header.Set("Content-Type", "text/plain;charset=UTF-8")
	}
	resp, err := e.cfg.httpClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	limit := int64(maxPollBody)
	if e.cfg.maxMessageSize > 0 {
		limit = e.cfg.maxMessageSize
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, refusal(resp.StatusCode, data)
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("%w: polling response larger than %d bytes", ErrProtocol, limit)
	}
	return data, nil
}

func (p *pollingTransport) name() string { return TransportPolling }

func (p *pollingTransport) run(e *engine) (string, error) {
	defer close(p.done)
	for !p.paused.Load() {
		body, err := e.httpDo(e.ctx, http.MethodGet, e.requestURL(TransportPolling, p.sid), nil)
		if err != nil {
			return reasonTransportError, err
		}
		closed := false
		err = eiocodec.DecodePayload(body, func(pk eiocodec.Packet) error {
			if !e.handle(pk) {
				closed = true
				return errStop
			}
			return nil
		})
		switch {
		case closed:
			return reasonTransportClose, nil
		case err != nil:
			return reasonTransportError, fmt.Errorf("%w: %v", ErrProtocol, err)
		}
	}
	return "", nil
}

var errStop = errors.New("stop")

// pause stops the poll loop after its pending GET, which the server answers
// (with a noop) once it has seen the upgrade probe.
func (p *pollingTransport) pause(ctx context.Context) {
	p.paused.Store(true)
	select {
	case <-p.done:
	case <-ctx.Done():
	}
}

func (p *pollingTransport) send(ctx context.Context, pkts []eiocodec.Packet) error {
	var body []byte
	for i, pk := range pkts {
		if i > 0 {
			body = append(body, eiocodec.Separator)
		}
		body = eiocodec.AppendText(body, pk.Type, pk.Data, pk.Binary)
	}
	_, err := p.e.httpDo(ctx, http.MethodPost, p.e.requestURL(TransportPolling, p.sid), body)
	return err
}

func (p *pollingTransport) close(graceful bool) {
	if !graceful {
		return
	}
	// Tell the server, as engine.io-client does, so that the session ends
	// now rather than at the next heartbeat. Best effort, bounded.
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_ = p.send(ctx, []eiocodec.Packet{{Type: eiocodec.Close}})
}

// wsTransport is the WebSocket transport: one packet per message, binary
// messages as binary frames.
type wsTransport struct {
	conn *websocket.Conn
}

func (e *engine) dialWebSocket(ctx context.Context, sid string) (*wsTransport, error) {
	u := e.requestURL(TransportWebSocket, sid)
	switch u.Scheme {
	case "https":
		u.Scheme = "wss"
	default:
		u.Scheme = "ws"
	}
	c, resp, err := websocket.Dial(ctx, u.String(), &websocket.DialOptions{
		Header:         e.cfg.header,
		DialContext:    e.cfg.dial,
		TLSConfig:      e.cfg.tlsConfig,
		MaxMessageSize: e.cfg.maxMessageSize,
	})
	if err != nil {
		if resp != nil && resp.StatusCode != http.StatusSwitchingProtocols {
			body, _ := io.ReadAll(resp.Body)
			return nil, refusal(resp.StatusCode, body)
		}
		return nil, err
	}
	return &wsTransport{conn: c}, nil
}

func (e *engine) openWebSocket(ctx context.Context) (transport, handshakeData, error) {
	wt, err := e.dialWebSocket(ctx, "")
	if err != nil {
		return nil, handshakeData{}, err
	}
	stop := context.AfterFunc(ctx, func() { _ = wt.conn.CloseNow() })
	p, err := wt.readPacket()
	if !stop() {
		err = ctx.Err()
	}
	if err == nil && p.Type != eiocodec.Open {
		err = fmt.Errorf("%w: expected an open packet, got %v", ErrProtocol, p.Type)
	}
	var hs handshakeData
	if err == nil {
		hs, err = parseHandshake(p.Data)
	}
	if err != nil {
		wt.close(false)
		return nil, hs, fmt.Errorf("client: handshake: %w", err)
	}
	return wt, hs, nil
}

func (w *wsTransport) name() string { return TransportWebSocket }

func (w *wsTransport) readPacket() (eiocodec.Packet, error) {
	typ, msg, err := w.conn.ReadMessage()
	if err != nil {
		return eiocodec.Packet{}, err
	}
	if typ == websocket.Binary {
		return eiocodec.Packet{Type: eiocodec.Message, Data: msg, Binary: true}, nil
	}
	p, err := eiocodec.DecodeText(msg)
	if err != nil {
		return p, fmt.Errorf("%w: %v", ErrProtocol, err)
	}
	if p.Binary {
		// "b" + base64 is for polling only; a WebSocket carries bytes as
		// binary frames.
		return p, fmt.Errorf("%w: base64 packet on a WebSocket", ErrProtocol)
	}
	return p, nil
}

func (w *wsTransport) run(e *engine) (string, error) {
	for {
		p, err := w.readPacket()
		if err != nil {
			if errors.Is(err, ErrProtocol) {
				return reasonTransportError, err
			}
			return reasonTransportClose, err
		}
		if !e.handle(p) {
			return reasonTransportClose, nil
		}
	}
}

func (w *wsTransport) send(ctx context.Context, pkts []eiocodec.Packet) error {
	var buf []byte
	for _, p := range pkts {
		var err error
		if p.Binary {
			err = w.conn.WriteMessage(websocket.Binary, p.Data)
		} else {
			buf = eiocodec.AppendText(buf[:0], p.Type, p.Data, false)
			err = w.conn.WriteMessage(websocket.Text, buf)
		}
		if err != nil {
			return err
		}
	}
	return w.conn.Flush()
}

func (w *wsTransport) close(graceful bool) {
	if graceful {
		_ = w.conn.Close(websocket.StatusNormalClosure, "")
		return
	}
	_ = w.conn.CloseNow()
}

// trimScheme maps ws(s) URLs to http(s), the scheme polling requests use.
func trimScheme(s string) string {
	switch {
	case strings.HasPrefix(s, "ws://"):
		return "http://" + s[len("ws://"):]
	case strings.HasPrefix(s, "wss://"):
		return "https://" + s[len("wss://"):]
	}
	return s
}
