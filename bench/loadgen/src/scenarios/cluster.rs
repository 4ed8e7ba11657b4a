//! Cross-node broadcast: two server processes of the same kind joined by a
//! cluster adapter (Redis or NATS); the room's receivers are split between
//! them (even-numbered on node A, odd on node B) and one publisher on node A
//! (not in the room) emits `to-room` at a fixed rate, a send timestamp in
//! the payload — the fan-out scenario's machinery, across a broker.
//!
//! Receivers on node A are *local* (node A delivers itself), receivers on
//! node B are *remote* (the message crossed the broker); each group has its
//! own latency and loss figures besides the totals. The throughput figure
//! is deliveries per server CPU-second with the CPU of both nodes summed;
//! the broker's CPU (`--broker-pid`) is reported apart and is not charged
//! to the servers.

use super::fanout::{drain, publish, socketio_receiver, State};
use super::wait_until;
use crate::stats::{Latencies, Report};
use crate::ws::{self, Target};
use crate::{procfs, Common, Result};
use clap::Args;
use serde_json::json;
use std::rc::Rc;
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;

/// Options of `cluster` (`--port` and `--server-pid` are node A's).
#[derive(Args, Debug)]
pub(crate) struct Opts {
    #[command(flatten)]
    common: Common,
    /// Node B's port on 127.0.0.1.
    #[arg(long)]
    port_b: u16,
    /// Node B's PID (its CPU is added to node A's).
    #[arg(long)]
    server_pid_b: Option<u32>,
    /// The broker's PID (Redis, NATS), sampled apart.
    #[arg(long)]
    broker_pid: Option<u32>,
    /// Name of the cluster adapter, copied into the result (redis, nats).
    #[arg(long, default_value = "redis")]
    adapter: String,
    /// Receivers in the room, on both nodes together.
    #[arg(long, default_value_t = 1000)]
    clients: usize,
    /// Messages per second emitted by the publisher.
    #[arg(long, default_value_t = 20.0)]
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
}

/// Longest wait for the warm-up message to reach every receiver.
const WARMUP_BOUND: Duration = Duration::from_secs(10);

