//! The per-session Engine.IO state machine: heartbeat, polling→WebSocket
//! upgrade, and close, with no I/O.
//!
//! The driver feeds it packets ([`Session::handle_packet`]) and clock ticks
//! ([`Session::handle_timeout`] at [`Session::poll_timeout`]), then drains
//! [`Session::poll_output`] and carries out each [`Output`].

use super::handshake::TransportKind;
use super::heartbeat::{Beat, Heartbeat};
use super::packet::{Message, Packet};
use std::collections::VecDeque;
use std::fmt;
use std::time::{Duration, Instant};

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
    /// Send this packet on the active transport.
    Send(Packet),
    /// Send this packet on the WebSocket being upgraded to (the `3probe`).
    SendOnProbe(Packet),
    /// End any pending long-polling GET at once (with queued packets or `6`),
    /// and answer further GETs that way until the upgrade finishes.
    FlushPolling,
    /// Application data for the layer above.
    Message(Message),
    /// The upgrade finished: the WebSocket is now the transport.
    Upgraded,
    /// The upgrade failed: close the probing WebSocket; polling continues.
    UpgradeFailed,
    /// The session is over.
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
    transport: TransportKind,
    upgrade: Upgrade,
    heartbeat: Heartbeat,
    config: SessionConfig,
    closed: bool,
    outputs: VecDeque<Output>,
}

impl Session {
    /// A session opened at `now` on `transport`.
    pub fn new(now: Instant, config: SessionConfig, transport: TransportKind) -> Self {
        Session {
            transport,
            upgrade: Upgrade::None,
            heartbeat: Heartbeat::new(now, config.ping_interval, config.ping_timeout),
            config,
            closed: false,
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

    /// Whether the session is over.
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
            deadline: now + self.config.upgrade_timeout,
        };
        true
    }

