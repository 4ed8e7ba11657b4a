//! [`TlsListener`]: a TCP listener whose connections become TLS streams.
//! The TLS accept runs as the connection's handshake future, in its own
//! task, so a slow or silent client holds up nobody else; it is bounded by
//! a timeout so such a client cannot hold its slot for ever either.

use super::config::TlsConfig;
use crate::listener::Listener;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};

/// How long a client has to finish the TLS handshake by default.
pub const DEFAULT_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// A TCP listener serving TLS; pass it to [`crate::serve`].
#[derive(Debug)]
pub struct TlsListener {
    tcp: TcpListener,
    tls: TlsConfig,
    handshake_timeout: Duration,
}

impl TlsListener {
    /// Serves TLS with `tls` on the connections of `tcp`.
    pub fn new(tcp: TcpListener, tls: TlsConfig) -> Self {
        TlsListener {
            tcp,
            tls,
            handshake_timeout: DEFAULT_HANDSHAKE_TIMEOUT,
        }
    }

    /// How long a client has to finish the handshake before its connection
    /// is dropped (default [`DEFAULT_HANDSHAKE_TIMEOUT`]).
    pub fn handshake_timeout(mut self, timeout: Duration) -> Self {
        self.handshake_timeout = timeout;
        self
    }

    /// The next TCP connection, with its TLS handshake still to run.
    pub(crate) async fn accept_tcp(&self) -> io::Result<(Handshake, SocketAddr)> {
        let (tcp, addr) = self.tcp.accept().await?;
        // Without it each small write can wait ~40 ms on delayed ACKs.
        let _ = tcp.set_nodelay(true);
        let accept = self.tls.acceptor().accept(tcp);
        let timeout = self.handshake_timeout;
        let handshake = async move {
            match tokio::time::timeout(timeout, accept).await {
                Ok(stream) => stream.map(TlsStream),
                Err(_) => Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    format!("TLS handshake not done within {timeout:?}"),
                )),
            }
        };
        Ok((Box::pin(handshake), addr))
    }
}

/// A connection's TLS handshake, bounded by the listener's timeout.
pub(crate) type Handshake = Pin<Box<dyn Future<Output = io::Result<TlsStream>> + Send>>;

impl Listener for TlsListener {
    type Io = TlsStream;
    type Handshake = Handshake;

    async fn accept(&mut self) -> io::Result<(Handshake, SocketAddr)> {
        self.accept_tcp().await
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        self.tcp.local_addr()
    }
}

/// A server-side TLS connection over TCP.
#[derive(Debug)]
pub struct TlsStream(tokio_rustls::server::TlsStream<TcpStream>);

impl AsyncRead for TlsStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_read(cx, buf)
    }
}

impl AsyncWrite for TlsStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.0).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.0).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.0.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_shutdown(cx)
    }
}
