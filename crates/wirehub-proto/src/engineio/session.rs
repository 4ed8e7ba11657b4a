//! The per-session Engine.IO state machine: heartbeat, long-polling GETs,
//! polling→WebSocket upgrade, and close, with no I/O.
//!
//! The driver feeds it packets ([`Session::handle_packet`], or a polling
//! POST's with [`Session::handle_post`]), polling GETs
//! ([`Session::handle_poll`]) and clock ticks ([`Session::handle_timeout`]
//! at [`Session::poll_timeout`]), then drains [`Session::poll_output`] and
//! carries out each [`Output`]. Every deadline of the session (heartbeat,
//! upgrade, the no-op delay, the close grace) comes out of
//! [`Session::poll_timeout`].

use super::handshake::{EngineError, ProtocolVersion, TransportKind};
use super::heartbeat::{Beat, Heartbeat};
use super::packet::{Message, Packet};
use super::polling::PollBuffer;
use std::collections::VecDeque;
use std::fmt;
use std::time::{Duration, Instant};

/// How long after the upgrade probe (`2probe`) a held GET is ended with a
/// noop (`6`), the client's cue to stop polling. The reference server checks
/// every 100 ms; a short delay lets a `5` that the client sent right after
/// its probe complete the upgrade first.
pub const UPGRADE_NOOP_DELAY: Duration = Duration::from_millis(20);

/// How long a polling session closed by its client (a `1` in a POST while no
/// GET is held) waits for its GET. That GET may be in flight on another
/// connection (requests on two connections have no order): waiting briefly
/// lets it get the `6` it expects instead of a 400.
pub const CLOSE_GRACE: Duration = Duration::from_millis(50);

/// Session limits and timers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionConfig {
    /// Time between server pings.
    pub ping_interval: Duration,
    /// Time the client has to answer a ping.
    pub ping_timeout: Duration,
    /// Time a client has to finish an upgrade once it opened the WebSocket.
    pub upgrade_timeout: Duration,
}

impl Default for SessionConfig {
    fn default() -> Self {
        SessionConfig {
            ping_interval: Duration::from_millis(25_000),
            ping_timeout: Duration::from_millis(20_000),
            upgrade_timeout: Duration::from_millis(10_000),
        }
    }
}

/// Why a session closed; the names are the reference server's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CloseReason {
    /// The client did not answer a ping in time.
    PingTimeout,
    /// The client sent a close packet, or its connection went away.
    TransportClose,
    /// The transport failed (I/O error, overlapping polls, oversized body).
    TransportError,
    /// The client sent a packet that could not be decoded or is not allowed.
    ParseError,
    /// The server closed the session.
    ForcedClose,
    /// The per-connection outbound queue overflowed (slow consumer policy).
    SlowConsumer,
    /// The server is shutting down.
    ServerShutdown,
    /// The client stayed over the inbound event-rate limit.
    RateLimited,
}

impl CloseReason {
    /// The reason's name as the reference server reports it.
    pub fn as_str(self) -> &'static str {
        match self {
            CloseReason::PingTimeout => "ping timeout",
            CloseReason::TransportClose => "transport close",
            CloseReason::TransportError => "transport error",
            CloseReason::ParseError => "parse error",
            CloseReason::ForcedClose => "forced close",
            CloseReason::SlowConsumer => "slow consumer",
            CloseReason::ServerShutdown => "server shutting down",
            CloseReason::RateLimited => "rate limited",
        }
    }

    /// Whether the client should be told with a close packet (`1`); a client
    /// that closed by itself gets a `6` on its pending poll instead.
    pub fn tells_client(self) -> bool {
        !matches!(self, CloseReason::TransportClose)
    }
}

