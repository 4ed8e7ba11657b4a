//! [`ClientBuilder`]: the connection's options (URL, transport, headers,
//! query, reconnection, timeouts, TLS roots), the options of the socket of
//! the URL's namespace (auth, handlers), then `connect` or `manager`.

use crate::backoff::Reconnection;
use crate::config::{normalize_path, Config, Transport};
use crate::error::Error;
use crate::handler::{Handler, Lifecycle};
use crate::manager::{listener, Listener, Manager, ManagerEvent};
use crate::net::Tls;
use crate::socket::{Socket, SocketOptions};
use crate::url::{encode_component, ServerUrl};
use http::{HeaderMap, HeaderName, HeaderValue};
use serde::Serialize;
use std::future::Future;
use std::time::Duration;
use wirehub_proto::socketio::Parser;

/// Builds a client: a [`Manager`] (the connection) and, with
/// [`Self::connect`], the socket of the URL's namespace.
///
/// ```no_run
/// # async fn run() -> Result<(), wirehub_client::Error> {
/// use wirehub_client::{AckSender, ClientBuilder, Data, Reconnection, Transport};
/// let socket = ClientBuilder::new("http://127.0.0.1:3000")
///     .transport(Transport::WebSocket)
///     .auth(&serde_json::json!({ "token": "abc" }))
///     .reconnection(Reconnection::default().attempts(10))
///     .on("news", |Data(news): Data<serde_json::Value>| async move { println!("{news}") })
///     .on("question", |ack: AckSender| async move { let _ = ack.send("42"); })
///     .connect()
///     .await?;
/// let reply: String = socket.emit_with_ack("join", "lobby").await?;
/// socket.disconnect().await;
/// # Ok(()) }
/// ```
pub struct ClientBuilder {
    url: String,
    path: String,
    transport: Transport,
    headers: Vec<(String, String)>,
    query: Vec<(String, String)>,
    reconnection: Reconnection,
    connect_timeout: Duration,
    ack_timeout: Duration,
    upgrade_timeout: Duration,
    buffer_emits: bool,
    max_attachments: usize,
    parser: Parser,
    roots: Vec<Vec<u8>>,
    namespace: Option<String>,
    socket: SocketOptions,
    listeners: Vec<Listener>,
}

impl std::fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("url", &self.url)
            .field("path", &self.path)
            .field("transport", &self.transport)
            .field("reconnection", &self.reconnection)
            .finish_non_exhaustive()
    }
}

impl ClientBuilder {
    /// A client of `url`: `http://`, `https://`, `ws://` or `wss://`; the
    /// URL's path names the namespace (`http://host/chat` → `/chat`).
    pub fn new(url: impl Into<String>) -> Self {
        ClientBuilder {
            url: url.into(),
            path: "/socket.io/".into(),
            transport: Transport::default(),
            headers: Vec::new(),
            query: Vec::new(),
            reconnection: Reconnection::default(),
            connect_timeout: Duration::from_secs(20),
            ack_timeout: Duration::from_secs(5),
            upgrade_timeout: Duration::from_secs(10),
            buffer_emits: true,
            max_attachments: 64,
            parser: Parser::Json,
            roots: Vec::new(),
            namespace: None,
            socket: SocketOptions::default(),
            listeners: Vec::new(),
        }
    }

    /// The Engine.IO endpoint path (default `/socket.io/`).
    pub fn path(mut self, path: impl Into<String>) -> Self {
        self.path = path.into();
        self
    }

    /// The transport(s) to use (default [`Transport::Upgrade`]).
    pub fn transport(mut self, transport: Transport) -> Self {
        self.transport = transport;
        self
    }

    /// Adds a header to every HTTP request and the WebSocket handshake.
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Adds a query pair to every request (the server sees it in
    /// `socket.handshake.query`).
    pub fn query(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.query.push((key.into(), value.into()));
        self
    }

    /// The reconnection policy (default: forever, 1 s doubling to 5 s, ±50 %).
    pub fn reconnection(mut self, reconnection: Reconnection) -> Self {
        self.reconnection = reconnection;
        self
    }

    /// How long connecting may take, handshake and namespace (default 20 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// How long an ack may take unless an emit says otherwise (default 5 s).
    pub fn ack_timeout(mut self, timeout: Duration) -> Self {
        self.ack_timeout = timeout;
        self
    }

    /// How long the WebSocket upgrade probe may take (default 10 s).
    pub fn upgrade_timeout(mut self, timeout: Duration) -> Self {
        self.upgrade_timeout = timeout;
        self
    }

    /// Whether emits made while disconnected are kept and sent after
    /// reconnecting (default `true`, as the official client).
    pub fn buffer_emits(mut self, buffer: bool) -> Self {
        self.buffer_emits = buffer;
        self
    }

    /// The most binary attachments accepted per packet (default 64).
    pub fn max_attachments(mut self, max: usize) -> Self {
        self.max_attachments = max;
        self
    }

    /// The Socket.IO packet encoding (default [`Parser::Json`]);
    /// [`Parser::MsgPack`] for a server using socket.io-msgpack-parser
    /// (`wirehub serve --parser msgpack`). It must match the server's.
    pub fn parser(mut self, parser: Parser) -> Self {
        self.parser = parser;
        self
    }

    /// Also trusts this DER-encoded root certificate (e.g. a private CA).
    pub fn add_root_certificate(mut self, der: impl Into<Vec<u8>>) -> Self {
        self.roots.push(der.into());
        self
    }

    /// The namespace [`Self::connect`] joins, instead of the URL's path.
    pub fn namespace(mut self, ns: impl Into<String>) -> Self {
        self.namespace = Some(ns.into());
        self
    }

    /// Sets the auth payload (a JSON object) of the socket [`Self::connect`] opens.
    pub fn auth<T: Serialize + ?Sized>(mut self, auth: &T) -> Self {
        self.socket.auth(auth);
        self
    }

    /// Adds a handler for server event `event` (extractors: see [`crate::extract`]).
    pub fn on<H: Handler<T>, T: 'static>(mut self, event: impl Into<String>, handler: H) -> Self {
        self.socket.on(event.into(), handler);
        self
    }

