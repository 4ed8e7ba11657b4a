//! [`EngineConn`]: the shared handle of one Engine.IO session. Sockets, HTTP
//! requests and broadcasts use it to queue frames and send commands to the
//! session task.

use super::mailbox::{Mailbox, PushError};
use super::ws::WsConn;
use crate::config::SlowConsumerPolicy;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::Arc;
use tokio::sync::oneshot;
use wirehub_proto::engineio::{
    CloseReason, EngineError, Frame, Framing, Packet, Payload, ProtocolVersion, TransportKind,
};
use wirehub_proto::Str;

/// One unit of the outbound queue: a packet's frames, sent back to back.
#[derive(Debug, Clone)]
pub enum Outgoing {
    /// A single frame (most packets).
    One(Frame),
    /// A text frame and its binary attachments, shared between recipients.
    Many(Arc<[Frame]>),
    /// A frame written on its own, after which a WebSocket writer pauses
    /// briefly before writing more. Used for the Socket.IO CONNECT answer:
    /// the Node reference writes it separately from the packets its
    /// connection handler emits, and clients written against it (the public
    /// protocol test suite among them) may expect to read them one at a time.
    Paced(Frame),
    /// Frames never compressed, whatever their size: an emit flagged
    /// `compress(false)`.
    Uncompressed(Arc<[Frame]>),
}

impl Outgoing {
    /// The frames, in order.
    pub fn frames(&self) -> &[Frame] {
        match self {
            Outgoing::One(f) | Outgoing::Paced(f) => std::slice::from_ref(f),
            Outgoing::Many(fs) | Outgoing::Uncompressed(fs) => fs,
        }
    }

    /// Whether a WebSocket with permessage-deflate may compress the frames.
    pub fn compressible(&self) -> bool {
        !matches!(self, Outgoing::Uncompressed(_))
    }

    /// Whether the writer pauses after this entry.
    pub fn is_paced(&self) -> bool {
        matches!(self, Outgoing::Paced(_))
    }
}

/// Why a frame was not queued.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// The session is closed.
    #[error("the connection is closed")]
    Closed,
    /// The queue was full; the slow-consumer policy was applied.
    #[error("the connection's outbound queue is full")]
    Full,
}

/// Queues `out` on a connection's mailbox under the slow-consumer policy:
/// when the queue is full, a send that is not volatile calls `close_slow`
/// if the policy says to disconnect. Shared by every kind of connection.
pub(crate) fn queue<O, C>(
    mailbox: &Mailbox<O, C>,
    out: O,
    volatile: bool,
    policy: SlowConsumerPolicy,
    close_slow: impl FnOnce(),
) -> Result<(), SendError> {
    match mailbox.push_out(out) {
        Ok(()) => Ok(()),
        Err(PushError::Closed) => Err(SendError::Closed),
        Err(PushError::Full) => {
            if !volatile && policy == SlowConsumerPolicy::Disconnect {
                close_slow();
            }
            Err(SendError::Full)
        }
    }
}

/// Commands for the session task.
pub(crate) enum Ctl {
    /// A polling GET waits for data.
    Poll(oneshot::Sender<Result<Payload, EngineError>>),
    /// Packets from a polling POST.
    Post(Vec<Packet>, oneshot::Sender<Result<(), EngineError>>),
    /// A WebSocket for this session was accepted (upgrade).
    Attach(Box<WsConn>),
    /// Close the session.
    Close(CloseReason),
}

const STATE_POLLING: u8 = 0;
const STATE_WEBSOCKET: u8 = 1;
const STATE_CLOSED: u8 = 2;

/// The shared handle of one Engine.IO session.
pub struct EngineConn {
    sid: Str,
    pub(crate) mailbox: Mailbox,
    state: AtomicU8,
    upgrading: AtomicBool,
    posting: AtomicBool,
    policy: SlowConsumerPolicy,
    request: super::request::StoredRequest,
    /// The wire format of the handshake's transport (its protocol revision
    /// is the session's).
    framing: Framing,
}

