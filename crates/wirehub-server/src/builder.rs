//! [`SocketIoBuilder`]: configuration, adapter and handshake hook, then a
//! layer or a service plus the [`SocketIo`] handle.

use crate::admin::{AdminOptions, AdminUi};
use crate::auth::{Gate, JwtVerifier};
use crate::config::{Config, ConfigBuilder, CorsOrigins, RecoveryConfig, SlowConsumerPolicy};
use crate::engine::{AllowRequest, Engine, SessionLocator};
use crate::io::observer::combine;
use crate::io::{AdapterFactory, MemoryAdapter, ServerObserver, SocketIo};
use crate::service::{EngineLayer, NotFound, SocketIoLayer, SocketIoService};
use std::sync::Arc;
use std::time::Duration;
use wirehub_proto::engineio::TransportKind;
use wirehub_proto::socketio::Parser;

/// Builds a Socket.IO server.
pub struct SocketIoBuilder {
    config: ConfigBuilder,
    adapter: AdapterFactory,
    allow_request: Option<AllowRequest>,
    locator: Option<Arc<dyn SessionLocator>>,
    observers: Vec<Arc<dyn ServerObserver>>,
    admin: Option<AdminOptions>,
    jwt: Option<JwtVerifier>,
}

impl std::fmt::Debug for SocketIoBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SocketIoBuilder")
            .field("config", &self.config)
            .finish()
    }
}

impl SocketIo {
    /// A builder with the default configuration and the in-memory adapter.
    pub fn builder() -> SocketIoBuilder {
        SocketIoBuilder {
            config: Config::builder(),
            adapter: MemoryAdapter::factory(),
            allow_request: None,
            locator: None,
            observers: Vec::new(),
            admin: None,
            jwt: None,
        }
    }
}

