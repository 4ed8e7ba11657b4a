//! The raw TCP gateway: NDJSON envelopes both ways on a plain TCP stream.
//! The first line may be a `connect` envelope choosing the namespace and
//! auth (and carrying the JWT `token` when the server requires one: without
//! a valid one the client gets an `unauthorized` error line and is closed);
//! otherwise the client is connected to `/` and the line is handled
//! as usual. A client silent for the idle timeout is dropped (a `ping`
//! keeps it alive); a line over the limit gets a `too_large` error and the
//! connection is closed; a client that stops reading blocks only its own
//! driver and is closed after the write timeout or when its bounded queue
//! overflows. [`serve_tcp_tls`] serves the same over TLS.

use super::driver::{drive, Ending, Input, PlainIo};
use super::gate::admit_token;
use super::hub::PlainHub;
use crate::conn::{envelopes, PlainConn, PlainOut};
use crate::io::Transport;
use crate::tls::TlsListener;
use crate::RemoteAddr;
use bytes::{Bytes, BytesMut};
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::time::Instant;
use wirehub_proto::engineio::CloseReason;
use wirehub_proto::plain::{codes, encode_error, parse_client, ClientMsg, LineDecoder, LineError};
use wirehub_proto::Str;

const READ_CHUNK: usize = 4096;

/// Serves plain TCP clients of `hub` on `listener` until `shutdown` completes.
pub async fn serve_tcp(
    hub: Arc<PlainHub>,
    listener: TcpListener,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            () = &mut shutdown => return Ok(()),
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    let _ = stream.set_nodelay(true);
                    let (read, write) = stream.into_split();
                    tokio::spawn(connection(hub.clone(), read, write, peer));
                }
                Err(e) => {
                    // Out of file descriptors and the like: back off, go on.
                    tracing::warn!(error = %e, "tcp accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
        }
    }
}

