//! Engine.IO over HTTP: query checks in the reference server's order,
//! handshakes, polling GET/POST, WebSocket upgrades (refused for a foreign
//! `Origin` when an origin list is set), CORS (`crate::cors`), and the
//! `{"code":N,"message":...}` error responses.

use super::conn::{Ctl, EngineConn};
use super::ws::{accept_key, negotiate_deflate, Source, WsConn};
use super::{actor, Engine, EngineHandler};
use crate::conn::Transport;
use crate::cors;
use crate::limits::{peer_ip, LimitError};
use crate::metrics::ErrorKind;
use crate::registry::ConnectionSlot;
use bytes::Bytes;
use http::header::{self, HeaderMap, HeaderValue};
use http::{Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full, Limited};
use std::sync::Arc;
use std::time::Instant;
use tokio::sync::oneshot;
use wirehub_proto::engineio::{
    CloseReason, EngineError, Framing, HandshakeQuery, OpenPacket, Packet, Payload, TransportKind,
};
use wirehub_proto::websocket::deflate::Agreement;

/// The body of every response the engine produces.
pub type ResponseBody = Full<Bytes>;

type Resp = Response<ResponseBody>;

impl<H: EngineHandler> Engine<H> {
    /// Whether `path` is this engine's endpoint (with or without trailing slash).
    pub fn matches_path(&self, path: &str) -> bool {
        let own = self.config.path.as_str();
        path == own || path == own.trim_end_matches('/')
    }

