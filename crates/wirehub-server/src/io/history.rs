//! Room history: a bounded ring buffer of recent broadcasts per room (count
//! and age limits), with offsets that increase monotonically across the
//! whole namespace, so one number resumes a client subscribed to several
//! rooms. SSE resume, plain polling and HTTP streaming read it.
//!
//! Rooms are split over shards, each under its own short lock; waiters
//! (long polls) watch the latest offset. The number of rooms with history
//! is capped: past the cap, expired rooms are swept, and if none can go, a
//! new room's messages are delivered without being recorded.

use super::rooms::Room;
use crate::conn::Delivery;
use crate::sync::lock;
use std::collections::hash_map::RandomState;
use std::collections::{HashMap, VecDeque};
use std::hash::BuildHasher;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};
use tokio::sync::watch;

const SHARDS: usize = 16;
/// Records between sweeps of expired rooms.
const SWEEP_EVERY: u64 = 1024;

struct Entry {
    offset: u64,
    at: Instant,
    delivery: Arc<Delivery>,
}

#[derive(Default)]
struct RoomLog {
    entries: VecDeque<Entry>,
    /// The highest offset evicted from this room (0 if none).
    evicted: u64,
}

/// What a history read found.
#[derive(Debug, Default)]
pub struct HistoryRead {
    /// The messages after the cursor, oldest first.
    pub messages: Vec<Arc<Delivery>>,
    /// Some messages after the cursor were already evicted.
    pub truncated: bool,
    /// The cursor to pass next time.
    pub next: u64,
}

/// One namespace's room history.
pub struct RoomHistory {
    limit: usize,
    ttl: Duration,
    max_rooms: usize,
    rooms: AtomicUsize,
    /// When the history was created; sweeps are timed from it.
    born: Instant,
    /// Milliseconds after `born` of the last sweep forced by the room cap.
    forced_sweep_ms: AtomicU64,
    next: AtomicU64,
    hasher: RandomState,
    shards: Box<[Mutex<HashMap<Room, RoomLog>>]>,
    latest: watch::Sender<u64>,
}

impl std::fmt::Debug for RoomHistory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RoomHistory")
            .field("limit", &self.limit)
            .field("ttl", &self.ttl)
            .field("latest", &self.latest())
            .finish()
    }
}

impl RoomHistory {
    /// Keeps at most `limit` messages per room, none older than `ttl`, in at
    /// most `max_rooms` rooms.
    pub fn new(limit: usize, ttl: Duration, max_rooms: usize) -> Self {
        RoomHistory {
            limit,
            ttl,
            max_rooms,
            rooms: AtomicUsize::new(0),
            born: Instant::now(),
            forced_sweep_ms: AtomicU64::new(0),
            next: AtomicU64::new(1),
            hasher: RandomState::new(),
            shards: (0..SHARDS).map(|_| Mutex::default()).collect(),
            latest: watch::channel(0).0,
        }
    }

