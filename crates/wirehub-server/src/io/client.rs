//! One Engine.IO session's Socket.IO state: the decoder that reassembles
//! binary packets, the socket of each joined namespace, and the connect
//! timeout. Owned by the session task, so it needs no lock.

use super::handshake::decode;
use super::namespace::{Namespace, Restoring};
use super::reason::DisconnectReason;
use super::server::ServerInner;
use super::socket::{Socket, SocketRef};
use crate::auth::{JwtError, VerifiedClaims};
use crate::conn::{outgoing, Link};
use crate::engine::EngineConn;
use crate::limits::{EventBudget, LimitError, Verdict};
use crate::metrics::{ErrorKind, RecoveryResult};
use crate::sync::lock;
use std::sync::{Arc, Mutex};
use std::time::Instant;
use wirehub_proto::engineio::{CloseReason, Message, ProtocolVersion};
use wirehub_proto::socketio::{Decoder, Packet, PacketKind, Parser};
use wirehub_proto::Str;

/// One connection's Socket.IO state (opaque; owned by the session task).
pub struct Client {
    conn: Arc<EngineConn>,
    server: Arc<ServerInner>,
    decoder: Decoder,
    /// The socket of each namespace joined (usually one: a list).
    sockets: Vec<(Str, SocketRef)>,
    connect_deadline: Option<Instant>,
    /// Sockets of sessions being recovered, made on a task (the restore
    /// may ask the cluster) and adopted at the next packet.
    adopted: Option<Arc<Mutex<Adopted>>>,
    /// The inbound event-rate bucket, when the rate is limited.
    budget: Option<Box<EventBudget>>,
}

/// Sockets made on a task for this connection, until the session task
/// takes them; `closed` once the connection is gone (a late socket is then
/// dropped and its session kept for another try).
#[derive(Default)]
struct Adopted {
    closed: bool,
    sockets: Vec<(Str, SocketRef)>,
}

impl Client {
    /// The Socket.IO state of a session that just opened. A revision 3
    /// client (Socket.IO protocol v4) is connected to `/` at once, as Node
    /// does: it sends no CONNECT for the main namespace.
    pub(crate) fn new(conn: Arc<EngineConn>, server: Arc<ServerInner>) -> Self {
        let legacy = conn.protocol() == ProtocolVersion::V3;
        let mut client = Self::idle(conn, server);
        if legacy {
            let main = Packet {
                ns: Str::from_static("/"),
                kind: PacketKind::Connect(None),
            };
            // A CONNECT to `/` on a fresh client cannot be in a wrong state.
            let _ = client.on_packet(main);
        }
        client
    }

    fn idle(conn: Arc<EngineConn>, server: Arc<ServerInner>) -> Self {
        let config = server.config();
        Client {
            decoder: Decoder::with_parser(config.parser, config.max_attachments),
            connect_deadline: Some(Instant::now() + config.connect_timeout),
            budget: EventBudget::new(config, server.connections.shared_limits()),
            conn,
            server,
            sockets: Vec::new(),
            adopted: None,
        }
    }

    /// The Engine.IO session this client runs on.
    pub(crate) fn conn(&self) -> &Arc<EngineConn> {
        &self.conn
    }

    pub(crate) fn on_message(&mut self, msg: Message) -> Result<(), CloseReason> {
        match self.decoder.decode(msg) {
            Ok(Some(packet)) => self.on_packet(packet),
            Ok(None) => Ok(()),
            Err(e) => {
                self.server.connections.metrics().error(ErrorKind::Parse);
                tracing::debug!(sid = %self.conn.sid(), error = %e, "bad socket.io packet");
                Err(CloseReason::ParseError)
            }
        }
    }

