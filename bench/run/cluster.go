package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"strconv"
	"strings"
	"time"
)

const clusterTitle = "8. Cross-node broadcast (two nodes on one Redis, classic adapter)"

// clusterScenario measures broadcasts that cross a two-node cluster: for
// ours (bench/server -redis: redisadapter.New) and for Node (server.mjs
// --redis: @socket.io/redis-adapter), nodes A and B on cfg.redis with a key
// prefix of their own; n receivers on B, and sio bench's emitter on A keeps
// 4 broadcasts in flight (paced by one more, uncounted, connection on B).
// Both nodes are pinned to the server CPU; the CPU per delivery is that of
// both nodes (from /proc) over the deliveries counted at B's clients.
func clusterScenario(n string) scenario {
	variant := n + " clients on node B, 32 B"
	return scenario{id: "cluster", title: clusterTitle, run: func(ctx context.Context, cfg *config) (*section, error) {
		sec := &section{ID: "cluster", Title: clusterTitle, Unit: "deliveries", Load: []string{loadavg()},
			Notes: "Node A (the emitter's node) and node B (the " + n + " receivers' node) are both pinned to CPU " + cfg.serverCPU +
				"; `sio bench` (CPU " + cfg.clientCPU + ") emits \"bcast\" on A, which broadcasts it to every socket: through Redis pub/sub to B. " +
				"CPU per delivery is A's and B's CPU (from /proc) over the deliveries counted at B's clients; Redis (" + cfg.redis + ", shared, not pinned) is not counted. " +
				"Ratios compare the Go cluster with the Node cluster of the same run."}
		ver, err := redisVersion(cfg.redis)
		if err != nil {
			log.Printf("  no Redis at %s (%v): cross-node broadcast left out (BENCH_REDIS sets the address)", cfg.redis, err)
			sec.Notes = "Not measured: no Redis server answered at " + cfg.redis + " (BENCH_REDIS sets the address)."
			sec.Load = append(sec.Load, loadavg())
			return sec, nil
		}
		sec.Notes += " Redis " + ver + "."
		kinds := cfg.kinds(false)
		type cluster struct{ a, b *server }
		clusters := map[serverKind]cluster{}
		defer func() {
			for _, c := range clusters {
				c.a.stop()
				c.b.stop()
			}
		}()
		for _, k := range kinds {
			key := uniqueKey(k)
			a, err := startWith(cfg, k, key, cfg.serverCPU)
			if err != nil {
				return nil, err
			}
			b, err := startWith(cfg, k, key, cfg.serverCPU)
			if err != nil {
				a.stop()
				return nil, err
			}
			clusters[k] = cluster{a, b}
			// Both nodes subscribed: the adapters' request channel has two subscribers.
			if err := waitSubscribers(ctx, cfg.redis, key+"-request#/#", 2); err != nil {
				return nil, fmt.Errorf("%s cluster: %w", k, err)
			}
		}
		rows := map[serverKind]*measure{}
		for round := 0; round < cfg.runs; round++ {
			for _, k := range rotate(kinds, round) {
				c := clusters[k]
				r, err := loadgen(ctx, cfg, c.b, "-mode", "broadcast", "-c", n, "-inflight", "4", "-size", "32",
					"-emit-url", "http://"+c.a.addr, "-emit-pid", strconv.Itoa(c.a.pid), "-duration", cfg.dur(), "-warmup", cfg.warm())
				if err != nil {
					return nil, err
				}
				d := float64(max(r.Messages, 1))
				log.Printf("  %-28s %-6s %10.0f/s  A %.2f + B %.2f µs/delivery  p99 %.0f µs  load %s", variant, k, r.Rate, r.EmitCPU*1e6/d, r.ServerCPU*1e6/d, r.P99us, r.Load)
				if rows[k] == nil {
					rows[k] = &measure{Variant: variant, Server: k, Extra: map[string]float64{}}
				}
				rows[k].Runs = append(rows[k].Runs, r)
			}
		}
		for _, k := range kinds {
			m := rows[k]
			m.summarise()
			m.Extra["a_cpu_us"] = median(mapRuns(m.Runs, func(r *result) float64 { return r.EmitCPU * 1e6 / float64(max(r.Messages, 1)) }))
			m.Extra["b_cpu_us"] = median(mapRuns(m.Runs, func(r *result) float64 { return r.ServerCPU * 1e6 / float64(max(r.Messages, 1)) }))
			sec.Rows = append(sec.Rows, m)
		}
		sec.Load = append(sec.Load, loadavg())
		return sec, nil
	}}
}

// uniqueKey is the adapters' channel prefix of one cluster of this run: the
// shared Redis server sees nothing else of ours, and nothing is flushed.
func uniqueKey(k serverKind) string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("sio-bench-xnode-%s-%d-%s", k, os.Getpid(), hex.EncodeToString(b[:]))
}

// redisCmd sends one command to the Redis server at addr and returns its
// reply: a bulk string, an integer or an array of those, in RESP2 (enough
// for INFO and PUBSUB NUMSUB).
func redisCmd(addr string, args ...string) ([]string, error) {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(2 * time.Second))
	var b strings.Builder
	fmt.Fprintf(&b, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
	}
	if _, err := c.Write([]byte(b.String())); err != nil {
		return nil, err
	}
	rd := bufio.NewReader(c)
	var read func() ([]string, error)
	read = func() ([]string, error) {
		line, err := rd.ReadString('\n')
		if err != nil {
			return nil, err
		}
		line = strings.TrimRight(line, "\r\n")
		if line == "" {
			return nil, errors.New("empty reply")
		}
		switch line[0] {
		case '+', ':':
			return []string{line[1:]}, nil
		case '-':
			return nil, errors.New(line[1:])
		case '$':
			n, err := strconv.Atoi(line[1:])
			if err != nil || n < 0 {
				return []string{""}, err
			}
			buf := make([]byte, n+2)
			if _, err := io.ReadFull(rd, buf); err != nil {
				return nil, err
			}
			return []string{string(buf[:n])}, nil
		case '*':
			n, err := strconv.Atoi(line[1:])
			if err != nil {
				return nil, err
			}
			var out []string
			for i := 0; i < n; i++ {
				v, err := read()
				if err != nil {
					return nil, err
				}
				out = append(out, v...)
			}
			return out, nil
		}
		return nil, fmt.Errorf("unexpected reply %q", line)
	}
	return read()
}

// redisVersion answers the server's version, or an error when none answers.
func redisVersion(addr string) (string, error) {
	r, err := redisCmd(addr, "INFO", "server")
	if err != nil {
		return "", err
	}
	for _, l := range strings.Split(strings.Join(r, ""), "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(l), "redis_version:"); ok {
			return v, nil
		}
	}
	return "?", nil
}

// waitSubscribers waits until channel has n subscribers (PUBSUB NUMSUB).
func waitSubscribers(ctx context.Context, addr, channel string, n int) error {
	deadline := time.Now().Add(15 * time.Second)
	for {
		r, err := redisCmd(addr, "PUBSUB", "NUMSUB", channel)
		if err == nil && len(r) == 2 {
			if got, _ := strconv.Atoi(r[1]); got >= n {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%d subscriber(s) of %s expected on %s after 15 s (%v %v)", n, channel, addr, r, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}
