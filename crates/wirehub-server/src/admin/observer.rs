//! [`AdminUi`]: the admin namespace and the observer that feeds it.
//!
//! On connect (after the credential check) a dashboard gets `config` (the
//! operations it may offer), then, in development mode, `all_sockets`; then
//! `server_stats` right away and every [`super::AdminOptions::stats_interval`]
//! while any dashboard is connected (no timer runs when none is). In
//! development mode it also gets each socket connecting and leaving, room
//! joins and leaves, every event a socket receives or is sent, and (at the
//! next stats tick) each socket that upgraded from long-polling.
//!
//! Its operations (`emit`, `join`, `leave`, `_disconnect`, each on a
//! namespace and an optional room filter) act through the adapter, so on
//! every node; they are not registered when `readonly`.

use super::auth::{Gate, Verdict, INVALID};
use super::options::{AdminMode, AdminOptions};
use super::serialize;
use super::stats::{now_ms, Stats};
use crate::engine::EngineConn;
use crate::io::{
    iso_string, BroadcastOperator, ConnectError, DisconnectReason, Namespace, RawArgs, Room,
    ServerInner, ServerObserver, Socket, SocketIo, SocketRef, Transport,
};
use crate::sync::lock;
use serde_json::{json, Value};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock, Weak};
use wirehub_proto::engineio::CloseReason;
use wirehub_proto::socketio::Args;
use wirehub_proto::Str;

/// A session id to hand to the dashboard once it is connected.
#[derive(Clone)]
struct NewSession(Str);

/// The admin UI of one server.
pub(crate) struct AdminUi {
    options: AdminOptions,
    gate: Gate,
    stats: Stats,
    server: OnceLock<Weak<ServerInner>>,
    admin_ns: OnceLock<Weak<Namespace>>,
    /// Whether the stats timer runs.
    ticking: AtomicBool,
    /// Sockets last seen on long-polling: each tick reports those that
    /// upgraded since (`socket_updated`), as Node does on `upgrade`.
    polling: Mutex<Vec<Weak<Socket>>>,
}

impl AdminUi {
    pub(crate) fn new(options: AdminOptions) -> Arc<Self> {
        Arc::new(AdminUi {
            gate: Gate::new(options.auth.clone()),
            stats: Stats::new(options.server_id.clone()),
            options,
            server: OnceLock::new(),
            admin_ns: OnceLock::new(),
            ticking: AtomicBool::new(false),
            polling: Mutex::default(),
        })
    }

    /// Registers the admin namespace on `io` (whose observer is `self`).
    pub(crate) fn attach(self: &Arc<Self>, io: &SocketIo) {
        let _ = self.server.set(Arc::downgrade(&io.0));
        let admin = self.clone();
        let ns = io.ns(self.options.namespace.clone(), move |socket: SocketRef| {
            admin.on_dashboard(&socket);
            async {}
        });
        if let Some(inner) = ns.ns.as_ref() {
            let _ = self.admin_ns.set(Arc::downgrade(inner));
        }
        let admin = self.clone();
        ns.use_middleware(move |socket: SocketRef| {
            let verdict = admin.gate.check(socket.auth_raw());
            async move {
                match verdict {
                    Verdict::Known => Ok(()),
                    Verdict::NewSession(id) => {
                        socket.insert(NewSession(id));
                        Ok(())
                    }
                    Verdict::Refused => Err(ConnectError::new(INVALID)),
                }
            }
        });
        tracing::info!(ns = %self.options.namespace, auth = self.options.auth.is_some(), "admin UI on");
    }

    fn verbose(&self) -> bool {
        self.options.mode == AdminMode::Development
    }

    fn admin_ns(&self) -> Option<Arc<Namespace>> {
        self.admin_ns.get()?.upgrade()
    }

    fn namespaces(&self) -> Vec<Arc<Namespace>> {
        let server = self.server.get().and_then(Weak::upgrade);
        server.map(|s| s.namespaces()).unwrap_or_default()
    }

