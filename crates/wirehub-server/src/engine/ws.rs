//! The one seam around WebSocket I/O: an upgraded connection read through
//! the sans-IO frame decoder of `wirehub_proto::websocket`, pings answered,
//! the close handshake, and data frames written by
//! [`vectored`](super::vectored), many per system call.
//!
//! Why our own framing and not a WebSocket crate: tokio-tungstenite kept
//! about 800 bytes per idle connection (its stream state, a read buffer,
//! two waker proxies); an idle connection here keeps the decoder's two
//! words and no buffer. Reads go through one per-thread
//! scratch buffer, and only the bytes of an unfinished frame stay with the
//! connection. The framing passes the Autobahn|Testsuite
//! (`tests/autobahn`).
//!
//! Every read and write is driven by a poll function whose progress lives
//! in [`WsConn`], so a read abandoned in a `select!` loses nothing, and a
//! pong owed to the peer goes out while reading goes on.
//!
//! permessage-deflate, when the config allows it and the client offers it
//! ([`negotiate_deflate`]), costs a connection only its threshold: the
//! decoder inflates and the writer compresses with per-thread state
//! (`wirehub_proto::websocket::deflate`).

use bytes::BytesMut;
use hyper::upgrade::Upgraded;
use hyper_util::rt::TokioIo;
use std::cell::RefCell;
use std::future::poll_fn;
use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use wirehub_proto::engineio::Frame;
use wirehub_proto::websocket::deflate::{negotiate, Agreement};
use wirehub_proto::websocket::{close_frame, control_frame, opcode, Decoder, Event, FrameError};

use super::vectored;
pub(crate) use super::vectored::Source;

/// Size of each thread's read buffer.
const SCRATCH: usize = 64 * 1024;

/// How long a closing connection waits for the peer's close frame.
const CLOSE_WAIT: Duration = Duration::from_secs(1);

thread_local! {
    static SCRATCH_BUFFER: RefCell<Box<[u8]>> = RefCell::new(vec![0; SCRATCH].into_boxed_slice());
}

/// Where the close handshake stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Open,
    /// We sent a close frame and await the peer's.
    ClosedByUs,
    /// The peer sent a close frame; ours answers it.
    ClosedByPeer,
    /// Nothing more is read: the stream ended or broke the protocol.
    Done,
}

/// An accepted server-side WebSocket.
pub(crate) struct WsConn {
    io: TokioIo<Upgraded>,
    /// Bytes read but not yet decoded; no allocation between frames.
    buf: BytesMut,
    decoder: Decoder,
    /// Control frames (pong, close) owed to the peer, and how much of them
    /// went out; written before any data frame.
    control: Vec<u8>,
    control_sent: usize,
    state: State,
    active: bool,
    /// With permessage-deflate negotiated, the size messages are
    /// compressed from.
    deflate: Option<u32>,
}

/// How reading a WebSocket ended.
#[derive(Debug)]
pub(crate) enum WsEnd {
    /// The peer closed the connection, with or without a close frame.
    Closed,
    /// A message over the size limit (close code 1009).
    TooBig,
    /// A text message that is not UTF-8 (close code 1007).
    BadText,
    /// A frame that breaks RFC 6455 (close code 1002).
    Protocol,
    /// An I/O error.
    Error,
}

impl std::fmt::Debug for WsConn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WsConn")
            .field("state", &self.state)
            .finish()
    }
}

/// The `Sec-WebSocket-Accept` value for a client's key.
pub(crate) fn accept_key(key: &[u8]) -> String {
    wirehub_proto::websocket::accept_key(key)
}

/// The permessage-deflate agreement for an upgrade request: `None` unless
/// `enabled` (the config's `ws_deflate`) and the client offers it.
pub(crate) fn negotiate_deflate<B>(req: &http::Request<B>, enabled: bool) -> Option<Agreement> {
    if !enabled {
        return None;
    }
    let offers = req
        .headers()
        .get_all(http::header::SEC_WEBSOCKET_EXTENSIONS)
        .iter()
        .filter_map(|v| v.to_str().ok());
    negotiate(offers)
}

impl WsConn {
    /// Wraps an upgraded HTTP connection; messages over `max_message` fail
    /// the read. `deflate` is the compression threshold when the handshake
    /// agreed on permessage-deflate.
    pub(crate) fn accept(upgraded: Upgraded, max_message: usize, deflate: Option<usize>) -> Self {
        WsConn {
            io: TokioIo::new(upgraded),
            buf: BytesMut::new(),
            decoder: match deflate {
                Some(_) => Decoder::with_deflate(max_message),
                None => Decoder::new(max_message),
            },
            deflate: deflate.map(|t| u32::try_from(t).unwrap_or(u32::MAX)),
            control: Vec::new(),
            control_sent: 0,
            state: State::Open,
            active: false,
        }
    }