    /// Answers one Engine.IO request.
    pub async fn handle<B>(self: &Arc<Self>, req: Request<B>) -> Resp
    where
        B: http_body::Body + Send + 'static,
        B::Data: Send,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let origin = req.headers().get(header::ORIGIN).cloned();
        let mut resp = if req.method() == Method::OPTIONS {
            let mut resp = text_response(StatusCode::NO_CONTENT, Bytes::new(), "text/plain");
            cors::preflight(req.headers(), resp.headers_mut());
            resp
        } else if is_upgrade(req.headers()) && cors::refuses(&self.config, req.headers()) {
            // Browsers do not apply CORS to WebSocket: the server must.
            error_response(EngineError::Forbidden, Some(cors::REFUSED))
        } else {
            match self.route(req).await {
                Ok(resp) => resp,
                Err(e) => error_response(e, None),
            }
        };
        cors::apply(&self.config, origin.as_ref(), resp.headers_mut());
        resp
    }

    async fn route<B>(self: &Arc<Self>, mut req: Request<B>) -> Result<Resp, EngineError>
    where
        B: http_body::Body + Send + 'static,
        B::Data: Send,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let query = HandshakeQuery::parse(req.uri().query().unwrap_or(""))?;
        if !self.config.allows(query.transport) {
            return Err(EngineError::UnknownTransport);
        }
        let Some(sid) = query.sid.as_deref() else {
            let started = Instant::now();
            query.check_handshake(req.method() == Method::GET, self.config.allow_eio3)?;
            if let Some(allow) = &self.allow_request {
                let (parts, body) = req.into_parts();
                if let Err(message) = allow(&parts) {
                    return Ok(error_response(EngineError::Forbidden, Some(&message)));
                }
                req = Request::from_parts(parts, body);
            }
            let transport = match query.transport {
                TransportKind::Polling => Transport::Polling,
                TransportKind::WebSocket => Transport::WebSocket,
            };
            let slot = match self
                .connections
                .acquire(transport, peer_ip(req.extensions()))
            {
                Ok(slot) => slot,
                Err(limit) => return Ok(limit_response(limit)),
            };
            let framing = Framing::new(query.version, query.b64);
            return match query.transport {
                TransportKind::Polling => Ok(self.open_polling(req, slot, framing, started)),
                TransportKind::WebSocket => {
                    self.open_websocket(req, WsTarget::New(slot, framing), started)
                }
            };
        };
        let Some(conn) = self.get(sid) else {
            let owner = self
                .forwarder
                .as_ref()
                .and_then(|f| Some((f, f.target(sid, &req)?)));
            return match owner {
                Some((forwarder, owner)) => Ok(forwarder.forward(&owner, req).await),
                None => Err(EngineError::UnknownSid),
            };
        };
        if query.version != conn.protocol() {
            // As the reference server: no switching revisions mid-session.
            return Err(EngineError::BadRequest);
        }
        match query.transport {
            TransportKind::WebSocket => {
                if conn.transport() != Some(TransportKind::Polling) || conn.is_upgrading() {
                    // As the reference server does: accept, then close at once.
                    return self.open_websocket(req, WsTarget::Refuse, Instant::now());
                }
                self.open_websocket(req, WsTarget::Upgrade(conn), Instant::now())
            }
            TransportKind::Polling => {
                if conn.transport() != Some(TransportKind::Polling) {
                    return Err(EngineError::BadRequest);
                }
                match *req.method() {
                    Method::GET => poll(&conn).await,
                    Method::POST => {
                        let binary = is_octet_stream(req.headers());
                        self.post(&conn, req.into_body(), binary).await
                    }
                    _ => Err(EngineError::BadRequest),
                }
            }
        }
    }

    fn open_packet(&self, sid: &str, upgrades: bool) -> Packet {
        let upgrades = if upgrades && self.config.allows(TransportKind::WebSocket) {
            vec!["websocket".to_owned()]
        } else {
            Vec::new()
        };
        let open = OpenPacket {
            sid: sid.to_owned(),
            upgrades,
            ping_interval: self.config.ping_interval.as_millis() as u64,
            ping_timeout: self.config.ping_timeout.as_millis() as u64,
            max_payload: self.config.max_payload as u64,
        };
        Packet::Open(open.to_json().into())
    }

    fn open_polling<B>(
        self: &Arc<Self>,
        req: Request<B>,
        slot: ConnectionSlot,
        framing: Framing,
        started: Instant,
    ) -> Resp {
        let (parts, _) = req.into_parts();
        let conn = EngineConn::new(
            self.new_sid(),
            TransportKind::Polling,
            self.config.queue_capacity,
            self.config.slow_consumer,
            parts,
            framing,
        );
        let open = self.open_packet(conn.sid(), true).to_frame();
        let payload = framing.encode_payload(std::slice::from_ref(&open));
        self.insert(conn.clone(), slot);
        let metrics = self.connections.metrics();
        metrics.sent(open.len());
        metrics.handshake(started.elapsed());
        tokio::spawn(actor::run(self.clone(), conn, None, Instant::now()));
        payload_response(payload)
    }

    /// Accepts a WebSocket for a new session, an upgrade, or to close it;
    /// a new session's handshake began at `started`.
    fn open_websocket<B>(
        self: &Arc<Self>,
        mut req: Request<B>,
        target: WsTarget,
        started: Instant,
    ) -> Result<Resp, EngineError> {
        let key = websocket_key(&req).ok_or(EngineError::BadRequest)?;
        let deflate = negotiate_deflate(&req, self.config.ws_deflate);
        let on_upgrade = hyper::upgrade::on(&mut req);
        let (existing, slot, framing) = match target {
            WsTarget::New(slot, framing) => (None, Some(slot), framing),
            WsTarget::Upgrade(conn) => {
                conn.set_upgrading(true);
                (Some(conn), None, Framing::V4)
            }
            WsTarget::Refuse => {
                tokio::spawn(async move {
                    if let Ok(upgraded) = on_upgrade.await {
                        WsConn::accept(upgraded, 0, None).close().await;
                    }
                });
                return upgrade_response(key, None);
            }
        };
        let (parts, _) = req.into_parts();
        let setup = Box::new(WsSetup {
            on_upgrade,
            existing,
            slot,
            parts,
            framing,
            deflate: deflate.is_some(),
            started,
        });
        tokio::spawn(websocket_task(self.clone(), setup));
        upgrade_response(key, deflate)
    }

    /// A polling POST; `binary`: its body is `application/octet-stream`.
    async fn post<B>(
        &self,
        conn: &Arc<EngineConn>,
        body: B,
        binary: bool,
    ) -> Result<Resp, EngineError>
    where
        B: http_body::Body,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        if !conn.begin_post() {
            conn.close(CloseReason::TransportError);
            return Err(EngineError::BadRequest);
        }
        let result = self.read_post(conn, body, binary).await;
        conn.end_post();
        result
    }

    async fn read_post<B>(
        &self,
        conn: &Arc<EngineConn>,
        body: B,
        binary: bool,
    ) -> Result<Resp, EngineError>
    where
        B: http_body::Body,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let limited = Limited::new(body, self.config.max_payload);
        let collected = tokio::time::timeout(self.config.body_timeout, limited.collect()).await;
        let body = match collected {
            Ok(Ok(c)) => {
                let body = c.to_bytes();
                self.connections.metrics().received(body.len());
                body
            }
            Ok(Err(e)) => {
                let too_large = e
                    .downcast_ref::<http_body_util::LengthLimitError>()
                    .is_some();
                if too_large {
                    // As the reference server: refuse the body and keep the
                    // session; the client takes the 413 as a transport error
                    // and closes it.
                    return Ok(json_error(
                        StatusCode::PAYLOAD_TOO_LARGE,
                        EngineError::BadRequest,
                        "Payload too large",
                    ));
                }
                conn.close(CloseReason::TransportError);
                return Err(EngineError::BadRequest);
            }
            Err(_) => {
                conn.close(CloseReason::TransportError);
                return Err(EngineError::BadRequest);
            }
        };
        let packets = match conn.poll_framing().decode_payload(body, binary) {
            Ok(p) => p,
            Err(e) => {
                self.connections.metrics().error(ErrorKind::Parse);
                tracing::debug!(sid = %conn.sid(), error = %e, "bad polling payload");
                conn.close(CloseReason::ParseError);
                return Err(EngineError::BadRequest);
            }
        };
        let (done, wait) = oneshot::channel();
        if !conn.command(Ctl::Post(packets, done)) {
            return Err(EngineError::UnknownSid);
        }
        wait.await.map_err(|_| EngineError::UnknownSid)??;
        Ok(text_response(
            StatusCode::OK,
            Bytes::from_static(b"ok"),
            "text/html",
        ))
    }
}

