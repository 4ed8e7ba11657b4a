//! Handshake rate: closed loops of TCP connect + WebSocket upgrade + Engine.IO
//! open + Socket.IO connect (`40` -> `40{"sid":..}`), then a clean close.

use super::Counter;
use crate::stats::{Latencies, Report};
use crate::ws::{self, Target};
use crate::{procfs, Common, Result};
use clap::Args;
use serde_json::json;
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::{Duration, Instant};

/// Options of `handshake`.
#[derive(Args, Debug)]
pub(crate) struct Opts {
    #[command(flatten)]
    common: Common,
    /// Concurrent connect loops.
    #[arg(long, default_value_t = 32)]
    concurrency: usize,
    /// Seconds of load before the measurement window.
    #[arg(long, default_value_t = 1.0)]
    warmup: f64,
    /// Seconds of the measurement window.
    #[arg(long, default_value_t = 5.0)]
    duration: f64,
}

#[derive(Default)]
struct State {
    connects: Counter,
    errors: Counter,
    measuring: Cell<bool>,
    stop: Cell<bool>,
    lat: RefCell<Latencies>,
}

pub(crate) async fn run(o: Opts) -> Result<()> {
    let common = o.common.clone();
    let target = Rc::new(Target::new(&common));
    let st = Rc::new(State::default());
    *st.lat.borrow_mut() = Latencies::with_capacity(1 << 18);
    eprintln!("loadgen: handshake: {} concurrent loops", o.concurrency);
    for _ in 0..o.concurrency {
        let (target, st) = (target.clone(), st.clone());
        tokio::task::spawn_local(async move {
            while !st.stop.get() {
                let t0 = Instant::now();
                let result = tokio::time::timeout(Duration::from_secs(10), target.socketio()).await;
                match result {
                    Ok(Ok(ws)) => {
                        if st.measuring.get() {
                            st.connects.inc();
                            st.lat.borrow_mut().push_ns(t0.elapsed().as_nanos() as u64);
                        }
                        ws::close(ws).await;
                    }
                    other => {
                        if st.errors.get() < 5 {
                            match other {
                                Ok(Err(e)) => eprintln!("loadgen: handshake: connect failed: {e}"),
                                _ => eprintln!("loadgen: handshake: connect timed out"),
                            }
                        }
                        st.errors.inc();
                        tokio::time::sleep(Duration::from_millis(10)).await;
                    }
                }
            }
        });
    }
    tokio::time::sleep(Duration::from_secs_f64(o.warmup)).await;
    let errors_before = st.errors.get();
    let a = procfs::sample(common.server_pid);
    st.measuring.set(true);
    tokio::time::sleep(Duration::from_secs_f64(o.duration)).await;
    st.measuring.set(false);
    let b = procfs::sample(common.server_pid);
    st.stop.set(true);

    let mut r = Report::new(
        "handshake",
        "ws",
        &common,
        json!({ "concurrency": o.concurrency, "warmup_s": o.warmup, "duration_s": o.duration }),
    );
    r.window(&a, &b, &common, st.connects.get());
    r.set("latency_us", st.lat.borrow_mut().summary());
    r.set("errors", st.errors.get());
    r.set("errors_in_window", st.errors.get() - errors_before);
    r.emit();
    Ok(())
}
