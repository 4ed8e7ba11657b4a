//! Echo: N clients in closed loops of `message-with-ack` round-trips (in
//! the JSON parser's format, or with `--parser msgpack` in
//! socket.io-msgpack-parser's, the server started with that parser), or
//! (`--bare`) of bare WebSocket text messages against an echo server (the
//! WebSocket-layer comparison, `bench/ws-crates`). Reports the WebSocket
//! payload bytes of one round trip (request + ack) beside the CPU figures.

use super::{wait_until, wire, Counter};
use crate::stats::{Latencies, Report};
use crate::ws::{self, Target};
use crate::{procfs, Common, Result};
use clap::Args;
use futures_util::SinkExt;
use serde_json::json;
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::{Duration, Instant};
use tokio::sync::{watch, Semaphore};
use tokio_tungstenite::tungstenite::Message;
use wirehub_proto::socketio::Parser;

/// Options of `echo`.
#[derive(Args, Debug)]
pub(crate) struct Opts {
    #[command(flatten)]
    common: Common,
    /// Concurrent clients, one request in flight each.
    #[arg(long, default_value_t = 100)]
    clients: usize,
    /// Payload bytes (one string argument).
    #[arg(long, default_value_t = 32)]
    payload: usize,
    /// Seconds of load before the measurement window.
    #[arg(long, default_value_t = 1.0)]
    warmup: f64,
    /// Seconds of the measurement window.
    #[arg(long, default_value_t = 5.0)]
    duration: f64,
    /// Name of the variant in the results.
    #[arg(long)]
    variant: Option<String>,
    /// Bare WebSocket text messages to `/`, echoed back whole (no
    /// Engine.IO or Socket.IO).
    #[arg(long)]
    bare: bool,
    /// Socket.IO packet encoding, `json` or `msgpack`; the server must use
    /// the same (`WIREHUB_PARSER`).
    #[arg(long, default_value = "json")]
    parser: Parser,
}

#[derive(Default)]
struct State {
    ready: Counter,
    failed: Counter,
    acks: Counter,
    errors: Counter,
    mismatches: Counter,
    pings: Counter,
    /// WebSocket payload bytes of the last measured round trip.
    wire_bytes: Cell<usize>,
    measuring: Cell<bool>,
    stop: Cell<bool>,
    lat: RefCell<Latencies>,
    reasons: ws::Reasons,
}

