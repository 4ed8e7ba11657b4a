//! The options of `wirehub serve`, in sections. Each section is one struct
//! flattened into [`ServeArgs`] under its own help heading, and one
//! `[section]` of the configuration file (`crate::config_file` maps a
//! heading to its section): a new setting is one field with its flag and
//! its environment variable, and the file takes it with no more code.

use crate::auth::AuthArgs;
use crate::logging::LogArgs;
use crate::metrics_args::MetricsArgs;
use crate::sockjs_args::SockJsArgs;
use crate::tls_args::TlsArgs;
use anyhow::Context;
use clap::Args;
use std::path::PathBuf;
use wirehub_server::admin::{AdminOptions, Credentials};
use wirehub_server::proto::engineio::TransportKind;
use wirehub_server::proto::socketio::Parser;
use wirehub_server::CorsOrigins;

/// Options of `wirehub serve`. Every flag can also come from its
/// environment variable, or from the configuration file.
#[derive(Debug, Args)]
pub(crate) struct ServeArgs {
    /// A TOML configuration file (see `wirehub.example.toml`); environment
    /// variables and flags override what it sets.
    #[arg(long, env = "WIREHUB_CONFIG", value_name = "FILE")]
    pub(crate) config: Option<PathBuf>,
    #[command(flatten)]
    pub(crate) server: ServerArgs,
    #[command(flatten)]
    pub(crate) engine: EngineArgs,
    #[command(flatten)]
    pub(crate) socketio: SocketIoArgs,
    #[command(flatten)]
    pub(crate) websocket: WebSocketArgs,
    #[command(flatten)]
    pub(crate) cors: CorsArgs,
    #[command(flatten)]
    pub(crate) history: HistoryArgs,
    #[command(flatten)]
    pub(crate) recovery: RecoveryArgs,
    #[command(flatten)]
    pub(crate) plain: PlainArgs,
    #[command(flatten)]
    pub(crate) sockjs: SockJsArgs,
    #[command(flatten)]
    pub(crate) api: ApiArgs,
    #[command(flatten)]
    pub(crate) limits: LimitsArgs,
    #[command(flatten)]
    pub(crate) cluster: ClusterArgs,
    #[command(flatten)]
    pub(crate) admin: AdminArgs,
    #[command(flatten)]
    pub(crate) tls: TlsArgs,
    #[command(flatten)]
    pub(crate) auth: AuthArgs,
    #[command(flatten)]
    pub(crate) log: LogArgs,
    #[command(flatten)]
    pub(crate) metrics: MetricsArgs,
}

impl ServeArgs {
    /// Checks what the flags' parsers cannot: the port fallback, the
    /// transport names, the admin credentials, the JWT key and the TLS
    /// certificate files.
    pub(crate) fn validate(&self) -> anyhow::Result<()> {
        self.server.port()?;
        self.engine.transports()?;
        self.admin.options()?;
        self.auth.verifier()?;
        self.tls.config()?;
        Ok(())
    }
}

/// `[server]`: where it listens, the demo page, shutdown.
#[derive(Debug, Args)]
#[command(next_help_heading = "Server")]
pub(crate) struct ServerArgs {
    /// Address to listen on.
    #[arg(long, env = "WIREHUB_HOST", default_value = "127.0.0.1")]
    pub(crate) host: String,
    /// Port to listen on [default: $PORT, else 3000].
    #[arg(long, env = "WIREHUB_PORT")]
    port: Option<u16>,
    /// Do not serve the chat demo at `/`.
    #[arg(long, env = "WIREHUB_NO_DEMO")]
    pub(crate) no_demo: bool,
    /// Seconds to wait, after SIGTERM or SIGINT, for every connection to
    /// close before exiting.
    #[arg(long, env = "WIREHUB_SHUTDOWN_TIMEOUT", default_value_t = 10)]
    pub(crate) shutdown_timeout: u64,
}

impl ServerArgs {
    /// The port: the flag, else `$PORT`, else 3000.
    pub(crate) fn port(&self) -> anyhow::Result<u16> {
        match self.port {
            Some(p) => Ok(p),
            None => match std::env::var("PORT") {
                Ok(p) => p
                    .parse()
                    .with_context(|| format!("PORT={p:?} is not a port number")),
                Err(_) => Ok(3000),
            },
        }
    }
}