    /// The next data message; pings are answered and pongs noted on the way.
    pub(crate) async fn recv(&mut self) -> Result<Frame, WsEnd> {
        poll_fn(|cx| self.poll_recv(cx)).await
    }

    fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Result<Frame, WsEnd>> {
        loop {
            if self.state != State::Open {
                return Poll::Ready(Err(WsEnd::Closed));
            }
            // A pong owed goes out as we read on; a peer that does not read
            // does not stop us reading.
            if let Poll::Ready(Err(_)) = self.poll_flush_control(cx) {
                self.state = State::Done;
                return Poll::Ready(Err(WsEnd::Error));
            }
            match self.decoder.decode(&mut self.buf) {
                Ok(Some(event)) => {
                    self.active = true;
                    self.release_drained_buffer();
                    match event {
                        Event::Text(text) => return Poll::Ready(Ok(Frame::Text(text))),
                        Event::Binary(data) => return Poll::Ready(Ok(Frame::Binary(data))),
                        Event::Ping(payload) => {
                            self.queue_control(control_frame(opcode::PONG, &payload))
                        }
                        Event::Pong => {}
                        Event::Close(frame) => {
                            // Answer with the same code (RFC 6455, section 5.5.1).
                            let reply = match frame {
                                Some(frame) => close_frame(frame.code, ""),
                                None => control_frame(opcode::CLOSE, &[]),
                            };
                            self.queue_control(reply);
                            self.state = State::ClosedByPeer;
                            return Poll::Ready(Err(WsEnd::Closed));
                        }
                    }
                }
                Ok(None) => match ready!(self.poll_fill(cx)) {
                    Ok(0) => {
                        self.state = State::Done;
                        return Poll::Ready(Err(WsEnd::Closed));
                    }
                    Ok(_) => {}
                    Err(e) => {
                        self.state = State::Done;
                        return Poll::Ready(Err(match e.kind() {
                            io::ErrorKind::ConnectionReset
                            | io::ErrorKind::BrokenPipe
                            | io::ErrorKind::UnexpectedEof => WsEnd::Closed,
                            _ => WsEnd::Error,
                        }));
                    }
                },
                Err(e) => {
                    tracing::debug!(error = %e, "websocket frame refused");
                    // What follows a bad frame cannot be read as frames.
                    self.buf = BytesMut::new();
                    self.state = State::Done;
                    if let FrameError::BadClose(code) = e {
                        // The peer closed, badly: answer with the code.
                        self.queue_control(close_frame(code, ""));
                        self.state = State::ClosedByPeer;
                    }
                    return Poll::Ready(Err(match e.close_code() {
                        1007 => WsEnd::BadText,
                        1009 => WsEnd::TooBig,
                        _ => WsEnd::Protocol,
                    }));
                }
            }
        }
    }

