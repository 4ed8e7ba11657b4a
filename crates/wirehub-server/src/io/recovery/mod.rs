//! Connection-state recovery (Socket.IO 4.6+): a client cut off for less
//! than the window gets its socket back (same id, rooms and `data`) and
//! every event it missed, in order, exactly once.
//!
//! The wire format is Node's: the CONNECT answer carries the socket's
//! private id (`pid`); every replayable event (no ack, not volatile) carries
//! its offset as its last argument; a reconnecting client sends
//! `{pid, offset}` with its CONNECT.
//!
//! This module owns one namespace's [`RecoveryStore`], the in-memory
//! implementation behind [`crate::io::Adapter::persist_session`] and
//! [`crate::io::Adapter::restore_session`]:
//! - a replay log of the namespace's replayable packets, in the order this
//!   node delivered them, bounded by count, bytes and age (the window);
//! - the sessions of sockets that dropped for a recoverable reason, until
//!   they come back or the window passes (bounded in number too).
//!
//! A restore finds the client's offset in the log and gathers the packets
//! after it that the session's rooms admit (Node's `shouldIncludePacket`).
//! It fails (the client gets a fresh session, `recovered === false`) if the
//! session is unknown or expired, if the offset is no longer in the log, or
//! if the session missed more than its cap of packets or bytes: memory stays
//! bounded instead of growing with one slow returner.

mod entry;

use super::rooms::Room;
use crate::conn::Delivery;
use crate::sync::lock;
use entry::{Entry, Packet};
use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use wirehub_proto::Str;

/// Connection-state recovery settings (off unless the window is non-zero).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RecoveryConfig {
    /// How long a dropped socket can come back (Node's
    /// `maxDisconnectionDuration`); zero turns recovery off (the default of
    /// the library; `wirehub serve` uses 120 s).
    pub window: Duration,
    /// Whether a recovered socket skips the namespace's middlewares (Node's
    /// `skipMiddlewares`, default true).
    pub skip_middlewares: bool,
    /// Most packets one session may have missed and still be recovered
    /// (default 1,000).
    pub max_missed_packets: usize,
    /// Most bytes (of event arguments) one session may have missed and
    /// still be recovered (default 1 MiB).
    pub max_missed_bytes: usize,
    /// Most packets the namespace's replay log keeps (default 10,000, as
    /// the Redis streams adapter's `maxLen`).
    pub log_packets: usize,
    /// Most bytes the namespace's replay log keeps (default 32 MiB).
    pub log_bytes: usize,
    /// Most dropped sessions kept per namespace (default 100,000); past it
    /// the oldest is forgotten.
    pub max_sessions: usize,
}

impl Default for RecoveryConfig {
    fn default() -> Self {
        RecoveryConfig {
            window: Duration::ZERO,
            skip_middlewares: true,
            max_missed_packets: 1_000,
            max_missed_bytes: 1 << 20,
            log_packets: 10_000,
            log_bytes: 32 << 20,
            max_sessions: 100_000,
        }
    }
}

impl RecoveryConfig {
    /// Recovery with this window and the other settings at their defaults.
    pub fn with_window(window: Duration) -> Self {
        RecoveryConfig {
            window,
            ..RecoveryConfig::default()
        }
    }

    /// Whether recovery is on.
    pub fn enabled(&self) -> bool {
        !self.window.is_zero()
    }
}

/// What a dropped socket leaves behind to be recovered (Node's
/// `SessionToPersist`).
#[derive(Debug, Clone, PartialEq)]
pub struct SessionState {
    /// The socket id, given back on recovery.
    pub sid: Str,
    /// The private session id the client presents to come back.
    pub pid: Str,
    /// The rooms it was in, its own included.
    pub rooms: Vec<Room>,
    /// Its `data` (`Null` if never set).
    pub data: serde_json::Value,
}

/// A session found again, with what it missed (Node's `Session`).
#[derive(Debug)]
pub struct RestoredSession {
    /// The session as it was left.
    pub session: SessionState,
    /// The packets sent while it was away, oldest first, each carrying its
    /// replay token.
    pub missed: Vec<Arc<Delivery>>,
}

