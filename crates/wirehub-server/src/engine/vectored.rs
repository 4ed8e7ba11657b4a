//! Writing many WebSocket data frames in few system calls: each frame's
//! short header and its shared payload go out side by side in one vectored
//! write, so a queue that built up under load leaves in one `writev` and a
//! broadcast's payload is never copied per recipient.
//!
//! The write resumes after a partial write from two counters (frames done,
//! bytes into the next one); the header and slice arrays live only inside
//! one poll, so they add nothing to a session task's resting size.
//!
//! On a connection with permessage-deflate, frames from the threshold on
//! are compressed first (all of one write's frames, before the first
//! system call, so a resumed write sends the same bytes); a frame flagged
//! not to be compressed, or that does not shrink, goes out as it is.

use super::conn::Outgoing;
use bytes::Bytes;
use std::future::poll_fn;
use std::io::{self, IoSlice};
use std::pin::Pin;
use std::task::{ready, Poll};
use tokio::io::AsyncWrite;
use wirehub_proto::engineio::Frame;
use wirehub_proto::websocket::deflate::compress;
use wirehub_proto::websocket::opcode::{BINARY, TEXT};
use wirehub_proto::websocket::FrameHead;

/// Frames per system call: two slices each, well within `IOV_MAX` (1024).
const FRAMES_PER_WRITE: usize = 64;

