//! 1,000 connect/disconnect cycles (WebSocket, polling and upgrade in
//! turn) leave no task behind, and memory does not grow with them.

mod common;

use common::ours::OurServer;
use std::time::{Duration, Instant};
use wirehub_client::{ClientBuilder, Data, Transport};

const CYCLES: usize = 1000;

/// Resident memory of this process, in bytes (Linux; 0 elsewhere).
fn rss() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(0);
    pages * 4096
}

async fn cycle(url: &str, i: usize) {
    let transport = [Transport::WebSocket, Transport::Polling, Transport::Upgrade][i % 3];
    let (seen, mut seen_rx) = tokio::sync::mpsc::unbounded_channel();
    let socket = ClientBuilder::new(url)
        .transport(transport)
        .on("message-back", move |Data(n): Data<usize>| {
            let _ = seen.send(n);
            async {}
        })
        .connect()
        .await
        .expect("connect");
    socket.emit("message", &i).expect("emit");
    let back = tokio::time::timeout(common::WAIT, seen_rx.recv()).await;
    assert_eq!(back.expect("echo in time"), Some(i));
    if i % 2 == 0 {
        socket.disconnect().await;
    } else {
        socket.manager().close().await;
    }
}

/// Waits until the runtime has at most `tasks` alive; returns the count.
async fn settle(tasks: usize) -> usize {
    let handle = tokio::runtime::Handle::current();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let alive = handle.metrics().num_alive_tasks();
        if alive <= tasks || Instant::now() > deadline {
            return alive;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[test]
fn no_task_or_memory_leak_over_1000_cycles() {
    let server = OurServer::start();
    let url = server.url();
    // The client gets a runtime of its own: its task count is the client's.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let baseline = tokio::runtime::Handle::current()
            .metrics()
            .num_alive_tasks();
        for i in 0..60 {
            cycle(&url, i).await;
        }
        assert_eq!(settle(baseline).await, baseline, "tasks left after warm-up");
        let before = rss();
        let started = Instant::now();
        for i in 0..CYCLES {
            cycle(&url, i).await;
        }
        let took = started.elapsed();
        let alive = settle(baseline).await;
        let growth = rss().saturating_sub(before);
        eprintln!(
            "{CYCLES} cycles in {took:?}; tasks alive {alive} (baseline {baseline}); RSS +{} KiB",
            growth / 1024
        );
        assert_eq!(alive, baseline, "tasks leaked");
        assert!(growth < 16 * 1024 * 1024, "memory grew by {growth} bytes");
    });
}