/// What a WebSocket task starts from, boxed so that the task's future
/// (alive as long as the session) does not keep room for it.
struct WsSetup {
    on_upgrade: hyper::upgrade::OnUpgrade,
    existing: Option<Arc<EngineConn>>,
    /// A new session's place in the connection counts.
    slot: Option<ConnectionSlot>,
    parts: ::http::request::Parts,
    /// A new session's wire format.
    framing: Framing,
    /// The handshake agreed on permessage-deflate.
    deflate: bool,
    /// When the handshake request arrived.
    started: Instant,
}

/// The set-up of a WebSocket: the upgrade and the open packet. The session
/// then runs in a task of its own, so a connection's lasting allocation is
/// the session's state alone (the set-up's state would otherwise widen the
/// task for the connection's whole life).
async fn websocket_task<H: EngineHandler>(engine: Arc<Engine<H>>, setup: Box<WsSetup>) {
    if let Some((conn, ws)) = start_websocket(&engine, setup).await {
        tokio::spawn(actor::run(engine, conn, Some(ws), Instant::now()));
    }
}

/// Completes the upgrade: hands the WebSocket to the polling session it
/// upgrades, or opens a new session and returns it with its WebSocket.
async fn start_websocket<H: EngineHandler>(
    engine: &Arc<Engine<H>>,
    setup: Box<WsSetup>,
) -> Option<(Arc<EngineConn>, Box<WsConn>)> {
    let WsSetup {
        on_upgrade,
        existing,
        slot,
        parts,
        framing,
        deflate,
        started,
    } = *setup;
    let upgraded = match on_upgrade.await {
        Ok(u) => u,
        Err(e) => {
            tracing::debug!(error = %e, "websocket upgrade failed");
            if let Some(conn) = existing {
                conn.set_upgrading(false);
            }
            return None;
        }
    };
    let threshold = deflate.then_some(engine.config.ws_deflate_threshold);
    let mut ws = WsConn::accept(upgraded, engine.config.max_payload, threshold);
    if let Some(conn) = existing {
        if !conn.command(Ctl::Attach(Box::new(ws))) {
            conn.set_upgrading(false);
        }
        return None;
    }
    let slot = slot?;
    let config = &engine.config;
    let conn = EngineConn::new(
        engine.new_sid(),
        TransportKind::WebSocket,
        config.queue_capacity,
        config.slow_consumer,
        parts,
        framing,
    );
    let open = engine.open_packet(conn.sid(), false).to_frame();
    let open_len = open.len();
    ws.send(Source::Frames(&[open])).await.ok()?;
    engine.insert(conn.clone(), slot);
    let metrics = engine.connections.metrics();
    metrics.sent(open_len);
    metrics.handshake(started.elapsed());
    Some((conn, Box::new(ws)))
}