/// `[engine]`: the Engine.IO layer (endpoint, heartbeat, transports, queues).
#[derive(Debug, Args)]
#[command(next_help_heading = "Engine.IO")]
pub(crate) struct EngineArgs {
    /// Path of the Socket.IO endpoint.
    #[arg(long, env = "WIREHUB_PATH", default_value = "/socket.io/")]
    pub(crate) path: String,
    /// Milliseconds between heartbeat pings.
    #[arg(long, env = "WIREHUB_PING_INTERVAL", default_value_t = 25_000)]
    pub(crate) ping_interval: u64,
    /// Milliseconds a client has to answer a ping before it is dropped.
    #[arg(long, env = "WIREHUB_PING_TIMEOUT", default_value_t = 20_000)]
    pub(crate) ping_timeout: u64,
    /// Largest message or polling body accepted, in bytes.
    #[arg(long, env = "WIREHUB_MAX_PAYLOAD", default_value_t = 1_000_000)]
    pub(crate) max_payload: usize,
    /// Transports to offer: `polling`, `websocket` (comma-separated).
    #[arg(
        long,
        env = "WIREHUB_TRANSPORTS",
        value_delimiter = ',',
        default_value = "polling,websocket"
    )]
    transports: Vec<String>,
    /// Packets queued per connection before a slow reader is disconnected.
    #[arg(long, env = "WIREHUB_QUEUE_CAPACITY", default_value_t = 1024)]
    pub(crate) queue_capacity: usize,
    /// Also serve Engine.IO v3 / Socket.IO v2 clients (socket.io-client
    /// 2.x), as Node's `allowEIO3`; off by default, when their handshake is
    /// refused with code 5 ("Unsupported protocol version").
    #[arg(long, env = "WIREHUB_ALLOW_EIO3")]
    pub(crate) allow_eio3: bool,
}

impl EngineArgs {
    /// The transports offered.
    pub(crate) fn transports(&self) -> anyhow::Result<Vec<TransportKind>> {
        let list = self
            .transports
            .iter()
            .map(|t| {
                TransportKind::parse(t.trim())
                    .with_context(|| format!("unknown transport {t:?} (polling, websocket)"))
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        anyhow::ensure!(!list.is_empty(), "at least one transport is needed");
        Ok(list)
    }
}

/// `[socketio]`: the Socket.IO layer.
#[derive(Debug, Args)]
#[command(next_help_heading = "Socket.IO")]
pub(crate) struct SocketIoArgs {
    /// Milliseconds a client has to join a namespace after connecting.
    #[arg(long, env = "WIREHUB_CONNECT_TIMEOUT", default_value_t = 45_000)]
    pub(crate) connect_timeout: u64,
    /// Socket.IO packet encoding of every client: `json` (socket.io-parser)
    /// or `msgpack` (socket.io-msgpack-parser; clients must use it too).
    #[arg(long, env = "WIREHUB_PARSER", default_value = "json")]
    pub(crate) parser: Parser,
}

/// `[websocket]`: WebSocket compression (Engine.IO and `/ws`).
#[derive(Debug, Args)]
#[command(next_help_heading = "WebSocket")]
pub(crate) struct WebSocketArgs {
    /// Offer permessage-deflate (RFC 7692) on WebSocket connections
    /// (Engine.IO and /ws) to clients that ask for it.
    #[arg(long, env = "WIREHUB_WS_DEFLATE")]
    pub(crate) ws_deflate: bool,
    /// With --ws-deflate, compress WebSocket messages of at least this many bytes.
    #[arg(long, env = "WIREHUB_WS_DEFLATE_THRESHOLD", default_value_t = 1024)]
    pub(crate) ws_deflate_threshold: usize,
}

/// `[cors]`: which web pages may connect.
#[derive(Debug, Args)]
#[command(next_help_heading = "CORS")]
pub(crate) struct CorsArgs {
    /// Origins allowed to connect cross-origin (repeat, or comma-separated);
    /// `*` allows any. Default: same-origin only.
    #[arg(
        long = "cors-origin",
        env = "WIREHUB_CORS_ORIGINS",
        value_delimiter = ','
    )]
    cors_origins: Vec<String>,
    /// Allow credentials (cookies) on cross-origin requests.
    #[arg(long, env = "WIREHUB_CORS_CREDENTIALS")]
    pub(crate) cors_credentials: bool,
}