    /// Adds a handler for every server event.
    pub fn on_any<H: Handler<T>, T: 'static>(mut self, handler: H) -> Self {
        self.socket.on_any(handler);
        self
    }

    /// Adds a handler called on every (re)connection.
    pub fn on_connect<H: Handler<T>, T: 'static>(mut self, handler: H) -> Self {
        self.socket.lifecycle(Lifecycle::Connect, handler);
        self
    }

    /// Adds a handler called when connecting fails (take [`Error`]).
    pub fn on_connect_error<H: Handler<T>, T: 'static>(mut self, handler: H) -> Self {
        self.socket.lifecycle(Lifecycle::ConnectError, handler);
        self
    }

    /// Adds a handler called on disconnection (take [`crate::DisconnectReason`]).
    pub fn on_disconnect<H: Handler<T>, T: 'static>(mut self, handler: H) -> Self {
        self.socket.lifecycle(Lifecycle::Disconnect, handler);
        self
    }

    /// Adds a listener of every [`ManagerEvent`].
    pub fn on_manager_event<F, Fut>(mut self, f: F) -> Self
    where
        F: Fn(ManagerEvent) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        self.listeners.push(listener(|e| Some(e.clone()), f));
        self
    }

    /// Called with the attempt number (from 1) before each reconnection attempt.
    pub fn on_reconnect_attempt<F, Fut>(mut self, f: F) -> Self
    where
        F: Fn(u32) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let select = |e: &ManagerEvent| match e {
            ManagerEvent::ReconnectAttempt(n) => Some(*n),
            _ => None,
        };
        self.listeners.push(listener(select, f));
        self
    }

    /// Called with the number of attempts it took once reconnected.
    pub fn on_reconnect<F, Fut>(mut self, f: F) -> Self
    where
        F: Fn(u32) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let select = |e: &ManagerEvent| match e {
            ManagerEvent::Reconnect(n) => Some(*n),
            _ => None,
        };
        self.listeners.push(listener(select, f));
        self
    }

    /// Called with the error of each failed reconnection attempt.
    pub fn on_reconnect_error<F, Fut>(mut self, f: F) -> Self
    where
        F: Fn(Error) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let select = |e: &ManagerEvent| match e {
            ManagerEvent::ReconnectError(err) => Some(err.clone()),
            _ => None,
        };
        self.listeners.push(listener(select, f));
        self
    }

    /// Called once reconnection gives up.
    pub fn on_reconnect_failed<F, Fut>(mut self, f: F) -> Self
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let select = |e: &ManagerEvent| matches!(e, ManagerEvent::ReconnectFailed).then_some(());
        self.listeners.push(listener(select, move |()| f()));
        self
    }

    /// Builds the connection without joining a namespace; open sockets with
    /// [`Manager::socket`]. The socket options of this builder (auth,
    /// handlers) are not used.
    pub fn manager(self) -> Result<Manager, Error> {
        self.split().map(|(manager, _, _)| manager)
    }

    /// Connects and joins the namespace of the URL (or [`Self::namespace`]).
    ///
    /// Fails with the first error: an unreachable server, a 404 (wrong
    /// path), a refused namespace (CONNECT_ERROR), a TLS failure, a
    /// timeout. Reconnection applies to connections lost afterwards.
    pub async fn connect(self) -> Result<Socket, Error> {
        let (manager, ns, socket) = self.split()?;
        socket.connect(manager.clone(), ns).await
    }

    fn split(self) -> Result<(Manager, wirehub_proto::Str, SocketOptions), Error> {
        let url = ServerUrl::parse(&self.url)?;
        let ns = crate::manager::normalize_ns(self.namespace.as_deref().unwrap_or(&url.namespace));
        let mut headers = HeaderMap::new();
        for (name, value) in &self.headers {
            let name = HeaderName::try_from(name.trim())
                .map_err(|e| Error::InvalidOption(format!("header name {name:?}: {e}")))?;
            let value = HeaderValue::try_from(value.trim())
                .map_err(|e| Error::InvalidOption(format!("header value {value:?}: {e}")))?;
            headers.append(name, value);
        }
        let query = self
            .query
            .iter()
            .map(|(k, v)| format!("{}={}", encode_component(k), encode_component(v)))
            .collect::<Vec<_>>()
            .join("&");
        let config = Config {
            url,
            path: normalize_path(&self.path),
            transport: self.transport,
            headers,
            query,
            reconnection: self.reconnection,
            connect_timeout: self.connect_timeout,
            ack_timeout: self.ack_timeout,
            upgrade_timeout: self.upgrade_timeout,
            buffer_emits: self.buffer_emits,
            max_attachments: self.max_attachments,
            parser: self.parser,
            tls: Tls::with_roots(self.roots),
        };
        Ok((Manager::new(config, self.listeners), ns, self.socket))
    }
}
