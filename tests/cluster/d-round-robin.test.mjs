// Scenario d: no sticky sessions. 2 wirehub nodes (Redis adapter, random key)
// behind rr-proxy.mjs, which sends every HTTP request and every WebSocket
// upgrade to the next backend in turn. Through it: socket.io-client and
// python-socketio, polling only and polling + upgrade.
//
// Control first: the same checks through the proxy with one backend only
// (wirehub#0), which shows that the proxy itself works; then with both.
import assert from "node:assert/strict";
import { describe, test, before, after } from "node:test";
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { startCluster, stopAll, deadNodes, randomKey, SHARED_REDIS, HERE, ROOT, sleep } from "./cluster.mjs";
import { startRrProxy } from "./rr-proxy.mjs";
import { EVENT_TIMEOUT, clientOf, connected, emitAck, waitUntil, closeAll } from "./helpers.mjs";

const STAY_MS = 3_000; // >= 10 heartbeats at pingInterval 300 ms
const TEST_TIMEOUT = 40_000;
const PYTHON =
  process.env.CLUSTER_PYTHON ||
  (existsSync(join(ROOT, "tests/interop/.venv/bin/python")) ? join(ROOT, "tests/interop/.venv/bin/python") : null);

const key = randomKey("d");
const st = { nodes: [], extra: [] };

/** The python client as a child process: its JSON lines, and a promise of its exit. */
function startPython(args) {
  if (!PYTHON) throw new Error("no Python with python-socketio: set CLUSTER_PYTHON (run.sh creates the interop venv)");
  const child = spawn(PYTHON, [join(HERE, "python", "rr_client.py"), ...args], {
    stdio: ["pipe", "pipe", "pipe"],
    env: { ...process.env, PYTHONUNBUFFERED: "1", PYTHONDONTWRITEBYTECODE: "1" },
  });
  const py = { lines: [], stderr: "", child };
  let partial = "";
  child.stdout.on("data", (d) => {
    const parts = (partial + d).split("\n");
    partial = parts.pop();
    for (const l of parts) {
      try {
        py.lines.push(JSON.parse(l));
      } catch {
        py.lines.push({ raw: l });
      }
    }
  });
  child.stderr.on("data", (d) => {
    py.stderr = (py.stderr + d).slice(-4000);
  });
  py.exited = new Promise((resolve) => child.once("exit", (code, signal) => resolve({ code, signal })));
  child.stdin.on("error", () => {}); // it may have exited already
  py.output = () => `stdout: ${py.lines.map((l) => JSON.stringify(l)).join(" ")}\n stderr: ${py.stderr.trim().split("\n").slice(-8).join("\n ")}`;
  return py;
}

function proxyReport(stats) {
  const errs = stats.errors.map((e) => `${e.method} ${e.status} from ${e.backend}: ${e.body.replace(/\s+/g, " ").slice(0, 120)}`);
  return `requests per backend ${JSON.stringify(stats.requests)}, upgrades ${JSON.stringify(stats.upgrades)}` +
    (errs.length ? `; backend errors: ${errs.slice(0, 6).join(" | ")}` : "");
}

