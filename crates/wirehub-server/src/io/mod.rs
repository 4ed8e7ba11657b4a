//! The Socket.IO server: namespaces, sockets, events, acknowledgements, rooms
//! and broadcasts, on top of [`crate::engine`].
//!
//! - `server`: [`SocketIo`], the handle users keep, and namespace lookup.
//! - `client`: one Engine.IO session's Socket.IO state (namespace sockets,
//!   binary reassembly, connect timeout).
//! - `namespace`: a namespace's sockets, middlewares and adapter.
//! - `socket`: one socket: handlers, emits, acks, rooms, extensions.
//! - `handler` / `extract`: async handlers whose arguments are extractors.
//! - `ack`: acknowledgement futures and senders.
//! - `broadcast`: the `to` / `except` / `volatile` / `timeout` operators.
//! - [`adapter`]: the seam every broadcast and room operation goes through:
//!   the local room index (keyed by socket id), the in-memory adapter, and
//!   the trait cluster adapters implement.
//! - `remote`: [`RemoteSocket`], a socket found on any node.
//! - `server_event`: server-side events between nodes.
//! - `handshake`: a socket's handshake as Node describes it.
//! - `link`: what a socket's packets travel over (Engine.IO or a plain transport).
//! - `delivery`: a broadcast event, encoded at most once per wire format.
//! - `history`: each namespace's room history (replay for plain transports).

mod ack;
pub mod adapter;
mod broadcast;
mod client;
pub(crate) mod delivery;
mod error;
mod extract;
mod handler;
mod handshake;
mod history;
mod link;
mod namespace;
mod reason;
mod remote;
pub(crate) mod rooms;
mod server;
mod server_event;
mod socket;

pub use ack::{AckError, AckSender};
pub use adapter::{
    AckAnswer, AckResponses, Adapter, AdapterCx, AdapterError, AdapterFactory, BroadcastOptions,
    LocalAdapter, LocalEmitter, MemoryAdapter, Message, Published, RemoteSocketData, ServerAcks,
};
pub use broadcast::BroadcastOperator;
pub use client::Client;
pub use delivery::Delivery;
pub use error::{ConnectError, EmitError};
pub use extract::{Bin, Data, Event, ExtractError, FromCx, HandlerCx, RawArgs, Seq, TryData};
pub use handler::{Handler, Middleware, MiddlewareFuture};
pub use history::{HistoryRead, RoomHistory};
pub(crate) use link::Link;
pub use link::Transport;
pub use namespace::NamespaceRef;
pub use reason::DisconnectReason;
pub use remote::RemoteSocket;
pub use rooms::{IntoRooms, Room};
pub use server::{SocketIo, SocketIoHandler};
pub use server_event::{ServerAck, ServerEventHandler};
pub use socket::{Socket, SocketRef};