    /// Reads what has arrived into the thread's scratch buffer and keeps it
    /// for the decoder; `Ok(0)` at the end of the stream.
    fn poll_fill(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<usize>> {
        SCRATCH_BUFFER.with(|scratch| {
            let mut scratch = scratch.borrow_mut();
            let mut read = ReadBuf::new(&mut scratch[..]);
            ready!(Pin::new(&mut self.io).poll_read(cx, &mut read))?;
            self.buf.extend_from_slice(read.filled());
            Poll::Ready(Ok(read.filled().len()))
        })
    }

    /// Lets go of the read buffer once every byte in it was decoded.
    fn release_drained_buffer(&mut self) {
        if self.buf.is_empty() && self.buf.capacity() > 0 {
            self.buf = BytesMut::new();
        }
    }

    /// Queues a control frame. A pong not yet started gives way to a newer
    /// one (only the latest ping needs an answer); anything else goes after
    /// what is queued.
    fn queue_control(&mut self, frame: Vec<u8>) {
        let is_pong = frame.first() == Some(&(0x80 | opcode::PONG));
        if self.control.is_empty() || (is_pong && self.control_sent == 0 && self.only_pong_queued())
        {
            self.control = frame;
            self.control_sent = 0;
        } else {
            self.control.extend_from_slice(&frame);
        }
    }

    fn only_pong_queued(&self) -> bool {
        self.control.first() == Some(&(0x80 | opcode::PONG))
            && self.control.len() == 2 + usize::from(self.control[1] & 0x7f)
    }

    fn poll_flush_control(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while self.control_sent < self.control.len() {
            let rest = &self.control[self.control_sent..];
            let n = ready!(Pin::new(&mut self.io).poll_write(cx, rest))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            self.control_sent += n;
        }
        if !self.control.is_empty() {
            self.control = Vec::new();
            self.control_sent = 0;
        }
        Poll::Ready(Ok(()))
    }

    async fn flush_control(&mut self) -> io::Result<()> {
        poll_fn(|cx| self.poll_flush_control(cx)).await
    }

    /// Writes data frames in order, many per system call (see
    /// [`vectored`](super::vectored)); payloads are not copied. Control
    /// frames owed to the peer go out whole first.
    pub(crate) async fn send(&mut self, source: Source<'_>) -> Result<(), WsEnd> {
        self.flush_control().await.map_err(|_| WsEnd::Error)?;
        let threshold = self.deflate.map(|t| t as usize);
        vectored::write_frames(&mut self.io, source, threshold)
            .await
            .map_err(|_| WsEnd::Error)
    }

    /// Whether anything (pongs included) arrived since the last call.
    pub(crate) fn take_activity(&mut self) -> bool {
        std::mem::take(&mut self.active)
    }

    /// Sends a ping frame.
    pub(crate) async fn ping(&mut self) -> Result<(), WsEnd> {
        self.queue_control(control_frame(opcode::PING, &[]));
        self.flush_control().await.map_err(|_| WsEnd::Error)
    }

    /// Ends the connection (errors ignored: the peer may be gone): answers
    /// the peer's close frame if it sent one, or sends ours, then shuts the
    /// stream down.
    pub(crate) async fn close(mut self) {
        if self.state == State::Open {
            self.queue_control(control_frame(opcode::CLOSE, &[]));
        }
        let _ = self.flush_control().await;
        let _ = poll_fn(|cx| Pin::new(&mut self.io).poll_shutdown(cx)).await;
    }

    /// Closes with a status code and reason: sends the close frame (unless
    /// the peer closed first, when its close is answered), waits briefly
    /// for the peer's close frame, then shuts the stream down.
    pub(crate) async fn close_with(mut self, code: u16, reason: &str) {
        let answering = self.state == State::ClosedByPeer;
        if !answering {
            self.queue_control(close_frame(code, reason));
        }
        if self.flush_control().await.is_err() {
            return;
        }
        if !answering {
            let wait = self.await_peer_close();
            let _ = tokio::time::timeout(CLOSE_WAIT, wait).await;
        }
        let _ = poll_fn(|cx| Pin::new(&mut self.io).poll_shutdown(cx)).await;
    }

    /// Reads (and drops) frames until the peer's close frame or the end of
    /// the stream. After a refused frame, what follows is read as frames
    /// afresh: the peer's answer starts a new frame.
    async fn await_peer_close(&mut self) {
        if self.state == State::Done {
            self.decoder = Decoder::new(0);
        }
        self.state = State::ClosedByUs;
        poll_fn(|cx| loop {
            match self.decoder.decode(&mut self.buf) {
                Ok(Some(Event::Close(_)))
                | Err(FrameError::Protocol(_) | FrameError::NotUtf8 | FrameError::BadClose(_)) => {
                    return Poll::Ready(())
                }
                Ok(Some(_)) => {}
                Err(FrameError::TooBig(_)) => self.buf = BytesMut::new(),
                Ok(None) => match ready!(self.poll_fill(cx)) {
                    Ok(0) | Err(_) => return Poll::Ready(()),
                    Ok(_) => {}
                },
            }
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use tokio_tungstenite::tungstenite::protocol::frame::coding::{Data, OpCode};
    use tokio_tungstenite::tungstenite::protocol::frame::FrameHeader;
    use wirehub_proto::websocket::FrameHead;

    /// Our frame headers are byte for byte those of a proven implementation.
    #[test]
    fn frame_headers_match_tungstenite() {
        for (opcode, data) in [(0x1, Data::Text), (0x2, Data::Binary)] {
            for len in [0, 1, 125, 126, 127, 65_535, 65_536, 1 << 20] {
                let header = FrameHeader {
                    opcode: OpCode::Data(data),
                    ..FrameHeader::default()
                };
                let mut want = Vec::new();
                header.format(len as u64, &mut want).unwrap();
                assert_eq!(
                    FrameHead::new(opcode, len).as_bytes(),
                    want,
                    "opcode {opcode} len {len}"
                );
            }
        }
    }
}
