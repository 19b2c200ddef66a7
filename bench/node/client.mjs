// The official socket.io-client driving the pipelined echo scenario, for
// the client-efficiency comparison with `sio bench -client lib`:
//
//   node client.mjs URL CONNS INFLIGHT SIZE SECONDS WARMUP_SECONDS
//
// prints one JSON object: echoes counted in the window, its length and this
// process's CPU time (user+system) during it.
import { io } from "socket.io-client";

const [url, conns = "100", inflight = "16", size = "32", seconds = "3", warmup = "0.5"] = process.argv.slice(2);
const payload = "x".repeat(Number(size));
let measuring = false;
let counted = 0;
const sockets = [];

await Promise.all(
  Array.from({ length: Number(conns) }, () => new Promise((resolve, reject) => {
    const s = io(url, { transports: ["websocket"], reconnection: false, forceNew: true });
    sockets.push(s);
    s.on("connect", resolve);
    s.on("connect_error", reject);
  })),
);
for (const s of sockets) {
  s.on("echo", () => {
    if (measuring) counted++;
    s.emit("echo", payload);
  });
  for (let i = 0; i < Number(inflight); i++) s.emit("echo", payload);
}
await new Promise((r) => setTimeout(r, Number(warmup) * 1000));
const cpu0 = process.cpuUsage();
const t0 = process.hrtime.bigint();
measuring = true;
await new Promise((r) => setTimeout(r, Number(seconds) * 1000));
measuring = false;
const secs = Number(process.hrtime.bigint() - t0) / 1e9;
const cpu = process.cpuUsage(cpu0);
process.stdout.write(JSON.stringify({ messages: counted, seconds: secs, client_cpu_s: (cpu.user + cpu.system) / 1e6, rate: counted / secs }) + "\n");
for (const s of sockets) s.close();
process.exit(0);
