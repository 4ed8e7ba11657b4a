//! Soak: N Socket.IO clients over WebSocket, spread over rooms, for a
//! bounded time, with steady broadcasts, acknowledged emits, and a share of
//! the clients dropping their TCP connection abruptly at regular intervals
//! and coming back with connection-state recovery (Socket.IO 4.6+ wire
//! format: the CONNECT answer carries a `pid`, every replayable event its
//! offset as an extra last string argument; a returning client sends
//! `{"pid", "offset"}` as its CONNECT auth and, if recovered, gets its old
//! socket id back and the events it missed).
//!
//! Checks, per client, across its recovered reconnects:
//! - the sequence numbers of its room's messages and of the broadcasts are
//!   gap-free and duplicate-free (a reconnect that is not recovered — a new
//!   socket id — is counted apart and starts a new sequence base);
//! - every acknowledged emit gets its ack (emits pending when a client drops
//!   are sent again after its reconnect, as socket.io-client's `retries`
//!   do; an ack counts once per emit);
//! - at the end every client has its streams' last message.
//!
//! The server's RSS is sampled from /proc every `--rss-every` seconds; the
//! least-squares slope after the warm-up (KiB per minute) must stay under
//! `--max-slope`.
//!
//! Two server contracts: `contract` (the conformance contract: `join`,
//! `to-room`, `broadcast`, `message-with-ack`, on `/`; Node socket.io,
//! wirehub's bench server and conformance example) and `hub` (the room
//! events of `wirehub serve`'s on-demand namespaces: `hub:join` and
//! `hub:publish`, acked; the clients' acknowledged emit is a `hub:join` of
//! their own room again, idempotent).
//!
//! Prints one JSON object on stdout, then one line per check:
//! `check pass|fail NAME: details`.

use super::{wait_until, Counter};
use crate::stats::{round, Latencies};
use crate::ws::{self, Target};
use crate::{procfs, Common, Result};
use clap::Args;
use futures_util::SinkExt;
use serde_json::{json, Value};
use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::rc::Rc;
use std::time::{Duration, Instant};
use tokio::sync::{Notify, Semaphore};
use tokio_tungstenite::tungstenite::Message;

/// Options of `soak`.
#[derive(Args, Debug)]
pub(crate) struct Opts {
    #[command(flatten)]
    common: Common,
    /// Clients.
    #[arg(long, default_value_t = 10_000)]
    clients: usize,
    /// Seconds of steady load (after every client connected).
    #[arg(long, default_value_t = 600.0)]
    duration: f64,
    /// Rooms; client i joins room `r{i % rooms}`.
    #[arg(long, default_value_t = 20)]
    rooms: usize,
    /// Messages per second published to each room.
    #[arg(long, default_value_t = 1.0)]
    room_rate: f64,
    /// Seconds between two broadcasts to every client.
    #[arg(long, default_value_t = 5.0)]
    broadcast_every: f64,
    /// Seconds between two acknowledged emits of each client.
    #[arg(long, default_value_t = 10.0)]
    ack_every: f64,
    /// Share of the clients that drop their connection in each round.
    #[arg(long, default_value_t = 0.05)]
    drop_share: f64,
    /// Seconds between two drop rounds [default: duration / 10].
    #[arg(long)]
    drop_every: Option<f64>,
    /// Shortest wait of a dropped client before it reconnects, seconds.
    #[arg(long, default_value_t = 0.5)]
    reconnect_min: f64,
    /// Longest wait of a dropped client before it reconnects, seconds.
    #[arg(long, default_value_t = 3.0)]
    reconnect_max: f64,
    /// Seconds between two RSS samples [default: duration / 120, 1 to 5].
    #[arg(long)]
    rss_every: Option<f64>,
    /// Seconds of warm-up left out of the RSS slope [default: 30 % of the duration].
    #[arg(long)]
    warmup: Option<f64>,
    /// Largest RSS slope after the warm-up that passes, KiB per minute.
    #[arg(long, default_value_t = 1024.0)]
    max_slope: f64,
    /// Server contract: `contract` or `hub`.
    #[arg(long, default_value = "contract")]
    protocol: String,
    /// Namespace (the `hub` contract needs one other than `/`).
    #[arg(long, default_value = "/")]
    namespace: String,
    /// Connections being set up at once.
    #[arg(long, default_value_t = 200)]
    connect_concurrency: usize,
    /// Longest wait at the end for the last messages and acks, seconds.
    #[arg(long, default_value_t = 20.0)]
    drain: f64,
}

/// A small xorshift generator (no dependency; quality is irrelevant here).
struct Rng(Cell<u64>);