/// Serves plain TCP clients of `hub` over TLS on `listener` until
/// `shutdown` completes. A failed or timed-out TLS handshake drops just
/// that connection.
pub async fn serve_tcp_tls(
    hub: Arc<PlainHub>,
    listener: TlsListener,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            () = &mut shutdown => return Ok(()),
            accepted = listener.accept_tcp() => match accepted {
                Ok((handshake, peer)) => {
                    let hub = hub.clone();
                    tokio::spawn(async move {
                        let draining = hub.draining();
                        let stream = tokio::select! {
                            stream = handshake => stream,
                            () = draining => return,
                        };
                        match stream {
                            Ok(stream) => {
                                let (read, write) = tokio::io::split(stream);
                                connection(hub, read, write, peer).await;
                            }
                            Err(e) => tracing::debug!(error = %e, %peer, "tcp TLS handshake failed"),
                        }
                    });
                }
                Err(e) => {
                    tracing::warn!(error = %e, "tcp accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
        }
    }
}

/// A synthetic request head for a non-HTTP client: its URI names the
/// transport and peer, its extensions hold [`RemoteAddr`].
pub(crate) fn synthetic_request(scheme: &str, peer: SocketAddr) -> http::request::Parts {
    let uri = format!("{scheme}://{peer}/");
    let mut req = http::Request::builder()
        .uri(uri)
        .body(())
        .unwrap_or_default();
    req.extensions_mut().insert(RemoteAddr(peer));
    req.into_parts().0
}

struct Reader<R> {
    half: R,
    lines: LineDecoder,
    idle: Duration,
    /// When the client will have been silent too long.
    deadline: Instant,
}

enum Read {
    Line(Bytes),
    TooLong(usize),
    Eof,
    Idle,
}

impl<R: AsyncRead + Unpin> Reader<R> {
    /// The next line, or why there is none.
    async fn next(&mut self) -> Read {
        loop {
            match self.lines.next_line() {
                Some(Ok(line)) => return Read::Line(line),
                Some(Err(LineError::TooLong { max })) => return Read::TooLong(max),
                _ => {}
            }
            let buf = self.lines.buffer_mut();
            buf.reserve(READ_CHUNK);
            match tokio::time::timeout_at(self.deadline, self.half.read_buf(buf)).await {
                Ok(Ok(0)) | Ok(Err(_)) => return Read::Eof,
                Ok(Ok(_)) => self.deadline = Instant::now() + self.idle,
                Err(_) => return Read::Idle,
            }
        }
    }
}

async fn connection<R, W>(hub: Arc<PlainHub>, read: R, mut write: W, peer: SocketAddr)
where
    R: AsyncRead + Unpin + Send,
    W: AsyncWrite + Unpin + Send,
{
    let config = hub.config();
    // Counted from the accept: a client that says nothing holds a place too.
    let _task = hub.track();
    let slot = match hub.acquire(Transport::Tcp, Some(peer.ip())) {
        Ok(slot) => slot,
        Err(limit) => return refuse(&mut write, limit.plain_code(), &limit.to_string()).await,
    };
    let mut reader = Reader {
        half: read,
        lines: LineDecoder::new(config.max_line),
        idle: config.plain_idle_timeout,
        deadline: Instant::now() + config.plain_idle_timeout,
    };
    let draining = hub.draining();
    let first = tokio::select! {
        read = reader.next() => read,
        // A client that said nothing yet has no session to close: end it here.
        () = draining => return refuse(&mut write, codes::UNAVAILABLE, "server shutting down").await,
    };
    let first = match first {
        Read::Line(line) => line,
        Read::TooLong(max) => return refuse(&mut write, codes::TOO_LARGE, &too_long(max)).await,
        Read::Idle => return refuse(&mut write, codes::IDLE_TIMEOUT, "idle timeout").await,
        Read::Eof => return,
    };
    let (ns, auth, token, pending) = match parse_client(first.clone()) {
        Ok(ClientMsg::Connect { ns, auth, token }) => (ns, auth, token, None),
        Ok(_) => (None, None, None, Some(first)),
        Err(e) => return refuse(&mut write, e.code(), &e.to_string()).await,
    };
    let ns = ns.unwrap_or_else(|| Str::from_static("/"));
    let mut request = synthetic_request("tcp", peer);
    if let Err(e) = admit_token(&hub, token.as_deref(), &mut request) {
        return refuse(&mut write, codes::UNAUTHORIZED, &e.to_string()).await;
    }
    let session = match hub.open(Transport::Tcp, slot, request, &ns, auth).await {
        Ok(session) => session,
        Err((_, conn)) => {
            let _ = write_batch(&mut write, &conn, config.body_timeout).await;
            let _ = write.shutdown().await;
            return;
        }
    };
    let io = TcpIo {
        reader,
        write,
        write_timeout: config.body_timeout,
    };
    drive(session, io, pending).await;
}

/// A TCP client: NDJSON lines both ways.
struct TcpIo<R, W> {
    reader: Reader<R>,
    write: W,
    write_timeout: Duration,
}

impl<R, W> PlainIo for TcpIo<R, W>
where
    R: AsyncRead + Unpin + Send,
    W: AsyncWrite + Unpin + Send,
{
    async fn read(&mut self, conn: &PlainConn) -> Input {
        match self.reader.next().await {
            Read::Line(line) => Input::Envelope(line),
            Read::TooLong(max) => {
                conn.send_error(codes::TOO_LARGE, &too_long(max), None);
                Input::End(Ending::quiet(CloseReason::ParseError))
            }
            Read::Idle => {
                conn.send_error(codes::IDLE_TIMEOUT, "idle timeout", None);
                Input::End(Ending::quiet(CloseReason::PingTimeout))
            }
            Read::Eof => Input::End(Ending::quiet(CloseReason::TransportClose)),
        }
    }

    async fn write(&mut self, batch: &[PlainOut]) -> Result<(), CloseReason> {
        write_lines(&mut self.write, &envelopes(batch), self.write_timeout).await
    }

    async fn finish(mut self, rest: Vec<PlainOut>, ending: Ending) {
        if ending.reason != CloseReason::TransportClose {
            let _ = write_lines(&mut self.write, &envelopes(&rest), self.write_timeout).await;
        }
        let _ = self.write.shutdown().await;
    }
}

fn too_long(max: usize) -> String {
    format!("line over {max} bytes")
}

/// Answers a client that never got a session: one error line, then close.
async fn refuse(write: &mut (impl AsyncWrite + Unpin), code: &str, message: &str) {
    let envelope = encode_error(code, message, None, None);
    let _ = write_lines(write, &[envelope], Duration::from_secs(1)).await;
    let _ = write.shutdown().await;
}

/// Writes whatever is still queued on `conn`.
async fn write_batch(
    write: &mut (impl AsyncWrite + Unpin),
    conn: &PlainConn,
    timeout: Duration,
) -> Result<(), CloseReason> {
    let rest = conn.mailbox.take_out(usize::MAX);
    write_lines(write, &envelopes(&rest), timeout).await
}

/// Writes envelopes as NDJSON lines in one write. A peer that did not read
/// for `timeout` is a slow consumer; a failed write is a transport error.
async fn write_lines(
    write: &mut (impl AsyncWrite + Unpin),
    envelopes: &[Bytes],
    timeout: Duration,
) -> Result<(), CloseReason> {
    let mut buf = BytesMut::new();
    for envelope in envelopes {
        buf.extend_from_slice(envelope);
        buf.extend_from_slice(b"\n");
    }
    if buf.is_empty() {
        return Ok(());
    }
    match tokio::time::timeout(timeout, write.write_all(&buf)).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(_)) => Err(CloseReason::TransportError),
        Err(_) => {
            tracing::debug!("tcp client stopped reading; closing");
            Err(CloseReason::SlowConsumer)
        }
    }
}
