// socket.io 4.8 on Node: the server under test for bench/run. Its handlers
// mirror bench/server (echo, join, bcast, bcastroom); /stats answers the
// heap (heapUsed + external + arrayBuffers) and RSS after a forced GC (run
// with --expose-gc). Settings as socket.io recommends for performance:
// the ws `bufferutil` add-on (loaded by ws when installed; reported on
// stderr), perMessageDeflate off (the default), and clients that go
// straight to the WebSocket transport.
//
//   node --expose-gc server.mjs [port]     prints "listening 127.0.0.1:PORT"
//   node --expose-gc server.mjs [port] --redis redis://127.0.0.1:6379 --key KEY
//
// With --redis it joins a cluster through the classic @socket.io/redis-adapter
// (channels prefixed with KEY), like bench/server -redis: the cross-node
// broadcast scenario of bench/run runs two of them.
import { createServer } from "node:http";
import { createRequire } from "node:module";
import { Server } from "socket.io";

const require = createRequire(import.meta.url);
let native = "no";
try {
  const path = require("node-gyp-build").resolve(require("path").dirname(require.resolve("bufferutil")));
  native = path;
} catch {}
process.stderr.write(`bufferutil native add-on: ${native}\n`);

const httpServer = createServer((req, res) => {
  if (req.url === "/stats") {
    if (global.gc) global.gc();
    const m = process.memoryUsage();
    res.setHeader("Content-Type", "application/json");
    res.end(JSON.stringify({ heap: m.heapUsed + m.external + m.arrayBuffers, rss: m.rss }));
    return;
  }
  if (!req.url.startsWith("/socket.io/")) {
    res.writeHead(404);
    res.end();
  }
});

const args = process.argv.slice(2);
const opt = (name) => {
  const i = args.indexOf(name);
  if (i < 0) return undefined;
  const v = args[i + 1];
  args.splice(i, 2);
  return v;
};
const redisURL = opt("--redis");
const redisKey = opt("--key") || "socket.io";
let adapter;
if (redisURL) {
  const { createClient } = await import("redis");
  const { createAdapter } = await import("@socket.io/redis-adapter");
  const pub = createClient({ url: redisURL });
  const sub = pub.duplicate();
  pub.on("error", (e) => process.stderr.write(`redis: ${e}\n`));
  sub.on("error", (e) => process.stderr.write(`redis: ${e}\n`));
  await Promise.all([pub.connect(), sub.connect()]);
  adapter = createAdapter(pub, sub, { key: redisKey });
}

const io = new Server(httpServer, { perMessageDeflate: false, httpCompression: false, ...(adapter ? { adapter } : {}) });
io.on("connection", (socket) => {
  socket.on("echo", (v, ack) => {
    if (typeof ack === "function") ack(v);
    else socket.emit("echo", v);
  });
  socket.on("join", (room, ack) => {
    socket.join(room);
    if (typeof ack === "function") ack(true);
  });
  socket.on("bcast", (v) => io.emit("bcast", v));
  socket.on("bcastroom", (v) => io.to("bench").emit("bcast", v));
});

const port = Number(args[0] || 0);
httpServer.listen(port, "127.0.0.1", () => {
  const a = httpServer.address();
  process.stdout.write(`listening ${a.address}:${a.port}\n`);
});
const stop = () => { io.close(); process.exit(0); };
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
