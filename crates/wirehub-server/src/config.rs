//! Server limits and timers, with the reference server's defaults.

pub use crate::io::recovery::RecoveryConfig;
use std::time::Duration;
use wirehub_proto::engineio::{SessionConfig, TransportKind};
/// SockJS session timers and limits (from `wirehub_proto`).
pub use wirehub_proto::plain::sockjs::SessionConfig as SockJsConfig;
use wirehub_proto::socketio::Parser;

/// Which origins may make cross-origin requests.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum CorsOrigins {
    /// No CORS headers: same-origin only (the default).
    #[default]
    None,
    /// Any origin (`*`, or the request's origin when credentials are allowed).
    Any,
    /// Exactly these origins, e.g. `https://example.com`.
    List(Vec<String>),
}

impl CorsOrigins {
    /// Whether `origin` may make a cross-origin request.
    pub fn allows(&self, origin: &str) -> bool {
        match self {
            CorsOrigins::None => false,
            CorsOrigins::Any => true,
            CorsOrigins::List(list) => list.iter().any(|o| o == origin),
        }
    }
}

/// What to do when a connection's outbound queue is full.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SlowConsumerPolicy {
    /// Close the session ("slow consumer"): nothing is silently dropped (default).
    #[default]
    Disconnect,
    /// Drop the new message and keep the session.
    DropNewest,
}

