//! wirehub's cluster driver over Redis: a [`RedisDriver`] carries the
//! cluster adapters of `wirehub_server::cluster` over Redis pub/sub, so
//! wirehub nodes and Node socket.io nodes with `@socket.io/redis-adapter`
//! 8.x on the same Redis and key prefix form one cluster.
//!
//! - `redis://HOST:PORT[/DB]`: the classic adapter (`createAdapter`):
//!   `PUBLISH`, `SUBSCRIBE`/`PSUBSCRIBE`, nodes counted with
//!   `PUBSUB NUMSUB`.
//! - `redis-sharded://HOST:PORT`: the sharded adapter
//!   (`createShardedAdapter`, Redis 7): `SPUBLISH`/`SSUBSCRIBE`, nodes
//!   counted with `PUBSUB SHARDNUMSUB`.
//!
//! # Layout
//! - `publisher`: the writer task on a `redis` crate connection manager.
//! - `subscriber`: the subscribing connection, which resubscribes after
//!   every reconnection.
//! - `resp`: the RESP2 frames that connection reads, sans-IO.

mod publisher;
mod resp;
mod subscriber;

use bytes::Bytes;
use futures_util::future::BoxFuture;
use publisher::Counters;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;
use subscriber::{Command, Target};
use tokio::sync::{mpsc, oneshot, watch};
use wirehub_server::cluster::{self, ClusterOptions, Counting, Driver, Handler, RoomChannels};
use wirehub_server::io::{AdapterError, AdapterFactory};

/// Which of Node's Redis adapters to speak.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Mode {
    /// `createAdapter`: classic pub/sub.
    Classic,
    /// `createShardedAdapter`: sharded pub/sub (Redis 7).
    Sharded,
}

impl Mode {
    fn publish(self) -> &'static str {
        match self {
            Mode::Classic => "PUBLISH",
            Mode::Sharded => "SPUBLISH",
        }
    }

    fn subscribe(self) -> &'static str {
        match self {
            Mode::Classic => "SUBSCRIBE",
            Mode::Sharded => "SSUBSCRIBE",
        }
    }

    fn unsubscribe(self) -> &'static str {
        match self {
            Mode::Classic => "UNSUBSCRIBE",
            Mode::Sharded => "SUNSUBSCRIBE",
        }
    }

    fn numsub(self) -> &'static str {
        match self {
            Mode::Classic => "NUMSUB",
            Mode::Sharded => "SHARDNUMSUB",
        }
    }
}

/// Why a Redis driver could not be set up.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The URL is not a Redis URL this driver takes.
    #[error("bad Redis URL {url:?}: {reason}")]
    Url {
        /// The URL.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
}

/// How long a command (count, sequence) may take before it fails.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(2);

/// One node's connection to Redis: a publishing connection and a
/// subscribing one, both reconnecting on their own.
pub struct RedisDriver {
    mode: Mode,
    commands: redis::aio::ConnectionManager,
    publish: mpsc::Sender<(String, Bytes)>,
    subscriber: mpsc::UnboundedSender<Command>,
    up: watch::Receiver<bool>,
    counters: Arc<Counters>,
}

impl std::fmt::Debug for RedisDriver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisDriver")
            .field("mode", &self.mode)
            .field("up", &self.is_up())
            .finish()
    }
}

impl RedisDriver {
    /// A driver for `redis://` or `redis-sharded://` (`rediss://` is not
    /// supported). Connects lazily: Redis may be down when the node
    /// starts. Call inside a tokio runtime.
    pub fn new(url: &str) -> Result<Arc<Self>, Error> {
        let bad = |reason: &str| Error::Url {
            url: url.to_owned(),
            reason: reason.to_owned(),
        };
        let (mode, plain) = if let Some(rest) = url.strip_prefix("redis-sharded://") {
            (Mode::Sharded, format!("redis://{rest}"))
        } else if url.starts_with("redis://") {
            (Mode::Classic, url.to_owned())
        } else {
            return Err(bad("expected redis:// or redis-sharded://"));
        };
        let client = redis::Client::open(plain.as_str()).map_err(|e| bad(&e.to_string()))?;
        let info = client.get_connection_info();
        let redis::ConnectionAddr::Tcp(host, port) = info.addr().clone() else {
            return Err(bad("only plain TCP addresses are supported"));
        };
        let settings = info.redis_settings();
        let target = Target {
            host,
            port,
            username: settings.username().map(str::to_owned),
            password: settings.password().map(str::to_owned),
        };
        let config = redis::aio::ConnectionManagerConfig::new()
            .set_response_timeout(Some(COMMAND_TIMEOUT))
            .set_connection_timeout(Some(COMMAND_TIMEOUT))
            .set_max_delay(Duration::from_secs(2))
            .set_number_of_retries(1);
        let commands = client
            .get_connection_manager_lazy(config)
            .map_err(|e| bad(&e.to_string()))?;
        let counters = Arc::new(Counters::default());
        let (publish, rx) = mpsc::channel(publisher::QUEUE);
        tokio::spawn(publisher::run(commands.clone(), mode, rx, counters.clone()));
        let (subscriber, sub_rx) = mpsc::unbounded_channel();
        let (up_tx, up) = watch::channel(false);
        tokio::spawn(subscriber::run(target, mode, sub_rx, up_tx));
        Ok(Arc::new(RedisDriver {
            mode,
            commands,
            publish,
            subscriber,
            up,
            counters,
        }))
    }

    /// Which adapter protocol the URL chose.
    pub fn mode(&self) -> Mode {
        self.mode
    }

    /// Whether the subscribing connection is up.
    pub fn is_up(&self) -> bool {
        *self.up.borrow()
    }

