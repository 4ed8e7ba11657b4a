//! The session task: owns one session's [`Session`] state machine, its
//! transports (pending polling GET, WebSocket, upgrade probe) and its
//! handler state, and moves frames between them and the session's mailbox.

use super::conn::{Ctl, EngineConn, Outgoing};
use super::mailbox::Taken;
use super::vectored::Source;
use super::ws::{WsConn, WsEnd};
use super::{Engine, EngineHandler};
use bytes::Bytes;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::oneshot;
use wirehub_proto::engineio::{
    payload, CloseReason, EngineError, Frame, Output, Packet, Session, TransportKind,
};

/// Most queued entries written per batch (one flush / one poll response).
const BATCH: usize = 256;

/// The pause after a paced entry (see [`Outgoing::Paced`]); the timer has
/// millisecond resolution, so 2 ms guarantees at least 1 ms.
const PACE: Duration = Duration::from_millis(2);

/// How long after the upgrade probe a pending GET is ended with `6`. The
/// reference server checks every 100 ms; a short delay lets a `5` that the
/// client sent right after its probe complete the upgrade first.
const UPGRADE_NOOP_DELAY: Duration = Duration::from_millis(20);

/// How long a polling session closed by its client waits for its GET.
const CLOSE_GRACE: Duration = Duration::from_millis(50);

type PollReply = oneshot::Sender<Result<Bytes, EngineError>>;

/// Transport-side state of a session.
struct Io {
    /// The WebSocket, once it is the active transport.
    ws: Option<Box<WsConn>>,
    /// A WebSocket being probed for an upgrade (boxed: rare, and kept out
    /// of every session's inline state).
    probe: Option<Box<WsConn>>,
    /// The pending long-polling GET.
    poll: Option<PollReply>,
    /// Frames the session itself queued for polling (pings).
    own: Vec<Frame>,
    /// Answer polls at once (upgrade in progress).
    flush_polls: bool,
    /// When to start answering polls at once (shortly after the probe).
    flush_polls_at: Option<Instant>,
}

