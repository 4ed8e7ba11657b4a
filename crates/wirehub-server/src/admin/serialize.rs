//! A socket as the dashboard renders it (Node's `serialize(socket, nsp)`):
//! `id`, `clientId`, `transport`, `nsp`, `data`, `handshake` (without
//! `auth`, which may hold a password) and `rooms`.

use crate::io::Socket;
use serde_json::{json, Value};

/// The dashboard's view of `socket`.
pub(crate) fn socket(socket: &Socket) -> Value {
    let described = socket.describe();
    let mut handshake = described.handshake;
    if let Some(fields) = handshake.as_object_mut() {
        fields.remove("auth");
        // As Node: the address a proxy saw first, if it says so.
        let forwarded = ["cf-connecting-ip", "x-forwarded-for"]
            .iter()
            .find_map(|h| socket.handshake().headers.get(*h)?.to_str().ok());
        if let Some(address) = forwarded {
            fields.insert("address".into(), Value::String(address.to_owned()));
        }
    }
    json!({
        "id": described.id,
        "clientId": socket.client_id(),
        "transport": socket.transport().map(|t| t.as_str()),
        "nsp": socket.ns_name(),
        "data": described.data,
        "handshake": handshake,
        "rooms": described.rooms,
    })
}
