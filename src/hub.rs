//! The standalone server's namespaces besides the chat demo's `/`: every
//! other namespace exists on demand and offers only the room events
//! (`hub:join`, `hub:leave`, `hub:publish`), so Socket.IO and plain
//! clients can share rooms in any namespace without server code. Their
//! number is capped (`max_dynamic_namespaces`): unused ones make room.

use wirehub_server::io::SocketRef;
use wirehub_server::plain::install_room_events;
use wirehub_server::SocketIo;

/// Registers the on-demand namespaces.
pub(crate) fn register(io: &SocketIo) {
    io.dyn_ns_fn(
        |name| name != "/",
        |socket: SocketRef| async move { install_room_events(&socket) },
    );
}