    /// Messages published, and lost to an outage, so far.
    pub fn published(&self) -> (u64, u64) {
        (
            self.counters.sent.load(Ordering::Relaxed),
            self.counters.lost.load(Ordering::Relaxed),
        )
    }

    /// The adapter factory for this driver's protocol, with `options`.
    pub fn adapter(self: &Arc<Self>, options: ClusterOptions) -> AdapterFactory {
        match self.mode {
            Mode::Classic => cluster::classic(self.clone(), options),
            Mode::Sharded => cluster::clustered(
                self.clone(),
                options,
                Counting::Subscribers,
                RoomChannels::Dynamic,
            ),
        }
    }

    fn subscribe_with(
        &self,
        make: impl FnOnce(oneshot::Sender<()>) -> Command,
    ) -> BoxFuture<'static, Result<(), AdapterError>> {
        let (done, confirmed) = oneshot::channel();
        let sent = self.subscriber.send(make(done)).is_ok();
        Box::pin(async move {
            if !sent {
                return Err(AdapterError::Closed);
            }
            match tokio::time::timeout(COMMAND_TIMEOUT, confirmed).await {
                Ok(Ok(())) => Ok(()),
                _ => Err(AdapterError::Unavailable(
                    "redis did not confirm the subscription (kept: it applies once redis is back)"
                        .into(),
                )),
            }
        })
    }
}

/// An adapter factory for `url` (`redis://` or `redis-sharded://`) with
/// `options`: what `wirehub serve --adapter` uses.
pub fn adapter(url: &str, options: ClusterOptions) -> Result<AdapterFactory, Error> {
    Ok(RedisDriver::new(url)?.adapter(options))
}

/// Adds ARGV[1] to the counter KEYS[1] and returns it, first moving the
/// counter up to ARGV[2] if it is behind (a Redis restarted without its
/// data): one atomic step, so concurrent nodes never draw the same number.
const DRAW_ABOVE_FLOOR: &str = "local n = tonumber(ARGV[1]) \
local floor = tonumber(ARGV[2]) \
local last = redis.call('INCRBY', KEYS[1], n) \
if last - n < floor then \
  last = floor + n \
  redis.call('SET', KEYS[1], last) \
end \
return last";

impl Driver for RedisDriver {
    fn publish(&self, channel: &str, payload: Bytes) -> Result<(), AdapterError> {
        self.publish
            .try_send((channel.to_owned(), payload))
            .map_err(|e| AdapterError::Unavailable(format!("redis publish queue: {e}")))
    }

    fn subscribe(
        &self,
        channels: Vec<String>,
        handler: Handler,
    ) -> BoxFuture<'static, Result<(), AdapterError>> {
        self.subscribe_with(|done| Command::Channels(channels, handler, done))
    }

    fn subscribe_prefix(
        &self,
        prefix: String,
        handler: Handler,
    ) -> BoxFuture<'static, Result<(), AdapterError>> {
        if self.mode == Mode::Sharded {
            return Box::pin(async {
                Err(AdapterError::Unavailable(
                    "sharded pub/sub has no patterns".into(),
                ))
            });
        }
        self.subscribe_with(|done| Command::Prefix(prefix, handler, done))
    }

    fn unsubscribe(&self, channels: Vec<String>) -> BoxFuture<'static, Result<(), AdapterError>> {
        let sent = self.subscriber.send(Command::Drop(channels)).is_ok();
        Box::pin(async move { sent.then_some(()).ok_or(AdapterError::Closed) })
    }

    fn listeners(&self, channel: String) -> BoxFuture<'static, Result<usize, AdapterError>> {
        let mut conn = self.commands.clone();
        let numsub = self.mode.numsub();
        Box::pin(async move {
            let reply: Vec<redis::Value> = redis::cmd("PUBSUB")
                .arg(numsub)
                .arg(&channel)
                .query_async(&mut conn)
                .await
                .map_err(unavailable)?;
            match reply.get(1) {
                Some(redis::Value::Int(n)) => Ok(usize::try_from(*n).unwrap_or(0)),
                _ => Err(AdapterError::Unavailable(format!(
                    "unexpected PUBSUB {numsub} reply"
                ))),
            }
        })
    }

    fn next_in_sequence(
        &self,
        name: String,
        count: u64,
        floor: u64,
    ) -> BoxFuture<'static, Result<Vec<u64>, AdapterError>> {
        let mut conn = self.commands.clone();
        Box::pin(async move {
            let last: u64 = redis::cmd("EVAL")
                .arg(DRAW_ABOVE_FLOOR)
                .arg(1)
                .arg(&name)
                .arg(count)
                .arg(floor)
                .query_async(&mut conn)
                .await
                .map_err(unavailable)?;
            Ok((last + 1 - count.min(last)..=last).collect())
        })
    }

    fn store(
        &self,
        key: String,
        value: Bytes,
        ttl: Duration,
    ) -> BoxFuture<'static, Result<(), AdapterError>> {
        let mut conn = self.commands.clone();
        let ttl_ms = u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1);
        Box::pin(async move {
            redis::cmd("SET")
                .arg(&key)
                .arg(value.as_ref())
                .arg("PX")
                .arg(ttl_ms)
                .query_async::<()>(&mut conn)
                .await
                .map_err(unavailable)
        })
    }

    fn take(&self, key: String) -> BoxFuture<'static, Result<Option<Bytes>, AdapterError>> {
        let mut conn = self.commands.clone();
        Box::pin(async move {
            let value: Option<Vec<u8>> = redis::cmd("GETDEL")
                .arg(&key)
                .query_async(&mut conn)
                .await
                .map_err(unavailable)?;
            Ok(value.map(Bytes::from))
        })
    }
}

fn unavailable(e: redis::RedisError) -> AdapterError {
    AdapterError::Unavailable(format!("redis: {e}"))
}