pub(crate) async fn run(o: Opts) -> Result<()> {
    let common = o.common.clone();
    let target = Rc::new(Target::new(&common));
    let st = Rc::new(State::default());
    *st.lat.borrow_mut() = Latencies::with_capacity(1 << 20);
    let (start_tx, start_rx) = watch::channel(false);
    let sem = Rc::new(Semaphore::new(64));
    let event: Rc<str> = format!(
        "[\"message-with-ack\",{}]",
        super::quoted(&"x".repeat(o.payload))
    )
    .into();
    let bare_message: Rc<str> = "x".repeat(o.payload).into();
    let payload_text: Rc<str> = "x".repeat(o.payload).into();
    let (payload, bare, parser) = (o.payload, o.bare, o.parser);
    eprintln!(
        "loadgen: echo: {} clients, {} B payload{}",
        o.clients,
        payload,
        if bare {
            ", bare WebSocket"
        } else if parser == Parser::MsgPack {
            ", msgpack parser"
        } else {
            ""
        }
    );
    for _ in 0..o.clients {
        let (target, st, sem, event) = (target.clone(), st.clone(), sem.clone(), event.clone());
        let (bare_message, payload_text) = (bare_message.clone(), payload_text.clone());
        let mut start = start_rx.clone();
        tokio::task::spawn_local(async move {
            let permit = sem.acquire().await;
            let connected = if bare {
                target.bare().await
            } else {
                target.socketio_with(parser).await
            };
            let mut ws = match connected {
                Ok(ws) => ws,
                Err(e) => {
                    eprintln!("loadgen: echo: connect failed: {e}");
                    st.failed.inc();
                    return;
                }
            };
            drop(permit);
            st.ready.inc();
            // Answer pings until the start signal.
            loop {
                tokio::select! {
                    r = start.wait_for(|s| *s) => { let _ = r; break; }
                    t = ws::next_text(&mut ws) => match t {
                        Ok(Some(t)) if t == "2" => { let _ = ws.send(Message::text("3")).await; st.pings.inc(); }
                        Ok(Some(_)) => {}
                        _ => { st.errors.inc(); return; }
                    }
                }
            }
            let mut id: u64 = 0;
            while !st.stop.get() {
                id += 1;
                let request = if bare {
                    Message::text(bare_message.to_string())
                } else {
                    wire::request(parser, id, &event, &payload_text)
                };
                let request_len = wire::len(&request);
                let t0 = Instant::now();
                if ws.send(request).await.is_err() {
                    st.errors.inc();
                    return;
                }
                loop {
                    let m = match ws::next_data(&mut ws).await {
                        Ok(Some(m)) => m,
                        other => {
                            if !st.stop.get() {
                                st.errors.inc();
                                st.reasons.add(ws::end_reason_of(&other));
                            }
                            return;
                        }
                    };
                    if !bare && matches!(&m, Message::Text(t) if t.as_str() == "2") {
                        let _ = ws.send(Message::text("3")).await;
                        st.pings.inc();
                        continue;
                    }
                    // A bare echo is the message itself.
                    let answer = match bare {
                        true => Some(wire::len(&m) == payload),
                        false => wire::ack_of(parser, &m, id, payload),
                    };
                    let Some(intact) = answer else { continue };
                    if st.measuring.get() {
                        st.acks.inc();
                        st.lat.borrow_mut().push_ns(t0.elapsed().as_nanos() as u64);
                        st.wire_bytes.set(request_len + wire::len(&m));
                        if !intact {
                            st.mismatches.inc();
                        }
                    }
                    break;
                }
            }
        });
    }
    let n = o.clients as u64;
    let ok = wait_until("connecting", Duration::from_secs(60), &common, || {
        let (r, f) = (st.ready.get(), st.failed.get());
        (r + f >= n, format!("{r}/{n} connected, {f} failed"))
    })
    .await;
    if !ok || st.ready.get() == 0 {
        return Err("clients did not connect".into());
    }
    let _ = start_tx.send(true);
    tokio::time::sleep(Duration::from_secs_f64(o.warmup)).await;
    let pings_before = st.pings.get();
    let a = procfs::sample(common.server_pid);
    st.measuring.set(true);
    tokio::time::sleep(Duration::from_secs_f64(o.duration)).await;
    st.measuring.set(false);
    let b = procfs::sample(common.server_pid);
    st.stop.set(true);

    let variant = o.variant.clone().unwrap_or_else(|| match parser {
        Parser::Json => format!("{}B", o.payload),
        Parser::MsgPack => format!("{}B msgpack", o.payload),
    });
    let scenario = if bare { "bare-echo" } else { "echo" };
    let mut r = Report::new(
        scenario,
        &variant,
        &common,
        json!({ "clients": o.clients, "payload": o.payload, "parser": parser.as_str(), "warmup_s": o.warmup, "duration_s": o.duration }),
    );
    r.window(&a, &b, &common, st.acks.get());
    r.set("latency_us", st.lat.borrow_mut().summary());
    r.set("connected", st.ready.get());
    r.set("connect_failed", st.failed.get());
    r.set("errors", st.errors.get() + st.failed.get());
    r.set("mismatches", st.mismatches.get());
    r.set("pings", st.pings.get() - pings_before);
    r.set("wire_bytes_per_echo", st.wire_bytes.get());
    r.set("close_reasons", st.reasons.to_json());
    r.emit();
    Ok(())
}
