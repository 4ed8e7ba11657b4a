//! [`Transports`]: the I/O handles of one Engine.IO session (the held
//! polling GET, the WebSocket, the upgrade probe) and how each is written,
//! read and ended. What to write, and when, is the session's call
//! (`wirehub_proto::engineio::Session`); the driver (`actor`) relays it.

use super::conn::{Ctl, EngineConn, Outgoing};
use super::vectored::Source;
use super::ws::{WsConn, WsEnd};
use std::time::Duration;
use tokio::sync::oneshot;
use wirehub_proto::engineio::{CloseReason, EngineError, Frame, Framing, Packet, Payload};

/// Most queued entries written per batch (one flush / one poll response).
pub(super) const BATCH: usize = 256;

/// The pause after a paced entry (see [`Outgoing::Paced`]); the timer has
/// millisecond resolution, so 2 ms guarantees at least 1 ms.
const PACE: Duration = Duration::from_millis(2);

/// A polling GET's reply: the payload, or the error to answer.
pub(super) type PollReply = oneshot::Sender<Result<Payload, EngineError>>;

/// The held GET's requester went away before its answer.
pub(super) struct PollGone;

/// A write on a WebSocket failed.
pub(super) struct WriteFailed;

/// A session's transports.
pub(super) struct Transports {
    /// The WebSocket, once it is the active transport.
    pub(super) ws: Option<Box<WsConn>>,
    /// A WebSocket being probed for an upgrade (boxed: rare, and kept out
    /// of every session's inline state).
    pub(super) probe: Option<Box<WsConn>>,
    /// The held long-polling GET (the session knows it is held).
    pub(super) poll: Option<PollReply>,
    /// The wire format of polling responses.
    pub(super) poll_framing: Framing,
    /// The wire format of the WebSockets.
    pub(super) ws_framing: Framing,
}

impl Transports {
    /// Whether queued entries can go out now.
    pub(super) fn can_write(&self) -> bool {
        self.ws.is_some() || self.poll.is_some()
    }

    /// Whether a GET is held and its requester still waits.
    pub(super) fn poll_waits(&self) -> bool {
        self.poll.as_ref().is_some_and(|p| !p.is_closed())
    }

    /// Ends the held GET (if any) with `own`, then `entries`; with `6` if
    /// both are empty. Returns the packets' bytes.
    pub(super) fn answer_poll(
        &mut self,
        own: Vec<Packet>,
        entries: Vec<Outgoing>,
    ) -> Result<usize, PollGone> {
        let Some(poll) = self.poll.take() else {
            return Ok(0);
        };
        if poll.is_closed() {
            return Err(PollGone);
        }
        let mut frames: Vec<Frame> = own.iter().map(Packet::to_frame).collect();
        extend_frames(&mut frames, entries);
        if frames.is_empty() {
            frames.push(Packet::Noop.to_frame());
        }
        let bytes = frames_len(&frames);
        let _ = poll.send(Ok(self.poll_framing.encode_payload(&frames)));
        Ok(bytes)
    }

    /// Sends one packet on the WebSocket (if there is one); returns its bytes.
    pub(super) async fn send_ws(&mut self, packet: Packet) -> Result<usize, WriteFailed> {
        let Some(ws) = self.ws.as_mut() else {
            return Ok(0);
        };
        let frames = [self.ws_framing.ws_frame(&packet.to_frame()).into_owned()];
        ws.send(Source::Frames(&frames))
            .await
            .map_err(|_| WriteFailed)?;
        Ok(frames_len(&frames))
    }

    /// Sends one packet on the probing WebSocket (if there is one).
    pub(super) async fn send_probe(&mut self, packet: Packet) -> Result<(), WriteFailed> {
        let Some(probe) = self.probe.as_mut() else {
            return Ok(());
        };
        let frames = [self.ws_framing.ws_frame(&packet.to_frame()).into_owned()];
        probe
            .send(Source::Frames(&frames))
            .await
            .map_err(|_| WriteFailed)
    }

