//! `server_stats`: who this server is, its Engine.IO clients (and how many
//! still poll), its namespaces with their socket counts, and the connection
//! events since the last report, counted per second as Node's `EventBuffer`
//! (`rawConnection`, `rawDisconnection` by reason). Packet and byte counts
//! (`packetsIn`, `bytesOut`, ...) are not kept: they would put a counter
//! on every frame.

use crate::engine::EngineConn;
use crate::io::Namespace;
use crate::sync::lock;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};
use std::time::{Instant, SystemTime, UNIX_EPOCH};
use wirehub_proto::engineio::TransportKind;
use wirehub_proto::Str;

/// Milliseconds since the Unix epoch.
pub(crate) fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// One count of the aggregated events: per second, type and subtype.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct EventKey {
    second_ms: u64,
    kind: &'static str,
    sub: Option<&'static str>,
}

/// The server's side of the stats.
#[derive(Debug)]
pub(crate) struct Stats {
    server_id: String,
    hostname: String,
    started: Instant,
    /// Open Engine.IO clients, by session id.
    clients: Mutex<HashMap<Str, Weak<EngineConn>>>,
    events: Mutex<HashMap<EventKey, u64>>,
}

impl Stats {
    pub(crate) fn new(server_id: Option<String>) -> Self {
        let hostname = hostname();
        Stats {
            server_id: server_id.unwrap_or_else(|| hostname.clone()),
            hostname,
            started: Instant::now(),
            clients: Mutex::default(),
            events: Mutex::default(),
        }
    }

    pub(crate) fn client_opened(&self, conn: &Arc<EngineConn>) {
        lock(&self.clients).insert(conn.sid().clone(), Arc::downgrade(conn));
        self.count("rawConnection", None);
    }

    pub(crate) fn client_closed(&self, conn: &EngineConn, reason: &'static str) {
        lock(&self.clients).remove(conn.sid());
        self.count("rawDisconnection", Some(reason));
    }

    fn count(&self, kind: &'static str, sub: Option<&'static str>) {
        let ms = now_ms();
        let key = EventKey {
            second_ms: ms - ms % 1000,
            kind,
            sub,
        };
        *lock(&self.events).entry(key).or_default() += 1;
    }

    /// The `server_stats` payload; takes the aggregated events counted so far.
    pub(crate) fn report(&self, namespaces: &[Arc<Namespace>]) -> Value {
        let (clients, polling) = self.clients();
        let events: Vec<Value> = lock(&self.events)
            .drain()
            .map(|(key, count)| {
                json!({
                    "timestamp": key.second_ms,
                    "type": key.kind,
                    "subType": key.sub,
                    "count": count,
                })
            })
            .collect();
        let namespaces: Vec<Value> = namespaces
            .iter()
            .map(|ns| json!({ "name": ns.name(), "socketsCount": ns.socket_count() }))
            .collect();
        json!({
            "serverId": self.server_id,
            "hostname": self.hostname,
            "pid": std::process::id(),
            "uptime": self.started.elapsed().as_secs_f64(),
            "clientsCount": clients,
            "pollingClientsCount": polling,
            "aggregatedEvents": events,
            "namespaces": namespaces,
        })
    }

    /// Open Engine.IO clients, and how many of them are on long-polling.
    fn clients(&self) -> (usize, usize) {
        let mut clients = lock(&self.clients);
        clients.retain(|_, c| c.strong_count() > 0);
        let polling = clients
            .values()
            .filter_map(Weak::upgrade)
            .filter(|c| c.transport() == Some(TransportKind::Polling))
            .count();
        (clients.len(), polling)
    }
}

/// The host name, as Node's `os.hostname()`.
fn hostname() -> String {
    std::env::var("HOSTNAME")
        .ok()
        .or_else(|| std::fs::read_to_string("/proc/sys/kernel/hostname").ok())
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "wirehub".into())
}