impl Rng {
    fn next(&self) -> u64 {
        let mut x = self.0.get();
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0.set(x);
        x
    }
    fn unit(&self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// Settings shared by the client tasks.
struct Cfg {
    hub: bool,
    /// `""` for `/`, `"/ns,"` otherwise.
    prefix: String,
    ack_every: f64,
    reconnect: (f64, f64),
}

impl Cfg {
    fn connect_packet(&self, auth: Option<&Value>) -> String {
        match auth {
            Some(a) => format!("40{}{a}", self.prefix),
            None => format!("40{}", self.prefix),
        }
    }
    fn join_packet(&self, id: u64, room: &str) -> String {
        let event = if self.hub { "hub:join" } else { "join" };
        format!("42{}{id}{}", self.prefix, json!([event, room]))
    }
    fn ack_packet(&self, id: u64, room: &str, payload: &str) -> String {
        if self.hub {
            self.join_packet(id, room)
        } else {
            format!(
                "42{}{id}{}",
                self.prefix,
                json!(["message-with-ack", payload])
            )
        }
    }
}

/// Global tallies.
#[derive(Default)]
struct Tally {
    ready: Counter,
    connect_failed: Counter,
    reconnects: Counter,
    reconnect_failed: Counter,
    recovered: Counter,
    not_recovered: Counter,
    no_pid: Counter,
    drops: Counter,
    unexpected_closes: Counter,
    received: Counter,
    replayed_before_connect: Counter,
    gaps: Counter,
    gap_events: Counter,
    duplicates: Counter,
    acks_sent: Counter,
    acks_resent: Counter,
    acks_received: Counter,
    acks_duplicate: Counter,
    acks_mismatch: Counter,
    ack_lat: RefCell<Latencies>,
    reasons: ws::Reasons,
    stop_acks: Cell<bool>,
}

/// What one client knows; read by the controller and at the end.
struct Client {
    room: String,
    /// Connected and joined: may be dropped.
    steady: Cell<bool>,
    drop_now: Notify,
    last_room: Cell<Option<u64>>,
    last_all: Cell<Option<u64>>,
    pending: RefCell<BTreeMap<u64, Pending>>,
}

#[derive(Clone)]
enum Pending {
    Join,
    Msg(String, Instant),
}

/// A parsed Socket.IO packet of our namespace.
enum Packet {
    Ping,
    Connect(Value),
    ConnectError(String),
    Disconnect,
    Event(Vec<Value>),
    Ack(u64, Vec<Value>),
    Other,
}

fn parse(text: &str, prefix: &str) -> Packet {
    if text == "2" {
        return Packet::Ping;
    }
    if text == "1" {
        return Packet::Disconnect;
    }
    let Some(rest) = text.strip_prefix('4') else {
        return Packet::Other;
    };
    let mut chars = rest.chars();
    let Some(kind) = chars.next() else {
        return Packet::Other;
    };
    let rest = &rest[1..];
    let rest = if prefix.is_empty() {
        // Another namespace's packet starts with '/'.
        if rest.starts_with('/') {
            return Packet::Other;
        }
        rest
    } else {
        match rest.strip_prefix(prefix) {
            Some(r) => r,
            None => return Packet::Other,
        }
    };
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    let id: Option<u64> = rest[..digits].parse().ok();
    let body = &rest[digits..];
    match kind {
        '0' => Packet::Connect(serde_json::from_str(body).unwrap_or(Value::Null)),
        '1' => Packet::Disconnect,
        '4' => Packet::ConnectError(body.to_owned()),
        '2' => match serde_json::from_str::<Vec<Value>>(body) {
            Ok(args) => Packet::Event(args),
            Err(_) => Packet::Other,
        },
        '3' => match (id, serde_json::from_str::<Vec<Value>>(body)) {
            (Some(id), Ok(args)) => Packet::Ack(id, args),
            _ => Packet::Other,
        },
        _ => Packet::Other,
    }
}

/// `r3:17` / `all:5` → (is the broadcast stream, seq).
fn stream_seq(payload: &str) -> Option<(bool, u64)> {
    let (name, seq) = payload.rsplit_once(':')?;
    Some((name == "all", seq.parse().ok()?))
}

impl Client {
    /// One received event; returns whether it carried an offset.
    fn on_event(&self, t: &Tally, args: &[Value], pid: bool, offset: &mut Option<String>) {
        if pid && args.len() >= 3 {
            if let Some(o) = args.last().and_then(Value::as_str) {
                *offset = Some(o.to_owned());
            }
        }
        let name = args.first().and_then(Value::as_str).unwrap_or("");
        if !matches!(name, "room-message" | "broadcast-message" | "all-message") {
            return;
        }
        let Some((all, seq)) = args.get(1).and_then(Value::as_str).and_then(stream_seq) else {
            return;
        };
        t.received.inc();
        let cell = if all { &self.last_all } else { &self.last_room };
        match cell.get() {
            None => cell.set(Some(seq)),
            Some(last) if seq == last + 1 => cell.set(Some(seq)),
            Some(last) if seq <= last => t.duplicates.inc(),
            Some(last) => {
                t.gaps.add(seq - last - 1);
                t.gap_events.inc();
                if t.gap_events.get() <= 5 {
                    eprintln!(
                        "loadgen: soak: gap in {}: {last} then {seq}",
                        if all { "broadcasts" } else { &self.room }
                    );
                }
                cell.set(Some(seq));
            }
        }
    }

    fn on_ack(&self, t: &Tally, id: u64, args: &[Value], hub: bool) -> bool {
        let Some(p) = self.pending.borrow_mut().remove(&id) else {
            t.acks_duplicate.inc();
            return false;
        };
        let ok = |args: &[Value]| {
            if hub {
                args.first()
                    .and_then(|a| a["rooms"].as_array())
                    .is_some_and(|r| r.iter().any(|x| x.as_str() == Some(&self.room)))
            } else {
                true
            }
        };
        match p {
            Pending::Join => {
                let joined = if hub {
                    ok(args)
                } else {
                    args.first().and_then(Value::as_str) == Some("joined")
                };
                if !joined {
                    t.acks_mismatch.inc();
                }
                true
            }
            Pending::Msg(payload, at) => {
                let good = if hub {
                    ok(args)
                } else {
                    args.first().and_then(Value::as_str) == Some(payload.as_str())
                };
                if !good {
                    t.acks_mismatch.inc();
                }
                t.acks_received.inc();
                t.ack_lat
                    .borrow_mut()
                    .push_ns(at.elapsed().as_nanos() as u64);
                false
            }
        }
    }
}

/// How a connection of a client ended.
enum End {
    /// Dropped on purpose: reconnect after a random wait.
    Dropped,
    /// Closed by the server or failed: reconnect after a second.
    Lost(String),
}

#[allow(clippy::too_many_lines)]
async fn client_task(
    index: usize,
    cfg: Rc<Cfg>,
    target: Rc<Target>,
    t: Rc<Tally>,
    c: Rc<Client>,
    sem: Rc<Semaphore>,
    rng: Rc<Rng>,
) {
    let mut sid: Option<String> = None;
    let mut pid: Option<String> = None;
    let mut offset: Option<String> = None;
    let mut joined = false;
    let mut next_id: u64 = 1;
    let mut next_ack =
        tokio::time::Instant::now() + Duration::from_secs_f64(cfg.ack_every * rng.unit());
    let mut first = true;
    let mut permit = Some(sem.acquire().await);
    loop {
        // ---- connect (WebSocket, Engine.IO open, Socket.IO CONNECT)
        let auth = match (&pid, &offset) {
            (Some(p), Some(o)) => Some(json!({ "pid": p, "offset": o })),
            _ => None,
        };
        let connected = async {
            let mut ws = tokio::time::timeout(ws::STEP_TIMEOUT, target.websocket())
                .await
                .map_err(|_| "timed out in TCP connect + WebSocket upgrade")??;
            let mut early: Vec<Vec<Value>> = Vec::new();
            let answer = tokio::time::timeout(ws::STEP_TIMEOUT, async {
                let mut opened = false;
                loop {
                    let text = ws::next_text(&mut ws)
                        .await?
                        .ok_or("closed during the handshake")?;
                    if !opened && text.starts_with('0') {
                        opened = true;
                        ws.send(Message::text(cfg.connect_packet(auth.as_ref())))
                            .await?;
                        continue;
                    }
                    match parse(&text, &cfg.prefix) {
                        Packet::Ping => ws.send(Message::text("3")).await?,
                        Packet::Connect(v) => return Ok::<_, crate::Error>(v),
                        Packet::ConnectError(e) => {
                            return Err(format!("connect refused: {e}").into())
                        }
                        Packet::Event(args) => early.push(args),
                        Packet::Disconnect => {
                            return Err("disconnected during the handshake".into())
                        }
                        _ => {}
                    }
                }
            })
            .await
            .map_err(|_| "timed out waiting for the CONNECT answer")??;
            Ok::<_, crate::Error>((ws, answer, early))
        };
        let (mut ws, answer, early) = match connected.await {
            Ok(x) => x,
            Err(e) => {
                if first {
                    if t.connect_failed.get() < 5 {
                        eprintln!("loadgen: soak: client {index}: connect failed: {e}");
                    }
                    t.connect_failed.inc();
                    return;
                }
                t.reconnect_failed.inc();
                if t.reconnect_failed.get() <= 5 {
                    eprintln!("loadgen: soak: client {index}: reconnect failed: {e}");
                }
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        };
        let new_sid = answer["sid"].as_str().map(str::to_owned);
        let new_pid = answer["pid"].as_str().map(str::to_owned);
        let recovered = !first && sid.is_some() && new_sid == sid && auth.is_some();
        if !first {
            t.reconnects.inc();
            if recovered {
                t.recovered.inc();
            } else {
                t.not_recovered.inc();
                // A new session: new sequence bases, rooms to join again.
                c.last_room.set(None);
                c.last_all.set(None);
                joined = false;
                offset = None;
            }
        }
        if new_pid.is_none() {
            t.no_pid.inc();
        }
        if !recovered {
            pid = new_pid;
        }
        sid = new_sid;
        if !early.is_empty() {
            t.replayed_before_connect.add(early.len() as u64);
        }
        for args in &early {
            c.on_event(&t, args, pid.is_some(), &mut offset);
        }
        // ---- join (new sessions), emits still pending sent again
        let mut out: Vec<String> = Vec::new();
        if !joined {
            let id = next_id;
            next_id += 1;
            c.pending.borrow_mut().insert(id, Pending::Join);
            out.push(cfg.join_packet(id, &c.room));
        }
        for (id, p) in c.pending.borrow().iter() {
            if let Pending::Msg(payload, _) = p {
                t.acks_resent.inc();
                out.push(cfg.ack_packet(*id, &c.room, payload));
            }
        }
        let mut send_failed = false;
        for text in out {
            if ws.feed(Message::text(text)).await.is_err() {
                send_failed = true;
            }
        }
        if send_failed || ws.flush().await.is_err() {
            tokio::time::sleep(Duration::from_secs(1)).await;
            continue;
        }
        if joined {
            c.steady.set(true);
        }
        // ---- connected
        let end = loop {
            tokio::select! {
                _ = c.drop_now.notified() => break End::Dropped,
                _ = tokio::time::sleep_until(next_ack), if !t.stop_acks.get() => {
                    next_ack += Duration::from_secs_f64(cfg.ack_every);
                    let id = next_id;
                    next_id += 1;
                    let payload = format!("c{index}:{id}");
                    let text = cfg.ack_packet(id, &c.room, &payload);
                    c.pending.borrow_mut().insert(id, Pending::Msg(payload, Instant::now()));
                    t.acks_sent.inc();
                    if let Err(e) = ws.send(Message::text(text)).await {
                        break End::Lost(format!("send: {e}"));
                    }
                }
                next = ws::next_text(&mut ws) => {
                    let text = match next {
                        Ok(Some(text)) => text,
                        other => break End::Lost(ws::end_reason(&other)),
                    };
                    match parse(&text, &cfg.prefix) {
                        Packet::Ping => {
                            if let Err(e) = ws.send(Message::text("3")).await {
                                break End::Lost(format!("send: {e}"));
                            }
                        }
                        Packet::Event(args) => c.on_event(&t, &args, pid.is_some(), &mut offset),
                        Packet::Ack(id, args) if c.on_ack(&t, id, &args, cfg.hub) => {
                            joined = true;
                            c.steady.set(true);
                            if first {
                                first = false;
                                drop(permit.take());
                                t.ready.inc();
                            }
                        }
                        Packet::Disconnect => break End::Lost("disconnected by the server".into()),
                        _ => {}
                    }
                }
            }
        };
        c.steady.set(false);
        match end {
            End::Dropped => {
                // Abrupt: RST, nothing more written.
                let _ = ws.get_ref().set_zero_linger();
                drop(ws);
                t.drops.inc();
                let (lo, hi) = cfg.reconnect;
                tokio::time::sleep(Duration::from_secs_f64(lo + (hi - lo) * rng.unit())).await;
            }
            End::Lost(reason) => {
                t.unexpected_closes.inc();
                t.reasons.add(reason);
                if first {
                    t.connect_failed.inc();
                    return;
                }
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    }
}

/// Emits `packet` on the publisher connection, answering pings meanwhile
/// is left to the caller's loop.
async fn publisher_send(ws: &mut ws::Ws, text: String) -> Result<()> {
    ws.send(Message::text(text)).await?;
    Ok(())
}

/// Least-squares slope of (seconds, KiB) samples, in KiB per minute.
fn slope_per_min(samples: &[(f64, u64)]) -> Option<f64> {
    let n = samples.len() as f64;
    if samples.len() < 3 {
        return None;
    }
    let mx = samples.iter().map(|s| s.0).sum::<f64>() / n;
    let my = samples.iter().map(|s| s.1 as f64).sum::<f64>() / n;
    let sxy: f64 = samples.iter().map(|s| (s.0 - mx) * (s.1 as f64 - my)).sum();
    let sxx: f64 = samples.iter().map(|s| (s.0 - mx).powi(2)).sum();
    (sxx > 0.0).then(|| sxy / sxx * 60.0)
}

#[allow(clippy::too_many_lines)]
pub(crate) async fn run(o: Opts) -> Result<()> {
    let common: Common = o.common.clone();
    let hub = match o.protocol.as_str() {
        "contract" => false,
        "hub" => true,
        p => return Err(format!("unknown --protocol {p} (contract, hub)").into()),
    };
    if hub && o.namespace == "/" {
        return Err("--protocol hub needs a --namespace other than / (e.g. /soak)".into());
    }
    let prefix = if o.namespace == "/" {
        String::new()
    } else {
        format!("{},", o.namespace)
    };
    let drop_every = o.drop_every.unwrap_or(o.duration / 10.0).max(1.0);
    let rss_every = o.rss_every.unwrap_or((o.duration / 120.0).clamp(1.0, 5.0));
    let warmup = o.warmup.unwrap_or(o.duration * 0.3);
    let cfg = Rc::new(Cfg {
        hub,
        prefix: prefix.clone(),
        ack_every: o.ack_every,
        reconnect: (o.reconnect_min, o.reconnect_max.max(o.reconnect_min)),
    });
    let target = Rc::new(Target::new(&common));
    let t = Rc::new(Tally::default());
    let rng = Rc::new(Rng(Cell::new(
        0x9E37_79B9_7F4A_7C15 ^ std::process::id() as u64,
    )));
    let sem = Rc::new(Semaphore::new(o.connect_concurrency));
    let rooms: Vec<String> = (0..o.rooms.max(1)).map(|r| format!("r{r}")).collect();
    eprintln!(
        "loadgen: soak: {} clients in {} rooms for {} s ({} msg/s per room, a broadcast every {} s, an acked emit per client every {} s); {:.0} % drop every {} s; RSS every {} s, warm-up {} s",
        o.clients, rooms.len(), o.duration, o.room_rate, o.broadcast_every, o.ack_every,
        o.drop_share * 100.0, drop_every, rss_every, warmup
    );
    let clients: Vec<Rc<Client>> = (0..o.clients)
        .map(|i| {
            Rc::new(Client {
                room: rooms[i % rooms.len()].clone(),
                steady: Cell::new(false),
                drop_now: Notify::new(),
                last_room: Cell::new(None),
                last_all: Cell::new(None),
                pending: RefCell::default(),
            })
        })
        .collect();
    let connect_started = Instant::now();
    let rss_start = procfs::rss_kib_opt(common.server_pid);
    for (i, c) in clients.iter().enumerate() {
        let (cfg, target, t, c, sem, rng) = (
            cfg.clone(),
            target.clone(),
            t.clone(),
            c.clone(),
            sem.clone(),
            rng.clone(),
        );
        tokio::task::spawn_local(client_task(i, cfg, target, t, c, sem, rng));
    }
    let n = o.clients as u64;
    let ok = wait_until("connecting", Duration::from_secs(300), &common, || {
        let (r, f) = (t.ready.get(), t.connect_failed.get());
        (r + f >= n, format!("{r}/{n} joined, {f} failed"))
    })
    .await;
    let connect_s = connect_started.elapsed().as_secs_f64();
    if !ok || t.ready.get() == 0 {
        return Err("clients did not connect".into());
    }
    eprintln!(
        "loadgen: soak: {} clients joined in {connect_s:.1} s ({} failed)",
        t.ready.get(),
        t.connect_failed.get()
    );

    // ---- publisher: to-room (contract) or hub:publish (hub), plus broadcasts
    let mut publisher = target.websocket().await?;
    {
        let mut opened = false;
        loop {
            let text = ws::next_text(&mut publisher)
                .await?
                .ok_or("publisher: closed during the handshake")?;
            if !opened && text.starts_with('0') {
                opened = true;
                publisher
                    .send(Message::text(cfg.connect_packet(None)))
                    .await?;
            } else if let Packet::Connect(_) = parse(&text, &prefix) {
                break;
            } else if text == "2" {
                publisher.send(Message::text("3")).await?;
            }
        }
    }
    let mut room_seq = vec![0u64; rooms.len()];
    let mut all_seq = 0u64;
    let mut pub_id: u64 = 0;
    let mut pub_acks = 0u64;
    let mut pub_sent = 0u64;
    let mut pub_delivered = 0u64;
    let start = Instant::now();
    let a = procfs::sample(common.server_pid);
    let mut rss: Vec<(f64, u64)> = Vec::new();
    let mut next_rss = tokio::time::Instant::now();
    let room_period = Duration::from_secs_f64(1.0 / (o.room_rate * rooms.len() as f64));
    let mut room_tick = tokio::time::interval(room_period);
    room_tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let mut all_tick = tokio::time::interval_at(
        tokio::time::Instant::now() + Duration::from_secs_f64(o.broadcast_every),
        Duration::from_secs_f64(o.broadcast_every),
    );
    let mut drop_tick = tokio::time::interval_at(
        tokio::time::Instant::now() + Duration::from_secs_f64(drop_every),
        Duration::from_secs_f64(drop_every),
    );
    let end = tokio::time::Instant::now() + Duration::from_secs_f64(o.duration);
    // No drop in the last stretch: every client is back before the drain.
    let last_drop = tokio::time::Instant::now()
        + Duration::from_secs_f64((o.duration - (o.reconnect_max + 5.0)).max(0.0));
    let mut next_room = 0usize;
    let mut rounds = 0u32;
    let mut dropped_total = 0u64;
    let mut next_report = Instant::now() + Duration::from_secs(30);
    let mut publisher_error: Option<String> = None;
    let publish_text = |id: u64, room: Option<&str>, all: &[String], seq: u64| -> String {
        match (hub, room) {
            (false, Some(r)) => {
                format!("42{prefix}{}", json!(["to-room", r, format!("{r}:{seq}")]))
            }
            (false, None) => format!("42{prefix}{}", json!(["broadcast", format!("all:{seq}")])),
            (true, Some(r)) => format!(
                "42{prefix}{id}{}",
                json!(["hub:publish", { "room": r, "event": "room-message", "data": format!("{r}:{seq}") }])
            ),
            (true, None) => format!(
                "42{prefix}{id}{}",
                json!(["hub:publish", { "rooms": all, "event": "all-message", "data": format!("all:{seq}") }])
            ),
        }
    };
    loop {
        tokio::select! {
            _ = tokio::time::sleep_until(end) => break,
            _ = tokio::time::sleep_until(next_rss) => {
                next_rss += Duration::from_secs_f64(rss_every);
                if let Some(r) = procfs::rss_kib_opt(common.server_pid) {
                    rss.push((start.elapsed().as_secs_f64(), r));
                }
                if Instant::now() >= next_report {
                    next_report += Duration::from_secs(30);
                    eprintln!(
                        "loadgen: soak: {:.0} s: RSS {} KiB, {} received, {} acks of {}, {} drops, {} recovered, {} not recovered, {} gaps",
                        start.elapsed().as_secs_f64(),
                        rss.last().map_or(0, |x| x.1),
                        t.received.get(), t.acks_received.get(), t.acks_sent.get(),
                        t.drops.get(), t.recovered.get(), t.not_recovered.get(), t.gaps.get()
                    );
                }
            }
            _ = room_tick.tick() => {
                let r = next_room;
                next_room = (next_room + 1) % rooms.len();
                room_seq[r] += 1;
                pub_id += 1;
                pub_sent += 1;
                let text = publish_text(pub_id, Some(&rooms[r]), &rooms, room_seq[r]);
                if let Err(e) = publisher_send(&mut publisher, text).await {
                    publisher_error = Some(e.to_string());
                    break;
                }
            }
            _ = all_tick.tick() => {
                all_seq += 1;
                pub_id += 1;
                pub_sent += 1;
                let text = publish_text(pub_id, None, &rooms, all_seq);
                if let Err(e) = publisher_send(&mut publisher, text).await {
                    publisher_error = Some(e.to_string());
                    break;
                }
            }
            _ = drop_tick.tick() => {
                if tokio::time::Instant::now() > last_drop {
                    continue;
                }
                rounds += 1;
                let want = ((o.clients as f64) * o.drop_share).round() as usize;
                let mut picked = 0;
                let mut tries = 0;
                while picked < want && tries < want * 20 {
                    tries += 1;
                    let i = (rng.next() % clients.len() as u64) as usize;
                    let c = &clients[i];
                    if c.steady.get() {
                        c.steady.set(false);
                        c.drop_now.notify_one();
                        picked += 1;
                    }
                }
                dropped_total += picked as u64;
                eprintln!(
                    "loadgen: soak: {:.0} s: round {rounds}: dropping {picked} clients",
                    start.elapsed().as_secs_f64()
                );
            }
            next = ws::next_text(&mut publisher) => {
                match next {
                    Ok(Some(text)) => match parse(&text, &prefix) {
                        Packet::Ping => { let _ = publisher.send(Message::text("3")).await; }
                        Packet::Ack(_, args) => {
                            pub_acks += 1;
                            pub_delivered += args.first().and_then(|a| a["delivered"].as_u64()).unwrap_or(0);
                        }
                        Packet::Disconnect => { publisher_error = Some("disconnected".into()); break; }
                        _ => {}
                    },
                    other => { publisher_error = Some(ws::end_reason(&other)); break; }
                }
            }
        }
    }
    let steady_s = start.elapsed().as_secs_f64();
    t.stop_acks.set(true);
    eprintln!("loadgen: soak: load stopped after {steady_s:.0} s; draining");

    // ---- drain: every client caught up with its streams, every ack in
    let caught_up = |c: &Client| {
        let room_idx = rooms.iter().position(|r| *r == c.room).unwrap_or(0);
        c.last_room.get().is_none_or(|l| l >= room_seq[room_idx])
            && c.last_all.get().is_none_or(|l| l >= all_seq)
            && c.pending.borrow().is_empty()
    };
    let drain_end = Instant::now() + Duration::from_secs_f64(o.drain);
    loop {
        let behind = clients.iter().filter(|c| !caught_up(c)).count();
        if behind == 0 || Instant::now() >= drain_end {
            break;
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_millis(100)) => {}
            next = ws::next_text(&mut publisher) => {
                if let Ok(Some(text)) = next {
                    match parse(&text, &prefix) {
                        Packet::Ping => { let _ = publisher.send(Message::text("3")).await; }
                        Packet::Ack(_, args) => {
                            pub_acks += 1;
                            pub_delivered += args.first().and_then(|a| a["delivered"].as_u64()).unwrap_or(0);
                        }
                        _ => {}
                    }
                }
            }
        }
    }
    let b = procfs::sample(common.server_pid);
    let rss_end = procfs::rss_kib_opt(common.server_pid);

    // ---- figures
    let mut missing_tail = 0u64;
    let mut no_data = 0u64;
    let mut acks_lost = 0u64;
    for c in &clients {
        let room_idx = rooms.iter().position(|r| *r == c.room).unwrap_or(0);
        match c.last_room.get() {
            Some(l) => missing_tail += room_seq[room_idx].saturating_sub(l),
            None => no_data += 1,
        }
        if let Some(l) = c.last_all.get() {
            missing_tail += all_seq.saturating_sub(l);
        }
        acks_lost += c
            .pending
            .borrow()
            .values()
            .filter(|p| matches!(p, Pending::Msg(..)))
            .count() as u64;
    }
    let after: Vec<(f64, u64)> = rss.iter().copied().filter(|s| s.0 >= warmup).collect();
    let slope = slope_per_min(&after);
    let mean_after = if after.is_empty() {
        None
    } else {
        Some(after.iter().map(|s| s.1 as f64).sum::<f64>() / after.len() as f64)
    };
    let w = procfs::Window::between(&a, &b, common.clk_tck);
    let ack_lat = t.ack_lat.borrow_mut().summary();
    let mut result = json!({
        "scenario": "soak",
        "server": common.server,
        "params": {
            "clients": o.clients, "duration_s": o.duration, "rooms": rooms.len(),
            "room_rate": o.room_rate, "broadcast_every_s": o.broadcast_every,
            "ack_every_s": o.ack_every, "drop_share": o.drop_share, "drop_every_s": drop_every,
            "reconnect_s": [o.reconnect_min, o.reconnect_max], "rss_every_s": rss_every,
            "warmup_s": warmup, "max_slope_kib_per_min": o.max_slope,
            "protocol": o.protocol, "namespace": o.namespace,
        },
        "connected": t.ready.get(),
        "connect_failed": t.connect_failed.get(),
        "connect_s": round(connect_s, 1),
        "steady_s": round(steady_s, 1),
        "published": pub_sent,
        "publisher_acks": pub_acks,
        "publisher_delivered": pub_delivered,
        "publisher_error": publisher_error,
        "room_messages": room_seq.iter().sum::<u64>(),
        "broadcasts": all_seq,
        "received": t.received.get(),
    });
    let more = json!({
        "drop_rounds": rounds,
        "drops": t.drops.get(),
        "drops_asked": dropped_total,
        "reconnects": t.reconnects.get(),
        "recovered": t.recovered.get(),
        "not_recovered": t.not_recovered.get(),
        "reconnect_failed": t.reconnect_failed.get(),
        "no_pid_answers": t.no_pid.get(),
        "replayed_before_connect": t.replayed_before_connect.get(),
        "unexpected_closes": t.unexpected_closes.get(),
        "close_reasons": t.reasons.to_json(),
        "gaps": t.gaps.get(),
        "gap_events": t.gap_events.get(),
        "duplicates": t.duplicates.get(),
        "missing_at_end": missing_tail,
        "clients_without_data": no_data,
        "acks_sent": t.acks_sent.get(),
        "acks_received": t.acks_received.get(),
        "acks_resent": t.acks_resent.get(),
        "acks_duplicate": t.acks_duplicate.get(),
        "acks_mismatch": t.acks_mismatch.get(),
        "acks_lost": acks_lost,
        "ack_latency_us": ack_lat,
        "server_cpu_share": w.server_cpu_s.map(|c| round(c / w.secs.max(1e-9), 3)),
        "gen_cpu_share": w.gen_cpu_s.map(|c| round(c / w.secs.max(1e-9), 3)),
        "rss_start_kib": rss_start,
        "rss_end_kib": rss_end,
        "rss_after_warmup_mean_kib": mean_after.map(|m| m.round()),
        "rss_slope_kib_per_min": slope.map(|s| round(s, 1)),
        "rss_samples": rss.iter().map(|(s, k)| json!([round(*s, 1), k])).collect::<Vec<_>>(),
    });
    if let (Some(r), Value::Object(more)) = (result.as_object_mut(), more) {
        r.extend(more);
    }
    println!("{result}");
    // ---- checks
    let mut checks: Vec<(bool, &str, String)> = Vec::new();
    checks.push((
        t.connect_failed.get() == 0 && t.ready.get() == n,
        "all clients connected",
        format!("{} of {n} in {connect_s:.1} s", t.ready.get()),
    ));
    checks.push((
        acks_lost == 0 && t.acks_mismatch.get() == 0 && t.acks_sent.get() > 0,
        "no lost acks",
        format!(
            "{} acked emits, {} acks, {} lost, {} resent after a drop, {} wrong",
            t.acks_sent.get(),
            t.acks_received.get(),
            acks_lost,
            t.acks_resent.get(),
            t.acks_mismatch.get()
        ),
    ));
    checks.push((
        t.gaps.get() == 0 && t.duplicates.get() == 0 && missing_tail == 0 && t.received.get() > 0,
        "no gaps",
        format!(
            "{} messages received, {} missing in {} gaps, {} duplicates, {} missing at the end; {} reconnects: {} recovered, {} not recovered (new session, counted apart)",
            t.received.get(),
            t.gaps.get(),
            t.gap_events.get(),
            t.duplicates.get(),
            missing_tail,
            t.reconnects.get(),
            t.recovered.get(),
            t.not_recovered.get()
        ),
    ));
    checks.push((
        t.reconnects.get() > 0 && t.recovered.get() == t.reconnects.get(),
        "every reconnect recovered",
        format!(
            "{} of {} (pid in {} CONNECT answers missing)",
            t.recovered.get(),
            t.reconnects.get(),
            t.no_pid.get()
        ),
    ));
    checks.push((
        slope.is_some_and(|s| s <= o.max_slope),
        "RSS flat after warm-up",
        match slope {
            Some(s) => format!(
                "slope {s:.0} KiB/min over {} samples after {warmup:.0} s (limit {:.0}); RSS {} → {} KiB, mean after warm-up {:.0} KiB",
                after.len(),
                o.max_slope,
                rss_start.unwrap_or(0),
                rss_end.unwrap_or(0),
                mean_after.unwrap_or(0.0)
            ),
            None => format!("too few samples after the warm-up ({})", after.len()),
        },
    ));
    checks.push((
        publisher_error.is_none(),
        "publisher stayed connected",
        publisher_error
            .clone()
            .unwrap_or_else(|| format!("{pub_sent} published")),
    ));
    for (ok, name, detail) in &checks {
        println!(
            "check {} {name}: {detail}",
            if *ok { "pass" } else { "fail" }
        );
    }
    Ok(())
}
