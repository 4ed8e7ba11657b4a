// The cross-transport matrix: for every ordered pair (sender transport,
// receiver transport), one publish to a fresh room must reach the
// receiver's member exactly once, never a client of the same transport in
// another room, and never come back to the sender (itself a member of the
// room, so the "everyone but the sender" rule is what keeps it out; the
// HTTP API, a sender without a session, is no member). No client may see an
// error: an error envelope, a refused request, a connection lost.
import assert from "node:assert/strict";
import { SETTLE, freshNamespace, sleep, test, uid } from "./helpers.mjs";
import { TRANSPORTS } from "./clients.mjs";

const NS = freshNamespace("matrix");
const EVENT = "matrix";

for (const S of TRANSPORTS) {
  for (const R of TRANSPORTS) {
    const from = S.sender ?? S.name;
    test(`${from} → ${R.name}`, async (ctx) => {
      const room = `pair-${from}-${R.name}-${uid()}`;
      const member = ctx.track(await R.open({ ns: NS, room, label: `${R.name} member` }));
      const outsider = ctx.track(
        await R.open({ ns: NS, room: `${room}-elsewhere`, label: `${R.name} non-member` }),
      );
      const sender = ctx.track(await (S.openSender ?? S.open)({ ns: NS, room, label: `${from} sender` }));

      const payload = { id: uid(), from, to: R.name, text: 'héllo ✓ "q"\nline 2', n: [1, 2.5, null, true] };
      const ack = await sender.publish(room, EVENT, payload);
      assert.deepEqual(Object.keys(ack).sort(), ["delivered", "offset"], `publish ack ${JSON.stringify(ack)}`);
      assert.ok(Number.isInteger(ack.offset) && ack.offset > 0, `offset ${ack.offset}: a history offset`);
      // Recipients: the member; not the sender, not the non-member; a
      // poller is no recipient at all (it reads history).
      assert.equal(ack.delivered, R.sessionless ? 0 : 1, `delivered in ${JSON.stringify(ack)}`);

      const ours = (e) => e.type === "event" && e.event === EVENT;
      const got = await member.inbox.waitFor(ours, `the "${EVENT}" event from ${from}`);
      await sleep(SETTLE);
      assert.equal(member.inbox.filter(ours).length, 1, "exactly one copy at the member");
      assert.deepEqual(got.data, payload, "the payload, unchanged");
      if (R.plain) {
        assert.equal(got.room, room, "the event names its room");
        assert.equal(got.offset, ack.offset, "the event carries the acked offset");
        assert.equal("args" in got, false, "one argument travels as `data`");
      }
      if (R.name === "sse") {
        const frame = member.raw.find((ev) => ev.data.includes(payload.id));
        assert.equal(frame.event, EVENT, "the SSE event: field is the event name");
        assert.equal(frame.id, String(ack.offset), "the SSE id: field is the offset");
      }
      assert.deepEqual(outsider.inbox.filter(ours), [], "nothing at the non-member");
      // The API has no session to echo to: `delivered` (checked above) is
      // what shows it reached the member alone.
      if (sender.receives !== false) {
        assert.deepEqual(sender.inbox.filter(ours), [], "no echo to the sender");
      }
      for (const c of [member, outsider, sender]) {
        assert.deepEqual(c.problems(), [], `${c.label}: no error envelopes`);
      }
    });
  }
}