/// All server settings. Build one with [`Config::builder`].
#[derive(Debug, Clone)]
pub struct Config {
    /// Request path of the Engine.IO endpoint, with trailing slash (`/socket.io/`).
    pub path: String,
    /// Interval between server pings (default 25 s).
    pub ping_interval: Duration,
    /// Time a client has to answer a ping (default 20 s).
    pub ping_timeout: Duration,
    /// Time a client has to finish a polling→WebSocket upgrade (default 10 s).
    pub upgrade_timeout: Duration,
    /// Largest accepted message or polling body, in bytes (default 1 MB).
    pub max_payload: usize,
    /// Time a client has to connect to a namespace after the handshake (default 45 s).
    pub connect_timeout: Duration,
    /// Default timeout of server→client acknowledgements (default 5 s).
    pub ack_timeout: Duration,
    /// Enabled transports (default: both).
    pub transports: Vec<TransportKind>,
    /// Cross-origin policy.
    pub cors: CorsOrigins,
    /// Whether cross-origin requests may carry credentials.
    pub cors_credentials: bool,
    /// Capacity of each connection's outbound queue, in packets (default 1024).
    pub queue_capacity: usize,
    /// What happens when that queue is full.
    pub slow_consumer: SlowConsumerPolicy,
    /// Most binary attachments accepted in one packet (default 64).
    pub max_attachments: usize,
    /// Time allowed to receive a whole polling request body (default 10 s).
    pub body_timeout: Duration,
    /// Messages kept per room for replay (SSE resume, plain polling); 0 keeps none (default 100).
    pub history_size: usize,
    /// Age after which a room's message leaves its history (default 5 min).
    pub history_ttl: Duration,
    /// Most rooms with history per namespace (default 10,000); past it, new
    /// rooms' messages are still delivered but not recorded.
    pub history_max_rooms: usize,
    /// Most namespaces created on demand by dynamic patterns (default 1,000);
    /// past it, one without sockets is dropped to make room, else the
    /// connection is refused as an unknown namespace.
    pub max_dynamic_namespaces: usize,
    /// Whether plain-transport clients may join and leave rooms and publish
    /// to them directly, without a server handler (default true).
    pub plain_client_rooms: bool,
    /// Interval of SSE heartbeat comments and HTTP-streaming keep-alive lines (default 15 s).
    pub stream_heartbeat: Duration,
    /// The reconnection delay SSE clients are told to use (default 3 s).
    pub sse_retry: Duration,
    /// Time a TCP or UDP client may stay silent before it is dropped (default 60 s).
    pub plain_idle_timeout: Duration,
    /// Longest NDJSON line accepted from a TCP client or `POST /send`, in bytes (default 64 KiB).
    pub max_line: usize,
    /// Largest UDP datagram accepted or sent, in bytes (default 8 KiB).
    pub max_datagram: usize,
    /// Most UDP client sessions at once (default 10,000).
    pub max_udp_clients: usize,
    /// Bearer key of the HTTP API (`/api/v1/...`); `None` disables it.
    pub api_key: Option<String>,
    /// Connection-state recovery (off by default: a zero window).
    pub recovery: RecoveryConfig,
    /// Most open connections, every transport counted (Engine.IO sessions,
    /// plain WebSocket, SSE and HTTP-streaming connections, TCP and UDP
    /// clients); past it a new one is refused with HTTP 503 (or the
    /// gateway's error). 0: no limit (default).
    pub max_connections: usize,
    /// Most open connections from one client address (as [`crate::RemoteAddr`]
    /// gives it: behind a proxy, the proxy's); 0: no limit (default).
    pub max_connections_per_ip: usize,
    /// Inbound events a connection may send per second (Socket.IO events;
    /// plain `emit`, `join` and `leave` envelopes); events over it are
    /// dropped and counted. 0: no limit (default).
    pub max_event_rate: u32,
    /// Events a connection may send at once above the rate; 0: as many as
    /// the rate (default).
    pub event_burst: u32,
    /// How long a connection may stay over the event rate (events dropped
    /// with no pause of a second) before it is disconnected (default 5 s).
    pub event_rate_grace: Duration,
    /// Most rooms a socket may be in, its own room not counted; past it a
    /// join fails as a whole (default 1,000; 0: no limit).
    pub max_rooms_per_socket: usize,
    /// Most namespaces one Socket.IO connection may be connected to at once;
    /// one more gets a CONNECT_ERROR (default 100; 0: no limit).
    pub max_namespaces_per_connection: usize,
    /// Whether WebSocket connections (Engine.IO and `/ws`) may use
    /// permessage-deflate (RFC 7692) when the client offers it (default
    /// false). Negotiated without context takeover either way, so an idle
    /// connection costs nothing more.
    pub ws_deflate: bool,
    /// Messages from this size on, in bytes, are sent compressed on a
    /// connection that negotiated deflate (default 1024).
    pub ws_deflate_threshold: usize,
    /// The Socket.IO packet encoding every client of this server speaks:
    /// socket.io-parser's JSON (default) or socket.io-msgpack-parser's
    /// MessagePack. The plain transports keep their own envelope.
    pub parser: Parser,
    /// Whether Engine.IO revision 3 clients (socket.io-client 2.x, Socket.IO
    /// protocol v4) are served, as Node's `allowEIO3` (default false: their
    /// handshake is refused with code 5).
    pub allow_eio3: bool,
    /// Path prefix of the SockJS endpoints (default `/sockjs`; empty: off).
    pub sockjs_prefix: String,
    /// SockJS session timers and limits (heartbeat 25 s, session timeout
    /// 5 s after the receiving request goes, streaming responses end past
    /// 128 KiB).
    pub sockjs: SockJsConfig,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            path: "/socket.io/".into(),
            ping_interval: Duration::from_millis(25_000),
            ping_timeout: Duration::from_millis(20_000),
            upgrade_timeout: Duration::from_millis(10_000),
            max_payload: 1_000_000,
            connect_timeout: Duration::from_millis(45_000),
            ack_timeout: Duration::from_secs(5),
            transports: vec![TransportKind::Polling, TransportKind::WebSocket],
            cors: CorsOrigins::None,
            cors_credentials: false,
            queue_capacity: 1024,
            slow_consumer: SlowConsumerPolicy::Disconnect,
            max_attachments: 64,
            body_timeout: Duration::from_secs(10),
            history_size: 100,
            history_ttl: Duration::from_secs(300),
            history_max_rooms: 10_000,
            max_dynamic_namespaces: 1_000,
            plain_client_rooms: true,
            stream_heartbeat: Duration::from_secs(15),
            sse_retry: Duration::from_secs(3),
            plain_idle_timeout: Duration::from_secs(60),
            max_line: 64 * 1024,
            max_datagram: 8 * 1024,
            max_udp_clients: 10_000,
            api_key: None,
            recovery: RecoveryConfig::default(),
            max_connections: 0,
            max_connections_per_ip: 0,
            max_event_rate: 0,
            event_burst: 0,
            event_rate_grace: Duration::from_secs(5),
            max_rooms_per_socket: 1_000,
            max_namespaces_per_connection: 100,
            ws_deflate: false,
            ws_deflate_threshold: 1024,
            parser: Parser::Json,
            allow_eio3: false,
            sockjs_prefix: "/sockjs".into(),
            sockjs: SockJsConfig::default(),
        }
    }
}

impl Config {
    /// A builder starting from the defaults.
    pub fn builder() -> ConfigBuilder {
        ConfigBuilder(Config::default())
    }

    /// The Engine.IO session timers.
    pub(crate) fn session(&self) -> SessionConfig {
        SessionConfig {
            ping_interval: self.ping_interval,
            ping_timeout: self.ping_timeout,
            upgrade_timeout: self.upgrade_timeout,
        }
    }

    pub(crate) fn allows(&self, transport: TransportKind) -> bool {
        self.transports.contains(&transport)
    }
}

/// Builder for [`Config`].
#[derive(Debug, Clone)]
pub struct ConfigBuilder(Config);

