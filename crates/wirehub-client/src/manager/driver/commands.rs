//! Commands from the handles: join a namespace, emit, answer or forget an
//! ack, leave, shut down.

use super::{Conn, Driver, CLOSE_GRACE};
use crate::error::Error;
use crate::handler::Lifecycle;
use crate::manager::namespace::Namespace;
use crate::manager::Command;
use crate::reason::DisconnectReason;
use crate::socket::SocketShared;
use std::sync::Arc;
use tokio::sync::oneshot;
use wirehub_proto::engineio::Packet as EioPacket;
use wirehub_proto::socketio::{Args, Decoder, Packet, PacketKind};
use wirehub_proto::Str;

impl Driver {
    pub(super) fn on_command(&mut self, cmd: Command) {
        match cmd {
            Command::Connect { socket, reply } => self.connect_ns(socket, reply),
            Command::Emit {
                ns,
                packet,
                volatile,
                ack,
            } => self.emit(&ns, packet, volatile, ack),
            Command::Ack { ns, id, args } => {
                if self.namespaces.get(&ns).is_some_and(|n| n.connected) {
                    self.send_packet(&Packet::ack(ns, id, args));
                }
            }
            Command::ForgetAck { ns, id } => {
                if let Some(n) = self.namespaces.get_mut(&ns) {
                    n.forget_ack(id);
                }
            }
            Command::Disconnect { ns, reply } => {
                self.leave(&ns);
                let _ = reply.send(());
            }
            Command::Close { reply } => {
                // Handled by `run`; kept total for the match.
                let _ = reply.send(());
            }
        }
    }

    pub(super) fn connect_ns(
        &mut self,
        socket: Arc<SocketShared>,
        reply: oneshot::Sender<Result<(), Error>>,
    ) {
        let ns = socket.ns.clone();
        let n = self
            .namespaces
            .entry(ns.clone())
            .or_insert_with(|| Namespace::new(socket));
        if n.connected {
            let _ = reply.send(Ok(()));
            return;
        }
        n.active = true;
        n.wait(reply);
        match self.conn {
            Conn::Idle => {
                self.backoff.reset();
                self.start_open(0);
            }
            Conn::Open(_) => self.send_connect(&ns),
            Conn::Opening { .. } | Conn::Waiting { .. } => {}
        }
    }

    pub(super) fn send_connect(&mut self, ns: &Str) {
        let Some(n) = self.namespaces.get_mut(ns) else {
            return;
        };
        if n.connecting || n.connected || !n.active {
            return;
        }
        n.connecting = true;
        let auth = n.shared.auth();
        let packet = Packet {
            ns: ns.clone(),
            kind: PacketKind::Connect(n.recovery.connect_data(auth.as_deref())),
        };
        self.send_packet(&packet);
    }

    pub(super) fn emit(
        &mut self,
        ns: &Str,
        packet: Packet,
        volatile: bool,
        ack: Option<(u64, oneshot::Sender<Result<Args, Error>>)>,
    ) {
        let buffer_emits = self.config.buffer_emits;
        let Some(n) = self.namespaces.get_mut(ns) else {
            if let Some((_, reply)) = ack {
                let _ = reply.send(Err(Error::Disconnected("not connected")));
            }
            return;
        };
        if n.connected {
            if let Some((id, reply)) = ack {
                n.expect_ack(id, reply, true);
            }
            self.send_packet(&packet);
        } else if !volatile && buffer_emits && n.active {
            if let Some((id, reply)) = ack {
                n.expect_ack(id, reply, false);
            }
            n.buffer(packet);
        } else if let Some((_, reply)) = ack {
            let _ = reply.send(Err(Error::Disconnected("not connected")));
        }
    }

    /// The user left `ns`.
    pub(super) fn leave(&mut self, ns: &Str) {
        let Some(n) = self.namespaces.get_mut(ns) else {
            return;
        };
        let was = n.connected;
        n.recovery.forget();
        n.give_up(&Error::Disconnected(
            DisconnectReason::IoClientDisconnect.as_str(),
        ));
        if was {
            self.send_packet(&Packet::disconnect(ns.clone()));
            let reason = Some(DisconnectReason::IoClientDisconnect);
            self.lifecycle(ns, Lifecycle::Disconnect, reason, None);
        }
    }

    /// Leaves every namespace and closes the connection.
    pub(super) async fn shutdown(&mut self) {
        let names: Vec<Str> = self.namespaces.keys().cloned().collect();
        for ns in &names {
            self.leave(ns);
            if let Some(n) = self.namespaces.get_mut(ns) {
                n.give_up(&Error::Closed);
            }
        }
        self.close_engine().await;
    }

    pub(super) async fn close_if_unused(&mut self) {
        if matches!(self.conn, Conn::Idle)
            || self.namespaces.values().any(|n| n.active || n.connected)
        {
            return;
        }
        self.close_engine().await;
    }

    pub(super) async fn close_engine(&mut self) {
        match std::mem::replace(&mut self.conn, Conn::Idle) {
            Conn::Open(mut engine) => {
                if let Some(probe) = engine.probe.take() {
                    probe.abort();
                }
                engine.transport.send(EioPacket::Close.to_frame());
                engine.transport.finish(CLOSE_GRACE).await;
            }
            Conn::Opening { task, .. } => task.abort(),
            Conn::Idle | Conn::Waiting { .. } => {}
        }
        self.decoder = Decoder::with_parser(self.config.parser, self.config.max_attachments);
    }
}
