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
//! - `redis-streams://HOST:PORT[/DB]`: `@socket.io/redis-streams-adapter`
//!   0.3: `XADD`/`XREAD` on the stream named after the key, `PUBLISH` /
//!   `SUBSCRIBE` for requests and responses, nodes counted with
//!   `PUBSUB NUMSUB`, sessions as `SET ... PX` keys.
//!
//! # Layout
//! - `publisher`: the writer task on a `redis` crate connection manager.
//! - `streams`: the stream appends (a writer task), reads (a connection of
//!   their own) and their replies.
//! - `subscriber`: the subscribing connection, which resubscribes after
//!   every reconnection.
//! - `resp`: the RESP2 frames that connection reads, sans-IO.

mod publisher;
mod resp;
mod streams;
mod subscriber;

use bytes::Bytes;
use futures_util::future::BoxFuture;
use publisher::Counters;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;
use subscriber::{Command, Target};
use tokio::sync::{mpsc, oneshot, watch};
use wirehub_server::cluster::{
    self, ClusterOptions, Counting, Driver, Fields, Handler, RoomChannels, StreamEntry, StreamLog,
};
use wirehub_server::io::{AdapterError, AdapterFactory};

/// Which of Node's Redis adapters to speak.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Mode {
    /// `createAdapter`: classic pub/sub.
    Classic,
    /// `createShardedAdapter`: sharded pub/sub (Redis 7).
    Sharded,
    /// `@socket.io/redis-streams-adapter`: a stream, and classic pub/sub
    /// for requests and responses.
    Streams,
}

