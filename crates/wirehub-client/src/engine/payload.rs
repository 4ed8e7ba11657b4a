//! Server-to-client long-polling payloads: packets separated by `0x1e`,
//! binary ones written `b` + base64. (The proto crate's decoder is the
//! server's and refuses server-only packets such as `open`.)

use crate::error::Error;
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use bytes::Bytes;
use wirehub_proto::engineio::Packet;
use wirehub_proto::Str;

/// Splits a response body into packets.
pub(crate) fn decode(body: Bytes) -> Result<Vec<Packet>, Error> {
    let text = Str::from_utf8(body).map_err(|_| protocol("payload is not UTF-8"))?;
    let mut packets = Vec::new();
    for record in text.split('\u{1e}') {
        if let Some(b64) = record.strip_prefix('b') {
            let data = BASE64
                .decode(b64)
                .map_err(|_| protocol("invalid base64 in a binary packet"))?;
            packets.push(Packet::binary(data));
        } else {
            let packet = Packet::decode_text(text.slice_ref(record))
                .map_err(|e| protocol(&e.to_string()))?;
            packets.push(packet);
        }
    }
    Ok(packets)
}

fn protocol(what: &str) -> Error {
    Error::Protocol(what.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_open_noop_and_binary() {
        let got = decode(Bytes::from_static(b"0{\"sid\":\"x\"}\x1e6\x1ebAQI=")).unwrap();
        assert_eq!(
            got,
            vec![
                Packet::Open(Str::from_static("{\"sid\":\"x\"}")),
                Packet::Noop,
                Packet::binary(vec![1u8, 2])
            ]
        );
        assert!(decode(Bytes::from_static(b"9")).is_err());
        assert!(decode(Bytes::from_static(b"b!!")).is_err());
    }
}
