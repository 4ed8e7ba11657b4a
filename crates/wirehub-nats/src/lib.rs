//! wirehub's cluster driver over NATS: a [`NatsDriver`] carries
//! `wirehub_server::cluster`'s clustered adapter (socket.io-adapter's
//! `ClusterAdapter` protocol) over NATS subjects, counting the nodes by
//! heartbeats (NATS cannot count a subject's subscribers), and draws the
//! room-history sequence from a JetStream stream.
//!
//! Node has no NATS adapter of this protocol: a NATS cluster is made of
//! wirehub nodes. Channel names become subjects by percent-encoding every
//! byte outside `A-Z a-z 0-9 # / _ - ~ :` (a dot too), so each is one
//! subject token and no room name can make a wildcard.
//!
//! `async-nats` reconnects and resubscribes on its own. While NATS is
//! unreachable, publishing drops messages instead of letting the client
//! buffer them for later, the same guarantee as the Redis driver.

use async_nats::connection::State;
use async_nats::jetstream;
use bytes::Bytes;
use futures_util::future::BoxFuture;
use futures_util::StreamExt;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::task::AbortHandle;
use wirehub_server::cluster::{self, ClusterOptions, Counting, Driver, Handler, RoomChannels};
use wirehub_server::io::{AdapterError, AdapterFactory};

/// Messages that may wait for the writer before a publish is refused.
const QUEUE: usize = 65_536;
/// How long a JetStream request may take.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(2);

/// Why a NATS driver could not be set up.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The URL is not a `nats://` URL.
    #[error("bad NATS URL {0:?}: expected nats://HOST:PORT")]
    Url(String),
    /// The client could not be set up.
    #[error("NATS: {0}")]
    Connect(String),
}

/// One node's connection to NATS.
pub struct NatsDriver {
    client: async_nats::Client,
    jetstream: jetstream::Context,
    /// The stream whose sequence numbers are the room-history offsets.
    stream: String,
    publish: mpsc::Sender<(String, Bytes)>,
    /// Each subscribed channel's forwarding task.
    subscriptions: Arc<Mutex<HashMap<String, AbortHandle>>>,
}

impl std::fmt::Debug for NatsDriver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NatsDriver")
            .field("state", &self.client.connection_state())
            .finish()
    }
}

impl NatsDriver {
    /// A driver for `url` (`nats://HOST:PORT`), whose sequence stream is
    /// named after `key`. Connects in the background: NATS may be down when
    /// the node starts.
    pub async fn new(url: &str, key: &str) -> Result<Arc<Self>, Error> {
        if !url.starts_with("nats://") {
            return Err(Error::Url(url.to_owned()));
        }
        let client = async_nats::ConnectOptions::new()
            .retry_on_initial_connect()
            .event_callback(|event| async move {
                match event {
                    async_nats::Event::Disconnected => {
                        tracing::warn!("nats connection lost; reconnecting")
                    }
                    async_nats::Event::Connected => tracing::info!("nats connected"),
                    other => tracing::debug!(event = %other, "nats event"),
                }
            })
            .connect(url)
            .await
            .map_err(|e| Error::Connect(e.to_string()))?;
        let mut jetstream = jetstream::new(client.clone());
        jetstream.set_timeout(REQUEST_TIMEOUT);
        let (publish, rx) = mpsc::channel(QUEUE);
        tokio::spawn(write(client.clone(), rx));
        Ok(Arc::new(NatsDriver {
            client,
            jetstream,
            stream: format!("wirehub_offsets_{}", stream_name(key)),
            publish,
            subscriptions: Arc::default(),
        }))
    }

    /// Whether the client is connected.
    pub fn is_up(&self) -> bool {
        self.client.connection_state() == State::Connected
    }

    /// The adapter factory over this driver, with `options`.
    pub fn adapter(self: &Arc<Self>, options: ClusterOptions) -> AdapterFactory {
        cluster::clustered(
            self.clone(),
            options,
            Counting::Heartbeats,
            RoomChannels::Static,
        )
    }
}

/// Creates the sequence stream if it does not exist.
async fn ensure_stream(js: &jetstream::Context, stream: &str) -> Result<(), AdapterError> {
    let config = jetstream::stream::Config {
        name: stream.to_owned(),
        subjects: vec![format!("{stream}.>")],
        max_messages_per_subject: 1,
        storage: jetstream::stream::StorageType::Memory,
        ..Default::default()
    };
    js.get_or_create_stream(config)
        .await
        .map(|_| ())
        .map_err(|e| AdapterError::Unavailable(format!("nats stream: {e}")))
}

/// An adapter factory for `url` (`nats://HOST:PORT`) with `options`: what
/// `wirehub serve --adapter` uses.
pub async fn adapter(url: &str, options: ClusterOptions) -> Result<AdapterFactory, Error> {
    Ok(NatsDriver::new(url, &options.key).await?.adapter(options))
}

