//! Calling the user's socket handlers (events, connect, connect error,
//! disconnect) and manager listeners.

use super::Driver;
use crate::ack::AckSender;
use crate::error::Error;
use crate::extract::HandlerCx;
use crate::handler::Lifecycle;
use crate::manager::{Manager, ManagerEvent};
use crate::reason::DisconnectReason;
use crate::socket::{Socket, SocketShared};
use std::sync::Arc;
use wirehub_proto::socketio::Args;
use wirehub_proto::Str;

impl Driver {
    pub(super) fn socket(&self, shared: &Arc<SocketShared>) -> Option<Socket> {
        let inner = self.manager.upgrade()?;
        Some(Socket::new(Manager { inner }, shared.clone()))
    }

    pub(super) fn dispatch_event(&self, ns: &Str, name: &Str, args: &Args, id: Option<u64>) {
        let Some(n) = self.namespaces.get(ns) else {
            return;
        };
        let handlers = n.shared.with_handlers(|h| h.for_event(name));
        let Some(socket) = self.socket(&n.shared) else {
            return;
        };
        let ack = AckSender::new(socket.clone(), id);
        let cx = HandlerCx {
            socket: &socket,
            event: Some(name),
            args,
            ack: Some(&ack),
            reason: None,
            error: None,
        };
        for handler in handlers {
            handler.call(&cx);
        }
    }

    pub(super) fn lifecycle(
        &self,
        ns: &Str,
        which: Lifecycle,
        reason: Option<DisconnectReason>,
        error: Option<&Error>,
    ) {
        let Some(n) = self.namespaces.get(ns) else {
            return;
        };
        let handlers = n.shared.with_handlers(|h| h.lifecycle(which));
        if handlers.is_empty() {
            return;
        }
        let Some(socket) = self.socket(&n.shared) else {
            return;
        };
        let args = Args::empty();
        let cx = HandlerCx {
            socket: &socket,
            event: None,
            args: &args,
            ack: None,
            reason,
            error,
        };
        for handler in handlers {
            handler.call(&cx);
        }
    }

    pub(super) fn notify(&self, event: ManagerEvent) {
        for listener in &self.listeners {
            listener(&event);
        }
    }
}