    fn on_packet(&mut self, packet: Packet) -> Result<(), CloseReason> {
        self.adopt(false);
        let packet = self.legacy_connect(packet);
        let ns = packet.ns;
        self.sockets
            .retain(|(name, s)| *name != ns || !s.is_disconnected());
        let socket = self.socket(&ns);
        match (socket, packet.kind) {
            (None, PacketKind::Connect(auth)) => {
                if let Err(limit) = self.check_namespaces() {
                    let code = serde_json::json!({ "code": limit.plain_code() });
                    let refusal = Packet::connect_error(ns, &limit.to_string(), Some(code));
                    let _ = self.conn.send(outgoing(&refusal, self.parser()), false);
                    return Ok(());
                }
                match self.server.namespace(&ns) {
                    Some(namespace) => {
                        let claims = match self.verify(&ns, auth.as_ref()) {
                            Ok(claims) => claims,
                            Err(refusal) => {
                                self.refuse(ns, &refusal.to_string());
                                return Ok(());
                            }
                        };
                        match namespace.recovery_claim(auth.as_ref()) {
                            Some(claim) => self.recover(namespace, ns, (auth, claims), claim),
                            None => {
                                let socket = namespace.connect(self.link(), auth, claims);
                                self.sockets.reserve_exact(1);
                                self.sockets.push((ns, socket));
                            }
                        }
                    }
                    None => {
                        let refusal = Packet::connect_error(ns, "Invalid namespace", None);
                        let _ = self.conn.send(outgoing(&refusal, self.parser()), false);
                    }
                }
                Ok(())
            }
            (Some(socket), PacketKind::Disconnect) => {
                self.sockets.retain(|(name, _)| *name != ns);
                socket.close(DisconnectReason::ClientNamespaceDisconnect);
                Ok(())
            }
            (Some(socket), PacketKind::Event { name, args, id }) if socket.connected() => {
                match self.budget.as_ref().map_or(Verdict::Admit, |b| b.check()) {
                    Verdict::Admit => socket.on_event(&name, &args, id),
                    Verdict::Drop => {}
                    Verdict::Disconnect => return Err(self.rate_limited()),
                }
                Ok(())
            }
            (Some(socket), PacketKind::Ack { id, args }) if socket.connected() => {
                socket.on_ack(id, args);
                Ok(())
            }
            _ => {
                tracing::debug!(sid = %self.conn.sid(), ns = %ns, "packet in invalid state");
                Err(CloseReason::ForcedClose)
            }
        }
    }

    /// A Socket.IO protocol v4 CONNECT names its namespace with an optional
    /// query (`/custom?token=abc`) in place of an auth payload: as Node, the
    /// namespace is the path and the auth the query's parameters.
    fn legacy_connect(&self, packet: Packet) -> Packet {
        let is_connect = matches!(packet.kind, PacketKind::Connect(_));
        if !is_connect || self.conn.protocol() != ProtocolVersion::V3 {
            return packet;
        }
        let (path, query) = packet.ns.split_once('?').unwrap_or((&packet.ns, ""));
        let auth: serde_json::Map<String, serde_json::Value> = query
            .split('&')
            .filter(|pair| !pair.is_empty())
            .map(|pair| {
                let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
                (decode(k), serde_json::Value::String(decode(v)))
            })
            .collect();
        let auth = serde_json::Value::Object(auth).to_string();
        Packet {
            ns: packet.ns.slice_ref(path),
            kind: PacketKind::Connect(Some(auth.into())),
        }
    }

    /// A CONNECT with `{pid, offset}`: restores the session on a task (the
    /// adapter may ask the cluster), then admits the recovered socket, or a
    /// fresh one if the session cannot be recovered.
    fn recover(
        &mut self,
        namespace: Arc<Namespace>,
        ns: Str,
        (auth, claims): (Option<Str>, Option<VerifiedClaims>),
        claim: (Str, Str),
    ) {
        let adopted = self.adopted.get_or_insert_with(Arc::default).clone();
        let link = self.link();
        tokio::spawn(async move {
            let (pid, token) = claim;
            let adapter = namespace.adapter();
            let restored = adapter.restore_session(pid, token.clone()).await;
            let restoring = match (restored, adapter.local().parse_offset(&token)) {
                (Ok(Some(restored)), Some(offset)) => Some(Restoring { restored, offset }),
                (Err(e), _) => {
                    tracing::debug!(ns = %ns, error = %e, "session not recovered");
                    None
                }
                _ => None,
            };
            namespace.metrics().server().recovery(match restoring {
                Some(_) => RecoveryResult::Recovered,
                None => RecoveryResult::Failed,
            });
            let socket = match &restoring {
                Some(r) => {
                    let session = &r.restored.session;
                    Socket::resumed(namespace.clone(), link, auth, claims, session)
                }
                None => Socket::new(namespace.clone(), link, auth, claims),
            };
            {
                let mut adopted = lock(&adopted);
                if adopted.closed {
                    if let Some(r) = restoring {
                        adapter.persist_session(r.restored.session);
                    }
                    return;
                }
                adopted.sockets.push((ns, socket.clone()));
            }
            namespace.admit(&socket, restoring);
        });
    }

