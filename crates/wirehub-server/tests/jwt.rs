//! JWT verification at the handshake, on every transport: Socket.IO
//! (CONNECT_ERROR), `/ws`, `/sse`, `/stream`, `/poll`, SockJS (401), TCP and UDP
//! (an `unauthorized` error); the claims reaching handlers; HS256 and
//! ES256 (a key pair made at test time); the admin namespace exempt.

mod common;

use common::plain::{start_plain, Kind, PlainServer};
use common::WsClient;
use jsonwebtoken::{encode, get_current_timestamp, Algorithm, EncodingKey, Header};
use serde_json::{json, Value};
use wirehub_server::admin::AdminOptions;
use wirehub_server::auth::JwtVerifier;
use wirehub_server::io::{Claims, SocketRef};
use wirehub_server::SocketIo;

const SECRET: &str = "test-secret";

/// An HS256 token for `sub`, expiring `ttl` seconds from now (negative: past).
fn token_with(secret: &str, sub: &str, ttl: i64) -> String {
    let exp = get_current_timestamp() as i64 + ttl;
    let claims = json!({ "sub": sub, "exp": exp, "role": "reader" });
    let key = EncodingKey::from_secret(secret.as_bytes());
    encode(&Header::default(), &claims, &key).expect("sign")
}

fn good() -> String {
    token_with(SECRET, "ann", 600)
}

/// The three refusals every transport must give: (token, message).
fn refusals() -> Vec<(Option<String>, &'static str)> {
    vec![
        (None, "missing token"),
        (
            Some(token_with("other-secret", "ann", 600)),
            "invalid token signature",
        ),
        (Some(token_with(SECRET, "ann", -3600)), "token expired"),
    ]
}

/// A plain server requiring HS256 tokens, with `/claims` answering every
/// connection with the claims it was admitted with.
async fn server() -> PlainServer {
    let server = start_plain(SocketIo::builder().jwt(JwtVerifier::hs256(SECRET))).await;
    server.io.ns(
        "/claims",
        |socket: SocketRef, Claims(claims): Claims<Value>| async move {
            let _ = socket.emit("claims", &claims);
        },
    );
    server
}

fn auth(token: &Option<String>) -> String {
    match token {
        Some(t) => json!({ "token": t }).to_string(),
        None => "{}".to_owned(),
    }
}

#[tokio::test]
async fn socketio_connect_needs_a_valid_token() {
    let server = server().await;
    for (token, message) in refusals() {
        let mut ws = WsClient::open(server.addr).await;
        ws.send(&format!("40{}", auth(&token)));
        let refusal = ws.recv_json("44").await;
        assert_eq!(refusal, json!({ "message": message }));
    }
    let mut ws = WsClient::open(server.addr).await;
    ws.connect_ns("/claims", Some(&auth(&Some(good())))).await;
    let claims = ws.recv_json("42/claims,").await;
    assert_eq!(claims[0], "claims");
    assert_eq!(
        (claims[1]["sub"].as_str(), claims[1]["role"].as_str()),
        (Some("ann"), Some("reader"))
    );
    server.panics.check();
}

#[tokio::test]
async fn the_admin_namespace_keeps_its_own_auth() {
    let builder = SocketIo::builder()
        .jwt(JwtVerifier::hs256(SECRET))
        .admin_ui(AdminOptions::with_auth(None));
    let server = start_plain(builder).await;
    let mut ws = WsClient::open(server.addr).await;
    ws.send("40");
    assert_eq!(ws.recv_json("44").await["message"], "missing token");
    ws.connect_ns("/admin", None).await;
}

#[tokio::test]
async fn plain_http_endpoints_answer_401_without_a_valid_token() {
    let server = server().await;
    let upgrade = [
        ("Connection", "Upgrade"),
        ("Upgrade", "websocket"),
        ("Sec-WebSocket-Version", "13"),
        ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="),
    ];
    for (token, message) in refusals() {
        let bearer = token.as_ref().map(|t| format!("Bearer {t}"));
        for (target, extra) in [
            ("/ws", &upgrade[..]),
            ("/sse?room=a", &[][..]),
            ("/stream?room=a", &[][..]),
            ("/poll?room=a", &[][..]),
            ("/sockjs/000/refused/xhr", &[][..]),
            ("/sockjs/000/refused/websocket", &upgrade[..]),
        ] {
            let mut headers = extra.to_vec();
            if let Some(bearer) = &bearer {
                headers.push(("Authorization", bearer));
            }
            let resp = server.http("GET", target, &headers, b"").await;
            assert_eq!(resp.status, 401, "{target}: {}", resp.text());
            let body = resp.json();
            assert_eq!(body["error"]["code"], "unauthorized", "{target}");
            assert_eq!(body["error"]["message"], message, "{target}");
            assert_eq!(resp.header("www-authenticate"), Some("Bearer"));
        }
    }
    let bearer = format!("Bearer {}", good());
    let resp = server
        .http("GET", "/poll?room=a", &[("Authorization", &bearer)], b"")
        .await;
    assert_eq!(resp.status, 200, "{}", resp.text());
    let query = format!("token={}", good());
    let resp = server
        .http("GET", &format!("/poll?room=a&{query}"), &[], b"")
        .await;
    assert_eq!(resp.status, 200, "?token=: {}", resp.text());
    // SockJS: sockjs-client keeps its URL's query on every request, so the
    // token rides as ?token= on the session's requests; /info and the
    // session's xhr_send need none.
    assert_eq!(
        server.http("GET", "/sockjs/info", &[], b"").await.status,
        200
    );
    let resp = server
        .http(
            "POST",
            &format!("/sockjs/000/admitted/xhr?{query}"),
            &[],
            b"",
        )
        .await;
    assert_eq!((resp.status, resp.text()), (200, "o\n".to_owned()));
    let resp = server
        .http("POST", "/sockjs/000/admitted/xhr_send", &[], b"[\"{}\"]")
        .await;
    assert_ne!(resp.status, 401, "xhr_send names an admitted session");
    server.panics.check();
}

