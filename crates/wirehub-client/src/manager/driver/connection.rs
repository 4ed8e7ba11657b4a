//! The connection's life: opening (a handshake task), losing it (telling
//! the sockets), reconnecting with backoff, the heartbeat and backoff
//! timer, and the polling→WebSocket upgrade.

use super::{Conn, Driver, Engine, PAUSE_GRACE};
use crate::config::Transport;
use crate::engine::{self, CloseCause, Inbound, Link, Session, WsStream};
use crate::error::Error;
use crate::handler::Lifecycle;
use crate::manager::ManagerEvent;
use crate::reason::DisconnectReason;
use std::time::Duration;
use tokio::time::Instant;
use wirehub_proto::engineio::TransportKind;
use wirehub_proto::socketio::Decoder;
use wirehub_proto::Str;

impl Driver {
    pub(super) fn start_open(&mut self, attempt: u32) {
        let gen = self.next_id();
        let config = self.config.clone();
        let inbound = self.inbound_tx.clone();
        let task = tokio::spawn(async move {
            let result = engine::open(config).await;
            let _ = inbound.send(Inbound::Opened { gen, result });
        });
        self.conn = Conn::Opening { gen, task, attempt };
    }

    pub(super) async fn on_inbound(&mut self, event: Inbound) {
        match event {
            Inbound::Opened { gen, result } => self.on_opened(gen, result),
            Inbound::Packet { gen, packet } => {
                if matches!(&self.conn, Conn::Open(e) if e.session.gen == gen) {
                    self.on_engine_packet(packet);
                }
            }
            Inbound::Closed { transport, cause } => {
                if matches!(&self.conn, Conn::Open(e) if e.transport.id == transport) {
                    tracing::debug!(?cause, "transport closed");
                    self.lose(match cause {
                        CloseCause::Close => DisconnectReason::TransportClose,
                        CloseCause::Error(_) => DisconnectReason::TransportError,
                        CloseCause::Parse => DisconnectReason::ParseError,
                    });
                }
            }
            Inbound::Probed { gen, ws } => self.on_probed(gen, ws).await,
        }
    }

    pub(super) fn on_opened(&mut self, gen: u64, result: Result<engine::Opened, Error>) {
        let Conn::Opening {
            gen: expected,
            attempt,
            ..
        } = self.conn
        else {
            return;
        };
        if gen != expected {
            return;
        }
        let opened = match result {
            Ok(opened) => opened,
            Err(e) => {
                tracing::debug!(error = %e, attempt, "connection attempt failed");
                self.conn = Conn::Idle;
                if attempt == 0 {
                    self.give_up_all(&e, true);
                } else {
                    self.notify(ManagerEvent::ReconnectError(e));
                    self.schedule_reconnect();
                }
                return;
            }
        };
        let open = opened.open;
        let session = Session {
            gen,
            transport: self.next_id(),
            sid: open.sid.clone(),
            max_payload: usize::try_from(open.max_payload)
                .unwrap_or(usize::MAX)
                .max(1),
        };
        let upgrade = matches!(opened.link, Link::Polling { .. })
            && self.config.transport == Transport::Upgrade
            && open.upgrades.iter().any(|u| u == "websocket");
        let transport = engine::start(opened.link, &self.config, &session, &self.inbound_tx);
        let probe = upgrade.then(|| {
            engine::spawn_probe(
                self.config.clone(),
                gen,
                open.sid.clone(),
                self.inbound_tx.clone(),
            )
        });
        let ping_window = Duration::from_millis(open.ping_interval + open.ping_timeout);
        self.conn = Conn::Open(Engine {
            session,
            transport,
            ping_deadline: Instant::now() + ping_window,
            ping_window,
            probe,
        });
        if attempt > 0 {
            self.backoff.reset();
            self.notify(ManagerEvent::Reconnect(attempt));
        }
        let names: Vec<Str> = self.namespaces.keys().cloned().collect();
        for ns in &names {
            self.send_connect(ns);
        }
    }

