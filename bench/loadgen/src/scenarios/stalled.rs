//! Stalled client: the fan-out of `fanout` (N receivers in one room, one
//! publisher emitting `to-room` at a fixed rate) measured twice on the same
//! connections: first as is (*baseline*), then with one more client in the
//! room that completed its handshake and joined, and then stopped reading
//! its socket (*stalled*). The other receivers' latency in both phases, and
//! the server's RSS before and after the stalled client's buffers filled
//! up, tell whether one client that does not read delays the others and
//! whether the server's memory stays bounded meanwhile.
//!
//! The stalled client opens its TCP connection with a small receive buffer
//! (`--recv-buffer`, 4 KiB by default), joins the room, and from then on
//! never reads. To have its buffers full when the measurement starts (the
//! room's 64-byte messages alone would take minutes to fill a send buffer),
//! it first asks for `--fill-kib` (8 MiB) of echoes addressed to it alone
//! (contract event `message` → `message-back`, 16 KiB each): the kernel
//! buffers on both ends fill up (the server's send buffer grows up to
//! `tcp_wmem`'s maximum, 4 MiB by default) and the rest waits in the server
//! (its per-connection queue, or whatever the library keeps). The generator confirms the stall
//! in /proc/net/tcp (bytes waiting in the server socket's send queue and in
//! the client's receive queue) before the stalled phase starts.
//!
//! It keeps writing Engine.IO pongs (`3`) twice a second without reading
//! the server's pings, so the heartbeat does not close it during the
//! phase: the case measured is a connection that stays open and does not
//! read, not one that disappears. At the end its server-side socket state
//! is recorded (still established, closed by the server, or reset).

use super::fanout::{self, socketio_receiver, State, ROOM};
use super::{quoted, wait_until};
use crate::stats::{round, Latencies, Report};
use crate::ws::{self, Target};
use crate::{procfs, Common, Result};
use clap::Args;
use futures_util::SinkExt;
use serde_json::{json, Value};
use std::cell::Cell;
use std::net::SocketAddr;
use std::rc::Rc;
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;
use tokio_tungstenite::tungstenite::Message;

/// Options of `stalled`.
#[derive(Args, Debug)]
pub(crate) struct Opts {
    #[command(flatten)]
    common: Common,
    /// Receivers in the room (besides the stalled client).
    #[arg(long, default_value_t = 1000)]
    clients: usize,
    /// Messages per second emitted by the publisher.
    #[arg(long, default_value_t = 20.0)]
    rate: f64,
    /// Seconds of publishing in each phase.
    #[arg(long, default_value_t = 8.0)]
    duration: f64,
    /// Payload bytes of the room messages.
    #[arg(long, default_value_t = 64)]
    payload: usize,
    /// Connections being set up at once.
    #[arg(long, default_value_t = 200)]
    connect_concurrency: usize,
    /// Longest wait for stragglers after the last emit of a phase, seconds.
    #[arg(long, default_value_t = 5.0)]
    drain: f64,
    /// SO_RCVBUF of the stalled client's socket, bytes.
    #[arg(long, default_value_t = 4096)]
    recv_buffer: u32,
    /// KiB of echoes the stalled client asks for before the stalled phase
    /// (more than the largest kernel send buffer, `tcp_wmem`'s 4 MiB by
    /// default, so that some of it waits in the server itself).
    #[arg(long, default_value_t = 8192)]
    fill_kib: usize,
    /// Name of the variant in the results.
    #[arg(long)]
    variant: Option<String>,
}

/// Size of each echo of the fill.
const FILL_MESSAGE: usize = 16 * 1024;

/// The figures of one publishing phase.
struct Phase {
    a: procfs::Sample,
    b: procfs::Sample,
    sent: u64,
    received: u64,
    expected: u64,
    closed: u64,
    lat: Latencies,
    publisher_error: Option<String>,
}

async fn phase(
    publisher: &mut ws::Ws,
    st: &State,
    o: &Opts,
    first_seq: u64,
    receivers: u64,
) -> Phase {
    let messages = (o.rate * o.duration).round().max(1.0) as u64;
    let received0 = st.received.get();
    let closed0 = st.closed.get();
    *st.lat.borrow_mut() = Latencies::with_capacity(messages as usize * receivers as usize);
    let a = procfs::sample(o.common.server_pid);
    let published = fanout::publish(publisher, o.rate, messages, o.payload, first_seq).await;
    let expected = published.sent * receivers;
    fanout::drain(publisher, Duration::from_secs_f64(o.drain), || {
        st.received.get() - received0 >= expected
    })
    .await;
    let b = procfs::sample(o.common.server_pid);
    Phase {
        a,
        b,
        sent: published.sent,
        received: st.received.get() - received0,
        expected,
        closed: st.closed.get() - closed0,
        lat: std::mem::take(&mut *st.lat.borrow_mut()),
        publisher_error: published.error,
    }
}

