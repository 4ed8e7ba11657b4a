//! `wirehub serve`: flags, the server's assembly, and graceful shutdown.

use crate::demo;
use anyhow::Context;
use clap::Args;
use std::time::Duration;
use tokio::task::JoinHandle;
use tower_layer::Layer;
use wirehub_server::admin::{AdminOptions, Credentials};
use wirehub_server::health::HealthLayer;
use wirehub_server::plain::{serve_tcp, serve_udp};
use wirehub_server::proto::engineio::TransportKind;
use wirehub_server::proto::socketio::Parser;
use wirehub_server::{CorsOrigins, PlainHub, SocketIo};

/// Options of `wirehub serve`. Every flag can also come from its
/// environment variable.
#[derive(Debug, Args)]
pub(crate) struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "WIREHUB_HOST", default_value = "127.0.0.1")]
    host: String,
    /// Port to listen on [default: $PORT, else 3000].
    #[arg(long, env = "WIREHUB_PORT")]
    port: Option<u16>,
    /// Path of the Socket.IO endpoint.
    #[arg(long, env = "WIREHUB_PATH", default_value = "/socket.io/")]
    path: String,
    /// Milliseconds between heartbeat pings.
    #[arg(long, env = "WIREHUB_PING_INTERVAL", default_value_t = 25_000)]
    ping_interval: u64,
    /// Milliseconds a client has to answer a ping before it is dropped.
    #[arg(long, env = "WIREHUB_PING_TIMEOUT", default_value_t = 20_000)]
    ping_timeout: u64,
    /// Largest message or polling body accepted, in bytes.
    #[arg(long, env = "WIREHUB_MAX_PAYLOAD", default_value_t = 1_000_000)]
    max_payload: usize,
    /// Offer permessage-deflate (RFC 7692) on WebSocket connections
    /// (Engine.IO and /ws) to clients that ask for it.
    #[arg(long, env = "WIREHUB_WS_DEFLATE")]
    ws_deflate: bool,
    /// With --ws-deflate, compress WebSocket messages of at least this many bytes.
    #[arg(long, env = "WIREHUB_WS_DEFLATE_THRESHOLD", default_value_t = 1024)]
    ws_deflate_threshold: usize,
    /// Milliseconds a client has to join a namespace after connecting.
    #[arg(long, env = "WIREHUB_CONNECT_TIMEOUT", default_value_t = 45_000)]
    connect_timeout: u64,
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
    cors_credentials: bool,
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
    queue_capacity: usize,
    /// Do not serve the chat demo at `/`.
    #[arg(long, env = "WIREHUB_NO_DEMO")]
    no_demo: bool,
    /// Also accept plain-envelope NDJSON clients on this TCP address (e.g. 127.0.0.1:7000).
    #[arg(long, env = "WIREHUB_TCP")]
    tcp: Option<String>,
    /// Also accept plain-envelope datagrams on this UDP address (e.g. 127.0.0.1:7001).
    #[arg(long, env = "WIREHUB_UDP")]
    udp: Option<String>,
    /// Bearer key of the HTTP API (/api/v1/...); without one the API is disabled.
    #[arg(long, env = "WIREHUB_API_KEY", hide_env_values = true)]
    api_key: Option<String>,
    /// Messages kept per room for SSE resume and polling (0 keeps none).
    #[arg(long, env = "WIREHUB_HISTORY_SIZE", default_value_t = 100)]
    history_size: usize,
    /// Seconds a room message stays in history.
    #[arg(long, env = "WIREHUB_HISTORY_TTL", default_value_t = 300)]
    history_ttl: u64,
    /// Seconds a dropped Socket.IO client can come back with its socket
    /// (id, rooms, data) and every event it missed (connection-state
    /// recovery, Socket.IO 4.6+); 0 turns recovery off.
    #[arg(long, env = "WIREHUB_RECOVERY_WINDOW", default_value_t = 120)]
    recovery_window: u64,
    /// Seconds a TCP or UDP client may stay silent before it is dropped.
    #[arg(long, env = "WIREHUB_IDLE_TIMEOUT", default_value_t = 60)]
    idle_timeout: u64,
    /// Largest UDP datagram accepted or sent, in bytes.
    #[arg(long, env = "WIREHUB_MAX_DATAGRAM", default_value_t = 8192)]
    max_datagram: usize,
    /// Most open connections, every transport counted (Socket.IO, plain
    /// WebSocket, SSE, HTTP streaming, TCP, UDP); past it a new one is
    /// refused with HTTP 503 (0: no limit).
    #[arg(long, env = "WIREHUB_MAX_CONNECTIONS", default_value_t = 0)]
    max_connections: usize,
    /// Most open connections from one client address (0: no limit).
    #[arg(long, env = "WIREHUB_MAX_CONNECTIONS_PER_IP", default_value_t = 0)]
    max_connections_per_ip: usize,
    /// Inbound events per second per connection; events over it are dropped
    /// (0: no limit).
    #[arg(long, env = "WIREHUB_MAX_EVENT_RATE", default_value_t = 0)]
    max_event_rate: u32,
    /// Events a connection may send at once above the rate (0: as many as
    /// the rate).
    #[arg(long, env = "WIREHUB_EVENT_BURST", default_value_t = 0)]
    event_burst: u32,
    /// Seconds a connection may stay over the event rate before it is
    /// disconnected.
    #[arg(long, env = "WIREHUB_EVENT_RATE_GRACE", default_value_t = 5)]
    event_rate_grace: u64,
    /// Most rooms a socket may be in (0: no limit).
    #[arg(long, env = "WIREHUB_MAX_ROOMS_PER_SOCKET", default_value_t = 1000)]
    max_rooms_per_socket: usize,
    /// Most namespaces one Socket.IO connection may join (0: no limit).
    #[arg(
        long,
        env = "WIREHUB_MAX_NAMESPACES_PER_CONNECTION",
        default_value_t = 100
    )]
    max_namespaces_per_connection: usize,
    /// Socket.IO packet encoding of every client: `json` (socket.io-parser)
    /// or `msgpack` (socket.io-msgpack-parser; clients must use it too).
    #[arg(long, env = "WIREHUB_PARSER", default_value = "json")]
    parser: Parser,
    /// Also serve Engine.IO v3 / Socket.IO v2 clients (socket.io-client
    /// 2.x), as Node's `allowEIO3`; off by default, when their handshake is
    /// refused with code 5 ("Unsupported protocol version").
    #[arg(long, env = "WIREHUB_ALLOW_EIO3")]
    allow_eio3: bool,
    /// Cluster adapter: `memory` (one node), `redis://HOST:PORT[/DB]`,
    /// `redis-sharded://HOST:PORT`, `redis-streams://HOST:PORT[/DB]` or
    /// `nats://HOST:PORT`.
    #[arg(long, env = "WIREHUB_ADAPTER", default_value = "memory")]
    adapter: String,
    /// Key prefix of the cluster's channels (Node's default, so Node nodes
    /// join without settings); with `redis-streams://`, also the stream's
    /// name, and sessions are `KEY:session:PID` (`sio:session:PID` under the
    /// default).
    #[arg(long, env = "WIREHUB_ADAPTER_KEY", default_value = wirehub::adapters::DEFAULT_KEY)]
    adapter_key: String,
    /// Where the other nodes of a cluster reach this one
    /// (`http://host:port`), to forward requests for its sessions [default:
    /// http://HOST:PORT of the listener; 127.0.0.1 for a wildcard host].
    #[arg(long, env = "WIREHUB_ADVERTISE")]
    advertise: Option<String>,
    /// Seconds to wait, after SIGTERM or SIGINT, for every connection to
    /// close before exiting.
    #[arg(long, env = "WIREHUB_SHUTDOWN_TIMEOUT", default_value_t = 10)]
    shutdown_timeout: u64,
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
    #[command(flatten)]
    #[command(next_help_heading = "SockJS")]
    sockjs: crate::sockjs_args::SockJsArgs,
}

