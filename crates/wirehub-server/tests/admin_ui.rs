//! The admin UI's `/admin` protocol, as the `@socket.io/admin-ui` dashboard
//! speaks it: the credential check on CONNECT, `config`, `all_sockets` and
//! `server_stats` on connect, live room and event reports, the dashboard's
//! operations, and none of them when read-only.

mod common;

use common::*;
use serde_json::{json, Value};
use std::time::Duration;
use wirehub_server::admin::{AdminMode, AdminOptions, Credentials};
use wirehub_server::SocketIo;

const AUTH: &str = r#"{"username":"admin","password":"s3cret"}"#;

fn options() -> AdminOptions {
    AdminOptions {
        auth: Some(Credentials::new("admin", "s3cret")),
        stats_interval: Duration::from_millis(200),
        ..AdminOptions::default()
    }
}

/// The arguments of the next `/admin` event called `name`, skipping others.
async fn next_event(ws: &mut WsClient, name: &str) -> Vec<Value> {
    for _ in 0..50 {
        let text = ws.recv_text().await;
        let Some(json) = text.strip_prefix("42/admin,") else {
            continue;
        };
        let mut args: Vec<Value> = serde_json::from_str(json).expect("event JSON");
        if args.first() == Some(&json!(name)) {
            args.remove(0);
            return args;
        }
    }
    panic!("no {name} event in 50 messages");
}

/// Two sockets on `/`, the first in room `lobby`; their ids.
async fn two_sockets(server: &TestServer) -> ((WsClient, String), (WsClient, String)) {
    let a = server.ws_connected().await;
    let b = server.ws_connected().await;
    server.socket("/", &a.1).join("lobby");
    (a, b)
}

#[tokio::test]
async fn wrong_credentials_get_connect_error() {
    let server = start(SocketIo::builder().admin_ui(options())).await;
    for auth in [
        r#"{"username":"admin","password":"nope"}"#,
        "{}",
        r#"{"sessionId":"x"}"#,
    ] {
        let mut ws = server.ws().await;
        ws.send(&format!("40/admin,{auth}"));
        let refusal = ws.recv_json("44/admin,").await;
        assert_eq!(
            refusal,
            json!({"message": "invalid credentials"}),
            "auth {auth}"
        );
    }
    assert_eq!(server.io.of("/admin").expect("admin ns").socket_count(), 0);
    server.assert_healthy().await;
}

#[tokio::test]
async fn dashboard_gets_config_sockets_rooms_and_stats() {
    let server = start(SocketIo::builder().admin_ui(options())).await;
    let ((_a, id_a), (_b, id_b)) = two_sockets(&server).await;

    let mut admin = server.ws().await;
    let admin_id = admin.connect_ns("/admin", Some(AUTH)).await;
    let session = next_event(&mut admin, "session").await;
    assert!(session[0].as_str().is_some_and(|s| !s.is_empty()));

    let config = next_event(&mut admin, "config").await;
    let features = &config[0]["supportedFeatures"];
    for f in [
        "EMIT",
        "JOIN",
        "LEAVE",
        "DISCONNECT",
        "AGGREGATED_EVENTS",
        "ALL_EVENTS",
    ] {
        assert!(
            features.as_array().unwrap().contains(&json!(f)),
            "{f} in {features}"
        );
    }

    let all = next_event(&mut admin, "all_sockets").await;
    let all = all[0].as_array().expect("a list of sockets");
    let find = |id: &str| all.iter().find(|s| s["id"] == id).cloned();
    let a = find(&id_a).expect("socket a listed");
    assert!(find(&id_b).is_some(), "socket b listed");
    assert_eq!(a["nsp"], "/");
    assert_eq!(a["transport"], "websocket");
    assert_eq!(a["rooms"], json!([id_a, "lobby"]));
    assert!(a["clientId"].as_str().is_some_and(|c| !c.is_empty()));
    assert_eq!(a["handshake"]["address"], "127.0.0.1");
    assert!(a["handshake"]["issued"].is_u64());
    // The dashboard itself is listed, without the password it sent.
    let me = find(&admin_id).expect("the dashboard's socket listed");
    assert_eq!(me["nsp"], "/admin");
    assert!(!me.to_string().contains("s3cret"), "{me}");

    let stats = next_event(&mut admin, "server_stats").await;
    let stats = &stats[0];
    assert_eq!(stats["pid"], std::process::id());
    assert_eq!(stats["clientsCount"], 3);
    assert_eq!(stats["pollingClientsCount"], 0);
    assert!(stats["aggregatedEvents"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["type"] == "rawConnection"));
    let namespaces = stats["namespaces"].as_array().unwrap();
    assert!(
        namespaces.contains(&json!({"name": "/", "socketsCount": 2})),
        "{namespaces:?}"
    );
    // ...and again, every stats interval.
    next_event(&mut admin, "server_stats").await;
}