    /// Writes entries to the WebSocket: everything up to a paced entry
    /// leaves in one go, then the pause.
    pub(super) async fn write_ws(&mut self, batch: &[Outgoing]) -> Result<(), WriteFailed> {
        let Some(ws) = self.ws.as_mut() else {
            return Ok(());
        };
        let mut rest = batch;
        while !rest.is_empty() {
            let cut = rest
                .iter()
                .position(Outgoing::is_paced)
                .map_or(rest.len(), |i| i + 1);
            let (now, later) = rest.split_at(cut);
            let sent = match self.ws_framing {
                Framing::V4 => ws.send(Source::Entries(now)).await,
                // Revision 3 binary frames carry a type byte: re-framed here,
                // per connection, as the shared entries hold revision 4 frames.
                Framing::V3 { .. } => {
                    let frames: Vec<Frame> = now
                        .iter()
                        .flat_map(Outgoing::frames)
                        .map(|f| self.ws_framing.ws_frame(f).into_owned())
                        .collect();
                    ws.send(Source::Frames(&frames)).await
                }
            };
            sent.map_err(|_| WriteFailed)?;
            if now.last().is_some_and(Outgoing::is_paced) {
                Box::pin(tokio::time::sleep(PACE)).await;
            }
            rest = later;
        }
        Ok(())
    }

    /// The probe becomes the WebSocket. A GET still held is refused: a
    /// client pauses polling before it sends `5`, so it was sent after.
    pub(super) fn upgrade(&mut self) {
        self.ws = self.probe.take();
        if let Some(poll) = self.poll.take() {
            let _ = poll.send(Err(EngineError::BadRequest));
        }
    }

    /// Closes the probing WebSocket, if any.
    pub(super) fn close_probe(&mut self) {
        if let Some(probe) = self.probe.take() {
            tokio::spawn(probe.close());
        }
    }

    /// Ends the transports: flushes what was queued, tells the client why,
    /// and refuses requests that reached the session's mailbox too late.
    pub(super) async fn finish(&mut self, conn: &EngineConn, reason: CloseReason) {
        for cmd in conn.mailbox.close() {
            match cmd {
                Ctl::Poll(reply) if self.poll.is_none() => self.poll = Some(reply),
                other => refuse(other),
            }
        }
        self.close_probe();
        let mut frames = Vec::new();
        extend_frames(&mut frames, conn.mailbox.take_out(BATCH));
        if let Some(ws) = self.ws.take() {
            let framing = self.ws_framing;
            let ws_frames: Vec<Frame> = frames
                .iter()
                .map(|f| framing.ws_frame(f).into_owned())
                .collect();
            close_ws(ws, &ws_frames, reason).await;
        }
        if let Some(poll) = self.poll.take() {
            let last = if reason.tells_client() {
                Packet::Close
            } else {
                Packet::Noop
            };
            frames.push(last.to_frame());
            let _ = poll.send(Ok(self.poll_framing.encode_payload(&frames)));
        }
    }
}

/// The payload bytes of `frames`.
fn frames_len(frames: &[Frame]) -> usize {
    frames.iter().map(Frame::len).sum()
}

/// The payload bytes of queued entries.
pub(super) fn entries_len(entries: &[Outgoing]) -> usize {
    entries.iter().map(|e| frames_len(e.frames())).sum()
}

/// Closes a WebSocket, first sending `frames` unless the peer is gone.
async fn close_ws(mut ws: Box<WsConn>, frames: &[Frame], reason: CloseReason) {
    match reason {
        CloseReason::TransportError => {}
        // The peer closed: answer its close frame (RFC 6455, section 5.5.1).
        CloseReason::TransportClose => {
            let _ = tokio::time::timeout(Duration::from_secs(1), ws.close()).await;
        }
        _ => {
            let _ = tokio::time::timeout(Duration::from_secs(1), async {
                let _ = ws.send(Source::Frames(frames)).await;
                ws.close().await;
            })
            .await;
        }
    }
}

/// Answers a command that reached a closed session.
fn refuse(cmd: Ctl) {
    match cmd {
        Ctl::Poll(reply) => {
            let _ = reply.send(Err(EngineError::UnknownSid));
        }
        Ctl::Post(_, done) => {
            let _ = done.send(Err(EngineError::UnknownSid));
        }
        Ctl::Attach(ws) => {
            tokio::spawn(ws.close());
        }
        Ctl::Close(_) => {}
    }
}

fn extend_frames(frames: &mut Vec<Frame>, batch: Vec<Outgoing>) {
    for out in batch {
        frames.extend_from_slice(out.frames());
    }
}

/// Reads the next frame of a WebSocket; never resolves without one.
pub(super) async fn recv(ws: &mut Option<Box<WsConn>>) -> Result<Frame, WsEnd> {
    match ws.as_mut() {
        Some(ws) => ws.recv().await,
        None => std::future::pending().await,
    }
}

/// Resolves when the held GET's requester went away; never without one.
pub(super) async fn poll_gone(poll: &mut Option<PollReply>) {
    match poll.as_mut() {
        Some(reply) => reply.closed().await,
        None => std::future::pending().await,
    }
}
