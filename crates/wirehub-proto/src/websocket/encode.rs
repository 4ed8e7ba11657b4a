//! Server frames: headers for payloads sent beside them, and whole control
//! frames. Server frames are never masked.

use super::opcode;

/// The longest header of an unmasked frame: 2 bytes and a 64-bit length.
const MAX_HEAD: usize = 10;

/// The header of a final, unmasked frame (RFC 6455, section 5.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameHead {
    bytes: [u8; MAX_HEAD],
    len: u8,
}

impl FrameHead {
    /// No header (a placeholder in fixed arrays).
    pub const EMPTY: FrameHead = FrameHead {
        bytes: [0; MAX_HEAD],
        len: 0,
    };

    /// The header of a final frame with `opcode` and `payload_len` bytes.
    pub fn new(opcode: u8, payload_len: usize) -> FrameHead {
        let mut bytes = [0; MAX_HEAD];
        bytes[0] = 0x80 | (opcode & 0x0f);
        let len = if payload_len < 126 {
            bytes[1] = payload_len as u8;
            2
        } else if let Ok(short) = u16::try_from(payload_len) {
            bytes[1] = 126;
            bytes[2..4].copy_from_slice(&short.to_be_bytes());
            4
        } else {
            bytes[1] = 127;
            bytes[2..10].copy_from_slice(&(payload_len as u64).to_be_bytes());
            10
        };
        FrameHead { bytes, len }
    }

    /// The header of a final frame carrying a compressed message: RSV1 set
    /// (permessage-deflate, RFC 7692).
    pub fn compressed(opcode: u8, payload_len: usize) -> FrameHead {
        let mut head = FrameHead::new(opcode, payload_len);
        head.bytes[0] |= 0x40;
        head
    }

    /// The header's bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..usize::from(self.len)]
    }
}

/// A whole control frame (ping, pong or close); `payload` is cut to the 125
/// bytes a control frame may carry.
pub fn control_frame(opcode: u8, payload: &[u8]) -> Vec<u8> {
    let payload = &payload[..payload.len().min(125)];
    let mut frame = Vec::with_capacity(2 + payload.len());
    frame.extend_from_slice(FrameHead::new(opcode, payload.len()).as_bytes());
    frame.extend_from_slice(payload);
    frame
}

/// A close frame's payload: the code, then as much of `reason` as fits in
/// 123 bytes without splitting a character.
pub fn close_payload(code: u16, reason: &str) -> Vec<u8> {
    let mut end = reason.len().min(123);
    while !reason.is_char_boundary(end) {
        end -= 1;
    }
    let mut payload = Vec::with_capacity(2 + end);
    payload.extend_from_slice(&code.to_be_bytes());
    payload.extend_from_slice(&reason.as_bytes()[..end]);
    payload
}

/// A close frame with `code` and `reason`.
pub fn close_frame(code: u16, reason: &str) -> Vec<u8> {
    control_frame(opcode::CLOSE, &close_payload(code, reason))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_lengths() {
        assert_eq!(FrameHead::new(1, 0).as_bytes(), [0x81, 0]);
        assert_eq!(FrameHead::new(2, 125).as_bytes(), [0x82, 125]);
        assert_eq!(FrameHead::new(1, 126).as_bytes(), [0x81, 126, 0, 126]);
        assert_eq!(
            FrameHead::new(1, 65_535).as_bytes(),
            [0x81, 126, 0xff, 0xff]
        );
        assert_eq!(
            FrameHead::new(2, 65_536).as_bytes(),
            [0x82, 127, 0, 0, 0, 0, 0, 1, 0, 0]
        );
    }

    #[test]
    fn compressed_headers_set_rsv1() {
        assert_eq!(FrameHead::compressed(1, 7).as_bytes(), [0xc1, 7]);
        assert_eq!(FrameHead::compressed(2, 300).as_bytes(), [0xc2, 126, 1, 44]);
    }

    #[test]
    fn control_frames_are_cut_to_125_bytes() {
        let ping = control_frame(opcode::PING, &[7; 200]);
        assert_eq!(ping[..2], [0x89, 125]);
        assert_eq!(ping.len(), 127);
        assert_eq!(control_frame(opcode::PONG, b""), [0x8a, 0]);
    }

    #[test]
    fn close_reasons_are_cut_on_a_character_boundary() {
        assert_eq!(
            close_frame(1000, "bye"),
            [0x88, 5, 0x03, 0xe8, b'b', b'y', b'e']
        );
        let long = "é".repeat(100);
        let payload = close_payload(1001, &long);
        assert_eq!(payload.len(), 2 + 122);
        assert!(std::str::from_utf8(&payload[2..]).is_ok());
    }
}
