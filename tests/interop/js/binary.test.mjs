// Binary payloads (Buffer) at top level and nested, over websocket and polling.
import assert from "node:assert/strict";
import { test, connected, echo, emitAck } from "./helpers.mjs";

const bytes = (...xs) => Buffer.from(xs);
const allBytes = () => Buffer.from(Array.from({ length: 256 }, (_, i) => i));

const CASES = {
  "top-level Buffer": () => [allBytes()],
  "several top-level Buffers and an empty one": () => [bytes(1, 2, 3), Buffer.alloc(0), bytes(255)],
  "Buffer nested in an object": () => [{ file: bytes(0, 1, 2), name: "f.bin" }],
  "Buffers nested in arrays and objects": () => [
    { list: [bytes(1), { deep: [bytes(2, 2), { deeper: bytes(3, 3, 3) }] }], meta: { ok: true } },
  ],
  "mixed JSON and binary arguments": () => ["text", 7, bytes(9, 8, 7), { b: bytes(6) }, [bytes(5), null], false],
};

for (const transports of [["websocket"], ["polling"]]) {
  const tn = transports[0];
  for (const [name, make] of Object.entries(CASES)) {
    test(`${tn}: ${name} (echo + ack)`, async ({ connect }) => {
      const socket = connect({ transports });
      await connected(socket);
      const args = make();
      const back = await echo(socket, ...args);
      assert.deepEqual(back, args);
      assert.ok(Buffer.isBuffer(findFirstBinary(back)), "binary comes back as a Buffer");
      assert.deepEqual(await emitAck(socket, "message-with-ack", ...make()), make());
    });
  }

  test(`${tn}: 100 KB random Buffer round-trips byte-exact`, async ({ connect }) => {
    const socket = connect({ transports });
    await connected(socket);
    const buf = Buffer.alloc(100_000);
    for (let i = 0; i < buf.length; i++) buf[i] = (i * 7919 + 13) & 0xff;
    const [back] = await echo(socket, buf);
    assert.ok(Buffer.isBuffer(back));
    assert.ok(back.equals(buf), "payload differs");
  });
}

function findFirstBinary(value) {
  if (Buffer.isBuffer(value) || value instanceof ArrayBuffer) return value;
  if (value && typeof value === "object") {
    for (const v of Object.values(value)) {
      const found = findFirstBinary(v);
      if (found !== undefined) return found;
    }
  }
  return undefined;
}
