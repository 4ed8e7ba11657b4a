//! One namespace's state inside the driver: whether it is (or wants to be)
//! connected, who waits for the connection, pending acks, and the emits
//! buffered while disconnected.

use crate::error::Error;
use crate::socket::SocketShared;
use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use tokio::sync::oneshot;
use wirehub_proto::socketio::{Args, Packet};

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

    /// The server accepted the socket: returns the buffered packets to
    /// send now (wake the waiters with [`Self::wake`] afterwards).
    pub(super) fn on_connected(&mut self, sid: Option<String>) -> Vec<Packet> {
        self.connected = true;
        self.connecting = false;
        self.shared.set_connected(sid);
        for ack in self.acks.values_mut() {
            ack.sent = true;
        }
        self.buffer.drain(..).collect()
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
