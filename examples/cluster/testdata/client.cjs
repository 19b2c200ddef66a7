// The official socket.io-client against the cluster behind nginx (driven by
// cluster_test.go). Usage: node client.cjs <url> <polling|websocket|upgrade> <ticks>
// with NODE_MODULES_DIR naming the directory that holds socket.io-client.
//
// It acknowledges "whoami" five times (every answer must come from the same
// node), reports {"event":"ready","node":...,"transport":...}, then waits for
// the "tick" broadcasts 1..<ticks> and reports {"event":"done","ticks":[...]}.
// Errors are reported as {"event":"error","message":...} with exit code 1.
const { io } = require(require.resolve("socket.io-client", { paths: [process.env.NODE_MODULES_DIR] }));

const [url, mode, ticksArg] = process.argv.slice(2);
const want = Number(ticksArg);
const report = (o) => process.stdout.write(JSON.stringify(o) + "\n");
const fail = (err) => {
  report({ event: "error", message: String((err && err.message) || err) });
  process.stdout.write("", () => process.exit(1));
};
setTimeout(() => fail("timeout"), 20000).unref();

const opts = { reconnection: false };
if (mode === "polling") opts.transports = ["polling"];
if (mode === "websocket") opts.transports = ["websocket"];
const socket = io(url, opts);
const ticks = [];
socket.on("tick", (n) => {
  ticks.push(n);
  if (ticks.length === want) {
    report({ event: "done", ticks });
    socket.disconnect();
    process.stdout.write("", () => process.exit(0));
  }
});
socket.on("connect_error", fail);
socket.on("disconnect", (reason) => {
  if (ticks.length < want) fail("disconnected: " + reason);
});

socket.on("connect", async () => {
  try {
    if (mode === "upgrade" && socket.io.engine.transport.name !== "websocket") {
      await new Promise((resolve) => socket.io.engine.once("upgrade", resolve));
    }
    const nodes = new Set();
    for (let i = 0; i < 5; i++) nodes.add(await socket.timeout(5000).emitWithAck("whoami", i));
    if (nodes.size !== 1) throw new Error("answers from " + [...nodes].join(","));
    report({ event: "ready", node: [...nodes][0], transport: socket.io.engine.transport.name });
  } catch (err) {
    fail(err);
  }
});