macro_rules! delegate {
    ($(#[$doc:meta])* $name:ident: $ty:ty) => {
        $(#[$doc])*
        pub fn $name(mut self, value: $ty) -> Self {
            self.config = self.config.$name(value);
            self
        }
    };
}

impl SocketIoBuilder {
    /// Replaces the whole configuration.
    pub fn config(mut self, config: Config) -> Self {
        self.config = ConfigBuilder::from(config);
        self
    }

    /// Sets the endpoint path (default `/socket.io/`).
    pub fn path(mut self, path: impl Into<String>) -> Self {
        self.config = self.config.path(path);
        self
    }
    delegate!(/// Sets the ping interval (default 25 s).
        ping_interval: Duration);
    delegate!(/// Sets the ping timeout (default 20 s).
        ping_timeout: Duration);
    delegate!(/// Sets the upgrade timeout (default 10 s).
        upgrade_timeout: Duration);
    delegate!(/// Sets the largest accepted payload (default 1 MB).
        max_payload: usize);
    delegate!(/// Allows permessage-deflate on WebSocket connections, Engine.IO's and
        /// `/ws` (default false).
        ws_deflate: bool);
    delegate!(/// Sets the size from which WebSocket messages are compressed (default 1024 bytes).
        ws_deflate_threshold: usize);
    delegate!(/// Sets the namespace connect timeout (default 45 s).
        connect_timeout: Duration);
    delegate!(/// Sets the default ack timeout (default 5 s).
        ack_timeout: Duration);
    delegate!(/// Sets the enabled transports.
        transports: Vec<TransportKind>);
    delegate!(/// Sets the CORS origins (default: none).
        cors: CorsOrigins);
    delegate!(/// Allows credentials on cross-origin requests.
        cors_credentials: bool);
    delegate!(/// Sets the per-connection queue capacity (default 1024 packets).
        queue_capacity: usize);
    delegate!(/// Sets the slow-consumer policy.
        slow_consumer: SlowConsumerPolicy);
    delegate!(/// Sets the most attachments per packet (default 64).
        max_attachments: usize);
    delegate!(/// Sets how many messages each room's history keeps (default 100; 0: none).
        history_size: usize);
    delegate!(/// Sets the age limit of room history (default 5 min).
        history_ttl: Duration);
    delegate!(/// Sets the HTTP API key (default: API disabled).
        api_key: Option<String>);
    delegate!(/// Sets connection-state recovery (default: off).
        recovery: RecoveryConfig);
    delegate!(/// Turns connection-state recovery on with this window (zero: off).
        recovery_window: Duration);
    delegate!(/// Sets the most open connections, every transport counted (default 0: no limit).
        max_connections: usize);
    delegate!(/// Sets the most open connections per client address (default 0: no limit).
        max_connections_per_ip: usize);
    delegate!(/// Sets the inbound events per second per connection (default 0: no limit).
        max_event_rate: u32);
    delegate!(/// Sets the event burst above the rate (default 0: as many as the rate).
        event_burst: u32);
    delegate!(/// Sets how long a connection may stay over the event rate (default 5 s).
        event_rate_grace: Duration);
    delegate!(/// Sets the most rooms per socket (default 1,000; 0: no limit).
        max_rooms_per_socket: usize);
    delegate!(/// Sets the most namespaces per Socket.IO connection (default 100; 0: no limit).
        max_namespaces_per_connection: usize);
    delegate!(/// Sets the Socket.IO packet encoding every client speaks (default
        /// [`Parser::Json`]; [`Parser::MsgPack`] for socket.io-msgpack-parser).
        parser: Parser);
    delegate!(/// Serves Engine.IO revision 3 / Socket.IO protocol v4 clients
        /// (socket.io-client 2.x), as Node's `allowEIO3` (default false).
        allow_eio3: bool);

    /// Adjusts any other setting through the [`ConfigBuilder`].
    pub fn config_with(mut self, f: impl FnOnce(ConfigBuilder) -> ConfigBuilder) -> Self {
        self.config = f(self.config);
        self
    }

    /// Sets the adapter factory (default: [`MemoryAdapter`]).
    pub fn adapter(mut self, factory: AdapterFactory) -> Self {
        self.adapter = factory;
        self
    }

    /// Accepts or refuses handshakes from the request head; `Err(message)`
    /// answers 403 `{"code":4,"message":...}`.
    pub fn allow_request(
        mut self,
        hook: impl Fn(&http::request::Parts) -> Result<(), String> + Send + Sync + 'static,
    ) -> Self {
        self.allow_request = Some(Arc::new(hook));
        self
    }

    /// Serves requests for other nodes' sessions by forwarding them to the
    /// node that `locator` names (no sticky sessions needed in a cluster;
    /// see [`crate::cluster::NodeDirectory`]).
    pub fn session_locator(mut self, locator: Arc<dyn SessionLocator>) -> Self {
        self.locator = Some(locator);
        self
    }

    /// Adds an observer of connections, rooms and events (e.g. metrics).
    /// With none (and no admin UI), each hook costs a branch on `None`.
    pub fn observer(mut self, observer: Arc<dyn ServerObserver>) -> Self {
        self.observers.push(observer);
        self
    }

    /// Serves the `@socket.io/admin-ui` dashboard protocol on
    /// [`AdminOptions::namespace`] (see [`crate::admin`]).
    pub fn admin_ui(mut self, options: AdminOptions) -> Self {
        self.admin = Some(options);
        self
    }

    /// Requires a valid JSON Web Token at the handshake of every transport
    /// (see [`crate::auth`]); the admin UI's namespace is exempt (it has its
    /// own credentials).
    pub fn jwt(mut self, verifier: JwtVerifier) -> Self {
        self.jwt = Some(verifier);
        self
    }

    /// A tower layer to wrap an existing service (e.g. an axum router),
    /// and the server handle.
    pub fn build_layer(self) -> (SocketIoLayer, SocketIo) {
        let config = self.config.build();
        let exempt = self.admin.as_ref().map(|a| a.namespace.clone().into());
        let gate = self.jwt.map(|verifier| Gate::new(verifier, exempt));
        let admin = self.admin.map(AdminUi::new);
        let mut observers = self.observers;
        if let Some(admin) = &admin {
            observers.push(admin.clone());
        }
        let observer = combine(observers);
        let io = SocketIo::new(Arc::new(config.clone()), self.adapter, observer, gate);
        if let Some(admin) = admin {
            admin.attach(&io);
        }
        let engine = Engine::with_options(config, io.handler(), self.allow_request, self.locator);
        (EngineLayer::new(engine), io)
    }

    /// A standalone service (404 for other paths), and the server handle.
    pub fn build_service(self) -> (SocketIoService<NotFound>, SocketIo) {
        let (layer, io) = self.build_layer();
        (tower_layer::Layer::layer(&layer, NotFound), io)
    }
}
