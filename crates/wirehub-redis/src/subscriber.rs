//! The subscribing connection: one TCP connection per node, in RESP2
//! subscribe mode, that holds every channel, pattern and shard-channel
//! subscription of the node's adapters and hands each message to its
//! handler. When the connection drops it reconnects (backing off up to 1
//! s) and subscribes again to everything, so cross-node delivery resumes
//! on its own after a Redis restart.
//!
//! It speaks RESP2 through [`crate::resp`] rather than the `redis` crate's
//! pub/sub, because that one offers no sharded subscriptions (`SSUBSCRIBE`)
//! on a standalone server, which the sharded adapter needs.

use crate::resp::{decode, Frame};
use crate::Mode;
use bytes::BytesMut;
use std::collections::HashMap;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, oneshot, watch};
use wirehub_server::cluster::Handler;

/// What the subscriber is asked to do.
pub(crate) enum Command {
    /// Subscribe to exact channels; `done` is told once Redis confirmed.
    Channels(Vec<String>, Handler, oneshot::Sender<()>),
    /// Subscribe to every channel that starts with a prefix.
    Prefix(String, Handler, oneshot::Sender<()>),
    /// Drop subscriptions (channels or prefixes).
    Drop(Vec<String>),
}

/// Where the subscriber connects and how it logs in.
#[derive(Clone)]
pub(crate) struct Target {
    pub(crate) host: String,
    pub(crate) port: u16,
    pub(crate) username: Option<String>,
    pub(crate) password: Option<String>,
}

#[derive(Default)]
struct Subscriptions {
    channels: HashMap<String, Handler>,
    /// Glob pattern (as sent) → the prefix it stands for, and its handler.
    patterns: HashMap<String, (String, Handler)>,
    /// Confirmations awaited, by channel or pattern.
    waiting: HashMap<String, Vec<oneshot::Sender<()>>>,
}

/// The subscriber task: runs until every command sender is gone.
pub(crate) async fn run(
    target: Target,
    mode: Mode,
    mut commands: mpsc::UnboundedReceiver<Command>,
    up: watch::Sender<bool>,
) {
    let mut subs = Subscriptions::default();
    let mut backoff = Duration::from_millis(100);
    let mut was_up = false;
    loop {
        match connect(&target).await {
            Ok(stream) => {
                backoff = Duration::from_millis(100);
                if was_up {
                    tracing::info!("redis subscriber reconnected; subscribing again");
                }
                up.send_replace(true);
                was_up = true;
                let end = serve(stream, &target, mode, &mut subs, &mut commands).await;
                up.send_replace(false);
                match end {
                    End::Commands => return,
                    End::Lost(e) => {
                        tracing::warn!(error = %e, "redis subscriber connection lost; reconnecting")
                    }
                }
            }
            Err(e) => {
                if backoff == Duration::from_millis(100) {
                    tracing::warn!(error = %e, "redis subscriber cannot connect; retrying");
                }
            }
        }
        // Keep taking commands while disconnected (they apply on reconnect).
        let deadline = tokio::time::sleep(backoff);
        tokio::pin!(deadline);
        loop {
            tokio::select! {
                () = &mut deadline => break,
                cmd = commands.recv() => match cmd {
                    Some(cmd) => subs.record(cmd),
                    None => return,
                },
            }
        }
        backoff = (backoff * 2).min(Duration::from_secs(1));
    }
}

enum End {
    /// The adapters are gone.
    Commands,
    /// The connection failed.
    Lost(String),
}

async fn connect(target: &Target) -> std::io::Result<TcpStream> {
    let stream = tokio::time::timeout(
        Duration::from_secs(2),
        TcpStream::connect((target.host.as_str(), target.port)),
    )
    .await
    .map_err(|_| std::io::Error::new(std::io::ErrorKind::TimedOut, "connect timed out"))??;
    stream.set_nodelay(true)?;
    Ok(stream)
}

async fn serve(
    mut stream: TcpStream,
    target: &Target,
    mode: Mode,
    subs: &mut Subscriptions,
    commands: &mut mpsc::UnboundedReceiver<Command>,
) -> End {
    if let Err(e) = login(&mut stream, target).await {
        return End::Lost(e.to_string());
    }
    let mut out = Vec::new();
    subs.resubscribe(mode, &mut out);
    if let Err(e) = stream.write_all(&out).await {
        return End::Lost(e.to_string());
    }
    let mut buf = BytesMut::with_capacity(16 * 1024);
    loop {
        loop {
            match decode(&mut buf) {
                Ok(Some(frame)) => subs.on_frame(frame),
                Ok(None) => break,
                Err(e) => return End::Lost(e.to_string()),
            }
        }
        tokio::select! {
            read = stream.read_buf(&mut buf) => match read {
                Ok(0) => return End::Lost("closed by the server".into()),
                Ok(_) => {}
                Err(e) => return End::Lost(e.to_string()),
            },
            cmd = commands.recv() => {
                let Some(cmd) = cmd else { return End::Commands };
                let mut out = Vec::new();
                subs.apply(cmd, mode, &mut out);
                if let Err(e) = stream.write_all(&out).await {
                    return End::Lost(e.to_string());
                }
            }
        }
    }
}