impl std::fmt::Debug for EngineConn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EngineConn")
            .field("sid", &self.sid)
            .finish()
    }
}

impl EngineConn {
    pub(crate) fn new(
        sid: Str,
        transport: TransportKind,
        capacity: usize,
        policy: SlowConsumerPolicy,
        request: ::http::request::Parts,
        framing: Framing,
    ) -> Arc<Self> {
        let state = match transport {
            TransportKind::Polling => STATE_POLLING,
            TransportKind::WebSocket => STATE_WEBSOCKET,
        };
        Arc::new(EngineConn {
            sid,
            mailbox: Mailbox::new(capacity),
            state: AtomicU8::new(state),
            upgrading: AtomicBool::new(false),
            posting: AtomicBool::new(false),
            policy,
            request: super::request::StoredRequest::new(request),
            framing,
        })
    }

    /// The Engine.IO protocol revision the client speaks.
    pub fn protocol(&self) -> ProtocolVersion {
        self.framing.version()
    }

    /// The wire format of long-polling requests.
    pub(crate) fn poll_framing(&self) -> Framing {
        self.framing
    }

    /// The wire format of a WebSocket (binary as bytes: the `b64` choice of
    /// revision 3 applies to polling only here).
    pub(crate) fn ws_framing(&self) -> Framing {
        Framing::new(self.protocol(), false)
    }

    /// The session id.
    pub fn sid(&self) -> &Str {
        &self.sid
    }

    /// The handshake request's head (method, URI, headers, extensions).
    pub fn request(&self) -> &::http::request::Parts {
        self.request.parts()
    }

    /// The transport in use, or `None` once closed.
    pub fn transport(&self) -> Option<TransportKind> {
        match self.state.load(Ordering::Acquire) {
            STATE_POLLING => Some(TransportKind::Polling),
            STATE_WEBSOCKET => Some(TransportKind::WebSocket),
            _ => None,
        }
    }

    /// Whether the session is closed.
    pub fn is_closed(&self) -> bool {
        self.state.load(Ordering::Acquire) == STATE_CLOSED
    }

    /// Queues frames; on a full queue applies the slow-consumer policy
    /// (volatile sends are simply dropped).
    pub fn send(&self, out: Outgoing, volatile: bool) -> Result<(), SendError> {
        queue(&self.mailbox, out, volatile, self.policy, || {
            tracing::warn!(sid = %self.sid, "outbound queue full, closing slow consumer");
            self.close(CloseReason::SlowConsumer);
        })
    }

    /// Queues one frame.
    pub fn send_frame(&self, frame: Frame) -> Result<(), SendError> {
        self.send(Outgoing::One(frame), false)
    }

    /// Asks the session task to close the session.
    pub fn close(&self, reason: CloseReason) {
        self.mailbox.push_ctl(Ctl::Close(reason));
    }

    pub(crate) fn command(&self, ctl: Ctl) -> bool {
        self.mailbox.push_ctl(ctl)
    }

    pub(crate) fn set_transport(&self, t: TransportKind) {
        let v = match t {
            TransportKind::Polling => STATE_POLLING,
            TransportKind::WebSocket => STATE_WEBSOCKET,
        };
        self.state.store(v, Ordering::Release);
    }

    pub(crate) fn set_closed(&self) {
        self.state.store(STATE_CLOSED, Ordering::Release);
    }

    pub(crate) fn set_upgrading(&self, on: bool) {
        self.upgrading.store(on, Ordering::Release);
    }

    pub(crate) fn is_upgrading(&self) -> bool {
        self.upgrading.load(Ordering::Acquire)
    }

    /// Marks a POST in flight; `false` if one already is.
    pub(crate) fn begin_post(&self) -> bool {
        !self.posting.swap(true, Ordering::AcqRel)
    }

    pub(crate) fn end_post(&self) {
        self.posting.store(false, Ordering::Release);
    }
}
