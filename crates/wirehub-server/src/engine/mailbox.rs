//! The per-session mailbox: outbound entries (bounded) and commands for the
//! session task, behind one short lock and one wake-up. Engine.IO sessions
//! queue [`Outgoing`] frames and [`Ctl`] commands; plain-transport sessions
//! reuse it with their own entry and command types.
//!
//! Cheaper than two channels for the many idle sessions a server holds: an
//! empty mailbox owns no buffer (a drained queue releases its buffer).

use super::conn::{Ctl, Outgoing};
use crate::sync::lock;
use std::collections::VecDeque;
use std::sync::Mutex;
use tokio::sync::Notify;

/// Why an outbound entry was not queued.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PushError {
    /// The session is closed.
    Closed,
    /// The queue holds `capacity` entries already.
    Full,
}

/// What the session task takes out of its mailbox.
pub(crate) enum Taken<O = Outgoing, C = Ctl> {
    /// A command.
    Ctl(C),
    /// Outbound entries, in order (at most the batch size).
    Out(Vec<O>),
    /// The mailbox is closed and empty.
    Closed,
}

struct Inner<O, C> {
    out: VecDeque<O>,
    ctl: VecDeque<C>,
    closed: bool,
}

impl<O, C> Default for Inner<O, C> {
    fn default() -> Self {
        Inner {
            out: VecDeque::new(),
            ctl: VecDeque::new(),
            closed: false,
        }
    }
}

pub(crate) struct Mailbox<O = Outgoing, C = Ctl> {
    inner: Mutex<Inner<O, C>>,
    notify: Notify,
    capacity: usize,
}

impl<O, C> Mailbox<O, C> {
    pub(crate) fn new(capacity: usize) -> Self {
        Mailbox {
            inner: Mutex::default(),
            notify: Notify::new(),
            capacity: capacity.max(1),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner<O, C>> {
        lock(&self.inner)
    }

    /// Queues an outbound entry, refusing when full or closed.
    pub(crate) fn push_out(&self, out: O) -> Result<(), PushError> {
        {
            let mut inner = self.lock();
            if inner.closed {
                return Err(PushError::Closed);
            }
            if inner.out.len() >= self.capacity {
                return Err(PushError::Full);
            }
            inner.out.push_back(out);
        }
        self.notify.notify_one();
        Ok(())
    }

    /// Queues a command; `false` once the mailbox is closed.
    pub(crate) fn push_ctl(&self, ctl: C) -> bool {
        {
            let mut inner = self.lock();
            if inner.closed {
                return false;
            }
            inner.ctl.push_back(ctl);
        }
        self.notify.notify_one();
        true
    }

    /// Waits for a command, or (when `take_out`) for outbound entries.
    /// Commands come first. Cancel-safe: nothing is taken until it returns.
    pub(crate) async fn next(&self, take_out: bool, batch: usize) -> Taken<O, C> {
        loop {
            if let Some(taken) = self.try_next(take_out, batch) {
                return taken;
            }
            self.notify.notified().await;
        }
    }

    /// Takes what [`Self::next`] would, without waiting.
    pub(crate) fn try_next(&self, take_out: bool, batch: usize) -> Option<Taken<O, C>> {
        let mut inner = self.lock();
        if let Some(ctl) = inner.ctl.pop_front() {
            if inner.ctl.is_empty() {
                inner.ctl = VecDeque::new();
            }
            return Some(Taken::Ctl(ctl));
        }
        if take_out && !inner.out.is_empty() {
            return Some(Taken::Out(take_batch(&mut inner.out, batch)));
        }
        inner.closed.then_some(Taken::Closed)
    }

    /// Whether the mailbox was closed.
    pub(crate) fn is_closed(&self) -> bool {
        self.lock().closed
    }

    /// Takes up to `batch` outbound entries without waiting.
    pub(crate) fn take_out(&self, batch: usize) -> Vec<O> {
        take_batch(&mut self.lock().out, batch)
    }

    /// Closes the mailbox: pushes are refused from now on. Returns the
    /// commands still queued; outbound entries stay for a final flush.
    pub(crate) fn close(&self) -> Vec<C> {
        let mut inner = self.lock();
        inner.closed = true;
        inner.ctl.drain(..).collect()
    }
}

fn take_batch<O>(out: &mut VecDeque<O>, batch: usize) -> Vec<O> {
    let n = out.len().min(batch);
    let taken: Vec<O> = out.drain(..n).collect();
    if out.is_empty() {
        *out = VecDeque::new();
    }
    taken
}

#[cfg(test)]
mod tests {
    use super::*;
    use wirehub_proto::engineio::{CloseReason, Frame};

    fn frame(s: &'static str) -> Outgoing {
        Outgoing::One(Frame::Text(s.into()))
    }

    #[test]
    fn bounded_and_ordered() {
        let m: Mailbox = Mailbox::new(2);
        assert!(m.push_out(frame("a")).is_ok());
        assert!(m.push_out(frame("b")).is_ok());
        assert_eq!(m.push_out(frame("c")), Err(PushError::Full));
        let Some(Taken::Out(batch)) = m.try_next(true, 10) else {
            panic!()
        };
        assert_eq!(batch.len(), 2);
        assert!(m.try_next(true, 10).is_none());
    }

    #[test]
    fn commands_first_and_outbound_only_when_asked() {
        let m: Mailbox = Mailbox::new(4);
        m.push_out(frame("a")).unwrap();
        assert!(m.try_next(false, 10).is_none());
        assert!(m.push_ctl(Ctl::Close(CloseReason::ForcedClose)));
        assert!(matches!(m.try_next(true, 10), Some(Taken::Ctl(_))));
        assert!(matches!(m.try_next(true, 10), Some(Taken::Out(_))));
    }

    #[test]
    fn close_refuses_pushes_and_keeps_outbound() {
        let m: Mailbox = Mailbox::new(4);
        m.push_out(frame("a")).unwrap();
        m.push_ctl(Ctl::Close(CloseReason::ForcedClose));
        assert_eq!(m.close().len(), 1);
        assert_eq!(m.push_out(frame("b")), Err(PushError::Closed));
        assert!(!m.push_ctl(Ctl::Close(CloseReason::ForcedClose)));
        assert_eq!(m.take_out(10).len(), 1);
        assert!(matches!(m.try_next(true, 10), Some(Taken::Closed)));
    }

    #[test]
    fn shrinks_after_a_burst() {
        let m: Mailbox = Mailbox::new(1000);
        for _ in 0..500 {
            m.push_out(frame("x")).unwrap();
        }
        while !m.take_out(100).is_empty() {}
        assert_eq!(m.lock().out.capacity(), 0);
    }

    #[tokio::test(flavor = "current_thread")]
    async fn wakes_a_waiting_task() {
        let m: std::sync::Arc<Mailbox> = std::sync::Arc::new(Mailbox::new(4));
        let m2 = m.clone();
        let waiter = tokio::spawn(async move { matches!(m2.next(true, 10).await, Taken::Out(_)) });
        tokio::task::yield_now().await;
        m.push_out(frame("a")).unwrap();
        assert!(waiter.await.unwrap());
    }
}