    /// The connection is gone: tell the sockets, then maybe reconnect.
    pub(super) fn lose(&mut self, reason: DisconnectReason) {
        let Conn::Open(engine) = std::mem::replace(&mut self.conn, Conn::Idle) else {
            return;
        };
        tracing::debug!(%reason, "connection lost");
        engine.transport.abort();
        if let Some(probe) = engine.probe {
            probe.abort();
        }
        self.decoder = Decoder::with_parser(self.config.parser, self.config.max_attachments);
        let names: Vec<Str> = self.namespaces.keys().cloned().collect();
        for ns in &names {
            let was = self
                .namespaces
                .get_mut(ns)
                .is_some_and(|n| n.on_lost(reason.as_str()));
            if was {
                self.lifecycle(ns, Lifecycle::Disconnect, Some(reason), None);
            }
        }
        self.schedule_reconnect();
    }

    pub(super) fn schedule_reconnect(&mut self) {
        if !self.namespaces.values().any(|n| n.active) {
            self.conn = Conn::Idle;
            return;
        }
        if !self.config.reconnection.enabled {
            self.give_up_all(&Error::Disconnected("connection lost"), false);
            return;
        }
        if !self.backoff.may_retry() {
            let attempts = self.backoff.attempts();
            self.notify(ManagerEvent::ReconnectFailed);
            let error = Error::Transport(format!("reconnection failed after {attempts} attempts"));
            self.give_up_all(&error, false);
            return;
        }
        let delay = self.backoff.next_delay();
        tracing::debug!(?delay, "reconnecting");
        self.conn = Conn::Waiting {
            until: Instant::now() + delay,
        };
    }

    pub(super) fn give_up_all(&mut self, error: &Error, report: bool) {
        self.conn = Conn::Idle;
        let names: Vec<Str> = self
            .namespaces
            .iter()
            .filter(|(_, n)| n.active)
            .map(|(ns, _)| ns.clone())
            .collect();
        for ns in &names {
            // Handlers first: the waiter may drop the last handle at once.
            if report {
                self.lifecycle(ns, Lifecycle::ConnectError, None, Some(error));
            }
            if let Some(n) = self.namespaces.get_mut(ns) {
                n.give_up(error);
            }
        }
    }

    pub(super) fn on_timer(&mut self) {
        let now = Instant::now();
        match &self.conn {
            Conn::Open(engine) if now >= engine.ping_deadline => {
                self.lose(DisconnectReason::PingTimeout)
            }
            Conn::Waiting { until } if now >= *until => {
                let attempt = self.backoff.attempts();
                self.notify(ManagerEvent::ReconnectAttempt(attempt));
                self.start_open(attempt);
            }
            _ => {}
        }
    }

    /// The probe succeeded: pause polling, send `5`, switch to the WebSocket.
    pub(super) async fn on_probed(&mut self, gen: u64, ws: Option<Box<WsStream>>) {
        let transport_id = self.next_id();
        let Conn::Open(engine) = &mut self.conn else {
            return;
        };
        if engine.session.gen != gen {
            return;
        }
        engine.probe = None;
        let Some(ws) = ws else { return };
        if engine.transport.kind != TransportKind::Polling {
            return;
        }
        // The poll in flight ends (the server answers it with a noop once
        // probed) and queued frames go out, before anything uses the socket.
        engine.transport.finish(PAUSE_GRACE).await;
        let mut session = engine.session.clone();
        session.transport = transport_id;
        match engine::complete_upgrade(ws, &session, &self.inbound_tx).await {
            Ok(transport) => {
                tracing::debug!("upgraded to websocket");
                engine.session = session;
                engine.transport = transport;
            }
            Err(e) => {
                tracing::debug!(error = %e, "upgrade failed");
                self.lose(DisconnectReason::TransportError);
            }
        }
    }
}
