// Interop scenarios for the official socket.io-client against the Go server.
//
// Usage: node client.mjs <scenario> <server url> <polling|websocket|upgrade|listener>
// ("listener" is polling only, against the Go server behind its Listener.)
//
// The script reports what it observes as JSON lines on stdout:
//   {"event": "...", "client": "A", "data": ...}
// Binary values are reported as {"$bin": "<base64>"}, undefined as
// {"$undefined": true}. It ends with {"event":"done"} and exit code 0, or
// {"event":"error"} and exit code 1. The Go test (interop_server_test.go)
// drives the server side and may send commands, one per line, on stdin.
import { io, Manager } from "socket.io-client";
import { createInterface } from "node:readline";
import { EventEmitter } from "node:events";

const [scenario, url, mode] = process.argv.slice(2);
const WAIT_MS = 10_000; // bound on every wait; the Go side bounds the whole run too

const transportOpts =
  mode === "polling" || mode === "listener"
    ? { transports: ["polling"] }
    : mode === "websocket"
      ? { transports: ["websocket"] }
      : {};

function encode(v) {
  if (v === undefined) return { $undefined: true };
  if (v === null || typeof v !== "object") return v;
  if (Buffer.isBuffer(v)) return { $bin: v.toString("base64") };
  if (v instanceof ArrayBuffer) return { $bin: Buffer.from(v).toString("base64") };
  if (ArrayBuffer.isView(v)) {
    return { $bin: Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString("base64") };
  }
  if (v instanceof Error) return { message: v.message, data: encode(v.data) };
  if (Array.isArray(v)) return v.map(encode);
  const out = {};
  for (const [k, x] of Object.entries(v)) out[k] = encode(x);
  return out;
}

function report(event, data, client) {
  const line = { event };
  if (client !== undefined) line.client = client;
  if (data !== undefined) line.data = encode(data);
  process.stdout.write(JSON.stringify(line) + "\n");
}

// exit exits once stdout is flushed: writes to a full pipe are asynchronous.
function exit(code) {
  process.stdout.write("", () => process.exit(code));
}

function fail(err) {
  report("error", { message: String(err && err.message ? err.message : err), stack: err && err.stack });
  exit(1);
}
process.on("uncaughtException", fail);
process.on("unhandledRejection", fail);

// Commands from the Go test, one per line on stdin.
const commands = new EventEmitter();
const pending = [];
createInterface({ input: process.stdin }).on("line", (line) => {
  pending.push(line.trim());
  commands.emit("line");
});
async function command(name) {
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    const i = pending.indexOf(name);
    if (i >= 0) {
      pending.splice(i, 1);
      return;
    }
    const left = deadline - Date.now();
    if (left <= 0) throw new Error(`timeout waiting for command ${name}`);
    await new Promise((resolve) => {
      const t = setTimeout(resolve, left);
      commands.once("line", () => {
        clearTimeout(t);
        resolve();
      });
    });
  }
}

// once resolves with the arguments of the next event, or rejects after WAIT_MS.
function once(emitter, event, what = event) {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => {
      emitter.off(event, on);
      reject(new Error(`timeout waiting for ${what}`));
    }, WAIT_MS);
    const on = (...args) => {
      clearTimeout(t);
      resolve(args);
    };
    emitter.once(event, on);
  });
}

