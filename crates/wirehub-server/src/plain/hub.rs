//! [`PlainHub`]: plain-transport clients' entry into the Socket.IO server's
//! namespaces. It opens connections (a [`PlainConn`] plus a socket of the
//! requested namespace), finds them again by token for `POST /send`, and
//! closes their sockets when their driver ends ([`PlainSession`]'s drop).

use crate::auth::{Gate, VerifiedClaims};
use crate::config::Config;
use crate::conn::{HelloInfo, PlainConn};
use crate::io::{ConnectError, DisconnectReason, Link, SocketIo, SocketRef, Transport};
use crate::limits::{EventBudget, LimitError};
use crate::metrics::ErrorKind;
use crate::registry::{ConnectionSlot, TaskGuard};
use crate::sync::{read, write};
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, RwLock};
use wirehub_proto::engineio::CloseReason;
use wirehub_proto::Str;

/// Why a plain connection could not join its namespace.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// No such namespace (and no dynamic pattern matches it).
    #[error("unknown namespace {0}")]
    UnknownNamespace(String),
    /// A middleware refused the connection.
    #[error("connection refused: {}", .0.message)]
    Refused(ConnectError),
}

/// The plain transports' side of the hub.
pub struct PlainHub {
    io: SocketIo,
    sessions: RwLock<HashMap<Str, (SocketRef, Arc<PlainConn>)>>,
    /// The SockJS sessions, by SockJS session id.
    pub(crate) sockjs: Arc<super::sockjs::Sessions>,
}

impl std::fmt::Debug for PlainHub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PlainHub")
            .field("sessions", &self.session_count())
            .finish()
    }
}

impl PlainHub {
    /// The plain side of a Socket.IO server.
    pub fn new(io: SocketIo) -> Arc<Self> {
        Arc::new(PlainHub {
            io,
            sessions: RwLock::default(),
            sockjs: Arc::default(),
        })
    }

    /// The Socket.IO server handle.
    pub fn io(&self) -> &SocketIo {
        &self.io
    }

    /// The server configuration.
    pub fn config(&self) -> &Config {
        self.io.config()
    }

    /// The JWT check, when the server verifies tokens.
    pub(crate) fn gate(&self) -> Option<&Gate> {
        self.io.0.gate()
    }

    /// How many plain connections are open.
    pub fn session_count(&self) -> usize {
        read(&self.sessions).len()
    }

    /// A place in the connection registry for a new connection of
    /// `transport` from `ip`, or the limit that refuses it.
    pub(crate) fn acquire(
        &self,
        transport: Transport,
        ip: Option<IpAddr>,
    ) -> Result<ConnectionSlot, LimitError> {
        self.io.0.connections.acquire(transport, ip)
    }

    /// A guard each driver task holds while it runs, so a shutdown waits
    /// for its last write.
    pub(crate) fn track(&self) -> TaskGuard {
        self.io.0.connections.track()
    }

    /// Completes when the server starts draining.
    pub(crate) fn draining(&self) -> impl std::future::Future<Output = ()> + Send + 'static {
        self.io.0.connections.draining()
    }

    /// Opens a connection of `transport` to namespace `ns`, holding `slot`
    /// while it lives; on success its hello (and whatever the connection
    /// handler emitted) is queued.
    pub(crate) async fn open(
        self: &Arc<Self>,
        transport: Transport,
        slot: ConnectionSlot,
        mut request: http::request::Parts,
        ns: &str,
        auth: Option<Str>,
    ) -> Result<PlainSession, (OpenError, Arc<PlainConn>)> {
        let started = std::time::Instant::now();
        let config = self.config();
        // Left there by the JWT check (`gate`, or the TCP / UDP gateway).
        let claims = request.extensions.remove::<VerifiedClaims>();
        let conn = Arc::new(PlainConn::new(
            transport,
            config.queue_capacity,
            config.slow_consumer,
            request,
            HelloInfo {
                ping_interval_ms: config.ping_interval.as_millis() as u64,
                max_payload: config.max_payload,
            },
            EventBudget::new(config, self.io.0.connections.shared_limits()),
        ));
        slot.attach(&conn);
        let name = if ns.starts_with('/') {
            Str::from(ns.to_owned())
        } else {
            Str::from(format!("/{ns}"))
        };
        let Some(namespace) = self.io.0.namespace(&name) else {
            self.io.metrics().error(ErrorKind::ConnectRefused);
            let message = format!("unknown namespace {name}");
            conn.send_error(
                wirehub_proto::plain::codes::UNKNOWN_NAMESPACE,
                &message,
                None,
            );
            return Err((OpenError::UnknownNamespace(name.to_string()), conn));
        };
        // Registered before the driver flushes the hello that carries the
        // token, so `POST /send` works as soon as the client has it.
        let socket = match namespace
            .connect_plain(Link::Plain(conn.clone()), auth, claims)
            .await
        {
            Ok(socket) => socket,
            Err(refusal) => return Err((OpenError::Refused(refusal), conn)),
        };
        write(&self.sessions).insert(conn.token().clone(), (socket.clone(), conn.clone()));
        self.io.metrics().handshake(started.elapsed());
        Ok(PlainSession {
            hub: self.clone(),
            socket,
            conn,
            _slot: slot,
        })
    }

    /// The connection `token` names, for `POST /send`.
    pub(crate) fn by_token(&self, token: &str) -> Option<(SocketRef, Arc<PlainConn>)> {
        read(&self.sessions).get(token).cloned()
    }
}

/// One open plain connection, owned by its driver. Dropping it closes the
/// socket (leaving its rooms) and forgets the token.
#[derive(Debug)]
pub(crate) struct PlainSession {
    hub: Arc<PlainHub>,
    pub(crate) socket: SocketRef,
    pub(crate) conn: Arc<PlainConn>,
    /// The connection's place in the counts, freed with the session.
    _slot: ConnectionSlot,
}

impl PlainSession {
    /// Ends the session for `reason` (also done, as a transport error, on drop).
    pub(crate) fn finish(self, reason: CloseReason) {
        self.end(reason);
    }

    fn end(&self, reason: CloseReason) {
        self.conn.mailbox.close();
        write(&self.hub.sessions).remove(self.conn.token());
        self.socket.close(DisconnectReason::from(reason));
    }
}

impl Drop for PlainSession {
    fn drop(&mut self) {
        self.end(CloseReason::TransportError);
    }
}
