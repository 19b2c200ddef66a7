// The official socket.io server, used by the Go client's interop tests
// (client/interop_test.go). Usage: node server.mjs PORT
// It prints "listening PORT" once ready. The same behaviours are
// implemented in Go in client/suite_test.go (newGoServer).
import { createServer } from "node:http";
import { Server } from "socket.io";

const port = Number(process.argv[2] || 0);
const httpServer = createServer();
const io = new Server(httpServer, {
  pingInterval: 1000,
  pingTimeout: 2000,
  maxHttpBufferSize: 1e6,
  connectionStateRecovery: { maxDisconnectionDuration: 30000, skipMiddlewares: true },
});

const logs = {};
const seen = {};

function common(socket) {
  socket.on("whoami", (cb) =>
    cb({ auth: socket.handshake.auth, sid: socket.conn.id, transport: socket.conn.transport.name, nsp: socket.nsp.name }),
  );
}

io.on("connection", (socket) => {
  common(socket);
  socket.on("echo", (...args) => {
    const cb = args.pop();
    cb(...args);
  });
  socket.on("echo-event", (...args) => socket.emit("echo-event", ...args));
  socket.on("ask", async (arg, cb) => {
    try {
      const r = await socket.timeout(2000).emitWithAck("question", arg);
      cb({ ok: r });
    } catch (e) {
      cb({ err: e.message });
    }
  });
  socket.on("noack", () => {});
  socket.on("log", (key, v) => (logs[key] ||= []).push(v));
  socket.on("getlog", (key, cb) => cb(logs[key] || []));
  socket.on("retry", (key, n, cb) => {
    (logs[key] ||= []).push(n);
    const k = key + ":" + n;
    seen[k] = (seen[k] || 0) + 1;
    if (seen[k] === 1 && n % 2 === 0) return; // drop the first ack of even numbers
    cb(n);
  });
  socket.on("many", (n) => {
    for (let i = 0; i < n; i++) socket.emit("seq", i);
  });
  socket.on("cut", (key) => {
    socket.conn.close();
    setTimeout(() => {
      io.emit("missed", key, 1);
      io.emit("missed", key, 2);
    }, 50);
  });
  socket.on("disconnect-me", () => socket.disconnect());
});

io.of("/admin").use((socket, next) => {
  if (socket.handshake.auth && socket.handshake.auth.token === "secret") return next();
  const err = new Error("not authorized");
  err.data = { code: 42, hint: "send a token" };
  next(err);
});
io.of("/admin").on("connection", common);
io.of("/other").on("connection", common);

httpServer.listen(port, "127.0.0.1", () => {
  console.log("listening " + httpServer.address().port);
});
process.on("SIGTERM", () => process.exit(0));
