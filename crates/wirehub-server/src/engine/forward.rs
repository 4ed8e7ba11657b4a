//! No sticky sessions: a request for an Engine.IO session that another node
//! owns (a long-polling GET or POST, or a WebSocket upgrade, sent here by a
//! load balancer without affinity) is forwarded to that node over HTTP and
//! its answer passed back; an upgrade becomes a byte pipe between the
//! client and the owner once both sides switched protocols.
//!
//! Which node owns a session is for a [`SessionLocator`] to say: in a
//! cluster, session ids start with the owning node's tag, and the nodes
//! tell each other the address behind each tag
//! (`crate::cluster::NodeDirectory`). A forwarded request carries
//! [`FORWARDED`], so it is never forwarded twice.

use super::http::ResponseBody;
use bytes::{Buf, Bytes};
use http::header::{self, HeaderValue};
use http::{Request, Response, StatusCode, Uri};
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioIo};
use std::sync::Arc;
use std::time::Duration;
use wirehub_proto::Str;

/// The header a forwarded request carries.
pub const FORWARDED: &str = "x-wirehub-forwarded";

/// Tells which node owns a session.
pub trait SessionLocator: Send + Sync + 'static {
    /// The prefix of the session ids this node hands out (its tag).
    fn sid_prefix(&self) -> Option<Str>;

    /// The base URL (`http://host:port`) of the node that owns session
    /// `sid`, when it is another node that this one knows.
    fn owner(&self, sid: &str) -> Option<String>;
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;
type Body = UnsyncBoxBody<Bytes, BoxError>;

/// How long a forwarded request may take: a long-poll waits up to the ping
/// interval, so this is generous; the owner answers sooner.
const FORWARD_TIMEOUT: Duration = Duration::from_secs(120);

/// Forwards requests to the nodes that own their sessions.
pub(crate) struct Forwarder {
    locator: Arc<dyn SessionLocator>,
    client: Client<HttpConnector, Body>,
}

impl Forwarder {
    pub(crate) fn new(locator: Arc<dyn SessionLocator>) -> Self {
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        let client = Client::builder(TokioExecutor::new())
            .pool_idle_timeout(Duration::from_secs(30))
            .build(connector);
        Forwarder { locator, client }
    }

    pub(crate) fn locator(&self) -> &Arc<dyn SessionLocator> {
        &self.locator
    }

    /// The owner to forward `req` to, if another node owns `sid` and the
    /// request was not forwarded already.
    pub(crate) fn target<B>(&self, sid: &str, req: &Request<B>) -> Option<String> {
        if req.headers().contains_key(FORWARDED) {
            return None;
        }
        self.locator.owner(sid)
    }

    /// Sends `req` to `owner` and answers with its response; an upgrade is
    /// piped through once both sides switched.
    pub(crate) async fn forward<B>(
        &self,
        owner: &str,
        mut req: Request<B>,
    ) -> Response<ResponseBody>
    where
        B: http_body::Body + Send + 'static,
        B::Data: Send,
        B::Error: Into<BoxError>,
    {
        let upgrade = is_upgrade(&req);
        let client_upgrade = upgrade.then(|| hyper::upgrade::on(&mut req));
        let (mut parts, body) = req.into_parts();
        let path = parts.uri.path_and_query().map_or("/", |p| p.as_str());
        let Ok(uri) = format!("{owner}{path}").parse::<Uri>() else {
            return bad_gateway("bad owner address");
        };
        parts.uri = uri;
        if !upgrade {
            strip_hop_by_hop(&mut parts.headers);
        }
        parts.headers.remove(header::HOST);
        parts
            .headers
            .insert(FORWARDED, HeaderValue::from_static("1"));
        let body: Body = body
            .map_frame(|f| f.map_data(|mut d| d.copy_to_bytes(d.remaining())))
            .map_err(Into::into)
            .boxed_unsync();
        let sent = tokio::time::timeout(
            FORWARD_TIMEOUT,
            self.client.request(Request::from_parts(parts, body)),
        )
        .await;
        let mut resp = match sent {
            Ok(Ok(resp)) => resp,
            Ok(Err(e)) => {
                tracing::debug!(%owner, error = %e, "forwarding failed");
                return bad_gateway("the session's node is unreachable");
            }
            Err(_) => return bad_gateway("the session's node did not answer"),
        };
        if let (Some(client_upgrade), StatusCode::SWITCHING_PROTOCOLS) =
            (client_upgrade, resp.status())
        {
            let owner_upgrade = hyper::upgrade::on(&mut resp);
            tokio::spawn(pipe(client_upgrade, owner_upgrade));
            let (parts, _) = resp.into_parts();
            return Response::from_parts(parts, Full::new(Bytes::new()));
        }
        let (mut parts, body) = resp.into_parts();
        strip_hop_by_hop(&mut parts.headers);
        match body.collect().await {
            Ok(collected) => Response::from_parts(parts, Full::new(collected.to_bytes())),
            Err(_) => bad_gateway("the session's node broke off its answer"),
        }
    }
}

/// Copies bytes both ways between a client and the owning node.
async fn pipe(client: hyper::upgrade::OnUpgrade, owner: hyper::upgrade::OnUpgrade) {
    let (Ok(client), Ok(owner)) = (client.await, owner.await) else {
        return;
    };
    let (mut client, mut owner) = (TokioIo::new(client), TokioIo::new(owner));
    let _ = tokio::io::copy_bidirectional(&mut client, &mut owner).await;
}

fn is_upgrade<B>(req: &Request<B>) -> bool {
    req.headers()
        .get(header::UPGRADE)
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"websocket"))
}

/// Removes the headers that concern one connection, not the request.
fn strip_hop_by_hop(headers: &mut http::HeaderMap) {
    for name in [
        header::CONNECTION,
        header::TRANSFER_ENCODING,
        header::UPGRADE,
        header::TE,
        header::TRAILER,
        header::PROXY_AUTHORIZATION,
    ] {
        headers.remove(name);
    }
    headers.remove("keep-alive");
}

/// A session whose node cannot be reached is as good as gone: the client
/// gets what it gets for an unknown session, and starts a new one.
fn bad_gateway(why: &str) -> Response<ResponseBody> {
    tracing::debug!(why, "forwarded request failed");
    super::http::error_response(wirehub_proto::engineio::EngineError::UnknownSid, None)
}
