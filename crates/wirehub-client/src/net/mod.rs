//! Byte streams to the server: TCP (with `TCP_NODELAY`), optionally wrapped
//! in TLS (rustls with the `ring` provider and the webpki root store), with
//! connection failures mapped to [`Error`] variants.

mod stream;
mod tls;

pub(crate) use stream::Stream;
pub(crate) use tls::Tls;

use crate::error::Error;
use crate::url::ServerUrl;
use std::io::ErrorKind;
use std::sync::Arc;
use tokio::net::TcpStream;

/// Opens a stream to the server of `url`.
pub(crate) async fn connect(url: &ServerUrl, tls: &Tls) -> Result<Stream, Error> {
    let addr = url.authority();
    let tcp = TcpStream::connect((url.host.as_str(), url.port))
        .await
        .map_err(|e| match e.kind() {
            ErrorKind::ConnectionRefused => Error::ConnectionRefused { addr: addr.clone() },
            _ => Error::Connect {
                addr: addr.clone(),
                source: Arc::new(e),
            },
        })?;
    let _ = tcp.set_nodelay(true);
    if !url.secure {
        return Ok(Stream::Plain(tcp));
    }
    let tls_stream = tls.handshake(&url.host, tcp).await?;
    Ok(Stream::Tls(Box::new(tls_stream)))
}
