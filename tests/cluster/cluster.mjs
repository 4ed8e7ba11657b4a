// Starting and stopping the processes of a cluster test: wirehub nodes (the
// command in WIREHUB_NODE_CMD), Node socket.io nodes (node-server.mjs) and
// private redis-server instances.
//
// Every process runs in its own process group, and its pid is appended to
// $CLUSTER_PIDFILE (set by run.sh), whose trap kills whatever is left there if
// a test file dies before its `after` hook.
import { spawn } from "node:child_process";
import { appendFileSync, createWriteStream } from "node:fs";
import { createServer, connect as netConnect } from "node:net";
import { randomBytes } from "node:crypto";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { createClient } from "redis";

export const HERE = dirname(fileURLToPath(import.meta.url));
export const ROOT = join(HERE, "..", "..");
/** Shared Redis and NATS of the machine (scenarios that use a random key prefix). */
export const SHARED_REDIS = process.env.CLUSTER_REDIS || "127.0.0.1:6379";
export const SHARED_NATS = process.env.CLUSTER_NATS || "127.0.0.1:4222";
/** Bound for a node to answer its first Engine.IO handshake. */
export const STARTUP_TIMEOUT = Number(process.env.CLUSTER_STARTUP_TIMEOUT || 20) * 1000;

const WORK = process.env.CLUSTER_WORK || null;
const PIDFILE = process.env.CLUSTER_PIDFILE || null;

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** A fresh random key prefix, so runs on the shared Redis/NATS cannot see each other. */
export const randomKey = (scenario) => `wh-cluster-${scenario}-${randomBytes(5).toString("hex")}`;

/** A port that was free a moment ago (bound on port 0 by the kernel, then released). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** True when something accepts TCP connections on 127.0.0.1:port. */
export function portOpen(port) {
  return new Promise((resolve) => {
    const s = netConnect(port, "127.0.0.1");
    s.once("connect", () => {
      s.destroy();
      resolve(true);
    });
    s.once("error", () => resolve(false));
  });
}

/** A child process in its own process group, its output kept (and written to $CLUSTER_WORK/<name>.log). */
class Proc {
  constructor(name, command, args, env) {
    this.name = name;
    this.lines = [];
    this.exit = null; // {code, signal} once it exited
    this.stopping = false;
    this.child = spawn(command, args, { cwd: ROOT, env, detached: true, stdio: ["ignore", "pipe", "pipe"] });
    this.pid = this.child.pid;
    if (PIDFILE && this.pid) appendFileSync(PIDFILE, `${this.pid}\n`);
    const file = WORK ? createWriteStream(join(WORK, `${name}.log`), { flags: "a" }) : null;
    let partial = "";
    const onData = (chunk) => {
      file?.write(chunk);
      const parts = (partial + chunk.toString()).split("\n");
      partial = parts.pop();
      for (const line of parts) {
        this.lines.push(line);
        if (this.lines.length > 400) this.lines.shift();
      }
    };
    this.child.stdout.on("data", onData);
    this.child.stderr.on("data", onData);
    this.exited = new Promise((resolve) => {
      this.child.once("exit", (code, signal) => {
        if (partial) this.lines.push(partial);
        this.exit = { code, signal };
        file?.end();
        resolve(this.exit);
      });
      this.child.once("error", (err) => {
        this.lines.push(`spawn error: ${err.message}`);
        this.exit = { code: null, signal: null, error: err.message };
        file?.end();
        resolve(this.exit);
      });
    });
  }

  get alive() {
    return this.exit === null;
  }

  describeExit() {
    if (!this.exit) return "running";
    if (this.exit.error) return `failed to start (${this.exit.error})`;
    return this.exit.signal ? `killed by ${this.exit.signal}` : `exited with status ${this.exit.code}`;
  }

  tail(n = 25) {
    return this.lines.slice(-n).map((l) => `    | ${l}`).join("\n");
  }

  signal(sig) {
    try {
      process.kill(-this.pid, sig); // the whole group (bash -c + what it started)
    } catch {
      try {
        this.child.kill(sig);
      } catch {
        /* gone */
      }
    }
  }

  /** SIGTERM, up to `grace` ms to exit, then SIGKILL. */
  async stop(grace = 3000) {
    this.stopping = true;
    if (!this.alive) return;
    this.signal("SIGTERM");
    const t = setTimeout(() => this.signal("SIGKILL"), grace);
    await this.exited;
    clearTimeout(t);
    this.signal("SIGKILL"); // leftovers of the group, if any
  }

  async kill() {
    this.stopping = true;
    this.signal("SIGKILL");
    await this.exited;
  }
}

/** GET the Engine.IO handshake: true when the node answers 200 with an OPEN packet. */
async function answersHandshake(url) {
  try {
    const res = await fetch(`${url}/socket.io/?EIO=4&transport=polling`, { signal: AbortSignal.timeout(1000) });
    const body = await res.text();
    return res.status === 200 && body.startsWith("0");
  } catch {
    return false;
  }
}

/**
 * Starts one cluster node and resolves once it answers an Engine.IO handshake.
 *   kind "wirehub": `bash -c "$WIREHUB_NODE_CMD"` with PORT, WIREHUB_ADAPTER,
 *                   WIREHUB_ADAPTER_KEY (unset when key is undefined)
 *   kind "node":    node-server.mjs with PORT, ADAPTER, REDIS_URL, ADAPTER_KEY
 *   adapter: "redis" | "redis-sharded" | "nats"; server: "host:port" of Redis/NATS
 *   extraEnv: more environment for the node (e.g. WIREHUB_RECOVERY_MS)
 */
