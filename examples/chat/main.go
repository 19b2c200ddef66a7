// Command chat is the demo of socketio-go: a chat web app for browsers using
// the official socket.io-client, with nicknames, rooms (#general, #random,
// #go and any a user creates), join and leave notices, typing notices, the
// recent history of each room for late joiners, a count of users online and
// delivery confirmations through acknowledgements. Everything is kept in memory.
//
// Setup, once (the browser client comes from npm):
//
//	npm ci --prefix examples/chat
//
// Then:
//
//	go run ./examples/chat [-addr 127.0.0.1:3000] [-client path/to/socket.io.min.js]
//
// and open the URL it prints. "make demo" does both.
package main

import (
	"context"
	"embed"
	"flag"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"syscall"
	"time"

	socketio "github.com/socketio-go/socketio"
)

//go:embed static
var static embed.FS

// clientScript is where npm puts the browser build of socket.io-client,
// relative to this directory.
const clientScript = "node_modules/socket.io-client/dist/socket.io.min.js"

func main() {
	addr := flag.String("addr", "127.0.0.1:3000", "address to listen on")
	client := flag.String("client", "", "path of socket.io.min.js (default: found in examples/chat/"+clientScript+")")
	flag.Parse()

	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	if err := run(*addr, *client, log); err != nil {
		log.Error("chat server stopped", "err", err)
		os.Exit(1)
	}
}

func run(addr, clientPath string, log *slog.Logger) error {
	if clientPath == "" {
		clientPath = findClientScript()
	}
	if _, err := os.Stat(clientPath); err != nil {
		return fmt.Errorf("the socket.io browser client is missing (%s); install it with: npm ci --prefix examples/chat (or run: make demo)", clientPath)
	}

	app, err := newApp(clientPath, log)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: app, ReadHeaderTimeout: 10 * time.Second}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	errc := make(chan error, 1)
	// Through the Socket.IO server's Listener: it answers the browsers'
	// long-polling requests itself (they skip securityHeaders, which only
	// matter for pages) and hands everything else to srv.
	go func() { errc <- srv.Serve(app.sio.Listener(ln)) }()
	log.Info("chat server listening; open it in a browser", "url", "http://"+ln.Addr().String()+"/")

	select {
	case err := <-errc:
		_ = app.sio.Close()
		return err
	case <-ctx.Done():
	}
	stop() // a second Ctrl-C kills the process
	log.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	// Socket.IO first: it ends the long-polling requests that would keep
	// the HTTP server's Shutdown waiting.
	if err := app.sio.Shutdown(shutdownCtx); err != nil {
		log.Warn("socket.io shutdown", "err", err)
	}
	if err := srv.Shutdown(shutdownCtx); err != nil {
		log.Warn("http shutdown", "err", err)
	}
	log.Info("bye")
	return nil
}

// findClientScript looks for socket.io.min.js next to this source file (go
// run keeps its path), then under the working directory.
func findClientScript() string {
	var candidates []string
	if _, file, _, ok := runtime.Caller(0); ok {
		candidates = append(candidates, filepath.Join(filepath.Dir(file), clientScript))
	}
	candidates = append(candidates, filepath.Join("examples", "chat", clientScript), clientScript)
	for _, c := range candidates {
		if _, err := os.Stat(c); err == nil {
			return c
		}
	}
	return candidates[0]
}

// app is the chat's HTTP handler: the page, the browser client and Socket.IO.
type app struct {
	http.Handler
	sio  *socketio.Server
	chat *chat
}

func newApp(clientPath string, log *slog.Logger) (*app, error) {
	sio, err := socketio.NewServer(&socketio.Options{Logger: log})
	if err != nil {
		return nil, err
	}
	c := newChat()
	c.attach(sio)

	page, err := fs.Sub(static, "static")
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.Handle("/socket.io/", sio)
	mux.HandleFunc("GET /vendor/socket.io.min.js", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
		http.ServeFile(w, r, clientPath)
	})
	mux.Handle("/", http.FileServerFS(page))
	return &app{Handler: securityHeaders(mux), sio: sio, chat: c}, nil
}

// securityHeaders keeps the page to its own origin: no CDN, no inline script.
func securityHeaders(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy",
			"default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data:; base-uri 'none'; frame-ancestors 'none'")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("Referrer-Policy", "no-referrer")
		h.ServeHTTP(w, r)
	})
}
