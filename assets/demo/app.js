/*
 * Wirehub demo chat — the page logic. Talks to the server through our own
 * Socket.IO client (wirehub-client.js), namespace "/".
 *
 * Events: C→S join {nick, room} + ack, chat {text} + ack, typing bool,
 *         "my other event"; S→C news, presence, rooms, chat, typing.
 * All user-provided text is rendered with textContent, never as HTML.
 */
(() => {
  "use strict";

  const $ = (id) => document.getElementById(id);
  const ui = {
    status: $("status"), statusText: $("status-text"),
    rooms: $("rooms"), roomsEmpty: $("rooms-empty"), roomForm: $("room-form"), roomSwitch: $("room-switch"),
    members: $("members"), membersEmpty: $("members-empty"), membersCount: $("members-count"),
    joinView: $("join-view"), joinForm: $("join-form"), nick: $("nick"), room: $("room"),
    joinError: $("join-error"), joinButton: $("join-button"),
    chatView: $("chat-view"), roomTitle: $("room-title"), me: $("me"),
    messages: $("messages"), typing: $("typing"), chatForm: $("chat-form"), message: $("message"),
  };

  // ?transport=polling (or websocket) forces one transport; default: websocket, then polling.
  const forced = new URLSearchParams(location.search).get("transport");
  const transports = forced === "polling" || forced === "websocket" ? [forced] : ["websocket", "polling"];
  const socket = Wirehub.connect(undefined, { transports, ackTimeout: 10000 });
  window.wirehubSocket = socket; // handy in the devtools console

  const state = {
    nick: null,        // set once joined
    room: null,        // current room, null until joined
    members: [],
    typers: new Map(), // nick -> timer that expires the indicator
    rooms: [],
  };

  // ---------------------------------------------------------------- helpers

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  /** A stable hue per nickname, for avatars and names. */
  function hue(nick) {
    let h = 0;
    for (const ch of nick) h = (h * 31 + ch.codePointAt(0)) % 360;
    return h;
  }

  function avatar(nick) {
    const a = el("span", "avatar", [...nick][0].toUpperCase());
    a.style.setProperty("--hue", hue(nick));
    a.setAttribute("aria-hidden", "true");
    return a;
  }

  function formatTime(ts) {
    const d = new Date(ts);
    return d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  }

  /** Keeps the log pinned to the bottom unless the reader scrolled up. */
  function appendMessage(li) {
    const list = ui.messages;
    const atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 60;
    list.append(li);
    while (list.children.length > 500) list.firstElementChild.remove();
    if (atBottom) list.scrollTop = list.scrollHeight;
  }

  function systemLine(text, kind = "info") {
    const li = el("li", `system system-${kind}`, text);
    li.dataset.testid = "system-message";
    appendMessage(li);
  }

  function setStatus(kind, text) {
    ui.status.dataset.state = kind;
    ui.statusText.textContent = text;
  }

  // --------------------------------------------------------------- rendering

  function renderMessage(msg) {
    const li = el("li", "msg");
    li.dataset.testid = "message";
    li.dataset.id = msg.id;
    if (msg.nick === state.nick) li.classList.add("mine");
    li.append(avatar(msg.nick));
    const body = el("div", "msg-body");
    const meta = el("div", "msg-meta");
    const nick = el("span", "msg-nick", msg.nick);
    nick.style.setProperty("--hue", hue(msg.nick));
    const time = el("time", "msg-time", formatTime(msg.ts));
    time.dateTime = new Date(msg.ts).toISOString();
    meta.append(nick, time);
    body.append(meta, el("p", "msg-text", msg.text));
    li.append(body);
    appendMessage(li);
  }

  function renderMembers() {
    ui.members.replaceChildren();
    const sorted = [...state.members].sort((a, b) => a.localeCompare(b));
    for (const nick of sorted) {
      const li = el("li", "member");
      li.dataset.testid = "member";
      li.append(avatar(nick), el("span", "member-nick", nick));
      if (nick === state.nick) li.append(el("span", "you", "you"));
      ui.members.append(li);
    }
    ui.membersCount.textContent = state.room ? String(state.members.length) : "";
    ui.membersEmpty.hidden = state.room !== null;
  }

  function renderRooms() {
    ui.rooms.replaceChildren();
    for (const { room, members } of state.rooms) {
      const li = el("li");
      const button = el("button", "room");
      button.type = "button";
      button.dataset.room = room;
      button.append(el("span", "room-name", `#${room}`), el("span", "badge", String(members)));
      button.setAttribute("aria-label", `${room}, ${members} online`);
      if (room === state.room) button.setAttribute("aria-current", "true");
      button.addEventListener("click", () => {
        if (state.nick && room !== state.room) join(state.nick, room);
        else if (!state.nick) { ui.room.value = room; ui.nick.focus(); }
      });
      li.append(button);
      ui.rooms.append(li);
    }
    ui.roomsEmpty.hidden = state.rooms.length > 0;
  }

  function renderTyping() {
    const names = [...state.typers.keys()];
    let text = "";
    if (names.length === 1) text = `${names[0]} is typing…`;
    else if (names.length === 2) text = `${names[0]} and ${names[1]} are typing…`;
    else if (names.length > 2) text = "Several people are typing…";
    ui.typing.textContent = text;
  }

  function clearTypers() {
    for (const timer of state.typers.values()) clearTimeout(timer);
    state.typers.clear();
    renderTyping();
  }

  // ------------------------------------------------------------ join / chat

  async function join(nick, room, { quiet = false } = {}) {
    ui.joinError.textContent = "";
    ui.joinButton.disabled = true;
    let res;
    try {
      res = await socket.emitWithAck("join", { nick, room });
    } catch (err) {
      res = { ok: false, error: "the server did not answer, try again" };
    } finally {
      ui.joinButton.disabled = false;
    }
    if (!res || !res.ok) {
      const error = (res && res.error) || "could not join";
      if (state.room) systemLine(`Could not join #${room}: ${error}`, "error");
      else ui.joinError.textContent = error;
      return;
    }
    const switched = state.room !== res.room;
    const fromOtherRoom = switched && state.room !== null;
    stopTyping();
    state.nick = nick.trim();
    state.room = res.room;
    state.members = Array.isArray(res.members) ? res.members : [state.nick];
    if (fromOtherRoom) ui.messages.replaceChildren(); // a new room, a new conversation
    if (switched) clearTypers();
    ui.joinView.hidden = true;
    ui.chatView.hidden = false;
    ui.roomForm.hidden = false;
    ui.roomTitle.textContent = `#${state.room}`;
    ui.me.textContent = state.nick;
    ui.message.placeholder = `Message #${state.room}`;
    document.title = `#${state.room} · Wirehub chat`;
    renderMembers();
    renderRooms();
    if (!quiet || switched) systemLine(`You joined #${state.room} as ${state.nick}.`);
    ui.message.focus();
  }

  ui.joinForm.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const nick = ui.nick.value.trim();
    const room = ui.room.value.trim();
    if (!nick) { ui.joinError.textContent = "Please choose a nickname."; ui.nick.focus(); return; }
    if (!/^[A-Za-z0-9_-]{1,32}$/.test(room)) {
      ui.joinError.textContent = "Room names use 1–32 letters, digits, “_” or “-”.";
      ui.room.focus();
      return;
    }
    join(nick, room);
  });

  ui.roomForm.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const room = ui.roomSwitch.value.trim();
    if (!room || !state.nick) return;
    ui.roomSwitch.value = "";
    join(state.nick, room);
  });

  ui.chatForm.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const text = ui.message.value.trim();
    if (!text) return;
    stopTyping();
    ui.message.value = "";
    let res;
    try {
      res = await socket.emitWithAck("chat", { text });
    } catch (err) {
      res = { ok: false, error: "not delivered (no answer from the server)" };
    }
    if (!res || !res.ok) {
      systemLine(`Message not sent: ${(res && res.error) || "unknown error"}`, "error");
      if (!ui.message.value) ui.message.value = text; // give the text back
    }
  });

  // Typing indicator: "true" when typing starts (repeated every 3 s while it
  // goes on), "false" after 2 s without a keystroke or when the message is sent.
  let typingSent = false;
  let typingSentAt = 0;
  let idleTimer = null;

  function stopTyping() {
    clearTimeout(idleTimer);
    if (typingSent) {
      typingSent = false;
      if (socket.connected) socket.emit("typing", false);
    }
  }

  ui.message.addEventListener("input", () => {
    if (!state.room || !socket.connected) return;
    if (ui.message.value.trim() === "") { stopTyping(); return; }
    const now = Date.now();
    if (!typingSent || now - typingSentAt > 3000) {
      socket.emit("typing", true);
      typingSent = true;
      typingSentAt = now;
    }
    clearTimeout(idleTimer);
    idleTimer = setTimeout(stopTyping, 2000);
  });

  // ---------------------------------------------------------- server events

  socket.on("connect", () => {
    setStatus("connected", `connected · ${socket.transport}`);
    // After a reconnect the server has forgotten us: join the room again.
    if (state.nick && state.room) {
      systemLine("Reconnected.");
      join(state.nick, state.room, { quiet: true });
    }
  });

  socket.on("disconnect", (reason) => {
    setStatus("disconnected", "disconnected");
    clearTypers();
    typingSent = false;
    if (state.room) systemLine(`Connection lost (${reason}). Reconnecting…`, "error");
  });

  socket.on("connect_error", () => {
    setStatus("disconnected", socket.active ? "cannot reach the server" : "connection refused");
  });

  socket.on("reconnect_attempt", (attempt, delay) => {
    setStatus("connecting", `reconnecting in ${Math.max(1, Math.round(delay / 1000))} s…`);
  });

  socket.on("news", (data) => {
    const text = data && typeof data === "object" && "hello" in data ? `hello ${data.hello}` : JSON.stringify(data);
    systemLine(`Server says: ${text}`);
    socket.emit("my other event", { my: "data" });
  });

  socket.on("rooms", (rooms) => {
    if (!Array.isArray(rooms)) return;
    state.rooms = rooms.filter((r) => r && typeof r.room === "string");
    renderRooms();
  });

  socket.on("presence", (data) => {
    if (!data || data.room !== state.room || !Array.isArray(data.members)) return;
    const before = new Set(state.members);
    const after = new Set(data.members);
    for (const nick of after) if (!before.has(nick)) systemLine(`${nick} joined.`);
    for (const nick of before) {
      if (!after.has(nick)) {
        systemLine(`${nick} left.`);
        if (state.typers.has(nick)) { clearTimeout(state.typers.get(nick)); state.typers.delete(nick); }
      }
    }
    state.members = data.members;
    renderMembers();
    renderTyping();
  });

  socket.on("chat", (msg) => {
    if (!msg || msg.room !== state.room) return;
    if (state.typers.has(msg.nick)) {
      clearTimeout(state.typers.get(msg.nick));
      state.typers.delete(msg.nick);
      renderTyping();
    }
    renderMessage(msg);
  });

  socket.on("typing", (data) => {
    if (!data || typeof data.nick !== "string" || data.nick === state.nick) return;
    clearTimeout(state.typers.get(data.nick));
    if (data.typing) {
      // Expire on our own in case the "false" never comes.
      state.typers.set(data.nick, setTimeout(() => {
        state.typers.delete(data.nick);
        renderTyping();
      }, 6000));
    } else {
      state.typers.delete(data.nick);
    }
    renderTyping();
  });

  renderRooms();
  renderMembers();
})();
