/*
 * Wirehub demo chat — the page logic, namespace "/". The user picks how the
 * page talks to the server (the selector, or ?via=socketio|ws|sse|sockjs|poll):
 *   socketio  our own Socket.IO client (wirehub-client.js); ?transport=
 *             polling|websocket forces one Engine.IO transport
 *   ws, sse   plain envelopes over WebSocket or Server-Sent Events
 *             (plain-client.js): full chat participants
 *   sockjs    plain envelopes as SockJS messages (sockjs-client.js:
 *             WebSocket, else xhr polling): a full chat participant
 *   poll      long polling of the room's history: watches, cannot post
 * Every client has the same shape (on, emit, emitWithAck, connected,
 * transport, disconnect), so the chat logic below does not care which.
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
    sendButton: $("send-button"), watchNote: $("watch-note"),
    via: $("via"), joinTitle: $("join-title"), joinIntro: $("join-intro"), nickField: $("nick-field"),
  };

  const VIAS = { socketio: "Socket.IO", ws: "WebSocket", sse: "SSE", sockjs: "SockJS", poll: "Long polling" };
  const params = new URLSearchParams(location.search);
  let via = params.get("via") in VIAS ? params.get("via") : "socketio";
  // ?transport=polling (or websocket) forces one transport; default: websocket, then polling.
  const forced = params.get("transport");
  const transports = forced === "polling" || forced === "websocket" ? [forced] : ["websocket", "polling"];
  const JOIN_INTRO = ui.joinIntro.textContent;
  const VALID_ROOM = /^[A-Za-z0-9_-]{1,32}$/; // as the server checks it

  // Chat events as they arrived, for the devtools console and the tests:
  // "replayed" counts messages already shown that a long-polling watcher's
  // catch-up on the room's history hands out again (expected, not shown
  // twice); "duplicates" any other message delivered again (a fault).
  const stats = (window.wirehubStats = { chat: 0, duplicates: 0, replayed: 0 });

  const state = {
    nick: null,        // set once joined
    room: null,        // current room, null until joined
    members: [],
    typers: new Map(), // nick -> timer that expires the indicator
    rooms: [],
  };

  let socket = null; // the current client, see useTransport()

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
        if ((state.nick || socket.readOnly) && room !== state.room) join(state.nick, room);
        else if (!state.nick) { ui.room.value = room; ui.nick.focus(); }
      });
      li.append(button);
      ui.rooms.append(li);
    }
    ui.roomsEmpty.textContent = socket && socket.readOnly && state.rooms.length === 0
      ? "The room list needs a session: long polling only reads rooms you name."
      : "No active rooms yet.";
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
    if (socket.readOnly) return watch(room, { quiet });
    const client = socket;
    ui.joinError.textContent = "";
    ui.joinButton.disabled = true;
    let res;
    try {
      // SSE follows the room it resumes (a new session): not for a name the server refuses.
      if (client.watch && VALID_ROOM.test(room)) await client.watch(room);
      res = await client.emitWithAck("join", { nick, room });
    } catch (err) {
      res = { ok: false, error: "the server did not answer, try again" };
    } finally {
      ui.joinButton.disabled = false;
    }
    if (client !== socket) return; // the user switched transport meanwhile
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
    showChat();
    if (!quiet || switched) systemLine(`You joined #${state.room} as ${state.nick}.`);
    ui.message.focus();
  }

  /** Long polling: follow a room's messages without being a member. */
  async function watch(room, { quiet = false } = {}) {
    if (!VALID_ROOM.test(room)) {
      const error = "room names use 1–32 letters, digits, “_” or “-”";
      if (state.room) systemLine(`Cannot watch #${room}: ${error}`, "error");
      else ui.joinError.textContent = error;
      return;
    }
    const switched = state.room !== room;
    if (switched && state.room !== null) ui.messages.replaceChildren();
    if (switched) { clearTypers(); state.members = []; }
    state.room = room;
    showChat();
    if (!quiet || switched) {
      systemLine(`Watching #${room} over long polling, from its recent history. Switch transport to post.`);
    }
    ui.joinError.textContent = "";
    await socket.watch(room);
  }

  function showChat() {
    ui.joinView.hidden = true;
    ui.chatView.hidden = false;
    ui.roomForm.hidden = false;
    ui.roomTitle.textContent = `#${state.room}`;
    document.title = `#${state.room} · Wirehub chat`;
    renderMode();
    renderMembers();
    renderRooms();
  }

  /** Back to the join form, e.g. a watcher switched to a transport that posts. */
  function showJoin(room) {
    state.room = null;
    state.members = [];
    ui.messages.replaceChildren();
    ui.room.value = room;
    ui.chatView.hidden = true;
    ui.joinView.hidden = false;
    ui.roomForm.hidden = true;
    document.title = "Wirehub chat";
    renderMode();
    renderMembers();
    renderRooms();
    ui.nick.focus();
  }

  /** What depends on whether the transport can post. */
  function renderMode() {
    const readOnly = socket.readOnly === true;
    ui.via.value = via;
    ui.nickField.hidden = readOnly;
    ui.joinTitle.textContent = readOnly ? "Watch a room" : "Join the conversation";
    ui.joinIntro.textContent = readOnly
      ? "Long polling is receive-only: you see a room's messages and who is there, but cannot post. Switch transport to post."
      : JOIN_INTRO;
    ui.joinButton.textContent = readOnly ? "Watch room" : "Join room";
    ui.watchNote.hidden = !readOnly;
    ui.message.disabled = readOnly;
    ui.sendButton.disabled = readOnly;
    ui.message.placeholder = readOnly
      ? "watching — long polling is receive-only; switch transport to post"
      : `Message #${state.room || ""}`;
    ui.me.textContent = readOnly ? "watching (receive-only)" : state.nick || "";
  }

  ui.joinForm.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const nick = ui.nick.value.trim();
    const room = ui.room.value.trim();
    if (!nick && !socket.readOnly) { ui.joinError.textContent = "Please choose a nickname."; ui.nick.focus(); return; }
    if (!VALID_ROOM.test(room)) {
      ui.joinError.textContent = "Room names use 1–32 letters, digits, “_” or “-”.";
      ui.room.focus();
      return;
    }
    join(nick, room);
  });

  ui.roomForm.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const room = ui.roomSwitch.value.trim();
    if (!room || !(state.nick || socket.readOnly)) return;
    ui.roomSwitch.value = "";
    join(state.nick, room);
  });

  ui.chatForm.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const text = ui.message.value.trim();
    if (!text || socket.readOnly) return;
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
      if (socket.connected && !socket.readOnly) socket.emit("typing", false);
    }
  }

  ui.message.addEventListener("input", () => {
    if (!state.room || !socket.connected || socket.readOnly) return;
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

  /** The chat's listeners, on one client; a replaced client loses them all. */
  function attach(client) {
    let switching = true; // the first "connect" follows a transport switch or the page load
    let greeted = false; // SSE opens a new session to follow a room: greet once per client

    client.on("connect", () => {
      setStatus("connected", `${client.readOnly ? "watching" : "connected"} · ${client.transport}`);
      const first = switching;
      switching = false;
      if (client.readOnly || !state.room) return; // a watcher is driven by watch()
      if (!state.nick) { showJoin(state.room); return; } // a watcher that may now post
      // After a reconnect (or on a new transport) the server does not know us: join again.
      systemLine(first ? `Now on ${VIAS[via]}.` : "Reconnected.");
      join(state.nick, state.room, { quiet: true });
    });

    client.on("disconnect", (reason) => {
      setStatus("disconnected", "disconnected");
      clearTypers();
      typingSent = false;
      if (state.room) systemLine(`Connection lost (${reason}). Reconnecting…`, "error");
    });

    client.on("connect_error", () => {
      setStatus("disconnected", client.active ? "cannot reach the server" : "connection refused");
    });

    client.on("reconnect_attempt", (attempt, delay) => {
      setStatus("connecting", `reconnecting in ${Math.max(1, Math.round(delay / 1000))} s…`);
    });

    // SSE: the browser reconnected with Last-Event-ID and the server replayed what we missed.
    client.on("replayed", (count, lastEventId) => {
      if (!lastEventId) return;
      systemLine(`Resumed after event ${lastEventId}: ${count} missed ${count === 1 ? "event" : "events"} replayed.`);
    });

    client.on("truncated", () => {
      systemLine("Some messages were dropped from the room's history before they could be read.", "error");
    });

    client.on("news", (data) => {
      const text = data && typeof data === "object" && "hello" in data ? `hello ${data.hello}` : JSON.stringify(data);
      if (!greeted) systemLine(`Server says: ${text}`);
      greeted = true;
      if (!client.readOnly) client.emit("my other event", { my: "data" });
    });

    client.on("rooms", (rooms) => {
      if (!Array.isArray(rooms)) return;
      state.rooms = rooms.filter((r) => r && typeof r.room === "string");
      renderRooms();
    });

    client.on("presence", (data) => {
      if (!data || data.room !== state.room || !Array.isArray(data.members)) return;
      // A watcher catching up on history learns who is there, without a line per change.
      if (!client.catchingUp) {
        const before = new Set(state.members);
        const after = new Set(data.members);
        for (const nick of after) if (!before.has(nick)) systemLine(`${nick} joined.`);
        for (const nick of before) if (!after.has(nick)) systemLine(`${nick} left.`);
      }
      for (const nick of state.typers.keys()) {
        if (!data.members.includes(nick)) { clearTimeout(state.typers.get(nick)); state.typers.delete(nick); }
      }
      state.members = data.members;
      renderMembers();
      renderTyping();
    });

    client.on("chat", (msg) => {
      if (!msg || msg.room !== state.room) return;
      stats.chat++;
      // History (a watcher's catch-up, an SSE resume) may hold messages already shown.
      if (msg.id !== undefined && ui.messages.querySelector(`[data-id="${CSS.escape(String(msg.id))}"]`)) {
        if (client.catchingUp) stats.replayed++;
        else stats.duplicates++;
        return;
      }
      if (state.typers.has(msg.nick)) {
        clearTimeout(state.typers.get(msg.nick));
        state.typers.delete(msg.nick);
        renderTyping();
      }
      renderMessage(msg);
    });

    client.on("typing", (data) => {
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
  }

  // -------------------------------------------------------- transport choice

  function createClient() {
    if (via === "socketio") return Wirehub.connect(undefined, { transports, ackTimeout: 10000 });
    return WirehubPlain.connect(via, { room: state.room, ackTimeout: 10000, autoConnect: false });
  }

  /** (Re)connects with the transport `via` names; the room is joined (or watched) again. */
  function useTransport() {
    if (socket) {
      stopTyping();
      socket.off(); // the old client's events no longer reach the page
      socket.disconnect();
    }
    clearTypers();
    socket = createClient();
    window.wirehubSocket = socket; // handy in the devtools console
    attach(socket);
    if (!socket.active) socket.connect();
    if (socket.readOnly) state.rooms = []; // it would go stale: no session, no "rooms" events
    renderMode();
    renderRooms();
    if (socket.readOnly) {
      setStatus("connecting", state.room ? "long polling…" : "long polling · pick a room to watch");
      if (state.room) watch(state.room, { quiet: true });
    } else {
      setStatus("connecting", "connecting…");
    }
  }

  ui.via.addEventListener("change", () => {
    if (!(ui.via.value in VIAS) || ui.via.value === via) return;
    via = ui.via.value;
    const url = new URL(location.href);
    url.searchParams.set("via", via);
    history.replaceState(null, "", url);
    if (state.room) systemLine(`Switching to ${VIAS[via]}…`);
    useTransport();
  });

  useTransport();

  renderRooms();
  renderMembers();
})();
