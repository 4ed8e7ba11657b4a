//! The one loop every plain connection's driver runs (plain WebSocket, SSE
//! and NDJSON streams, TCP, UDP), over a small [`PlainIo`] each transport
//! implements: drain the connection's mailbox to the wire, hand the
//! client's envelopes to the session, stop on a close command, a refused
//! envelope or the end of the transport, then end the session and flush.
//! Closing on shutdown (the registry's close command), the order of the
//! last steps and the byte counts of `/metrics` live here once; what differs (framing, idle timers,
//! heartbeats, close codes) stays in each transport's `PlainIo`.

use super::hub::PlainSession;
use super::session::{on_envelope, Refusal};
use crate::conn::{PlainConn, PlainCtl, PlainOut};
use crate::engine::mailbox::Taken;
use bytes::Bytes;
use std::future::Future;
use wirehub_proto::engineio::CloseReason;

/// Entries written to the wire at once.
pub(super) const BATCH: usize = 64;

/// How a connection ends: the reason its socket is closed with, and the
/// WebSocket close code to send (`None`: no close frame; transports other
/// than WebSocket ignore it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Ending {
    pub(super) reason: CloseReason,
    pub(super) code: Option<u16>,
}

impl Ending {
    /// An end with no close frame (the peer is gone, or the write failed).
    pub(super) fn quiet(reason: CloseReason) -> Self {
        Ending { reason, code: None }
    }

    /// An end the server chose for `reason`: a close frame whose code says why.
    pub(super) fn closing(reason: CloseReason) -> Self {
        let code = match reason {
            CloseReason::SlowConsumer => 1011,
            CloseReason::ServerShutdown => 1001,
            CloseReason::ParseError => 1007,
            CloseReason::RateLimited => 1008,
            _ => 1000,
        };
        Ending {
            reason,
            code: Some(code),
        }
    }

    fn refused(refusal: &Refusal) -> Self {
        let code = match refusal {
            Refusal::Closed => 1000,
            Refusal::Invalid(_) => 1007,
            Refusal::RateLimited => 1008,
        };
        Ending {
            reason: refusal.reason(),
            code: Some(code),
        }
    }
}

/// What the client did.
pub(super) enum Input {
    /// It sent an envelope.
    Envelope(Bytes),
    /// A heartbeat is due: the loop calls [`PlainIo::heartbeat`].
    Heartbeat,
    /// The connection ends (an error envelope for the client may be queued).
    End(Ending),
}

/// One transport's side of a plain connection.
pub(super) trait PlainIo: Send {
    /// Waits for the client. Must be cancel-safe: the loop drops it when
    /// the mailbox wins.
    fn read(&mut self, conn: &PlainConn) -> impl Future<Output = Input> + Send;

    /// Writes a batch of queued entries; an error ends the connection.
    fn write(&mut self, batch: &[PlainOut])
        -> impl Future<Output = Result<(), CloseReason>> + Send;

    /// Sends a heartbeat (outside `read`, so a write is never cut short).
    fn heartbeat(&mut self) -> impl Future<Output = Result<(), Ending>> + Send {
        std::future::ready(Ok(()))
    }

    /// Called once the loop ended, before the session is closed.
    fn closing(&mut self) {}

    /// Ends the transport: writes `rest` (what is still queued) if it
    /// should, and closes as `ending` says.
    fn finish(self, rest: Vec<PlainOut>, ending: Ending) -> impl Future<Output = ()> + Send;
}

/// Runs an open session over `io` until it ends; `pending` is an envelope
/// read before the session opened (the first TCP line or datagram).
pub(super) async fn drive<I: PlainIo>(session: PlainSession, mut io: I, pending: Option<Bytes>) {
    let conn = session.conn.clone();
    let socket = session.socket.clone();
    let metrics = socket.metrics().server();
    let mut next = pending;
    let ending = loop {
        if let Some(msg) = next.take() {
            metrics.received(msg.len());
            if let Err(refusal) = on_envelope(&socket, &conn, msg) {
                break Ending::refused(&refusal);
            }
        }
        tokio::select! {
            biased;
            taken = conn.mailbox.next(true, BATCH) => match taken {
                Taken::Out(batch) => {
                    metrics.sent(envelope_bytes(&batch));
                    if let Err(reason) = io.write(&batch).await {
                        break Ending::quiet(reason);
                    }
                }
                Taken::Ctl(PlainCtl::Close(reason)) => break Ending::closing(reason),
                Taken::Closed => break Ending::closing(CloseReason::ForcedClose),
            },
            input = io.read(&conn) => match input {
                Input::Envelope(msg) => next = Some(msg),
                Input::Heartbeat => {
                    if let Err(ending) = io.heartbeat().await {
                        break ending;
                    }
                }
                Input::End(ending) => break ending,
            },
        }
    };
    io.closing();
    session.finish(ending.reason);
    let rest = conn.mailbox.take_out(usize::MAX);
    metrics.sent(envelope_bytes(&rest));
    io.finish(rest, ending).await;
}

/// The bytes of a batch's envelopes (what `wirehub_bytes_sent_total`
/// counts: the transport's framing is left out).
fn envelope_bytes(batch: &[PlainOut]) -> usize {
    batch.iter().map(|out| out.envelope().len()).sum()
}
