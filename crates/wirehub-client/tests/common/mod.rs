//! Shared test support: ports, our server in-process, the Node reference
//! server, a scripted fake server, and event recorders.
#![allow(dead_code)]

pub(crate) mod fake;
pub(crate) mod node;
pub(crate) mod ours;
pub(crate) mod ports;
pub(crate) mod record;

use std::time::Duration;

/// How long any expected event may take.
pub(crate) const WAIT: Duration = Duration::from_secs(5);

/// Waits until `cond` holds, polling every 10 ms, for at most `within`.
pub(crate) async fn wait_until(within: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let deadline = tokio::time::Instant::now() + within;
    while tokio::time::Instant::now() < deadline {
        if cond() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    cond()
}