    /// The probing WebSocket went away before the upgrade finished.
    pub fn abort_upgrade(&mut self) {
        self.upgrade = Upgrade::None;
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
            self.handle_probe_packet(packet);
            return;
        }
        match packet {
            Packet::Pong => {
                self.heartbeat.on_pong(now);
            }
            Packet::Message(m) => self.outputs.push_back(Output::Message(m)),
            Packet::Close => self.close(CloseReason::TransportClose),
            Packet::Noop => {}
            Packet::Ping
            | Packet::PingProbe
            | Packet::PongProbe
            | Packet::Upgrade
            | Packet::Open(_) => self.close(CloseReason::ParseError),
        }
    }

    fn handle_probe_packet(&mut self, packet: Packet) {
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
                self.outputs.push_back(Output::FlushPolling);
            }
            Packet::Upgrade if probed => {
                self.upgrade = Upgrade::None;
                self.transport = TransportKind::WebSocket;
                self.outputs.push_back(Output::Upgraded);
            }
            _ => {
                self.upgrade = Upgrade::None;
                self.outputs.push_back(Output::UpgradeFailed);
            }
        }
    }

    /// The next instant at which [`Self::handle_timeout`] must be called.
    pub fn poll_timeout(&self) -> Option<Instant> {
        if self.closed {
            return None;
        }
        let hb = self.heartbeat.deadline();
        match self.upgrade {
            Upgrade::Probing { deadline, .. } => Some(hb.map_or(deadline, |h| h.min(deadline))),
            Upgrade::None => hb,
        }
    }

    /// Advances timers to `now`.
    pub fn handle_timeout(&mut self, now: Instant) {
        if self.closed {
            return;
        }
        if let Upgrade::Probing { deadline, .. } = self.upgrade {
            if now >= deadline {
                self.upgrade = Upgrade::None;
                self.outputs.push_back(Output::UpgradeFailed);
            }
        }
        match self.heartbeat.on_timeout(now) {
            Beat::Idle => {}
            Beat::SendPing => self.outputs.push_back(Output::Send(Packet::Ping)),
            Beat::TimedOut => self.close(CloseReason::PingTimeout),
        }
    }

    /// Closes the session (idempotent); emits [`Output::Closed`] once.
    pub fn close(&mut self, reason: CloseReason) {
        if !self.closed {
            self.closed = true;
            if self.is_upgrading() {
                self.upgrade = Upgrade::None;
                self.outputs.push_back(Output::UpgradeFailed);
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

    fn drain(s: &mut Session) -> Vec<Output> {
        std::iter::from_fn(|| s.poll_output()).collect()
    }

    #[test]
    fn heartbeat_ping_pong_and_timeout() {
        let t0 = Instant::now();
        let mut s = Session::new(t0, cfg(), WebSocket);
        assert_eq!(s.poll_timeout(), Some(t0 + Duration::from_millis(300)));
        s.handle_timeout(t0 + Duration::from_millis(300));
        assert_eq!(drain(&mut s), vec![Output::Send(Packet::Ping)]);
        s.handle_packet(t0 + Duration::from_millis(310), WebSocket, Packet::Pong);
        s.handle_timeout(t0 + Duration::from_millis(610));
        assert_eq!(drain(&mut s), vec![Output::Send(Packet::Ping)]);
        s.handle_timeout(t0 + Duration::from_millis(810));
        assert_eq!(
            drain(&mut s),
            vec![Output::Closed(CloseReason::PingTimeout)]
        );
        assert!(s.is_closed());
        assert_eq!(s.poll_timeout(), None);
    }

    #[test]
    fn a_pong_after_the_deadline_does_not_revive_the_session() {
        let t0 = Instant::now();
        let mut s = Session::new(t0, cfg(), WebSocket);
        s.handle_timeout(t0 + Duration::from_millis(300));
        assert_eq!(drain(&mut s), vec![Output::Send(Packet::Ping)]);
        // The caller's timer for t0 + 500 ms has not fired yet.
        s.handle_packet(t0 + Duration::from_millis(501), WebSocket, Packet::Pong);
        assert_eq!(
            drain(&mut s),
            vec![Output::Closed(CloseReason::PingTimeout)]
        );
        assert!(s.is_closed());

        let mut in_time = Session::new(t0, cfg(), WebSocket);
        in_time.handle_timeout(t0 + Duration::from_millis(300));
        drain(&mut in_time);
        in_time.handle_packet(t0 + Duration::from_millis(499), WebSocket, Packet::Pong);
        assert_eq!(drain(&mut in_time), vec![]);
        assert_eq!(
            in_time.poll_timeout(),
            Some(t0 + Duration::from_millis(799))
        );
    }

    #[test]
    fn a_message_when_a_ping_is_due_sends_the_ping_first() {
        let t0 = Instant::now();
        let mut s = Session::new(t0, cfg(), Polling);
        s.handle_packet(t0 + Duration::from_millis(350), Polling, Packet::text("hi"));
        assert_eq!(
            drain(&mut s),
            vec![
                Output::Send(Packet::Ping),
                Output::Message(Message::Text("hi".into()))
            ]
        );
    }

    #[test]
    fn messages_and_client_close() {
        let t0 = Instant::now();
        let mut s = Session::new(t0, cfg(), Polling);
        s.handle_packet(t0, Polling, Packet::text("hi"));
        s.handle_packet(t0, Polling, Packet::Noop);
        s.handle_packet(t0, Polling, Packet::Close);
        s.handle_packet(t0, Polling, Packet::text("ignored"));
        assert_eq!(
            drain(&mut s),
            vec![
                Output::Message(Message::Text("hi".into())),
                Output::Closed(CloseReason::TransportClose)
            ]
        );
    }

    #[test]
    fn client_ping_is_a_protocol_error() {
        let mut s = Session::new(Instant::now(), cfg(), WebSocket);
        s.handle_packet(Instant::now(), WebSocket, Packet::Ping);
        assert_eq!(drain(&mut s), vec![Output::Closed(CloseReason::ParseError)]);
    }

    #[test]
    fn upgrade_happy_path() {
        let t0 = Instant::now();
        let mut s = Session::new(t0, cfg(), Polling);
        assert!(s.start_upgrade(t0));
        assert!(!s.start_upgrade(t0), "second concurrent upgrade refused");
        s.handle_packet(t0, WebSocket, Packet::PingProbe);
        assert_eq!(
            drain(&mut s),
            vec![Output::SendOnProbe(Packet::PongProbe), Output::FlushPolling]
        );
        s.handle_packet(t0, WebSocket, Packet::Upgrade);
        assert_eq!(drain(&mut s), vec![Output::Upgraded]);
        assert_eq!(s.transport(), WebSocket);
        assert!(!s.start_upgrade(t0), "already upgraded");
        s.handle_packet(t0, WebSocket, Packet::text("x"));
        assert_eq!(
            drain(&mut s),
            vec![Output::Message(Message::Text("x".into()))]
        );
    }

    #[test]
    fn upgrade_without_probe_fails() {
        let t0 = Instant::now();
        let mut s = Session::new(t0, cfg(), Polling);
        assert!(s.start_upgrade(t0));
        s.handle_packet(t0, WebSocket, Packet::Upgrade);
        assert_eq!(drain(&mut s), vec![Output::UpgradeFailed]);
        assert_eq!(s.transport(), Polling);
    }

    #[test]
    fn upgrade_times_out() {
        let t0 = Instant::now();
        let mut s = Session::new(t0, cfg(), Polling);
        assert!(s.start_upgrade(t0 + Duration::from_millis(250)));
        assert_eq!(s.poll_timeout(), Some(t0 + Duration::from_millis(300)));
        s.handle_timeout(t0 + Duration::from_millis(300));
        s.handle_packet(t0 + Duration::from_millis(301), Polling, Packet::Pong);
        s.handle_timeout(t0 + Duration::from_millis(1250));
        let out = drain(&mut s);
        assert_eq!(out[0], Output::Send(Packet::Ping));
        assert_eq!(out[1], Output::UpgradeFailed);
        assert!(!s.is_upgrading());
    }
}
