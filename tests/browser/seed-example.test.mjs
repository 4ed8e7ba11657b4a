// The Socket.IO example from the project's source notes, run as written with
// the official client against `wirehub serve`: on connection the server
// emits `news` {hello: "world"}; the client answers with `my other event`.
import { test } from "node:test";
import assert from "node:assert/strict";
import { io } from "socket.io-client";

const URL = process.env.SERVER_URL ?? "http://127.0.0.1:3000";

for (const transports of [["websocket"], ["polling"], ["polling", "websocket"]]) {
  test(`news / my other event over ${transports.join("→")}`, { timeout: 15000 }, async () => {
    const socket = io(URL, { transports, reconnection: false, forceNew: true });
    try {
      const news = await new Promise((resolve, reject) => {
        socket.on("news", resolve);
        socket.on("connect_error", reject);
      });
      assert.deepEqual(news, { hello: "world" });
      socket.emit("my other event", { my: "data" });
      // The server logs it; the connection stays up and keeps serving events.
      const rooms = await socket.timeout(5000).emitWithAck("join", { nick: "seed", room: "notes" });
      assert.equal(rooms.ok, true);
      assert.deepEqual(rooms.members, ["seed"]);
    } finally {
      socket.disconnect();
    }
  });
}