macro_rules! setter {
    ($(#[$doc:meta])* $name:ident: $ty:ty) => {
        $(#[$doc])*
        pub fn $name(mut self, value: $ty) -> Self {
            self.0.$name = value;
            self
        }
    };
}

impl ConfigBuilder {
    /// Sets the endpoint path; a trailing slash is added when missing.
    pub fn path(mut self, path: impl Into<String>) -> Self {
        let mut path: String = path.into();
        if !path.starts_with('/') {
            path.insert(0, '/');
        }
        if !path.ends_with('/') {
            path.push('/');
        }
        self.0.path = path;
        self
    }
    setter!(/// Sets the ping interval.
        ping_interval: Duration);
    setter!(/// Sets the ping timeout.
        ping_timeout: Duration);
    setter!(/// Sets the upgrade timeout.
        upgrade_timeout: Duration);
    setter!(/// Sets the largest accepted payload, in bytes.
        max_payload: usize);
    setter!(/// Allows permessage-deflate on WebSocket connections (default false).
        ws_deflate: bool);
    setter!(/// Sets the size from which WebSocket messages are compressed (default 1024 bytes).
        ws_deflate_threshold: usize);
    setter!(/// Sets the namespace connect timeout.
        connect_timeout: Duration);
    setter!(/// Sets the default server→client ack timeout.
        ack_timeout: Duration);
    setter!(/// Sets the enabled transports.
        transports: Vec<TransportKind>);
    setter!(/// Sets the CORS origins.
        cors: CorsOrigins);
    setter!(/// Allows credentials on cross-origin requests.
        cors_credentials: bool);
    setter!(/// Sets the per-connection outbound queue capacity.
        queue_capacity: usize);
    setter!(/// Sets the slow-consumer policy.
        slow_consumer: SlowConsumerPolicy);
    setter!(/// Sets the most attachments per packet.
        max_attachments: usize);
    setter!(/// Sets the polling body timeout.
        body_timeout: Duration);
    setter!(/// Sets how many messages each room's history keeps (0: none).
        history_size: usize);
    setter!(/// Sets the age limit of room history.
        history_ttl: Duration);
    setter!(/// Sets how many rooms per namespace keep history.
        history_max_rooms: usize);
    setter!(/// Sets how many namespaces dynamic patterns may create.
        max_dynamic_namespaces: usize);
    setter!(/// Lets plain clients join, leave and publish to rooms directly.
        plain_client_rooms: bool);
    setter!(/// Sets the SSE / HTTP-streaming heartbeat interval.
        stream_heartbeat: Duration);
    setter!(/// Sets the reconnection delay sent to SSE clients.
        sse_retry: Duration);
    setter!(/// Sets the TCP/UDP idle timeout.
        plain_idle_timeout: Duration);
    setter!(/// Sets the longest accepted NDJSON line.
        max_line: usize);
    setter!(/// Sets the largest UDP datagram.
        max_datagram: usize);
    setter!(/// Sets the most UDP client sessions.
        max_udp_clients: usize);
    setter!(/// Sets (or clears) the HTTP API key.
        api_key: Option<String>);
    setter!(/// Sets connection-state recovery (window, caps).
        recovery: RecoveryConfig);

    /// Turns connection-state recovery on with this window (zero: off),
    /// keeping the other recovery settings.
    pub fn recovery_window(mut self, window: Duration) -> Self {
        self.0.recovery.window = window;
        self
    }
    setter!(/// Sets the most open connections (0: no limit).
        max_connections: usize);
    setter!(/// Sets the most open connections per client address (0: no limit).
        max_connections_per_ip: usize);
    setter!(/// Sets the inbound events per second per connection (0: no limit).
        max_event_rate: u32);
    setter!(/// Sets the event burst above the rate (0: as many as the rate).
        event_burst: u32);
    setter!(/// Sets how long a connection may stay over the event rate.
        event_rate_grace: Duration);
    setter!(/// Sets the most rooms per socket (0: no limit).
        max_rooms_per_socket: usize);
    setter!(/// Sets the most namespaces per Socket.IO connection (0: no limit).
        max_namespaces_per_connection: usize);
    setter!(/// Sets the Socket.IO packet encoding (JSON or MessagePack).
        parser: Parser);
    setter!(/// Serves Engine.IO revision 3 clients (socket.io-client 2.x).
        allow_eio3: bool);
    setter!(/// Sets the SockJS session timers and limits.
        sockjs: SockJsConfig);

    /// Sets the SockJS path prefix (a leading slash is added, a trailing
    /// one removed); empty turns SockJS off.
    pub fn sockjs_prefix(mut self, prefix: impl Into<String>) -> Self {
        let prefix: String = prefix.into();
        let trimmed = prefix.trim_end_matches('/');
        self.0.sockjs_prefix = match trimmed {
            "" => String::new(),
            p if p.starts_with('/') => p.to_owned(),
            p => format!("/{p}"),
        };
        self
    }

    /// The finished configuration.
    pub fn build(self) -> Config {
        self.0
    }
}

/// A builder starting from an existing configuration.
impl From<Config> for ConfigBuilder {
    fn from(config: Config) -> Self {
        ConfigBuilder(config)
    }
}