impl ServeArgs {
    fn port(&self) -> anyhow::Result<u16> {
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

    fn transports(&self) -> anyhow::Result<Vec<TransportKind>> {
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

    /// The admin UI's options, when it is on.
    fn admin(&self) -> anyhow::Result<Option<AdminOptions>> {
        if !self.admin_ui {
            return Ok(None);
        }
        let auth = match self.admin_auth.as_deref().filter(|a| !a.is_empty()) {
            Some(auth) => Some(Credentials::parse(auth).context("--admin-auth")?),
            None => None,
        };
        Ok(Some(AdminOptions::with_auth(auth)))
    }

    fn cors(&self) -> CorsOrigins {
        if self.cors_origins.is_empty() {
            CorsOrigins::None
        } else if self.cors_origins.iter().any(|o| o == "*") {
            CorsOrigins::Any
        } else {
            CorsOrigins::List(self.cors_origins.clone())
        }
    }
}

pub(crate) async fn run(args: ServeArgs) -> anyhow::Result<()> {
    let adapter = wirehub::adapters::from_url(&args.adapter, &args.adapter_key).await?;
    let port = args.port()?;
    let advertise = args.advertise.clone().unwrap_or_else(|| {
        let host = match args.host.as_str() {
            "0.0.0.0" | "::" | "[::]" => "127.0.0.1",
            host => host,
        };
        format!("http://{host}:{port}")
    });
    let directory = match adapter.directory(&advertise).await {
        Ok(directory) => directory,
        Err(e) => {
            tracing::warn!(error = %e, "the cluster's engine is unreachable; serving local clients until it is back");
            None
        }
    };
    let mut builder = SocketIo::builder().adapter(adapter.factory.clone());
    if let Some(directory) = directory {
        builder = builder.session_locator(directory);
    }
    if let Some(admin) = args.admin()? {
        builder = builder.admin_ui(admin);
    }
    let (layer, io) = builder
        .path(args.path.clone())
        .ping_interval(Duration::from_millis(args.ping_interval))
        .ping_timeout(Duration::from_millis(args.ping_timeout))
        .max_payload(args.max_payload)
        .ws_deflate(args.ws_deflate)
        .ws_deflate_threshold(args.ws_deflate_threshold)
        .connect_timeout(Duration::from_millis(args.connect_timeout))
        .cors(args.cors())
        .cors_credentials(args.cors_credentials)
        .transports(args.transports()?)
        .queue_capacity(args.queue_capacity)
        .history_size(args.history_size)
        .history_ttl(Duration::from_secs(args.history_ttl))
        .api_key(args.api_key.clone().filter(|k| !k.is_empty()))
        .recovery_window(Duration::from_secs(args.recovery_window))
        .parser(args.parser)
        .allow_eio3(args.allow_eio3)
        .config_with(|c| {
            let c = c
                .plain_idle_timeout(Duration::from_secs(args.idle_timeout))
                .max_datagram(args.max_datagram)
                .max_connections(args.max_connections)
                .max_connections_per_ip(args.max_connections_per_ip)
                .max_event_rate(args.max_event_rate)
                .event_burst(args.event_burst)
                .event_rate_grace(Duration::from_secs(args.event_rate_grace))
                .max_rooms_per_socket(args.max_rooms_per_socket)
                .max_namespaces_per_connection(args.max_namespaces_per_connection);
            args.sockjs.apply(c)
        })
        .build_layer();
    demo::chat::register(&io);
    crate::hub::register(&io)?;
    let hub = PlainHub::new(io.clone());
    if adapter.clustered() {
        io.ready().await;
        tracing::info!(adapter = %args.adapter, key = %args.adapter_key, %advertise, "clustered");
    }
    let connections = io.connections().clone();
    let service = HealthLayer::new(connections.clone())
        .layer(layer.layer(hub.layer().layer(demo::Assets::new(!args.no_demo))));

    let addr = format!("{}:{port}", args.host);
    let listener = tokio::net::TcpListener::bind(&addr)
        .await
        .with_context(|| format!("cannot listen on {addr}"))?;
    let local = listener.local_addr()?;
    tracing::info!(
        "wirehub listening on http://{local} (Socket.IO at {})",
        args.path
    );
    tracing::info!("plain transports: ws://{local}/ws, http://{local}/sse, /stream, /poll, /send");
    let sockjs = &io.config().sockjs_prefix;
    if !sockjs.is_empty() {
        tracing::info!("SockJS at http://{local}{sockjs}");
    }
    if io.config().api_key.is_some() {
        tracing::info!("HTTP API at http://{local}/api/v1/ (OpenAPI: /api/v1/openapi.json)");
    } else {
        tracing::info!("HTTP API disabled (set --api-key or WIREHUB_API_KEY)");
    }
    if !args.no_demo {
        tracing::info!("chat demo: open http://{local}/ in a browser");
    }
    let mut tasks = Vec::new();
    if let Some(addr) = &args.tcp {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .with_context(|| format!("cannot listen on tcp {addr}"))?;
        tracing::info!("plain TCP (NDJSON) on {}", listener.local_addr()?);
        let gateway = serve_tcp(hub.clone(), listener, connections.draining());
        tasks.push(tokio::spawn(gateway));
    }
    if let Some(addr) = &args.udp {
        let socket = tokio::net::UdpSocket::bind(addr)
            .await
            .with_context(|| format!("cannot bind udp {addr}"))?;
        tracing::info!("plain UDP (datagrams) on {}", socket.local_addr()?);
        let gateway = serve_udp(hub.clone(), socket, connections.draining());
        tasks.push(tokio::spawn(gateway));
    }
    let http = wirehub_server::serve(listener, service, connections.drained());
    tasks.push(tokio::spawn(http));
    shutdown_signal().await;
    drain(&io, tasks, Duration::from_secs(args.shutdown_timeout)).await;
    Ok(())
}

/// Graceful shutdown: stops accepting (`/readyz` answers 503), closes
/// every connection of every transport, and waits up to `grace` for the
/// accept loops and every connection's driver to finish.
async fn drain(io: &SocketIo, tasks: Vec<JoinHandle<std::io::Result<()>>>, grace: Duration) {
    tracing::info!(
        connections = io.connections().total(),
        "shutting down: draining connections (up to {grace:?})"
    );
    let deadline = tokio::time::Instant::now() + grace;
    let drained = tokio::time::timeout_at(deadline, async {
        let registry = io.shutdown(grace).await;
        for task in tasks {
            match task.await {
                Ok(Err(e)) => tracing::warn!(error = %e, "listener ended with an error"),
                Err(e) => tracing::warn!(error = %e, "listener task failed"),
                Ok(Ok(())) => {}
            }
        }
        registry
    })
    .await;
    match drained {
        Ok(Ok(())) => tracing::info!("every connection closed"),
        Ok(Err(left)) => tracing::warn!(%left, "shutdown timeout: exiting anyway"),
        Err(_) => tracing::warn!(
            connections = io.connections().total(),
            "shutdown timeout: exiting with HTTP requests still open"
        ),
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}