    /// A dashboard connected.
    fn on_dashboard(self: &Arc<Self>, socket: &SocketRef) {
        if let Some(NewSession(id)) = socket.remove::<NewSession>() {
            let _ = socket.emit("session", &id);
        }
        if !self.options.readonly {
            register_operations(socket, self.server_handle());
        }
        let _ = socket.emit("config", &json!({ "supportedFeatures": self.features() }));
        if self.verbose() {
            let all: Vec<Value> = self
                .namespaces()
                .iter()
                .flat_map(|ns| ns.sockets())
                .map(|s| serialize::socket(&s))
                .collect();
            let _ = socket.emit("all_sockets", &all);
        }
        let _ = socket.emit("server_stats", &self.stats.report(&self.namespaces()));
        self.start_ticking();
    }

    fn server_handle(&self) -> Option<SocketIo> {
        self.server.get()?.upgrade().map(SocketIo)
    }

    /// What the dashboard may offer (Node's `supportedFeatures`).
    fn features(&self) -> Vec<&'static str> {
        let mut features = Vec::new();
        if !self.options.readonly {
            features.extend([
                "EMIT",
                "JOIN",
                "LEAVE",
                "DISCONNECT",
                "MJOIN",
                "MLEAVE",
                "MDISCONNECT",
            ]);
        }
        features.push("AGGREGATED_EVENTS");
        if self.verbose() {
            features.push("ALL_EVENTS");
        }
        features
    }

    /// Starts the stats timer unless it runs; it stops when no dashboard is left.
    fn start_ticking(self: &Arc<Self>) {
        if self.ticking.swap(true, Ordering::AcqRel) {
            return;
        }
        let admin = Arc::downgrade(self);
        let every = self.options.stats_interval;
        tokio::spawn(async move {
            let mut timer = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
            loop {
                timer.tick().await;
                let Some(admin) = admin.upgrade() else { return };
                if !admin.tick() {
                    return;
                }
            }
        });
    }

    /// One stats report; false (and the timer stopped) when no dashboard is left.
    fn tick(&self) -> bool {
        let watched = self.admin_ns().is_some_and(|ns| ns.socket_count() > 0);
        if !watched {
            self.ticking.store(false, Ordering::Release);
            // A dashboard that came meanwhile found the timer still running.
            let came = self.admin_ns().is_some_and(|ns| ns.socket_count() > 0);
            return came && !self.ticking.swap(true, Ordering::AcqRel);
        }
        let report = self.stats.report(&self.namespaces());
        self.broadcast("server_stats", &[report]);
        self.report_upgrades();
        true
    }

    /// `socket_updated` for each polling socket now on another transport.
    fn report_upgrades(&self) {
        let mut upgraded = Vec::new();
        lock(&self.polling).retain(|weak| {
            let Some(socket) = weak.upgrade().filter(|s| s.connected()) else {
                return false;
            };
            match socket.transport() {
                Some(Transport::Polling) => true,
                Some(other) => {
                    upgraded.push((socket, other));
                    false
                }
                None => false,
            }
        });
        for (socket, transport) in upgraded {
            let update = json!({
                "id": socket.id(),
                "nsp": socket.ns_name(),
                "transport": transport.as_str(),
            });
            self.broadcast("socket_updated", &[update]);
        }
    }

    /// Sends an event to every dashboard (nothing if none is connected).
    fn broadcast(&self, event: &str, args: &[Value]) {
        let Some(ns) = self.admin_ns() else { return };
        if ns.socket_count() == 0 {
            return;
        }
        match Args::many(args) {
            Ok(args) => {
                let _ = BroadcastOperator::new(ns).emit_raw(event, args);
            }
            Err(e) => tracing::warn!(event, error = %e, "admin event not serialisable"),
        }
    }

    fn is_admin(&self, ns: &str) -> bool {
        ns == self.options.namespace
    }

    /// Reports an event a socket received or was sent (`kind`), in
    /// development mode, unless it is the dashboard's own.
    fn report_event(&self, kind: &str, socket: &Socket, event: &str, args: &Args) {
        if self.verbose() && !self.is_admin(socket.ns_name()) {
            let args = [
                json!(socket.ns_name()),
                json!(socket.id()),
                json_args(event, args),
                now(),
            ];
            self.broadcast(kind, &args);
        }
    }
}

fn now() -> Value {
    Value::String(iso_string(now_ms()))
}

