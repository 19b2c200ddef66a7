package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"text/template"
	"time"
)

// clusterConfig configures startCluster.
type clusterConfig struct {
	Addr    string // where nginx listens; "127.0.0.1:0" picks a free port
	Nodes   int    // how many Go nodes
	Sticky  bool   // nginx keeps each session on its node; else round-robin
	Streams bool   // the Redis streams adapter with connection state recovery; else the classic adapter
	Redis   string // host:port of Redis
	Prefix  string // prefix of the cluster's Redis channels

	// PingInterval and PingTimeout, when set, replace Engine.IO's defaults on every node.
	PingInterval, PingTimeout time.Duration

	Log io.Writer // the nodes' and nginx's logs; nil discards them
}

// cluster is a running cluster: Go nodes (child processes of this one) behind an nginx.
type cluster struct {
	URL   string // nginx
	Nodes []*nodeProc

	dir   string
	nginx *exec.Cmd
	done  chan struct{} // closed when nginx exited
	log   io.Writer
}

// nodeProc is one Go node.
type nodeProc struct {
	ID   string
	Addr string // its own host:port, for GET /emit and /stats

	cmd  *exec.Cmd
	done chan struct{} // closed once the process exited
	once sync.Once
}

// startCluster starts the nodes, then nginx in front of them. Stop ends them all.
func startCluster(ctx context.Context, cfg clusterConfig) (_ *cluster, err error) {
	if cfg.Log == nil {
		cfg.Log = io.Discard
	}
	nginxPath, err := findNginx()
	if err != nil {
		return nil, err
	}
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "sio-cluster-")
	if err != nil {
		return nil, err
	}
	// nginx's workers (another user when the master runs as root) read the
	// directory; the temp directories inside are nginx's to create.
	if err := os.Chmod(dir, 0o755); err != nil {
		return nil, err
	}
	c := &cluster{dir: dir, log: cfg.Log}
	defer func() {
		if err != nil {
			c.Stop()
		}
	}()

	for i := 0; i < cfg.Nodes; i++ {
		n, err := startNode(ctx, self, nodeConfig{
			ID: fmt.Sprintf("n%d", i+1), Redis: cfg.Redis, Prefix: cfg.Prefix, Sticky: cfg.Sticky, Streams: cfg.Streams,
			PingInterval: cfg.PingInterval, PingTimeout: cfg.PingTimeout,
		}, cfg.Log)
		if err != nil {
			return nil, err
		}
		c.Nodes = append(c.Nodes, n)
	}

	// A free port found by listening and closing can be taken by another
	// process before nginx binds it: nginx then exits, or (worse) the port
	// answers for someone else. nginx proves it is the one listening by
	// serving a token of this start; on a lost port, another is tried.
	for attempt := 1; ; attempt++ {
		err = c.startNginx(nginxPath, cfg)
		if err == nil || !errors.Is(err, errPortLost) || !strings.HasSuffix(cfg.Addr, ":0") || attempt == 5 {
			return c, err
		}
		fmt.Fprintf(cfg.Log, "cluster: %v; trying another port\n", err)
	}
}

var errPortLost = errors.New("nginx could not take its port")

// startNginx starts nginx in front of the nodes and waits until it serves.
func (c *cluster) startNginx(nginxPath string, cfg clusterConfig) error {
	addr := cfg.Addr
	if strings.HasSuffix(addr, ":0") {
		var err error
		if addr, err = freePort(addr); err != nil {
			return err
		}
	}
	var tok [12]byte
	if _, err := rand.Read(tok[:]); err != nil {
		return err
	}
	token := hex.EncodeToString(tok[:])
	conf := filepath.Join(c.dir, "nginx.conf")
	f, err := os.Create(conf)
	if err != nil {
		return err
	}
	err = nginxConf.Execute(f, map[string]any{"Dir": c.dir, "Listen": addr, "Nodes": c.Nodes, "Sticky": cfg.Sticky, "Token": token})
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	cmd := exec.Command(nginxPath, "-p", c.dir, "-c", conf, "-e", "stderr")
	cmd.Stdout, cmd.Stderr = cfg.Log, cfg.Log
	cmd.SysProcAttr = childAttr()
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting nginx: %w", err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	hc := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(10 * time.Second)
	for {
		if resp, err := hc.Get("http://" + addr + "/.cluster-ready"); err == nil {
			body, _ := io.ReadAll(io.LimitReader(resp.Body, 256))
			resp.Body.Close()
			if string(body) == token {
				c.nginx, c.done, c.URL = cmd, done, "http://"+addr
				return nil
			}
		}
		select {
		case <-done:
			return fmt.Errorf("%w %s (it exited: %v; see its log)", errPortLost, addr, cmd.ProcessState)
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			stopProcess(cmd, done)
			return fmt.Errorf("nginx does not serve on %s", addr)
		}
	}
}

// Done is closed when nginx exits.
func (c *cluster) Done() <-chan struct{} { return c.done }

