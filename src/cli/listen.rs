//! `wirehub listen`: stream the events of a namespace as JSON lines
//! (`{"event":"news","args":[...]}`), for `jq` and friends; optionally only
//! some events, and only the first N. Connection changes go to stderr
//! (`wirehub: disconnected (transport close)`, `wirehub: reconnected after
//! 1 attempt(s) (recovered: true)`).

use super::json::args_to_json;
use super::{describe, fail, output, ClientArgs, EXIT_CONNECT};
use clap::Args;
use serde_json::json;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::Arc;
use tokio::sync::mpsc;
use wirehub_client::{DisconnectReason, Event, RawArgs, Socket};

/// Options of `wirehub listen`.
#[derive(Debug, Args)]
pub(crate) struct ListenArgs {
    #[command(flatten)]
    client: ClientArgs,
    /// Only print these events (repeatable) [default: all].
    #[arg(long = "event", value_name = "NAME")]
    events: Vec<String>,
    /// Exit after printing this many events.
    #[arg(long, value_name = "N")]
    count: Option<u64>,
}

pub(crate) async fn run(args: ListenArgs) -> anyhow::Result<()> {
    let (end_tx, mut end_rx) = mpsc::unbounded_channel::<i32>();
    let printed = Arc::new(AtomicU64::new(0));
    let (filter, limit) = (args.events, args.count);
    let (done, server_end, failed) = (end_tx.clone(), end_tx.clone(), end_tx);
    // The attempts of the last reconnection, reported once the namespace
    // is joined again (with whether the server restored the session).
    let attempts = Arc::new(AtomicU32::new(0));
    let counted = attempts.clone();
    let joined_once = Arc::new(AtomicBool::new(false));
    let socket = args
        .client
        .builder()?
        .on_any(move |Event(name): Event, RawArgs(raw): RawArgs| {
            let wanted = filter.is_empty() || filter.iter().any(|f| f.as_str() == name.as_str());
            let reached = limit.is_some_and(|n| printed.load(Ordering::SeqCst) >= n);
            if wanted && !reached {
                output::line(&[
                    ("event", json!(name.as_str())),
                    ("args", args_to_json(&raw)),
                ]);
                let count = printed.fetch_add(1, Ordering::SeqCst) + 1;
                if limit == Some(count) {
                    let _ = done.send(0);
                }
            }
            async {}
        })
        .on_disconnect(move |reason: DisconnectReason| {
            if reason != DisconnectReason::IoClientDisconnect {
                eprintln!("wirehub: disconnected ({reason})");
            }
            if reason == DisconnectReason::IoServerDisconnect {
                let _ = server_end.send(0);
            }
            async {}
        })
        .on_reconnect(move |n| {
            counted.store(n, Ordering::SeqCst);
            async {}
        })
        .on_connect(move |socket: Socket| {
            if joined_once.swap(true, Ordering::SeqCst) {
                let n = attempts.load(Ordering::SeqCst);
                let recovered = socket.recovered();
                eprintln!("wirehub: reconnected after {n} attempt(s) (recovered: {recovered})");
            }
            async {}
        })
        .on_reconnect_failed(move || {
            let _ = failed.send(EXIT_CONNECT);
            async {}
        })
        .connect()
        .await
        .unwrap_or_else(|e| fail(describe(&e), EXIT_CONNECT));
    if limit == Some(0) {
        socket.disconnect().await;
        return Ok(());
    }
    let code = tokio::select! {
        Some(code) = end_rx.recv() => code,
        _ = tokio::signal::ctrl_c() => 0,
    };
    socket.disconnect().await;
    if code != 0 {
        fail("reconnection failed", code);
    }
    Ok(())
}