impl fmt::Display for CloseReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An action the driver must carry out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Output {
    /// Send this packet on the WebSocket (the active transport). On polling
    /// the session's own packets come out in [`Output::AnswerPoll`] instead.
    Send(Packet),
    /// Send this packet on the WebSocket being upgraded to (the `3probe`).
    SendOnProbe(Packet),
    /// End the held long-polling GET now: with these packets, then the
    /// entries queued for the client; with a noop (`6`) if both are empty.
    /// The session no longer counts the GET as held.
    AnswerPoll(Vec<Packet>),
    /// Application data for the layer above.
    Message(Message),
    /// The upgrade finished: the WebSocket is now the transport. A GET still
    /// held is refused (a client pauses polling before it sends `5`, so that
    /// GET was sent after the upgrade); the packets the session had queued
    /// for polling follow as [`Output::Send`].
    Upgraded,
    /// The upgrade failed: close the probing WebSocket; polling continues.
    UpgradeFailed,
    /// The session is over: the driver ends its transports (a held GET gets
    /// the queued entries and a `1`, or a `6` if the client closed).
    Closed(CloseReason),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Upgrade {
    None,
    /// A WebSocket arrived; waiting for `2probe` then `5` before the deadline.
    Probing {
        probed: bool,
        deadline: Instant,
    },
}

/// One Engine.IO session's protocol state.
#[derive(Debug)]
pub struct Session {
    version: ProtocolVersion,
    transport: TransportKind,
    upgrade: Upgrade,
    heartbeat: Heartbeat,
    /// The config's upgrade timeout (the heartbeat keeps the ping timings:
    /// the whole config is not copied into every session).
    upgrade_timeout: Duration,
    /// The long-polling GET and what waits for it.
    poll: PollBuffer,
    closed: bool,
    /// Closed by the client, waiting until then for its GET (see
    /// [`CLOSE_GRACE`]); [`Output::Closed`] is still to come.
    grace: Option<Instant>,
    outputs: VecDeque<Output>,
}

impl Session {
    /// A revision 4 session opened at `now` on `transport`.
    pub fn new(now: Instant, config: SessionConfig, transport: TransportKind) -> Self {
        Self::with_version(now, config, transport, ProtocolVersion::V4)
    }

    /// A session of protocol `version` opened at `now` on `transport`. In
    /// revision 3 the client pings (the server answers each with a pong)
    /// and a pong from the client is a protocol error.
    pub fn with_version(
        now: Instant,
        config: SessionConfig,
        transport: TransportKind,
        version: ProtocolVersion,
    ) -> Self {
        let (interval, timeout) = (config.ping_interval, config.ping_timeout);
        let heartbeat = match version {
            ProtocolVersion::V4 => Heartbeat::new(now, interval, timeout),
            ProtocolVersion::V3 => Heartbeat::client_pings(now, interval, timeout),
        };
        Session {
            version,
            transport,
            upgrade: Upgrade::None,
            heartbeat,
            upgrade_timeout: config.upgrade_timeout,
            poll: PollBuffer::default(),
            closed: false,
            grace: None,
            outputs: VecDeque::new(),
        }
    }

    /// The active transport.
    pub fn transport(&self) -> TransportKind {
        self.transport
    }

    /// Whether an upgrade is in progress.
    pub fn is_upgrading(&self) -> bool {
        self.upgrade != Upgrade::None
    }

    /// Whether the session is over (or only waiting out the close grace).
    pub fn is_closed(&self) -> bool {
        self.closed
    }

    /// A WebSocket carrying this session's sid arrived. Refused unless the
    /// session is on polling and not already upgrading.
    pub fn start_upgrade(&mut self, now: Instant) -> bool {
        if self.closed || self.transport != TransportKind::Polling || self.is_upgrading() {
            return false;
        }
        self.upgrade = Upgrade::Probing {
            probed: false,
            deadline: now + self.upgrade_timeout,
        };
        true
    }

    /// The probing WebSocket went away before the upgrade finished: emits
    /// [`Output::UpgradeFailed`] if one was in progress.
    pub fn abort_upgrade(&mut self) {
        if self.is_upgrading() {
            self.fail_upgrade();
        }
    }

    fn fail_upgrade(&mut self) {
        self.upgrade = Upgrade::None;
        self.poll.stop_flush();
        self.outputs.push_back(Output::UpgradeFailed);
    }

    /// A long-polling GET arrived at `now`. `Ok`: the driver holds it until
    /// an [`Output::AnswerPoll`] (maybe at once) or [`Output::Closed`], or
    /// until it answers it itself with queued entries
    /// ([`Self::answer_poll`]). `Err`: answer it with that error.
    pub fn handle_poll(&mut self, now: Instant) -> Result<(), EngineError> {
        self.handle_timeout(now);
        if self.grace.take().is_some() {
            // The GET a client sent with its close: it gets its `6`.
            self.outputs
                .push_back(Output::Closed(CloseReason::TransportClose));
            return Ok(());
        }
        if self.closed {
            return Err(EngineError::UnknownSid);
        }
        if self.transport != TransportKind::Polling {
            return Err(EngineError::BadRequest);
        }
        if self.poll.is_held() {
            // Two GETs at once: the reference server ends the session.
            self.close(CloseReason::TransportError);
            return Err(EngineError::BadRequest);
        }
        if let Some(packets) = self.poll.hold() {
            self.outputs.push_back(Output::AnswerPoll(packets));
        }
        Ok(())
    }

