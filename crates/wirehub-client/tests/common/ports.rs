//! Ports for test servers, on 127.0.0.1, chosen by the kernel (port 0):
//! no fixed port or range that another test, stage or program could hold.
//! A test that kills and restarts its server binds the same port again,
//! and checks afterwards that the server answering is the restarted one
//! (its `instance` id).

use std::net::TcpListener;

/// A listener on a free port.
pub(crate) fn bind() -> TcpListener {
    TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0")
}

/// A port where connections are refused: bound (so no one else takes it)
/// but not listening. Keep the socket while using the port.
pub(crate) fn refusing() -> (tokio::net::TcpSocket, u16) {
    let socket = tokio::net::TcpSocket::new_v4().expect("socket");
    socket.bind(([127, 0, 0, 1], 0).into()).expect("bind");
    let port = socket.local_addr().expect("local addr").port();
    (socket, port)
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
