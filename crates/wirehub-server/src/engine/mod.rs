//! The Engine.IO server: sessions over HTTP long-polling and WebSocket.
//!
//! - [`Engine`]: the session registry and request entry point.
//! - [`EngineHandler`]: what the layer above (Socket.IO, or a bare echo) does
//!   with a session's messages.
//! - [`EngineConn`]: the handle shared by everything that talks to a session.
//! - `actor`: the task that drives one session's state machine, its
//!   transports and its handler state.
//! - `transports`: a session's held GET, WebSocket and upgrade probe, and
//!   how each is written and ended.
//! - `http`: request routing, polling GET/POST, CORS and error responses.
//! - `ws`: the one seam around the WebSocket crate.

mod actor;
mod conn;
mod forward;
mod http;
pub(crate) mod mailbox;
mod request;
mod sid;
mod transports;
mod vectored;
pub(crate) mod ws;

pub(crate) use conn::queue;
pub use conn::{EngineConn, Outgoing, SendError};
pub use forward::{SessionLocator, FORWARDED};
pub use http::ResponseBody;
pub(crate) use http::{upgrade_response, websocket_key};
pub(crate) use request::StoredRequest;
pub(crate) use sid::random_id;

use crate::config::Config;
use crate::conn::Transport;
use crate::limits::Limits;
use crate::registry::{Closer, ConnectionSlot, Connections};
use crate::sync::{read, write};
use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::Instant;
use wirehub_proto::engineio::{CloseReason, Message};
use wirehub_proto::Str;

/// A hook that accepts or refuses a handshake from its request head;
/// `Err(message)` answers 403 `{"code":4,"message":...}`.
pub type AllowRequest = Arc<dyn Fn(&::http::request::Parts) -> Result<(), String> + Send + Sync>;

/// What runs on top of Engine.IO sessions.
///
/// Every method is called from the session's own task, one at a time, so
/// `Conn` needs no lock.
pub trait EngineHandler: Send + Sync + 'static {
    /// Per-session state owned by the session task.
    type Conn: Send + 'static;

    /// The connection registry to share with other transports (`None`: the
    /// engine keeps its own, with limits from its configuration).
    fn connections(&self) -> Option<Arc<Connections>> {
        None
    }

    /// A session opened.
    fn on_open(&self, conn: &Arc<EngineConn>) -> Self::Conn;

    /// A message arrived. An error closes the session with that reason.
    fn on_message(&self, state: &mut Self::Conn, msg: Message) -> Result<(), CloseReason>;

    /// The session closed; no more calls follow.
    fn on_close(&self, state: Self::Conn, reason: CloseReason);

    /// When [`Self::on_deadline`] must next be called, if ever.
    fn deadline(&self, _state: &Self::Conn) -> Option<Instant> {
        None
    }

    /// The deadline passed. An error closes the session.
    fn on_deadline(&self, _state: &mut Self::Conn, _now: Instant) -> Result<(), CloseReason> {
        Ok(())
    }
}

/// The Engine.IO server for one handler.
pub struct Engine<H: EngineHandler> {
    pub(crate) config: Arc<Config>,
    pub(crate) handler: H,
    /// Each open session, with its place in the connection counts.
    sessions: RwLock<HashMap<Str, (Arc<EngineConn>, ConnectionSlot)>>,
    pub(crate) connections: Arc<Connections>,
    allow_request: Option<AllowRequest>,
    /// Forwards requests for other nodes' sessions (in a cluster).
    forwarder: Option<forward::Forwarder>,
}

impl<H: EngineHandler> Engine<H> {
    /// An engine with `config`, handing sessions to `handler`.
    pub fn new(config: Config, handler: H) -> Arc<Self> {
        Self::with_allow_request(config, handler, None)
    }

    /// Like [`Engine::new`], with a handshake hook.
    pub fn with_allow_request(
        config: Config,
        handler: H,
        allow_request: Option<AllowRequest>,
    ) -> Arc<Self> {
        Self::with_options(config, handler, allow_request, None)
    }

    /// Like [`Engine::new`], with a handshake hook and a session locator
    /// (requests for other nodes' sessions are forwarded to them).
    pub fn with_options(
        config: Config,
        handler: H,
        allow_request: Option<AllowRequest>,
        locator: Option<Arc<dyn SessionLocator>>,
    ) -> Arc<Self> {
        let connections = handler
            .connections()
            .unwrap_or_else(|| Connections::new(Limits::new(&config)));
        Arc::new(Engine {
            config: Arc::new(config),
            handler,
            connections,
            sessions: RwLock::new(HashMap::new()),
            allow_request,
            forwarder: locator.map(forward::Forwarder::new),
        })
    }

    /// A fresh session id: this node's tag (in a cluster), then random.
    fn new_sid(&self) -> Str {
        let id = random_id();
        match self
            .forwarder
            .as_ref()
            .and_then(|f| f.locator().sid_prefix())
        {
            Some(prefix) if prefix.len() < id.len() => {
                Str::from(format!("{prefix}{}", &id[prefix.len()..]))
            }
            _ => id,
        }
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The handler.
    pub fn handler(&self) -> &H {
        &self.handler
    }

    /// Connection counts and limit counters.
    pub fn limits(&self) -> &Limits {
        self.connections.limits()
    }

    /// Every live connection this engine admits through.
    pub fn connections(&self) -> &Arc<Connections> {
        &self.connections
    }

    /// The number of open sessions.
    pub fn session_count(&self) -> usize {
        read(&self.sessions).len()
    }

    /// Closes every session (server shutdown).
    pub fn close_all(&self, reason: CloseReason) {
        let all: Vec<_> = read(&self.sessions)
            .values()
            .map(|(conn, _)| conn.clone())
            .collect();
        for conn in all {
            conn.close(reason);
        }
    }

    fn get(&self, sid: &str) -> Option<Arc<EngineConn>> {
        read(&self.sessions).get(sid).map(|(conn, _)| conn.clone())
    }

    /// Registers a session; its slot is freed when it is removed.
    fn insert(&self, conn: Arc<EngineConn>, slot: ConnectionSlot) {
        slot.attach(&conn);
        write(&self.sessions).insert(conn.sid().clone(), (conn, slot));
    }

    /// The session `sid` now runs over `transport` (after an upgrade).
    fn set_transport(&self, sid: &str, transport: Transport) {
        if let Some((_, slot)) = read(&self.sessions).get(sid) {
            slot.set_transport(transport);
        }
    }

    fn remove(&self, sid: &str) {
        // The slot is freed after the table's lock is released.
        let gone = write(&self.sessions).remove(sid);
        drop(gone);
    }
}

impl Closer for EngineConn {
    fn close(&self, reason: CloseReason) {
        EngineConn::close(self, reason);
    }
}
