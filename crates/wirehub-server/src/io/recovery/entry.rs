//! One packet of the replay log, packed into a single allocation.
//!
//! The log holds every replayable packet of the window, and with recovery
//! on a server that greets each connection with an emit logs one packet
//! per connection: an entry's size is part of the idle cost of a
//! connection. An entry is therefore its offset, its time and one boxed
//! byte string (event, replay token, rooms, except, arguments and
//! attachments, each length-prefixed with a LEB128 varint) — 32 bytes in
//! the log plus one allocation of about the packet's size, instead of a
//! struct of shared buffers with an allocation each. Unpacking (on a
//! restore) copies; checking whether a session's rooms admit the packet
//! does not.

use crate::conn::{Delivery, DeliveryParts};
use bytes::Bytes;
use std::sync::Arc;
use wirehub_proto::socketio::Args;
use wirehub_proto::Str;

/// A logged packet (see the module docs).
pub(super) struct Entry {
    offset: u64,
    /// When it was logged, in milliseconds since the store's epoch.
    at_ms: u64,
    packed: Box<[u8]>,
}

/// What an entry is packed from.
pub(super) struct Packet<'a> {
    pub rooms: &'a [Str],
    pub except: &'a [Str],
    pub delivery: &'a Delivery,
}

impl Entry {
    /// Packs `packet`, logged under `offset` at `at_ms`.
    pub(super) fn pack(offset: u64, at_ms: u64, packet: Packet<'_>) -> Self {
        let d = packet.delivery;
        let mut out = Vec::with_capacity(packed_len(&packet));
        put(&mut out, d.event().as_bytes());
        match d.replay() {
            Some(token) => {
                put_len(&mut out, token.len() + 1);
                out.extend_from_slice(token.as_bytes());
            }
            None => put_len(&mut out, 0),
        }
        put_all(&mut out, packet.rooms.iter().map(|r| r.as_bytes().as_ref()));
        put_all(
            &mut out,
            packet.except.iter().map(|r| r.as_bytes().as_ref()),
        );
        put_all(
            &mut out,
            d.args().raw().iter().map(|a| a.as_bytes().as_ref()),
        );
        put_all(&mut out, d.args().attachments().iter().map(|a| a.as_ref()));
        Entry {
            offset,
            at_ms,
            packed: out.into_boxed_slice(),
        }
    }

    pub(super) fn offset(&self) -> u64 {
        self.offset
    }

    pub(super) fn at_ms(&self) -> u64 {
        self.at_ms
    }

    /// The bytes the entry occupies (what the log's byte cap counts).
    pub(super) fn size(&self) -> usize {
        self.packed.len()
    }

    /// The bytes of its arguments and attachments (what a session's cap of
    /// missed bytes counts).
    pub(super) fn args_bytes(&self) -> usize {
        let mut r = self.reader();
        r.skip_head();
        let items: usize = r.list().map(<[u8]>::len).sum();
        let attachments: usize = r.list().map(<[u8]>::len).sum();
        items + attachments
    }

    /// Whether a socket in `session_rooms` should get it (Node's
    /// `shouldIncludePacket`, as [`super::admits`]).
    pub(super) fn admits(&self, session_rooms: &[Str]) -> bool {
        let has = |room: &[u8]| session_rooms.iter().any(|r| r.as_bytes() == room);
        let mut r = self.reader();
        r.bytes();
        r.replay();
        let (mut any_room, mut in_room) = (false, false);
        for room in r.list() {
            any_room = true;
            in_room |= has(room);
        }
        let excluded = r.list().any(has);
        (in_room || !any_room) && !excluded
    }

    /// The packet as a delivery again, carrying its offset and token.
    pub(super) fn delivery(&self, ns: &Str) -> Arc<Delivery> {
        let mut r = self.reader();
        let event = text(r.bytes());
        let replay = r.replay().map(text);
        let _rooms = r.list().count();
        let _except = r.list().count();
        let items = r.list().map(text).collect();
        let attachments = r.list().map(Bytes::copy_from_slice).collect();
        Arc::new(Delivery::new(DeliveryParts {
            ns: ns.clone(),
            event,
            args: Args::from_parts(items, attachments),
            ack_id: None,
            room: None,
            offset: Some(self.offset),
            replay,
        }))
    }

    fn reader(&self) -> Reader<'_> {
        Reader(&self.packed)
    }
}

/// A packed string back as a [`Str`]: it was packed from one, so it is
/// UTF-8 (an impossible invalid one would come back empty).
fn text(bytes: &[u8]) -> Str {
    std::str::from_utf8(bytes)
        .map(|s| Str::from(s.to_owned()))
        .unwrap_or_default()
}