impl Mode {
    fn publish(self) -> &'static str {
        match self {
            Mode::Classic | Mode::Streams => "PUBLISH",
            Mode::Sharded => "SPUBLISH",
        }
    }

    fn subscribe(self) -> &'static str {
        match self {
            Mode::Classic | Mode::Streams => "SUBSCRIBE",
            Mode::Sharded => "SSUBSCRIBE",
        }
    }

    fn unsubscribe(self) -> &'static str {
        match self {
            Mode::Classic | Mode::Streams => "UNSUBSCRIBE",
            Mode::Sharded => "SUNSUBSCRIBE",
        }
    }

    fn numsub(self) -> &'static str {
        match self {
            Mode::Classic | Mode::Streams => "NUMSUB",
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
    /// The stream appends' writer and the reading connection (streams mode).
    streams: Option<(mpsc::Sender<streams::Append>, redis::aio::ConnectionManager)>,
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
    /// A driver for `redis://`, `redis-sharded://` or `redis-streams://`
    /// (`rediss://` is not supported). Connects lazily: Redis may be down when the node
    /// starts. Call inside a tokio runtime.
    pub fn new(url: &str) -> Result<Arc<Self>, Error> {
        let bad = |reason: &str| Error::Url {
            url: url.to_owned(),
            reason: reason.to_owned(),
        };
        let (mode, plain) = if let Some(rest) = url.strip_prefix("redis-sharded://") {
            (Mode::Sharded, format!("redis://{rest}"))
        } else if let Some(rest) = url.strip_prefix("redis-streams://") {
            (Mode::Streams, format!("redis://{rest}"))
        } else if url.starts_with("redis://") {
            (Mode::Classic, url.to_owned())
        } else {
            return Err(bad(
                "expected redis://, redis-sharded:// or redis-streams://",
            ));
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
        let streams = match mode {
            Mode::Streams => {
                let (appends, rx) = mpsc::channel(streams::QUEUE);
                tokio::spawn(streams::write(commands.clone(), rx, counters.clone()));
                // Reads block for seconds: their own connection, bounded by
                // `read` itself rather than a response timeout.
                let config = redis::aio::ConnectionManagerConfig::new()
                    .set_response_timeout(None)
                    .set_connection_timeout(Some(COMMAND_TIMEOUT))
                    .set_max_delay(Duration::from_secs(2))
                    .set_number_of_retries(1);
                let reader = client
                    .get_connection_manager_lazy(config)
                    .map_err(|e| bad(&e.to_string()))?;
                Some((appends, reader))
            }
            _ => None,
        };
        Ok(Arc::new(RedisDriver {
            mode,
            commands,
            publish,
            subscriber,
            up,
            counters,
            streams,
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
            Mode::Streams => cluster::streams(self.clone(), self.clone(), options),
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

/// An adapter factory for `url` (`redis://`, `redis-sharded://` or
/// `redis-streams://`) with
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
    fn is_up(&self) -> bool {
        RedisDriver::is_up(self)
    }

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

/// How long past its `BLOCK` an `XREAD` may take before it fails.
const READ_GRACE: Duration = Duration::from_secs(3);

impl RedisDriver {
    fn stream_parts(
        &self,
    ) -> Result<&(mpsc::Sender<streams::Append>, redis::aio::ConnectionManager), AdapterError> {
        self.streams.as_ref().ok_or_else(|| {
            AdapterError::Unavailable("not a redis-streams:// driver: no stream".into())
        })
    }
}

impl StreamLog for RedisDriver {
    fn append(
        &self,
        stream: &str,
        max_len: usize,
        fields: Fields,
    ) -> BoxFuture<'static, Result<String, AdapterError>> {
        let (reply, rx) = oneshot::channel();
        let queued = self.stream_parts().and_then(|(appends, _)| {
            appends
                .try_send(streams::Append {
                    stream: stream.to_owned(),
                    max_len,
                    fields,
                    reply,
                })
                .map_err(|e| AdapterError::Unavailable(format!("redis stream queue: {e}")))
        });
        Box::pin(async move {
            queued?;
            rx.await.unwrap_or(Err(AdapterError::Closed))
        })
    }

    fn read(
        &self,
        stream: String,
        after: String,
        count: usize,
        block: Duration,
    ) -> BoxFuture<'static, Result<Vec<StreamEntry>, AdapterError>> {
        let reader = self.stream_parts().map(|(_, reader)| reader.clone());
        Box::pin(async move {
            let mut conn = reader?;
            let mut cmd = redis::cmd("XREAD");
            cmd.arg("BLOCK")
                .arg(block.as_millis() as u64)
                .arg("COUNT")
                .arg(count)
                .arg("STREAMS")
                .arg(&stream)
                .arg(&after);
            let read = cmd.query_async::<redis::Value>(&mut conn);
            match tokio::time::timeout(block + READ_GRACE, read).await {
                Ok(reply) => streams::read_reply(&reply.map_err(unavailable)?),
                Err(_) => Err(AdapterError::Unavailable("redis: XREAD timed out".into())),
            }
        })
    }

    fn range(
        &self,
        stream: String,
        start: String,
        end: String,
        count: usize,
    ) -> BoxFuture<'static, Result<Vec<StreamEntry>, AdapterError>> {
        let mut conn = self.commands.clone();
        Box::pin(async move {
            let reply: redis::Value = redis::cmd("XRANGE")
                .arg(&stream)
                .arg(&start)
                .arg(&end)
                .arg("COUNT")
                .arg(count)
                .query_async(&mut conn)
                .await
                .map_err(unavailable)?;
            streams::entries(&reply)
        })
    }

    fn last_id(&self, stream: String) -> BoxFuture<'static, Result<Option<String>, AdapterError>> {
        let mut conn = self.commands.clone();
        Box::pin(async move {
            let reply: redis::Value = redis::cmd("XREVRANGE")
                .arg(&stream)
                .arg("+")
                .arg("-")
                .arg("COUNT")
                .arg(1)
                .query_async(&mut conn)
                .await
                .map_err(unavailable)?;
            Ok(streams::entries(&reply)?.pop().map(|e| e.id))
        })
    }
}

fn unavailable(e: redis::RedisError) -> AdapterError {
    AdapterError::Unavailable(format!("redis: {e}"))
}