/// Whether a packet broadcast with these `rooms`/`except` reaches a socket
/// that is in `session_rooms` (Node's `shouldIncludePacket`).
pub fn admits(session_rooms: &[Room], rooms: &[Room], except: &[Room]) -> bool {
    let included = rooms.is_empty() || session_rooms.iter().any(|r| rooms.contains(r));
    let excluded = session_rooms.iter().any(|r| except.contains(r));
    included && !excluded
}

struct Dropped {
    state: SessionState,
    at: Instant,
}

#[derive(Default)]
struct Log {
    entries: VecDeque<Entry>,
    bytes: usize,
}

/// One namespace's replay log and dropped sessions (see the module docs).
pub struct RecoveryStore {
    ns: Str,
    config: RecoveryConfig,
    /// What the log's times count from (entries keep milliseconds since).
    epoch: Instant,
    log: Mutex<Log>,
    sessions: Mutex<SessionTable>,
}

#[derive(Default)]
struct SessionTable {
    by_pid: HashMap<Str, Dropped>,
    /// Pids in the order they dropped, to forget the oldest first.
    order: VecDeque<Str>,
}

impl std::fmt::Debug for RecoveryStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RecoveryStore")
            .field("window", &self.config.window)
            .finish()
    }
}

/// Why a restore failed (logged; the client gets a fresh session).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RestoreMiss {
    /// No session under that pid (never dropped, expired, or already used).
    UnknownSession,
    /// The offset is not (or no longer) in the replay log.
    UnknownOffset,
    /// The session missed more than its cap of packets or bytes.
    Overflow,
}

impl RecoveryStore {
    /// An empty store of the namespace `ns` with these settings.
    pub fn new(ns: Str, config: RecoveryConfig) -> Self {
        RecoveryStore {
            ns,
            config,
            epoch: Instant::now(),
            log: Mutex::default(),
            sessions: Mutex::default(),
        }
    }

    /// The settings.
    pub fn config(&self) -> &RecoveryConfig {
        &self.config
    }

    /// Whether recovery is on.
    pub fn enabled(&self) -> bool {
        self.config.enabled()
    }

    /// Logs a replayable packet delivered under `offset` to the sockets
    /// `rooms`/`except` select, and runs `then` (which picks its
    /// recipients) before another packet is logged or a socket comes back
    /// (see [`Self::catch_up`]): a packet is either in a returning socket's
    /// catch-up or sent to it live, never both, never neither.
    pub fn keep<R>(
        &self,
        offset: u64,
        rooms: &[Room],
        except: &[Room],
        delivery: &Arc<Delivery>,
        then: impl FnOnce() -> R,
    ) -> R {
        if !self.enabled() {
            return then();
        }
        let now = self.now_ms();
        let entry = Entry::pack(
            offset,
            now,
            Packet {
                rooms,
                except,
                delivery,
            },
        );
        let mut log = lock(&self.log);
        log.bytes += entry.size();
        log.entries.push_back(entry);
        self.trim(&mut log, now);
        then()
    }

