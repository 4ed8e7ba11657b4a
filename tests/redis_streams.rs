//! The stream side of `redis-streams://` on the real Redis (127.0.0.1:6379,
//! which `scripts/test.sh` starts): appends keep their order and return
//! increasing entry ids, reads and ranges give the fields back byte for
//! byte, a read after the last entry waits for the next one (or comes back
//! empty after its block), and the session keys of the key-value store are
//! taken once.

use bytes::Bytes;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use wirehub_server::cluster::{Driver, StreamLog};
use wirehub_server::proto::cluster::streams::StreamId;

/// A stream name no earlier run used.
fn fresh(prefix: &str) -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock")
        .as_nanos();
    format!("{prefix}-{}-{nanos}", std::process::id())
}

fn fields(n: u8) -> Vec<(&'static str, Bytes)> {
    vec![
        ("uid", Bytes::from("u")),
        ("nsp", Bytes::from("/")),
        ("type", Bytes::from("3")),
        ("data", Bytes::from(vec![n, 0xff, b'{'])),
    ]
}

#[tokio::test]
async fn appends_reads_and_ranges_on_redis() {
    let driver = wirehub_redis::RedisDriver::new("redis-streams://127.0.0.1:6379").expect("driver");
    let stream = fresh("wirehub-test-stream");
    assert_eq!(driver.last_id(stream.clone()).await.expect("last"), None);

    // Queued in order, awaited afterwards: the ids increase in queue order.
    let pending: Vec<_> = (0..5u8)
        .map(|n| driver.append(&stream, 10_000, fields(n)))
        .collect();
    let mut ids = Vec::new();
    for p in pending {
        ids.push(StreamId::parse(&p.await.expect("append")).expect("entry id"));
    }
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "{ids:?}");
    assert!(ids.iter().all(|id| id.offset().is_some()), "{ids:?}");

    let read = driver
        .read(
            stream.clone(),
            "0-0".into(),
            100,
            Duration::from_millis(100),
        )
        .await
        .expect("read");
    assert_eq!(read.len(), 5);
    for (n, entry) in read.iter().enumerate() {
        assert_eq!(entry.id, ids[n].to_string());
        let want: Vec<(Bytes, Bytes)> = fields(n as u8)
            .into_iter()
            .map(|(k, v)| (Bytes::from_static(k.as_bytes()), v))
            .collect();
        assert_eq!(entry.fields, want, "fields come back byte for byte");
    }

    let one = ids[2].to_string();
    let exact = driver
        .range(stream.clone(), one.clone(), one.clone(), 10)
        .await
        .expect("range");
    assert_eq!(exact.len(), 1);
    let tail = driver
        .range(stream.clone(), ids[2].next().to_string(), "+".into(), 10)
        .await
        .expect("range");
    assert_eq!(tail.len(), 2, "exclusive of the offset, to the end");
    let last = driver.last_id(stream.clone()).await.expect("last");
    assert_eq!(last, Some(ids[4].to_string()));

    // Nothing after the last entry: an empty answer after the block...
    let empty = driver
        .read(
            stream.clone(),
            ids[4].to_string(),
            10,
            Duration::from_millis(200),
        )
        .await
        .expect("read");
    assert!(empty.is_empty());
    // ...or the next entry as soon as it is appended.
    let waiting = driver.read(
        stream.clone(),
        ids[4].to_string(),
        10,
        Duration::from_secs(5),
    );
    let appender = {
        let driver = driver.clone();
        let stream = stream.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(100)).await;
            driver.append(&stream, 10_000, fields(9)).await
        })
    };
    let started = std::time::Instant::now();
    let next = waiting.await.expect("read");
    assert_eq!(next.len(), 1);
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "woken by the append"
    );
    appender.await.expect("task").expect("append");

    // Session keys: stored with a TTL, taken once.
    let key = format!("{stream}:session:pid");
    driver
        .store(key.clone(), Bytes::from("v"), Duration::from_secs(5))
        .await
        .expect("store");
    assert_eq!(
        driver.take(key.clone()).await.expect("take"),
        Some(Bytes::from("v"))
    );
    assert_eq!(driver.take(key).await.expect("take"), None);

    // Leave nothing behind on the shared Redis.
    let mut conn = tokio::net::TcpStream::connect("127.0.0.1:6379")
        .await
        .expect("redis");
    let del = format!("*2\r\n$3\r\nDEL\r\n${}\r\n{stream}\r\n", stream.len());
    conn.write_all(del.as_bytes()).await.expect("DEL");
    let mut reply = [0u8; 16];
    let n = conn.read(&mut reply).await.expect("DEL reply");
    assert_eq!(&reply[..n], b":1\r\n");
}