/// The frames of one write.
#[derive(Clone, Copy)]
pub(crate) enum Source<'a> {
    /// Every frame of each queued entry.
    Entries(&'a [Outgoing]),
    /// Engine.IO frames.
    Frames(&'a [Frame]),
    /// Text messages.
    Texts(&'a [Bytes]),
}

impl<'a> Source<'a> {
    /// `(opcode, payload, may be compressed)` of every frame, in order.
    fn frames(self) -> impl Iterator<Item = (u8, &'a [u8], bool)> {
        let (entries, frames, texts): (&[Outgoing], &[Frame], &[Bytes]) = match self {
            Source::Entries(e) => (e, &[], &[]),
            Source::Frames(f) => (&[], f, &[]),
            Source::Texts(t) => (&[], &[], t),
        };
        let entries = entries.iter().flat_map(|entry| {
            let compressible = entry.compressible();
            entry.frames().iter().map(move |f| (f, compressible))
        });
        entries
            .chain(frames.iter().map(|f| (f, true)))
            .map(|(frame, compressible)| match frame {
                Frame::Text(s) => (TEXT, s.as_bytes().as_ref(), compressible),
                Frame::Binary(b) => (BINARY, b.as_ref(), compressible),
            })
            .chain(texts.iter().map(|t| (TEXT, t.as_ref(), true)))
    }
}

/// Writes every frame of `source` in order, in as few vectored writes as
/// the socket accepts; with `deflate` (permessage-deflate negotiated),
/// compresses payloads of at least that many bytes.
pub(crate) async fn write_frames<W: AsyncWrite + Unpin>(
    io: &mut W,
    source: Source<'_>,
    deflate: Option<usize>,
) -> io::Result<()> {
    let Some(threshold) = deflate else {
        let frames = || {
            source
                .frames()
                .map(|(opcode, body, _)| (FrameHead::new(opcode, body.len()), body))
        };
        return write_heads(io, frames).await;
    };
    let compressed: Vec<(FrameHead, Body<'_>)> = source
        .frames()
        .map(|(opcode, body, compressible)| {
            let packed = (compressible && body.len() >= threshold)
                .then(|| compress(body))
                .flatten();
            match packed {
                Some(packed) => (
                    FrameHead::compressed(opcode, packed.len()),
                    Body::Compressed(packed),
                ),
                None => (FrameHead::new(opcode, body.len()), Body::Plain(body)),
            }
        })
        .collect();
    write_heads(io, || compressed.iter().map(|(h, b)| (*h, b.as_slice()))).await
}

/// A frame's payload: as queued, or compressed for this write.
enum Body<'a> {
    Plain(&'a [u8]),
    Compressed(Bytes),
}

impl Body<'_> {
    fn as_slice(&self) -> &[u8] {
        match self {
            Body::Plain(b) => b,
            Body::Compressed(b) => b,
        }
    }
}

/// Writes the frames `frames()` lists (called again after each system
/// call, so it must list the same frames every time).
async fn write_heads<'a, W, F, I>(io: &mut W, frames: F) -> io::Result<()>
where
    W: AsyncWrite + Unpin,
    F: Fn() -> I,
    I: Iterator<Item = (FrameHead, &'a [u8])>,
{
    let mut done = 0usize;
    let mut into = 0usize;
    poll_fn(|cx| loop {
        let mut heads = [FrameHead::EMPTY; FRAMES_PER_WRITE];
        let mut bodies: [&[u8]; FRAMES_PER_WRITE] = [&[]; FRAMES_PER_WRITE];
        let mut count = 0;
        for (head, body) in frames().skip(done).take(FRAMES_PER_WRITE) {
            heads[count] = head;
            bodies[count] = body;
            count += 1;
        }
        if count == 0 {
            return Poll::Ready(Ok(()));
        }
        let mut slices = [IoSlice::new(&[]); 2 * FRAMES_PER_WRITE];
        for i in 0..count {
            slices[2 * i] = IoSlice::new(heads[i].as_bytes());
            slices[2 * i + 1] = IoSlice::new(bodies[i]);
        }
        let mut bufs = &mut slices[..2 * count];
        IoSlice::advance_slices(&mut bufs, into);
        let written = ready!(Pin::new(&mut *io).poll_write_vectored(cx, bufs))?;
        if written == 0 {
            return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
        }
        let mut left = into + written;
        into = 0;
        for i in 0..count {
            let size = heads[i].as_bytes().len() + bodies[i].len();
            if left < size {
                into = left;
                break;
            }
            left -= size;
            done += 1;
        }
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::task::Context;

    /// A writer that accepts at most `step` bytes per call and is pending
    /// every other call, recording what it got and how many calls.
    struct Trickle {
        got: Vec<u8>,
        step: usize,
        calls: usize,
        pend: bool,
    }

    impl AsyncWrite for Trickle {
        fn poll_write(
            self: Pin<&mut Self>,
            cx: &mut Context<'_>,
            data: &[u8],
        ) -> Poll<io::Result<usize>> {
            self.poll_write_vectored(cx, &[IoSlice::new(data)])
        }

        fn poll_write_vectored(
            mut self: Pin<&mut Self>,
            cx: &mut Context<'_>,
            bufs: &[IoSlice<'_>],
        ) -> Poll<io::Result<usize>> {
            self.pend = !self.pend;
            if self.pend {
                cx.waker().wake_by_ref();
                return Poll::Pending;
            }
            self.calls += 1;
            let mut n = 0;
            for b in bufs {
                let take = b.len().min(self.step - n);
                self.got.extend_from_slice(&b[..take]);
                n += take;
                if n == self.step {
                    break;
                }
            }
            Poll::Ready(Ok(n))
        }

        fn is_write_vectored(&self) -> bool {
            true
        }

        fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
            Poll::Ready(Ok(()))
        }

        fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
            Poll::Ready(Ok(()))
        }
    }

    /// `n` text messages of assorted sizes, and the bytes they must make.
    fn texts(n: usize) -> (Vec<Bytes>, Vec<u8>) {
        let texts: Vec<Bytes> = (0..n)
            .map(|i| Bytes::from(vec![b'a' + (i % 26) as u8; (i * 37) % 300]))
            .collect();
        let mut want = Vec::new();
        for t in &texts {
            want.extend_from_slice(FrameHead::new(TEXT, t.len()).as_bytes());
            want.extend_from_slice(t);
        }
        (texts, want)
    }

    #[tokio::test]
    async fn partial_writes_resume_mid_frame_and_keep_order() {
        for step in [1, 3, 5, 64, 4096, 1 << 20] {
            let (texts, want) = texts(150);
            let mut w = Trickle {
                got: Vec::new(),
                step,
                calls: 0,
                pend: false,
            };
            write_frames(&mut w, Source::Texts(&texts), None)
                .await
                .unwrap();
            assert_eq!(w.got, want, "step {step}");
            if step == 1 << 20 {
                // 150 frames: three vectored writes of up to 64 frames.
                assert_eq!(w.calls, 3);
            }
        }
    }

    #[tokio::test]
    async fn nothing_to_write_makes_no_call() {
        let mut w = Trickle {
            got: Vec::new(),
            step: 8,
            calls: 0,
            pend: false,
        };
        write_frames(&mut w, Source::Texts(&[]), None)
            .await
            .unwrap();
        assert_eq!(w.calls, 0);
    }
}
