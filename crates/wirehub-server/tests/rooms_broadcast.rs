//! Rooms and broadcasts: join/leave and the socket's own room, `to` /
//! `except` over several rooms without duplicates, `socket.to` excluding the
//! sender, `volatile`, `local`, broadcast acks with and without a silent
//! recipient, `fetch_sockets`, bulk join/leave/disconnect on an operator,
//! and per-socket data.

mod common;

use common::{ack_id, register_echo, start, start_default, TestServer, WsClient};
use serde_json::Value;
use std::collections::BTreeSet;
use std::time::Duration;
use wirehub_server::io::{AckSender, Data, Partial, RemoteSocket, SocketRef};
use wirehub_server::SocketIo;

const MARKER: &str = r#"42["marker",0]"#;

/// `n` WebSocket clients connected to `/`, with their socket ids.
async fn clients(server: &TestServer, n: usize) -> Vec<(WsClient, String)> {
    let mut all = Vec::new();
    for _ in 0..n {
        all.push(server.ws_connected().await);
    }
    all
}

/// Emits the marker to everyone, then collects what each client received
/// before it (queues are FIFO per connection).
async fn received(server: &TestServer, all: &mut [(WsClient, String)]) -> Vec<Vec<String>> {
    server.io.emit("marker", &0).unwrap();
    let mut out = Vec::new();
    for (ws, _) in all.iter_mut() {
        let mut got = Vec::new();
        loop {
            let text = ws.recv_text().await;
            if text == MARKER {
                break;
            }
            got.push(text);
        }
        out.push(got);
    }
    out
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

fn ids(sockets: &[SocketRef]) -> BTreeSet<String> {
    sockets.iter().map(|s| s.id().to_string()).collect()
}

fn fetched(sockets: Result<Vec<RemoteSocket>, Partial<RemoteSocket>>) -> BTreeSet<String> {
    let sockets = sockets.expect("a single node answers at once");
    sockets.iter().map(|s| s.id().to_string()).collect()
}

#[tokio::test]
async fn join_leave_and_the_own_room() {
    let server = start_default().await;
    let mut all = clients(&server, 2).await;
    let (a_id, b_id) = (all[0].1.clone(), all[1].1.clone());
    let a = server.socket("/", &a_id);
    assert_eq!(a.rooms(), [a_id.as_str()]);
    a.join("x");
    a.join(["y", "z"]);
    a.join(vec!["x".to_owned()]);
    let rooms: Vec<String> = a.rooms().iter().map(|r| r.to_string()).collect();
    assert_eq!(
        sorted(rooms),
        sorted(vec![a_id.clone(), "x".into(), "y".into(), "z".into()])
    );
    a.leave("y");
    assert!(!a.rooms().iter().any(|r| r.as_str() == "y"));

    assert_eq!(server.io.to(b_id.as_str()).emit("direct", &1).unwrap(), 1);
    assert_eq!(server.io.to("x").emit("in-x", &2).unwrap(), 1);
    assert_eq!(server.io.to("y").emit("in-y", &3).unwrap(), 0);
    let got = received(&server, &mut all).await;
    assert_eq!(got[0], [r#"42["in-x",2]"#]);
    assert_eq!(got[1], [r#"42["direct",1]"#]);

    a.leave_all();
    assert!(a.rooms().is_empty());
    assert_eq!(server.io.to(a_id.as_str()).emit("gone", &0).unwrap(), 0);
    // A socket that leaves the namespace leaves its rooms.
    let b = server.socket("/", &b_id);
    b.join("x");
    all[1].0.send("41");
    server.reasons.wait(&b_id).await;
    assert!(server.io.to("x").sockets().is_empty());
    server.assert_healthy().await;
}

#[tokio::test]
async fn to_and_except_over_several_rooms_without_duplicates() {
    let server = start_default().await;
    let mut all = clients(&server, 4).await;
    let s = |i: usize| server.socket("/", &all[i].1);
    s(0).join(["a", "b"]);
    s(1).join("b");
    s(2).join("c");
    let io = &server.io;
    assert_eq!(io.to(["a", "b"]).emit("ab", &1).unwrap(), 2);
    assert_eq!(io.to("a").to("b").to("a").emit("chained", &2).unwrap(), 2);
    assert_eq!(io.except("b").emit("not-b", &3).unwrap(), 2);
    assert_eq!(
        io.to(["a", "c"]).except("b").emit("ac-not-b", &4).unwrap(),
        1
    );
    assert_eq!(io.except(["a", "c"]).emit("not-ac", &5).unwrap(), 2);
    assert_eq!(io.to("nobody").emit("none", &6).unwrap(), 0);
    assert_eq!(io.within("c").emit("within", &7).unwrap(), 1);
    let got = received(&server, &mut all).await;
    assert_eq!(got[0], [r#"42["ab",1]"#, r#"42["chained",2]"#]);
    assert_eq!(
        got[1],
        [r#"42["ab",1]"#, r#"42["chained",2]"#, r#"42["not-ac",5]"#]
    );
    assert_eq!(
        got[2],
        [
            r#"42["not-b",3]"#,
            r#"42["ac-not-b",4]"#,
            r#"42["within",7]"#
        ]
    );
    assert_eq!(got[3], [r#"42["not-b",3]"#, r#"42["not-ac",5]"#]);
    server.assert_healthy().await;
}

#[tokio::test]
async fn socket_broadcasts_exclude_the_sender() {
    let server = start_default().await;
    let mut all = clients(&server, 3).await;
    let a = server.socket("/", &all[0].1);
    a.join("r");
    server.socket("/", &all[1].1).join("r");
    assert_eq!(a.to("r").emit("to-r", &1).unwrap(), 1);
    assert_eq!(a.broadcast().emit("others", &2).unwrap(), 2);
    assert_eq!(a.except("r").emit("not-r", &3).unwrap(), 1);
    assert_eq!(
        a.namespace().broadcast().unwrap().emit("all", &4).unwrap(),
        3
    );
    let got = received(&server, &mut all).await;
    assert_eq!(got[0], [r#"42["all",4]"#]);
    assert_eq!(
        got[1],
        [r#"42["to-r",1]"#, r#"42["others",2]"#, r#"42["all",4]"#]
    );
    assert_eq!(
        got[2],
        [r#"42["others",2]"#, r#"42["not-r",3]"#, r#"42["all",4]"#]
    );
    server.assert_healthy().await;
}

#[tokio::test]
async fn volatile_drops_for_a_full_queue_and_local_delivers() {
    let server = start(SocketIo::builder().queue_capacity(4)).await;
    let (mut ws, _) = server.ws_connected().await;
    let p = server.polling().await;
    let p_id = p.connect_ns("/", None).await;
    let mut counts = Vec::new();
    for i in 0..10 {
        counts.push(server.io.broadcast().volatile().emit("tick", &i).unwrap());
        // The WebSocket client keeps up; the polling one never polls.
        ws.expect(&format!(r#"42["tick",{i}]"#)).await;
    }
    assert_eq!(counts, [2, 2, 2, 2, 1, 1, 1, 1, 1, 1]);
    let ticks: Vec<String> = (0..4).map(|i| format!(r#"42["tick",{i}]"#)).collect();
    assert_eq!(
        p.poll().await,
        ticks,
        "the first 4 were kept, the rest dropped"
    );
    assert_eq!(
        server.reasons.get(&p_id),
        None,
        "volatile never disconnects"
    );
    p.send(r#"42["message","p"]"#).await;
    assert_eq!(p.poll().await, [r#"42["message-back","p"]"#]);

    assert_eq!(server.io.broadcast().local().emit("local", &1).unwrap(), 2);
    ws.expect(r#"42["local",1]"#).await;
    assert_eq!(p.poll().await, [r#"42["local",1]"#]);
    server.assert_healthy().await;
}

#[tokio::test]
async fn broadcast_acks_collect_every_answer() {
    let server = start_default().await;
    let mut all = clients(&server, 3).await;
    let timeout = Duration::from_secs(1);
    let mut previous: Option<u64> = None;
    for silent in [true, false] {
        let op = server.io.broadcast().timeout(timeout);
        let pending = tokio::spawn(async move { op.emit_with_ack("collect", &1).await });
        let mut id = None;
        for (i, (ws, _)) in all.iter_mut().enumerate() {
            let text = ws.recv_text().await;
            let this = ack_id(&text, "/");
            assert_eq!(text, format!(r#"42{this}["collect",1]"#));
            assert_eq!(*id.get_or_insert(this), this, "one id for every recipient");
            if let (Some(late), 2) = (previous, i) {
                // The silent client's late answer to the previous round.
                ws.send(&format!(r#"43{late}["late"]"#));
            }
            if !(silent && i == 2) {
                ws.send(&format!(r#"43{this}["from-{i}"]"#));
            }
        }
        previous = id;
        let answers = common::within("the acks", pending).await.unwrap().unwrap();
        assert_eq!(answers.expected, 3);
        assert_eq!(answers.timed_out, silent);
        let mut firsts: Vec<String> = answers.first_args().unwrap();
        firsts.sort();
        let mut who: Vec<String> = answers
            .responses
            .iter()
            .map(|a| {
                a.sid
                    .as_ref()
                    .expect("a local answer names its socket")
                    .to_string()
            })
            .collect();
        who.sort();
        let mut want: Vec<String> = all.iter().map(|(_, id)| id.clone()).collect();
        if silent {
            assert_eq!(firsts, ["from-0", "from-1"]);
            want.truncate(2);
        } else {
            assert_eq!(firsts, ["from-0", "from-1", "from-2"]);
        }
        assert_eq!(who, sorted(want));
    }
    all[2].0.assert_echo().await;
    server.assert_healthy().await;
}

#[tokio::test]
async fn fetch_sockets_and_bulk_join_leave() {
    let server = start_default().await;
    let all = clients(&server, 3).await;
    let every: BTreeSet<String> = all.iter().map(|(_, id)| id.clone()).collect();
    assert_eq!(fetched(server.io.fetch_sockets().await), every);
    let s = |i: usize| server.socket("/", &all[i].1);
    s(0).join("a");
    s(1).join("a");
    let in_a = fetched(server.io.to("a").fetch_sockets().await);
    assert_eq!(in_a, [all[0].1.clone(), all[1].1.clone()].into());

    server.io.to("a").sockets_join("b").unwrap();
    assert_eq!(ids(&server.io.to("b").sockets()), in_a);
    assert!(s(0).rooms().iter().any(|r| r.as_str() == "b"));
    server.io.to("b").sockets_leave("a").unwrap();
    assert!(server.io.to("a").sockets().is_empty());
    server.io.broadcast().sockets_join("everyone").unwrap();
    assert_eq!(ids(&server.io.to("everyone").sockets()), every);
    server.io.except("b").sockets_leave("everyone").unwrap();
    assert_eq!(ids(&server.io.to("everyone").sockets()), in_a);
    server.assert_healthy().await;
}

#[tokio::test]
async fn operator_disconnects_selected_sockets() {
    let server = start_default().await;
    let mut all = clients(&server, 3).await;
    for (_, id) in all.iter().take(2) {
        server.socket("/", id).join("kick");
    }
    server.io.to("kick").disconnect_sockets(false).unwrap();
    for (ws, id) in all.iter_mut().take(2) {
        ws.expect("41").await;
        assert_eq!(server.reasons.wait(id).await, "server namespace disconnect");
        // The connection stays: the client may connect again.
        ws.connect_ns("/", None).await;
        ws.assert_echo().await;
    }
    all[2].0.assert_echo().await;
    assert_eq!(server.reasons.get(&all[2].1), None);

    // With `close`, the whole connection goes.
    let id = all[2].1.clone();
    server.socket("/", &id).join("close");
    server.io.to("close").disconnect_sockets(true).unwrap();
    all[2].0.expect_closed().await;
    assert_eq!(server.reasons.wait(&id).await, "forced server close");
    all[0].0.assert_echo().await;
    server.assert_healthy().await;
}

#[derive(Clone, Debug, PartialEq)]
struct Nick(String);

#[tokio::test]
async fn per_socket_data() {
    let server = start_default().await;
    let reasons = server.reasons.clone();
    server.io.ns("/", move |s: SocketRef| {
        let reasons = reasons.clone();
        async move {
            register_echo(&s, reasons);
            s.on(
                "set-nick",
                |s: SocketRef, Data(n): Data<String>| async move {
                    s.insert(Nick(n));
                },
            );
            s.on("get-nick", |s: SocketRef, ack: AckSender| async move {
                let _ = ack.send(&s.get::<Nick>().map(|n| n.0));
            });
        }
    });
    let mut all = clients(&server, 2).await;
    all[0].0.send(r#"42["set-nick","ann"]"#);
    all[0].0.send(r#"421["get-nick"]"#);
    all[0].0.expect(r#"431["ann"]"#).await;
    all[1].0.send(r#"422["get-nick"]"#);
    all[1].0.expect("432[null]").await;

    let a = server.socket("/", &all[0].1);
    assert_eq!(a.get::<Nick>(), Some(Nick("ann".into())));
    a.insert(Nick("bob".into()));
    a.insert(7u32);
    assert_eq!(a.remove::<Nick>(), Some(Nick("bob".into())));
    assert_eq!(a.get::<Nick>(), None);
    assert_eq!(a.remove::<Nick>(), None);
    assert_eq!(a.get::<u32>(), Some(7));
    all[0].0.send(r#"423["get-nick"]"#);
    all[0].0.expect("433[null]").await;
    let v: Value = serde_json::to_value(a.get::<u32>()).unwrap();
    assert_eq!(v, 7);
    server.assert_healthy().await;
}