/// Runs a session opened (its open packet made) at `opened`: the heartbeat
/// counts from then, as the client's does from receiving that packet.
pub(crate) async fn run<H: EngineHandler>(
    engine: Arc<Engine<H>>,
    conn: Arc<EngineConn>,
    ws: Option<Box<WsConn>>,
    opened: Instant,
) {
    let _registration = Registration {
        engine: &*engine,
        conn: &conn,
    };
    let transport = if ws.is_some() {
        TransportKind::WebSocket
    } else {
        TransportKind::Polling
    };
    let mut session = Session::new(opened, engine.config.session(), transport);
    let mut state = engine.handler.on_open(&conn);
    let mut io = Io {
        ws,
        probe: None,
        poll: None,
        own: Vec::new(),
        flush_polls: false,
        flush_polls_at: None,
    };
    let far = Duration::from_secs(86_400 * 365);
    let sleep = tokio::time::sleep(far);
    tokio::pin!(sleep);

    let reason = 'session: loop {
        while let Some(output) = session.poll_output() {
            match output {
                Output::Send(packet) => send_own(&mut io, &mut session, packet).await,
                Output::SendOnProbe(packet) => {
                    if let Some(probe) = io.probe.as_mut() {
                        if Box::pin(probe.send(Source::Frames(&[packet.to_frame()])))
                            .await
                            .is_err()
                        {
                            io.probe = None;
                            session.abort_upgrade();
                            conn.set_upgrading(false);
                        }
                    }
                }
                Output::FlushPolling => {
                    io.flush_polls_at = Some(Instant::now() + UPGRADE_NOOP_DELAY)
                }
                Output::Message(msg) => {
                    if let Err(reason) = engine.handler.on_message(&mut state, msg) {
                        session.close(reason);
                    }
                }
                Output::Upgraded => {
                    io.ws = io.probe.take();
                    io.flush_polls = false;
                    io.flush_polls_at = None;
                    conn.set_transport(TransportKind::WebSocket);
                    conn.set_upgrading(false);
                    // A client pauses polling before it sends `5`, so a GET
                    // still pending now was sent after the upgrade: refuse it.
                    if let Some(poll) = io.poll.take() {
                        let _ = poll.send(Err(EngineError::BadRequest));
                    }
                    let own = std::mem::take(&mut io.own);
                    if let Some(ws) = io.ws.as_mut() {
                        if Box::pin(ws.send(Source::Frames(&own))).await.is_err() {
                            session.close(CloseReason::TransportError);
                        }
                    }
                }
                Output::UpgradeFailed => {
                    io.flush_polls = false;
                    io.flush_polls_at = None;
                    conn.set_upgrading(false);
                    if let Some(probe) = io.probe.take() {
                        tokio::spawn(probe.close());
                    }
                }
                Output::Closed(reason) => break 'session reason,
            }
        }
        answer_poll_if_ready(&mut io, &conn);

        let deadline = [
            session.poll_timeout(),
            engine.handler.deadline(&state),
            io.flush_polls_at,
        ]
        .into_iter()
        .flatten()
        .min()
        .unwrap_or_else(|| Instant::now() + far);
        sleep.as_mut().reset(deadline.into());
        let can_write = io.ws.is_some() || io.poll.is_some();

        tokio::select! {
            // WebSocket input first: a client's `2probe`/`5` sent before an
            // HTTP request must be seen before that request is served.
            biased;
            read = recv(&mut io.ws), if io.ws.is_some() => match read {
                Ok(frame) => match Packet::from_client_frame(frame) {
                    Ok(p) => session.handle_packet(Instant::now(), TransportKind::WebSocket, p),
                    Err(e) => {
                        tracing::debug!(sid = %conn.sid(), error = %e, "bad engine.io packet");
                        session.close(CloseReason::ParseError);
                    }
                },
                Err(WsEnd::Closed) => session.close(CloseReason::TransportClose),
                Err(WsEnd::Error | WsEnd::TooBig | WsEnd::BadText | WsEnd::Protocol) => session.close(CloseReason::TransportError),
            },
            read = recv(&mut io.probe), if io.probe.is_some() => match read.map(Packet::from_client_frame) {
                Ok(Ok(p)) => session.handle_packet(Instant::now(), TransportKind::WebSocket, p),
                _ => {
                    io.probe = None;
                    session.abort_upgrade();
                    conn.set_upgrading(false);
                }
            },
            // As the reference server: a pending poll whose connection
            // closed ("poll connection closed prematurely") ends the session.
            () = poll_gone(&mut io.poll), if io.poll.is_some() => {
                io.poll = None;
                session.close(CloseReason::TransportError);
            },
            taken = conn.mailbox.next(can_write, BATCH) => match taken {
                Taken::Out(batch) => write_watching_slow(&mut io, &mut session, &conn, batch).await,
                Taken::Ctl(cmd) => on_command(&mut io, &mut session, &conn, cmd),
                Taken::Closed => session.close(CloseReason::ForcedClose),
            },
            () = &mut sleep => {
                let now = Instant::now();
                if io.flush_polls_at.is_some_and(|at| now >= at) {
                    io.flush_polls_at = None;
                    io.flush_polls = true;
                }
                session.handle_timeout(now);
                if let Err(reason) = engine.handler.on_deadline(&mut state, now) {
                    session.close(reason);
                }
            }
        }
    };

    // The closing steps are boxed: they run once, and inline they would
    // enlarge every session's state for its whole life.
    if reason == CloseReason::TransportClose && io.ws.is_none() && io.poll.is_none() {
        Box::pin(await_closing_poll(&mut io, &conn)).await;
    }
    conn.set_closed();
    engine.remove(conn.sid());
    Box::pin(finish(&mut io, &conn, reason)).await;
    tracing::debug!(sid = %conn.sid(), %reason, "session closed");
    engine.handler.on_close(state, reason);
}

/// Deregisters the session however its task ends (a panic included), so a
/// dead session never lingers in the registry or accepts frames.
struct Registration<'a, H: EngineHandler> {
    engine: &'a Engine<H>,
    conn: &'a EngineConn,
}

impl<H: EngineHandler> Drop for Registration<'_, H> {
    fn drop(&mut self) {
        self.conn.set_closed();
        self.conn.mailbox.close();
        self.engine.remove(self.conn.sid());
    }
}

