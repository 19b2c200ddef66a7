// Command sio is a Socket.IO command-line client.
//
//	sio listen [flags] URL
//	sio emit [flags] URL EVENT [ARG ...]
//	sio bench [flags] URL
//
// listen connects and prints every event it receives as one JSON line,
// {"event":"name","args":[...]} (binary values as base64 strings). It
// reconnects as the client library does and reports connections,
// disconnections and reconnection attempts on stderr. It runs until
// interrupted, and fails when the server refuses the namespace, disconnects
// the socket, or every reconnection attempt failed.
//
// emit connects, sends EVENT with the ARGs (each one JSON value) and
// disconnects (after --linger, 200 ms by default, so that the server handles
// the event before the disconnection). With --ack it waits for the acknowledgement (at most
// --timeout) and prints its arguments as a JSON array.
//
// The namespace is the URL's path ("/" when it has none) unless --namespace
// is given. Exit status: 0 on success, 1 when the connection, the namespace
// or the acknowledgement failed, 2 on a usage error (such as bad JSON).
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/socketio-go/socketio/client"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

const usage = `usage:
  sio listen [flags] URL
  sio emit [flags] URL EVENT [ARG ...]   (each ARG is a JSON value)
  sio bench [flags] URL                  (a load generator, see BENCHMARKS.md)
run "sio listen -h", "sio emit -h" or "sio bench -h" for the flags`

// exit codes
const (
	exitOK    = 0
	exitFail  = 1
	exitUsage = 2
)

// lockedWriter serialises the lines written by handlers.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) println(format string, a ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	fmt.Fprintf(l.w, format+"\n", a...)
}

// headerFlag collects repeated -H "Name: value" flags.
type headerFlag http.Header

func (h headerFlag) String() string { return "" }
func (h headerFlag) Set(v string) error {
	name, val, ok := strings.Cut(v, ":")
	if !ok || strings.TrimSpace(name) == "" {
		return fmt.Errorf("header %q is not \"Name: value\"", v)
	}
	http.Header(h).Add(strings.TrimSpace(name), strings.TrimSpace(val))
	return nil
}

// common holds the connection flags shared by both commands.
type common struct {
	namespace  string
	auth       string
	transports string
	path       string
	headers    headerFlag
	timeout    time.Duration
}

func (c *common) register(fs *flag.FlagSet) {
	c.headers = headerFlag{}
	fs.StringVar(&c.namespace, "namespace", "", "namespace to connect to (default: the URL's path, or /)")
	fs.StringVar(&c.namespace, "n", "", "shorthand for --namespace")
	fs.StringVar(&c.auth, "auth", "", "auth payload, a JSON object")
	fs.StringVar(&c.transports, "transports", "polling,websocket", "transports, in order (polling, websocket)")
	fs.StringVar(&c.path, "path", client.DefaultPath, "Engine.IO path on the server")
	fs.Var(c.headers, "H", `extra HTTP header "Name: value" (repeatable)`)
	fs.DurationVar(&c.timeout, "timeout", 10*time.Second, "how long to wait for the connection (and, with --ack, the acknowledgement)")
}