    /// The packets of a long-polling POST, arrived at `now`. `Err`: answer
    /// the POST with that error (its packets were not read).
    pub fn handle_post(
        &mut self,
        now: Instant,
        packets: impl IntoIterator<Item = Packet>,
    ) -> Result<(), EngineError> {
        self.handle_timeout(now);
        if self.closed {
            return Err(EngineError::UnknownSid);
        }
        if self.transport != TransportKind::Polling {
            return Err(EngineError::BadRequest);
        }
        for packet in packets {
            self.handle_packet(now, TransportKind::Polling, packet);
        }
        Ok(())
    }

    /// The driver is ending the held GET with entries queued for the
    /// client: returns the session's own packets, which go first.
    pub fn answer_poll(&mut self) -> Vec<Packet> {
        self.poll.answered()
    }

    /// The held GET's requester went away. As in the reference server ("poll
    /// connection closed prematurely"), that ends the session.
    pub fn poll_dropped(&mut self) {
        self.poll.answered();
        self.close(CloseReason::TransportError);
    }

    /// Feeds one packet that arrived on `via` at `now`.
    ///
    /// Timers are advanced to `now` first, so a packet that arrives after
    /// the heartbeat ran out (a late pong) finds the session closed, whether
    /// or not the caller's timer has fired yet.
    pub fn handle_packet(&mut self, now: Instant, via: TransportKind, packet: Packet) {
        self.handle_timeout(now);
        if self.closed {
            return;
        }
        if via != self.transport {
            self.handle_probe_packet(now, packet);
            return;
        }
        match (packet, self.version) {
            (Packet::Pong, ProtocolVersion::V4) => {
                self.heartbeat.on_pong(now);
            }
            (Packet::Ping, ProtocolVersion::V3) => {
                self.heartbeat.on_ping(now);
                self.send(Packet::Pong);
            }
            (Packet::Message(m), _) => self.outputs.push_back(Output::Message(m)),
            (Packet::Close, _) => self.close_by_client(now),
            (Packet::Noop, _) => {}
            (
                Packet::Ping
                | Packet::Pong
                | Packet::PingProbe
                | Packet::PongProbe
                | Packet::Upgrade
                | Packet::Open(_),
                _,
            ) => self.close(CloseReason::ParseError),
        }
    }

    /// The client sent a close packet. On polling with no GET held, its GET
    /// may still be on the way: [`Output::Closed`] waits for it, at most
    /// [`CLOSE_GRACE`].
    fn close_by_client(&mut self, now: Instant) {
        if self.transport == TransportKind::Polling && !self.poll.is_held() {
            self.closed = true;
            if self.is_upgrading() {
                self.fail_upgrade();
            }
            self.grace = Some(now + CLOSE_GRACE);
        } else {
            self.close(CloseReason::TransportClose);
        }
    }

    fn handle_probe_packet(&mut self, now: Instant, packet: Packet) {
        let Upgrade::Probing { probed, deadline } = self.upgrade else {
            return;
        };
        match packet {
            Packet::PingProbe if !probed => {
                self.upgrade = Upgrade::Probing {
                    probed: true,
                    deadline,
                };
                self.outputs
                    .push_back(Output::SendOnProbe(Packet::PongProbe));
                self.poll.flush_from(now + UPGRADE_NOOP_DELAY);
            }
            Packet::Upgrade if probed => self.upgraded(),
            _ => self.fail_upgrade(),
        }
    }

    fn upgraded(&mut self) {
        self.upgrade = Upgrade::None;
        self.transport = TransportKind::WebSocket;
        self.poll.stop_flush();
        self.outputs.push_back(Output::Upgraded);
        let queued = self.poll.answered();
        self.outputs.extend(queued.into_iter().map(Output::Send));
    }