fn on_command(io: &mut Io, session: &mut Session, conn: &EngineConn, cmd: Ctl) {
    match cmd {
        Ctl::Poll(reply) => {
            // A request that arrives after the heartbeat ran out finds the
            // session gone, even if its timer has not fired yet.
            session.handle_timeout(Instant::now());
            if session.is_closed() {
                refuse(Ctl::Poll(reply));
            } else if session.transport() == TransportKind::WebSocket {
                let _ = reply.send(Err(EngineError::BadRequest));
            } else if io.poll.is_some() {
                let _ = reply.send(Err(EngineError::BadRequest));
                session.close(CloseReason::TransportError);
            } else {
                io.poll = Some(reply);
            }
        }
        Ctl::Post(packets, done) => {
            session.handle_timeout(Instant::now());
            if session.is_closed() {
                refuse(Ctl::Post(packets, done));
            } else if session.transport() == TransportKind::WebSocket {
                let _ = done.send(Err(EngineError::BadRequest));
            } else {
                let now = Instant::now();
                for p in packets {
                    session.handle_packet(now, TransportKind::Polling, p);
                }
                let _ = done.send(Ok(()));
            }
        }
        Ctl::Attach(ws) => {
            if session.start_upgrade(Instant::now()) {
                io.probe = Some(ws);
            } else {
                conn.set_upgrading(false);
                tokio::spawn(ws.close());
            }
        }
        Ctl::Close(reason) => session.close(reason),
    }
}

