//! The one seam around the WebSocket crate (tokio-tungstenite): accepting an
//! upgraded connection, reading frames, control frames and closing. Data
//! frames are written by [`vectored`](super::vectored), many per system
//! call. Nothing outside this file names the crate's types.

use super::scratch::ScratchRead;
use super::vectored;
pub(crate) use super::vectored::Source;
use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use hyper::upgrade::Upgraded;
use hyper_util::rt::TokioIo;
use tokio_tungstenite::tungstenite::error::ProtocolError;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, Role, WebSocketConfig};
use tokio_tungstenite::tungstenite::{Error as WsError, Message as WsMessage};
use tokio_tungstenite::WebSocketStream;
use wirehub_proto::engineio::Frame;
use wirehub_proto::Str;

/// tungstenite's read buffer, and the most it reads at once.
const READ_CHUNK: usize = 256;

/// An accepted server-side WebSocket.
pub(crate) struct WsConn {
    inner: WebSocketStream<ScratchRead<TokioIo<Upgraded>>>,
    active: bool,
}

/// How reading a WebSocket ended.
#[derive(Debug)]
pub(crate) enum WsEnd {
    /// The peer closed the connection cleanly.
    Closed,
    /// A message over the size limit.
    TooBig,
    /// A text message that is not UTF-8.
    BadText,
    /// An I/O or protocol error.
    Error,
}

impl std::fmt::Debug for WsConn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WsConn")
    }
}

/// The `Sec-WebSocket-Accept` value for a client's key.
pub(crate) fn accept_key(key: &[u8]) -> String {
    tokio_tungstenite::tungstenite::handshake::derive_accept_key(key)
}

impl WsConn {
    /// Wraps an upgraded HTTP connection; messages over `max_message` fail the read.
    pub(crate) async fn accept(upgraded: Upgraded, max_message: usize) -> Self {
        // tungstenite allocates its read buffer up front (and zero-fills it
        // on every read, so all of it is resident) and caps each read at its
        // size. A small one keeps idle connections small; ScratchRead turns
        // its many small reads into one system call per arrival.
        let config = WebSocketConfig::default()
            .read_buffer_size(READ_CHUNK)
            .write_buffer_size(0)
            .max_message_size(Some(max_message))
            .max_frame_size(Some(max_message));
        let inner = WebSocketStream::from_raw_socket(
            ScratchRead::new(TokioIo::new(upgraded)),
            Role::Server,
            Some(config),
        )
        .await;
        WsConn {
            inner,
            active: false,
        }
    }

    /// The next data frame; control frames are handled by the library.
    pub(crate) async fn recv(&mut self) -> Result<Frame, WsEnd> {
        loop {
            let next = self.inner.next().await;
            self.active = true;
            match next {
                Some(Ok(WsMessage::Text(t))) => {
                    let s = Str::from_utf8(Bytes::from(t)).map_err(|_| WsEnd::BadText)?;
                    return Ok(Frame::Text(s));
                }
                Some(Ok(WsMessage::Binary(b))) => return Ok(Frame::Binary(b)),
                Some(Ok(WsMessage::Close(_))) | None => return Err(WsEnd::Closed),
                Some(Ok(_)) => continue,
                // A peer that goes away, with or without a close frame, is a
                // close (as for the reference server); only bad frames and
                // oversized messages are errors.
                Some(Err(
                    WsError::ConnectionClosed
                    | WsError::AlreadyClosed
                    | WsError::Protocol(ProtocolError::ResetWithoutClosingHandshake),
                )) => return Err(WsEnd::Closed),
                Some(Err(WsError::Io(e)))
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::ConnectionReset
                            | std::io::ErrorKind::BrokenPipe
                            | std::io::ErrorKind::UnexpectedEof
                    ) =>
                {
                    return Err(WsEnd::Closed)
                }
                Some(Err(WsError::Capacity(_))) => return Err(WsEnd::TooBig),
                Some(Err(WsError::Utf8(_))) => return Err(WsEnd::BadText),
                Some(Err(e)) => {
                    tracing::debug!(error = %e, "websocket read failed");
                    return Err(WsEnd::Error);
                }
            }
        }
    }

    /// Writes data frames in order, many per system call (see
    /// [`vectored`](super::vectored)); payloads are not copied. Whatever
    /// control frame the library still holds (a pong) goes out whole first.
    pub(crate) async fn send(&mut self, source: Source<'_>) -> Result<(), WsEnd> {
        self.inner.flush().await.map_err(|_| WsEnd::Error)?;
        vectored::write_frames(self.inner.get_mut(), source)
            .await
            .map_err(|_| WsEnd::Error)
    }

    /// Ends the connection (errors ignored: the peer may be gone): answers
    /// the peer's close frame if it sent one, or sends ours, and flushes.
    /// (`SinkExt::close` does both; the stream's own `close` only sends, and
    /// fails once the peer has closed, leaving its close unanswered.)
    pub(crate) async fn close(mut self) {
        let _ = SinkExt::close(&mut self.inner).await;
    }

    /// Whether anything (pongs included) arrived since the last call.
    pub(crate) fn take_activity(&mut self) -> bool {
        std::mem::take(&mut self.active)
    }

    /// Sends a ping frame.
    pub(crate) async fn ping(&mut self) -> Result<(), WsEnd> {
        self.inner
            .send(WsMessage::Ping(Bytes::new()))
            .await
            .map_err(|_| WsEnd::Error)
    }

    /// Starts the close handshake with a status code and reason, then
    /// waits briefly for the peer's close frame.
    pub(crate) async fn close_with(mut self, code: u16, reason: &str) {
        let frame = CloseFrame {
            code: CloseCode::from(code),
            reason: reason.to_owned().into(),
        };
        if self.inner.close(Some(frame)).await.is_err() {
            return;
        }
        let drain = async { while let Some(Ok(_)) = self.inner.next().await {} };
        let _ = tokio::time::timeout(std::time::Duration::from_secs(1), drain).await;
    }
}

#[cfg(test)]
mod tests {
    use super::vectored::head_bytes;
    use tokio_tungstenite::tungstenite::protocol::frame::coding::{Data, OpCode};
    use tokio_tungstenite::tungstenite::protocol::frame::FrameHeader;

    /// Our frame headers are byte for byte the library's.
    #[test]
    fn frame_headers_match_the_library() {
        for (opcode, data) in [(0x1, Data::Text), (0x2, Data::Binary)] {
            for len in [0, 1, 125, 126, 127, 65_535, 65_536, 1 << 20] {
                let header = FrameHeader {
                    opcode: OpCode::Data(data),
                    ..FrameHeader::default()
                };
                let mut want = Vec::new();
                header.format(len as u64, &mut want).unwrap();
                assert_eq!(head_bytes(opcode, len), want, "opcode {opcode} len {len}");
            }
        }
    }
}
