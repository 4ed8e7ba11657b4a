//! The cluster adapter a URL names, for `wirehub serve --adapter URL` (env
//! `WIREHUB_ADAPTER`) and the examples:
//!
//! | URL | adapter |
//! |---|---|
//! | `memory` (default) | a single node |
//! | `redis://HOST:PORT[/DB]` | `@socket.io/redis-adapter`'s classic adapter |
//! | `redis-sharded://HOST:PORT` | its sharded adapter (Redis 7 sharded pub/sub) |
//! | `nats://HOST:PORT` | the cluster protocol over NATS, with heartbeats |
//!
//! The key prefix (`--adapter-key`, env `WIREHUB_ADAPTER_KEY`) defaults to
//! `socket.io`, Node's default, so a mixed cluster needs no setting.

use std::time::Duration;
use wirehub_server::cluster::ClusterOptions;
use wirehub_server::io::{AdapterFactory, MemoryAdapter};

/// The default key prefix, Node's.
pub const DEFAULT_KEY: &str = "socket.io";

/// Why no adapter could be made from a URL.
#[derive(Debug, thiserror::Error)]
pub enum AdapterUrlError {
    /// Not one of the URLs above.
    #[error("unknown adapter {0:?}: use memory, redis://HOST:PORT, redis-sharded://HOST:PORT or nats://HOST:PORT")]
    Unknown(String),
    /// A Redis URL the driver refused.
    #[error(transparent)]
    Redis(#[from] wirehub_redis::Error),
    /// A NATS URL the driver refused.
    #[error(transparent)]
    Nats(#[from] wirehub_nats::Error),
}

/// What the adapter of a URL is: the factory, and whether it spans nodes.
pub struct Adapter {
    /// Builds each namespace's adapter.
    pub factory: AdapterFactory,
    /// Whether other nodes take part (not `memory`).
    pub clustered: bool,
}

/// The adapter `url` names, with key prefix `key` (call inside a tokio
/// runtime: the drivers start their connections).
pub async fn from_url(url: &str, key: &str) -> Result<Adapter, AdapterUrlError> {
    let options = ClusterOptions::with_key(key).requests_timeout(Duration::from_secs(5));
    let factory = match url {
        "" | "memory" => {
            return Ok(Adapter {
                factory: MemoryAdapter::factory(),
                clustered: false,
            })
        }
        u if u.starts_with("redis://") || u.starts_with("redis-sharded://") => {
            wirehub_redis::adapter(u, options)?
        }
        u if u.starts_with("nats://") => wirehub_nats::adapter(u, options).await?,
        other => return Err(AdapterUrlError::Unknown(other.to_owned())),
    };
    Ok(Adapter {
        factory,
        clustered: true,
    })
}

/// The adapter the environment names: `WIREHUB_ADAPTER` (default
/// `memory`) with `WIREHUB_ADAPTER_KEY` (default `socket.io`).
pub async fn from_env() -> Result<Adapter, AdapterUrlError> {
    let url = std::env::var("WIREHUB_ADAPTER").unwrap_or_default();
    let key = std::env::var("WIREHUB_ADAPTER_KEY").unwrap_or_else(|_| DEFAULT_KEY.to_owned());
    from_url(&url, &key).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn names_the_adapters() {
        assert!(!from_url("memory", DEFAULT_KEY).await.unwrap().clustered);
        assert!(!from_url("", DEFAULT_KEY).await.unwrap().clustered);
        assert!(
            from_url("redis://127.0.0.1:1", DEFAULT_KEY)
                .await
                .unwrap()
                .clustered
        );
        assert!(
            from_url("redis-sharded://127.0.0.1:1", DEFAULT_KEY)
                .await
                .unwrap()
                .clustered
        );
        assert!(matches!(
            from_url("kafka://x", DEFAULT_KEY).await,
            Err(AdapterUrlError::Unknown(_))
        ));
    }
}