export async function startNode({ kind, label, adapter, server, key, extraEnv = {} }) {
  const port = await freePort();
  const env = { ...process.env, PORT: String(port) };
  for (const v of ["WIREHUB_ADAPTER", "WIREHUB_ADAPTER_KEY", "WIREHUB_ADVERTISE", "ADAPTER", "REDIS_URL", "ADAPTER_KEY"]) {
    delete env[v];
  }
  for (const v of Object.keys(env)) if (v.startsWith("CLUSTER_") || v.startsWith("NODE_TEST")) delete env[v];
  Object.assign(env, extraEnv);
  let proc;
  if (kind === "wirehub") {
    const cmd = process.env.WIREHUB_NODE_CMD;
    if (!cmd) throw new Error("WIREHUB_NODE_CMD is not set");
    env.WIREHUB_ADAPTER = `${adapter}://${server}`;
    if (key !== undefined) env.WIREHUB_ADAPTER_KEY = key;
    proc = new Proc(label, "bash", ["-c", cmd], env);
  } else if (kind === "node") {
    if (adapter === "nats") throw new Error("a Node node cannot use NATS");
    env.ADAPTER = adapter;
    env.REDIS_URL = `redis://${server}`;
    if (key !== undefined) env.ADAPTER_KEY = key;
    proc = new Proc(label, process.execPath, [join(HERE, "node-server.mjs")], env);
  } else {
    throw new Error(`unknown node kind ${kind}`);
  }
  const node = { kind, label, port, url: `http://127.0.0.1:${port}`, adapter, key, proc };
  const deadline = Date.now() + STARTUP_TIMEOUT;
  for (;;) {
    if (!proc.alive) {
      throw new Error(`${label} (${kind}, ${adapter}) ${proc.describeExit()} before answering on port ${port}:\n${proc.tail()}`);
    }
    if (await answersHandshake(node.url)) return node;
    if (Date.now() > deadline) {
      await proc.stop();
      throw new Error(`${label} (${kind}) did not answer ${node.url}/socket.io/ within ${STARTUP_TIMEOUT} ms:\n${proc.tail()}`);
    }
    await sleep(100);
  }
}

/**
 * Starts the nodes of `spec` ([{kind, count}]) in parallel. Labels:
 * wirehub#0.., node#0... If one fails, the others are stopped and it throws.
 */
export async function startCluster(spec, { adapter, server, key }) {
  const wanted = [];
  for (const { kind, count } of spec) for (let i = 0; i < count; i++) wanted.push({ kind, label: `${kind}#${i}` });
  const results = await Promise.allSettled(wanted.map((w) => startNode({ ...w, adapter, server, key })));
  const nodes = results.filter((r) => r.status === "fulfilled").map((r) => r.value);
  const errors = results.filter((r) => r.status === "rejected").map((r) => r.reason.message);
  if (errors.length) {
    await stopAll(nodes);
    throw new Error(`cluster did not start:\n${errors.join("\n")}`);
  }
  return nodes;
}

export async function stopAll(procsOrNodes) {
  await Promise.all(procsOrNodes.filter(Boolean).map((x) => (x.proc || x).stop()));
}

/** Nodes (or processes) that are not running any more, described; [] when all run. */
export function deadNodes(nodes) {
  return nodes.filter((n) => !n.proc.alive).map((n) => `${n.label} ${n.proc.describeExit()}:\n${n.proc.tail()}`);
}

/** A private redis-server on `port` (no persistence), resolved once it answers PING. */
export async function startRedis(port, name = `redis-${port}`) {
  const proc = new Proc(name, "redis-server", [
    "--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--daemonize", "no",
  ], process.env);
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (!proc.alive) throw new Error(`redis-server on port ${port} ${proc.describeExit()}:\n${proc.tail()}`);
    if (await redisPing(port)) return proc;
    if (Date.now() > deadline) {
      await proc.kill();
      throw new Error(`redis-server on port ${port} did not answer PING within 10 s:\n${proc.tail()}`);
    }
    await sleep(20);
  }
}

function redisPing(port) {
  return new Promise((resolve) => {
    const s = netConnect(port, "127.0.0.1");
    let buf = "";
    const done = (ok) => {
      s.destroy();
      resolve(ok);
    };
    s.setTimeout(500, () => done(false));
    s.once("connect", () => s.write("PING\r\n"));
    s.on("data", (d) => {
      buf += d;
      if (buf.includes("\r\n")) done(buf.startsWith("+PONG"));
    });
    s.once("error", () => done(false));
  });
}

/** A connected node-redis client for `server` ("host:port"), for PUBSUB checks; closed with .quit(). */
export async function redisClient(server) {
  const client = createClient({ url: `redis://${server}`, socket: { reconnectStrategy: false } });
  client.on("error", () => {});
  await client.connect();
  return client;
}

/** PUBSUB NUMSUB / SHARDNUMSUB of one channel. */
export async function numsub(client, channel, sharded = false) {
  const reply = await client.sendCommand(["PUBSUB", sharded ? "SHARDNUMSUB" : "NUMSUB", channel]);
  return Number(reply[1]);
}
