//! The driver: one task per manager owning the connection and every
//! namespace's state. It reacts to three inputs:
//!
//! - commands from the handles (connect, emit, ack, disconnect, close);
//! - events of the transport tasks ([`Inbound`]);
//! - one timer: the heartbeat deadline while connected (no ping within
//!   `pingInterval + pingTimeout` → "ping timeout"), or the backoff delay
//!   while waiting to reconnect.
//!
//! Connection states: `Idle` (no namespace wants a connection), `Opening`
//! (a handshake task runs), `Open`, `Waiting` (backoff before the next
//! attempt). A lost connection moves to `Waiting` while a namespace is still
//! active and the policy allows; each attempt reports `reconnect_attempt`,
//! then `reconnect` or `reconnect_error`, and `reconnect_failed` at the end.
//!
//! # Layout
//! - `commands`: what the handles ask (connect, emit, ack, leave, close).
//! - `connection`: opening, losing and re-opening the connection; the timer;
//!   the upgrade.
//! - `packets`: Engine.IO and Socket.IO packets from the server.
//! - `handlers`: calling the user's handlers and listeners.

mod commands;
mod connection;
mod handlers;
mod packets;

use super::events::Listener;
use super::namespace::Namespace;
use super::{Command, ManagerInner};
use crate::backoff::Backoff;
use crate::config::Config;
use crate::engine::{Inbound, Session, TransportHandle};
use std::collections::HashMap;
use std::sync::{Arc, Weak};
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio::time::Instant;
use wirehub_proto::socketio::Decoder;
use wirehub_proto::Str;

/// How long a graceful close may take before its tasks are aborted.
const CLOSE_GRACE: Duration = Duration::from_secs(2);
/// How long pausing polling (the last poll and send) may take in an upgrade.
const PAUSE_GRACE: Duration = Duration::from_secs(3);

enum Conn {
    Idle,
    Opening {
        gen: u64,
        task: JoinHandle<()>,
        attempt: u32,
    },
    Open(Engine),
    Waiting {
        until: Instant,
    },
}

struct Engine {
    session: Session,
    transport: TransportHandle,
    ping_deadline: Instant,
    ping_window: Duration,
    probe: Option<JoinHandle<()>>,
}

pub(crate) struct Driver {
    config: Arc<Config>,
    manager: Weak<ManagerInner>,
    listeners: Vec<Listener>,
    cmd_rx: mpsc::UnboundedReceiver<Command>,
    inbound_tx: mpsc::UnboundedSender<Inbound>,
    inbound_rx: mpsc::UnboundedReceiver<Inbound>,
    namespaces: HashMap<Str, Namespace>,
    conn: Conn,
    backoff: Backoff,
    next_id: u64,
    decoder: Decoder,
}

impl Driver {
    pub(crate) fn new(
        config: Arc<Config>,
        manager: Weak<ManagerInner>,
        cmd_rx: mpsc::UnboundedReceiver<Command>,
        listeners: Vec<Listener>,
    ) -> Self {
        let (inbound_tx, inbound_rx) = mpsc::unbounded_channel();
        Driver {
            backoff: Backoff::new(config.reconnection),
            decoder: Decoder::with_parser(config.parser, config.max_attachments),
            config,
            manager,
            listeners,
            cmd_rx,
            inbound_tx,
            inbound_rx,
            namespaces: HashMap::new(),
            conn: Conn::Idle,
            next_id: 0,
        }
    }

    /// Runs until closed or every handle is dropped.
    pub(crate) async fn run(mut self) {
        loop {
            let deadline = self.deadline();
            tokio::select! {
                Some(event) = self.inbound_rx.recv() => self.on_inbound(event).await,
                cmd = self.cmd_rx.recv() => match cmd {
                    Some(Command::Close { reply }) => {
                        // Refuse later commands before anyone learns we closed.
                        self.cmd_rx.close();
                        self.shutdown().await;
                        let _ = reply.send(());
                        return;
                    }
                    Some(cmd) => self.on_command(cmd),
                    None => {
                        self.shutdown().await;
                        return;
                    }
                },
                () = sleep_until(deadline) => self.on_timer(),
            }
            self.close_if_unused().await;
            self.publish_transport();
        }
    }

    /// Keeps [`Manager::transport`] up to date.
    fn publish_transport(&self) {
        let kind = match &self.conn {
            Conn::Open(engine) => Some(engine.transport.kind),
            _ => None,
        };
        if let Some(inner) = self.manager.upgrade() {
            *inner.transport.lock().unwrap_or_else(|e| e.into_inner()) = kind;
        }
    }

    fn deadline(&self) -> Option<Instant> {
        match &self.conn {
            Conn::Open(engine) => Some(engine.ping_deadline),
            Conn::Waiting { until } => Some(*until),
            Conn::Idle | Conn::Opening { .. } => None,
        }
    }

    fn next_id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}
