//! [`RemoteSocketData`]: a socket described as data, so that a node can
//! answer `fetchSockets` for another (Node's `RemoteSocket` payload).

use crate::io::rooms::Room;
use serde::{Deserialize, Serialize};
use wirehub_proto::Str;

/// A socket as another node sees it: `{id, handshake, rooms, data}`, the
/// payload of a `fetchSockets` answer in Node's adapters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RemoteSocketData {
    /// The socket id.
    pub id: Str,
    /// The handshake as Node describes it: `headers`, `time`, `address`,
    /// `xdomain`, `secure`, `issued`, `url`, `query`, `auth`.
    #[serde(default)]
    pub handshake: serde_json::Value,
    /// The rooms it is in, its own id included.
    #[serde(default)]
    pub rooms: Vec<Room>,
    /// The socket's serialisable data (`socket.data`).
    #[serde(default)]
    pub data: serde_json::Value,
}