#[tokio::test]
async fn dashboard_operations_and_live_reports() {
    let server = start(SocketIo::builder().admin_ui(options())).await;
    let ((mut a, id_a), (b, id_b)) = two_sockets(&server).await;
    let mut admin = server.ws().await;
    admin.connect_ns("/admin", Some(AUTH)).await;
    next_event(&mut admin, "all_sockets").await;

    // join: the dashboard's "add room" on one socket (its id as the filter).
    admin.send(&format!(r#"42/admin,["join","/","vip","{id_b}"]"#));
    let joined = next_event(&mut admin, "room_joined").await;
    assert_eq!(joined[..3], [json!("/"), json!("vip"), json!(id_b)]);
    assert!(
        joined[3].as_str().is_some_and(|t| t.ends_with('Z')),
        "ISO timestamp"
    );
    let rooms = server.socket("/", &id_b).rooms();
    assert!(rooms.iter().any(|r| r.as_str() == "vip"), "{rooms:?}");

    // leave, from every socket of the room.
    admin.send(r#"42/admin,["leave","/","lobby","lobby"]"#);
    let left = next_event(&mut admin, "room_left").await;
    assert_eq!(left[..3], [json!("/"), json!("lobby"), json!(id_a)]);
    assert_eq!(server.socket("/", &id_a).rooms().len(), 1);

    // emit to one room: the socket gets it; the dashboard sees nothing sent
    // per socket (a broadcast), then an event in and out of socket a.
    admin.send(r#"42/admin,["emit","/","vip","news",{"x":1}]"#);
    a.send(r#"42["message","hi"]"#);
    let received = next_event(&mut admin, "event_received").await;
    assert_eq!(
        received[..3],
        [json!("/"), json!(id_a), json!(["message", "hi"])]
    );
    let sent = next_event(&mut admin, "event_sent").await;
    assert_eq!(
        sent[..3],
        [json!("/"), json!(id_a), json!(["message-back", "hi"])]
    );
    a.expect(r#"42["message-back","hi"]"#).await;
    let mut b = b;
    b.expect(r#"42["news",{"x":1}]"#).await;

    // _disconnect: socket b leaves; the dashboard is told.
    admin.send(&format!(r#"42/admin,["_disconnect","/",false,"{id_b}"]"#));
    let gone = next_event(&mut admin, "socket_disconnected").await;
    assert_eq!(
        gone[..3],
        [
            json!("/"),
            json!(id_b),
            json!("server namespace disconnect")
        ]
    );
    b.expect("41").await;

    // A new socket is reported as it connects.
    let (_c, id_c) = server.ws_connected().await;
    let connected = next_event(&mut admin, "socket_connected").await;
    assert_eq!(connected[0]["id"], id_c);
    assert_eq!(connected[0]["rooms"], json!([id_c]));
}

#[tokio::test]
async fn readonly_dashboard_offers_and_runs_no_operation() {
    let opts = AdminOptions {
        readonly: true,
        auth: None,
        mode: AdminMode::Production,
        ..options()
    };
    let server = start(SocketIo::builder().admin_ui(opts)).await;
    let ((_a, _), (_b, id_b)) = two_sockets(&server).await;
    let mut admin = server.ws().await;
    admin.connect_ns("/admin", Some("{}")).await;
    let config = next_event(&mut admin, "config").await;
    assert_eq!(
        config[0],
        json!({"supportedFeatures": ["AGGREGATED_EVENTS"]})
    );
    // Production mode: stats, no socket list.
    let next = admin.recv_text().await;
    assert!(next.starts_with(r#"42/admin,["server_stats","#), "{next}");
    admin.send(&format!(r#"42/admin,["join","/","vip","{id_b}"]"#));
    next_event(&mut admin, "server_stats").await;
    assert_eq!(server.socket("/", &id_b).rooms().len(), 1, "joined nothing");
}

#[tokio::test]
async fn no_admin_namespace_unless_turned_on() {
    let server = start_default().await;
    let mut ws = server.ws().await;
    ws.send(&format!("40/admin,{AUTH}"));
    let refusal = ws.recv_json("44/admin,").await;
    assert_eq!(refusal["message"], "Invalid namespace");
}

#[tokio::test]
async fn an_upgrade_from_polling_is_reported() {
    let server = start(SocketIo::builder().admin_ui(options())).await;
    let mut admin = server.ws().await;
    admin.connect_ns("/admin", Some(AUTH)).await;
    next_event(&mut admin, "all_sockets").await;

    let polling = server.polling().await;
    let id = polling.connect_ns("/", None).await;
    let connected = next_event(&mut admin, "socket_connected").await;
    assert_eq!(connected[0]["transport"], "polling");
    let _ws = WsClient::upgrade(server.addr, &polling.sid).await;
    let updated = next_event(&mut admin, "socket_updated").await;
    assert_eq!(
        updated[0],
        json!({"id": id, "nsp": "/", "transport": "websocket"})
    );
}
