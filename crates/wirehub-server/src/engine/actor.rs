//! The session task: a thin driver of one session's [`Session`] state
//! machine, its [`Transports`] and its handler state. All protocol timing
//! (heartbeat, upgrade timeout, the no-op after a probe, the close grace) is
//! the session's. Each turn of the loop runs named steps, as quinn's
//! `ConnectionDriver` does: carry out the session's outputs
//! ([`Driver::drive_outputs`]), end a held GET that has queued entries
//! ([`Driver::drive_poll`]), wait for the next event ([`Driver::wait`]) and
//! feed it to the session (the `on_*` steps).

use super::conn::{Ctl, EngineConn, Outgoing};
use super::mailbox::Taken;
use super::transports::{entries_len, poll_gone, recv, Transports, BATCH};
use super::ws::{WsConn, WsEnd};
use super::{Engine, EngineHandler};
use crate::metrics::{ErrorKind, Metrics};
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::time::Sleep;
use wirehub_proto::engineio::{CloseReason, Frame, Output, Packet, Session, TransportKind};

/// The timer's deadline when neither the session nor the handler has one.
const FAR: Duration = Duration::from_secs(86_400 * 365);

/// How long a session closed by the server's shutdown waits for its
/// polling client's next GET (a client polls again within a round trip).
const LAST_POLL_WAIT: Duration = Duration::from_secs(2);

/// What the driver waits for.
enum Event {
    /// A read on the active WebSocket.
    Ws(Result<Frame, WsEnd>),
    /// A read on the WebSocket being probed.
    Probe(Result<Frame, WsEnd>),
    /// The held GET's requester went away.
    PollGone,
    /// A command or outbound entries.
    Mailbox(Taken),
    /// The earliest deadline of the session or the handler passed.
    Timer,
}

/// One session's driver.
struct Driver<'a, H: EngineHandler> {
    engine: &'a Engine<H>,
    conn: &'a EngineConn,
    session: Session,
    state: H::Conn,
    t: Transports,
}

/// Runs a session opened (its open packet made) at `opened`: the heartbeat
/// counts from then, as the client's does from receiving that packet.
pub(crate) async fn run<H: EngineHandler>(
    engine: Arc<Engine<H>>,
    conn: Arc<EngineConn>,
    ws: Option<Box<WsConn>>,
    opened: Instant,
) {
    // Keeps a shutdown waiting until the last frame is written.
    let _task = engine.connections.track();
    let _registration = Registration {
        engine: &*engine,
        conn: &conn,
    };
    let transport = match ws {
        Some(_) => TransportKind::WebSocket,
        None => TransportKind::Polling,
    };
    let mut d = Driver {
        engine: &engine,
        conn: &conn,
        session: Session::with_version(opened, engine.config.session(), transport, conn.protocol()),
        state: engine.handler.on_open(&conn),
        t: Transports {
            ws,
            probe: None,
            poll: None,
            poll_framing: conn.poll_framing(),
            ws_framing: conn.ws_framing(),
        },
    };
    let sleep = tokio::time::sleep(FAR);
    tokio::pin!(sleep);
    let reason = loop {
        if let Some(reason) = d.drive_outputs().await {
            break reason;
        }
        d.drive_poll();
        match d.wait(sleep.as_mut()).await {
            Event::Ws(read) => d.on_ws_read(read),
            Event::Probe(read) => d.on_probe_read(read),
            Event::PollGone => d.on_poll_gone(),
            Event::Mailbox(taken) => d.on_mailbox(taken).await,
            Event::Timer => d.on_timer(),
        }
    };

    if reason == CloseReason::ServerShutdown {
        Box::pin(d.await_last_poll()).await;
    }
    let Driver { state, mut t, .. } = d;
    conn.set_closed();
    engine.remove(conn.sid());
    // Boxed: it runs once, and inline it would enlarge every session's
    // state for its whole life.
    Box::pin(t.finish(&conn, reason)).await;
    tracing::debug!(sid = %conn.sid(), %reason, "session closed");
    engine.handler.on_close(state, reason);
}

