//! Limits that keep one bad client from hurting the others: open
//! connections (in total and per client address), each connection's
//! inbound event rate, rooms per socket and namespaces per connection.
//!
//! One [`Limits`] per server is shared by every transport: Engine.IO
//! sessions (polling or WebSocket), plain WebSocket, SSE and HTTP-streaming
//! connections, and the TCP and UDP gateways' clients. It is owned by the
//! connection registry ([`crate::registry::Connections`]), the one door
//! every connection is admitted through ([`Limits::admit`]) and given back
//! through ([`Limits::release`], when its
//! [`crate::registry::ConnectionSlot`] is dropped); a connection past a
//! limit is refused
//! before it opens (HTTP 503, or the gateway's error line or datagram).
//! The event-rate bucket is in `rate`.

mod rate;

pub(crate) use rate::{EventBudget, Verdict};

use crate::config::Config;
use crate::sync::lock;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use wirehub_proto::plain::codes;

/// A limit a client ran into. The message names the limit (and its flag).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LimitError {
    /// The server holds `--max-connections` connections already.
    #[error("Too many connections: the server allows {max} (max-connections)")]
    TooManyConnections {
        /// The limit.
        max: usize,
    },
    /// The client's address holds `--max-connections-per-ip` connections already.
    #[error("Too many connections from this address: the server allows {max} per address (max-connections-per-ip)")]
    TooManyConnectionsFromAddress {
        /// The limit.
        max: usize,
    },
    /// The socket would be in more than `--max-rooms-per-socket` rooms.
    #[error("Too many rooms: a socket may be in at most {max} (max-rooms-per-socket)")]
    TooManyRooms {
        /// The limit.
        max: usize,
    },
    /// The connection is in `--max-namespaces-per-connection` namespaces already.
    #[error(
        "Too many namespaces: a connection may join at most {max} (max-namespaces-per-connection)"
    )]
    TooManyNamespaces {
        /// The limit.
        max: usize,
    },
    /// The server is draining before it shuts down: connect to another node.
    #[error("The server is shutting down")]
    ShuttingDown,
}

impl LimitError {
    /// The numeric code of the Engine.IO handshake refusal
    /// `{"code":N,"message":...}`: 6 for the server-wide connection limit,
    /// 7 for the per-address one (0 to 5 are Engine.IO's own codes); 8 and 9
    /// for the room and namespace limits, which no handshake reports; 10
    /// while the server drains.
    pub fn code(self) -> u8 {
        match self {
            LimitError::TooManyConnections { .. } => 6,
            LimitError::TooManyConnectionsFromAddress { .. } => 7,
            LimitError::TooManyRooms { .. } => 8,
            LimitError::TooManyNamespaces { .. } => 9,
            LimitError::ShuttingDown => 10,
        }
    }

    /// The plain protocol's error code.
    pub fn plain_code(self) -> &'static str {
        match self {
            LimitError::TooManyConnections { .. } => codes::TOO_MANY_CONNECTIONS,
            LimitError::TooManyConnectionsFromAddress { .. } => codes::TOO_MANY_CONNECTIONS_PER_IP,
            LimitError::TooManyRooms { .. } => codes::TOO_MANY_ROOMS,
            LimitError::TooManyNamespaces { .. } => codes::TOO_MANY_NAMESPACES,
            LimitError::ShuttingDown => codes::UNAVAILABLE,
        }
    }

    /// The Engine.IO-style JSON body `{"code":N,"message":"..."}`.
    pub fn to_json(self) -> String {
        serde_json::json!({ "code": self.code(), "message": self.to_string() }).to_string()
    }
}

/// The server's connection counts and limit settings, shared by every
/// transport. Read it with [`crate::SocketIo::limits`].
#[derive(Debug)]
pub struct Limits {
    max_connections: usize,
    max_per_address: usize,
    open: AtomicUsize,
    /// Open connections by client address; kept only with a per-address limit.
    per_address: Mutex<HashMap<IpAddr, usize>>,
    dropped_events: AtomicU64,
    rate_disconnects: AtomicU64,
}

impl Limits {
    /// The counters for a server configured with `config`.
    pub fn new(config: &Config) -> Arc<Self> {
        Arc::new(Limits {
            max_connections: config.max_connections,
            max_per_address: config.max_connections_per_ip,
            open: AtomicUsize::new(0),
            per_address: Mutex::default(),
            dropped_events: AtomicU64::new(0),
            rate_disconnects: AtomicU64::new(0),
        })
    }

    /// Counts a new connection from `ip` (if known), or says which limit
    /// refuses it. Each admitted connection is given back with
    /// [`Limits::release`] and the same `ip`. Only the registry calls both
    /// (its entry for the connection keeps the address), so every
    /// connection is counted there too.
    pub(crate) fn admit(&self, ip: Option<IpAddr>) -> Result<(), LimitError> {
        let open = self.open.fetch_add(1, Ordering::AcqRel) + 1;
        if self.max_connections > 0 && open > self.max_connections {
            self.open.fetch_sub(1, Ordering::AcqRel);
            return Err(LimitError::TooManyConnections {
                max: self.max_connections,
            });
        }
        if let Some(ip) = self.counted_address(ip) {
            let mut all = lock(&self.per_address);
            let count = all.entry(ip).or_insert(0);
            if *count >= self.max_per_address {
                drop(all);
                self.open.fetch_sub(1, Ordering::AcqRel);
                return Err(LimitError::TooManyConnectionsFromAddress {
                    max: self.max_per_address,
                });
            }
            *count += 1;
        }
        Ok(())
    }

