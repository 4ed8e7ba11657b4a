//! Fan-out: N clients join one room; one publisher (not in the room) emits
//! `to-room` at a fixed rate with a send timestamp in the payload.
//!
//! The receivers are Socket.IO clients over WebSocket (the default), or —
//! wirehub only, `--via sse|tcp` — plain-envelope clients over Server-Sent
//! Events (`GET /sse?room=`) or the raw TCP gateway (port + 1), so the
//! same server work can be compared across transports in one run.

use super::{parse_stamp, quoted, stamped_payload, wait_until, Counter};
use crate::stats::{Latencies, Report};
use crate::ws::{self, Target};
use crate::{procfs, Common, Result};
use clap::Args;
use futures_util::SinkExt;
use serde_json::json;
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;
use tokio::time::MissedTickBehavior;
use tokio_tungstenite::tungstenite::Message;

/// Options of `fanout`.
#[derive(Args, Debug)]
pub(crate) struct Opts {
    #[command(flatten)]
    common: Common,
    /// Clients in the room.
    #[arg(long, default_value_t = 1000)]
    clients: usize,
    /// Messages per second emitted by the publisher.
    #[arg(long, default_value_t = 50.0)]
    rate: f64,
    /// Seconds of publishing.
    #[arg(long, default_value_t = 8.0)]
    duration: f64,
    /// Payload bytes (one string argument, carrying the timestamp).
    #[arg(long, default_value_t = 64)]
    payload: usize,
    /// Connections being set up at once.
    #[arg(long, default_value_t = 200)]
    connect_concurrency: usize,
    /// Longest wait for stragglers after the last emit, seconds.
    #[arg(long, default_value_t = 5.0)]
    drain: f64,
    /// Name of the variant in the results.
    #[arg(long)]
    variant: Option<String>,
    /// How the receivers connect.
    #[arg(long, value_enum, default_value_t = Via::Socketio)]
    via: Via,
    /// Scenario name in the results (`transports` for the transport comparison).
    #[arg(long, default_value = "fanout")]
    scenario: String,
}

/// The receivers' transport.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Via {
    /// Socket.IO over WebSocket.
    Socketio,
    /// Plain envelope over Server-Sent Events.
    Sse,
    /// Plain envelope over NDJSON on the TCP gateway (server port + 1).
    Tcp,
}

impl Via {
    fn name(self) -> &'static str {
        match self {
            Via::Socketio => "socketio",
            Via::Sse => "sse",
            Via::Tcp => "tcp",
        }
    }
}

/// The receivers' shared tallies.
#[derive(Default)]
pub(crate) struct State {
    pub(crate) ready: Counter,
    pub(crate) failed: Counter,
    pub(crate) closed: Counter,
    pub(crate) received: Counter,
    pub(crate) out_of_order: Counter,
    pub(crate) pings: Counter,
    pub(crate) stop: Cell<bool>,
    pub(crate) lat: RefCell<Latencies>,
    pub(crate) reasons: ws::Reasons,
}

pub(crate) const ROOM: &str = "bench";

