//! Long-polling: N HTTP long-polling clients (no upgrade) receive a stream of
//! `broadcast` events emitted at a fixed rate by one WebSocket publisher.

use super::{parse_stamp, quoted, stamped_payload, wait_until, Counter};
use crate::http::HttpConn;
use crate::stats::{round, Latencies, Report};
use crate::ws::{self, Target};
use crate::{procfs, Common, Result};
use bytes::Bytes;
use clap::Args;
use futures_util::SinkExt;
use serde_json::json;
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, Semaphore};
use tokio::time::MissedTickBehavior;
use tokio_tungstenite::tungstenite::Message;
use wirehub_proto::engineio::{payload, Packet};
use wirehub_proto::Str;

/// Options of `polling`.
#[derive(Args, Debug)]
pub(crate) struct Opts {
    #[command(flatten)]
    common: Common,
    /// Long-polling clients.
    #[arg(long, default_value_t = 1000)]
    clients: usize,
    /// Broadcasts per second emitted by the publisher.
    #[arg(long, default_value_t = 20.0)]
    rate: f64,
    /// Seconds of publishing.
    #[arg(long, default_value_t = 8.0)]
    duration: f64,
    /// Payload bytes.
    #[arg(long, default_value_t = 64)]
    payload: usize,
    /// Clients being set up at once.
    #[arg(long, default_value_t = 100)]
    connect_concurrency: usize,
    /// Longest wait for stragglers after the last emit, seconds.
    #[arg(long, default_value_t = 5.0)]
    drain: f64,
}

#[derive(Default)]
struct State {
    ready: Counter,
    failed: Counter,
    closed: Counter,
    received: Counter,
    polls: Counter,
    posts: Counter,
    post_errors: Counter,
    pings: Counter,
    stop: Cell<bool>,
    lat: RefCell<Latencies>,
}

const BASE: &str = "/socket.io/?EIO=4&transport=polling";

/// Handles one polling response body; returns false when the session ended.
fn handle_body(
    st: &State,
    body: Bytes,
    connected: &mut bool,
    pongs: &mpsc::UnboundedSender<()>,
) -> bool {
    let Ok(text) = Str::from_utf8(body) else {
        return false;
    };
    for record in text.split('\u{1e}') {
        match Packet::decode_text(text.slice_ref(record)) {
            Ok(Packet::Ping) => {
                st.pings.inc();
                let _ = pongs.send(());
            }
            Ok(Packet::Message(wirehub_proto::engineio::Message::Text(m))) => {
                if let Some(rest) = m.strip_prefix("2[\"broadcast-message\",\"") {
                    let now = crate::stats::now_ns();
                    if let Some((ts, _)) = parse_stamp(rest) {
                        st.received.inc();
                        st.lat.borrow_mut().push_ns(now.saturating_sub(ts));
                    }
                } else if m.starts_with("0") {
                    *connected = true;
                } else if m.starts_with("4") || m.starts_with("1") {
                    return false;
                }
            }
            Ok(Packet::Close) => return false,
            _ => {}
        }
    }
    true
}

async fn client(target: Rc<Target>, st: Rc<State>, sem: Rc<Semaphore>) -> Result<()> {
    let permit = sem.acquire().await;
    let mut get = HttpConn::new(target.clone());
    let open = get.request("GET", BASE, b"").await?;
    if open.status != 200 || !open.body.starts_with(b"0") {
        return Err(format!("handshake answered {}", open.status).into());
    }
    let open_text = std::str::from_utf8(&open.body)?;
    let sid = open_text
        .split_once("\"sid\":\"")
        .and_then(|(_, rest)| rest.split_once('"'))
        .map(|(sid, _)| sid.to_owned())
        .ok_or("no sid in the open packet")?;
    let path = format!("{BASE}&sid={sid}");
    let mut post = HttpConn::new(target.clone());
    let r = post.request("POST", &path, b"40").await?;
    if r.status != 200 {
        return Err(format!("POST 40 answered {}", r.status).into());
    }
    // Pongs go through their own connection, so that a pending GET never
    // delays them.
    let (pong_tx, mut pong_rx) = mpsc::unbounded_channel::<()>();
    {
        let (st, path) = (st.clone(), path.clone());
        tokio::task::spawn_local(async move {
            let pong = Packet::Pong.to_frame();
            while pong_rx.recv().await.is_some() {
                let mut n = 1;
                while pong_rx.try_recv().is_ok() {
                    n += 1;
                }
                let body = payload::encode(std::iter::repeat_n(&pong, n));
                match post.request("POST", &path, &body).await {
                    Ok(r) if r.status == 200 => st.posts.inc(),
                    other => {
                        if !st.stop.get() {
                            st.post_errors.inc();
                            if st.post_errors.get() <= 3 {
                                match other {
                                    Ok(r) => eprintln!(
                                        "loadgen: polling: pong POST answered {}",
                                        r.status
                                    ),
                                    Err(e) => eprintln!("loadgen: polling: pong POST failed: {e}"),
                                }
                            }
                        }
                    }
                }
            }
        });
    }
    let mut connected = false;
    let mut permit = Some(permit);
    loop {
        let r = get.request("GET", &path, b"").await;
        let r = match r {
            Ok(r) if r.status == 200 => r,
            Ok(r) => return Err(format!("poll answered {}", r.status).into()),
            Err(e) => return Err(e),
        };
        st.polls.inc();
        let was_connected = connected;
        if !handle_body(&st, r.body, &mut connected, &pong_tx) {
            return Err("session closed by the server".into());
        }
        if connected && !was_connected {
            permit.take();
            st.ready.inc();
        }
        if st.stop.get() {
            return Ok(());
        }
    }
}

