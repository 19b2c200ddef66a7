// The chat page. It uses the official socket.io-client (window.io), served by
// the Go program from node_modules. Every user-supplied string goes through
// textContent, never innerHTML.
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);
  const el = (tag, cls, text) => {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  };

  const ui = {
    login: $("login"), loginForm: $("login-form"), nickname: $("nickname"),
    loginButton: $("login-button"), loginError: $("login-error"),
    app: $("app"), sidebar: $("sidebar"), menu: $("menu"),
    me: $("me"), meAvatar: $("me-avatar"), online: $("online-count"),
    rooms: $("rooms"), newRoom: $("new-room"), newRoomName: $("new-room-name"), roomError: $("room-error"),
    members: $("members"), title: $("room-title"), roomCount: $("room-count"), status: $("status"),
    messages: $("messages"), typing: $("typing"), composer: $("composer"), input: $("input"),
  };

  const state = {
    nickname: "",
    room: (location.hash.slice(1) || "general").toLowerCase(),
    rooms: [],
    unread: {},
    members: new Set(),
    typing: new Map(), // nickname -> timer clearing the notice
  };

  const socket = io({ autoConnect: false, auth: {} });

  // ---- helpers -------------------------------------------------------------

  const hue = (s) => {
    let h = 0;
    for (const c of s) h = (h * 31 + c.codePointAt(0)) % 360;
    return h;
  };
  const avatar = (nick, cls = "avatar") => {
    const a = el("span", cls, [...nick][0] || "?");
    a.style.setProperty("--hue", hue(nick));
    return a;
  };
  const clock = (ts) => {
    const t = el("time", "", new Date(ts).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" }));
    t.dateTime = new Date(ts).toISOString();
    t.title = new Date(ts).toLocaleString();
    return t;
  };
  const nearBottom = () => ui.messages.scrollHeight - ui.messages.scrollTop - ui.messages.clientHeight < 80;
  const scrollDown = () => { ui.messages.scrollTop = ui.messages.scrollHeight; };
  const append = (node, force) => {
    const stick = force || nearBottom();
    ui.messages.querySelector(".empty")?.remove();
    ui.messages.append(node);
    if (stick) scrollDown();
  };

  // ---- rendering -----------------------------------------------------------

  function messageNode(m) {
    const li = el("li", "msg" + (m.from === state.nickname ? " mine" : ""));
    li.dataset.from = m.from;
    if (m.id) li.dataset.id = m.id;
    const body = el("div", "body");
    const meta = el("div", "meta");
    meta.append(el("span", "from", m.from), clock(m.ts));
    body.append(meta, el("div", "text", m.text));
    li.append(avatar(m.from), body);
    return li;
  }

  function noticeNode(n) {
    const li = el("li", "notice");
    li.dataset.kind = n.kind;
    li.dataset.nickname = n.nickname;
    li.append(`${n.nickname} ${n.kind === "joined" ? "joined" : "left"} #${n.room} · `, clock(n.ts));
    return li;
  }

  function renderRooms() {
    ui.rooms.replaceChildren(...state.rooms.map((r) => {
      const li = el("li", r.name === state.room ? "active" : "");
      li.dataset.room = r.name;
      const b = el("button");
      b.type = "button";
      b.append(el("span", "name", "#" + r.name));
      if (state.unread[r.name]) b.append(el("span", "badge", String(state.unread[r.name])));
      if (r.users) b.append(el("span", "users", String(r.users)));
      b.title = `${r.users} user${r.users === 1 ? "" : "s"}`;
      b.addEventListener("click", () => join(r.name));
      li.append(b);
      return li;
    }));
    const cur = state.rooms.find((r) => r.name === state.room);
    ui.roomCount.textContent = cur ? `${cur.users} here` : "";
  }

  function renderMembers() {
    const names = [...state.members].sort((a, b) => a.localeCompare(b));
    ui.members.replaceChildren(...names.map((n) => {
      const li = el("li");
      li.append(avatar(n), el("span", "", n + (n === state.nickname ? " (you)" : "")));
      return li;
    }));
  }

  function renderTyping() {
    const names = [...state.typing.keys()];
    ui.typing.textContent =
      names.length === 0 ? "" :
      names.length === 1 ? `${names[0]} is typing…` :
      names.length === 2 ? `${names[0]} and ${names[1]} are typing…` :
      "Several people are typing…";
  }

  function setTyping(nick, typing) {
    clearTimeout(state.typing.get(nick));
    state.typing.delete(nick);
    if (typing) state.typing.set(nick, setTimeout(() => setTyping(nick, false), 5000));
    renderTyping();
  }

  function setStatus(text, bad) {
    ui.status.textContent = text;
    ui.status.classList.toggle("bad", !!bad);
  }

  // ---- actions -------------------------------------------------------------

  function join(name) {
    ui.roomError.textContent = "";
    ui.sidebar.classList.remove("open");
    socket.timeout(5000).emit("join", name, (err, reply) => {
      if (err) { ui.roomError.textContent = "The server did not answer."; return; }
      if (reply.error) { ui.roomError.textContent = reply.error; return; }
      state.room = reply.room;
      state.unread[reply.room] = 0;
      state.members = new Set(reply.members);
      for (const t of state.typing.values()) clearTimeout(t);
      state.typing.clear();
      history.replaceState(null, "", "#" + reply.room);
      ui.title.textContent = "#" + reply.room;
      ui.input.placeholder = `Message #${reply.room}`;
      ui.messages.replaceChildren();
      if (reply.history.length) {
        for (const m of reply.history) ui.messages.append(messageNode(m));
        const sep = el("li", "separator");
        sep.append(el("span", "", "earlier messages above"));
        ui.messages.append(sep);
      } else {
        ui.messages.append(el("li", "empty", `This is the beginning of #${reply.room}. Say hi!`));
      }
      scrollDown();
      renderRooms();
      renderMembers();
      renderTyping();
      ui.input.focus();
    });
  }

  // Typing notices: "true" on the first keystroke, "false" after 2 s of quiet.
  let typingTimer = null;
  function typed() {
    if (!typingTimer) socket.emit("typing", true);
    clearTimeout(typingTimer);
    typingTimer = setTimeout(stopTyping, 2000);
  }
  function stopTyping() {
    if (typingTimer) socket.emit("typing", false);
    clearTimeout(typingTimer);
    typingTimer = null;
  }

  function send(text) {
    stopTyping();
    const node = messageNode({ from: state.nickname, text, ts: Date.now() });
    const mark = el("span", "state", "sending…");
    node.querySelector(".meta").append(mark);
    append(node, true);
    // The acknowledgement is the delivery confirmation.
    socket.timeout(5000).emit("message", text, (err, reply) => {
      if (err || reply.error) {
        mark.textContent = "✗ not delivered" + (reply?.error ? `: ${reply.error}` : "");
        mark.className = "state failed";
        return;
      }
      node.dataset.id = reply.id;
      node.querySelector("time").replaceWith(clock(reply.ts));
      mark.textContent = "✓";
      mark.title = "delivered";
      mark.className = "state ok";
    });
  }

  // ---- socket events -------------------------------------------------------

  socket.on("connect", () => {
    ui.login.hidden = true;
    ui.app.hidden = false;
    setStatus("");
    join(state.room);
  });

  socket.on("connect_error", (err) => {
    if (socket.active) {
      setStatus("reconnecting…", true); // a network problem: the client retries
      return;
    }
    // Refused by the server's middleware (e.g. nickname taken).
    ui.app.hidden = true;
    ui.login.hidden = false;
    ui.loginButton.disabled = false;
    ui.loginError.textContent = err.message;
    ui.nickname.focus();
  });

  socket.on("disconnect", (reason) => {
    setStatus(reason === "io server disconnect" ? "disconnected by the server" : "reconnecting…", true);
  });

  // The server refused the nickname after all (two people took it at once).
  socket.on("fatal", (message) => {
    ui.app.hidden = true;
    ui.login.hidden = false;
    ui.loginButton.disabled = false;
    ui.loginError.textContent = message;
  });

  socket.on("welcome", ({ nickname, rooms }) => {
    state.nickname = nickname;
    state.rooms = rooms;
    ui.me.textContent = nickname;
    ui.meAvatar.replaceWith(ui.meAvatar = avatar(nickname));
    ui.meAvatar.id = "me-avatar";
    renderRooms();
  });

  socket.on("online", (n) => { ui.online.textContent = n; });

  socket.on("rooms", (rooms) => { state.rooms = rooms; renderRooms(); });

  socket.on("unread", (room) => {
    if (room === state.room) return;
    state.unread[room] = (state.unread[room] || 0) + 1;
    renderRooms();
  });

  socket.on("message", (m) => {
    if (m.room !== state.room) return;
    setTyping(m.from, false);
    append(messageNode(m));
  });

  socket.on("notice", (n) => {
    if (n.room !== state.room) return;
    if (n.kind === "joined") state.members.add(n.nickname);
    else { state.members.delete(n.nickname); setTyping(n.nickname, false); }
    renderMembers();
    append(noticeNode(n));
  });

  socket.on("typing", ({ nickname, typing }) => setTyping(nickname, typing));

  // ---- DOM events ----------------------------------------------------------

  ui.nickname.value = sessionStorage.getItem("nickname") || "";
  ui.loginForm.addEventListener("submit", (e) => {
    e.preventDefault();
    const nickname = ui.nickname.value.trim();
    if (!nickname) return;
    sessionStorage.setItem("nickname", nickname);
    ui.loginError.textContent = "";
    ui.loginButton.disabled = true;
    socket.auth = { nickname };
    socket.connect();
  });

  ui.composer.addEventListener("submit", (e) => {
    e.preventDefault();
    const text = ui.input.value.trim();
    if (!text) return;
    ui.input.value = "";
    send(text);
  });
  ui.input.addEventListener("input", () => { if (ui.input.value) typed(); else stopTyping(); });

  ui.newRoom.addEventListener("submit", (e) => {
    e.preventDefault();
    const name = ui.newRoomName.value.trim();
    if (!name) return;
    ui.newRoomName.value = "";
    join(name);
  });

  ui.menu.addEventListener("click", () => ui.sidebar.classList.toggle("open"));
})();