// until resolves when cond() holds (checked every 5 ms), or rejects after WAIT_MS.
function until(cond, what) {
  return new Promise((resolve, reject) => {
    const start = Date.now();
    const tick = () => {
      if (cond()) return resolve();
      if (Date.now() - start > WAIT_MS) return reject(new Error(`timeout waiting for ${what}`));
      setTimeout(tick, 5);
    };
    tick();
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// connect opens a socket on its own connection (no multiplexing, no reconnection).
function connect(nsp, opts = {}) {
  return io(url + nsp, { ...transportOpts, forceNew: true, reconnection: false, ...opts });
}

// connected resolves once socket s is connected and reports it.
async function connected(s, client) {
  if (!s.connected) {
    await Promise.race([once(s, "connect"), once(s, "connect_error").then(([err]) => Promise.reject(err))]);
  }
  report("connect", { id: s.id, recovered: s.recovered === true, nsp: s.nsp }, client);
}

// reportTransport waits (in upgrade mode) for the upgrade to WebSocket, and
// reports the transport a live socket ends on.
async function reportTransport(s, client) {
  const engine = s.io.engine;
  if (mode === "upgrade" && engine.transport.name !== "websocket") {
    await once(engine, "upgrade", "upgrade to websocket");
  }
  report("transport", engine.transport.name, client);
}

function done(...sockets) {
  for (const s of sockets) s.disconnect();
  report("done");
  exit(0);
}

const scenarios = {
  // The handshake: auth payload, query, socket id; no auth means {}.
  async auth() {
    const s = connect("/", { auth: { token: "secret-token", user: { id: 7, roles: ["a", "b"] } }, query: { q: "v" } });
    const hello = once(s, "hello");
    await connected(s, "with-auth");
    report("hello", (await hello)[0], "with-auth");
    const s2 = connect("/");
    const hello2 = once(s2, "hello");
    await connected(s2, "no-auth");
    report("hello", (await hello2)[0], "no-auth");
    await reportTransport(s, "with-auth");
    done(s, s2);
  },

  // Main, custom and dynamic namespaces multiplexed on one connection, and an unknown one.
  async namespaces() {
    const m = new Manager(url, { ...transportOpts, reconnection: false });
    const names = ["/", "/custom", "/dyn-42", "/func-a"];
    const sockets = names.map((n) => m.socket(n, n.startsWith("/func") ? { auth: { allow: true } } : {}));
    const welcomes = sockets.map((s) => once(s, "welcome", `welcome on ${s.nsp}`));
    const parent = once(sockets[2], "parent-broadcast");
    const refused = [m.socket("/func-b", { auth: { allow: false } }), m.socket("/unknown")];
    const errors = refused.map((s) => once(s, "connect_error", `connect_error on ${s.nsp}`));
    for (const s of [...sockets, ...refused]) s.connect();
    for (let i = 0; i < sockets.length; i++) {
      await connected(sockets[i], names[i]);
      report("welcome", (await welcomes[i])[0], names[i]);
    }
    for (let i = 0; i < refused.length; i++) {
      const [err] = await errors[i];
      report("connect_error", { message: err.message, data: err.data }, refused[i].nsp);
    }
    await command("parent-broadcast-sent");
    report("parent-broadcast", (await parent)[0], "/dyn-42");
    await reportTransport(sockets[0], "/");
    done(...sockets);
  },

  // Namespace middlewares refusing with a message and data.
  async middleware() {
    const m = new Manager(url, { ...transportOpts, reconnection: false });
    const cases = [
      ["guarded", m.socket("/guarded")],
      ["plain", m.socket("/plain")],
      ["bad-token", connect("/", { auth: { token: "bad" } })],
    ];
    const errors = cases.map(([name, s]) => once(s, "connect_error", `connect_error of ${name}`));
    for (let i = 0; i < cases.length; i++) {
      const [name, s] = cases[i];
      const [err] = await errors[i];
      report("connect_error", { message: err.message, data: err.data, hasData: err.data !== undefined }, name);
      s.disconnect();
    }
    const ok = connect("/", { auth: { token: "ok" } });
    const welcome = once(ok, "welcome");
    await connected(ok, "ok");
    report("welcome", (await welcome)[0], "ok");
    await reportTransport(ok, "ok");
    done(ok);
  },

  // Every JSON type, both ways.
  async "emit-json"() {
    const s = connect("/");
    const back = once(s, "types-back");
    const fromGo = once(s, "from-go");
    const noArgs = once(s, "no-args");
    await connected(s);
    s.emit("types", ...jsonValues());
    s.emit("no-args");
    report("types-back", (await back));
    report("from-go", (await fromGo));
    report("no-args", (await noArgs));
    await reportTransport(s);
    done(s);
  },

  // Binary arguments, nested in objects and arrays, both ways.
  async "emit-binary"() {
    const s = connect("/");
    const back = once(s, "bin-back");
    await connected(s);
    const big = Buffer.alloc(200_000);
    for (let i = 0; i < big.length; i++) big[i] = (i * 7) & 0xff;
    s.emit(
      "bin",
      Buffer.from([0, 1, 2, 255]),
      { name: "file.bin", data: Buffer.from("hello binary"), nested: { list: [Buffer.from([9, 8, 7]), "text", 5] } },
      new Uint8Array([1, 2, 3]).buffer,
      big,
    );
    report("bin-back", await back);
    await reportTransport(s);
    done(s);
  },

  // Acknowledgements both ways, with and without timeouts.
  async acks() {
    const s = connect("/");
    s.on("ask", (q, cb) => cb("answer", { q }));
    s.on("ask-bin", (cb) => cb(Buffer.from([1, 2, 3]), { nested: Buffer.from("ack") }));
    s.on("ignore", (n) => report("ignored", n));
    const finished = once(s, "server-acks-done");
    await connected(s);
    report("sum", await new Promise((resolve) => s.emit("sum", 1, 2, (r) => resolve(r))));
    report("typed", await s.emitWithAck("typed", { name: "x", n: 2 }));
    report(
      "sum-timeout",
      await new Promise((resolve) => s.timeout(5000).emit("sum", 3, 4, (err, r) => resolve({ err: err ? err.message : null, r }))),
    );
    report(
      "bin-ack",
      await new Promise((resolve) => s.timeout(5000).emit("bin-ack", Buffer.from([4, 5, 6]), (err, ...args) => resolve(err || args))),
    );
    const t0 = Date.now();
    report(
      "never",
      await new Promise((resolve) => s.timeout(100).emit("never", 1, (err) => resolve({ err: err ? err.message : null }))),
    );
    try {
      await s.timeout(100).emitWithAck("never", 2);
      report("never-2", { err: null });
    } catch (err) {
      report("never-2", { err: err.message, ms: Date.now() - t0 });
    }
    s.emit("start-server-acks");
    await finished;
    await reportTransport(s);
    done(s);
  },

  // Rooms, To, Except, Socket.Broadcast, Volatile.
  async rooms() {
    const names = ["A", "B", "C"];
    const got = { A: [], B: [], C: [] };
    const sockets = names.map((n) => {
      const s = connect("/", { auth: { name: n } });
      s.on("msg", (m) => got[n].push(m));
      return s;
    });
    const ends = sockets.map((s) => once(s, "end", "end"));
    for (let i = 0; i < 3; i++) await connected(sockets[i], names[i]);
    for (let i = 0; i < 3; i++) {
      await ends[i];
      report("messages", got[names[i]], names[i]);
    }
    // Volatile: delivered to an idle client (asked again in the rare case
    // where the transport was busy and the event was dropped).
    const a = sockets[0];
    const vols = [];
    a.on("vol", (n) => vols.push(n));
    let tries = 0;
    for (; tries < 10 && vols.length === 0; tries++) {
      await sleep(50);
      a.emit("volatile-please", tries);
      const t = Date.now();
      while (vols.length === 0 && Date.now() - t < 300) await sleep(5);
    }
    report("volatile", { received: vols, tries }, "A");
    await reportTransport(a, "A");
    done(...sockets);
  },

  // Broadcast with acks from several clients, with and without a silent client.
  async "broadcast-ack"() {
    const names = ["A", "B", "C"];
    const sockets = names.map((n) => {
      const s = connect("/", { auth: { name: n } });
      s.on("poll", (q, cb) => cb({ from: n, q }));
      s.on("poll-partial", (q, cb) => {
        if (n !== "C") cb({ from: n, q });
      });
      return s;
    });
    const finishes = sockets.map((s) => once(s, "finish"));
    for (let i = 0; i < 3; i++) await connected(sockets[i], names[i]);
    await Promise.all(finishes);
    await reportTransport(sockets[0], "A");
    done(...sockets);
  },

  // FetchSockets and the RemoteSocket operations.
  async "fetch-sockets"() {
    const names = ["A", "B"];
    const got = { A: [], B: [] };
    const sockets = names.map((n) => {
      const s = connect("/", { auth: { name: n } });
      s.on("remote", (m) => got[n].push(m));
      return s;
    });
    const disc = once(sockets[0], "disconnect");
    const finish = once(sockets[1], "finish");
    for (let i = 0; i < 2; i++) await connected(sockets[i], names[i]);
    report("disconnect", (await disc)[0], "A");
    await finish;
    for (const n of names) report("remote", got[n], n);
    await reportTransport(sockets[1], "B");
    done(...sockets);
  },

  // DisconnectSockets, in a room then everywhere.
  async "disconnect-sockets"() {
    const names = ["A", "B", "C"];
    const sockets = names.map((n) => connect("/", { auth: { name: n } }));
    const discs = sockets.map((s) => once(s, "disconnect"));
    const still = once(sockets[2], "still-here");
    for (let i = 0; i < 3; i++) await connected(sockets[i], names[i]);
    for (let i = 0; i < 2; i++) report("disconnect", (await discs[i])[0], names[i]);
    report("still-here", (await still)[0], "C");
    report("disconnect", (await discs[2])[0], "C");
    done();
  },

  // The disconnect reasons a client observes.
  async "disconnect-reasons"() {
    const roles = ["server-disconnect", "server-close", "conn-close", "client-disconnect"];
    const sockets = roles.map((r) => connect("/", { auth: { role: r } }));
    const discs = sockets.map((s) => once(s, "disconnect"));
    for (let i = 0; i < roles.length; i++) await connected(sockets[i], roles[i]);
    if (mode === "upgrade") for (let i = 0; i < roles.length; i++) await reportTransport(sockets[i], roles[i]);
    sockets[0].emit("disconnect-me");
    sockets[1].emit("disconnect-me-close");
    sockets[2].emit("close-conn");
    sockets[3].disconnect();
    for (let i = 0; i < roles.length; i++) report("disconnect", (await discs[i])[0], roles[i]);
    done();
  },

  // The server goes away (Shutdown, or a frozen network for "ping timeout")
  // under a connected client.
  async "await-disconnect"() {
    const s = connect("/");
    const disc = once(s, "disconnect");
    await connected(s);
    if (mode === "upgrade") await reportTransport(s);
    s.emit("ready");
    report("disconnect", (await disc)[0]);
    done();
  },

  // Connection state recovery after the transport is cut by the server.
  "recovery-server-cut": () => recovery(false),
  // Connection state recovery after the transport is cut by the client.
  "recovery-client-cut": () => recovery(true),

  // 1000 messages each way, at the same time; each side checks the order.
  async order() {
    const s = connect("/");
    const got = [];
    s.on("seq", (i) => got.push(i));
    await connected(s);
    for (let i = 0; i < 1000; i++) s.emit("seq", i);
    await until(() => got.length >= 1000, "1000 messages from the server");
    const inOrder = got.every((v, i) => v === i);
    report("received", { count: got.length, inOrder });
    report("server-view", await s.timeout(WAIT_MS).emitWithAck("seq-done"));
    await reportTransport(s);
    done(s);
  },
};

// recovery: the client connects, the transport is cut (by the client when
// clientCut, else by the server), the server broadcasts meanwhile, then on the
// Go side's command the client reconnects and must get exactly the missed events.
async function recovery(clientCut) {
  const s = connect("/");
  const events = [];
  s.on("missed", (...args) => events.push(args));
  await connected(s, "first");
  // The client gets an offset to recover from with its first event.
  await until(() => events.length > 0, "an event before the cut");
  if (mode === "upgrade") await reportTransport(s);
  const disc = once(s, "disconnect");
  if (clientCut) {
    s.io.engine.close();
  } else {
    s.emit("cut-me");
  }
  report("disconnect", (await disc)[0]);
  await command("reconnect");
  const reconnected = once(s, "connect");
  s.connect();
  await reconnected;
  report("connect", { id: s.id, recovered: s.recovered }, "second");
  await until(() => events.length > 0 && events[events.length - 1][0] === "after", "the event after reconnection");
  report("events", events);
  done(s);
}

// The JSON values of the emit-json scenario (the Go test has the same list).
function jsonValues() {
  return [
    "hello",
    "",
    42,
    -7,
    3.14159,
    9007199254740991,
    1e21,
    true,
    false,
    null,
    { nested: { a: [1, "two", { three: 3 }], empty: {}, list: [] } },
    [1, [2, [3, []]]],
    "unicode ✓ 日本語 émoji 😀 \u2028",
    'quote " backslash \\ newline \n tab \t control \u0001 <html>&',
  ];
}

const run = scenarios[scenario];
if (!run) {
  fail(new Error(`unknown scenario ${scenario}`));
} else {
  setTimeout(() => fail(new Error(`scenario ${scenario} timed out`)), 30_000).unref();
  run().catch(fail);
}