pub(crate) async fn run(o: Opts) -> Result<()> {
    let common = o.common.clone();
    let targets = [
        Rc::new(Target::new(&common)),
        Rc::new(Target::at_port(&common, o.port_b)),
    ];
    // [local (node A), remote (node B)]
    let sts = [Rc::new(State::default()), Rc::new(State::default())];
    let messages = (o.rate * o.duration).round().max(1.0) as u64;
    let sem = Rc::new(Semaphore::new(o.connect_concurrency));
    eprintln!(
        "loadgen: cluster ({}): {} clients on 2 nodes, {} msg/s for {} s ({} messages)",
        o.adapter, o.clients, o.rate, o.duration, messages
    );
    let connect_started = Instant::now();
    for i in 0..o.clients {
        let (target, st, sem) = (targets[i % 2].clone(), sts[i % 2].clone(), sem.clone());
        tokio::task::spawn_local(async move {
            let permit = sem.acquire().await;
            socketio_receiver(&target, &st, permit).await
        });
    }
    let n = o.clients as u64;
    let sum = |f: &dyn Fn(&State) -> u64| f(&sts[0]) + f(&sts[1]);
    let ok = wait_until("connecting", Duration::from_secs(120), &common, || {
        let (r, f) = (sum(&|s| s.ready.get()), sum(&|s| s.failed.get()));
        let alive_b = o.server_pid_b.is_none_or(procfs::alive);
        (
            r + f >= n || !alive_b,
            format!("{r}/{n} joined, {f} failed"),
        )
    })
    .await;
    let connect_secs = connect_started.elapsed().as_secs_f64();
    if !ok || sts[0].ready.get() == 0 || sts[1].ready.get() == 0 {
        return Err("clients did not join on both nodes".into());
    }
    let mut publisher = targets[0].socketio().await?;
    // Let connection setup settle (server-side joins, first pings).
    ws::idle_for(&mut publisher, Duration::from_millis(500)).await?;
    let ready = [sts[0].ready.get(), sts[1].ready.get()];
    let receivers = ready[0] + ready[1];

    // Warm-up: one message (sequence 0) must reach the receivers of both
    // nodes before the window opens, so that the window measures a working
    // cluster, not the adapter's first subscription.
    let warm_started = Instant::now();
    let warm = publish(&mut publisher, 1.0, 1, o.payload, 0).await;
    if warm.sent == 1 {
        drain(&mut publisher, WARMUP_BOUND, || {
            sum(&|s| s.received.get()) >= receivers
        })
        .await;
    }
    let warmup_s = warm_started.elapsed().as_secs_f64();
    let warm_received = [sts[0].received.get(), sts[1].received.get()];
    if warm_received[1] == 0 {
        return Err(format!(
            "no message crossed to node B within {} s (the warm-up reached {} of {} local receivers)",
            WARMUP_BOUND.as_secs(),
            warm_received[0],
            ready[0]
        )
        .into());
    }
    for st in &sts {
        *st.lat.borrow_mut() = Latencies::with_capacity(messages as usize * o.clients / 2 + 1);
    }
    let closed_before = sum(&|s| s.closed.get());
    let pings_before = sum(&|s| s.pings.get());
    let pids: Vec<u32> = common
        .server_pid
        .into_iter()
        .chain(o.server_pid_b)
        .collect();

    let a = procfs::sample_all(&pids);
    let broker_a = o.broker_pid.and_then(procfs::process_ticks);
    let published = publish(&mut publisher, o.rate, messages, o.payload, 1).await;
    let publish_secs = a.at.elapsed().as_secs_f64();
    let sent = published.sent;
    let expected = sent * receivers;
    drain(&mut publisher, Duration::from_secs_f64(o.drain), || {
        sum(&|s| s.received.get()) - warm_received[0] - warm_received[1] >= expected
    })
    .await;
    let b = procfs::sample_all(&pids);
    let broker_b = o.broker_pid.and_then(procfs::process_ticks);
    for st in &sts {
        st.stop.set(true);
    }

    let got = [
        sts[0].received.get() - warm_received[0],
        sts[1].received.get() - warm_received[1],
    ];
    let received = got[0] + got[1];
    let variant = o
        .variant
        .clone()
        .unwrap_or_else(|| format!("{}/{}@{}", o.adapter, o.clients, o.rate));
    let mut r = Report::new(
        "cluster",
        &variant,
        &common,
        json!({
            "clients": o.clients, "rate": o.rate, "duration_s": o.duration,
            "payload": o.payload, "adapter": o.adapter, "nodes": 2,
        }),
    );
    let w = r.window(&a, &b, &common, received);
    if let (Some(x), Some(y)) = (broker_a, broker_b) {
        let cpu = y.saturating_sub(x) as f64 / common.clk_tck.max(1) as f64;
        r.set("broker_cpu_s", crate::stats::round(cpu, 3));
        r.set(
            "broker_cpu_share",
            crate::stats::round(cpu / w.secs.max(1e-9), 3),
        );
        // The broker's time is the scenario's own, not other work.
        if let (Some(s), Some(g)) = (w.server_cpu_s, w.gen_cpu_s) {
            let busy: f64 = w.cores_busy.iter().sum();
            let other = busy - (s + g + cpu) / w.secs.max(1e-9);
            r.set("other_busy_cores", crate::stats::round(other.max(0.0), 3));
        }
    }
    let mut all = Latencies::default();
    for (i, (name, st)) in ["local", "remote"].iter().zip(&sts).enumerate() {
        let mut lat = st.lat.borrow_mut();
        all.extend_from(&lat);
        r.set(
            name,
            json!({
                "connected": ready[i],
                "received": got[i],
                "expected": sent * ready[i],
                "lost": (sent * ready[i]).saturating_sub(got[i]),
                "latency_us": lat.summary(),
            }),
        );
    }
    r.set("latency_us", all.summary());
    r.set("adapter", o.adapter.as_str());
    r.set("connected", receivers);
    r.set("connect_failed", sum(&|s| s.failed.get()));
    r.set("connect_s", crate::stats::round(connect_secs, 2));
    r.set("warmup_s", crate::stats::round(warmup_s, 3));
    r.set("sent", sent);
    r.set("publish_s", crate::stats::round(publish_secs, 3));
    r.set("expected", expected);
    r.set("lost", expected.saturating_sub(received));
    r.set("out_of_order", sum(&|s| s.out_of_order.get()));
    r.set(
        "closed_during_run",
        sum(&|s| s.closed.get()) - closed_before,
    );
    r.set("closed_total", sum(&|s| s.closed.get()));
    r.set("publisher_errors", published.errors);
    if let Some(e) = published.error {
        eprintln!("loadgen: publisher connection ended: {e}");
        r.set("publisher_error", e);
    }
    let mut reasons = sts[0].reasons.to_json();
    if let (Some(m), serde_json::Value::Object(b)) =
        (reasons.as_object_mut(), sts[1].reasons.to_json())
    {
        for (k, v) in b {
            let n = m.get(&k).and_then(|x| x.as_u64()).unwrap_or(0) + v.as_u64().unwrap_or(0);
            m.insert(k, json!(n));
        }
    }
    r.set("close_reasons", reasons);
    r.set(
        "errors",
        sum(&|s| s.failed.get() + s.closed.get()) + published.errors,
    );
    r.set("pings", sum(&|s| s.pings.get()) - pings_before);
    r.emit();
    Ok(())
}
