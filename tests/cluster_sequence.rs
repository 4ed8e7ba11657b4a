//! The cluster-wide offset sequence of room history on the real engines
//! (Redis on 127.0.0.1:6379 and NATS on 127.0.0.1:4222, which
//! `scripts/test.sh` starts): numbers are increasing and unique, drawn
//! several at once, and never behind the caller's floor: after the engine
//! lost its count (a restart without persistence), the node's history still
//! holds higher offsets, and the sequence jumps past them.

use std::time::{SystemTime, UNIX_EPOCH};
use wirehub_server::cluster::Driver;

/// A name no earlier run used.
fn fresh(prefix: &str) -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock")
        .as_nanos();
    format!("{prefix}-{}-{nanos}", std::process::id())
}

async fn draws_above_the_floor(driver: &dyn Driver, name: &str) {
    let draw = |count, floor| driver.next_in_sequence(name.to_owned(), count, floor);
    let first = draw(3, 0).await.expect("draw");
    assert_eq!(first.len(), 3);
    assert!(first.windows(2).all(|w| w[1] == w[0] + 1), "{first:?}");
    let next = draw(2, 0).await.expect("draw");
    assert_eq!(next, vec![first[2] + 1, first[2] + 2]);
    // The history went further than the sequence (it lost its count).
    let floor = next[1] + 1000;
    let past = draw(2, floor).await.expect("draw");
    assert_eq!(past, vec![floor + 1, floor + 2], "moved past the floor");
    // A floor behind the sequence changes nothing.
    let after = draw(1, 5).await.expect("draw");
    assert_eq!(after, vec![floor + 3]);
}

#[tokio::test]
async fn redis_sequence_never_goes_behind_the_floor() {
    let driver = wirehub_redis::RedisDriver::new("redis://127.0.0.1:6379").expect("driver");
    draws_above_the_floor(&*driver, &fresh("wirehub-test-sequence")).await;
}

#[tokio::test]
async fn nats_sequence_never_goes_behind_the_floor() {
    let key = fresh("wirehub-test-sequence");
    let driver = wirehub_nats::NatsDriver::new("nats://127.0.0.1:4222", &key)
        .await
        .expect("driver");
    draws_above_the_floor(&*driver, "offsets").await;
}
