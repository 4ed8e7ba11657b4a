//! [`Manager`]: one Engine.IO connection, shared by the sockets of every
//! namespace opened on it (`manager.socket("/chat")`).
//!
//! The connection is run by one task, the driver (`driver`), which owns all
//! protocol state; handles talk to it over a command channel. The driver
//! starts with the first socket connect and ends on [`Manager::close`] or
//! once every handle (manager, socket, ack sender) is dropped.
//!
//! - `driver`: the event loop: commands, transport events, timers,
//!   reconnection, upgrade.
//! - `namespace`: one namespace's state in the driver (acks, buffer).
//! - `events`: manager-level events (`reconnect`, `reconnect_attempt`...).

mod driver;
mod events;
mod namespace;

pub use events::ManagerEvent;
pub(crate) use events::{listener, Listener};

use crate::config::Config;
use crate::error::Error;
use crate::handler::HandlerSet;
use crate::socket::{SocketBuilder, SocketShared};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tokio::sync::{mpsc, oneshot};
use wirehub_proto::engineio::TransportKind;
use wirehub_proto::socketio::{Args, Packet};
use wirehub_proto::Str;

/// What handles ask of the driver.
#[derive(Debug)]
pub(crate) enum Command {
    /// Join the socket's namespace; answered once connected or refused.
    Connect {
        socket: Arc<SocketShared>,
        reply: oneshot::Sender<Result<(), Error>>,
    },
    /// Send an event (buffered while disconnected unless volatile).
    Emit {
        ns: Str,
        packet: Packet,
        volatile: bool,
        ack: Option<(u64, oneshot::Sender<Result<Args, Error>>)>,
    },
    /// Answer a server ack request.
    Ack { ns: Str, id: u64, args: Args },
    /// Stop waiting for the answer to ack `id` (it timed out).
    ForgetAck { ns: Str, id: u64 },
    /// Leave a namespace.
    Disconnect { ns: Str, reply: oneshot::Sender<()> },
    /// Leave every namespace and close the connection.
    Close { reply: oneshot::Sender<()> },
}

/// One connection to a server, multiplexing the sockets of its namespaces.
///
/// Cheap to clone. Build one with [`crate::ClientBuilder::manager`].
#[derive(Clone)]
pub struct Manager {
    pub(crate) inner: Arc<ManagerInner>,
}

impl std::fmt::Debug for Manager {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Manager")
            .field("url", &self.inner.config.url.original)
            .finish_non_exhaustive()
    }
}

pub(crate) struct ManagerInner {
    pub(crate) config: Arc<Config>,
    cmd: mpsc::UnboundedSender<Command>,
    seed: Mutex<Option<(mpsc::UnboundedReceiver<Command>, Vec<Listener>)>>,
    sockets: Mutex<HashMap<Str, Arc<SocketShared>>>,
    /// The transport in use, kept up to date by the driver.
    pub(crate) transport: Mutex<Option<TransportKind>>,
}

impl Manager {
    pub(crate) fn new(config: Config, listeners: Vec<Listener>) -> Self {
        let (cmd, rx) = mpsc::unbounded_channel();
        Manager {
            inner: Arc::new(ManagerInner {
                config: Arc::new(config),
                cmd,
                seed: Mutex::new(Some((rx, listeners))),
                sockets: Mutex::new(HashMap::new()),
                transport: Mutex::new(None),
            }),
        }
    }

    /// A builder for the socket of namespace `ns` on this connection; the
    /// same namespace always gives the same socket.
    pub fn socket(&self, ns: &str) -> SocketBuilder {
        SocketBuilder::new(self.clone(), normalize_ns(ns))
    }

    /// Leaves every namespace (`disconnect` handlers get
    /// [`crate::DisconnectReason::IoClientDisconnect`]), closes the
    /// connection and waits until its tasks ended. Later operations fail
    /// with [`Error::Closed`].
    pub async fn close(&self) {
        let (reply, done) = oneshot::channel();
        if self.send(Command::Close { reply }).is_ok() {
            let _ = done.await;
        }
    }

    /// The transport the connection currently uses, `None` while disconnected.
    pub fn transport(&self) -> Option<TransportKind> {
        *self
            .inner
            .transport
            .lock()
            .unwrap_or_else(|e| e.into_inner())
    }

    /// The socket of `ns`, created with `handlers` (merged into the
    /// existing socket's handlers if there is one).
    pub(crate) fn register(
        &self,
        ns: Str,
        auth: Option<Str>,
        handlers: HandlerSet,
    ) -> Arc<SocketShared> {
        let mut sockets = self.inner.sockets.lock().unwrap_or_else(|e| e.into_inner());
        let shared = sockets
            .entry(ns.clone())
            .or_insert_with(|| Arc::new(SocketShared::new(ns)))
            .clone();
        drop(sockets);
        shared.update(auth, handlers);
        shared
    }

    /// Sends a command to the driver, starting it if needed.
    pub(crate) fn send(&self, cmd: Command) -> Result<(), Error> {
        self.start_driver();
        self.inner.cmd.send(cmd).map_err(|_| Error::Closed)
    }

    pub(crate) fn config(&self) -> &Arc<Config> {
        &self.inner.config
    }

    fn start_driver(&self) {
        let mut seed = self.inner.seed.lock().unwrap_or_else(|e| e.into_inner());
        if seed.is_none() || tokio::runtime::Handle::try_current().is_err() {
            return;
        }
        if let Some((rx, listeners)) = seed.take() {
            let driver = driver::Driver::new(
                self.inner.config.clone(),
                Arc::downgrade(&self.inner),
                rx,
                listeners,
            );
            tokio::spawn(driver.run());
        }
    }
}

/// `chat` → `/chat`; empty → `/`.
pub(crate) fn normalize_ns(ns: &str) -> Str {
    let trimmed = ns.trim_end_matches('/');
    if trimmed.is_empty() {
        Str::from_static("/")
    } else if trimmed.starts_with('/') {
        Str::from(trimmed.to_owned())
    } else {
        Str::from(format!("/{trimmed}"))
    }
}