impl<H: EngineHandler> Driver<'_, H> {
    /// Carries out the session's outputs; returns the reason once it closed.
    async fn drive_outputs(&mut self) -> Option<CloseReason> {
        while let Some(output) = self.session.poll_output() {
            match output {
                Output::Send(packet) => {
                    // Boxed, as every write below: a write's state inline
                    // would widen every idle session's task (see the test).
                    match Box::pin(self.t.send_ws(packet)).await {
                        Ok(bytes) => self.metrics().sent(bytes),
                        Err(_) => self.session.close(CloseReason::TransportError),
                    }
                }
                Output::SendOnProbe(packet) => {
                    if Box::pin(self.t.send_probe(packet)).await.is_err() {
                        self.drop_probe();
                    }
                }
                Output::AnswerPoll(own) => {
                    let entries = self.conn.mailbox.take_out(BATCH);
                    self.answer_poll(own, entries);
                }
                Output::Message(msg) => {
                    if let Err(reason) = self.engine.handler.on_message(&mut self.state, msg) {
                        self.session.close(reason);
                    }
                }
                Output::Upgraded => {
                    self.t.upgrade();
                    self.conn.set_transport(TransportKind::WebSocket);
                    self.engine
                        .set_transport(self.conn.sid(), crate::conn::Transport::WebSocket);
                    self.conn.set_upgrading(false);
                }
                Output::UpgradeFailed => {
                    self.t.close_probe();
                    self.conn.set_upgrading(false);
                }
                Output::Closed(reason) => return Some(reason),
            }
        }
        None
    }

    /// Ends the held GET if entries are queued for the client. Done before
    /// waiting, so a `5` read next cannot turn away a GET that had data.
    fn drive_poll(&mut self) {
        if !self.t.poll_waits() {
            return;
        }
        let entries = self.conn.mailbox.take_out(BATCH);
        if !entries.is_empty() {
            let own = self.session.answer_poll();
            self.answer_poll(own, entries);
        }
    }

    /// Waits for the next event. WebSocket input comes first: a client's
    /// `2probe`/`5` sent before an HTTP request must be seen before that
    /// request is served.
    async fn wait(&mut self, mut sleep: Pin<&mut Sleep>) -> Event {
        // A session waiting out its close grace no longer runs the handler.
        let handler = if self.session.is_closed() {
            None
        } else {
            self.engine.handler.deadline(&self.state)
        };
        let deadline = [self.session.poll_timeout(), handler]
            .into_iter()
            .flatten()
            .min()
            .unwrap_or_else(|| Instant::now() + FAR);
        sleep.as_mut().reset(deadline.into());
        let can_write = self.t.can_write();
        let t = &mut self.t;
        tokio::select! {
            biased;
            read = recv(&mut t.ws), if t.ws.is_some() => Event::Ws(read),
            read = recv(&mut t.probe), if t.probe.is_some() => Event::Probe(read),
            () = poll_gone(&mut t.poll), if t.poll.is_some() => Event::PollGone,
            taken = self.conn.mailbox.next(can_write, BATCH) => Event::Mailbox(taken),
            () = sleep => Event::Timer,
        }
    }

    fn on_ws_read(&mut self, read: Result<Frame, WsEnd>) {
        let framing = self.t.ws_framing;
        if let Ok(frame) = &read {
            self.metrics().received(frame.len());
        }
        let reason = match read.map(|f| framing.from_client_ws_frame(f)) {
            Ok(Ok(p)) => {
                let now = Instant::now();
                return self.session.handle_packet(now, TransportKind::WebSocket, p);
            }
            Ok(Err(e)) => {
                self.metrics().error(ErrorKind::Parse);
                tracing::debug!(sid = %self.conn.sid(), error = %e, "bad engine.io packet");
                CloseReason::ParseError
            }
            Err(WsEnd::Closed) => CloseReason::TransportClose,
            Err(WsEnd::Error | WsEnd::TooBig | WsEnd::BadText | WsEnd::Protocol) => {
                CloseReason::TransportError
            }
        };
        self.session.close(reason);
    }

    fn on_probe_read(&mut self, read: Result<Frame, WsEnd>) {
        let framing = self.t.ws_framing;
        if let Ok(frame) = &read {
            self.metrics().received(frame.len());
        }
        match read.map(|f| framing.from_client_ws_frame(f)) {
            Ok(Ok(p)) => {
                let now = Instant::now();
                self.session.handle_packet(now, TransportKind::WebSocket, p);
            }
            _ => self.drop_probe(),
        }
    }

    fn on_poll_gone(&mut self) {
        self.t.poll = None;
        self.session.poll_dropped();
    }

    async fn on_mailbox(&mut self, taken: Taken) {
        match taken {
            Taken::Out(batch) => self.write_out(batch).await,
            Taken::Ctl(cmd) => self.on_command(cmd),
            Taken::Closed => self.session.close(CloseReason::ForcedClose),
        }
    }

    fn on_timer(&mut self) {
        let now = Instant::now();
        self.session.handle_timeout(now);
        if self.session.is_closed() {
            return;
        }
        if let Err(reason) = self.engine.handler.on_deadline(&mut self.state, now) {
            self.session.close(reason);
        }
    }

    fn on_command(&mut self, cmd: Ctl) {
        let now = Instant::now();
        match cmd {
            Ctl::Poll(reply) => match self.session.handle_poll(now) {
                Ok(()) => self.t.poll = Some(reply),
                Err(e) => {
                    let _ = reply.send(Err(e));
                }
            },
            Ctl::Post(packets, done) => {
                let _ = done.send(self.session.handle_post(now, packets));
            }
            Ctl::Attach(ws) if self.session.start_upgrade(now) => self.t.probe = Some(ws),
            Ctl::Attach(ws) => {
                self.conn.set_upgrading(false);
                tokio::spawn(ws.close());
            }
            Ctl::Close(reason) => self.session.close(reason),
        }
    }

    /// On shutdown, a polling client with no GET held gets the close packet
    /// on its next GET, as Node's polling transport does on close: it then
    /// reports "transport close" and reconnects, where a GET refused (the
    /// session gone) would be a "transport error". Bounded by
    /// [`LAST_POLL_WAIT`]; the session stays listed meanwhile.
    async fn await_last_poll(&mut self) {
        if self.t.ws.is_some() || self.t.poll.is_some() {
            return;
        }
        let mailbox = &self.conn.mailbox;
        let next_get = async {
            loop {
                match mailbox.next(false, 0).await {
                    Taken::Ctl(Ctl::Poll(reply)) => return Some(reply),
                    // Accepted and dropped: the server is going away.
                    Taken::Ctl(Ctl::Post(_, done)) => {
                        let _ = done.send(Ok(()));
                    }
                    Taken::Ctl(Ctl::Attach(ws)) => {
                        tokio::spawn(ws.close());
                    }
                    Taken::Ctl(Ctl::Close(_)) | Taken::Out(_) => {}
                    Taken::Closed => return None,
                }
            }
        };
        if let Ok(Some(reply)) = tokio::time::timeout(LAST_POLL_WAIT, next_get).await {
            self.t.poll = Some(reply);
        }
    }

    /// The probing WebSocket failed: the session fails the upgrade.
    fn drop_probe(&mut self) {
        self.t.probe = None;
        self.session.abort_upgrade();
    }

    /// Writes a batch of queued entries: to the WebSocket (one flush), or as
    /// the held GET's answer.
    async fn write_out(&mut self, mut batch: Vec<Outgoing>) {
        if self.t.ws.is_some() {
            self.metrics().sent(entries_len(&batch));
            Box::pin(self.write_ws_watching_slow(&batch)).await;
        } else if self.t.poll.is_some() {
            let own = self.session.answer_poll();
            batch.extend(self.conn.mailbox.take_out(BATCH));
            self.answer_poll(own, batch);
        }
    }

    /// Writes a batch to the WebSocket while watching the mailbox: a peer
    /// that stopped reading leaves the write pending for good, and the close
    /// that the slow-consumer policy queues when that peer's queue is full
    /// must not wait behind it. That close ends the write at once: part of a
    /// frame may be on the wire, so nothing more is written on the
    /// connection, which is dropped. Other commands (a close for another
    /// reason among them) wait until the write is done, as before.
    async fn write_ws_watching_slow(&mut self, batch: &[Outgoing]) {
        let mut deferred = Vec::new();
        let mut mailbox_closed = false;
        let (t, conn) = (&mut self.t, self.conn);
        let slow = {
            let write = t.write_ws(batch);
            tokio::pin!(write);
            loop {
                tokio::select! {
                    biased;
                    written = &mut write => {
                        if written.is_err() {
                            self.session.close(CloseReason::TransportError);
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
            self.t.ws = None;
            self.session.close(CloseReason::SlowConsumer);
        }
        for cmd in deferred {
            self.on_command(cmd);
        }
        if mailbox_closed {
            self.session.close(CloseReason::ForcedClose);
        }
    }

    /// Ends the held GET; one whose requester left ends the session.
    fn answer_poll(&mut self, own: Vec<Packet>, entries: Vec<Outgoing>) {
        match self.t.answer_poll(own, entries) {
            Ok(bytes) => self.metrics().sent(bytes),
            Err(_) => self.session.poll_dropped(),
        }
    }

    /// The server's counters.
    fn metrics(&self) -> &Metrics {
        self.engine.connections.metrics()
    }
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

#[cfg(test)]
mod tests {
    /// Every open session keeps its task in memory: its future plus ~104
    /// bytes of tokio's task header and trailer, allocated in steps of 128
    /// bytes. Guard the future so the task stays within 1,024 bytes (1,112
    /// bytes when first written; 1,008 once the decoder boxed a partial
    /// binary packet; 1,368 after the slow-consumer write and revision 3
    /// framing, brought back to 896 by boxing the WebSocket writes and not
    /// copying the whole config into each session).
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
            Default::default(),
        );
        let session = super::run(engine.clone(), conn, None, std::time::Instant::now());
        let size = std::mem::size_of_val(&session);
        assert!(size <= 920, "the session future grew to {size} bytes");
    }
}
