//! The streaming endpoints: Server-Sent Events (`GET /sse`) and chunked
//! NDJSON (`GET /stream`). Both open a socket subscribed to the `room`
//! parameters and start with the hello (after SSE's `retry:`) and what the
//! connection handler emitted, then replay what the client missed
//! (`Last-Event-ID` / `since`) from room history exactly once, then stream
//! live envelopes with periodic heartbeats. Clients send with `POST /send`
//! and the token from their hello. A client that stops reading blocks the
//! driver; after the write timeout it is closed as a slow consumer, so
//! memory stays bounded.

use super::body::PlainBody;
use super::driver::{drive, Ending, Input, PlainIo};
use super::hub::{OpenError, PlainHub};
use super::query::{self, PlainQuery};
use super::reply::{self, Resp};
use crate::conn::{PlainConn, PlainOut};
use crate::io::Transport;
use crate::limits::peer_ip;
use bytes::{Bytes, BytesMut};
use http::header::{self, HeaderValue};
use http::{Request, Response, StatusCode};
use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;
use wirehub_proto::engineio::CloseReason;
use wirehub_proto::plain::{codes, sse_comment, sse_retry};

/// Most messages replayed on resume.
const MAX_REPLAY: usize = 10_000;
/// Chunks buffered between the driver and the response body.
const CHUNKS: usize = 4;

/// Which framing a stream uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Framing {
    Sse,
    Ndjson,
}

impl Framing {
    fn transport(self) -> Transport {
        match self {
            Framing::Sse => Transport::Sse,
            Framing::Ndjson => Transport::HttpStream,
        }
    }

    fn content_type(self) -> &'static str {
        match self {
            Framing::Sse => "text/event-stream",
            Framing::Ndjson => "application/x-ndjson",
        }
    }

    /// Appends one envelope in this framing.
    fn frame(self, out: &PlainOut, buf: &mut BytesMut) {
        match self {
            Framing::Sse => buf.extend_from_slice(&out.sse()),
            Framing::Ndjson => {
                buf.extend_from_slice(out.envelope());
                buf.extend_from_slice(b"\n");
            }
        }
    }

    fn heartbeat(self) -> Bytes {
        match self {
            Framing::Sse => sse_comment("heartbeat"),
            Framing::Ndjson => Bytes::from_static(b"\n"),
        }
    }
}

/// Opens a stream.
pub(crate) async fn open<B>(hub: &Arc<PlainHub>, req: Request<B>, framing: Framing) -> Resp {
    let q = match query::parse(req.uri().query().unwrap_or("")) {
        Ok(q) => q,
        Err(e) => return reply::error(StatusCode::BAD_REQUEST, codes::BAD_REQUEST, &e),
    };
    let resume = resume_point(&req, &q, framing);
    if !q.rooms.is_empty() && !hub.config().plain_client_rooms {
        return reply::error(
            StatusCode::FORBIDDEN,
            codes::NOT_ALLOWED,
            "this server does not let clients subscribe to rooms",
        );
    }
    let slot = match hub.acquire(framing.transport(), peer_ip(req.extensions())) {
        Ok(slot) => slot,
        Err(limit) => return reply::limit(limit),
    };
    let (parts, _) = req.into_parts();
    let session = match hub
        .open(framing.transport(), slot, parts, &q.ns(), q.auth.clone())
        .await
    {
        Ok(session) => session,
        Err((OpenError::UnknownNamespace(ns), _)) => {
            let message = format!("unknown namespace {ns}");
            return reply::error(StatusCode::NOT_FOUND, codes::UNKNOWN_NAMESPACE, &message);
        }
        Err((OpenError::Refused(e), _)) => return reply::refusal(&e.message, e.data.as_ref()),
    };
    // The hello and what the connection handler emitted go out first, then
    // the replay. Taken before joining, so no room message is among them.
    let opening = session.conn.mailbox.take_out(usize::MAX);
    if !q.rooms.is_empty() {
        if let Err(limit) = session.socket.try_join(q.rooms.clone()) {
            session.finish(CloseReason::ForcedClose);
            let message = limit.to_string();
            return reply::error(StatusCode::BAD_REQUEST, limit.plain_code(), &message);
        }
    }
    // Joined first, then read: a message recorded in between arrives both
    // ways and its live copy is skipped by offset.
    let replay = match resume {
        Some(since) if !q.rooms.is_empty() => {
            let history = session.socket.history();
            history.read(&q.rooms, since, MAX_REPLAY).messages
        }
        _ => Vec::new(),
    };
    let config = hub.config();
    let (tx, rx) = mpsc::channel(CHUNKS);
    let mut first = BytesMut::new();
    if framing == Framing::Sse {
        first.extend_from_slice(&sse_retry(config.sse_retry.as_millis() as u64));
    }
    for out in &opening {
        framing.frame(out, &mut first);
    }
    let mut replayed = HashSet::with_capacity(replay.len());
    for delivery in replay {
        let out = PlainOut::Shared(delivery);
        replayed.extend(out.offset());
        framing.frame(&out, &mut first);
    }
    let ticker = tokio::time::interval(config.stream_heartbeat);
    let mut io = StreamIo {
        framing,
        tx,
        replayed,
        ticker,
        write_timeout: config.body_timeout,
    };
    let task = hub.track();
    tokio::spawn(async move {
        let _task = task;
        io.ticker.tick().await;
        match io.send(first.freeze()).await {
            Ok(()) => drive(session, io, None).await,
            Err(reason) => session.finish(reason),
        }
    });
    let mut resp = Response::new(PlainBody::Stream(rx));
    let headers = resp.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(framing.content_type()),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert("x-accel-buffering", HeaderValue::from_static("no"));
    resp
}

