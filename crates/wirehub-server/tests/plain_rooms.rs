//! Rooms shared by every transport: a publish from a client of each plain
//! transport, or from a Socket.IO client (`hub:publish`), reaches every
//! member on every other transport exactly once, never a non-member, never
//! the sender; the publish ack counts recipients and gives the history
//! offset. With rooms switched off, every transport is refused.

mod common;

use common::plain::{start_plain, Kind, PlainClient, PlainServer};
use common::WsClient;
use serde_json::{json, Value};
use wirehub_server::SocketIo;

/// Room members of every transport, and two outsiders.
struct Clients {
    members: Vec<PlainClient>,
    sio: WsClient,
    outsiders: Vec<PlainClient>,
}

async fn clients(server: &PlainServer) -> Clients {
    let mut members = Vec::new();
    for kind in Kind::ALL {
        members.push(server.client(kind, "/", &["lobby"]).await);
    }
    let (mut sio, _) = server.sio().await;
    sio.send(r#"421["hub:join",["lobby"]]"#);
    assert_eq!(sio.recv_json("431").await, json!([{"rooms":["lobby"]}]));
    let outsiders = vec![
        server.client(Kind::Ws, "/", &[]).await,
        server.client(Kind::Sse, "/", &["elsewhere"]).await,
    ];
    Clients {
        members,
        sio,
        outsiders,
    }
}

/// What the Socket.IO client received before the marker, as JSON arrays.
async fn sio_until_marker(sio: &mut WsClient) -> Vec<Value> {
    let mut got = Vec::new();
    loop {
        let v = sio.recv_json("42").await;
        if v[0] == "marker" {
            return got;
        }
        got.push(v);
    }
}

/// Who published.
#[derive(Clone, Copy, PartialEq)]
enum Sender {
    /// The plain member at this index.
    Member(usize),
    /// The Socket.IO member.
    SocketIo,
    /// A non-member or the server.
    Other,
}

/// After a publish of `data` at `offset`: every member but the sender got
/// it once, outsiders nothing.
async fn check_delivery(
    server: &PlainServer,
    c: &mut Clients,
    sender: Sender,
    data: &str,
    offset: u64,
) {
    server.marker();
    let want = json!({"type":"event","event":"chat","data":data,"room":"lobby","offset":offset});
    for (i, member) in c.members.iter_mut().enumerate() {
        let got = member.until_marker().await;
        if sender == Sender::Member(i) {
            assert_eq!(
                got,
                Vec::<Value>::new(),
                "the sender {:?} got its own",
                member.kind
            );
        } else {
            assert_eq!(got, vec![want.clone()], "{:?} from {data}", member.kind);
        }
    }
    let got = sio_until_marker(&mut c.sio).await;
    if sender == Sender::SocketIo {
        assert_eq!(got, Vec::<Value>::new(), "Socket.IO got its own");
    } else {
        assert_eq!(got, vec![json!(["chat", data])], "Socket.IO from {data}");
    }
    for outsider in &mut c.outsiders {
        assert_eq!(
            outsider.until_marker().await,
            Vec::<Value>::new(),
            "{:?}",
            outsider.kind
        );
    }
}

#[tokio::test]
async fn every_transport_publishes_to_every_other_exactly_once() {
    let server = start_plain(SocketIo::builder()).await;
    let mut c = clients(&server).await;
    let recipients = Kind::ALL.len(); // the other plain members and Socket.IO
    for i in 0..c.members.len() {
        let sender = &mut c.members[i];
        let data = format!("from {}", sender.kind.name());
        sender
            .send(json!({"type":"emit","event":"chat","room":"lobby","data":data,"id":5}))
            .await;
        let ack = sender.expect_type("ack").await;
        assert_eq!(ack["id"], 5);
        assert_eq!(ack["data"]["delivered"], recipients, "{ack}");
        let offset = ack["data"]["offset"].as_u64().expect("recorded");
        check_delivery(&server, &mut c, Sender::Member(i), &data, offset).await;
    }

    // From Socket.IO, through hub:publish.
    c.sio
        .send(r#"422["hub:publish",{"room":"lobby","event":"chat","data":"from sio"}]"#);
    let ack = c.sio.recv_json("432").await;
    assert_eq!(ack[0]["delivered"], recipients, "{ack}");
    let offset = ack[0]["offset"].as_u64().expect("recorded");
    check_delivery(&server, &mut c, Sender::SocketIo, "from sio", offset).await;
}

#[tokio::test]
async fn a_non_member_can_publish_and_several_rooms_deliver_once() {
    let server = start_plain(SocketIo::builder()).await;
    let mut c = clients(&server).await;
    let outsider = &mut c.outsiders[0];
    outsider
        .send(json!({"type":"emit","event":"chat","room":"lobby","data":"outside","id":1}))
        .await;
    let ack = outsider.expect_type("ack").await;
    assert_eq!(ack["data"]["delivered"], Kind::ALL.len() + 1);
    let offset = ack["data"]["offset"].as_u64().unwrap();
    check_delivery(&server, &mut c, Sender::Other, "outside", offset).await;

    // Members of both rooms get a two-room publish once, without `room`.
    let both = &mut c.members[0];
    both.send(json!({"type":"join","room":"news","id":2})).await;
    both.expect_type("ack").await;
    let tcp = &mut c.members[3];
    tcp.send(json!({"type":"emit","event":"chat","rooms":["lobby","news"],"data":1,"id":3}))
        .await;
    let ack = tcp.expect_type("ack").await;
    assert_eq!(ack["data"]["delivered"], Kind::ALL.len());
    server.marker();
    let got = c.members[0].until_marker().await;
    assert_eq!(got.len(), 1, "{got:?}");
    assert!(got[0].get("room").is_none(), "{}", got[0]);
}

#[tokio::test]
async fn server_broadcasts_reach_plain_and_socketio_members() {
    let server = start_plain(SocketIo::builder()).await;
    let mut c = clients(&server).await;
    let sent = server.io.to("lobby").emit("chat", &"from server").unwrap();
    assert_eq!(sent, Kind::ALL.len() + 1);
    check_delivery(&server, &mut c, Sender::Other, "from server", 1).await;
}

#[tokio::test]
async fn rooms_switched_off_everywhere() {
    let server =
        start_plain(SocketIo::builder().config_with(|c| c.plain_client_rooms(false))).await;
    for kind in [Kind::Ws, Kind::Tcp, Kind::Udp, Kind::Stream] {
        let mut c = server.client(kind, "/", &[]).await;
        c.send(json!({"type":"join","rooms":["a"],"id":1})).await;
        assert_eq!(c.expect_error("not_allowed").await["id"], 1, "{kind:?}");
        c.send(json!({"type":"emit","event":"e","room":"a","id":2}))
            .await;
        assert_eq!(c.expect_error("not_allowed").await["id"], 2, "{kind:?}");
        c.assert_alive().await;
    }
    let resp = server.http("GET", "/sse?room=a", &[], b"").await;
    assert_eq!(resp.status, 403);
    assert_eq!(resp.json()["error"]["code"], "not_allowed");
    let (mut sio, _) = server.sio().await;
    sio.send(r#"421["hub:join","a"]"#);
    assert_eq!(
        sio.recv_json("431").await[0]["error"]["code"],
        "not_allowed"
    );
}

/// `hub:leave` (as the README documents it for Socket.IO clients): a room
/// name or a list, acked with the rooms left; a left room's messages no
/// longer arrive; bad values are acked with an error and change nothing.
#[tokio::test]
async fn socketio_clients_leave_rooms_with_hub_leave() {
    let server = start_plain(SocketIo::builder()).await;
    let (mut sio, _) = server.sio().await;
    sio.send(r#"421["hub:join",["a","b","c"]]"#);
    assert_eq!(sio.recv_json("431").await, json!([{"rooms":["a","b","c"]}]));
    sio.send(r#"422["hub:leave","a"]"#);
    assert_eq!(sio.recv_json("432").await, json!([{"rooms":["b","c"]}]));
    // In b and c only: a message to a does not arrive, one to b does (in
    // order, so one to a would have come first).
    server.io.to("a").emit("to-a", &1).expect("emit");
    server.io.to("b").emit("to-b", &2).expect("emit");
    assert_eq!(sio.recv_json("42").await, json!(["to-b", 2]));
    // A list, with a room it is not in.
    sio.send(r#"423["hub:leave",["b","never-joined"]]"#);
    assert_eq!(sio.recv_json("433").await, json!([{"rooms":["c"]}]));
    // Not a room name: an error, and c is kept.
    sio.send(r#"424["hub:leave",5]"#);
    let refused = sio.recv_json("434").await;
    assert_eq!(refused[0]["error"]["code"], "bad_field", "{refused}");
    server.io.to("c").emit("to-c", &3).expect("emit");
    assert_eq!(sio.recv_json("42").await, json!(["to-c", 3]));
    // A plain member of c sees the Socket.IO client's publish; after the
    // client left c, its publish to c reaches c but no longer the client.
    let mut plain = server.client(Kind::Ws, "/", &["c"]).await;
    sio.send(r#"425["hub:leave","c"]"#);
    assert_eq!(sio.recv_json("435").await, json!([{"rooms":[]}]));
    plain
        .send(json!({"type":"emit","event":"news","room":"c","data":"x","id":7}))
        .await;
    let ack = plain.expect_type("ack").await;
    assert_eq!(ack["data"]["delivered"], 0, "{ack}");
    server.marker();
    assert_eq!(sio.recv_json("42").await, json!(["marker", 0]));
}