    /// Milliseconds since the store's epoch.
    fn now_ms(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    /// For a socket coming back in `rooms`: the logged packets after the
    /// offset `after` that it should get and that are not in `seen` (what
    /// its restore already found), handed to `then` together with the
    /// log's lock, so that `then` can register the socket (after which
    /// packets reach it live) and queue them before any later packet.
    pub fn catch_up<R>(
        &self,
        rooms: &[Room],
        after: u64,
        seen: &HashSet<u64>,
        then: impl FnOnce(Vec<Arc<Delivery>>) -> R,
    ) -> R {
        let log = lock(&self.log);
        let start = log.entries.iter().rposition(|e| e.offset() == after);
        let extra = match start {
            Some(start) => log
                .entries
                .iter()
                .skip(start + 1)
                .filter(|e| !seen.contains(&e.offset()) && e.admits(rooms))
                .map(|e| e.delivery(&self.ns))
                .collect(),
            None => Vec::new(),
        };
        then(extra)
    }

    fn trim(&self, log: &mut Log, now_ms: u64) {
        let window = u64::try_from(self.config.window.as_millis()).unwrap_or(u64::MAX);
        while let Some(first) = log.entries.front() {
            let too_many = log.entries.len() > self.config.log_packets;
            let too_big = log.bytes > self.config.log_bytes;
            let too_old = now_ms.saturating_sub(first.at_ms()) > window;
            if !(too_many || too_big || too_old) {
                break;
            }
            log.bytes -= first.size();
            log.entries.pop_front();
        }
    }

    /// Keeps a dropped socket's session for the window.
    pub fn persist(&self, state: SessionState) {
        if !self.enabled() {
            return;
        }
        let now = Instant::now();
        let mut table = lock(&self.sessions);
        self.expire(&mut table, now);
        while table.by_pid.len() >= self.config.max_sessions {
            let Some(oldest) = table.order.pop_front() else {
                break;
            };
            table.by_pid.remove(&oldest);
        }
        table.order.push_back(state.pid.clone());
        table
            .by_pid
            .insert(state.pid.clone(), Dropped { state, at: now });
    }

    /// Forgets the sessions whose window passed (oldest first; pids that
    /// were restored meanwhile just leave the order).
    fn expire(&self, table: &mut SessionTable, now: Instant) {
        while let Some(pid) = table.order.front().cloned() {
            match table.by_pid.get(&pid) {
                Some(d) if now.duration_since(d.at) <= self.config.window => break,
                Some(_) => {
                    table.by_pid.remove(&pid);
                }
                None => {}
            }
            table.order.pop_front();
        }
    }

    /// Takes the session `pid` back, with the packets after `offset` that
    /// it missed. A session is restored at most once.
    pub fn restore(&self, pid: &str, offset: u64) -> Result<RestoredSession, RestoreMiss> {
        let now = Instant::now();
        let session = {
            let mut table = lock(&self.sessions);
            let dropped = table
                .by_pid
                .remove(pid)
                .ok_or(RestoreMiss::UnknownSession)?;
            if now.duration_since(dropped.at) > self.config.window {
                return Err(RestoreMiss::UnknownSession);
            }
            dropped.state
        };
        let missed = self.missed(&session.rooms, offset)?;
        Ok(RestoredSession { session, missed })
    }

    /// The packets after `offset` a socket in `rooms` should have got.
    pub fn missed(&self, rooms: &[Room], offset: u64) -> Result<Vec<Arc<Delivery>>, RestoreMiss> {
        let log = lock(&self.log);
        let start = log
            .entries
            .iter()
            .rposition(|e| e.offset() == offset)
            .ok_or(RestoreMiss::UnknownOffset)?;
        let (mut count, mut bytes) = (0, 0);
        let mut missed = Vec::new();
        for entry in log.entries.iter().skip(start + 1) {
            if !entry.admits(rooms) {
                continue;
            }
            count += 1;
            bytes += entry.args_bytes();
            if count > self.config.max_missed_packets || bytes > self.config.max_missed_bytes {
                return Err(RestoreMiss::Overflow);
            }
            missed.push(entry.delivery(&self.ns));
        }
        Ok(missed)
    }

    /// How many packets the replay log holds (for tests and metrics).
    pub fn logged(&self) -> usize {
        lock(&self.log).entries.len()
    }

    /// How many dropped sessions wait to be recovered.
    pub fn waiting(&self) -> usize {
        lock(&self.sessions).by_pid.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::conn::DeliveryParts;
    use wirehub_proto::socketio::Args;

    fn room(s: &str) -> Room {
        Str::from(s.to_owned())
    }

    fn delivery(n: u64) -> Arc<Delivery> {
        Arc::new(Delivery::new(DeliveryParts {
            ns: room("/"),
            event: room("e"),
            args: Args::one(&n).unwrap(),
            ack_id: None,
            room: None,
            offset: Some(n),
            replay: Some(Str::from(n.to_string())),
        }))
    }

    fn store(config: RecoveryConfig) -> RecoveryStore {
        RecoveryStore::new(room("/"), config)
    }

    fn state(pid: &str, rooms: &[&str]) -> SessionState {
        SessionState {
            sid: room("sid"),
            pid: room(pid),
            rooms: rooms.iter().map(|r| room(r)).collect(),
            data: serde_json::Value::Null,
        }
    }

    fn offsets(missed: &[Arc<Delivery>]) -> Vec<u64> {
        missed.iter().map(|d| d.offset().unwrap()).collect()
    }

    #[test]
    fn replays_what_the_rooms_admit_after_the_offset() {
        let s = store(RecoveryConfig::with_window(Duration::from_secs(60)));
        s.keep(1, &[], &[], &delivery(1), || ());
        s.keep(2, &[room("a")], &[], &delivery(2), || ());
        s.keep(3, &[room("b")], &[], &delivery(3), || ());
        s.keep(4, &[], &[room("a")], &delivery(4), || ());
        s.keep(5, &[room("sid")], &[], &delivery(5), || ());
        s.persist(state("p", &["sid", "a"]));
        let restored = s.restore("p", 1).unwrap();
        assert_eq!(offsets(&restored.missed), vec![2, 5]);
        assert_eq!(restored.session.sid, "sid");
        assert_eq!(s.restore("p", 1).unwrap_err(), RestoreMiss::UnknownSession);
    }

    #[test]
    fn an_unknown_or_evicted_offset_is_not_recovered() {
        let mut config = RecoveryConfig::with_window(Duration::from_secs(60));
        config.log_packets = 2;
        let s = store(config);
        for n in 1..=3 {
            s.keep(n, &[], &[], &delivery(n), || ());
        }
        assert_eq!(s.logged(), 2);
        s.persist(state("p", &["sid"]));
        assert_eq!(s.restore("p", 1).unwrap_err(), RestoreMiss::UnknownOffset);
        s.persist(state("q", &["sid"]));
        assert_eq!(offsets(&s.restore("q", 2).unwrap().missed), vec![3]);
    }

    #[test]
    fn a_session_that_missed_too_much_is_not_recovered() {
        let mut config = RecoveryConfig::with_window(Duration::from_secs(60));
        config.max_missed_packets = 2;
        let s = store(config);
        for n in 1..=4 {
            s.keep(n, &[], &[], &delivery(n), || ());
        }
        s.persist(state("p", &["sid"]));
        assert_eq!(s.restore("p", 1).unwrap_err(), RestoreMiss::Overflow);
        s.persist(state("q", &["sid"]));
        assert_eq!(offsets(&s.restore("q", 2).unwrap().missed), vec![3, 4]);
    }

    #[test]
    fn sessions_expire_after_the_window_and_are_capped() {
        let mut config = RecoveryConfig::with_window(Duration::from_millis(20));
        config.max_sessions = 2;
        let s = store(config);
        s.keep(1, &[], &[], &delivery(1), || ());
        s.persist(state("a", &[]));
        s.persist(state("b", &[]));
        s.persist(state("c", &[]));
        assert_eq!(s.waiting(), 2);
        assert_eq!(s.restore("a", 1).unwrap_err(), RestoreMiss::UnknownSession);
        std::thread::sleep(Duration::from_millis(30));
        assert_eq!(s.restore("b", 1).unwrap_err(), RestoreMiss::UnknownSession);
    }

    #[test]
    fn nothing_is_kept_when_recovery_is_off() {
        let s = store(RecoveryConfig::default());
        s.keep(1, &[], &[], &delivery(1), || ());
        s.persist(state("p", &[]));
        assert_eq!((s.logged(), s.waiting()), (0, 0));
    }

    #[test]
    fn catch_up_gives_what_came_after_the_restore_once() {
        let s = store(RecoveryConfig::with_window(Duration::from_secs(60)));
        s.keep(1, &[], &[], &delivery(1), || ());
        s.keep(2, &[], &[], &delivery(2), || ());
        s.persist(state("p", &["sid"]));
        let restored = s.restore("p", 1).unwrap();
        s.keep(3, &[room("other")], &[], &delivery(3), || ());
        s.keep(4, &[], &[], &delivery(4), || ());
        let seen = restored
            .missed
            .iter()
            .map(|d| d.offset().unwrap())
            .collect();
        let extra = s.catch_up(&restored.session.rooms, 1, &seen, |extra| offsets(&extra));
        assert_eq!(offsets(&restored.missed), vec![2]);
        assert_eq!(extra, vec![4]);
    }

    #[test]
    fn admits_follows_node() {
        let (a, b) = ([room("a")], [room("b")]);
        let both = [room("a"), room("b")];
        assert!(admits(&a, &[], &[]));
        assert!(admits(&a, &both, &[]));
        assert!(!admits(&a, &b, &[]));
        assert!(!admits(&both, &a, &b));
    }
}
