//! Shared test support: ports, our server in-process, the Node reference
//! server, a scripted fake server, and event recorders.
#![allow(dead_code)]

pub(crate) mod fake;
pub(crate) mod node;
pub(crate) mod ours;
pub(crate) mod ports;
pub(crate) mod record;

use std::sync::{Mutex, Once};
use std::time::Duration;

/// How long any expected event may take.
pub(crate) const WAIT: Duration = Duration::from_secs(5);

/// A prerequisite of a test (Node and its npm modules) is missing: under
/// CI (`CI=true`) or `scripts/test.sh` (`WIREHUB_TEST_STRICT=1`) that fails
/// the test; elsewhere the test is skipped, saying so on stderr.
pub(crate) fn require(missing: &str) {
    let strict = matches!(std::env::var("CI").as_deref(), Ok("true" | "1"))
        || std::env::var("WIREHUB_TEST_STRICT").as_deref() == Ok("1");
    assert!(
        !strict,
        "{missing} (a missing prerequisite fails the test under CI=true or WIREHUB_TEST_STRICT=1)"
    );
    eprintln!("SKIPPED: {missing}");
}

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

/// Every panic of the process: its thread's name and its message.
static PANICS: Mutex<Vec<(String, String)>> = Mutex::new(Vec::new());
static HOOK: Once = Once::new();

/// Records every panic (and still reports it as before).
pub(crate) fn install_panic_hook() {
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let name = std::thread::current().name().unwrap_or("").to_owned();
            let payload = info.payload();
            let message = payload
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_default();
            PANICS
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push((name, message));
            previous(info);
        }));
    });
}

/// The messages of the panics on threads called `thread`.
pub(crate) fn panics_on(thread: &str) -> Vec<String> {
    PANICS
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .iter()
        .filter(|(name, _)| name == thread)
        .map(|(_, message)| message.clone())
        .collect()
}
