//! The TLS library API: [`TlsConfig::from_pem_files`] and its typed errors,
//! [`TlsConfig::reload`] (a new pair replaces the old, a bad one leaves it),
//! and [`TlsListener`] under [`wirehub_server::serve`]: a client that never
//! finishes its handshake is dropped after the handshake timeout while
//! others are served.

use rcgen::{generate_simple_self_signed, CertifiedKey, KeyPair};
use rustls::pki_types::{CertificateDer, ServerName};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use wirehub_server::tls::{TlsConfig, TlsError, TlsListener};
use wirehub_server::SocketIo;

const WAIT: Duration = Duration::from_secs(5);

/// A directory of the test's own under the temp dir, removed on drop.
struct Dir(PathBuf);

impl Dir {
    fn new(label: &str) -> Dir {
        let dir = std::env::temp_dir().join(format!("wirehub-lib-{label}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("dir");
        Dir(dir)
    }

    /// Writes a fresh self-signed `localhost` pair as `cert.pem`/`key.pem`;
    /// returns the certificate's DER.
    fn write_pair(&self) -> Vec<u8> {
        let CertifiedKey { cert, signing_key } =
            generate_simple_self_signed(vec!["localhost".to_owned()]).expect("cert");
        std::fs::write(self.cert(), cert.pem()).expect("write");
        std::fs::write(self.key(), signing_key.serialize_pem()).expect("write");
        cert.der().to_vec()
    }

    fn cert(&self) -> PathBuf {
        self.0.join("cert.pem")
    }

    fn key(&self) -> PathBuf {
        self.0.join("key.pem")
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn loading_fails_with_an_error_that_names_the_file() {
    let dir = Dir::new("errors");
    dir.write_pair();
    let missing = TlsConfig::from_pem_files(dir.0.join("absent.pem"), dir.key()).unwrap_err();
    assert!(matches!(missing, TlsError::Read { .. }), "{missing:?}");
    assert!(missing.to_string().contains("absent.pem"), "{missing}");

    let no_key = TlsConfig::from_pem_files(dir.cert(), dir.cert()).unwrap_err();
    assert!(matches!(no_key, TlsError::NoKey { .. }), "{no_key:?}");

    let no_cert = TlsConfig::from_pem_files(dir.key(), dir.key()).unwrap_err();
    assert!(
        matches!(no_cert, TlsError::NoCertificate { .. }),
        "{no_cert:?}"
    );

    let other = KeyPair::generate().expect("key");
    std::fs::write(dir.0.join("other.pem"), other.serialize_pem()).expect("write");
    let mismatch = TlsConfig::from_pem_files(dir.cert(), dir.0.join("other.pem")).unwrap_err();
    assert!(
        matches!(mismatch, TlsError::KeyMismatch { .. }),
        "{mismatch:?}"
    );

    std::fs::write(
        dir.0.join("broken.pem"),
        "-----BEGIN CERTIFICATE-----\nAAAA\n",
    )
    .expect("write");
    let broken = TlsConfig::from_pem_files(dir.0.join("broken.pem"), dir.key()).unwrap_err();
    assert!(matches!(broken, TlsError::Pem { .. }), "{broken:?}");
}

#[test]
fn reload_swaps_in_a_new_pair_and_keeps_the_old_on_error() {
    let dir = Dir::new("reload");
    let first = dir.write_pair();
    let tls = TlsConfig::from_pem_files(dir.cert(), dir.key()).expect("load");
    let shared = tls.clone();
    assert_eq!(tls.certificate_chain(), vec![first.clone()]);

    let second = dir.write_pair();
    assert_ne!(first, second);
    tls.reload().expect("reload");
    assert_eq!(
        shared.certificate_chain(),
        vec![second.clone()],
        "clones share it"
    );

    std::fs::write(dir.key(), "garbage").expect("write");
    assert!(matches!(tls.reload(), Err(TlsError::NoKey { .. })));
    assert_eq!(tls.certificate_chain(), vec![second], "the old pair stays");
}

/// A TLS client trusting only `cert`.
fn connector(cert: &[u8]) -> tokio_rustls::TlsConnector {
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(CertificateDer::from(cert.to_vec()))
        .expect("root");
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    tokio_rustls::TlsConnector::from(Arc::new(config))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_client_is_dropped_after_the_handshake_timeout_alone() {
    let dir = Dir::new("silent");
    let cert = dir.write_pair();
    let tls = TlsConfig::from_pem_files(dir.cert(), dir.key()).expect("load");
    let tcp = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = tcp.local_addr().expect("addr");
    let timeout = Duration::from_millis(300);
    let listener = TlsListener::new(tcp, tls).handshake_timeout(timeout);
    let (service, io) = SocketIo::builder().build_service();
    tokio::spawn(wirehub_server::serve(
        listener,
        service,
        io.connections().drained(),
    ));

    let started = Instant::now();
    let mut silent = TcpStream::connect(addr).await.expect("connect");

    // Meanwhile a TLS client is served.
    let tcp = TcpStream::connect(addr).await.expect("connect");
    let name = ServerName::try_from("localhost").expect("name");
    let mut client = connector(&cert)
        .connect(name, tcp)
        .await
        .expect("handshake");
    assert_eq!(client.get_ref().1.alpn_protocol(), None);
    let req = "GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
    client.write_all(req.as_bytes()).await.expect("write");
    let mut answer = String::new();
    tokio::time::timeout(WAIT, client.read_to_string(&mut answer))
        .await
        .expect("in time")
        .expect("read");
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.contains("\"sid\""), "{answer}");

    // The silent one is closed once its handshake time is up.
    let mut buf = [0u8; 16];
    let read = tokio::time::timeout(WAIT, silent.read(&mut buf))
        .await
        .expect("closed in time");
    assert!(matches!(read, Ok(0) | Err(_)), "{read:?}");
    let waited = started.elapsed();
    assert!(
        waited >= timeout,
        "closed after {waited:?}, before the timeout"
    );
}