// setup validates the flags and returns the URL, the namespace and the options.
func (c *common) setup(rawURL string) (string, string, *client.Options, *client.SocketOptions, error) {
	u, err := url.Parse(rawURL)
	if err != nil || u.Host == "" {
		return "", "", nil, nil, fmt.Errorf("bad URL %q", rawURL)
	}
	nsp := c.namespace
	if nsp == "" {
		nsp = u.Path
	}
	if nsp == "" {
		nsp = "/"
	}
	o := &client.Options{Path: c.path, ExtraHeaders: http.Header(c.headers)}
	for _, t := range strings.Split(c.transports, ",") {
		if t = strings.TrimSpace(t); t != "" {
			o.Transports = append(o.Transports, t)
		}
	}
	so := &client.SocketOptions{}
	if c.auth != "" {
		var auth map[string]any
		if err := json.Unmarshal([]byte(c.auth), &auth); err != nil || auth == nil {
			return "", "", nil, nil, fmt.Errorf("--auth is not a JSON object: %s", c.auth)
		}
		so.Auth = auth
	}
	return rawURL, nsp, o, so, nil
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	errw := &lockedWriter{w: stderr}
	if len(args) == 0 {
		errw.println("%s", usage)
		return exitUsage
	}
	switch args[0] {
	case "listen":
		return listen(ctx, args[1:], &lockedWriter{w: stdout}, errw)
	case "emit":
		return emit(ctx, args[1:], &lockedWriter{w: stdout}, errw)
	case "bench":
		return bench(ctx, args[1:], &lockedWriter{w: stdout}, errw)
	case "-h", "--help", "help":
		errw.println("%s", usage)
		return exitOK
	}
	errw.println("sio: unknown command %q\n%s", args[0], usage)
	return exitUsage
}

// parseArgs parses flags placed anywhere among the positional arguments;
// "--" ends the flags, and negative numbers are arguments, not flags.
func parseArgs(fs *flag.FlagSet, args []string) ([]string, error) {
	var flags, pos []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			pos = append(pos, args[i+1:]...)
			break
		}
		if len(a) < 2 || a[0] != '-' || json.Valid([]byte(a)) {
			pos = append(pos, a)
			continue
		}
		flags = append(flags, a)
		name := strings.TrimLeft(a, "-")
		if strings.Contains(name, "=") {
			continue
		}
		if f := fs.Lookup(name); f != nil {
			if b, ok := f.Value.(interface{ IsBoolFlag() bool }); ok && b.IsBoolFlag() {
				continue
			}
			if i+1 < len(args) {
				i++
				flags = append(flags, args[i])
			}
		}
	}
	if err := fs.Parse(flags); err != nil {
		return nil, err
	}
	return pos, nil
}

func newFlagSet(name string, errw *lockedWriter) *flag.FlagSet {
	fs := flag.NewFlagSet("sio "+name, flag.ContinueOnError)
	fs.SetOutput(errw.w)
	return fs
}

// connectError turns a connection failure into one line.
func connectError(rawURL, nsp string, err error) string {
	var ce *client.ConnectError
	switch {
	case errors.As(err, &ce):
		msg := fmt.Sprintf("sio: the server refused the connection to namespace %s: %s", nsp, ce.Message)
		if len(ce.Data) > 0 {
			msg += " " + string(ce.Data)
		}
		return msg
	case errors.Is(err, syscall.ECONNREFUSED):
		return fmt.Sprintf("sio: cannot connect to %s: connection refused", rawURL)
	case errors.Is(err, context.DeadlineExceeded):
		return fmt.Sprintf("sio: cannot connect to %s: timed out", rawURL)
	}
	return fmt.Sprintf("sio: cannot connect to %s: %s", rawURL, oneLine(err.Error()))
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

func listen(ctx context.Context, args []string, out, errw *lockedWriter) int {
	fs := newFlagSet("listen", errw)
	var c common
	c.register(fs)
	attempts := fs.Int("reconnection-attempts", 0, "give up after this many reconnection attempts (0: never)")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return exitUsage
	}
	if len(pos) != 1 {
		errw.println("sio: listen takes one URL\n%s", usage)
		return exitUsage
	}
	rawURL, nsp, o, so, err := c.setup(pos[0])
	if err != nil {
		errw.println("sio: %v", err)
		return exitUsage
	}
	o.ReconnectionAttempts = *attempts
	o.DisableAutoConnect = true
	o.Timeout = c.timeout
	m, err := client.NewManager(rawURL, o)
	if err != nil {
		errw.println("sio: %v", err)
		return exitUsage
	}
	defer m.Close()
	fatal := make(chan int, 1)
	fail := func(code int) {
		select {
		case fatal <- code:
		default:
		}
	}
	s := m.Socket(nsp, so)
	s.OnAny(func(e *client.Event) {
		vals, err := e.Values()
		if err != nil {
			errw.println("sio: cannot decode event %q: %v", e.Name, err)
			return
		}
		line, err := json.Marshal(struct {
			Event string `json:"event"`
			Args  []any  `json:"args"`
		}{e.Name, vals})
		if err != nil {
			errw.println("sio: cannot print event %q: %v", e.Name, err)
			return
		}
		out.println("%s", line)
	})
	s.OnConnect(func() { errw.println("sio: connected to %s (id %s)", nsp, s.ID()) })
	s.OnConnectError(func(err error) {
		var ce *client.ConnectError
		if errors.As(err, &ce) {
			errw.println("%s", connectError(rawURL, nsp, err))
			fail(exitFail)
			return
		}
		errw.println("%s; retrying", connectError(rawURL, nsp, err))
	})
	s.OnDisconnect(func(reason string, err error) {
		errw.println("sio: disconnected (%s)", reason)
		if reason == client.ReasonIOServerDisconnect {
			fail(exitFail)
		}
	})
	m.OnReconnectAttempt(func(n int) { errw.println("sio: reconnecting (attempt %d)", n) })
	m.OnReconnect(func(n int) { errw.println("sio: reconnected after %d attempt(s)", n) })
	m.OnReconnectFailed(func() {
		errw.println("sio: giving up after %d reconnection attempts", *attempts)
		fail(exitFail)
	})
	s.Connect()
	select {
	case <-ctx.Done():
		return exitOK
	case code := <-fatal:
		return code
	}
}

