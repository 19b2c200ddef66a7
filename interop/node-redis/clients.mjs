// Official socket.io-client sockets for the Go tests (redisadapter/*_test.go):
// node clients.mjs '[{"name":"a1","url":"http://127.0.0.1:N","rooms":["r1"]}, ...]'
// Each client connects with auth {name}, joins its rooms (the "join" event),
// then prints {"ready": name}. Every event it gets is printed as
// {"client", "event", "args"} (binary as {"$bin": hex}); an event that asks
// for an acknowledgement is answered with the client's name. A disconnection
// prints {"client", "disconnect": reason}.
import { io } from "socket.io-client";

const specs = JSON.parse(process.argv[2]);
const plain = (v) => {
  if (v instanceof ArrayBuffer) return { $bin: Buffer.from(v).toString("hex") };
  if (ArrayBuffer.isView(v)) return { $bin: Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString("hex") };
  if (Array.isArray(v)) return v.map(plain);
  if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)]));
  return v;
};
const out = (o) => process.stdout.write(JSON.stringify(o) + "\n");

const sockets = specs.map((spec) => {
  const socket = io(spec.url, { auth: { name: spec.name }, transports: spec.transports || ["websocket"], reconnection: false });
  socket.on("connect", async () => {
    for (const room of spec.rooms || []) await socket.timeout(5000).emitWithAck("join", room);
    out({ ready: spec.name });
  });
  socket.on("connect_error", (e) => out({ client: spec.name, error: e.message }));
  socket.onAny((event, ...args) => {
    let cb;
    if (typeof args[args.length - 1] === "function") cb = args.pop();
    out({ client: spec.name, event, args: plain(args) });
    if (cb) cb(spec.name);
  });
  socket.on("disconnect", (reason) => out({ client: spec.name, disconnect: reason }));
  return socket;
});
process.stdin.resume();
process.stdin.on("end", () => {
  sockets.forEach((s) => s.close());
  process.exit(0);
});