/// Where the stalled client's bytes wait: the server socket's send queue
/// and the client socket's receive queue, with the server socket's state.
fn stall_queues(server: SocketAddr, client: SocketAddr) -> Value {
    let s = procfs::tcp_queues(server, client);
    let c = procfs::tcp_queues(client, server);
    json!({
        "server_state": s.map(|q| state_name(q.state)).unwrap_or("gone"),
        "server_send_queue": s.map(|q| q.tx),
        "client_state": c.map(|q| state_name(q.state)).unwrap_or("gone"),
        "client_recv_queue": c.map(|q| q.rx),
    })
}

fn state_name(state: u8) -> &'static str {
    match state {
        1 => "established",
        4 => "fin-wait-1 (closed by the server)",
        5 => "fin-wait-2",
        6 => "time-wait",
        7 => "closed",
        8 => "close-wait (closed by the server)",
        11 => "closing",
        _ => "other",
    }
}

pub(crate) async fn run(o: Opts) -> Result<()> {
    let common = o.common.clone();
    let target = Rc::new(Target::new(&common));
    let st = Rc::new(State::default());
    let sem = Rc::new(Semaphore::new(o.connect_concurrency));
    eprintln!(
        "loadgen: stalled: {} clients, {} msg/s for {} s, twice (baseline, then with one stalled client)",
        o.clients, o.rate, o.duration
    );
    for _ in 0..o.clients {
        let (target, st, sem) = (target.clone(), st.clone(), sem.clone());
        tokio::task::spawn_local(async move {
            let permit = sem.acquire().await;
            socketio_receiver(&target, &st, permit).await;
        });
    }
    let n = o.clients as u64;
    let ok = wait_until("connecting", Duration::from_secs(120), &common, || {
        let (r, f) = (st.ready.get(), st.failed.get());
        (r + f >= n, format!("{r}/{n} joined, {f} failed"))
    })
    .await;
    if !ok || st.ready.get() == 0 {
        return Err("clients did not join".into());
    }
    let mut publisher = target.socketio().await?;
    ws::idle_for(&mut publisher, Duration::from_millis(500)).await?;
    let receivers = st.ready.get();
    let messages = (o.rate * o.duration).round().max(1.0) as u64;

    // ---- baseline
    let mut base = phase(&mut publisher, &st, &o, 0, receivers).await;
    eprintln!(
        "loadgen: stalled: baseline: {} of {} delivered",
        base.received, base.expected
    );

    // ---- the stalled client: connect, join, then never read again
    let rss_before = procfs::rss_kib_opt(common.server_pid);
    let path = "/socket.io/?EIO=4&transport=websocket";
    let mut stalled = tokio::time::timeout(
        ws::STEP_TIMEOUT,
        target.websocket_with(path, Some(o.recv_buffer)),
    )
    .await
    .map_err(|_| "stalled client: timed out in TCP connect + WebSocket upgrade")??;
    tokio::time::timeout(ws::STEP_TIMEOUT, ws::sio_connect(&mut stalled))
        .await
        .map_err(|_| "stalled client: timed out in the Socket.IO connect")??;
    let ack = tokio::time::timeout(
        ws::STEP_TIMEOUT,
        ws::call(&mut stalled, 0, &format!("[\"join\",{}]", quoted(ROOM))),
    )
    .await
    .map_err(|_| "stalled client: timed out waiting for the join ack")??;
    if ack != "430[\"joined\"]" {
        return Err(format!("stalled client: unexpected join ack {ack}").into());
    }
    let client_addr = stalled.get_ref().local_addr()?;
    let server_addr = target.addr;
    // Its fill: echoes to itself alone, written without reading.
    let filler = format!("42[\"message\",{}]", quoted(&"x".repeat(FILL_MESSAGE)));
    let fills = (o.fill_kib * 1024).div_ceil(FILL_MESSAGE);
    for _ in 0..fills {
        stalled.feed(Message::text(filler.clone())).await?;
    }
    stalled.flush().await?;
    // From here on only pongs are written, never a byte read.
    let stop = Rc::new(Cell::new(false));
    let write_error: Rc<std::cell::RefCell<Option<String>>> = Rc::default();
    let pongs = {
        let (stop, write_error) = (stop.clone(), write_error.clone());
        tokio::task::spawn_local(async move {
            while !stop.get() {
                tokio::time::sleep(Duration::from_millis(500)).await;
                if let Err(e) = stalled.send(Message::text("3")).await {
                    *write_error.borrow_mut() = Some(e.to_string());
                    break;
                }
            }
            stalled
        })
    };
    // Wait (bounded) until the fill sits still in the kernel buffers.
    let started = Instant::now();
    let mut last = None;
    let mut still = 0;
    let mut confirmed = false;
    while started.elapsed() < Duration::from_secs(10) {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let s = procfs::tcp_queues(server_addr, client_addr);
        let c = procfs::tcp_queues(client_addr, server_addr);
        let now = (s.map(|q| q.tx), c.map(|q| q.rx));
        if Some(now) == last && s.is_some_and(|q| q.tx > 0) && c.is_some_and(|q| q.rx > 0) {
            still += 1;
            if still >= 3 {
                confirmed = true;
                break;
            }
        } else {
            still = 0;
        }
        last = Some(now);
    }
    let stall_at_start = stall_queues(server_addr, client_addr);
    eprintln!(
        "loadgen: stalled: stall {} after {:.1} s: {stall_at_start}",
        if confirmed { "confirmed" } else { "NOT confirmed" },
        started.elapsed().as_secs_f64()
    );
    let rss_after_fill = procfs::rss_kib_opt(common.server_pid);

    // ---- the stalled phase, with the server's RSS peak sampled meanwhile
    let peak = Rc::new(Cell::new(rss_after_fill.unwrap_or(0)));
    let sampling = Rc::new(Cell::new(true));
    {
        let (peak, sampling, pid) = (peak.clone(), sampling.clone(), common.server_pid);
        tokio::task::spawn_local(async move {
            while sampling.get() {
                if let Some(r) = procfs::rss_kib_opt(pid) {
                    peak.set(peak.get().max(r));
                }
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        });
    }
    let mut stalled_phase = phase(&mut publisher, &st, &o, messages, receivers).await;
    sampling.set(false);
    let rss_end = procfs::rss_kib_opt(common.server_pid);
    let stall_at_end = stall_queues(server_addr, client_addr);
    stop.set(true);
    st.stop.set(true);
    eprintln!("loadgen: stalled: at the end: {stall_at_end}");

    let variant = o
        .variant
        .clone()
        .unwrap_or_else(|| format!("{}@{}", o.clients, o.rate));
    let mut r = Report::new(
        "stalled",
        &variant,
        &common,
        json!({
            "clients": o.clients, "rate": o.rate, "duration_s": o.duration, "payload": o.payload,
            "recv_buffer": o.recv_buffer, "fill_kib": o.fill_kib,
        }),
    );
    r.window(&stalled_phase.a, &stalled_phase.b, &common, stalled_phase.received);
    let lat = stalled_phase.lat.summary();
    let base_lat = base.lat.summary();
    let ratio = |k: &str| match (lat[k].as_f64(), base_lat[k].as_f64()) {
        (Some(x), Some(b)) if b > 0.0 => json!(round(x / b, 3)),
        _ => Value::Null,
    };
    r.set("p99_ratio", ratio("p99"));
    r.set("p50_ratio", ratio("p50"));
    r.set("latency_us", lat);
    let bw = procfs::Window::between(&base.a, &base.b, common.clk_tck);
    r.set(
        "baseline",
        json!({
            "latency_us": base_lat,
            "sent": base.sent,
            "received": base.received,
            "expected": base.expected,
            "lost": base.expected.saturating_sub(base.received),
            "per_s": round(base.received as f64 / bw.secs.max(1e-9), 1),
            "server_cpu_share": bw.server_cpu_s.map(|c| round(c / bw.secs.max(1e-9), 3)),
            "rss_growth_kib": match (base.a.server_rss_kib, base.b.server_rss_kib) {
                (Some(a), Some(b)) => json!(b as i64 - a as i64),
                _ => Value::Null,
            },
        }),
    );
    let diff = |a: Option<u64>, b: Option<u64>| match (a, b) {
        (Some(a), Some(b)) => json!(b as i64 - a as i64),
        _ => Value::Null,
    };
    r.set("rss_before_kib", json!(rss_before));
    r.set("rss_after_fill_kib", json!(rss_after_fill));
    r.set("rss_end_kib", json!(rss_end));
    r.set("rss_peak_kib", json!(peak.get()));
    // From before the stalled client connected to the end of its phase.
    r.set("rss_growth_kib", diff(rss_before, rss_end));
    // During the stalled phase alone (its buffers already full).
    r.set("rss_growth_during_kib", diff(rss_after_fill, rss_end));
    r.set(
        "stall",
        json!({
            "confirmed": confirmed,
            "fill_bytes": fills * FILL_MESSAGE,
            "at_start": stall_at_start,
            "at_end": stall_at_end,
            "write_error": *write_error.borrow(),
        }),
    );
    r.set("connected", receivers);
    r.set("connect_failed", st.failed.get());
    r.set("sent", stalled_phase.sent);
    r.set("expected", stalled_phase.expected);
    r.set(
        "lost",
        stalled_phase.expected.saturating_sub(stalled_phase.received),
    );
    r.set("closed_during_run", base.closed + stalled_phase.closed);
    let publisher_errors = u64::from(base.publisher_error.is_some())
        + u64::from(stalled_phase.publisher_error.is_some());
    r.set("publisher_errors", publisher_errors);
    if let Some(e) = stalled_phase.publisher_error.or(base.publisher_error) {
        r.set("publisher_error", e);
    }
    r.set("close_reasons", st.reasons.to_json());
    r.set(
        "errors",
        st.failed.get() + base.closed + stalled_phase.closed + publisher_errors,
    );
    r.emit();
    drop(pongs);
    Ok(())
}