fn packed_len(p: &Packet<'_>) -> usize {
    let d = p.delivery;
    let strings = p.rooms.len() + p.except.len() + d.args().raw().len() + 3;
    let lengths = d.event().len()
        + d.replay().map_or(0, |t| t.len())
        + p.rooms.iter().map(|r| r.len()).sum::<usize>()
        + p.except.iter().map(|r| r.len()).sum::<usize>()
        + d.args().json_len()
        + d.args().attachments().iter().map(Bytes::len).sum::<usize>();
    lengths + 2 * (strings + d.args().attachments().len()) + 4
}

fn put_len(out: &mut Vec<u8>, mut n: usize) {
    while n >= 0x80 {
        out.push((n as u8 & 0x7f) | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
}

fn put(out: &mut Vec<u8>, bytes: &[u8]) {
    put_len(out, bytes.len());
    out.extend_from_slice(bytes);
}

fn put_all<'a>(out: &mut Vec<u8>, items: impl ExactSizeIterator<Item = &'a [u8]>) {
    put_len(out, items.len());
    for item in items {
        put(out, item);
    }
}

/// Reads what [`Entry::pack`] wrote; past the end it reads zeros and empty
/// strings (never happens: the entry was packed by this module).
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn len(&mut self) -> usize {
        let mut n = 0usize;
        for shift in (0..64).step_by(7) {
            let Some((&byte, rest)) = self.0.split_first() else {
                return n;
            };
            self.0 = rest;
            n |= usize::from(byte & 0x7f) << shift;
            if byte < 0x80 {
                break;
            }
        }
        n
    }

    fn take(&mut self, n: usize) -> &'a [u8] {
        let (head, rest) = self.0.split_at(n.min(self.0.len()));
        self.0 = rest;
        head
    }

    fn bytes(&mut self) -> &'a [u8] {
        let n = self.len();
        self.take(n)
    }

    /// The replay token: its length is written plus one, zero for none.
    fn replay(&mut self) -> Option<&'a [u8]> {
        match self.len() {
            0 => None,
            n => Some(self.take(n - 1)),
        }
    }

    /// Skips the event, the replay token, the rooms and except.
    fn skip_head(&mut self) {
        self.bytes();
        self.replay();
        let _rooms = self.list().count();
        let _except = self.list().count();
    }

    /// A counted list of strings, consumed as it is iterated (iterate it to
    /// the end before reading on).
    fn list(&mut self) -> List<'_, 'a> {
        let left = self.len();
        List { reader: self, left }
    }
}

struct List<'r, 'a> {
    reader: &'r mut Reader<'a>,
    left: usize,
}

impl<'a> Iterator for List<'_, 'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        if self.left == 0 {
            return None;
        }
        self.left -= 1;
        Some(self.reader.bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(text: &str) -> Str {
        Str::from(text.to_owned())
    }

    fn delivery(replay: Option<&str>, attachments: Vec<Bytes>) -> Delivery {
        Delivery::new(DeliveryParts {
            ns: s("/chat"),
            event: s("évent"),
            args: Args::from_parts(vec![s("1"), s(&"x".repeat(300)), s("{}")], attachments),
            ack_id: Some(3),
            room: Some(s("r")),
            offset: Some(9),
            replay: replay.map(s),
        })
    }

    #[test]
    fn a_packed_entry_gives_the_packet_back() {
        for (replay, attachments) in [
            (None, vec![]),
            (Some(""), vec![Bytes::from_static(b"\x00\xff")]),
            (
                Some("1712-0"),
                vec![Bytes::new(), Bytes::from(vec![7; 200])],
            ),
        ] {
            let d = delivery(replay, attachments.clone());
            let (rooms, except) = ([s("a"), s("b")], [s("c")]);
            let entry = Entry::pack(
                42,
                7,
                Packet {
                    rooms: &rooms,
                    except: &except,
                    delivery: &d,
                },
            );
            let back = entry.delivery(&s("/chat"));
            assert_eq!(back.event(), "évent");
            assert_eq!(back.args().raw(), d.args().raw());
            assert_eq!(back.args().attachments(), &attachments[..]);
            assert_eq!(back.replay().map(Str::as_str), replay);
            assert_eq!(
                (back.offset(), back.ack_id(), back.room()),
                (Some(42), None, None)
            );
            assert_eq!((entry.offset(), entry.at_ms()), (42, 7));
            let att: usize = attachments.iter().map(Bytes::len).sum();
            assert_eq!(entry.args_bytes(), 1 + 300 + 2 + att);
            assert!(entry.admits(&[s("a")]) && !entry.admits(&[s("a"), s("c")]));
            assert!(!entry.admits(&[s("z")]));
            assert!(
                entry.size()
                    <= packed_len(&Packet {
                        rooms: &rooms,
                        except: &except,
                        delivery: &d,
                    })
            );
        }
    }

    #[test]
    fn an_entry_is_32_bytes_in_the_log() {
        assert_eq!(std::mem::size_of::<Entry>(), 32);
    }
}
