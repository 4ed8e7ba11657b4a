// Stream readers over `fetch` response bodies: Server-Sent Events (Node 20
// has no EventSource) and NDJSON. Both split lines incrementally, so an
// event or line cut across chunks is reassembled.

/**
 * Yields the lines of a byte stream (`\r\n`, `\n` or `\r` ends, as the SSE
 * spec allows). A trailing unterminated line is yielded at the end.
 */
async function* lines(body) {
  const decoder = new TextDecoder();
  let buf = "";
  for await (const chunk of body) {
    buf += decoder.decode(chunk, { stream: true });
    let m;
    while ((m = /\r\n|\r|\n/.exec(buf))) {
      // A lone "\r" at the end may be the first half of "\r\n".
      if (m[0] === "\r" && m.index === buf.length - 1) break;
      yield buf.slice(0, m.index);
      buf = buf.slice(m.index + m[0].length);
    }
  }
  buf += decoder.decode();
  if (buf) yield buf;
}

/**
 * Reads a `text/event-stream` body and calls `onEvent({event, data, id,
 * lastEventId})` per dispatched event (`id`: the block's own `id:` field
 * or null; `lastEventId`: the spec's running value), `onComment(text)` per
 * comment line and `onRetry(ms)` per `retry:` field. Follows the HTML
 * spec's parsing rules (one optional space after the colon, `data:` lines
 * joined with "\n", no dispatch without data).
 */
export async function readSse(body, { onEvent, onComment = () => {}, onRetry = () => {} }) {
  let data = [];
  let event = "";
  let id = null;
  let lastEventId = "";
  for await (const line of lines(body)) {
    if (line === "") {
      if (data.length > 0) {
        onEvent({ event: event || "message", data: data.join("\n"), id, lastEventId });
      }
      data = [];
      event = "";
      id = null;
      continue;
    }
    if (line.startsWith(":")) {
      onComment(line.slice(1).replace(/^ /, ""));
      continue;
    }
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
    if (field === "data") data.push(value);
    else if (field === "event") event = value;
    else if (field === "id" && !value.includes("\0")) id = lastEventId = value;
    else if (field === "retry" && /^\d+$/.test(value)) onRetry(Number(value));
  }
}

/** Reads an NDJSON body and calls `onLine(value)` per non-empty line. */
export async function readNdjson(body, onLine) {
  for await (const line of lines(body)) {
    if (line.trim() !== "") onLine(JSON.parse(line));
  }
}