impl CorsArgs {
    /// The origin policy.
    pub(crate) fn origins(&self) -> CorsOrigins {
        if self.cors_origins.is_empty() {
            CorsOrigins::None
        } else if self.cors_origins.iter().any(|o| o == "*") {
            CorsOrigins::Any
        } else {
            CorsOrigins::List(self.cors_origins.clone())
        }
    }
}

/// `[history]`: room history for SSE resume and plain polling.
#[derive(Debug, Args)]
#[command(next_help_heading = "History")]
pub(crate) struct HistoryArgs {
    /// Messages kept per room for SSE resume and polling (0 keeps none).
    #[arg(long, env = "WIREHUB_HISTORY_SIZE", default_value_t = 100)]
    pub(crate) history_size: usize,
    /// Seconds a room message stays in history.
    #[arg(long, env = "WIREHUB_HISTORY_TTL", default_value_t = 300)]
    pub(crate) history_ttl: u64,
}

/// `[recovery]`: Socket.IO connection-state recovery.
#[derive(Debug, Args)]
#[command(next_help_heading = "Recovery")]
pub(crate) struct RecoveryArgs {
    /// Seconds a dropped Socket.IO client can come back with its socket
    /// (id, rooms, data) and every event it missed (connection-state
    /// recovery, Socket.IO 4.6+); 0 turns recovery off.
    #[arg(long, env = "WIREHUB_RECOVERY_WINDOW", default_value_t = 120)]
    pub(crate) recovery_window: u64,
}

/// `[plain]`: the TCP and UDP gateways and plain sessions.
#[derive(Debug, Args)]
#[command(next_help_heading = "Plain transports")]
pub(crate) struct PlainArgs {
    /// Also accept plain-envelope NDJSON clients on this TCP address (e.g. 127.0.0.1:7000).
    #[arg(long, env = "WIREHUB_TCP")]
    pub(crate) tcp: Option<String>,
    /// Also accept plain-envelope datagrams on this UDP address (e.g. 127.0.0.1:7001).
    #[arg(long, env = "WIREHUB_UDP")]
    pub(crate) udp: Option<String>,
    /// Seconds a TCP or UDP client may stay silent before it is dropped.
    #[arg(long, env = "WIREHUB_IDLE_TIMEOUT", default_value_t = 60)]
    pub(crate) idle_timeout: u64,
    /// Largest UDP datagram accepted or sent, in bytes.
    #[arg(long, env = "WIREHUB_MAX_DATAGRAM", default_value_t = 8192)]
    pub(crate) max_datagram: usize,
}

/// `[api]`: the HTTP publish API.
#[derive(Debug, Args)]
#[command(next_help_heading = "HTTP API")]
pub(crate) struct ApiArgs {
    /// Bearer key of the HTTP API (/api/v1/...); without one the API is disabled.
    #[arg(long, env = "WIREHUB_API_KEY", hide_env_values = true)]
    api_key: Option<String>,
}

impl ApiArgs {
    /// The API key, when the API is on.
    pub(crate) fn key(&self) -> Option<String> {
        self.api_key.clone().filter(|k| !k.is_empty())
    }
}