    /// The address a connection from `ip` is counted under: none without a
    /// per-address limit; an IPv4-mapped IPv6 address as its IPv4 one.
    fn counted_address(&self, ip: Option<IpAddr>) -> Option<IpAddr> {
        ip.filter(|_| self.max_per_address > 0)
            .map(|ip| ip.to_canonical())
    }

    /// Open connections, every transport counted.
    pub fn connections(&self) -> usize {
        self.open.load(Ordering::Acquire)
    }

    /// Open connections from `ip` (counted only with a per-address limit; 0 otherwise).
    pub fn connections_from(&self, ip: IpAddr) -> usize {
        lock(&self.per_address)
            .get(&ip.to_canonical())
            .copied()
            .unwrap_or(0)
    }

    /// Inbound events dropped by the event-rate limit, on every connection so far.
    pub fn dropped_events(&self) -> u64 {
        self.dropped_events.load(Ordering::Relaxed)
    }

    /// Connections closed for staying over the event-rate limit, so far.
    pub fn rate_limit_disconnects(&self) -> u64 {
        self.rate_disconnects.load(Ordering::Relaxed)
    }

    /// Gives back the place of a connection admitted from `ip`.
    pub(crate) fn release(&self, ip: Option<IpAddr>) {
        if let Some(ip) = self.counted_address(ip) {
            let mut all = lock(&self.per_address);
            if let Some(count) = all.get_mut(&ip) {
                *count -= 1;
                if *count == 0 {
                    all.remove(&ip);
                }
            }
        }
        self.open.fetch_sub(1, Ordering::AcqRel);
    }
}

/// The client address of a request, from its [`crate::RemoteAddr`] extension.
pub(crate) fn peer_ip(extensions: &http::Extensions) -> Option<IpAddr> {
    extensions.get::<crate::RemoteAddr>().map(|a| a.0.ip())
}

/// Whether a socket now in `current` rooms (its own room `own` included or
/// not) may join `new` under a limit of `max` rooms (0: no limit); its own
/// room is never counted and rooms it is in already are free.
pub(crate) fn check_rooms(
    max: usize,
    own: &str,
    current: &[crate::io::Room],
    new: &[crate::io::Room],
) -> Result<(), LimitError> {
    if max == 0 {
        return Ok(());
    }
    let held = current.iter().filter(|r| r.as_str() != own).count();
    let mut added = 0;
    for (i, room) in new.iter().enumerate() {
        let fresh = room.as_str() != own && !current.contains(room) && !new[..i].contains(room);
        added += usize::from(fresh);
    }
    if held + added > max {
        return Err(LimitError::TooManyRooms { max });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use wirehub_proto::Str;

    fn limits(total: usize, per_ip: usize) -> Arc<Limits> {
        let config = Config::builder()
            .max_connections(total)
            .max_connections_per_ip(per_ip)
            .build();
        Limits::new(&config)
    }

    #[test]
    fn slots_count_and_free_in_total_and_per_address() {
        let l = limits(3, 2);
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        let b: IpAddr = "10.0.0.2".parse().unwrap();
        l.admit(Some(a)).unwrap();
        l.admit(Some(a)).unwrap();
        assert_eq!(
            l.admit(Some(a)).unwrap_err(),
            LimitError::TooManyConnectionsFromAddress { max: 2 }
        );
        assert_eq!(l.connections(), 2);
        l.admit(Some(b)).unwrap();
        assert_eq!(
            l.admit(Some(b)).unwrap_err(),
            LimitError::TooManyConnections { max: 3 }
        );
        assert_eq!(l.connections(), 3);
        assert_eq!(l.connections_from(b), 1);
        l.release(Some(a));
        assert_eq!(l.connections_from(a), 1);
        l.admit(Some(a)).unwrap();
        assert_eq!(l.connections(), 3);
    }

    #[test]
    fn mapped_ipv6_counts_as_its_ipv4_address() {
        let l = limits(0, 1);
        l.admit(Some("127.0.0.1".parse().unwrap())).unwrap();
        let mapped: IpAddr = "::ffff:127.0.0.1".parse().unwrap();
        assert!(l.admit(Some(mapped)).is_err());
        l.release(Some(mapped));
        assert_eq!(l.connections(), 0);
        assert_eq!(l.connections_from("127.0.0.1".parse().unwrap()), 0);
    }

    #[test]
    fn no_limits_still_counts_and_unknown_address_is_not_limited_per_address() {
        let l = limits(0, 0);
        for _ in 0..100 {
            l.admit(None).unwrap();
        }
        assert_eq!(l.connections(), 100);
        for _ in 0..100 {
            l.release(None);
        }
        assert_eq!(l.connections(), 0);
        let l = limits(0, 1);
        l.admit(None).unwrap();
        l.admit(None).unwrap();
    }

    #[test]
    fn engine_json_names_the_limit() {
        let body = LimitError::TooManyConnections { max: 5 }.to_json();
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(v["code"], 6);
        assert!(v["message"].as_str().unwrap().contains("max-connections"));
    }

    #[test]
    fn rooms_count_new_distinct_rooms_only() {
        let s = |x: &str| Str::from(x.to_owned());
        let current = vec![s("me"), s("a"), s("b")];
        assert!(check_rooms(3, "me", &current, &[s("a"), s("c"), s("c"), s("me")]).is_ok());
        assert_eq!(
            check_rooms(3, "me", &current, &[s("c"), s("d")]),
            Err(LimitError::TooManyRooms { max: 3 })
        );
        assert!(check_rooms(0, "me", &current, &[s("c"), s("d")]).is_ok());
    }
}
