//! HTTP long-polling: the handshake GET, then a poll task (one GET at a
//! time, each answered with a payload) and a send task (queued frames
//! batched into POSTs no larger than the server's `maxPayload`).

use super::http::{status_error, HttpClient};
use super::{parse_open, payload, CloseCause, Inbound, Link, Opened, Session, TransportHandle};
use crate::config::Config;
use crate::error::Error;
use bytes::Bytes;
use http::{Method, StatusCode};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use tokio::sync::mpsc;
use wirehub_proto::engineio::{payload as encode_payload, Frame, Packet, TransportKind};

/// The handshake: `GET ?EIO=4&transport=polling`, answered with the open packet.
pub(super) async fn open(config: &Config, http: Arc<HttpClient>) -> Result<Opened, Error> {
    let target = config.request_target("polling", None);
    let (status, body) = http.request(Method::GET, &target, Bytes::new()).await?;
    if status != StatusCode::OK {
        let url = format!("{}{}", config.url.http_base(), config.path);
        return Err(status_error(url, status, &body));
    }
    let mut packets = payload::decode(body)?.into_iter();
    let first = packets
        .next()
        .ok_or_else(|| Error::Protocol("empty handshake answer".into()))?;
    let open = parse_open(first)?;
    Ok(Opened {
        open,
        link: Link::Polling {
            http,
            rest: packets.collect(),
        },
    })
}

/// Starts the poll and send tasks.
pub(super) fn spawn(
    http: Arc<HttpClient>,
    config: Arc<Config>,
    session: &Session,
    inbound: mpsc::UnboundedSender<Inbound>,
) -> TransportHandle {
    let (tx, rx) = mpsc::unbounded_channel();
    let stop = Arc::new(AtomicBool::new(false));
    let target = config.request_target("polling", Some(&session.sid));
    let poller = tokio::spawn(poll_loop(
        http.clone(),
        target.clone(),
        session.clone(),
        inbound.clone(),
        stop.clone(),
    ));
    let sender = tokio::spawn(send_loop(http, target, session.clone(), inbound, rx));
    TransportHandle {
        id: session.transport,
        kind: TransportKind::Polling,
        tx: Some(tx),
        tasks: vec![poller, sender],
        stop,
    }
}

async fn poll_loop(
    http: Arc<HttpClient>,
    target: String,
    session: Session,
    inbound: mpsc::UnboundedSender<Inbound>,
    stop: Arc<AtomicBool>,
) {
    let closed = |cause| Inbound::Closed {
        transport: session.transport,
        cause,
    };
    while !stop.load(Ordering::SeqCst) {
        let body = match http.request(Method::GET, &target, Bytes::new()).await {
            Ok((StatusCode::OK, body)) => body,
            Ok((status, _)) => {
                let _ = inbound.send(closed(CloseCause::Error(format!("poll answered {status}"))));
                return;
            }
            Err(e) => {
                let _ = inbound.send(closed(CloseCause::Error(e.to_string())));
                return;
            }
        };
        let Ok(packets) = payload::decode(body) else {
            let _ = inbound.send(closed(CloseCause::Parse));
            return;
        };
        for packet in packets {
            let is_close = packet == Packet::Close;
            let _ = inbound.send(Inbound::Packet {
                gen: session.gen,
                packet,
            });
            if is_close {
                return;
            }
        }
    }
}

async fn send_loop(
    http: Arc<HttpClient>,
    target: String,
    session: Session,
    inbound: mpsc::UnboundedSender<Inbound>,
    mut rx: mpsc::UnboundedReceiver<Frame>,
) {
    let mut pending: Option<Frame> = None;
    loop {
        let first = match pending.take() {
            Some(frame) => frame,
            None => match rx.recv().await {
                Some(frame) => frame,
                None => return,
            },
        };
        let mut size = encoded_len(&first);
        let mut batch = vec![first];
        while let Ok(frame) = rx.try_recv() {
            let len = encoded_len(&frame) + 1;
            // The close packet goes alone, once what precedes it was
            // delivered (as the official client drains before closing): the
            // server then handles a DISCONNECT before the session ends.
            if size + len > session.max_payload || is_close(&frame) {
                pending = Some(frame);
                break;
            }
            size += len;
            batch.push(frame);
        }
        let body = encode_payload::encode(&batch);
        let failure = match http.request(Method::POST, &target, body).await {
            Ok((StatusCode::OK, _)) => continue,
            Ok((status, _)) => format!("send answered {status}"),
            Err(e) => e.to_string(),
        };
        let _ = inbound.send(Inbound::Closed {
            transport: session.transport,
            cause: CloseCause::Error(failure),
        });
        return;
    }
}

fn is_close(frame: &Frame) -> bool {
    matches!(frame, Frame::Text(t) if t.as_str() == "1")
}

/// The size of a frame inside a payload.
fn encoded_len(frame: &Frame) -> usize {
    match frame {
        Frame::Text(t) => t.len(),
        Frame::Binary(b) => 1 + b.len().div_ceil(3) * 4,
    }
}