/// `[limits]`: connection caps and per-connection limits.
#[derive(Debug, Args)]
#[command(next_help_heading = "Limits")]
pub(crate) struct LimitsArgs {
    /// Most open connections, every transport counted (Socket.IO, plain
    /// WebSocket, SSE, HTTP streaming, TCP, UDP); past it a new one is
    /// refused with HTTP 503 (0: no limit).
    #[arg(long, env = "WIREHUB_MAX_CONNECTIONS", default_value_t = 0)]
    pub(crate) max_connections: usize,
    /// Most open connections from one client address (0: no limit).
    #[arg(long, env = "WIREHUB_MAX_CONNECTIONS_PER_IP", default_value_t = 0)]
    pub(crate) max_connections_per_ip: usize,
    /// Inbound events per second per connection; events over it are dropped
    /// (0: no limit).
    #[arg(long, env = "WIREHUB_MAX_EVENT_RATE", default_value_t = 0)]
    pub(crate) max_event_rate: u32,
    /// Events a connection may send at once above the rate (0: as many as
    /// the rate).
    #[arg(long, env = "WIREHUB_EVENT_BURST", default_value_t = 0)]
    pub(crate) event_burst: u32,
    /// Seconds a connection may stay over the event rate before it is
    /// disconnected.
    #[arg(long, env = "WIREHUB_EVENT_RATE_GRACE", default_value_t = 5)]
    pub(crate) event_rate_grace: u64,
    /// Most rooms a socket may be in (0: no limit).
    #[arg(long, env = "WIREHUB_MAX_ROOMS_PER_SOCKET", default_value_t = 1000)]
    pub(crate) max_rooms_per_socket: usize,
    /// Most namespaces one Socket.IO connection may join (0: no limit).
    #[arg(
        long,
        env = "WIREHUB_MAX_NAMESPACES_PER_CONNECTION",
        default_value_t = 100
    )]
    pub(crate) max_namespaces_per_connection: usize,
}

/// `[cluster]`: the adapter that joins nodes into one hub.
#[derive(Debug, Args)]
#[command(next_help_heading = "Cluster")]
pub(crate) struct ClusterArgs {
    /// Cluster adapter: `memory` (one node), `redis://HOST:PORT[/DB]`,
    /// `redis-sharded://HOST:PORT`, `redis-streams://HOST:PORT[/DB]` or
    /// `nats://HOST:PORT`.
    #[arg(long, env = "WIREHUB_ADAPTER", default_value = "memory")]
    pub(crate) adapter: String,
    /// Key prefix of the cluster's channels (Node's default, so Node nodes
    /// join without settings); with `redis-streams://`, also the stream's
    /// name, and sessions are `KEY:session:PID` (`sio:session:PID` under the
    /// default).
    #[arg(long, env = "WIREHUB_ADAPTER_KEY", default_value = wirehub::adapters::DEFAULT_KEY)]
    pub(crate) adapter_key: String,
    /// Where the other nodes of a cluster reach this one
    /// (`http://host:port`), to forward requests for its sessions [default:
    /// http://HOST:PORT of the listener; 127.0.0.1 for a wildcard host].
    #[arg(long, env = "WIREHUB_ADVERTISE")]
    pub(crate) advertise: Option<String>,
}

/// `[admin]`: the `@socket.io/admin-ui` dashboard protocol.
#[derive(Debug, Args)]
#[command(next_help_heading = "Admin UI")]
pub(crate) struct AdminArgs {
    /// Serve the `@socket.io/admin-ui` dashboard protocol on `/admin`
    /// (open the dashboard, e.g. https://admin.socket.io with
    /// `--cors-origin https://admin.socket.io --cors-credentials`, and
    /// give it this server's URL).
    #[arg(long, env = "WIREHUB_ADMIN_UI")]
    admin_ui: bool,
    /// `USER:PASSWORD` the admin dashboard must log in with; without it,
    /// anyone reaching the server may use the dashboard.
    #[arg(
        long,
        env = "WIREHUB_ADMIN_AUTH",
        hide_env_values = true,
        requires = "admin_ui"
    )]
    admin_auth: Option<String>,
}

impl AdminArgs {
    /// The admin UI's options, when it is on.
    pub(crate) fn options(&self) -> anyhow::Result<Option<AdminOptions>> {
        if !self.admin_ui {
            return Ok(None);
        }
        let auth = match self.admin_auth.as_deref().filter(|a| !a.is_empty()) {
            Some(auth) => Some(Credentials::parse(auth).context("--admin-auth")?),
            None => None,
        };
        Ok(Some(AdminOptions::with_auth(auth)))
    }
}
