//! `wirehub connect`: an interactive (or piped) session. Every received
//! event and lifecycle change is printed as one JSON line; commands are read
//! from stdin (see `commands`). Ends when stdin closes (after pending acks
//! resolve) or when the server ends the session.

use super::commands::{self, Line};
use super::json::{args_to_json, json_to_args};
use super::{describe, fail, output, ClientArgs, EXIT_CONNECT};
use clap::Args;
use serde_json::json;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::task::JoinSet;
use wirehub_client::{
    AckSender, ClientBuilder, DisconnectReason, Error, Event, RawArgs, Reconnection, Socket,
};

/// Options of `wirehub connect`.
#[derive(Debug, Args)]
pub(crate) struct ConnectArgs {
    #[command(flatten)]
    client: ClientArgs,
    /// Milliseconds to wait for each `emit-ack` answer.
    #[arg(long, value_name = "MS", default_value_t = 5_000)]
    timeout: u64,
    /// Do not reconnect when the connection is lost.
    #[arg(long)]
    no_reconnect: bool,
}

/// Server ack requests not answered yet, by id.
type PendingAsks = Arc<Mutex<HashMap<u64, AckSender>>>;

pub(crate) async fn run(args: ConnectArgs) -> anyhow::Result<()> {
    let asks = PendingAsks::default();
    let (end_tx, mut end_rx) = mpsc::unbounded_channel::<i32>();
    let reconnection = if args.no_reconnect {
        Reconnection::disabled()
    } else {
        Reconnection::default()
    };
    let builder = args
        .client
        .builder()?
        .reconnection(reconnection)
        .ack_timeout(Duration::from_millis(args.timeout));
    let socket = printing(builder, asks.clone(), end_tx)
        .connect()
        .await
        .unwrap_or_else(|e| fail(describe(&e), EXIT_CONNECT));
    let mut lines = stdin_lines();
    let mut pending = JoinSet::new();
    let mut asked = 0u64;
    loop {
        tokio::select! {
            line = lines.recv() => match line {
                Some((number, text)) => {
                    if let Err(e) = execute(&socket, &asks, &mut pending, &mut asked, &text).await {
                        eprintln!("wirehub: line {number}: {e}");
                    }
                }
                None => break,
            },
            Some(code) = end_rx.recv() => {
                while pending.join_next().await.is_some() {}
                output::flush();
                std::process::exit(code);
            }
        }
    }
    while pending.join_next().await.is_some() {}
    socket.disconnect().await;
    Ok(())
}

/// Adds the handlers that print events and report the end of the session.
fn printing(
    builder: ClientBuilder,
    asks: PendingAsks,
    end: mpsc::UnboundedSender<i32>,
) -> ClientBuilder {
    let connected_once = Arc::new(AtomicBool::new(false));
    let seen = connected_once.clone();
    let failed = end.clone();
    builder
        .on_any(
            move |Event(name): Event, RawArgs(raw): RawArgs, ack: AckSender| {
                let mut record = vec![
                    ("event", json!(name.as_str())),
                    ("args", args_to_json(&raw)),
                ];
                if let Some(id) = ack.id() {
                    record.push(("ack", json!(id)));
                    asks.lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .insert(id, ack);
                }
                output::line(&record);
                async {}
            },
        )
        .on_connect(move |socket: Socket| {
            connected_once.store(true, Ordering::SeqCst);
            output::line(&[
                ("event", json!("connect")),
                ("id", json!(socket.id())),
                ("recovered", json!(socket.recovered())),
            ]);
            async {}
        })
        .on_connect_error(move |error: Error| {
            // The first failure is reported by `connect` itself, on stderr.
            if seen.load(Ordering::SeqCst) {
                let message = json!(describe(&error));
                output::line(&[("event", json!("connect_error")), ("message", message)]);
            }
            async {}
        })
        .on_disconnect(move |reason: DisconnectReason| {
            output::line(&[("event", json!("disconnect")), ("reason", json!(reason))]);
            if reason == DisconnectReason::IoServerDisconnect {
                let _ = end.send(0);
            }
            async {}
        })
        .on_reconnect_attempt(|n| async move {
            output::line(&[
                ("manager", json!("reconnect_attempt")),
                ("attempt", json!(n)),
            ]);
        })
        .on_reconnect(|n| async move {
            output::line(&[("manager", json!("reconnect")), ("attempt", json!(n))]);
        })
        .on_reconnect_failed(move || {
            output::line(&[("manager", json!("reconnect_failed"))]);
            let _ = failed.send(EXIT_CONNECT);
            async {}
        })
}

/// Carries out one stdin line.
async fn execute(
    socket: &Socket,
    asks: &PendingAsks,
    pending: &mut JoinSet<()>,
    asked: &mut u64,
    text: &str,
) -> anyhow::Result<()> {
    match commands::parse(text).map_err(anyhow::Error::msg)? {
        Line::Skip => {}
        Line::Wait(ms) => tokio::time::sleep(Duration::from_millis(ms)).await,
        Line::Emit {
            event,
            args,
            ack: false,
        } => socket.emit_raw(&event, json_to_args(&args)?)?,
        Line::Emit {
            event,
            args,
            ack: true,
        } => {
            *asked += 1;
            let id = *asked;
            let answer = socket.emit_raw_with_ack(&event, json_to_args(&args)?);
            pending.spawn(async move {
                let last = match answer.await {
                    Ok(reply) => ("args", args_to_json(&reply)),
                    Err(e) => ("error", json!(e.to_string())),
                };
                output::line(&[("ack", json!(event)), ("id", json!(id)), last]);
            });
        }
        Line::Ack { id, args } => {
            let ask = asks.lock().unwrap_or_else(|e| e.into_inner()).remove(&id);
            let ask = ask.ok_or_else(|| anyhow::anyhow!("no pending server ack request {id}"))?;
            ask.send_raw(json_to_args(&args)?)?;
        }
    }
    Ok(())
}

/// Stdin lines (numbered from 1), read on a thread of their own so that a
/// blocked read never holds the process open.
fn stdin_lines() -> mpsc::UnboundedReceiver<(usize, String)> {
    let (tx, rx) = mpsc::unbounded_channel();
    std::thread::spawn(move || {
        for (i, line) in std::io::stdin().lines().map_while(Result::ok).enumerate() {
            if tx.send((i + 1, line)).is_err() {
                break;
            }
        }
    });
    rx
}