func emit(ctx context.Context, args []string, out, errw *lockedWriter) int {
	fs := newFlagSet("emit", errw)
	var c common
	c.register(fs)
	withAck := fs.Bool("ack", false, "wait for the acknowledgement and print it as JSON")
	linger := fs.Duration("linger", 200*time.Millisecond, "without --ack, how long to stay connected after sending (socket.io drops an event that the disconnection overtakes)")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return exitUsage
	}
	if len(pos) < 2 {
		errw.println("sio: emit takes a URL and an EVENT\n%s", usage)
		return exitUsage
	}
	rawURL, nsp, o, so, err := c.setup(pos[0])
	if err != nil {
		errw.println("sio: %v", err)
		return exitUsage
	}
	event := pos[1]
	var values []any
	for i, a := range pos[2:] {
		var v any
		if err := json.Unmarshal([]byte(a), &v); err != nil {
			errw.println("sio: argument %d is not valid JSON: %s", i+1, a)
			return exitUsage
		}
		values = append(values, v)
	}
	// One attempt: a command reports failure rather than retrying.
	o.DisableReconnection = true
	o.Timeout = c.timeout
	cctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	u, _ := url.Parse(rawURL)
	u.Path = nsp
	s, err := client.Connect(cctx, u.String(), o, so)
	if err != nil {
		errw.println("%s", connectError(rawURL, nsp, err))
		return exitFail
	}
	m := s.Manager()
	defer m.Close()
	if !*withAck {
		if err := s.Emit(event, values...); err != nil {
			errw.println("sio: %v", err)
			return exitFail
		}
		// Close sends what is buffered, but a server drops events still
		// queued for handlers when the DISCONNECT arrives: give it time.
		t := time.NewTimer(*linger)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
		}
		return exitOK
	}
	a, err := s.Timeout(c.timeout).EmitWithAck(ctx, event, values...)
	switch {
	case errors.Is(err, client.ErrTimeout):
		errw.println("sio: no acknowledgement for %q within %v", event, c.timeout)
		return exitFail
	case err != nil:
		errw.println("sio: %v", err)
		return exitFail
	}
	vals, err := a.Values()
	if err != nil {
		errw.println("sio: cannot decode the acknowledgement: %v", err)
		return exitFail
	}
	line, err := json.Marshal(vals)
	if err != nil {
		errw.println("sio: cannot print the acknowledgement: %v", err)
		return exitFail
	}
	out.println("%s", line)
	return exitOK
}
