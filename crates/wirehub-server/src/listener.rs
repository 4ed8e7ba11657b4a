//! [`Listener`]: what [`crate::serve`] accepts connections from, in the
//! style of axum's `serve::Listener`. A listener yields each connection as
//! a handshake future, run in the connection's own task, so a slow one
//! (a TLS handshake, say) never holds up the accept loop. A TLS listener
//! wraps a [`tokio::net::TcpListener`] and turns its handshake into a TLS
//! accept over the TCP stream.

use std::future::{ready, Future, Ready};
use std::io;
use std::net::SocketAddr;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};

/// A source of client connections.
pub trait Listener: Send + 'static {
    /// The stream HTTP runs over.
    type Io: AsyncRead + AsyncWrite + Unpin + Send + 'static;
    /// Turns an accepted connection into [`Listener::Io`] (TLS), in the
    /// connection's task; its error drops just that connection.
    type Handshake: Future<Output = io::Result<Self::Io>> + Send + 'static;

    /// The next connection and its peer's address. An error (out of file
    /// descriptors and the like) is logged and the loop goes on after a
    /// short pause.
    fn accept(&mut self) -> impl Future<Output = io::Result<(Self::Handshake, SocketAddr)>> + Send;

    /// The address the listener is bound to.
    fn local_addr(&self) -> io::Result<SocketAddr>;
}

impl Listener for TcpListener {
    type Io = TcpStream;
    type Handshake = Ready<io::Result<TcpStream>>;

    async fn accept(&mut self) -> io::Result<(Self::Handshake, SocketAddr)> {
        let (stream, addr) = TcpListener::accept(self).await?;
        // Without it each small write can wait ~40 ms on delayed ACKs.
        let _ = stream.set_nodelay(true);
        Ok((ready(Ok(stream)), addr))
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        TcpListener::local_addr(self)
    }
}