describe(`d. round-robin proxy, no sticky sessions: 2 wirehub (redis://${SHARED_REDIS}, key ${key}); socket.io-client + python-socketio`, () => {
  before(async () => {
    st.nodes = await startCluster([{ kind: "wirehub", count: 2 }], { adapter: "redis", server: SHARED_REDIS, key });
  }, { timeout: 60_000 });

  after(async () => {
    closeAll(st.extra);
    await stopAll(st.nodes);
  });

  test("cluster forms: nodes-ping from each node answers 1", { timeout: 30_000 }, async () => {
    const probes = st.nodes.map((n) => clientOf(n.url, `${n.label}/probe`, { transports: ["websocket"] }));
    st.extra.push(...probes);
    await Promise.all(probes.map((s) => connected(s)));
    let last;
    await waitUntil(async () => {
      last = await Promise.all(probes.map((s) => emitAck(s, "nodes-ping").then(([x]) => x)));
      return last.every((x) => x === 1);
    }, { timeout: 20_000, what: () => `nodes-ping = 1 on both nodes (last ${JSON.stringify(last)})` });
    closeAll(probes);
  });

  for (const backends of [1, 2]) {
    for (const mode of ["polling", "upgrade"]) {
      const what = backends === 1 ? "control, proxy -> wirehub#0 only" : "proxy round-robins over wirehub#0 and wirehub#1";
      const how = mode === "polling" ? "polling only" : "polling, then upgrade to websocket";
      test(`${what}: socket.io-client and python-socketio, ${how}: ack, echo, to-room between them, ${STAY_MS / 1000} s connected`, { timeout: TEST_TIMEOUT }, async (t) => {
        const proxy = await startRrProxy({ targets: st.nodes.slice(0, backends).map((n) => n.url) });
        let js, py;
        try {
          const tok = randomBytes(4).toString("hex");
          const jsRoom = `${key}-js-${mode}-${backends}-${tok}`;
          const pyRoom = `${key}-py-${mode}-${backends}-${tok}`;
          const report = (msg) =>
            new Error(`${msg}; JS disconnects ${JSON.stringify(js?.disconnects ?? [])}; python: ${py ? py.output() : "-"}; proxy: ${proxyReport(proxy.stats())}`);
          const step = async (p, msg) => {
            try {
              return await p;
            } catch (err) {
              throw report(`${msg}: ${err.message}`);
            }
          };

          // both clients connect and get ready at once, so that a failure shows for each of them
          js = clientOf(proxy.url, `js(${mode})`, mode === "polling" ? { transports: ["polling"] } : {});
          st.extra.push(js);
          const upgraded = mode === "upgrade" ? new Promise((r) => js.io.engine.once("upgrade", r)) : null;
          py = startPython([proxy.url, "--transports", mode, "--join", pyRoom, "--send-to", jsRoom, "--token", tok, "--stay", String(STAY_MS / 1000)]);
          const jsReady = (async () => {
            await connected(js);
            const t0 = Date.now();
            assert.deepEqual(await emitAck(js, "message-with-ack", "js", 1, { k: [1, 2] }), ["js", 1, { k: [1, 2] }]);
            js.emit("message", "echo", tok);
            await waitUntil(() => js.log.some((e) => e.event === "message-back" && e.args[0] === "echo" && e.args[1] === tok), { what: () => "message-back" });
            assert.deepEqual(await emitAck(js, "join", jsRoom), ["joined"]);
            return t0;
          })();
          const pyReady = waitUntil(() => py.lines.some((l) => l.ready || l.result) || py.child.exitCode !== null, {
            timeout: 15_000, what: () => "the python client to be ready",
          }).then(() => {
            const ready = py.lines.find((l) => l.ready);
            if (!ready) throw new Error("it failed before joining its room");
            return ready;
          });
          const [jsR, pyR] = await Promise.allSettled([jsReady, pyReady]);
          if (jsR.status === "rejected" || pyR.status === "rejected") {
            throw report(`socket.io-client: ${jsR.status === "rejected" ? jsR.reason.message : "ready"}; ` +
              `python-socketio: ${pyR.status === "rejected" ? pyR.reason.message : "ready"}`);
          }
          const t0 = jsR.value, ready = pyR.value;
          const jsSid = js.io.engine.id;

          py.child.stdin.write("go\n"); // the JS client is in jsRoom: python sends to it
          js.emit("to-room", pyRoom, "from-js", tok);
          await step(waitUntil(() => js.log.some((e) => e.event === "room-message" && e.args[0] === "from-py" && e.args[1] === tok), {
            what: () => "room-message from the python client",
          }), "socket.io-client, to-room from python");
          if (upgraded) {
            await step(Promise.race([upgraded, sleep(EVENT_TIMEOUT).then(() => Promise.reject(new Error(`no upgrade within ${EVENT_TIMEOUT} ms`)))]), "socket.io-client, upgrade");
            assert.equal(js.io.engine.transport.name, "websocket");
          }

          // the test is about time here: stay connected across heartbeats
          const left = t0 + STAY_MS - Date.now();
          if (left > 0) await sleep(left);
          if (js.disconnects.length || !js.connected) throw report("socket.io-client was disconnected while staying");
          assert.equal(js.io.engine.id, jsSid, "engine.io sid unchanged");
          assert.deepEqual(await step(emitAck(js, "message-with-ack", "still", "here"), "socket.io-client, last ack"), ["still", "here"]);

          const exit = await Promise.race([py.exited, sleep(15_000).then(() => null)]);
          if (!exit) throw report("python-socketio did not finish within 15 s");
          const result = py.lines.find((l) => l.result);
          if (exit.code !== 0 || result?.result !== "ok") throw report(`python-socketio failed (exit ${exit.code ?? exit.signal})`);

          const stats = proxy.stats();
          t.diagnostic(`cluster: d ${backends} backend(s), ${mode}: js sid ${jsSid} requests per backend ${JSON.stringify(stats.sessions[jsSid])}, ` +
            `python sid ${ready.sid} ${JSON.stringify(stats.sessions[ready.sid])}; ${proxyReport(stats)}`);
          // (backend errors are not asserted on: one when a client hangs up is not a fault; a fault during the
          // session shows as a disconnect or a missing answer above, with the errors in the message)
          for (const [who, sid] of [["JS", jsSid], ["python", ready.sid]]) {
            const per = stats.sessions[sid];
            assert.ok(per, `the proxy saw no request of the ${who} session ${sid}`);
            if (backends === 2) {
              assert.ok(per[0] > 0 && per[1] > 0, `${who} session ${sid}: requests on both backends, got ${JSON.stringify(per)}`);
            } else {
              assert.ok(per[0] >= 2, `${who} session ${sid}: requests through the proxy, got ${JSON.stringify(per)}`);
            }
          }
          if (mode === "upgrade") assert.equal(stats.upgrades.reduce((x, y) => x + y, 0), 2, "two WebSocket upgrades went through the proxy");
        } finally {
          if (js) js.close();
          if (py && py.child.exitCode === null) py.child.kill("SIGKILL");
          await proxy.close();
        }
      });
    }
  }

  test("no node crashed", { timeout: 10_000 }, async () => {
    assert.deepEqual(deadNodes(st.nodes), []);
  });
});