pub(crate) async fn run(o: Opts) -> Result<()> {
    let common = o.common.clone();
    let target = Rc::new(Target::new(&common));
    let st = Rc::new(State::default());
    let messages = (o.rate * o.duration).round().max(1.0) as u64;
    *st.lat.borrow_mut() = Latencies::with_capacity((messages as usize) * o.clients);
    let sem = Rc::new(Semaphore::new(o.connect_concurrency));
    eprintln!(
        "loadgen: fanout: {} clients, {} msg/s for {} s ({} messages)",
        o.clients, o.rate, o.duration, messages
    );
    let connect_started = Instant::now();
    for _ in 0..o.clients {
        let (target, st, sem) = (target.clone(), st.clone(), sem.clone());
        let via = o.via;
        tokio::task::spawn_local(async move {
            let permit = sem.acquire().await;
            match via {
                Via::Socketio => socketio_receiver(&target, &st, permit).await,
                Via::Sse | Via::Tcp => plain_receiver(&target, &st, permit, via).await,
            }
        });
    }
    let n = o.clients as u64;
    let ok = wait_until("connecting", Duration::from_secs(120), &common, || {
        let (r, f) = (st.ready.get(), st.failed.get());
        (r + f >= n, format!("{r}/{n} joined, {f} failed"))
    })
    .await;
    let connect_secs = connect_started.elapsed().as_secs_f64();
    if !ok || st.ready.get() == 0 {
        return Err("clients did not join".into());
    }
    let mut publisher = target.socketio().await?;
    // Let connection setup settle (server-side joins, first pings).
    ws::idle_for(&mut publisher, Duration::from_millis(500)).await?;
    let receivers = st.ready.get();
    let closed_before = st.closed.get();
    let pings_before = st.pings.get();

    let a = procfs::sample(common.server_pid);
    let published = publish(&mut publisher, o.rate, messages, o.payload, 0).await;
    let publish_secs = a.at.elapsed().as_secs_f64();
    // Drain: until every receiver got every message, or the drain bound.
    let sent = published.sent;
    let expected = sent * receivers;
    drain(&mut publisher, Duration::from_secs_f64(o.drain), || {
        st.received.get() >= expected
    })
    .await;
    let b = procfs::sample(common.server_pid);
    st.stop.set(true);

    let received = st.received.get();
    let variant = o
        .variant
        .clone()
        .unwrap_or_else(|| format!("{}", o.clients));
    let mut r = Report::new(
        &o.scenario,
        &variant,
        &common,
        json!({ "clients": o.clients, "rate": o.rate, "duration_s": o.duration, "payload": o.payload }),
    );
    r.window(&a, &b, &common, received);
    r.set("latency_us", st.lat.borrow_mut().summary());
    r.set("connected", receivers);
    r.set("connect_failed", st.failed.get());
    r.set("connect_s", crate::stats::round(connect_secs, 2));
    r.set("sent", sent);
    r.set("publish_s", crate::stats::round(publish_secs, 3));
    r.set("expected", expected);
    r.set("lost", expected.saturating_sub(received));
    r.set("out_of_order", st.out_of_order.get());
    r.set("closed_during_run", st.closed.get() - closed_before);
    r.set("closed_total", st.closed.get());
    r.set("publisher_errors", published.errors);
    if let Some(e) = published.error {
        eprintln!("loadgen: publisher connection ended: {e}");
        r.set("publisher_error", e);
    }
    r.set("via", o.via.name());
    r.set("close_reasons", st.reasons.to_json());
    r.set(
        "errors",
        st.failed.get() + st.closed.get() + published.errors,
    );
    r.set("pings", st.pings.get() - pings_before);
    r.emit();
    Ok(())
}

/// What the publisher did: messages sent, and whether its connection failed.
pub(crate) struct Published {
    pub(crate) sent: u64,
    pub(crate) errors: u64,
    pub(crate) error: Option<String>,
}

/// Emits `to-room` to [`ROOM`] `rate` times per second until `messages`
/// were sent (sequence numbers from `first_seq`), answering the engine's
/// pings meanwhile; stops early if the connection fails.
pub(crate) async fn publish(
    publisher: &mut ws::Ws,
    rate: f64,
    messages: u64,
    payload: usize,
    first_seq: u64,
) -> Published {
    let mut tick = tokio::time::interval(Duration::from_secs_f64(1.0 / rate));
    tick.set_missed_tick_behavior(MissedTickBehavior::Burst);
    let mut out = Published {
        sent: 0,
        errors: 0,
        error: None,
    };
    while out.sent < messages {
        tokio::select! {
            _ = tick.tick() => {
                let text = to_room_text(first_seq + out.sent, payload);
                if publisher.send(Message::text(text)).await.is_err() {
                    out.errors += 1;
                    break;
                }
                out.sent += 1;
            }
            t = ws::next_text(publisher) => match t {
                Ok(Some(t)) if t.as_str() == "2" => { let _ = publisher.send(Message::text("3")).await; }
                Ok(Some(t)) if t.as_str() != "1" && !t.starts_with("41") => {}
                other => {
                    out.errors += 1;
                    out.error = Some(ws::end_reason(&other));
                    break;
                }
            }
        }
    }
    out
}

/// The publisher's `to-room` event with a stamped payload.
pub(crate) fn to_room_text(seq: u64, payload: usize) -> String {
    format!(
        "42[\"to-room\",{},{}]",
        quoted(ROOM),
        quoted(&stamped_payload(seq, payload))
    )
}

/// Waits until `done()` or for `bound`, answering the publisher's pings.
pub(crate) async fn drain(publisher: &mut ws::Ws, bound: Duration, done: impl Fn() -> bool) {
    let deadline = Instant::now() + bound;
    let drained = async {
        while !done() && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    };
    tokio::select! {
        _ = drained => {}
        _ = async { loop { match ws::next_text(publisher).await {
            Ok(Some(t)) if t == "2" => { let _ = publisher.send(Message::text("3")).await; }
            Ok(Some(_)) => {}
            _ => std::future::pending::<()>().await,
        } } } => {}
    }
}

