//! Compressing and inflating one message (RFC 7692, section 7.2): raw
//! DEFLATE ended by a sync flush whose `00 00 ff ff` tail is cut off on the
//! wire and put back before inflating.
//!
//! Both directions run without context takeover (see
//! [`negotiate`](super::negotiate)): every message starts from an empty
//! window, so no connection keeps a compressor or an inflater. Each thread
//! keeps one of each, made on first use and reset before every message;
//! their cost is per thread, not per connection.

use bytes::Bytes;
use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress, Status};
use std::cell::RefCell;

/// What a sync flush ends with; cut from sent messages, put back on received ones.
const TAIL: [u8; 4] = [0x00, 0x00, 0xff, 0xff];

/// The compression level: 1, miniz's fastest. On a 4 KiB JSON event it
/// gave 709 bytes for 26-39 us, level 6 509 bytes for 61 us (README,
/// "Compression"): a server compresses for every recipient, so CPU first.
const LEVEL: u32 = 1;

thread_local! {
    static COMPRESSOR: RefCell<Option<Compress>> = const { RefCell::new(None) };
    static INFLATER: RefCell<Option<Decompress>> = const { RefCell::new(None) };
}

/// Why a compressed message could not be inflated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum InflateError {
    /// It inflates past the size limit; fail the connection with 1009.
    #[error("inflated message over the size limit")]
    TooBig,
    /// It is not valid DEFLATE data; fail the connection with 1002.
    #[error("compressed message is not valid DEFLATE data")]
    Corrupt,
}

/// `payload` compressed as one message's frame payload (to be sent with
/// RSV1 set); `None` only if the compressor fails (miniz reports no error
/// for valid calls): the message then goes out as it is.
///
/// What does not shrink is still sent compressed, a few bytes larger:
/// kosoku, the Autobahn runner, fails on an uncompressed message in a
/// deflate session (its sections 12 and 13), and the threshold already
/// keeps the short messages, the ones that grow, out.
pub fn compress(payload: &[u8]) -> Option<Bytes> {
    COMPRESSOR.with(|cell| {
        let mut cell = cell.borrow_mut();
        let compressor = cell.get_or_insert_with(|| Compress::new(Compression::new(LEVEL), false));
        compressor.reset();
        let out = deflate_sync(compressor, payload)?;
        let body = out.strip_suffix(&TAIL).unwrap_or(&out);
        Some(Bytes::copy_from_slice(body))
    })
}

/// Runs `input` through the compressor and a sync flush, in one call into
/// a buffer sized for the worst case; `None` if that call did not finish
/// (the message then goes out uncompressed).
///
/// One call, because resuming a sync flush that filled its buffer lost
/// data: calling again with a larger buffer left out part of the message,
/// and 64 KiB of a bitmap came back up to 4 KiB short (Autobahn 12.2.9;
/// the `many_bitmap_like_messages_in_a_row` test fails that way).
fn deflate_sync(compressor: &mut Compress, input: &[u8]) -> Option<Vec<u8>> {
    // Stored blocks cost 5 bytes per 65,535; the flush and a final partial
    // block at most a few more.
    let bound = input.len() + input.len() / 1024 * 8 + 128;
    let mut out = Vec::with_capacity(bound);
    compressor
        .compress_vec(input, &mut out, FlushCompress::Sync)
        .ok()?;
    let done = usize::try_from(compressor.total_in()).ok()? == input.len();
    (done && out.len() < out.capacity()).then_some(out)
}

/// Inflates one message's payload (frames joined, RSV1 set on the first),
/// failing once the result would pass `limit` bytes, so a small message
/// that inflates to gigabytes costs at most `limit` bytes of memory.
pub fn inflate(payload: &[u8], limit: usize) -> Result<Vec<u8>, InflateError> {
    INFLATER.with(|cell| {
        let mut cell = cell.borrow_mut();
        let inflater = cell.get_or_insert_with(|| Decompress::new(false));
        inflater.reset(false);
        let first = payload.len().saturating_mul(2).max(64);
        let mut out = Vec::with_capacity(first.min(limit.saturating_add(1)));
        for input in [payload, &TAIL[..]] {
            if inflate_part(inflater, input, &mut out, limit)? == Status::StreamEnd {
                // A final block: whatever follows (the tail) is not data.
                break;
            }
        }
        Ok(out)
    })
}

