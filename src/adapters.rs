//! The cluster adapter a URL names, for `wirehub serve --adapter URL` (env
//! `WIREHUB_ADAPTER`) and the examples:
//!
//! | URL | adapter |
//! |---|---|
//! | `memory` (default) | a single node |
//! | `redis://HOST:PORT[/DB]` | `@socket.io/redis-adapter`'s classic adapter |
//! | `redis-sharded://HOST:PORT` | its sharded adapter (Redis 7 sharded pub/sub) |
//! | `redis-streams://HOST:PORT[/DB]` | `@socket.io/redis-streams-adapter` 0.3 (a Redis stream named after the key) |
//! | `nats://HOST:PORT` | the cluster protocol over NATS, with heartbeats |
//!
//! The key prefix (`--adapter-key`, env `WIREHUB_ADAPTER_KEY`) defaults to
//! `socket.io`, Node's default, so a mixed cluster needs no setting.

use std::sync::Arc;
use std::time::Duration;
use wirehub_server::cluster::{ClusterOptions, Driver, NodeDirectory};
use wirehub_server::io::{AdapterError, AdapterFactory, MemoryAdapter};

/// The default key prefix, Node's.
pub const DEFAULT_KEY: &str = "socket.io";

/// Why no adapter could be made from a URL.
#[derive(Debug, thiserror::Error)]
pub enum AdapterUrlError {
    /// Not one of the URLs above.
    #[error("unknown adapter {0:?}: use memory, redis://HOST:PORT, redis-sharded://HOST:PORT, redis-streams://HOST:PORT or nats://HOST:PORT")]
    Unknown(String),
    /// A Redis URL the driver refused.
    #[error(transparent)]
    Redis(#[from] wirehub_redis::Error),
    /// A NATS URL the driver refused.
    #[error(transparent)]
    Nats(#[from] wirehub_nats::Error),
}

/// What the adapter of a URL is: the factory, and the cluster's engine.
pub struct Adapter {
    /// Builds each namespace's adapter.
    pub factory: AdapterFactory,
    /// The connection to the cluster's engine (`None` for `memory`).
    pub driver: Option<Arc<dyn Driver>>,
    /// The key prefix.
    pub key: String,
}

impl Adapter {
    /// Whether other nodes take part (not `memory`).
    pub fn clustered(&self) -> bool {
        self.driver.is_some()
    }

    /// Joins the cluster's node directory, reachable at `advertise`
    /// (`http://host:port`), so requests for this node's sessions reach it
    /// through any node (`None` for `memory`).
    pub async fn directory(
        &self,
        advertise: &str,
    ) -> Result<Option<Arc<NodeDirectory>>, AdapterError> {
        match &self.driver {
            Some(driver) => Ok(Some(
                NodeDirectory::start(driver.clone(), &self.key, advertise).await?,
            )),
            None => Ok(None),
        }
    }
}

/// The adapter `url` names, with key prefix `key` (call inside a tokio
/// runtime: the drivers start their connections).
pub async fn from_url(url: &str, key: &str) -> Result<Adapter, AdapterUrlError> {
    let options = ClusterOptions::with_key(key).requests_timeout(Duration::from_secs(5));
    let (factory, driver): (AdapterFactory, Arc<dyn Driver>) = match url {
        "" | "memory" => {
            return Ok(Adapter {
                factory: MemoryAdapter::factory(),
                driver: None,
                key: key.to_owned(),
            })
        }
        u if u.starts_with("redis://")
            || u.starts_with("redis-sharded://")
            || u.starts_with("redis-streams://") =>
        {
            let driver = wirehub_redis::RedisDriver::new(u)?;
            (driver.adapter(options), driver)
        }
        u if u.starts_with("nats://") => {
            let driver = wirehub_nats::NatsDriver::new(u, key).await?;
            (driver.adapter(options), driver)
        }
        other => return Err(AdapterUrlError::Unknown(other.to_owned())),
    };
    Ok(Adapter {
        factory,
        driver: Some(driver),
        key: key.to_owned(),
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
        assert!(!from_url("memory", DEFAULT_KEY).await.unwrap().clustered());
        assert!(!from_url("", DEFAULT_KEY).await.unwrap().clustered());
        assert!(from_url("redis://127.0.0.1:1", DEFAULT_KEY)
            .await
            .unwrap()
            .clustered());
        assert!(from_url("redis-sharded://127.0.0.1:1", DEFAULT_KEY)
            .await
            .unwrap()
            .clustered());
        assert!(from_url("redis-streams://127.0.0.1:1", DEFAULT_KEY)
            .await
            .unwrap()
            .clustered());
        assert!(matches!(
            from_url("kafka://x", DEFAULT_KEY).await,
            Err(AdapterUrlError::Unknown(_))
        ));
    }
}
