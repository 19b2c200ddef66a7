// One official socket.io-client socket that can lose its transport and come
// back on another server, for the connection state recovery tests
// (redisstreams/*_test.go): node recover.mjs <name>, then JSON commands on
// stdin, one a line:
//   {"cmd": "connect", "url"}  connects (websocket, no automatic reconnection);
//   {"cmd": "join", "room"}    joins a room (the servers' "join" event);
//   {"cmd": "drop"}            closes the transport, as a network loss would;
//   {"cmd": "moveTo", "url"}   reconnects to url with the session of the lost
//                              socket (its pid and last offset), as the
//                              client's own reconnection would.
// It prints {"connected": id, "recovered", "pid"} on each connection,
// {"event", "args"} for each event (binary as {"$bin": hex}), {"disconnect": reason}, {"error"}, and
// {"done": cmd} once a command is carried out.
import readline from "node:readline";
import { io } from "socket.io-client";

const [name] = process.argv.slice(2);
const plain = (v) => {
  if (v instanceof ArrayBuffer) return { $bin: Buffer.from(v).toString("hex") };
  if (ArrayBuffer.isView(v)) return { $bin: Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString("hex") };
  if (Array.isArray(v)) return v.map(plain);
  if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)]));
  return v;
};
const out = (o) => process.stdout.write(JSON.stringify(o) + "\n");
const options = { auth: { name }, transports: ["websocket"], reconnection: false, forceNew: true, autoConnect: false };

let socket;
const open = (url, from) => {
  const s = io(url, options);
  if (from) {
    s._pid = from._pid;
    s._lastOffset = from._lastOffset;
  }
  s.on("connect", () => out({ connected: s.id, recovered: !!s.recovered, pid: s._pid }));
  s.on("connect_error", (e) => out({ error: e.message }));
  s.on("disconnect", (reason) => out({ disconnect: reason }));
  s.onAny((event, ...args) => out({ event, args: plain(args) }));
  s.connect();
  return s;
};

readline.createInterface({ input: process.stdin }).on("line", async (line) => {
  const c = JSON.parse(line);
  try {
    switch (c.cmd) {
      case "connect":
        socket = open(c.url);
        break;
      case "join":
        await socket.timeout(5000).emitWithAck("join", c.room);
        break;
      case "drop":
        socket.io.engine.close();
        break;
      case "moveTo":
        if (socket.connected) socket.io.engine.close();
        socket = open(c.url, socket);
        break;
    }
    out({ done: c.cmd });
  } catch (e) {
    out({ error: String(e && e.message) });
  }
});
process.stdin.on("end", () => {
  if (socket) socket.close();
  process.exit(0);
});
