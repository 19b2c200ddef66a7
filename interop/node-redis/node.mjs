// A Node socket.io server in a Redis cluster, driven by the Go tests
// (redisadapter/*_test.go): node node.mjs <classic|sharded|streams> <key> <name>.
// It prints {"port": N} once listening, then answers JSON commands read from
// stdin, one a line, with one JSON line each: {"id", ...result} or {"id", "error"}.
import { createServer } from "node:http";
import readline from "node:readline";
import { Server } from "socket.io";
import { createClient } from "redis";
import { createAdapter, createShardedAdapter } from "@socket.io/redis-adapter";
import { createAdapter as createStreamsAdapter } from "@socket.io/redis-streams-adapter";

const [mode, key, name, extra] = process.argv.slice(2);
const options = extra ? JSON.parse(extra) : {};
const url = process.env.REDIS_URL || "redis://127.0.0.1:6379";

const pub = createClient({ url });
const sub = pub.duplicate();
pub.on("error", () => {});
sub.on("error", () => {});
await pub.connect();

let adapter;
if (mode === "classic") {
  await sub.connect();
  adapter = createAdapter(pub, sub, { key });
} else if (mode === "sharded") {
  await sub.connect();
  adapter = createShardedAdapter(pub, sub, { channelPrefix: key });
} else if (mode === "streams") {
  adapter = createStreamsAdapter(pub, { streamName: key, channelPrefix: key, sessionKeyPrefix: key + ":session:" });
} else {
  throw new Error("unknown mode " + mode);
}

const io = new Server({
  adapter,
  pingInterval: 2000,
  pingTimeout: 2000,
  connectionStateRecovery: options.recovery ? { maxDisconnectionDuration: 2 * 60 * 1000 } : undefined,
});
io.on("connection", (socket) => {
  socket.data.name = socket.handshake.auth.name;
  socket.on("join", (room, cb) => {
    socket.join(room);
    if (typeof cb === "function") cb();
  });
});
// Server-side events without acknowledgement, recorded for the tests
// (the "serverSideEvents" command).
const serverSideEvents = [];
io.on("record", (...args) => serverSideEvents.push(args));
io.on("ping", (...args) => {
  const cb = args.pop();
  if (typeof cb === "function") cb("pong-" + name);
});

const bin = (v) => {
  if (v && typeof v === "object") {
    if (typeof v.$bin === "string") return Buffer.from(v.$bin, "hex");
    if (Array.isArray(v)) return v.map(bin);
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, bin(x)]));
  }
  return v;
};
const plain = (_k, v) => {
  if (v && v.type === "Buffer" && Array.isArray(v.data)) return { $bin: Buffer.from(v.data).toString("hex") };
  return v;
};
const out = (o) => process.stdout.write(JSON.stringify(o, plain) + "\n");

const op = (c) => {
  let o = io.of(c.nsp || "/");
  if (c.rooms && c.rooms.length) o = o.to(c.rooms);
  if (c.except && c.except.length) o = o.except(c.except);
  return o;
};

async function run(c) {
  const args = bin(c.args || []);
  switch (c.cmd) {
    case "emit":
      op(c).emit(c.event, ...args);
      return {};
    case "emitWithAck":
      return { responses: await op(c).timeout(c.timeout || 3000).emitWithAck(c.event, ...args) };
    case "fetchSockets": {
      const sockets = await op(c).fetchSockets();
      return { sockets: sockets.map((s) => ({ id: s.id, name: s.data && s.data.name, rooms: [...s.rooms] })) };
    }
    case "serverSideEmitWithAck":
      return { responses: await io.serverSideEmitWithAck(c.event, ...args) };
    case "serverSideEmit":
      io.serverSideEmit(c.event, ...args);
      return {};
    case "socketsJoin":
      op(c).socketsJoin(c.join);
      return {};
    case "socketsLeave":
      op(c).socketsLeave(c.leave);
      return {};
    case "disconnectSockets":
      op(c).disconnectSockets(!!c.close);
      return {};
    case "serverSideEvents":
      return { events: serverSideEvents };
    case "serverCount":
      return { count: await io.of("/").adapter.serverCount() };
    default:
      throw new Error("unknown command " + c.cmd);
  }
}

const http = createServer();
io.attach(http);
http.listen(0, "127.0.0.1", () => out({ port: http.address().port }));

readline.createInterface({ input: process.stdin }).on("line", async (line) => {
  let c;
  try {
    c = JSON.parse(line);
    out({ id: c.id, ...(await run(c)) });
  } catch (e) {
    out({ id: c && c.id, error: String(e && e.message) });
  }
});
process.stdin.on("end", () => process.exit(0));