/// Where a resuming client left off: `Last-Event-ID` (SSE reconnects),
/// `lastEventId` or `since` parameters.
fn resume_point<B>(req: &Request<B>, q: &PlainQuery, framing: Framing) -> Option<u64> {
    let header = (framing == Framing::Sse)
        .then(|| req.headers().get("last-event-id"))
        .flatten()
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse().ok());
    header.or(q.last_event_id).or(q.since)
}

/// A stream's side of the connection: chunks handed to the response
/// body, a heartbeat every interval, no reads (clients send with `POST
/// /send`).
struct StreamIo {
    framing: Framing,
    tx: mpsc::Sender<Bytes>,
    /// History offsets already replayed: their live copies are skipped.
    replayed: HashSet<u64>,
    ticker: tokio::time::Interval,
    write_timeout: Duration,
}

impl PlainIo for StreamIo {
    async fn read(&mut self, _conn: &PlainConn) -> Input {
        tokio::select! {
            biased;
            _ = self.ticker.tick() => Input::Heartbeat,
            () = self.tx.closed() => Input::End(Ending::quiet(CloseReason::TransportClose)),
        }
    }

    async fn write(&mut self, batch: &[PlainOut]) -> Result<(), CloseReason> {
        let chunk = self.encode(batch);
        self.send(chunk).await
    }

    async fn heartbeat(&mut self) -> Result<(), Ending> {
        let beat = self.framing.heartbeat();
        self.send(beat).await.map_err(Ending::quiet)
    }

    async fn finish(mut self, rest: Vec<PlainOut>, ending: Ending) {
        // A close the server chose flushes what is queued; a client that is
        // gone or stopped reading gets nothing more.
        if ending.code.is_some() {
            let chunk = self.encode(&rest);
            let _ = self.send(chunk).await;
        }
    }
}

impl StreamIo {
    fn encode(&mut self, batch: &[PlainOut]) -> Bytes {
        let mut buf = BytesMut::new();
        for out in batch {
            if out.offset().is_some_and(|o| self.replayed.remove(&o)) {
                continue;
            }
            self.framing.frame(out, &mut buf);
        }
        buf.freeze()
    }

    /// Hands a chunk (if not empty) to the response body. Fails if the
    /// client is gone, or did not read for the write timeout (a slow
    /// consumer).
    async fn send(&self, chunk: Bytes) -> Result<(), CloseReason> {
        if chunk.is_empty() {
            return Ok(());
        }
        match tokio::time::timeout(self.write_timeout, self.tx.send(chunk)).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(_)) => Err(CloseReason::TransportClose),
            Err(_) => {
                tracing::debug!("stream client stopped reading; closing");
                Err(CloseReason::SlowConsumer)
            }
        }
    }
}
