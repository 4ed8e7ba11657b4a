//! The HTTP API (`/api/v1/...`): disabled without a key, bearer key
//! checks, publish (room, rooms, both, data, args, whole namespace) and its
//! errors, the room and member lists, disconnecting a client, the OpenAPI
//! document, wrong methods and routes.

mod common;

use common::plain::{api_builder, start_plain, Kind, PlainServer, API_KEY};
use serde_json::{json, Value};
use wirehub_server::SocketIo;

async fn server() -> PlainServer {
    start_plain(api_builder()).await
}

#[tokio::test]
async fn without_a_key_the_api_is_disabled_but_openapi_is_served() {
    let server = start_plain(SocketIo::builder()).await;
    let resp = server.api("GET", "/api/v1/rooms", b"").await;
    assert_eq!(resp.status, 503);
    assert_eq!(resp.json()["error"]["code"], "api_disabled");
    let resp = server.http("GET", "/api/v1/openapi.json", &[], b"").await;
    assert_eq!(resp.status, 200);
    assert_eq!(resp.header("content-type"), Some("application/json"));
    assert!(resp.json()["openapi"].as_str().unwrap().starts_with("3."));
}

#[tokio::test]
async fn the_key_is_checked() {
    let server = server().await;
    for headers in [
        vec![],
        vec![("Authorization", "Bearer wrong")],
        vec![("Authorization", "Basic dGVzdC1rZXk=")],
    ] {
        let resp = server.http("GET", "/api/v1/rooms", &headers, b"").await;
        assert_eq!(resp.status, 401, "{headers:?}");
        assert_eq!(resp.json()["error"]["code"], "unauthorized");
        assert_eq!(resp.header("www-authenticate"), Some("Bearer"));
    }
    let auth = format!("bearer {API_KEY}");
    let resp = server
        .http("GET", "/api/v1/rooms", &[("Authorization", &auth)], b"")
        .await;
    assert_eq!(resp.status, 200);
    // The OpenAPI document needs no key.
    let resp = server.http("GET", "/api/v1/openapi.json", &[], b"").await;
    assert_eq!(resp.status, 200);
}

#[tokio::test]
async fn publish_reaches_the_rooms_with_data_or_args() {
    let server = server().await;
    let mut a = server.client(Kind::Ws, "/", &["a"]).await;
    let mut b = server.client(Kind::Tcp, "/", &["b"]).await;
    let mut none = server.client(Kind::Stream, "/", &[]).await;

    let (delivered, offset) = server
        .publish(json!({"room":"a","event":"e","data":null}))
        .await;
    assert_eq!((delivered, offset), (1, Some(1)));
    assert_eq!(
        a.recv_env().await,
        json!({"type":"event","event":"e","data":null,"room":"a","offset":1})
    );

    let (delivered, _) = server
        .publish(json!({"rooms":["a","b"],"event":"e","args":[1,"x"]}))
        .await;
    assert_eq!(delivered, 2);
    for c in [&mut a, &mut b] {
        assert_eq!(
            c.recv_env().await,
            json!({"type":"event","event":"e","args":[1,"x"],"offset":2})
        );
    }

    // room and rooms are merged; no argument at all.
    let (delivered, _) = server
        .publish(json!({"room":"a","rooms":["b"],"event":"e"}))
        .await;
    assert_eq!(delivered, 2);
    assert_eq!(
        a.recv_env().await,
        json!({"type":"event","event":"e","offset":3})
    );
    assert_eq!(
        b.recv_env().await,
        json!({"type":"event","event":"e","offset":3})
    );

    // No room: the whole namespace, not recorded.
    let (delivered, offset) = server.publish(json!({"event":"all","data":0})).await;
    assert_eq!((delivered, offset), (3, None));
    for c in [&mut a, &mut b, &mut none] {
        assert_eq!(
            c.recv_env().await,
            json!({"type":"event","event":"all","data":0})
        );
    }

    // Another namespace, by body.
    let mut chat = server.client(Kind::Udp, "/chat", &["a"]).await;
    let (delivered, _) = server
        .publish(json!({"ns":"/chat","room":"a","event":"e","data":1}))
        .await;
    assert_eq!(delivered, 1);
    assert_eq!(chat.recv_env().await["data"], 1);
    // By query (a missing leading slash is added), as on every endpoint.
    let body = json!({"room":"a","event":"e","data":2}).to_string();
    let resp = server
        .api("POST", "/api/v1/publish?ns=chat", body.as_bytes())
        .await;
    assert_eq!(resp.json()["delivered"], 1, "{}", resp.text());
    assert_eq!(chat.recv_env().await["data"], 2);
    server.marker();
    assert_eq!(a.until_marker().await, Vec::<Value>::new());
}

