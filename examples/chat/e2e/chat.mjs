// Browser test of the chat demo: Debian's chromium, driven by playwright-core
// (which never downloads a browser), talks to a running chat server.
//
//   node chat.mjs <server url> <screenshot dir>
//
// Normally run by chat_browser_test.go, which starts the server. It prints one
// line per step and exits non-zero on the first failure.
import { chromium } from "playwright-core";
import { mkdirSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";

const [url, shotDir] = process.argv.slice(2);
if (!url || !shotDir) {
  console.error("usage: node chat.mjs <server url> <screenshot dir>");
  process.exit(2);
}
mkdirSync(shotDir, { recursive: true });
for (const f of readdirSync(shotDir)) if (f.startsWith("chat-failure-")) rmSync(join(shotDir, f)); // from an earlier run
const executablePath = process.env.CHROMIUM || "/usr/bin/chromium";
const room = "go";

let lastStep = "start";
// After a refused connection (CONNECT_ERROR), engine.io-client starts its next
// poll before it handles the packet (socket.io-client defers it a tick), then
// closes the session; that poll may reach the server after the close and get
// 400 "Session ID unknown", as it would from Node's server. Tolerated only
// while a refusal is being tested.
let refusing = false;
const lateRefusedPoll = (r, body) =>
  refusing && r.status() === 400 && r.request().method() === "GET" &&
  r.url().includes("transport=polling") && body.includes("Session ID unknown");
const step = (msg) => { lastStep = msg; console.log(`ok - ${msg}`); };
const pageErrors = [];

// launch() gives the browser a fresh temporary profile (its own
// --user-data-dir, deleted on close); Playwright refuses that flag in args.
// The other flags keep Chromium quiet on a closed network.
const browser = await chromium.launch({
  executablePath,
  headless: true,
  args: [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
  ],
});

async function open(name, viewport = { width: 1100, height: 720 }) {
  const context = await browser.newContext({ viewport, deviceScaleFactor: 1 });
  const page = await context.newPage();
  page.setDefaultTimeout(10_000);
  page.on("pageerror", (err) => pageErrors.push(`${name}: ${err.message}`));
  page.on("console", (m) => {
    // Chromium logs every failed request; they are checked below instead.
    if (m.type() === "error" && !m.text().startsWith("Failed to load resource")) pageErrors.push(`${name} console: ${m.text()}`);
  });
  page.on("requestfailed", (r) => {
    if (!page.isClosed()) pageErrors.push(`${name} (after "${lastStep}"): ${r.method()} ${r.url()}: ${r.failure()?.errorText}`);
  });
  page.on("response", async (r) => {
    if (r.status() < 400) return;
    const body = await r.text().catch(() => "");
    if (lateRefusedPoll(r, body)) return;
    pageErrors.push(`${name} (after "${lastStep}"): ${r.request().method()} ${r.url()}: ${r.status()} ${body}`);
  });
  await page.goto(url);
  return { context, page };
}

async function login(page, nickname) {
  await page.fill("#nickname", nickname);
  await page.click("#login-button");
}

async function loginAndJoin(page, nickname) {
  await login(page, nickname);
  await page.locator("#app").waitFor({ state: "visible" });
  await page.locator("#rooms li", { hasText: `#${room}` }).locator("button").click();
  await page.locator("#room-title", { hasText: `#${room}` }).waitFor();
}

const text = (page, selector, hasText) => page.locator(selector, { hasText }).first().waitFor();

let alice, bob;
try {
  alice = await open("alice");
  step("page loaded with the official socket.io client");

  // The middleware refuses invalid nicknames with a CONNECT_ERROR.
  refusing = true;
  await login(alice.page, "no spaces!");
  await text(alice.page, "#login-error", "letters, digits");
  step("invalid nickname refused by the server middleware");

  await loginAndJoin(alice.page, "alice");
  step("alice joined #go");
  refusing = false;

  bob = await open("bob");
  refusing = true;
  await login(bob.page, "Alice");
  await text(bob.page, "#login-error", "already taken");
  await bob.page.screenshot({ path: join(shotDir, "chat-login.png") });
  step("duplicate nickname refused");
  await loginAndJoin(bob.page, "bob");
  step("bob joined #go");
  refusing = false;

  await text(alice.page, "#messages li.notice", "bob joined #go");
  await text(alice.page, "#members li", "bob");
  step("alice sees bob's join notice and bob in the member list");
  await alice.page.locator("#online-count", { hasText: /^2$/ }).waitFor();
  await bob.page.locator("#online-count", { hasText: /^2$/ }).waitFor();
  step("both see 2 users online");

  await alice.page.fill("#input", "Hello from alice!");
  await alice.page.press("#input", "Enter");
  await text(alice.page, "#messages li.msg.mine .state.ok", "✓");
  step("alice's message acknowledged (delivery confirmation)");
  await text(bob.page, "#messages li.msg[data-from=alice] .text", "Hello from alice!");
  step("bob received alice's message");

  await bob.page.locator("#input").pressSequentially("Hi alice, Go server here", { delay: 20 });
  await text(alice.page, "#typing", "bob is typing…");
  await alice.page.screenshot({ path: join(shotDir, "chat-typing.png") });
  step("alice sees \"bob is typing…\"");
  await bob.page.press("#input", "Enter");
  await text(alice.page, "#messages li.msg[data-from=bob] .text", "Hi alice, Go server here");
  await alice.page.locator("#typing", { hasText: /^$/ }).waitFor();
  step("alice received bob's message and the typing notice cleared");

  // Unread badge: a message in #go marks it for someone in another room.
  const carol = await open("carol", { width: 390, height: 760 }); // a phone
  await login(carol.page, "carol");
  await carol.page.locator("#app").waitFor({ state: "visible" });
  await carol.page.click("#menu"); // on a phone the room list slides in
  await alice.page.fill("#input", "Anyone else here?");
  await alice.page.press("#input", "Enter");
  await carol.page.locator(`#rooms li[data-room=${room}] .badge`, { hasText: "1" }).waitFor();
  step("carol (in #general) sees an unread badge on #go");

  // History for a late joiner.
  await carol.page.locator(`#rooms li[data-room=${room}] button`).click();
  await text(carol.page, "#messages li.msg[data-from=alice] .text", "Hello from alice");
  await text(carol.page, "#messages li.msg[data-from=bob] .text", "Hi alice, Go server here");
  await text(carol.page, "#messages li.separator", "earlier messages");
  await carol.page.screenshot({ path: join(shotDir, "chat-mobile.png"), animations: "disabled" });
  step("carol, joining late, got the room's history");
  await carol.context.close();
  await text(alice.page, "#messages li.notice", "carol left #go");
  step("carol's departure seen");

  await bob.page.screenshot({ path: join(shotDir, "chat-bob.png") });
  await bob.context.close();
  bob = null;
  await text(alice.page, "#messages li.notice", "bob left #go");
  await alice.page.locator("#online-count", { hasText: /^1$/ }).waitFor();
  step("alice sees bob's departure notice and 1 user online");

  if (pageErrors.length) throw new Error("errors in the pages:\n  " + pageErrors.join("\n  "));

  const shot = join(shotDir, "chat-alice.png");
  await alice.page.screenshot({ path: shot });
  step(`screenshot saved: ${shot}`);
} catch (err) {
  console.error(`FAIL: ${err.message}`);
  if (pageErrors.length) console.error("page errors:\n  " + pageErrors.join("\n  "));
  for (const [name, p] of [["alice", alice], ["bob", bob]]) {
    if (p) await p.page.screenshot({ path: join(shotDir, `chat-failure-${name}.png`) }).catch(() => {});
  }
  process.exitCode = 1;
} finally {
  await browser.close();
}
