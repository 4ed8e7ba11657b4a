//! The admin UI: the `/admin` namespace protocol of `@socket.io/admin-ui`
//! (0.5.x), so that its dashboard (from the npm package, or the hosted
//! copy) shows this server's stats, sockets, rooms and events, and can make
//! sockets join or leave rooms, disconnect them, or emit to them.
//!
//! Turned on with [`crate::SocketIoBuilder::admin_ui`]. The server then
//! holds an [`AdminUi`] as its [`crate::io::ServerObserver`]; with it off,
//! no hook costs more than a branch on `None`.
//!
//! - `options`: [`AdminOptions`] and [`Credentials`] (what Node's
//!   `instrument(io, opts)` takes).
//! - `auth`: the credential check on CONNECT and the session ids the
//!   dashboard presents when it comes back.
//! - `serialize`: a socket as the dashboard renders it.
//! - `stats`: `server_stats`: Engine.IO clients, namespaces, aggregated
//!   connection events.
//! - `observer`: [`AdminUi`]: registers the namespace, answers the
//!   dashboard's operations, forwards the server's activity to it.

mod auth;
mod observer;
mod options;
mod serialize;
mod stats;

pub(crate) use observer::AdminUi;
pub use options::{AdminError, AdminMode, AdminOptions, Credentials};