// Stop ends nginx and the nodes (SIGTERM, SIGKILL after 5 s) and removes
// the temporary directory.
func (c *cluster) Stop() {
	if c.nginx != nil {
		stopProcess(c.nginx, c.done)
	}
	var wg sync.WaitGroup
	for _, n := range c.Nodes {
		wg.Add(1)
		go func(n *nodeProc) { defer wg.Done(); n.Stop() }(n)
	}
	wg.Wait()
	os.RemoveAll(c.dir)
}

func stopProcess(cmd *exec.Cmd, done chan struct{}) {
	select {
	case <-done:
		return
	default:
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		_ = cmd.Process.Kill()
		<-done
	}
}

func startNode(ctx context.Context, self string, cfg nodeConfig, log io.Writer) (*nodeProc, error) {
	raw, _ := json.Marshal(cfg)
	cmd := exec.Command(self)
	cmd.Env = append(os.Environ(), nodeEnv+"="+string(raw))
	cmd.Stderr = log
	cmd.SysProcAttr = childAttr()
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting node %s: %w", cfg.ID, err)
	}
	n := &nodeProc{ID: cfg.ID, cmd: cmd, done: make(chan struct{})}
	addrc := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if a, ok := strings.CutPrefix(sc.Text(), "listening "); ok {
				select {
				case addrc <- a:
				default:
				}
			}
		}
		_ = cmd.Wait()
		close(n.done)
	}()
	select {
	case n.Addr = <-addrc:
		return n, nil
	case <-n.done:
		return nil, fmt.Errorf("node %s exited at start (%v)", cfg.ID, cmd.ProcessState)
	case <-time.After(15 * time.Second):
	case <-ctx.Done():
	}
	n.Kill()
	return nil, fmt.Errorf("node %s did not start", cfg.ID)
}

// PID returns the node's process id.
func (n *nodeProc) PID() int { return n.cmd.Process.Pid }

// Kill kills the node at once (SIGKILL, by its PID), as a crash would, and
// waits until it is gone.
func (n *nodeProc) Kill() {
	_ = n.cmd.Process.Kill()
	<-n.done
}

// Stop ends the node gracefully.
func (n *nodeProc) Stop() { stopProcess(n.cmd, n.done) }

// Alive reports whether the node's process runs.
func (n *nodeProc) Alive() bool {
	select {
	case <-n.done:
		return false
	default:
		return true
	}
}

// findNginx returns the nginx binary: on PATH, or Debian's /usr/sbin/nginx.
func findNginx() (string, error) {
	if p, err := exec.LookPath("nginx"); err == nil {
		return p, nil
	}
	if _, err := os.Stat("/usr/sbin/nginx"); err == nil {
		return "/usr/sbin/nginx", nil
	}
	return "", errors.New("nginx not found (Debian: apt-get install nginx-light)")
}

// freePort returns host:port with a port free a moment ago.
func freePort(addr string) (string, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

var nginxConf = template.Must(template.New("nginx.conf").Parse(`# Generated by examples/cluster: {{len .Nodes}} Go nodes behind nginx{{if .Sticky}}, sticky{{else}}, round-robin{{end}}.
daemon off;
worker_processes 1;
pid {{.Dir}}/nginx.pid;
error_log stderr warn;

events {
    worker_connections 1024;
}

http {
    access_log off;
    client_body_temp_path {{.Dir}}/client_body;
    proxy_temp_path {{.Dir}}/proxy;
    fastcgi_temp_path {{.Dir}}/fastcgi;
    uwsgi_temp_path {{.Dir}}/uwsgi;
    scgi_temp_path {{.Dir}}/scgi;

    # A polling POST carries up to maxHttpBufferSize (1 MB by default).
    client_max_body_size 2m;

    # WebSocket: pass the client's Upgrade on; plain requests keep the
    # upstream connection alive.
    map $http_upgrade $connection_upgrade {
        default upgrade;
        ''      '';
    }

    upstream socketio_nodes {
{{- range .Nodes}}
        server {{.Addr}} max_fails=1 fail_timeout=10s;  # {{.ID}}
{{- end}}
        keepalive 32;
    }
{{if .Sticky}}
    # Sticky sessions: a session id starts with its node's id ("n1.xxxx"),
    # so every request of a session goes to the node that opened it; a
    # handshake (no sid yet) goes to any node.
    map $arg_sid $socketio_backend {
        default socketio_nodes;
{{- range .Nodes}}
        "~^{{.ID}}\." {{.Addr}};
{{- end}}
    }
{{end}}
    server {
        listen {{.Listen}};

        # Tells the launcher that this nginx is the one on the port.
        location = /.cluster-ready {
            return 200 "{{.Token}}";
        }

        location /socket.io/ {
            proxy_pass http://{{if .Sticky}}$socketio_backend{{else}}socketio_nodes{{end}};
            proxy_http_version 1.1;
            proxy_set_header Upgrade $http_upgrade;
            proxy_set_header Connection $connection_upgrade;
            proxy_set_header Host $host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            # Long-polling: answer as soon as the node does; a poll waits up
            # to pingInterval (25 s), so read timeouts must be longer.
            proxy_buffering off;
            proxy_read_timeout 60s;
            proxy_send_timeout 60s;
        }
    }
}
`))
