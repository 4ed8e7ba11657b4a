//! `wirehub serve` with `--jwt-secret` (HS256) and `WIREHUB_JWT_PUBLIC_KEY`
//! (ES256, a key pair made at test time) with `--jwt-issuer`: tokens
//! accepted and refused (none, bad signature, expired) by our Rust client
//! over Socket.IO, the plain HTTP endpoints, TCP and UDP; and, with debug
//! logging, no token in the server's log even when sent in query strings.

mod common;

use common::{Server, WAIT};
use jsonwebtoken::{encode, get_current_timestamp, Algorithm, EncodingKey, Header};
use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpStream, UdpSocket};
use wirehub_client::{ClientBuilder, Error, Transport};

const SECRET: &str = "cli-test-secret";

fn hs256(secret: &str, ttl: i64) -> String {
    let claims = json!({ "sub": "ann", "exp": get_current_timestamp() as i64 + ttl });
    let key = EncodingKey::from_secret(secret.as_bytes());
    encode(&Header::default(), &claims, &key).expect("sign")
}

/// A Socket.IO connection to `/room` with `auth`; the refusal's message.
fn socketio(server: &Server, transport: Transport, auth: Value) -> Result<(), String> {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.block_on(async {
        let connect = ClientBuilder::new(server.url())
            .transport(transport)
            .namespace("/room")
            .auth(&auth)
            .connect();
        match tokio::time::timeout(WAIT, connect)
            .await
            .expect("connect in time")
        {
            Ok(socket) => {
                socket.disconnect().await;
                Ok(())
            }
            Err(Error::ConnectRefused { message, .. }) => Err(message),
            Err(e) => panic!("unexpected error: {e}"),
        }
    })
}

/// The first line a TCP client gets after sending `connect`.
fn tcp_answer(server: &Server, connect: &Value) -> Value {
    let mut stream = TcpStream::connect(server.tcp.expect("tcp")).expect("connect");
    stream.set_read_timeout(Some(WAIT)).expect("timeout");
    writeln!(stream, "{connect}").expect("write");
    let mut line = String::new();
    BufReader::new(stream).read_line(&mut line).expect("read");
    serde_json::from_str(&line).expect("json line")
}

/// The first datagram a UDP client gets after sending `connect`.
fn udp_answer(server: &Server, connect: &Value) -> Value {
    let socket = UdpSocket::bind("127.0.0.1:0").expect("bind");
    socket.set_read_timeout(Some(WAIT)).expect("timeout");
    let body = connect.to_string();
    socket
        .send_to(body.as_bytes(), server.udp.expect("udp"))
        .expect("send");
    let mut buf = [0u8; 8192];
    let n = socket.recv(&mut buf).expect("recv");
    serde_json::from_slice(&buf[..n]).expect("json datagram")
}

#[test]
fn hs256_on_every_transport_and_never_in_the_log() {
    let args = [
        "--no-demo",
        "--port",
        "0",
        "--tcp",
        "127.0.0.1:0",
        "--udp",
        "127.0.0.1:0",
        "--jwt-secret",
        SECRET,
    ];
    let server = Server::spawn(&args, &[("WIREHUB_LOG", "debug")]);
    let good = hs256(SECRET, 600);
    let forged = hs256("not-the-secret", 600);
    let expired = hs256(SECRET, -3600);
    let refusals = [
        (None, "missing token"),
        (Some(&forged), "invalid token signature"),
        (Some(&expired), "token expired"),
    ];
    for transport in [Transport::WebSocket, Transport::Polling] {
        assert_eq!(
            socketio(&server, transport, json!({ "token": good })),
            Ok(())
        );
        for (token, message) in refusals {
            let auth = token.map_or(json!({}), |t| json!({ "token": t }));
            assert_eq!(socketio(&server, transport, auth), Err(message.to_owned()));
        }
    }
    for (token, message) in refusals {
        let query = token.map_or(String::new(), |t| format!("&token={t}"));
        for path in ["/sse", "/stream", "/poll"] {
            let resp = server.get(&format!("{path}?room=a{query}"));
            assert_eq!(resp.status, 401, "{path}");
            assert_eq!(resp.json()["error"]["message"], message, "{path}");
        }
        let mut connect = json!({ "type": "connect", "ns": "/room" });
        if let Some(token) = token {
            connect["token"] = json!(token);
        }
        for answer in [tcp_answer(&server, &connect), udp_answer(&server, &connect)] {
            assert_eq!(answer["code"], "unauthorized", "{answer}");
            assert_eq!(answer["message"], message, "{answer}");
        }
    }
    assert_eq!(
        server.get(&format!("/poll?room=a&token={good}")).status,
        200
    );
    // Some clients put the token in the Engine.IO URL too.
    let handshake = format!("/socket.io/?EIO=4&transport=polling&token={good}");
    assert_eq!(server.get(&handshake).status, 200);
    let connect = json!({ "type": "connect", "ns": "/room", "token": good });
    assert_eq!(tcp_answer(&server, &connect)["type"], "hello");
    assert_eq!(udp_answer(&server, &connect)["type"], "hello");

    let log = server.log.text();
    assert!(log.contains("token refused"), "debug logging is on:\n{log}");
    for token in [&good, &forged, &expired] {
        let signature = token.rsplit('.').next().expect("signature");
        assert!(!log.contains(signature), "a token reached the log:\n{log}");
    }
}