    fn shard(&self, room: &str) -> MutexGuard<'_, HashMap<Room, RoomLog>> {
        let i = (self.hasher.hash_one(room) as usize) % SHARDS;
        lock(&self.shards[i])
    }

    /// Whether anything is kept at all.
    pub fn enabled(&self) -> bool {
        self.limit > 0 && !self.ttl.is_zero()
    }

    /// Takes the next offset (before the message is built, so it can carry it).
    pub fn reserve(&self) -> u64 {
        self.next.fetch_add(1, Ordering::Relaxed)
    }

    /// The highest offset handed out so far (0 before the first).
    pub fn latest(&self) -> u64 {
        self.next.load(Ordering::Relaxed).saturating_sub(1)
    }

    /// Records a message (whose offset came from [`Self::reserve`]) in rooms.
    pub fn record(&self, rooms: &[Room], offset: u64, delivery: Arc<Delivery>) {
        let now = Instant::now();
        for room in rooms {
            let mut shard = self.shard(room);
            if !shard.contains_key(room) {
                if self.rooms.load(Ordering::Relaxed) >= self.max_rooms && self.sweep_due(now) {
                    drop(shard);
                    self.sweep(now);
                    shard = self.shard(room);
                }
                if self.rooms.load(Ordering::Relaxed) >= self.max_rooms {
                    continue;
                }
                shard.insert(room.clone(), RoomLog::default());
                self.rooms.fetch_add(1, Ordering::Relaxed);
            }
            let Some(log) = shard.get_mut(room) else {
                continue;
            };
            self.expire(log, now);
            // Concurrent publishers may record slightly out of order.
            let at = log
                .entries
                .iter()
                .rposition(|e| e.offset < offset)
                .map_or(0, |i| i + 1);
            log.entries.insert(
                at,
                Entry {
                    offset,
                    at: now,
                    delivery: delivery.clone(),
                },
            );
            while log.entries.len() > self.limit {
                if let Some(old) = log.entries.pop_front() {
                    log.evicted = log.evicted.max(old.offset);
                }
            }
        }
        // An offset from the cluster's sequence may be ahead of this node's.
        self.next.fetch_max(offset + 1, Ordering::Relaxed);
        self.latest.send_modify(|l| *l = (*l).max(offset));
        if offset % SWEEP_EVERY == 0 {
            self.sweep(now);
        }
    }

    fn expire(&self, log: &mut RoomLog, now: Instant) {
        while log
            .entries
            .front()
            .is_some_and(|e| now.duration_since(e.at) > self.ttl)
        {
            if let Some(old) = log.entries.pop_front() {
                log.evicted = log.evicted.max(old.offset);
            }
        }
    }

    /// Whether a sweep forced by the room cap may run now: at most one per
    /// quarter of the age limit, so that publishing to ever new rooms at the
    /// cap does not sweep on every message.
    fn sweep_due(&self, now: Instant) -> bool {
        let at = now.duration_since(self.born).as_millis() as u64;
        let every = (self.ttl.as_millis() as u64 / 4).max(1);
        let last = self.forced_sweep_ms.load(Ordering::Relaxed);
        at.saturating_sub(last) >= every
            && self
                .forced_sweep_ms
                .compare_exchange(last, at, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
    }

    /// Drops rooms whose messages all expired.
    fn sweep(&self, now: Instant) {
        for shard in self.shards.iter() {
            let mut shard = lock(shard);
            shard.retain(|_, log| {
                self.expire(log, now);
                let keep = !log.entries.is_empty();
                if !keep {
                    self.rooms.fetch_sub(1, Ordering::Relaxed);
                }
                keep
            });
        }
    }

    /// The messages of `rooms` with an offset above `since`, oldest first
    /// (a message published to several of them appears once), at most `max`.
    pub fn read(&self, rooms: &[Room], since: u64, max: usize) -> HistoryRead {
        let now = Instant::now();
        let mut found: Vec<(u64, Arc<Delivery>)> = Vec::new();
        let mut truncated = false;
        for room in rooms {
            let mut shard = self.shard(room);
            let Some(log) = shard.get_mut(room) else {
                continue;
            };
            self.expire(log, now);
            truncated |= log.evicted > since;
            let start = log.entries.partition_point(|e| e.offset <= since);
            found.extend(
                log.entries
                    .range(start..)
                    .map(|e| (e.offset, e.delivery.clone())),
            );
        }
        found.sort_by_key(|(offset, _)| *offset);
        found.dedup_by_key(|(offset, _)| *offset);
        let more = found.len() > max;
        found.truncate(max);
        let next = match found.last() {
            Some((offset, _)) if more => *offset,
            _ => self.latest().max(since),
        };
        HistoryRead {
            messages: found.into_iter().map(|(_, d)| d).collect(),
            truncated,
            next,
        }
    }

    /// A receiver that changes whenever a message is recorded.
    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.latest.subscribe()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wirehub_proto::socketio::Args;
    use wirehub_proto::Str;

    fn msg(h: &RoomHistory, rooms: &[&str]) -> u64 {
        let offset = h.reserve();
        let rooms: Vec<Room> = rooms.iter().map(|r| Str::from(r.to_string())).collect();
        let d = Delivery::new(crate::conn::DeliveryParts {
            replay: None,
            ns: "/".into(),
            event: "e".into(),
            args: Args::empty(),
            ack_id: None,
            room: None,
            offset: Some(offset),
        });
        h.record(&rooms, offset, Arc::new(d));
        offset
    }

    fn offsets(read: &HistoryRead) -> Vec<u64> {
        read.messages.iter().filter_map(|d| d.offset()).collect()
    }

    #[test]
    fn reads_after_the_cursor_across_rooms_once() {
        let h = RoomHistory::new(10, Duration::from_secs(60), 100);
        let a = msg(&h, &["a"]);
        let ab = msg(&h, &["a", "b"]);
        let b = msg(&h, &["b"]);
        let _c = msg(&h, &["c"]);
        let rooms = ["a".into(), "b".into()];
        let read = h.read(&rooms, 0, 100);
        assert_eq!(offsets(&read), vec![a, ab, b]);
        assert!(!read.truncated);
        assert_eq!(read.next, 4);
        assert_eq!(offsets(&h.read(&rooms, a, 100)), vec![ab, b]);
        assert!(h.read(&rooms, 4, 100).messages.is_empty());
    }

    #[test]
    fn evicts_by_count_and_reports_truncation() {
        let h = RoomHistory::new(2, Duration::from_secs(60), 100);
        for _ in 0..5 {
            msg(&h, &["a"]);
        }
        let read = h.read(&["a".into()], 0, 100);
        assert_eq!(offsets(&read), vec![4, 5]);
        assert!(read.truncated);
        assert!(!h.read(&["a".into()], 3, 100).truncated);
    }

    #[test]
    fn evicts_by_age() {
        let h = RoomHistory::new(10, Duration::from_millis(1), 100);
        msg(&h, &["a"]);
        std::thread::sleep(Duration::from_millis(5));
        let read = h.read(&["a".into()], 0, 100);
        assert!(read.messages.is_empty());
        assert!(read.truncated);
    }

    #[test]
    fn paginates_with_max() {
        let h = RoomHistory::new(10, Duration::from_secs(60), 100);
        for _ in 0..5 {
            msg(&h, &["a"]);
        }
        let first = h.read(&["a".into()], 0, 2);
        assert_eq!(offsets(&first), vec![1, 2]);
        assert_eq!(first.next, 2);
        let rest = h.read(&["a".into()], first.next, 10);
        assert_eq!(offsets(&rest), vec![3, 4, 5]);
    }

    #[test]
    fn caps_the_rooms_and_sweeps_expired_ones_to_make_space() {
        let h = RoomHistory::new(10, Duration::from_millis(20), 2);
        msg(&h, &["a"]);
        msg(&h, &["b"]);
        let c = msg(&h, &["c"]);
        assert!(
            h.read(&["c".into()], 0, 10).messages.is_empty(),
            "over the cap"
        );
        assert_eq!(offsets(&h.read(&["a".into()], 0, 10)).len(), 1);
        std::thread::sleep(Duration::from_millis(30));
        let c2 = msg(&h, &["c"]);
        assert!(c2 > c);
        assert_eq!(offsets(&h.read(&["c".into()], 0, 10)), vec![c2]);
    }
}
