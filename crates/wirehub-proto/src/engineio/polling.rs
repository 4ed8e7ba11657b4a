//! The long-polling half of a [`Session`](super::Session): whether the
//! driver holds a GET, the packets the session queued for the next one, and
//! whether a held GET must be ended without data (during an upgrade).
//!
//! Entries queued by the layers above live in the driver's mailbox, which
//! this state never sees: the driver ends a held GET itself when it has
//! some, and tells the session with [`PollBuffer::answered`].

use super::packet::Packet;
use std::time::Instant;

/// When a held GET is ended even with nothing to send.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
enum Flush {
    /// Only when there is something to send.
    #[default]
    Off,
    /// At once, from this instant on.
    At(Instant),
    /// At once.
    Now,
}

/// The GET the driver holds and the packets waiting for it.
#[derive(Debug, Default)]
pub(super) struct PollBuffer {
    /// The driver holds a GET.
    held: bool,
    /// Packets the session itself sends on polling (pings), oldest first.
    queued: Vec<Packet>,
    flush: Flush,
}

impl PollBuffer {
    /// Whether the driver holds a GET.
    pub(super) fn is_held(&self) -> bool {
        self.held
    }

    /// A GET arrived and the driver holds it; returns its answer if it is
    /// due at once.
    pub(super) fn hold(&mut self) -> Option<Vec<Packet>> {
        self.held = true;
        self.due()
    }

    /// Queues a packet for the next GET; returns the held GET's answer if
    /// there is one.
    pub(super) fn push(&mut self, packet: Packet) -> Option<Vec<Packet>> {
        self.queued.push(packet);
        self.due()
    }

    /// The driver ended the held GET (or dropped it): returns the queued
    /// packets, which go first.
    pub(super) fn answered(&mut self) -> Vec<Packet> {
        self.held = false;
        std::mem::take(&mut self.queued)
    }

    /// End held GETs at once from `at` on.
    pub(super) fn flush_from(&mut self, at: Instant) {
        self.flush = Flush::At(at);
    }

    /// Back to ending held GETs only with data.
    pub(super) fn stop_flush(&mut self) {
        self.flush = Flush::Off;
    }

    /// When [`Self::on_timeout`] must next be called.
    pub(super) fn deadline(&self) -> Option<Instant> {
        match self.flush {
            Flush::At(at) => Some(at),
            Flush::Off | Flush::Now => None,
        }
    }

    /// Advances to `now`; returns the held GET's answer if it fell due.
    pub(super) fn on_timeout(&mut self, now: Instant) -> Option<Vec<Packet>> {
        match self.flush {
            Flush::At(at) if now >= at => {
                self.flush = Flush::Now;
                self.due()
            }
            _ => None,
        }
    }

    /// The held GET's answer, if one is held and due: the queued packets
    /// (empty when flushing with nothing queued).
    fn due(&mut self) -> Option<Vec<Packet>> {
        let due = !self.queued.is_empty() || self.flush == Flush::Now;
        (self.held && due).then(|| self.answered())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn a_held_get_waits_for_a_packet() {
        let mut b = PollBuffer::default();
        assert_eq!(b.hold(), None);
        assert!(b.is_held());
        assert_eq!(b.push(Packet::Ping), Some(vec![Packet::Ping]));
        assert!(!b.is_held());
    }

    #[test]
    fn packets_queued_without_a_get_answer_the_next_one() {
        let mut b = PollBuffer::default();
        assert_eq!(b.push(Packet::Ping), None);
        assert_eq!(b.push(Packet::Ping), None);
        assert_eq!(b.hold(), Some(vec![Packet::Ping, Packet::Ping]));
        assert_eq!(b.hold(), None);
    }

    #[test]
    fn flushing_answers_held_gets_from_its_deadline_until_stopped() {
        let t0 = Instant::now();
        let at = t0 + Duration::from_millis(20);
        let mut b = PollBuffer::default();
        assert_eq!(b.hold(), None);
        b.flush_from(at);
        assert_eq!(b.deadline(), Some(at));
        assert_eq!(b.on_timeout(at - Duration::from_millis(1)), None);
        assert_eq!(b.on_timeout(at), Some(vec![]));
        assert_eq!(b.deadline(), None);
        assert_eq!(b.hold(), Some(vec![]));
        b.stop_flush();
        assert_eq!(b.hold(), None);
    }
}