    /// Sends one of the session's own packets on the active transport.
    fn send(&mut self, packet: Packet) {
        if self.transport == TransportKind::WebSocket {
            self.outputs.push_back(Output::Send(packet));
        } else if let Some(packets) = self.poll.push(packet) {
            self.outputs.push_back(Output::AnswerPoll(packets));
        }
    }

    /// The next instant at which [`Self::handle_timeout`] must be called:
    /// the earliest of the heartbeat, the upgrade timeout, the no-op delay
    /// and the close grace.
    pub fn poll_timeout(&self) -> Option<Instant> {
        if self.closed {
            return self.grace;
        }
        let upgrade = match self.upgrade {
            Upgrade::Probing { deadline, .. } => Some(deadline),
            Upgrade::None => None,
        };
        [self.heartbeat.deadline(), upgrade, self.poll.deadline()]
            .into_iter()
            .flatten()
            .min()
    }

    /// Advances timers to `now`.
    pub fn handle_timeout(&mut self, now: Instant) {
        if let Some(until) = self.grace {
            if now >= until {
                self.grace = None;
                self.outputs
                    .push_back(Output::Closed(CloseReason::TransportClose));
            }
        }
        if self.closed {
            return;
        }
        if let Upgrade::Probing { deadline, .. } = self.upgrade {
            if now >= deadline {
                self.fail_upgrade();
            }
        }
        match self.heartbeat.on_timeout(now) {
            Beat::Idle => {}
            Beat::SendPing => self.send(Packet::Ping),
            Beat::TimedOut => self.close(CloseReason::PingTimeout),
        }
        // After the heartbeat: a ping due at the same instant goes in the
        // answer instead of waiting for the next GET.
        if self.closed {
            return;
        }
        if let Some(packets) = self.poll.on_timeout(now) {
            self.outputs.push_back(Output::AnswerPoll(packets));
        }
    }

    /// Closes the session (idempotent); emits [`Output::Closed`] once. During
    /// the close grace it ends the wait: the client's reason stands.
    pub fn close(&mut self, reason: CloseReason) {
        if self.grace.take().is_some() {
            self.outputs
                .push_back(Output::Closed(CloseReason::TransportClose));
        } else if !self.closed {
            self.closed = true;
            if self.is_upgrading() {
                self.fail_upgrade();
            }
            self.outputs.push_back(Output::Closed(reason));
        }
    }

