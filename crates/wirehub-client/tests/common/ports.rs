//! Ports for test servers, on 127.0.0.1: 3501-3589 for servers that may
//! take any free port (tried from a per-process start, so parallel test
//! processes rarely collide), and 3590-3599 one per test whose server is
//! killed and restarted on the same port (a port freed for a while could
//! otherwise be taken by another test's server meanwhile).

use std::net::TcpListener;

const FIRST: u16 = 3501;
const COUNT: u16 = 89;

/// The ports of the tests that restart their server, one each.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Fixed {
    OursRestartWebSocket = 3590,
    OursRestartPolling,
    NodeRestartUpgrade,
    NodeRestartPolling,
    GivesUp,
    WithoutBuffering,
}

impl Fixed {
    pub(crate) fn port(self) -> u16 {
        self as u16
    }
}

fn start() -> u16 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u32(std::process::id());
    (h.finish() % u64::from(COUNT)) as u16
}

/// A listener bound to a free port of the range.
pub(crate) fn bind() -> TcpListener {
    let offset = start();
    for i in 0..COUNT {
        let port = FIRST + (offset + i) % COUNT;
        if let Ok(listener) = TcpListener::bind(("127.0.0.1", port)) {
            return listener;
        }
    }
    panic!("no free port in {FIRST}-{}", FIRST + COUNT - 1);
}

/// A port of the range where connections are refused: bound (so no other
/// test takes it) but not listening. Keep the socket while using the port.
pub(crate) fn refusing() -> (tokio::net::TcpSocket, u16) {
    let offset = start();
    for i in 0..COUNT {
        let port = FIRST + (offset + i) % COUNT;
        let socket = tokio::net::TcpSocket::new_v4().expect("socket");
        if socket.bind(([127, 0, 0, 1], port).into()).is_ok() {
            return (socket, port);
        }
    }
    panic!("no free port in {FIRST}-{}", FIRST + COUNT - 1);
}

/// A port of the range that was free a moment ago.
pub(crate) fn free() -> u16 {
    bind().local_addr().expect("local addr").port()
}

/// Binds `port` again, retrying while the previous owner lets go.
pub(crate) fn rebind(port: u16) -> TcpListener {
    for _ in 0..200 {
        if let Ok(listener) = TcpListener::bind(("127.0.0.1", port)) {
            return listener;
        }
        std::thread::sleep(std::time::Duration::from_millis(25));
    }
    panic!("port {port} did not become free again");
}