#[tokio::test]
async fn publish_errors() {
    let server = start_plain(api_builder().max_payload(1000)).await;
    for (body, status, code) in [
        (r#"{"room":"a","event":"e""#.to_owned(), 400, "bad_json"),
        (r#"{"room":"a"}"#.to_owned(), 400, "bad_json"),
        (
            r#"{"room":"a","event":"connect"}"#.to_owned(),
            400,
            "bad_request",
        ),
        (r#"{"room":"a","event":""}"#.to_owned(), 400, "bad_request"),
        (
            r#"{"room":"a","event":"e","data":1,"args":[1]}"#.to_owned(),
            400,
            "bad_request",
        ),
        (
            r#"{"ns":"/nope","event":"e"}"#.to_owned(),
            404,
            "unknown_namespace",
        ),
        (
            format!(r#"{{"event":"e","data":"{}"}}"#, "x".repeat(2000)),
            413,
            "too_large",
        ),
    ] {
        let resp = server.api("POST", "/api/v1/publish", body.as_bytes()).await;
        assert_eq!(resp.status, status, "{body}: {}", resp.text());
        assert_eq!(resp.json()["error"]["code"], code, "{body}");
    }
}

#[tokio::test]
async fn rooms_and_members_lists() {
    let server = server().await;
    let ws = server.client(Kind::Ws, "/", &["a", "b"]).await;
    let sse = server.client(Kind::Sse, "/", &["a"]).await;
    let stream = server.client(Kind::Stream, "/", &["a"]).await;
    let tcp = server.client(Kind::Tcp, "/", &["a"]).await;
    let udp = server.client(Kind::Udp, "/", &["a"]).await;
    let (mut sio, sio_sid) = server.sio().await;
    sio.send(r#"421["hub:join","a"]"#);
    assert_eq!(sio.recv_json("431").await, json!([{"rooms":["a"]}]));
    let _chat = server.client(Kind::Ws, "/chat", &["c"]).await;

    let resp = server.api("GET", "/api/v1/rooms", b"").await;
    assert_eq!(resp.status, 200);
    assert_eq!(
        resp.json(),
        json!({"rooms":[{"room":"a","members":6},{"room":"b","members":1}]})
    );
    let resp = server.api("GET", "/api/v1/rooms?ns=chat", b"").await;
    assert_eq!(resp.json(), json!({"rooms":[{"room":"c","members":1}]}));

    let resp = server.api("GET", "/api/v1/rooms/a/members", b"").await;
    assert_eq!(resp.status, 200);
    let mut got: Vec<(String, String)> = resp.json()["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["sid"].as_str().unwrap().to_owned(),
                m["transport"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    got.sort();
    let mut want: Vec<(String, String)> = [&ws, &sse, &stream, &tcp, &udp]
        .iter()
        .map(|c| (c.sid.clone(), c.kind.name().to_owned()))
        .chain([(sio_sid, "websocket".to_owned())])
        .collect();
    want.sort();
    assert_eq!(got, want);

    let resp = server.api("GET", "/api/v1/rooms/nobody/members", b"").await;
    assert_eq!(resp.json(), json!({"members":[]}));
    let resp = server.api("GET", "/api/v1/rooms?ns=/nope", b"").await;
    assert_eq!(resp.status, 404);
    assert_eq!(resp.json()["error"]["code"], "unknown_namespace");
}

#[tokio::test]
async fn delete_disconnects_a_client() {
    let server = server().await;
    let mut bystander = server.client(Kind::Ws, "/", &[]).await;
    for kind in [Kind::Ws, Kind::Sse, Kind::Tcp] {
        let mut c = server.client(kind, "/", &["a"]).await;
        let resp = server
            .api("DELETE", &format!("/api/v1/clients/{}", c.sid), b"")
            .await;
        assert_eq!(resp.status, 204, "{}", resp.text());
        let bye = c.expect_type("disconnect").await;
        assert_eq!(bye["reason"], "server namespace disconnect");
        c.until_closed().await;
        assert_eq!(
            server.reasons.wait(&c.sid).await,
            "server namespace disconnect"
        );
        let resp = server
            .api("DELETE", &format!("/api/v1/clients/{}", c.sid), b"")
            .await;
        assert_eq!(resp.status, 404);
        assert_eq!(resp.json()["error"]["code"], "not_found");
    }
    // A Socket.IO client is told too, so it does not reconnect on its own.
    let (mut sio, sid) = server.sio().await;
    let resp = server
        .api("DELETE", &format!("/api/v1/clients/{sid}?ns=/"), b"")
        .await;
    assert_eq!(resp.status, 204);
    sio.expect("41").await;
    bystander.assert_alive().await;
}

#[tokio::test]
async fn wrong_methods_and_routes() {
    let server = server().await;
    for (method, target, status) in [
        ("GET", "/api/v1/publish", 405),
        ("POST", "/api/v1/rooms", 405),
        ("DELETE", "/api/v1/rooms/a/members", 405),
        ("GET", "/api/v1/clients/x", 405),
        ("POST", "/api/v1/openapi.json", 405),
        ("GET", "/api/v1/nothing", 404),
    ] {
        let resp = server.api(method, target, b"").await;
        assert_eq!(resp.status, status, "{method} {target}: {}", resp.text());
        assert_eq!(resp.json()["error"]["code"], "not_found");
    }
}