/// A P-256 key pair: the PKCS#8 private key and the public key in PEM.
fn es256_key_pair() -> (Vec<u8>, String) {
    use base64::Engine;
    use ring::signature::{EcdsaKeyPair, KeyPair, ECDSA_P256_SHA256_FIXED_SIGNING as P256};
    let rng = ring::rand::SystemRandom::new();
    let pkcs8 = EcdsaKeyPair::generate_pkcs8(&P256, &rng).expect("key");
    let pair = EcdsaKeyPair::from_pkcs8(&P256, pkcs8.as_ref(), &rng).expect("pair");
    // SubjectPublicKeyInfo: id-ecPublicKey, prime256v1, then the point.
    const SPKI_P256: &str = "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgA=";
    let mut spki = base64::engine::general_purpose::STANDARD
        .decode(SPKI_P256)
        .expect("prefix");
    spki.extend_from_slice(pair.public_key().as_ref());
    let b64 = base64::engine::general_purpose::STANDARD.encode(&spki);
    let pem = format!("-----BEGIN PUBLIC KEY-----\n{b64}\n-----END PUBLIC KEY-----\n");
    (pkcs8.as_ref().to_vec(), pem)
}

#[test]
fn es256_public_key_and_issuer() {
    let (private, pem) = es256_key_pair();
    let path = std::env::temp_dir().join(format!("wirehub-jwt-{}.pem", std::process::id()));
    std::fs::write(&path, pem).expect("write the key");
    let key_path = path.to_str().expect("utf-8 path");
    let args = ["--no-demo", "--port", "0", "--jwt-issuer", "auth.example"];
    let server = Server::spawn(&args, &[("WIREHUB_JWT_PUBLIC_KEY", key_path)]);
    let sign = |claims: Value| {
        let key = EncodingKey::from_ec_der(&private);
        encode(&Header::new(Algorithm::ES256), &claims, &key).expect("sign")
    };
    let exp = get_current_timestamp() + 600;
    let cases = [
        (json!({ "exp": exp, "iss": "auth.example" }), 200, ""),
        (
            json!({ "exp": exp, "iss": "evil" }),
            401,
            "token issuer not accepted",
        ),
        (json!({ "exp": exp }), 401, "token lacks the iss claim"),
    ];
    for (claims, status, message) in cases {
        let bearer = format!("Bearer {}", sign(claims));
        let resp = server.http("GET", "/poll?room=a", &[("Authorization", &bearer)], b"");
        assert_eq!(resp.status, status, "{}", resp.body);
        if status == 401 {
            assert_eq!(resp.json()["error"]["message"], message);
        }
    }
    let hs = format!("Bearer {}", hs256(SECRET, 600));
    let resp = server.http("GET", "/poll?room=a", &[("Authorization", &hs)], b"");
    assert_eq!(resp.status, 401, "HS256 is not accepted by an ES256 server");
    let _ = std::fs::remove_file(&path);
}