impl State {
    /// One received room message: `rest` starts with its stamped payload.
    fn on_message(&self, rest: &str, last_seq: &mut Option<u64>) {
        let now = crate::stats::now_ns();
        if let Some((ts, seq)) = parse_stamp(rest) {
            self.received.inc();
            self.lat.borrow_mut().push_ns(now.saturating_sub(ts));
            if last_seq.is_some_and(|l| seq <= l) {
                self.out_of_order.inc();
            }
            *last_seq = Some(seq);
        }
    }

    fn connect_failed(&self, e: &dyn std::fmt::Display) {
        if self.failed.get() < 5 {
            eprintln!("loadgen: fanout: connect/join failed: {e}");
        }
        self.failed.inc();
    }
}

pub(crate) async fn socketio_receiver(
    target: &Target,
    st: &State,
    permit: std::result::Result<tokio::sync::SemaphorePermit<'_>, tokio::sync::AcquireError>,
) {
    let joined = async {
        let mut ws = target.socketio().await?;
        let ack = tokio::time::timeout(
            ws::STEP_TIMEOUT,
            ws::call(&mut ws, 0, &format!("[\"join\",{}]", quoted(ROOM))),
        )
        .await
        .map_err(|_| "timed out waiting for the join ack")??;
        if ack != "430[\"joined\"]" {
            return Err(format!("unexpected join ack {ack}").into());
        }
        Ok::<_, crate::Error>(ws)
    };
    let mut ws = match joined.await {
        Ok(ws) => ws,
        Err(e) => return st.connect_failed(&e),
    };
    drop(permit);
    st.ready.inc();
    let mut last_seq: Option<u64> = None;
    loop {
        let next = ws::next_text(&mut ws).await;
        match &next {
            Ok(Some(t)) if t.as_str() != "1" && !t.starts_with("41") => {
                if t.as_str() == "2" {
                    let _ = ws.send(Message::text("3")).await;
                    st.pings.inc();
                } else if let Some(rest) = t.strip_prefix("42[\"room-message\",\"") {
                    st.on_message(rest, &mut last_seq);
                }
            }
            _ => {
                if !st.stop.get() {
                    st.closed.inc();
                    st.reasons.add(ws::end_reason(&next));
                }
                return;
            }
        }
    }
}

/// What marks a plain receiver as subscribed: SSE subscribes with the
/// `room` parameter (ready at its hello); TCP joins with an acked envelope.
const SSE_READY: &str = "data: {\"type\":\"hello\"";
const TCP_READY: &str = "{\"type\":\"ack\",\"id\":1";
const ROOM_MESSAGE: &str = "\"event\":\"room-message\",\"data\":\"";

async fn plain_receiver(
    target: &Target,
    st: &State,
    permit: std::result::Result<tokio::sync::SemaphorePermit<'_>, tokio::sync::AcquireError>,
    via: Via,
) {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    let opened = async {
        let mut stream = match via {
            Via::Tcp => target.tcp_port(target.addr.port() + 1).await?,
            _ => target.tcp().await?,
        };
        let hello = match via {
            // HTTP/1.0: the streamed body is delimited by the connection, not chunked.
            Via::Sse => format!(
                "GET /sse?room={ROOM} HTTP/1.0\r\nHost: {}\r\n\r\n",
                target.authority()
            ),
            _ => format!("{{\"type\":\"join\",\"room\":\"{ROOM}\",\"id\":1}}\n"),
        };
        stream.write_all(hello.as_bytes()).await?;
        let mut lines = BufReader::with_capacity(4096, stream).lines();
        let ready = if via == Via::Sse {
            SSE_READY
        } else {
            TCP_READY
        };
        let wait = async {
            while let Some(line) = lines.next_line().await? {
                if line.starts_with(ready) {
                    return Ok::<_, crate::Error>(());
                }
            }
            Err("connection closed before it was subscribed".into())
        };
        tokio::time::timeout(ws::STEP_TIMEOUT, wait)
            .await
            .map_err(|_| "timed out waiting to be subscribed")??;
        Ok::<_, crate::Error>(lines)
    };
    let mut lines = match opened.await {
        Ok(lines) => lines,
        Err(e) => return st.connect_failed(&e),
    };
    drop(permit);
    st.ready.inc();
    let mut last_seq: Option<u64> = None;
    loop {
        match lines.next_line().await {
            Ok(Some(line)) => {
                if let Some(at) = line.find(ROOM_MESSAGE) {
                    st.on_message(&line[at + ROOM_MESSAGE.len()..], &mut last_seq);
                }
            }
            other => {
                if !st.stop.get() {
                    st.closed.inc();
                    let reason = match other {
                        Err(e) => format!("read error: {e}"),
                        _ => "closed by the server".to_owned(),
                    };
                    st.reasons.add(reason);
                }
                return;
            }
        }
    }
}