pub(crate) async fn run(o: Opts) -> Result<()> {
    let common = o.common.clone();
    let target = Rc::new(Target::new(&common));
    let st = Rc::new(State::default());
    let messages = (o.rate * o.duration).round().max(1.0) as u64;
    *st.lat.borrow_mut() = Latencies::with_capacity(messages as usize * o.clients);
    let sem = Rc::new(Semaphore::new(o.connect_concurrency));
    eprintln!(
        "loadgen: polling: {} clients, {} broadcasts/s for {} s",
        o.clients, o.rate, o.duration
    );
    for _ in 0..o.clients {
        let (target, st2, sem) = (target.clone(), st.clone(), sem.clone());
        tokio::task::spawn_local(async move {
            let result = client(target, st2.clone(), sem).await;
            if let Err(e) = result {
                if st2.stop.get() {
                    return;
                }
                if st2.failed.get() + st2.closed.get() < 5 {
                    eprintln!("loadgen: polling: client error: {e}");
                }
                // Before `ready`: a failed setup; after: a lost session.
                st2.closed.inc();
            }
        });
    }
    let n = o.clients as u64;
    let ok = wait_until("connecting", Duration::from_secs(120), &common, || {
        let (r, c) = (st.ready.get(), st.closed.get());
        (r + c >= n, format!("{r}/{n} connected, {c} failed"))
    })
    .await;
    if !ok || st.ready.get() == 0 {
        return Err("polling clients did not connect".into());
    }
    let mut publisher = target.socketio().await?;
    ws::idle_for(&mut publisher, Duration::from_millis(500)).await?;
    let receivers = st.ready.get();
    let errors_before = st.closed.get();
    let (polls_before, posts_before, pings_before) =
        (st.polls.get(), st.posts.get(), st.pings.get());

    let a = procfs::sample(common.server_pid);
    let mut tick = tokio::time::interval(Duration::from_secs_f64(1.0 / o.rate));
    tick.set_missed_tick_behavior(MissedTickBehavior::Burst);
    let mut sent = 0u64;
    let mut publisher_errors = 0u64;
    let mut publisher_error: Option<String> = None;
    while sent < messages {
        tokio::select! {
            _ = tick.tick() => {
                let text = format!("42[\"broadcast\",{}]", quoted(&stamped_payload(sent, o.payload)));
                if publisher.send(Message::text(text)).await.is_err() {
                    publisher_errors += 1;
                    break;
                }
                sent += 1;
            }
            t = ws::next_text(&mut publisher) => match t {
                Ok(Some(t)) if t.as_str() == "2" => { let _ = publisher.send(Message::text("3")).await; }
                Ok(Some(t)) if t.as_str() != "1" && !t.starts_with("41") => {}
                other => {
                    publisher_errors += 1;
                    publisher_error = Some(ws::end_reason(&other));
                    break;
                }
            }
        }
    }
    let publish_secs = a.at.elapsed().as_secs_f64();
    let expected = sent * receivers;
    let drain_deadline = Instant::now() + Duration::from_secs_f64(o.drain);
    let drained = async {
        while st.received.get() < expected && Instant::now() < drain_deadline {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    };
    tokio::select! {
        _ = drained => {}
        _ = async { loop { match ws::next_text(&mut publisher).await {
            Ok(Some(t)) if t == "2" => { let _ = publisher.send(Message::text("3")).await; }
            Ok(Some(_)) => {}
            _ => std::future::pending::<()>().await,
        } } } => {}
    }
    let b = procfs::sample(common.server_pid);
    st.stop.set(true);

    let received = st.received.get();
    let mut r = Report::new(
        "polling",
        &format!("{}", o.clients),
        &common,
        json!({ "clients": o.clients, "rate": o.rate, "duration_s": o.duration, "payload": o.payload }),
    );
    r.window(&a, &b, &common, received);
    r.set("latency_us", st.lat.borrow_mut().summary());
    r.set("connected", receivers);
    r.set("sent", sent);
    r.set("publish_s", round(publish_secs, 3));
    r.set("expected", expected);
    r.set("lost", expected.saturating_sub(received));
    r.set("polls", st.polls.get() - polls_before);
    r.set("pong_posts", st.posts.get() - posts_before);
    r.set("pings", st.pings.get() - pings_before);
    r.set("closed_during_run", st.closed.get() - errors_before);
    r.set("publisher_errors", publisher_errors);
    if let Some(e) = publisher_error {
        eprintln!("loadgen: publisher connection ended: {e}");
        r.set("publisher_error", e);
    }
    r.set("pong_post_errors", st.post_errors.get());
    r.set(
        "errors",
        st.closed.get() + st.post_errors.get() + publisher_errors,
    );
    r.emit();
    Ok(())
}
