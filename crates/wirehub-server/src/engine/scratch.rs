//! [`ScratchRead`]: a stream wrapper for connections that spend most of
//! their life idle. Small reads (the WebSocket library asks for a few
//! hundred bytes at a time) are served by one large read into a per-thread
//! scratch buffer; only bytes left over from it are kept with the
//! connection, in a buffer released as soon as it is drained. An idle
//! connection therefore holds no read buffer of its own, and a message
//! still arrives in one system call.

use bytes::{Buf, BytesMut};
use std::cell::RefCell;
use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// Size of each thread's scratch buffer.
const SCRATCH: usize = 64 * 1024;

thread_local! {
    static BUFFER: RefCell<Box<[u8]>> = RefCell::new(vec![0; SCRATCH].into_boxed_slice());
}

/// Reads through the thread's scratch buffer; writes pass straight through.
#[derive(Debug)]
pub(crate) struct ScratchRead<S> {
    inner: S,
    pending: BytesMut,
}

impl<S> ScratchRead<S> {
    pub(crate) fn new(inner: S) -> Self {
        ScratchRead {
            inner,
            pending: BytesMut::new(),
        }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for ScratchRead<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if !this.pending.is_empty() {
            let n = this.pending.len().min(buf.remaining());
            buf.put_slice(&this.pending[..n]);
            this.pending.advance(n);
            if this.pending.is_empty() {
                this.pending = BytesMut::new();
            }
            return Poll::Ready(Ok(()));
        }
        if buf.remaining() >= SCRATCH {
            return Pin::new(&mut this.inner).poll_read(cx, buf);
        }
        BUFFER.with(|scratch| {
            let mut scratch = scratch.borrow_mut();
            let mut read = ReadBuf::new(&mut scratch[..]);
            ready!(Pin::new(&mut this.inner).poll_read(cx, &mut read))?;
            let data = read.filled();
            let n = data.len().min(buf.remaining());
            buf.put_slice(&data[..n]);
            if data.len() > n {
                this.pending.extend_from_slice(&data[n..]);
            }
            Poll::Ready(Ok(()))
        })
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for ScratchRead<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, data)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    #[tokio::test(flavor = "current_thread")]
    async fn small_reads_take_one_large_read_and_keep_only_the_rest() {
        let (mut far, near) = tokio::io::duplex(SCRATCH * 2);
        let message: Vec<u8> = (0..5000u32).map(|i| (i % 251) as u8).collect();
        far.write_all(&message).await.unwrap();
        let mut reader = ScratchRead::new(near);
        let mut got = Vec::new();
        let mut chunk = [0u8; 256];
        let n = reader.read(&mut chunk).await.unwrap();
        assert_eq!(n, 256);
        assert_eq!(reader.pending.len(), 5000 - 256, "the rest is kept");
        got.extend_from_slice(&chunk[..n]);
        while got.len() < message.len() {
            let n = reader.read(&mut chunk).await.unwrap();
            got.extend_from_slice(&chunk[..n]);
        }
        assert_eq!(got, message);
        assert_eq!(reader.pending.capacity(), 0, "released once drained");
        far.write_all(b"ping").await.unwrap();
        reader.write_all(b"pong").await.unwrap();
        let mut back = [0u8; 4];
        far.read_exact(&mut back).await.unwrap();
        assert_eq!(&back, b"pong");
        let n = reader.read(&mut chunk).await.unwrap();
        assert_eq!(&chunk[..n], b"ping");
    }
}