/// Logs in when the URL had credentials (before subscribe mode).
async fn login(stream: &mut TcpStream, target: &Target) -> std::io::Result<()> {
    let Some(password) = &target.password else {
        return Ok(());
    };
    let mut cmd = redis::cmd("AUTH");
    if let Some(user) = &target.username {
        cmd.arg(user);
    }
    cmd.arg(password);
    stream.write_all(&cmd.get_packed_command()).await?;
    let mut buf = BytesMut::with_capacity(256);
    loop {
        if stream.read_buf(&mut buf).await? == 0 {
            return Err(std::io::Error::other("closed during AUTH"));
        }
        match decode(&mut buf) {
            Ok(Some(Frame::Error(e))) => return Err(std::io::Error::other(e)),
            Ok(Some(_)) => return Ok(()),
            Ok(None) => continue,
            Err(e) => return Err(std::io::Error::other(e.to_string())),
        }
    }
}

/// A glob pattern matching exactly the channels that start with `prefix`.
fn prefix_pattern(prefix: &str) -> String {
    let mut p = String::with_capacity(prefix.len() + 2);
    for c in prefix.chars() {
        if matches!(c, '*' | '?' | '[' | ']' | '\\') {
            p.push('\\');
        }
        p.push(c);
    }
    p.push('*');
    p
}

impl Subscriptions {
    /// Records a command without a connection (applied on reconnect).
    fn record(&mut self, cmd: Command) {
        self.apply(cmd, Mode::Classic, &mut Vec::new());
    }

    /// Records a command and writes what it sends to Redis into `out`.
    fn apply(&mut self, cmd: Command, mode: Mode, out: &mut Vec<u8>) {
        match cmd {
            Command::Channels(channels, handler, done) => {
                let mut cmd = redis::cmd(mode.subscribe());
                for channel in &channels {
                    self.channels.insert(channel.clone(), handler.clone());
                    cmd.arg(channel);
                }
                if let Some(last) = channels.last() {
                    self.waiting.entry(last.clone()).or_default().push(done);
                }
                out.extend(cmd.get_packed_command());
            }
            Command::Prefix(prefix, handler, done) => {
                let pattern = prefix_pattern(&prefix);
                self.waiting.entry(pattern.clone()).or_default().push(done);
                out.extend(redis::cmd("PSUBSCRIBE").arg(&pattern).get_packed_command());
                self.patterns.insert(pattern, (prefix, handler));
            }
            Command::Drop(names) => {
                for name in names {
                    if self.channels.remove(&name).is_some() {
                        out.extend(
                            redis::cmd(mode.unsubscribe())
                                .arg(&name)
                                .get_packed_command(),
                        );
                    }
                    let pattern = prefix_pattern(&name);
                    if self.patterns.remove(&pattern).is_some() {
                        out.extend(
                            redis::cmd("PUNSUBSCRIBE")
                                .arg(&pattern)
                                .get_packed_command(),
                        );
                    }
                }
            }
        }
    }

    /// Every subscription again, after a reconnection.
    fn resubscribe(&self, mode: Mode, out: &mut Vec<u8>) {
        if !self.channels.is_empty() {
            let mut cmd = redis::cmd(mode.subscribe());
            for channel in self.channels.keys() {
                cmd.arg(channel);
            }
            out.extend(cmd.get_packed_command());
        }
        for pattern in self.patterns.keys() {
            out.extend(redis::cmd("PSUBSCRIBE").arg(pattern).get_packed_command());
        }
    }

    fn on_frame(&mut self, frame: Frame) {
        let Frame::Array(Some(items)) = frame else {
            if let Frame::Error(e) = frame {
                tracing::warn!(error = %e, "redis refused a subscription");
            }
            return;
        };
        let kind = items.first().and_then(Frame::text).unwrap_or("");
        match (kind, items.as_slice()) {
            ("message" | "smessage", [_, channel, Frame::Bulk(Some(payload))]) => {
                let Some(channel) = channel.text() else {
                    return;
                };
                if let Some(handler) = self.channels.get(channel) {
                    handler(channel, payload.clone());
                }
            }
            ("pmessage", [_, pattern, channel, Frame::Bulk(Some(payload))]) => {
                let (Some(pattern), Some(channel)) = (pattern.text(), channel.text()) else {
                    return;
                };
                if let Some((_, handler)) = self.patterns.get(pattern) {
                    handler(channel, payload.clone());
                }
            }
            ("subscribe" | "ssubscribe" | "psubscribe", [_, name, ..]) => {
                if let Some(waiting) = name.text().and_then(|n| self.waiting.remove(n)) {
                    for done in waiting {
                        let _ = done.send(());
                    }
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_are_escaped_globs() {
        assert_eq!(prefix_pattern("socket.io#/#"), "socket.io#/#*");
        assert_eq!(prefix_pattern("a*b?[c]\\"), "a\\*b\\?\\[c\\]\\\\*");
    }
}