/// Args as JSON values (binary attachments show as their placeholders).
fn json_args(event: &str, args: &Args) -> Value {
    let mut all = vec![Value::String(event.to_owned())];
    all.extend(
        args.raw()
            .iter()
            .map(|raw| serde_json::from_str(raw).unwrap_or(Value::Null)),
    );
    Value::Array(all)
}

impl ServerObserver for AdminUi {
    fn client_opened(&self, conn: &Arc<EngineConn>) {
        self.stats.client_opened(conn);
    }

    fn client_closed(&self, conn: &Arc<EngineConn>, reason: CloseReason) {
        self.stats.client_closed(conn, reason.as_str());
    }

    fn socket_connected(&self, socket: &SocketRef) {
        if !self.verbose() {
            return;
        }
        self.broadcast("socket_connected", &[serialize::socket(socket), now()]);
        if socket.transport() == Some(Transport::Polling) {
            lock(&self.polling).push(Arc::downgrade(socket));
        }
    }

    fn socket_disconnected(&self, socket: &Socket, reason: DisconnectReason) {
        if !self.verbose() {
            return;
        }
        let (ns, id) = (json!(socket.ns_name()), json!(socket.id()));
        let args = [ns.clone(), id.clone(), json!(reason.as_str()), now()];
        self.broadcast("socket_disconnected", &args);
        // As Node, which reports leaving every room, the socket's own too.
        self.broadcast("room_left", &[ns, id.clone(), id, now()]);
    }

    fn room_joined(&self, ns: &Str, room: &Room, sid: &Str) {
        if self.verbose() {
            self.broadcast("room_joined", &[json!(ns), json!(room), json!(sid), now()]);
        }
    }

    fn room_left(&self, ns: &Str, room: &Room, sid: &Str) {
        if self.verbose() {
            self.broadcast("room_left", &[json!(ns), json!(room), json!(sid), now()]);
        }
    }

    fn event_received(&self, socket: &Socket, event: &Str, args: &Args) {
        self.report_event("event_received", socket, event, args);
    }

    fn event_sent(&self, socket: &Socket, event: &str, args: &Args) {
        self.report_event("event_sent", socket, event, args);
    }
}

/// The dashboard's operations: `emit(nsp, filter, event, ...args)`,
/// `join(nsp, room, filter?)`, `leave(nsp, room, filter?)`,
/// `_disconnect(nsp, close, filter?)`.
fn register_operations(socket: &SocketRef, io: Option<SocketIo>) {
    let Some(io) = io else { return };
    let on = |name: &'static str, op: fn(&SocketIo, &Args) -> Option<()>| {
        let io = io.clone();
        socket.on(name, move |RawArgs(args): RawArgs| {
            if op(&io, &args).is_none() {
                tracing::debug!(
                    op = name,
                    "admin operation ignored (bad arguments or namespace)"
                );
            }
            async {}
        });
    };
    on("emit", op_emit);
    on("join", op_join);
    on("leave", op_leave);
    on("_disconnect", op_disconnect);
}

/// The sockets of namespace `args[0]`, in room `args[filter_at]` if one is given.
fn target(io: &SocketIo, args: &Args, filter_at: usize) -> Option<BroadcastOperator> {
    let nsp: String = args.get(0).ok()?;
    let all = io.of(&nsp)?.broadcast()?;
    match args.get::<Option<String>>(filter_at).ok().flatten() {
        Some(room) if !room.is_empty() => Some(all.to(room)),
        _ => Some(all),
    }
}

fn op_emit(io: &SocketIo, args: &Args) -> Option<()> {
    let event: String = args.get(2).ok()?;
    let rest = Args::from_raw(args.raw().get(3..)?.to_vec());
    target(io, args, 1)?.emit_raw(&event, rest).ok().map(drop)
}

fn op_join(io: &SocketIo, args: &Args) -> Option<()> {
    let room: String = args.get(1).ok()?;
    target(io, args, 2)?.sockets_join(room).ok()
}

fn op_leave(io: &SocketIo, args: &Args) -> Option<()> {
    let room: String = args.get(1).ok()?;
    target(io, args, 2)?.sockets_leave(room).ok()
}

fn op_disconnect(io: &SocketIo, args: &Args) -> Option<()> {
    let close: bool = args.get(1).unwrap_or(false);
    target(io, args, 2)?.disconnect_sockets(close).ok()
}
