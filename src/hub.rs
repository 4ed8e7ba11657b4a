//! The standalone server's namespaces besides the chat demo's `/`: every
//! other namespace named like `/name` (1 to 64 of `A-Z a-z 0-9 _ . ~ -`)
//! exists on demand and offers only the room events (`hub:join`,
//! `hub:leave`, `hub:publish`), so Socket.IO and plain clients can share
//! rooms in any such namespace without server code. Their number is capped
//! (`max_dynamic_namespaces`): unused ones make room. Other names are
//! refused as unknown namespaces.

use wirehub_server::io::SocketRef;
use wirehub_server::plain::install_room_events;
use wirehub_server::SocketIo;

/// The names of the namespaces created on demand.
const NAMES: &str = r"/[A-Za-z0-9_.~-]{1,64}";

/// Registers the on-demand namespaces.
pub(crate) fn register(io: &SocketIo) -> anyhow::Result<()> {
    io.dyn_ns(NAMES, |socket: SocketRef| async move {
        install_room_events(&socket)
    })?;
    Ok(())
}
