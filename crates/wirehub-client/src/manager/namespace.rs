//! One namespace's state inside the driver: whether it is (or wants to be)
//! connected, who waits for the connection, pending acks, the emits
//! buffered while disconnected, the events received before the server's
//! CONNECT answer, and the connection state recovery bookkeeping.

use crate::error::Error;
use crate::recovery::Recovery;
use crate::socket::SocketShared;
use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use tokio::sync::oneshot;
use wirehub_proto::socketio::{Args, Packet};
use wirehub_proto::Str;

/// An event received before the CONNECT answer (a restored session's missed
/// packets come first): name, arguments, ack id.
pub(super) type Early = (Str, Args, Option<u64>);

/// An ack the server has yet to answer.
#[derive(Debug)]
struct PendingAck {
    reply: oneshot::Sender<Result<Args, Error>>,
    /// Whether the event went out (else it is still in the buffer).
    sent: bool,
}

/// A namespace as the driver sees it.
#[derive(Debug)]
pub(super) struct Namespace {
    pub(super) shared: Arc<SocketShared>,
    /// The user wants it connected: it joins on every (re)connection.
    pub(super) active: bool,
    /// The server accepted it on the current connection.
    pub(super) connected: bool,
    /// A CONNECT went out on the current connection.
    pub(super) connecting: bool,
    waiters: Vec<oneshot::Sender<Result<(), Error>>>,
    acks: HashMap<u64, PendingAck>,
    buffer: VecDeque<Packet>,
    /// Events received while connecting, handed out once connected.
    received: Vec<Early>,
    /// Connection state recovery: pid and last offset.
    pub(super) recovery: Recovery,
}

impl Namespace {
    pub(super) fn new(shared: Arc<SocketShared>) -> Self {
        Namespace {
            shared,
            active: false,
            connected: false,
            connecting: false,
            waiters: Vec::new(),
            acks: HashMap::new(),
            buffer: VecDeque::new(),
            received: Vec::new(),
            recovery: Recovery::default(),
        }
    }

    pub(super) fn wait(&mut self, reply: oneshot::Sender<Result<(), Error>>) {
        self.waiters.push(reply);
    }

    pub(super) fn expect_ack(
        &mut self,
        id: u64,
        reply: oneshot::Sender<Result<Args, Error>>,
        sent: bool,
    ) {
        self.acks.insert(id, PendingAck { reply, sent });
    }

    pub(super) fn buffer(&mut self, packet: Packet) {
        self.buffer.push_back(packet);
    }

    pub(super) fn resolve_ack(&mut self, id: u64, args: Args) {
        if let Some(ack) = self.acks.remove(&id) {
            let _ = ack.reply.send(Ok(args));
        }
    }

    pub(super) fn forget_ack(&mut self, id: u64) {
        self.acks.remove(&id);
    }

    /// An event arrived before the CONNECT answer: kept for after it.
    pub(super) fn receive_early(&mut self, event: Early) {
        self.received.push(event);
    }

    /// The server accepted the socket (with `pid` when it offers recovery):
    /// returns the events received meanwhile, to hand out first, and the
    /// buffered packets to send (wake the waiters with [`Self::wake`]
    /// afterwards).
    pub(super) fn on_connected(
        &mut self,
        sid: Option<String>,
        pid: Option<String>,
    ) -> (Vec<Early>, Vec<Packet>) {
        self.connected = true;
        self.connecting = false;
        let recovered = self.recovery.on_connect(pid);
        self.shared.set_connected(sid, recovered);
        for ack in self.acks.values_mut() {
            ack.sent = true;
        }
        (
            std::mem::take(&mut self.received),
            self.buffer.drain(..).collect(),
        )
    }

    /// Tells whoever waits for the connection that it is made.
    pub(super) fn wake(&mut self) {
        for waiter in self.waiters.drain(..) {
            let _ = waiter.send(Ok(()));
        }
    }

    /// The connection is gone: acks of events already sent cannot be
    /// answered any more; buffered events (and their acks) wait.
    /// Returns whether the socket was connected.
    pub(super) fn on_lost(&mut self, reason: &'static str) -> bool {
        let was = self.connected;
        self.connected = false;
        self.connecting = false;
        // Unconfirmed: the server sends them again if the session comes back.
        self.received.clear();
        self.shared.set_disconnected();
        let sent: Vec<u64> = self
            .acks
            .iter()
            .filter(|(_, a)| a.sent)
            .map(|(id, _)| *id)
            .collect();
        for id in sent {
            if let Some(ack) = self.acks.remove(&id) {
                let _ = ack.reply.send(Err(Error::Disconnected(reason)));
            }
        }
        was
    }

    /// The socket will not connect again by itself: fail everything pending.
    pub(super) fn give_up(&mut self, error: &Error) {
        self.active = false;
        self.connected = false;
        self.connecting = false;
        self.received.clear();
        self.shared.set_disconnected();
        for waiter in self.waiters.drain(..) {
            let _ = waiter.send(Err(error.clone()));
        }
        for (_, ack) in self.acks.drain() {
            let _ = ack.reply.send(Err(error.clone()));
        }
        self.buffer.clear();
    }
}