/// A channel name as one NATS subject token.
fn subject(channel: &str) -> String {
    let mut out = String::with_capacity(channel.len() + 8);
    for b in channel.bytes() {
        if b.is_ascii_alphanumeric() || b"#/_-~:".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `key` as a JetStream stream name (letters, digits, `_` and `-`).
fn stream_name(key: &str) -> String {
    key.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// The writer task: publishes in order while connected, drops otherwise.
async fn write(client: async_nats::Client, mut rx: mpsc::Receiver<(String, Bytes)>) {
    let mut dropping = false;
    while let Some((subject, payload)) = rx.recv().await {
        if client.connection_state() != State::Connected {
            if !dropping {
                tracing::warn!("nats unreachable: messages of the outage reach local sockets only");
                dropping = true;
            }
            continue;
        }
        dropping = false;
        if let Err(e) = client.publish(subject, payload).await {
            tracing::debug!(error = %e, "nats publish failed");
        }
    }
}

impl Driver for NatsDriver {
    fn is_up(&self) -> bool {
        NatsDriver::is_up(self)
    }

    fn publish(&self, channel: &str, payload: Bytes) -> Result<(), AdapterError> {
        self.publish
            .try_send((subject(channel), payload))
            .map_err(|e| AdapterError::Unavailable(format!("nats publish queue: {e}")))
    }

    fn subscribe(
        &self,
        channels: Vec<String>,
        handler: Handler,
    ) -> BoxFuture<'static, Result<(), AdapterError>> {
        let client = self.client.clone();
        let registry = self.subscriptions.clone();
        Box::pin(async move {
            for channel in channels {
                let mut sub = client
                    .subscribe(subject(&channel))
                    .await
                    .map_err(|e| AdapterError::Unavailable(format!("nats subscribe: {e}")))?;
                let handler = handler.clone();
                let name = channel.clone();
                let task = tokio::spawn(async move {
                    while let Some(msg) = sub.next().await {
                        handler(&name, msg.payload);
                    }
                });
                let previous = lock(&registry).insert(channel, task.abort_handle());
                if let Some(previous) = previous {
                    previous.abort();
                }
            }
            client
                .flush()
                .await
                .map_err(|e| AdapterError::Unavailable(format!("nats flush: {e}")))
        })
    }

    fn subscribe_prefix(
        &self,
        _prefix: String,
        _handler: Handler,
    ) -> BoxFuture<'static, Result<(), AdapterError>> {
        Box::pin(async {
            Err(AdapterError::Unavailable(
                "NATS subjects take no prefix subscriptions".into(),
            ))
        })
    }

    fn unsubscribe(&self, channels: Vec<String>) -> BoxFuture<'static, Result<(), AdapterError>> {
        let mut subs = lock(&self.subscriptions);
        for channel in channels {
            if let Some(task) = subs.remove(&channel) {
                task.abort();
            }
        }
        Box::pin(async { Ok(()) })
    }

    fn listeners(&self, _channel: String) -> BoxFuture<'static, Result<usize, AdapterError>> {
        Box::pin(async {
            Err(AdapterError::Unavailable(
                "NATS cannot count subscribers".into(),
            ))
        })
    }

    fn next_in_sequence(
        &self,
        name: String,
        count: u64,
        floor: u64,
    ) -> BoxFuture<'static, Result<Vec<u64>, AdapterError>> {
        let js = self.jetstream.clone();
        let stream = self.stream.clone();
        let subject = format!("{stream}.{}", subject(&name));
        Box::pin(async move {
            let seqs = match sequence(&js, &subject, count).await {
                Ok(seqs) => seqs,
                // The stream may not exist yet (first use, or a restarted
                // server without persistence): create it and try again.
                Err(_) => {
                    ensure_stream(&js, &stream).await?;
                    sequence(&js, &subject, count).await?
                }
            };
            if seqs.first().is_none_or(|first| *first > floor) {
                return Ok(seqs);
            }
            // Behind the caller's history (a stream made anew): a purge up
            // to `floor + 1` moves the stream's sequence there.
            move_past(&js, &stream, floor).await?;
            sequence(&js, &subject, count).await
        })
    }
}

/// Moves the sequence stream's next sequence number to `floor + 1` (a purge
/// up to a sequence past the last one does that; it never moves it back).
async fn move_past(js: &jetstream::Context, stream: &str, floor: u64) -> Result<(), AdapterError> {
    let failed =
        |e: &dyn std::fmt::Display| AdapterError::Unavailable(format!("nats sequence: {e}"));
    let stream = js.get_stream(stream).await.map_err(|e| failed(&e))?;
    stream
        .purge()
        .sequence(floor + 1)
        .await
        .map(|_| ())
        .map_err(|e| failed(&e))
}

/// Publishes `count` empty messages to the sequence stream, back to back:
/// their stream sequence numbers, in order (one round trip for them all).
async fn sequence(
    js: &jetstream::Context,
    subject: &str,
    count: u64,
) -> Result<Vec<u64>, AdapterError> {
    let failed =
        |e: &dyn std::fmt::Display| AdapterError::Unavailable(format!("nats sequence: {e}"));
    let mut acks = Vec::with_capacity(count as usize);
    for _ in 0..count {
        let ack = js
            .publish(subject.to_owned(), Bytes::new())
            .await
            .map_err(|e| failed(&e))?;
        acks.push(ack);
    }
    let mut seqs = Vec::with_capacity(acks.len());
    for ack in acks {
        seqs.push(ack.await.map(|a| a.sequence).map_err(|e| failed(&e))?);
    }
    Ok(seqs)
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}