/// What an accepted WebSocket is for.
enum WsTarget {
    /// A new session, with its place in the connection counts and its
    /// wire format.
    New(ConnectionSlot, Framing),
    /// The upgrade of this polling session.
    Upgrade(Arc<EngineConn>),
    /// Nothing: the sid's session cannot be upgraded; close at once.
    Refuse,
}

/// The 101 answer to a WebSocket upgrade, with the permessage-deflate
/// agreement when there is one.
pub(crate) fn upgrade_response(
    key: String,
    deflate: Option<Agreement>,
) -> Result<Resp, EngineError> {
    let mut builder = Response::builder()
        .status(StatusCode::SWITCHING_PROTOCOLS)
        .header(header::CONNECTION, "Upgrade")
        .header(header::UPGRADE, "websocket")
        .header(header::SEC_WEBSOCKET_ACCEPT, key);
    if let Some(agreement) = deflate {
        builder = builder.header(header::SEC_WEBSOCKET_EXTENSIONS, agreement.response());
    }
    builder
        .body(Full::new(Bytes::new()))
        .map_err(|_| EngineError::BadRequest)
}

async fn poll(conn: &Arc<EngineConn>) -> Result<Resp, EngineError> {
    let (reply, wait) = oneshot::channel();
    if !conn.command(Ctl::Poll(reply)) {
        return Err(EngineError::UnknownSid);
    }
    match wait.await {
        Ok(Ok(payload)) => Ok(payload_response(payload)),
        Ok(Err(e)) => Err(e),
        Err(_) => Err(EngineError::UnknownSid),
    }
}

/// The client's `Sec-WebSocket-Key` turned into the accept value, if this is
/// a valid WebSocket upgrade request.
pub(crate) fn websocket_key<B>(req: &Request<B>) -> Option<String> {
    let h = req.headers();
    let has = |name: header::HeaderName, token: &str| {
        h.get_all(name).iter().any(|v| {
            v.to_str()
                .map(|s| s.split(',').any(|p| p.trim().eq_ignore_ascii_case(token)))
                .unwrap_or(false)
        })
    };
    if req.method() != Method::GET
        || !has(header::CONNECTION, "upgrade")
        || !has(header::UPGRADE, "websocket")
        || h.get(header::SEC_WEBSOCKET_VERSION).map(|v| v.as_bytes()) != Some(b"13")
    {
        return None;
    }
    h.get(header::SEC_WEBSOCKET_KEY)
        .map(|k| accept_key(k.as_bytes()))
}

/// Whether a request asks for a WebSocket upgrade.
fn is_upgrade(headers: &HeaderMap) -> bool {
    headers
        .get(header::UPGRADE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("websocket"))
}

/// A polling answer: text, or a revision 3 binary payload.
fn payload_response(payload: Payload) -> Resp {
    let content_type = if payload.binary {
        "application/octet-stream"
    } else {
        "text/plain; charset=UTF-8"
    };
    text_response(StatusCode::OK, payload.body, content_type)
}

/// Whether a request body is typed `application/octet-stream`.
fn is_octet_stream(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(';').next().unwrap_or("").trim() == "application/octet-stream")
}

fn text_response(status: StatusCode, body: Bytes, content_type: &'static str) -> Resp {
    let mut resp = Response::new(Full::new(body));
    *resp.status_mut() = status;
    resp.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    resp
}

fn json_error(status: StatusCode, error: EngineError, message: &str) -> Resp {
    let body = Bytes::from(error.to_json(Some(message)));
    text_response(status, body, "application/json")
}

/// The refusal of a handshake past a connection limit: 503 with
/// `{"code":N,"message":"..."}` naming the limit.
fn limit_response(limit: LimitError) -> Resp {
    let mut resp = text_response(
        StatusCode::SERVICE_UNAVAILABLE,
        Bytes::from(limit.to_json()),
        "application/json",
    );
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

/// The reference server's error response for `error`.
pub(crate) fn error_response(error: EngineError, message: Option<&str>) -> Resp {
    let status = StatusCode::from_u16(error.http_status()).unwrap_or(StatusCode::BAD_REQUEST);
    text_response(
        status,
        Bytes::from(error.to_json(message)),
        "application/json",
    )
}
