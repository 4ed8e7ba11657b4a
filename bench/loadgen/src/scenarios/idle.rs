//! Idle memory: N WebSocket connections that only answer pings; server RSS
//! before and after, per connection. With `--bare`, plain WebSocket
//! connections to an echo server (the WebSocket-layer comparison,
//! `bench/ws-crates`).

use super::{wait_until, Counter};
use crate::stats::{round, Report};
use crate::ws::{self, Target};
use crate::{procfs, Common, Result};
use clap::Args;
use futures_util::SinkExt;
use serde_json::json;
use std::cell::Cell;
use std::rc::Rc;
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;
use tokio_tungstenite::tungstenite::Message;

/// Options of `idle`.
#[derive(Args, Debug)]
pub(crate) struct Opts {
    #[command(flatten)]
    common: Common,
    /// Idle connections to open.
    #[arg(long, default_value_t = 10_000)]
    clients: usize,
    /// Seconds to stay connected (answering pings) before the RSS sample.
    #[arg(long, default_value_t = 5.0)]
    settle: f64,
    /// Connections being set up at once.
    #[arg(long, default_value_t = 200)]
    connect_concurrency: usize,
    /// Bare WebSocket connections to `/` (no Engine.IO or Socket.IO).
    #[arg(long)]
    bare: bool,
}

#[derive(Default)]
struct State {
    ready: Counter,
    failed: Counter,
    closed: Counter,
    pings: Counter,
    stop: Cell<bool>,
    reasons: ws::Reasons,
}

pub(crate) async fn run(o: Opts) -> Result<()> {
    let common = o.common.clone();
    let pid = common.server_pid.ok_or("idle needs --server-pid")?;
    let target = Rc::new(Target::new(&common));
    let st = Rc::new(State::default());
    let sem = Rc::new(Semaphore::new(o.connect_concurrency));
    eprintln!("loadgen: idle: {} connections", o.clients);
    let base = procfs::sample(Some(pid));
    let rss_before = base.server_rss_kib.ok_or("cannot read the server RSS")?;
    let started = Instant::now();
    let bare = o.bare;
    for _ in 0..o.clients {
        let (target, st, sem) = (target.clone(), st.clone(), sem.clone());
        tokio::task::spawn_local(async move {
            let permit = sem.acquire().await;
            let connect = async {
                if bare {
                    target.bare().await
                } else {
                    target.socketio().await
                }
            };
            let mut ws = match tokio::time::timeout(Duration::from_secs(20), connect).await {
                Ok(Ok(ws)) => ws,
                other => {
                    if st.failed.get() < 5 {
                        match other {
                            Ok(Err(e)) => eprintln!("loadgen: idle: connect failed: {e}"),
                            _ => eprintln!("loadgen: idle: connect timed out"),
                        }
                    }
                    st.failed.inc();
                    return;
                }
            };
            drop(permit);
            st.ready.inc();
            loop {
                let next = ws::next_text(&mut ws).await;
                match &next {
                    Ok(Some(t)) if t.as_str() == "2" => {
                        let _ = ws.send(Message::text("3")).await;
                        st.pings.inc();
                    }
                    Ok(Some(t)) if t.as_str() != "1" && !t.starts_with("41") => {}
                    _ => {
                        if !st.stop.get() {
                            st.closed.inc();
                            st.reasons.add(ws::end_reason(&next));
                        }
                        return;
                    }
                }
            }
        });
    }
    let n = o.clients as u64;
    let rss_peak = Rc::new(Cell::new(rss_before));
    let mut last_rss_check = Instant::now();
    let ok = wait_until("connecting", Duration::from_secs(180), &common, || {
        if last_rss_check.elapsed() >= Duration::from_millis(250) {
            last_rss_check = Instant::now();
            if let Some(r) = procfs::rss_kib(pid) {
                rss_peak.set(rss_peak.get().max(r));
            }
        }
        let (r, f) = (st.ready.get(), st.failed.get());
        (
            r + f >= n,
            format!("{r}/{n} connected, {f} failed, {} closed", st.closed.get()),
        )
    })
    .await;
    let connect_secs = started.elapsed().as_secs_f64();
    if !ok {
        eprintln!("loadgen: idle: not all connections were set up; measuring what is there");
    }
    let connected = st.ready.get();
    let closed_before = st.closed.get();
    let pings_before = st.pings.get();
    let a = procfs::sample(Some(pid));
    let settle_end = Instant::now() + Duration::from_secs_f64(o.settle);
    while Instant::now() < settle_end {
        tokio::time::sleep(Duration::from_millis(250)).await;
        if let Some(r) = procfs::rss_kib(pid) {
            rss_peak.set(rss_peak.get().max(r));
        }
    }
    let b = procfs::sample(Some(pid));
    st.stop.set(true);
    let rss_after = b.server_rss_kib.ok_or("cannot read the server RSS")?;
    let alive = connected - (st.closed.get().min(connected));

    let mut r = Report::new(
        if bare { "bare-idle" } else { "idle" },
        &format!("{}", o.clients),
        &common,
        json!({ "clients": o.clients, "settle_s": o.settle }),
    );
    // The window is the settle period: its CPU is the cost of keeping the
    // connections (heartbeats); `count` is the connections held.
    r.window(&a, &b, &common, alive);
    r.set("connected", connected);
    r.set("connect_failed", st.failed.get());
    r.set("closed_during_settle", st.closed.get() - closed_before);
    r.set("closed_total", st.closed.get());
    r.set("connect_s", round(connect_secs, 2));
    r.set(
        "connect_per_s",
        round(connected as f64 / connect_secs.max(1e-9), 1),
    );
    r.set("rss_before_kib", rss_before);
    r.set("rss_after_kib", rss_after);
    r.set("rss_peak_kib", rss_peak.get());
    if alive > 0 {
        r.set(
            "rss_per_conn_kib",
            round(
                rss_after.saturating_sub(rss_before) as f64 / alive as f64,
                2,
            ),
        );
    }
    r.set("pings", st.pings.get() - pings_before);
    r.set("close_reasons", st.reasons.to_json());
    r.set("errors", st.failed.get() + st.closed.get());
    r.emit();
    Ok(())
}
