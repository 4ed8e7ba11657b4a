//! [`PlainBody`]: the response body of the plain HTTP endpoints — a whole
//! JSON document, or a stream of chunks (SSE, NDJSON) fed by the
//! connection's driver through a small bounded channel, so a client that
//! stops reading pushes back on the driver instead of growing a buffer.

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll};
use tokio::sync::mpsc;

/// The body of every plain-endpoint response.
#[derive(Debug)]
pub enum PlainBody {
    /// A complete body (possibly empty).
    Full(Option<Bytes>),
    /// Chunks until the sender is dropped.
    Stream(mpsc::Receiver<Bytes>),
}

impl PlainBody {
    /// A complete body.
    pub fn full(bytes: impl Into<Bytes>) -> Self {
        let bytes = bytes.into();
        PlainBody::Full((!bytes.is_empty()).then_some(bytes))
    }

    /// An empty body.
    pub fn empty() -> Self {
        PlainBody::Full(None)
    }
}

impl Body for PlainBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        match self.get_mut() {
            PlainBody::Full(bytes) => Poll::Ready(bytes.take().map(|b| Ok(Frame::data(b)))),
            PlainBody::Stream(rx) => rx.poll_recv(cx).map(|c| c.map(|b| Ok(Frame::data(b)))),
        }
    }

    fn is_end_stream(&self) -> bool {
        matches!(self, PlainBody::Full(None))
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            PlainBody::Full(Some(b)) => SizeHint::with_exact(b.len() as u64),
            PlainBody::Full(None) => SizeHint::with_exact(0),
            PlainBody::Stream(_) => SizeHint::default(),
        }
    }
}