/// Feeds all of `input` to the inflater, growing `out` up to `limit + 1`.
fn inflate_part(
    inflater: &mut Decompress,
    input: &[u8],
    out: &mut Vec<u8>,
    limit: usize,
) -> Result<Status, InflateError> {
    let start = inflater.total_in();
    loop {
        if out.len() == out.capacity() {
            let grown = out
                .capacity()
                .saturating_mul(2)
                .min(limit.saturating_add(1));
            out.reserve_exact(grown - out.len());
        }
        let consumed =
            usize::try_from(inflater.total_in() - start).map_err(|_| InflateError::Corrupt)?;
        let rest = input.get(consumed..).ok_or(InflateError::Corrupt)?;
        let before = (inflater.total_in(), inflater.total_out());
        let status = inflater
            .decompress_vec(rest, out, FlushDecompress::Sync)
            .map_err(|_| InflateError::Corrupt)?;
        if out.len() > limit {
            return Err(InflateError::TooBig);
        }
        let progressed = before != (inflater.total_in(), inflater.total_out());
        let all_in = inflater.total_in() - start == input.len() as u64;
        match status {
            Status::StreamEnd => return Ok(status),
            _ if all_in && out.len() < out.capacity() => return Ok(status),
            // No progress with room to write: the input ends mid-block.
            _ if !progressed && out.len() < out.capacity() => return Ok(status),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json(len: usize) -> Vec<u8> {
        let mut s = String::from("[");
        let mut i = 0;
        while s.len() < len {
            s.push_str(&format!(
                "{{\"id\":{i},\"name\":\"user{i}\",\"online\":true}},"
            ));
            i += 1;
        }
        s.truncate(len);
        s.into_bytes()
    }

    #[test]
    fn round_trips_of_every_size() {
        for len in [1, 10, 100, 1000, 4096, 65_536, 1 << 20] {
            let data = json(len);
            let sent = compress(&data).unwrap();
            if len >= 100 {
                assert!(sent.len() < data.len(), "len {len} did not shrink");
            }
            assert!(!sent.ends_with(&TAIL));
            assert_eq!(inflate(&sent, len).as_deref(), Ok(&data[..]), "len {len}");
        }
    }

    #[test]
    fn binary_round_trips_of_every_size() {
        // Bytes from a small alphabet: compressible, unlike text.
        let mut x = 0x9e37_79b9_u32;
        for len in [16, 64, 256, 1024, 4096, 16_384, 65_536, 131_072] {
            let data: Vec<u8> = (0..len)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 17;
                    x ^= x << 5;
                    b"abcdefgh"[(x % 8) as usize]
                })
                .collect();
            let sent = compress(&data).unwrap();
            assert_eq!(inflate(&sent, len).map(|v| v.len()), Ok(len), "len {len}");
            assert_eq!(inflate(&sent, len).unwrap(), data, "len {len}");
        }
    }

    #[test]
    fn incompressible_data_of_every_size() {
        // Six random bits per byte: output over half the input, the case
        // a resumed flush got wrong.
        let mut x = 0x1234_5678_u32;
        for len in [1000, 40_000, 65_536, 131_072, 1 << 20] {
            let data: Vec<u8> = (0..len)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 17;
                    x ^= x << 5;
                    (x & 0x3f) as u8
                })
                .collect();
            let sent = compress(&data).unwrap();
            assert!(sent.len() > len / 2, "len {len}: {}", sent.len());
            assert_eq!(inflate(&sent, len).unwrap(), data, "len {len}");
        }
    }

    #[test]
    fn many_bitmap_like_messages_in_a_row() {
        // Runs of random lengths and values (an image's rows), one message
        // after another on the same compressor, as Autobahn's 12.2.x send.
        let mut x = 0x0bad_f00d_u32;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x
        };
        let image: Vec<u8> = (0..300_000)
            .flat_map(|_| {
                let (value, run) = (next() as u8, next() % 4 + 1);
                std::iter::repeat_n(value, run as usize)
            })
            .take(263_222)
            .collect();
        for (i, start) in (0..40).map(|i| (i, i * 65_536 % image.len())) {
            let data: Vec<u8> = image
                .iter()
                .cycle()
                .skip(start)
                .take(65_536)
                .copied()
                .collect();
            let sent = compress(&data).unwrap();
            assert_eq!(
                inflate(&sent, 1 << 20).map(|d| d.len()),
                Ok(65_536),
                "message {i}"
            );
        }
    }

    #[test]
    fn what_does_not_shrink_grows_by_a_few_bytes() {
        // xorshift: bytes deflate cannot shrink.
        let mut x = 0x2545_f491_u32;
        let noise: Vec<u8> = (0..1000)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                x as u8
            })
            .collect();
        let sent = compress(&noise).unwrap();
        assert!(sent.len() <= noise.len() + 8, "{}", sent.len());
        assert_eq!(inflate(&sent, 1000).unwrap(), noise);
        assert_eq!(inflate(&compress(b"").unwrap(), 0).unwrap(), b"");
    }

    #[test]
    fn messages_do_not_share_a_window() {
        // Without context takeover the same message compresses the same
        // way every time, and each inflates on its own.
        let data = json(4096);
        let first = compress(&data).unwrap();
        let second = compress(&data).unwrap();
        assert_eq!(first, second);
        assert_eq!(inflate(&second, 4096).unwrap(), data);
    }

    #[test]
    fn the_rfc_examples() {
        // RFC 7692, section 7.2.3.1: "Hello" compressed, and (7.2.3.4)
        // two DEFLATE blocks in one message.
        let hello = [0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00];
        assert_eq!(inflate(&hello, 100).unwrap(), b"Hello");
        let blocks = [
            0xf2, 0x48, 0x05, 0x00, 0x00, 0x00, 0xff, 0xff, 0xca, 0xc9, 0xc9, 0x07, 0x00,
        ];
        assert_eq!(inflate(&blocks, 100).unwrap(), b"Hello");
        // 7.2.3.3: a stored (uncompressed) block; 7.2.3.5: a final block.
        let stored = [
            0x00, 0x05, 0x00, 0xfa, 0xff, 0x48, 0x65, 0x6c, 0x6c, 0x6f, 0x00,
        ];
        assert_eq!(inflate(&stored, 100).unwrap(), b"Hello");
        let last = [0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0x00];
        assert_eq!(inflate(&last, 100).unwrap(), b"Hello");
    }

    #[test]
    fn a_bomb_stops_at_the_limit() {
        // 16 MiB of zeros in a few dozen KiB.
        let bomb = compress(&vec![0; 16 << 20]).unwrap();
        assert!(bomb.len() < 100 * 1024, "{}", bomb.len());
        assert_eq!(inflate(&bomb, 1_000_000), Err(InflateError::TooBig));
        assert_eq!(inflate(&bomb, 16 << 20).map(|v| v.len()), Ok(16 << 20));
    }

    #[test]
    fn garbage_is_refused() {
        assert_eq!(inflate(&[0xff; 32], 1000), Err(InflateError::Corrupt));
    }
}
