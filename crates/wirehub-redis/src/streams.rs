//! The stream side of `redis-streams://` (`@socket.io/redis-streams-adapter`
//! 0.3): appends through one writer task (a node's entries reach the stream
//! in the order they were queued, several per round trip), reads on a
//! connection of their own (an `XREAD BLOCK` would hold up every other
//! command of a shared one), sessions as keys that expire.

use bytes::Bytes;
use redis::aio::ConnectionManager;
use redis::Value;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot};
use wirehub_server::cluster::{Fields, StreamEntry};
use wirehub_server::io::AdapterError;

use crate::publisher::Counters;

/// Appends that may wait for the writer before one is refused.
pub(crate) const QUEUE: usize = 65_536;
/// Most appends sent in one pipeline.
const BATCH: usize = 256;

/// One entry to append, and who waits for its id.
pub(crate) struct Append {
    pub(crate) stream: String,
    pub(crate) max_len: usize,
    pub(crate) fields: Fields,
    pub(crate) reply: oneshot::Sender<Result<String, AdapterError>>,
}

/// The writer task: `XADD <stream> MAXLEN ~ <n> * <field> <value> ...` for
/// each queued entry, a batch per pipeline; runs until every sender is gone.
/// While Redis is down, what is queued fails batch by batch (the broadcasts
/// reach their own node only), as the pub/sub publisher drops its messages.
pub(crate) async fn write(
    mut conn: ConnectionManager,
    mut rx: mpsc::Receiver<Append>,
    counters: Arc<Counters>,
) {
    let mut batch = Vec::with_capacity(BATCH);
    let mut failing = false;
    while rx.recv_many(&mut batch, BATCH).await > 0 {
        let mut pipe = redis::pipe();
        for a in &batch {
            let cmd = pipe
                .cmd("XADD")
                .arg(&a.stream)
                .arg("MAXLEN")
                .arg("~")
                .arg(a.max_len)
                .arg("*");
            for (name, value) in &a.fields {
                cmd.arg(*name).arg(value.as_ref());
            }
        }
        match pipe.query_async::<Vec<Value>>(&mut conn).await {
            Ok(ids) if ids.len() == batch.len() => {
                counters
                    .sent
                    .fetch_add(batch.len() as u64, Ordering::Relaxed);
                if failing {
                    tracing::info!("redis stream appends resumed");
                    failing = false;
                }
                for (a, id) in batch.drain(..).zip(ids) {
                    let id = text(&id).ok_or_else(|| bad_reply("XADD"));
                    let _ = a.reply.send(id);
                }
            }
            result => {
                counters
                    .lost
                    .fetch_add(batch.len() as u64, Ordering::Relaxed);
                let error = match result {
                    Err(e) => crate::unavailable(e),
                    Ok(_) => bad_reply("XADD"),
                };
                if !failing {
                    tracing::warn!(error = %error, "redis stream append failed; what is published meanwhile reaches local sockets only");
                    failing = true;
                }
                for a in batch.drain(..) {
                    let _ = a.reply.send(Err(error.clone()));
                }
            }
        }
    }
}

pub(crate) fn bad_reply(command: &str) -> AdapterError {
    AdapterError::Unavailable(format!("unexpected {command} reply"))
}

/// A string reply's text.
pub(crate) fn text(v: &Value) -> Option<String> {
    match v {
        Value::BulkString(b) => String::from_utf8(b.clone()).ok(),
        Value::SimpleString(s) => Some(s.clone()),
        Value::VerbatimString { text, .. } => Some(text.clone()),
        _ => None,
    }
}

fn bytes(v: &Value) -> Option<Bytes> {
    match v {
        Value::BulkString(b) => Some(Bytes::copy_from_slice(b)),
        Value::SimpleString(s) => Some(Bytes::copy_from_slice(s.as_bytes())),
        Value::Int(n) => Some(Bytes::from(n.to_string())),
        _ => None,
    }
}

/// One entry: `[id, [field, value, ...]]` (fields may be nil for an entry
/// deleted meanwhile).
fn entry(v: &Value) -> Option<StreamEntry> {
    let Value::Array(parts) = v else { return None };
    let [id, fields] = parts.as_slice() else {
        return None;
    };
    let fields = match fields {
        Value::Array(flat) => flat
            .chunks_exact(2)
            .map(|kv| Some((bytes(&kv[0])?, bytes(&kv[1])?)))
            .collect::<Option<Vec<_>>>()?,
        Value::Map(pairs) => pairs
            .iter()
            .map(|(k, v)| Some((bytes(k)?, bytes(v)?)))
            .collect::<Option<Vec<_>>>()?,
        Value::Nil => Vec::new(),
        _ => return None,
    };
    Some(StreamEntry {
        id: text(id)?,
        fields,
    })
}

/// An `XRANGE` / `XREVRANGE` reply: a list of entries.
pub(crate) fn entries(v: &Value) -> Result<Vec<StreamEntry>, AdapterError> {
    match v {
        Value::Array(items) => items
            .iter()
            .map(|e| entry(e).ok_or_else(|| bad_reply("XRANGE")))
            .collect(),
        Value::Nil => Ok(Vec::new()),
        _ => Err(bad_reply("XRANGE")),
    }
}

/// An `XREAD` reply for one stream: nil (nothing came), `[[stream,
/// entries]]` (RESP2) or `{stream: entries}` (RESP3).
pub(crate) fn read_reply(v: &Value) -> Result<Vec<StreamEntry>, AdapterError> {
    let bad = || bad_reply("XREAD");
    match v {
        Value::Nil => Ok(Vec::new()),
        Value::Array(streams) => match streams.first() {
            None => Ok(Vec::new()),
            Some(Value::Array(pair)) if pair.len() == 2 => entries(&pair[1]).map_err(|_| bad()),
            Some(_) => Err(bad()),
        },
        Value::Map(streams) => match streams.first() {
            None => Ok(Vec::new()),
            Some((_, list)) => entries(list).map_err(|_| bad()),
        },
        _ => Err(bad()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bulk(s: &str) -> Value {
        Value::BulkString(s.as_bytes().to_vec())
    }

    #[test]
    fn reads_resp2_and_resp3_replies() {
        let e = Value::Array(vec![
            bulk("1-2"),
            Value::Array(vec![bulk("uid"), bulk("u"), bulk("type"), bulk("3")]),
        ]);
        let want = vec![StreamEntry {
            id: "1-2".into(),
            fields: vec![
                (Bytes::from("uid"), Bytes::from("u")),
                (Bytes::from("type"), Bytes::from("3")),
            ],
        }];
        let resp2 = Value::Array(vec![Value::Array(vec![
            bulk("s"),
            Value::Array(vec![e.clone()]),
        ])]);
        assert_eq!(read_reply(&resp2).unwrap(), want);
        let resp3 = Value::Map(vec![(bulk("s"), Value::Array(vec![e.clone()]))]);
        assert_eq!(read_reply(&resp3).unwrap(), want);
        assert_eq!(read_reply(&Value::Nil).unwrap(), vec![]);
        assert_eq!(entries(&Value::Array(vec![e])).unwrap(), want);
        assert!(read_reply(&Value::Int(1)).is_err());
    }
}