#[tokio::test]
async fn plain_connections_carry_their_claims_and_send_without_a_token() {
    let server = server().await;
    let query = format!("ns=%2Fclaims&token={}", good());
    let bearer = format!("Bearer {}", good());
    for kind in [Kind::Ws, Kind::Sse, Kind::Stream] {
        let headers = [("Authorization", bearer.as_str())];
        let mut c = server.open(kind, &query, &headers).await.expect("admitted");
        c.read_hello("/claims").await;
        let claims = c.expect_type("event").await;
        assert_eq!(claims["event"], "claims", "{kind:?}");
        assert_eq!(claims["data"]["sub"], "ann", "{kind:?}");
        // `POST /send` (SSE, stream) goes by the session token alone.
        c.send(json!({ "type": "ping" })).await;
        c.expect_type("pong").await;
    }
    server.panics.check();
}

#[tokio::test]
async fn tcp_and_udp_need_a_token_in_connect() {
    let server = server().await;
    for kind in [Kind::Tcp, Kind::Udp] {
        for (token, message) in refusals() {
            let mut c = server.open(kind, "", &[]).await.expect("open");
            let mut connect = json!({ "type": "connect", "ns": "/claims" });
            if let Some(token) = token {
                connect["token"] = json!(token);
            }
            c.send(connect).await;
            let error = c.expect_error("unauthorized").await;
            assert_eq!(error["message"], message, "{kind:?}");
            if kind == Kind::Tcp {
                c.expect_closed().await;
            }
        }
        // A first envelope that is no `connect` presents no token.
        let mut c = server.open(kind, "", &[]).await.expect("open");
        c.send(json!({ "type": "ping" })).await;
        assert_eq!(
            c.expect_error("unauthorized").await["message"],
            "missing token"
        );
        let mut c = server.open(kind, "", &[]).await.expect("open");
        c.send(json!({ "type": "connect", "ns": "/claims", "token": good() }))
            .await;
        c.read_hello("/claims").await;
        let claims = c.expect_type("event").await;
        assert_eq!(claims["data"]["sub"], "ann", "{kind:?}");
    }
    server.panics.check();
}

/// A P-256 key pair: the PKCS#8 private key and the public key in PEM.
fn es256_key_pair() -> (Vec<u8>, String) {
    use base64::Engine;
    use ring::signature::{EcdsaKeyPair, KeyPair, ECDSA_P256_SHA256_FIXED_SIGNING};
    let rng = ring::rand::SystemRandom::new();
    let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).expect("key");
    let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &rng)
        .expect("pair");
    // SubjectPublicKeyInfo: id-ecPublicKey, prime256v1, then the point.
    let mut spki = hex_bytes("3059301306072a8648ce3d020106082a8648ce3d030107034200");
    spki.extend_from_slice(pair.public_key().as_ref());
    let b64 = base64::engine::general_purpose::STANDARD.encode(&spki);
    let pem = format!("-----BEGIN PUBLIC KEY-----\n{b64}\n-----END PUBLIC KEY-----\n");
    (pkcs8.as_ref().to_vec(), pem)
}

fn hex_bytes(hex: &str) -> Vec<u8> {
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).expect("hex"))
        .collect()
}

#[tokio::test]
async fn es256_tokens_verify_with_the_public_key() {
    let (private, pem) = es256_key_pair();
    let verifier = JwtVerifier::public_key_pem(pem.as_bytes()).expect("public key");
    let server = start_plain(SocketIo::builder().jwt(verifier)).await;
    let claims = json!({ "sub": "eve", "exp": get_current_timestamp() + 600 });
    let key = EncodingKey::from_ec_der(&private);
    let signed = encode(&Header::new(Algorithm::ES256), &claims, &key).expect("sign");
    let mut ws = WsClient::open(server.addr).await;
    ws.connect_ns("/", Some(&json!({ "token": signed }).to_string()))
        .await;
    // An HS256 token is not accepted by an ES256 server, whatever its key.
    let mut ws = WsClient::open(server.addr).await;
    ws.send(&format!("40{}", auth(&Some(good()))));
    assert_eq!(
        ws.recv_json("44").await["message"],
        "invalid token signature"
    );
}
