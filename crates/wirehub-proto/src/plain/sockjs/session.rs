//! One SockJS session as a push/poll state machine on the caller's clock.
//!
//! A session outlives the HTTP requests that carry it: at most one
//! *receiver* (an `xhr` poll, an `xhr_streaming` or `eventsource`
//! response, or the session's WebSocket) takes its frames at a time.
//!
//! - [`Session::attach`] when a receiving request arrives: the first gets
//!   the open frame; a second one while the first is attached is refused
//!   with `c[2010,"Another connection still open"]`; one arriving after the
//!   close frame went out gets it again.
//! - [`Session::push`] queues a message; [`Session::close`] queues the
//!   close frame after what is queued.
//! - [`Session::poll_transmit`] hands out the next frame for the receiver,
//!   wrapped for its transport; `last` says the response ends after it (a
//!   poll answers one frame, a stream ends past the response byte limit).
//! - [`Session::abort`] when the receiver went away mid-response: the
//!   session closes with `c[1002,"Connection interrupted"]`.
//! - [`Session::handle_timeout`] at [`Session::poll_timeout`]: a heartbeat
//!   frame every heartbeat interval while a receiver is attached; with no
//!   receiver for the disconnect delay, the session expires
//!   ([`Session::is_expired`]) and the caller forgets it.

use super::frame::{close_frame, messages_frame, CloseCode, Receiver, HEARTBEAT, OPEN};
use bytes::Bytes;
use std::time::{Duration, Instant};

/// The session timers and limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionConfig {
    /// Interval of heartbeat frames to an attached receiver (default 25 s).
    pub heartbeat: Duration,
    /// How long a session lives with no receiver (default 5 s); a closed
    /// session answers its close frame for this long.
    pub disconnect_delay: Duration,
    /// Bytes after which a streaming response ends, so the client opens a
    /// new one and the browser frees the old (default 128 KiB).
    pub response_limit: usize,
    /// Most messages queued while no receiver takes them (default 1024).
    pub max_pending: usize,
}

impl Default for SessionConfig {
    fn default() -> Self {
        SessionConfig {
            heartbeat: Duration::from_secs(25),
            disconnect_delay: Duration::from_secs(5),
            response_limit: 128 * 1024,
            max_pending: 1024,
        }
    }
}

/// Names one attached receiver.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ReceiverId(u64);

/// The outcome of [`Session::attach`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Attach {
    /// The receiver is attached and takes the session's frames.
    Attached(ReceiverId),
    /// The request is answered with this one wrapped close frame and ends
    /// (another receiver is attached, or the session is closed).
    Refused(Bytes),
}

/// A frame for the attached receiver.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transmit {
    /// The receiver it is for.
    pub to: ReceiverId,
    /// The frame, wrapped for the receiver's transport.
    pub data: Bytes,
    /// Whether the response ends after it (the receiver is detached).
    pub last: bool,
}

/// Too many messages are queued: the receiver does not keep up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("too many SockJS messages queued")]
pub struct Overflow;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// The open frame is not sent yet.
    New,
    Open,
    /// Closed; the close frame is still due to the receiver if `due`.
    Closed {
        close: CloseCode,
        due: bool,
    },
    /// Forgotten: nothing more happens.
    Expired,
}

#[derive(Debug, Clone, Copy)]
struct Attached {
    id: ReceiverId,
    kind: Receiver,
    sent: usize,
}

/// One SockJS session.
#[derive(Debug)]
pub struct Session {
    config: SessionConfig,
    state: State,
    /// Quoted messages waiting for a receiver.
    pending: Vec<Bytes>,
    receiver: Option<Attached>,
    next_id: u64,
    heartbeat_at: Option<Instant>,
    heartbeat_due: bool,
    expire_at: Option<Instant>,
}

impl Session {
    /// A new session; it expires if no receiver attaches within the
    /// disconnect delay.
    pub fn new(now: Instant, config: SessionConfig) -> Self {
        Session {
            config,
            state: State::New,
            pending: Vec::new(),
            receiver: None,
            next_id: 0,
            heartbeat_at: None,
            heartbeat_due: false,
            expire_at: Some(now + config.disconnect_delay),
        }
    }

