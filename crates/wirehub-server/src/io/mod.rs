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
//! - `observer`: [`ServerObserver`], the optional listener on connections,
//!   rooms and events (admin UI, metrics).
//! - `history`: each namespace's room history (replay for plain transports).
//! - [`recovery`]: connection-state recovery: dropped sessions and the
//!   replay log of what they miss.

mod ack;
pub mod adapter;
mod broadcast;
mod client;
mod error;
mod extract;
mod handler;
mod handshake;
mod history;
mod namespace;
pub(crate) mod observer;
mod reason;
pub mod recovery;
mod remote;
pub(crate) mod rooms;
mod server;
mod server_event;
mod socket;

pub use crate::conn::Delivery;
pub(crate) use crate::conn::Link;
pub use crate::conn::Transport;
pub use ack::{AckError, AckSender};
pub use adapter::{
    AckAnswer, AckResponses, Adapter, AdapterCx, AdapterError, AdapterFactory, BroadcastOptions,
    LocalAdapter, LocalEmitter, MemoryAdapter, Message, Partial, Published, RemoteSocketData,
    ServerAcks,
};
pub use broadcast::BroadcastOperator;
pub use client::Client;
pub use error::{ConnectError, EmitError};
pub use extract::{
    Bin, Claims, Data, Event, ExtractError, FromCx, HandlerCx, RawArgs, Seq, TryData,
};
pub use handler::{Handler, Middleware, MiddlewareFuture};
pub(crate) use handshake::iso_string;
pub use history::{HistoryRead, RoomHistory};
pub(crate) use namespace::Namespace;
pub use namespace::NamespaceRef;
pub use observer::ServerObserver;
pub use reason::DisconnectReason;
pub use recovery::{RecoveryConfig, RestoredSession, SessionState};
pub use remote::RemoteSocket;
pub use rooms::{IntoRooms, Room};
pub(crate) use server::ServerInner;
pub use server::{SocketIo, SocketIoHandler};
pub use server_event::{ServerAck, ServerEventHandler};
pub use socket::{Socket, SocketRef};