    /// The next action to carry out. Once the queue is drained its buffer
    /// is released: an idle session holds none.
    pub fn poll_output(&mut self) -> Option<Output> {
        let next = self.outputs.pop_front();
        if next.is_none() && self.outputs.capacity() > 0 {
            self.outputs = VecDeque::new();
        }
        next
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use TransportKind::{Polling, WebSocket};

    fn cfg() -> SessionConfig {
        SessionConfig {
            ping_interval: Duration::from_millis(300),
            ping_timeout: Duration::from_millis(200),
            upgrade_timeout: Duration::from_millis(1000),
        }
    }

    /// Asserts the session's outputs since the last call.
    #[track_caller]
    fn expect(s: &mut Session, want: &[Output]) {
        let got: Vec<Output> = std::iter::from_fn(|| s.poll_output()).collect();
        assert_eq!(got, want);
    }

    #[test]
    fn heartbeat_ping_pong_and_timeout() {
        let t0 = Instant::now();
        let mut s = Session::new(t0, cfg(), WebSocket);
        assert_eq!(s.poll_timeout(), Some(t0 + Duration::from_millis(300)));
        s.handle_timeout(t0 + Duration::from_millis(300));
        expect(&mut s, &[Output::Send(Packet::Ping)]);
        s.handle_packet(t0 + Duration::from_millis(310), WebSocket, Packet::Pong);
        s.handle_timeout(t0 + Duration::from_millis(610));
        expect(&mut s, &[Output::Send(Packet::Ping)]);
        s.handle_timeout(t0 + Duration::from_millis(810));
        expect(&mut s, &[Output::Closed(CloseReason::PingTimeout)]);
        assert!(s.is_closed());
        assert_eq!(s.poll_timeout(), None);
    }

    #[test]
    fn a_pong_after_the_deadline_does_not_revive_the_session() {
        let t0 = Instant::now();
        let mut s = Session::new(t0, cfg(), WebSocket);
        s.handle_timeout(t0 + Duration::from_millis(300));
        expect(&mut s, &[Output::Send(Packet::Ping)]);
        // The caller's timer for t0 + 500 ms has not fired yet.
        s.handle_packet(t0 + Duration::from_millis(501), WebSocket, Packet::Pong);
        expect(&mut s, &[Output::Closed(CloseReason::PingTimeout)]);
        assert!(s.is_closed());

        let mut in_time = Session::new(t0, cfg(), WebSocket);
        in_time.handle_timeout(t0 + Duration::from_millis(300));
        expect(&mut in_time, &[Output::Send(Packet::Ping)]);
        in_time.handle_packet(t0 + Duration::from_millis(499), WebSocket, Packet::Pong);
        expect(&mut in_time, &[]);
        assert_eq!(
            in_time.poll_timeout(),
            Some(t0 + Duration::from_millis(799))
        );
    }

    #[test]
    fn a_message_when_a_ping_is_due_sends_the_ping_first() {
        let t0 = Instant::now();
        let mut s = Session::new(t0, cfg(), WebSocket);
        s.handle_packet(
            t0 + Duration::from_millis(350),
            WebSocket,
            Packet::text("hi"),
        );
        expect(
            &mut s,
            &[
                Output::Send(Packet::Ping),
                Output::Message(Message::Text("hi".into())),
            ],
        );
        let mut p = Session::new(t0, cfg(), Polling);
        assert_eq!(p.handle_poll(t0), Ok(()));
        p.handle_packet(t0 + Duration::from_millis(350), Polling, Packet::text("hi"));
        expect(
            &mut p,
            &[
                Output::AnswerPoll(vec![Packet::Ping]),
                Output::Message(Message::Text("hi".into())),
            ],
        );
    }

    #[test]
    fn messages_and_client_close() {
        let t0 = Instant::now();
        let mut s = Session::new(t0, cfg(), Polling);
        assert_eq!(s.handle_poll(t0), Ok(()));
        s.handle_packet(t0, Polling, Packet::text("hi"));
        s.handle_packet(t0, Polling, Packet::Noop);
        s.handle_packet(t0, Polling, Packet::Close);
        s.handle_packet(t0, Polling, Packet::text("ignored"));
        expect(
            &mut s,
            &[
                Output::Message(Message::Text("hi".into())),
                Output::Closed(CloseReason::TransportClose),
            ],
        );
    }

    #[test]
    fn client_ping_is_a_protocol_error() {
        let mut s = Session::new(Instant::now(), cfg(), WebSocket);
        s.handle_packet(Instant::now(), WebSocket, Packet::Ping);
        expect(&mut s, &[Output::Closed(CloseReason::ParseError)]);
    }

    #[test]
    fn revision_3_answers_client_pings_and_watches_for_them() {
        let t0 = Instant::now();
        let v3 = |transport| Session::with_version(t0, cfg(), transport, ProtocolVersion::V3);
        let mut s = v3(WebSocket);
        // No server ping: the deadline is the client's ping, interval + timeout.
        assert_eq!(s.poll_timeout(), Some(ms(t0, 500)));
        s.handle_timeout(ms(t0, 300));
        expect(&mut s, &[]);
        s.handle_packet(ms(t0, 300), WebSocket, Packet::Ping);
        expect(&mut s, &[Output::Send(Packet::Pong)]);
        assert_eq!(s.poll_timeout(), Some(ms(t0, 800)));
        s.handle_timeout(ms(t0, 799));
        expect(&mut s, &[]);
        s.handle_timeout(ms(t0, 800));
        expect(&mut s, &[Output::Closed(CloseReason::PingTimeout)]);

        // On polling the pong answers the held GET.
        let mut p = v3(Polling);
        assert_eq!(p.handle_poll(t0), Ok(()));
        assert_eq!(p.handle_post(ms(t0, 100), [Packet::Ping]), Ok(()));
        expect(&mut p, &[Output::AnswerPoll(vec![Packet::Pong])]);

        // A pong is the wrong direction in revision 3.
        let mut wrong = v3(WebSocket);
        wrong.handle_packet(t0, WebSocket, Packet::Pong);
        expect(&mut wrong, &[Output::Closed(CloseReason::ParseError)]);
    }

    #[test]
    fn revision_3_upgrade_moves_the_pong_to_the_websocket() {
        let t0 = Instant::now();
        let mut s = Session::with_version(t0, cfg(), Polling, ProtocolVersion::V3);
        assert!(s.start_upgrade(t0));
        s.handle_packet(ms(t0, 1), WebSocket, Packet::PingProbe);
        expect(&mut s, &[Output::SendOnProbe(Packet::PongProbe)]);
        s.handle_packet(ms(t0, 2), Polling, Packet::Ping);
        s.handle_packet(ms(t0, 3), WebSocket, Packet::Upgrade);
        expect(&mut s, &[Output::Upgraded, Output::Send(Packet::Pong)]);
        s.handle_packet(ms(t0, 400), WebSocket, Packet::Ping);
        expect(&mut s, &[Output::Send(Packet::Pong)]);
        assert_eq!(s.poll_timeout(), Some(ms(t0, 900)));
    }

    #[test]
    fn upgrade_happy_path() {
        let t0 = Instant::now();
        let mut s = Session::new(t0, cfg(), Polling);
        assert!(s.start_upgrade(t0));
        assert!(!s.start_upgrade(t0), "second concurrent upgrade refused");
        s.handle_packet(t0, WebSocket, Packet::PingProbe);
        expect(&mut s, &[Output::SendOnProbe(Packet::PongProbe)]);
        s.handle_packet(t0, WebSocket, Packet::Upgrade);
        expect(&mut s, &[Output::Upgraded]);
        assert_eq!(s.transport(), WebSocket);
        assert!(!s.start_upgrade(t0), "already upgraded");
        s.handle_packet(t0, WebSocket, Packet::text("x"));
        expect(&mut s, &[Output::Message(Message::Text("x".into()))]);
    }

    #[test]
    fn upgrade_without_probe_fails() {
        let t0 = Instant::now();
        let mut s = Session::new(t0, cfg(), Polling);
        assert!(s.start_upgrade(t0));
        s.handle_packet(t0, WebSocket, Packet::Upgrade);
        expect(&mut s, &[Output::UpgradeFailed]);
        assert_eq!(s.transport(), Polling);
    }

    #[test]
    fn upgrade_times_out() {
        let t0 = Instant::now();
        let mut s = Session::new(t0, cfg(), Polling);
        assert!(s.start_upgrade(t0 + Duration::from_millis(250)));
        assert_eq!(s.poll_timeout(), Some(t0 + Duration::from_millis(300)));
        s.handle_timeout(t0 + Duration::from_millis(300));
        assert_eq!(s.handle_poll(t0 + Duration::from_millis(300)), Ok(()));
        s.handle_packet(t0 + Duration::from_millis(301), Polling, Packet::Pong);
        s.handle_timeout(t0 + Duration::from_millis(1250));
        expect(
            &mut s,
            &[
                Output::AnswerPoll(vec![Packet::Ping]),
                Output::UpgradeFailed,
            ],
        );
        assert!(!s.is_upgrading());
    }

    fn ms(t0: Instant, ms: u64) -> Instant {
        t0 + Duration::from_millis(ms)
    }

    /// A polling session with a GET held and an upgrade probed at `t0 + 10 ms`.
    fn probed(t0: Instant) -> Session {
        let mut s = Session::new(t0, cfg(), Polling);
        assert_eq!(s.handle_poll(t0), Ok(()));
        assert!(s.start_upgrade(ms(t0, 5)));
        s.handle_packet(ms(t0, 10), WebSocket, Packet::PingProbe);
        expect(&mut s, &[Output::SendOnProbe(Packet::PongProbe)]);
        s
    }

    #[test]
    fn pings_on_polling_wait_for_a_get() {
        let t0 = Instant::now();
        let mut s = Session::new(t0, cfg(), Polling);
        s.handle_timeout(ms(t0, 300));
        expect(&mut s, &[]);
        assert_eq!(s.handle_poll(ms(t0, 310)), Ok(()));
        expect(&mut s, &[Output::AnswerPoll(vec![Packet::Ping])]);
        // That GET was answered: the next one is not a second at once.
        s.handle_packet(ms(t0, 320), Polling, Packet::Pong);
        assert_eq!(s.handle_poll(ms(t0, 330)), Ok(()));
        expect(&mut s, &[]);
        s.handle_timeout(ms(t0, 620));
        expect(&mut s, &[Output::AnswerPoll(vec![Packet::Ping])]);
    }

    #[test]
    fn a_get_answered_by_the_driver_is_released() {
        let t0 = Instant::now();
        let mut s = Session::new(t0, cfg(), Polling);
        assert_eq!(s.handle_poll(t0), Ok(()));
        assert_eq!(s.answer_poll(), vec![]);
        assert_eq!(s.handle_poll(t0), Ok(()));
        expect(&mut s, &[]);
        assert!(!s.is_closed());
    }

    #[test]
    fn a_second_get_is_refused_and_ends_the_session() {
        let t0 = Instant::now();
        let mut s = Session::new(t0, cfg(), Polling);
        assert_eq!(s.handle_poll(t0), Ok(()));
        assert_eq!(s.handle_poll(t0), Err(EngineError::BadRequest));
        expect(&mut s, &[Output::Closed(CloseReason::TransportError)]);
        assert_eq!(s.handle_poll(t0), Err(EngineError::UnknownSid));
        assert_eq!(s.handle_post(t0, []), Err(EngineError::UnknownSid));
    }

    #[test]
    fn a_dropped_get_ends_the_session() {
        let t0 = Instant::now();
        let mut s = Session::new(t0, cfg(), Polling);
        assert_eq!(s.handle_poll(t0), Ok(()));
        s.poll_dropped();
        expect(&mut s, &[Output::Closed(CloseReason::TransportError)]);
    }

    #[test]
    fn polling_requests_on_a_websocket_session_are_bad() {
        let t0 = Instant::now();
        let mut s = Session::new(t0, cfg(), WebSocket);
        assert_eq!(s.handle_poll(t0), Err(EngineError::BadRequest));
        assert_eq!(
            s.handle_post(t0, [Packet::text("x")]),
            Err(EngineError::BadRequest)
        );
        expect(&mut s, &[]);
        assert!(!s.is_closed());
    }

    #[test]
    fn a_post_feeds_its_packets_in_order() {
        let t0 = Instant::now();
        let mut s = Session::new(t0, cfg(), Polling);
        assert_eq!(
            s.handle_post(t0, [Packet::text("a"), Packet::text("b")]),
            Ok(())
        );
        expect(
            &mut s,
            &[
                Output::Message(Message::Text("a".into())),
                Output::Message(Message::Text("b".into())),
            ],
        );
    }

    #[test]
    fn the_noop_after_the_probe_waits_for_its_delay() {
        let t0 = Instant::now();
        let mut s = probed(t0);
        // 20 ms after the probe (at 10 ms), not before.
        let due = ms(t0, 30);
        assert_eq!(s.poll_timeout(), Some(due));
        s.handle_timeout(due - Duration::from_millis(1));
        expect(&mut s, &[]);
        s.handle_timeout(due);
        expect(&mut s, &[Output::AnswerPoll(vec![])]);
        // Until the upgrade finishes, each GET is answered at once.
        assert_eq!(s.handle_poll(ms(t0, 40)), Ok(()));
        expect(&mut s, &[Output::AnswerPoll(vec![])]);
        s.handle_packet(ms(t0, 45), WebSocket, Packet::Upgrade);
        expect(&mut s, &[Output::Upgraded]);
        assert_eq!(s.poll_timeout(), Some(ms(t0, 300)));
    }

    #[test]
    fn an_upgrade_right_after_the_probe_needs_no_noop() {
        let t0 = Instant::now();
        let mut s = probed(t0);
        s.handle_packet(ms(t0, 15), WebSocket, Packet::Upgrade);
        expect(&mut s, &[Output::Upgraded]);
        assert_eq!(s.poll_timeout(), Some(ms(t0, 300)));
        s.handle_timeout(ms(t0, 30));
        expect(&mut s, &[]);
        assert_eq!(s.handle_poll(ms(t0, 40)), Err(EngineError::BadRequest));
    }

    #[test]
    fn a_failed_upgrade_stops_the_noop() {
        let t0 = Instant::now();
        let mut s = probed(t0);
        s.abort_upgrade();
        expect(&mut s, &[Output::UpgradeFailed]);
        assert_eq!(s.poll_timeout(), Some(ms(t0, 300)));
        s.handle_timeout(ms(t0, 30));
        expect(&mut s, &[]);
        s.abort_upgrade();
        // no upgrade left to fail.
        expect(&mut s, &[]);

        let mut flushing = probed(t0);
        flushing.handle_timeout(ms(t0, 30));
        expect(&mut flushing, &[Output::AnswerPoll(vec![])]);
        flushing.handle_packet(ms(t0, 35), WebSocket, Packet::text("not 5"));
        expect(&mut flushing, &[Output::UpgradeFailed]);
        assert_eq!(flushing.handle_poll(ms(t0, 40)), Ok(()));
        // GETs wait for data again.
        expect(&mut flushing, &[]);
    }

    #[test]
    fn pings_queued_for_polling_move_to_the_websocket() {
        let t0 = Instant::now();
        let mut s = Session::new(t0, cfg(), Polling);
        assert!(s.start_upgrade(ms(t0, 250)));
        s.handle_packet(ms(t0, 260), WebSocket, Packet::PingProbe);
        s.handle_timeout(ms(t0, 300));
        expect(&mut s, &[Output::SendOnProbe(Packet::PongProbe)]);
        s.handle_packet(ms(t0, 305), WebSocket, Packet::Upgrade);
        expect(&mut s, &[Output::Upgraded, Output::Send(Packet::Ping)]);
    }

    #[test]
    fn a_client_close_waits_for_its_get() {
        let t0 = Instant::now();
        let mut s = Session::new(t0, cfg(), Polling);
        assert_eq!(s.handle_post(ms(t0, 10), [Packet::Close]), Ok(()));
        expect(&mut s, &[]);
        assert!(s.is_closed());
        // 50 ms after the close (at 10 ms), not before.
        let until = ms(t0, 60);
        assert_eq!(s.poll_timeout(), Some(until));
        s.handle_timeout(until - Duration::from_millis(1));
        expect(&mut s, &[]);
        assert_eq!(
            s.handle_post(ms(t0, 20), [Packet::text("late")]),
            Err(EngineError::UnknownSid)
        );
        assert!(!s.start_upgrade(ms(t0, 20)));
        assert_eq!(s.handle_poll(ms(t0, 30)), Ok(()));
        expect(&mut s, &[Output::Closed(CloseReason::TransportClose)]);
        assert_eq!(s.poll_timeout(), None);
    }

    #[test]
    fn the_close_grace_ends_without_a_get() {
        let t0 = Instant::now();
        let mut s = Session::new(t0, cfg(), Polling);
        s.handle_packet(t0, Polling, Packet::Close);
        s.handle_timeout(ms(t0, 50));
        expect(&mut s, &[Output::Closed(CloseReason::TransportClose)]);
        assert_eq!(s.poll_timeout(), None);
        assert_eq!(s.handle_poll(ms(t0, 50)), Err(EngineError::UnknownSid));
        expect(&mut s, &[]);

        let mut closed = Session::new(t0, cfg(), Polling);
        closed.handle_packet(t0, Polling, Packet::Close);
        closed.close(CloseReason::ForcedClose);
        closed.close(CloseReason::ForcedClose);
        // a close during the grace ends it, as the client's.
        expect(&mut closed, &[Output::Closed(CloseReason::TransportClose)]);
    }

    #[test]
    fn a_client_close_with_a_get_held_or_on_websocket_is_at_once() {
        let t0 = Instant::now();
        let mut s = Session::new(t0, cfg(), Polling);
        assert_eq!(s.handle_poll(t0), Ok(()));
        s.handle_packet(t0, Polling, Packet::Close);
        expect(&mut s, &[Output::Closed(CloseReason::TransportClose)]);
        assert_eq!(s.poll_timeout(), None);

        let mut ws = Session::new(t0, cfg(), WebSocket);
        ws.handle_packet(t0, WebSocket, Packet::Close);
        expect(&mut ws, &[Output::Closed(CloseReason::TransportClose)]);
    }

    #[test]
    fn a_client_close_during_an_upgrade_fails_it_first() {
        let t0 = Instant::now();
        let mut s = Session::new(t0, cfg(), Polling);
        assert!(s.start_upgrade(t0));
        s.handle_packet(t0, Polling, Packet::Close);
        expect(&mut s, &[Output::UpgradeFailed]);
        assert_eq!(s.poll_timeout(), Some(ms(t0, 50)));
    }
}