    /// A receiving request of `kind` arrived.
    pub fn attach(&mut self, now: Instant, kind: Receiver) -> Attach {
        let close = match self.state {
            State::Expired => Some(CloseCode::GO_AWAY),
            // The close frame (and what was queued before it) went out.
            State::Closed { close, due: false } => Some(close),
            _ if self.receiver.is_some() => Some(CloseCode::ANOTHER_CONNECTION),
            _ => None,
        };
        if let Some(close) = close {
            return Attach::Refused(kind.wrap(&close_frame(close)));
        }
        let id = ReceiverId(self.next_id);
        self.next_id += 1;
        self.receiver = Some(Attached { id, kind, sent: 0 });
        self.expire_at = None;
        self.heartbeat_at = Some(now + self.config.heartbeat);
        Attach::Attached(id)
    }

    /// The receiver `id` went away before its response ended: the session
    /// closes as interrupted.
    pub fn abort(&mut self, now: Instant, id: ReceiverId) {
        if self.receiver.is_some_and(|r| r.id == id) {
            self.detach(now);
            if !self.is_closed() {
                self.state = State::Closed {
                    close: CloseCode::INTERRUPTED,
                    due: false,
                };
            }
        }
    }

    /// Queues a message, already quoted with [`super::quote`] (dropped
    /// once the session is closed).
    pub fn push(&mut self, quoted: Bytes) -> Result<(), Overflow> {
        if self.is_closed() {
            return Ok(());
        }
        if self.pending.len() >= self.config.max_pending {
            return Err(Overflow);
        }
        self.pending.push(quoted);
        Ok(())
    }

    /// Closes the session with `close`, sent after what is queued.
    pub fn close(&mut self, now: Instant, close: CloseCode) {
        if self.is_closed() {
            return;
        }
        self.state = State::Closed { close, due: true };
        if self.receiver.is_none() {
            self.expire_at = Some(now + self.config.disconnect_delay);
        }
    }

    /// Whether the session is closed (or expired): no more messages.
    pub fn is_closed(&self) -> bool {
        matches!(self.state, State::Closed { .. } | State::Expired)
    }

    /// Whether the session is over and can be forgotten.
    pub fn is_expired(&self) -> bool {
        self.state == State::Expired
    }

    /// The attached receiver, if any.
    pub fn receiver(&self) -> Option<ReceiverId> {
        self.receiver.map(|r| r.id)
    }

    /// When [`Session::handle_timeout`] is next due.
    pub fn poll_timeout(&self) -> Option<Instant> {
        match (self.heartbeat_at, self.expire_at) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Fires the timers due at `now`.
    pub fn handle_timeout(&mut self, now: Instant) {
        if self.expire_at.is_some_and(|t| t <= now) {
            self.state = State::Expired;
            self.expire_at = None;
            self.heartbeat_at = None;
            self.receiver = None;
            self.pending.clear();
            return;
        }
        if self.heartbeat_at.is_some_and(|t| t <= now) {
            self.heartbeat_due = true;
            self.heartbeat_at = Some(now + self.config.heartbeat);
        }
    }

    /// The next frame for the attached receiver, if one is due.
    pub fn poll_transmit(&mut self, now: Instant) -> Option<Transmit> {
        let receiver = self.receiver?;
        let (frame, closing) = self.next_frame()?;
        let data = receiver.kind.wrap(&frame);
        let sent = receiver.sent + data.len();
        let last = closing
            || receiver.kind.is_polling()
            || (receiver.kind != Receiver::WebSocket && sent >= self.config.response_limit);
        if last {
            self.detach(now);
        } else if let Some(r) = &mut self.receiver {
            r.sent = sent;
        }
        Some(Transmit {
            to: receiver.id,
            data,
            last,
        })
    }

    /// The next frame and whether it is the close frame.
    fn next_frame(&mut self) -> Option<(Bytes, bool)> {
        if self.state == State::New {
            self.state = State::Open;
            self.heartbeat_due = false;
            return Some((Bytes::from_static(OPEN), false));
        }
        if !self.pending.is_empty() {
            let frame = messages_frame(self.pending.iter().map(|m| &m[..]));
            self.pending.clear();
            self.heartbeat_due = false;
            return Some((frame, false));
        }
        if let State::Closed { close, due: true } = self.state {
            self.state = State::Closed { close, due: false };
            return Some((close_frame(close), true));
        }
        if std::mem::take(&mut self.heartbeat_due) {
            return Some((Bytes::from_static(HEARTBEAT), false));
        }
        None
    }

    fn detach(&mut self, now: Instant) {
        self.receiver = None;
        self.heartbeat_at = None;
        self.heartbeat_due = false;
        self.expire_at = Some(now + self.config.disconnect_delay);
    }
}

#[cfg(test)]
mod tests;
