# The two entry points of README.md: `make demo` and `make test`.
# Both install what they need (Node packages through npm ci) on a fresh machine
# that has Go and Node.

GO ?= go

.PHONY: demo test vet fuzz-smoke conformance bench

CHAT := examples/chat

# The main job: the chat demo (see README.md), on http://127.0.0.1:3000.
demo: $(CHAT)/node_modules/.package-lock.json
	$(GO) run ./$(CHAT)

# npm ci runs only when node_modules is missing or older than the lockfile
# (npm writes node_modules/.package-lock.json; touch dates it after the install).
$(CHAT)/node_modules/.package-lock.json: $(CHAT)/package-lock.json
	npm ci --prefix $(CHAT)
	@touch $@

$(CHAT)/e2e/node_modules/.package-lock.json: $(CHAT)/e2e/package-lock.json
	npm ci --prefix $(CHAT)/e2e
	@touch $@

# The official socket.io-client for the interop tests (interop_*_test.go).
interop/node/node_modules/.package-lock.json: interop/node/package-lock.json
	npm ci --prefix interop/node
	@touch $@

# The official socket.io server for the Go client's interop tests (client/interop_test.go).
interop/node-server/node_modules/.package-lock.json: interop/node-server/package-lock.json
	npm ci --prefix interop/node-server
	@touch $@

# socket.io with the official Redis adapters for the mixed-cluster tests (redisadapter/).
interop/node-redis/node_modules/.package-lock.json: interop/node-redis/package-lock.json
	npm ci --prefix interop/node-redis
	@touch $@

# Every test: vet, the race-enabled test suite (with the chat's browser test,
# the interop tests and the benchmark harness's quick smoke run, which need the npm packages below and
# /usr/bin/chromium), the socket packages again without the race detector
# (their raw system calls, internal/rawio, are only made in such builds), and
# a short run of every fuzzer.
test: vet $(CHAT)/node_modules/.package-lock.json $(CHAT)/e2e/node_modules/.package-lock.json \
	interop/node/node_modules/.package-lock.json interop/node-server/node_modules/.package-lock.json \
	interop/node-redis/node_modules/.package-lock.json bench/node/node_modules/.package-lock.json
	$(GO) test -race -count=1 ./...
	$(GO) test -count=1 ./internal/rawio ./internal/websocket ./engineio
	./scripts/fuzz-smoke.sh

vet:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	  if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

fuzz-smoke:
	./scripts/fuzz-smoke.sh

# The official conformance suites (needs MIRROR, a git copy of socketio/socket.io).
conformance:
	../shared/tools/official-suite.sh eio-v4

# socket.io 4.8 on Node (with bufferutil) and the official client, for the benchmarks.
bench/node/node_modules/.package-lock.json: bench/node/package-lock.json
	npm ci --prefix bench/node
	@touch $@

# The benchmarks (see BENCHMARKS.md): our server, socket.io on Node and a raw
# WebSocket server, each pinned to one CPU and driven by `sio bench` on the
# other; rewrites BENCHMARKS.md and bench/results/. 15 to 20 minutes;
# BENCH_QUICK=1 runs a ~30 s smoke version into bench/results/quick/.
# BENCH_ONLY=cluster (or another scenario id, comma-separated) runs only those, into
# bench/results/only/; the cross-node scenario needs Redis at BENCH_REDIS (127.0.0.1:6379).
bench: bench/node/node_modules/.package-lock.json
	$(GO) run ./bench/run