    /// The JWT check of a CONNECT to `ns`: the verified claims (`None`
    /// when the server checks no tokens or `ns` is exempt), or why not.
    fn verify(&self, ns: &str, auth: Option<&Str>) -> Result<Option<VerifiedClaims>, JwtError> {
        let Some(gate) = self.server.gate() else {
            return Ok(None);
        };
        let checked = match gate.check_connect(ns, auth) {
            Err(JwtError::Missing) => match self.legacy_token() {
                Some(legacy) => gate.check_connect(ns, Some(&legacy)),
                None => Err(JwtError::Missing),
            },
            checked => checked,
        };
        checked.inspect_err(|e| {
            tracing::debug!(sid = %self.conn.sid(), ns, error = %e, "token refused");
        })
    }

    /// A revision 3 client (socket.io-client 2.x) has no auth payload (its
    /// namespace query stands for one, and `/` has none): without a token
    /// there, its token is the `token` query parameter of its handshake
    /// (`io(url, { query: { token } })`), as an auth object.
    fn legacy_token(&self) -> Option<Str> {
        if self.conn.protocol() != ProtocolVersion::V3 {
            return None;
        }
        let query = self.conn.request().uri.query()?;
        let token = query
            .split('&')
            .find_map(|pair| pair.strip_prefix("token="))
            .map(decode)?;
        Some(serde_json::json!({ "token": token }).to_string().into())
    }

    /// Answers a CONNECT with a CONNECT_ERROR carrying `message`.
    fn refuse(&self, ns: Str, message: &str) {
        let refusal = match self.conn.protocol() {
            ProtocolVersion::V3 => Packet::connect_error_legacy(ns, message, None),
            _ => Packet::connect_error(ns, message, None),
        };
        let _ = self.conn.send(outgoing(&refusal, self.parser()), false);
    }

    /// Takes the sockets made on a task; `closing` marks the connection gone.
    fn adopt(&mut self, closing: bool) {
        let Some(adopted) = &self.adopted else {
            return;
        };
        let mut adopted = lock(adopted);
        adopted.closed |= closing;
        self.sockets.append(&mut adopted.sockets);
    }

    /// Whether one more namespace is allowed on this connection.
    fn check_namespaces(&self) -> Result<(), LimitError> {
        let max = self.server.config().max_namespaces_per_connection;
        let joined = self
            .sockets
            .iter()
            .filter(|(_, s)| !s.is_disconnected())
            .count();
        if max > 0 && joined >= max {
            return Err(LimitError::TooManyNamespaces { max });
        }
        Ok(())
    }

    /// The client stayed over the event rate: each of its namespaces gets a
    /// DISCONNECT (so the official client does not reconnect by itself),
    /// then the session closes as "rate limited".
    fn rate_limited(&self) -> CloseReason {
        tracing::info!(
            sid = %self.conn.sid(),
            reason = %EventBudget::reason(self.server.config()),
            "disconnecting a client over the event rate"
        );
        for (ns, socket) in &self.sockets {
            if socket.connected() {
                let _ = self.conn.send(
                    outgoing(&Packet::disconnect(ns.clone()), self.parser()),
                    false,
                );
            }
        }
        CloseReason::RateLimited
    }

    /// The packet encoding of this server's clients.
    fn parser(&self) -> Parser {
        self.server.config().parser
    }

    /// This connection as a socket's link.
    fn link(&self) -> Link {
        Link::Engine(self.conn.clone(), self.parser())
    }

    fn socket(&self, ns: &str) -> Option<SocketRef> {
        self.sockets
            .iter()
            .find(|(name, _)| name == ns)
            .map(|(_, s)| s.clone())
    }

    pub(crate) fn deadline(&self) -> Option<Instant> {
        self.connect_deadline
    }

    /// The connect timeout passed: close unless a namespace is connected.
    pub(crate) fn on_deadline(&mut self, now: Instant) -> Result<(), CloseReason> {
        self.adopt(false);
        match self.connect_deadline {
            Some(at) if now >= at => {
                self.connect_deadline = None;
                if self.sockets.iter().any(|(_, s)| s.connected()) {
                    Ok(())
                } else {
                    Err(CloseReason::ForcedClose)
                }
            }
            _ => Ok(()),
        }
    }

    pub(crate) fn on_close(mut self, reason: CloseReason) {
        self.close_sockets(DisconnectReason::from(reason));
    }

    fn close_sockets(&mut self, reason: DisconnectReason) {
        self.adopt(true);
        for (_, socket) in self.sockets.drain(..) {
            socket.close(reason);
        }
    }
}

/// If the session task ends without `on_close` (a panic unwinding through
/// it), the sockets still leave their namespaces and rooms.
impl Drop for Client {
    fn drop(&mut self) {
        self.close_sockets(DisconnectReason::TransportError);
    }
}