/// A polling client closed with a POST while no GET was pending. Its GET
/// may be in flight on another connection (requests on two connections have
/// no order): wait briefly so it gets the `6` it expects, not a 400.
async fn await_closing_poll(io: &mut Io, conn: &EngineConn) {
    let grace = tokio::time::sleep(CLOSE_GRACE);
    tokio::pin!(grace);
    loop {
        tokio::select! {
            taken = conn.mailbox.next(false, 0) => match taken {
                Taken::Ctl(Ctl::Poll(reply)) => {
                    io.poll = Some(reply);
                    return;
                }
                Taken::Ctl(other) => refuse(other),
                Taken::Out(_) | Taken::Closed => return,
            },
            () = &mut grace => return,
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

async fn recv(ws: &mut Option<Box<WsConn>>) -> Result<Frame, WsEnd> {
    match ws.as_mut() {
        Some(ws) => ws.recv().await,
        None => std::future::pending().await,
    }
}

/// Resolves when the pending poll's requester went away.
async fn poll_gone(poll: &mut Option<PollReply>) {
    match poll.as_mut() {
        Some(reply) => reply.closed().await,
        None => std::future::pending().await,
    }
}

/// A packet the session itself sends (ping): straight to the WebSocket, or
/// held for the next poll.
async fn send_own(io: &mut Io, session: &mut Session, packet: Packet) {
    let frame = packet.to_frame();
    match io.ws.as_mut() {
        Some(ws) => {
            if ws
                .send(Source::Frames(std::slice::from_ref(&frame)))
                .await
                .is_err()
            {
                session.close(CloseReason::TransportError);
            }
        }
        None => io.own.push(frame),
    }
}

/// Writes a batch with [`write_out`] while watching the mailbox: a peer
/// that stopped reading leaves the write pending for good, and the close
/// that the slow-consumer policy queues when that peer's queue is full
/// must not wait behind it. That close ends the write at once: part of a
/// frame may be on the wire, so nothing more is written on the connection,
/// which is dropped. Other commands (a close for another reason among
/// them) wait until the write is done, as before.
async fn write_watching_slow(
    io: &mut Io,
    session: &mut Session,
    conn: &EngineConn,
    batch: Vec<Outgoing>,
) {
    let mut deferred = Vec::new();
    let mut mailbox_closed = false;
    let slow = {
        let write = write_out(io, conn, batch);
        tokio::pin!(write);
        loop {
            tokio::select! {
                biased;
                written = &mut write => {
                    if let Err(reason) = written {
                        session.close(reason);
                    }
                    break false;
                }
                taken = conn.mailbox.next(false, 0), if !mailbox_closed => match taken {
                    Taken::Ctl(Ctl::Close(CloseReason::SlowConsumer)) => break true,
                    Taken::Ctl(cmd) => deferred.push(cmd),
                    Taken::Closed => mailbox_closed = true,
                    Taken::Out(_) => {}
                },
            }
        }
    };
    if slow {
        io.ws = None;
        session.close(CloseReason::SlowConsumer);
    }
    for cmd in deferred {
        on_command(io, session, conn, cmd);
    }
    if mailbox_closed {
        session.close(CloseReason::ForcedClose);
    }
}

/// Writes a batch of queued entries: to the WebSocket (one flush), or as
/// the pending poll's response.
async fn write_out(
    io: &mut Io,
    conn: &EngineConn,
    batch: Vec<Outgoing>,
) -> Result<(), CloseReason> {
    if let Some(ws) = io.ws.as_mut() {
        // Everything up to a paced entry leaves in one go; then the pause.
        let mut rest = &batch[..];
        while !rest.is_empty() {
            let cut = rest
                .iter()
                .position(Outgoing::is_paced)
                .map_or(rest.len(), |i| i + 1);
            let (now, later) = rest.split_at(cut);
            ws.send(Source::Entries(now))
                .await
                .map_err(|_| CloseReason::TransportError)?;
            if now.last().is_some_and(Outgoing::is_paced) {
                Box::pin(tokio::time::sleep(PACE)).await;
            }
            rest = later;
        }
        return Ok(());
    }
    if let Some(poll) = io.poll.take() {
        let mut frames = std::mem::take(&mut io.own);
        extend_frames(&mut frames, batch);
        extend_frames(&mut frames, conn.mailbox.take_out(BATCH));
        let _ = poll.send(Ok(payload::encode(&frames)));
    }
    Ok(())
}

fn extend_frames(frames: &mut Vec<Frame>, batch: Vec<Outgoing>) {
    for out in batch {
        frames.extend_from_slice(out.frames());
    }
}

/// Answers the pending poll if anything is ready, or at once during an upgrade.
fn answer_poll_if_ready(io: &mut Io, conn: &EngineConn) {
    if io.poll.as_ref().is_none_or(|p| p.is_closed()) {
        return;
    }
    let mut frames = std::mem::take(&mut io.own);
    extend_frames(&mut frames, conn.mailbox.take_out(BATCH));
    if frames.is_empty() && io.flush_polls {
        frames.push(Packet::Noop.to_frame());
    }
    if !frames.is_empty() {
        if let Some(poll) = io.poll.take() {
            let _ = poll.send(Ok(payload::encode(&frames)));
        }
    }
}

/// Ends the transports: flushes what was queued, tells the client why, and
/// refuses requests that reached the session's mailbox too late.
async fn finish(io: &mut Io, conn: &EngineConn, reason: CloseReason) {
    for cmd in conn.mailbox.close() {
        match cmd {
            Ctl::Poll(reply) if io.poll.is_none() => io.poll = Some(reply),
            other => refuse(other),
        }
    }
    if let Some(probe) = io.probe.take() {
        tokio::spawn(probe.close());
    }
    let mut frames = Vec::new();
    extend_frames(&mut frames, conn.mailbox.take_out(BATCH));
    if let Some(mut ws) = io.ws.take() {
        match reason {
            CloseReason::TransportError => {}
            // The peer closed: answer its close frame (RFC 6455, section 5.5.1).
            CloseReason::TransportClose => {
                let _ = tokio::time::timeout(Duration::from_secs(1), ws.close()).await;
            }
            _ => {
                let _ = tokio::time::timeout(Duration::from_secs(1), async {
                    let _ = ws.send(Source::Frames(&frames)).await;
                    ws.close().await;
                })
                .await;
            }
        }
    }
    if let Some(poll) = io.poll.take() {
        let last = if reason.tells_client() {
            Packet::Close
        } else {
            Packet::Noop
        };
        frames.push(last.to_frame());
        let _ = poll.send(Ok(payload::encode(&frames)));
    }
}

#[cfg(test)]
mod tests {
    /// Every open session keeps its task's future in memory: guard its size
    /// (1,112 bytes when written, 1,008 since the decoder boxes a partial
    /// binary packet; cold paths are boxed to keep it there).
    #[test]
    fn session_future_stays_small() {
        let (_svc, io) = crate::io::SocketIo::builder().build_service();
        let engine = super::Engine::new(crate::Config::default(), io.handler());
        let (parts, _) = http::Request::new(()).into_parts();
        let conn = super::EngineConn::new(
            "sid".into(),
            super::TransportKind::Polling,
            8,
            crate::SlowConsumerPolicy::Disconnect,
            parts,
        );
        let session = super::run(engine.clone(), conn, None, std::time::Instant::now());
        let size = std::mem::size_of_val(&session);
        assert!(size <= 1536, "the session future grew to {size} bytes");
        // A WebSocket session's whole task: the set-up must not add to it.
        let task = super::super::http::websocket_task_for_size(engine);
        let task_size = std::mem::size_of_val(&task);
        assert!(
            task_size <= size + 64,
            "the WebSocket task is {task_size} bytes, the session {size}"
        );
    }
}
