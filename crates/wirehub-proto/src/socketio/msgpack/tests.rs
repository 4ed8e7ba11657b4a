//! Round trips, notepack.io's own bytes, and malformed input.

use super::*;
use crate::socketio::Binary;
use proptest::prelude::*;

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn round_trip(p: Packet) {
    let bytes = p.encode_msgpack();
    assert_eq!(decode(&bytes, 10).unwrap(), p, "{:02x?}", &bytes[..]);
}

/// Written by notepack.io 2.2 from what socket.io-client 4.8 emits:
/// `{type: 2, data: ["hello", {a: 1, b: Buffer[1,2,3]}, 1.5, -3, "é"],
/// options: {compress: true}, id: 7, nsp: "/chat"}`.
const CLIENT_EVENT: &str = "85a47479706502a46461746195a568656c6c6f82a16101a162c403010203cb3ff8000000000000fda2c3a9a76f7074696f6e7381a8636f6d7072657373c3a2696407a36e7370a52f63686174";

#[test]
fn decodes_what_the_javascript_client_sends() {
    let p = decode(&hex(CLIENT_EVENT), 10).unwrap();
    assert_eq!(&*p.ns, "/chat");
    let PacketKind::Event { name, args, id } = p.kind else {
        panic!("not an event")
    };
    assert_eq!((&*name, id), ("hello", Some(7)));
    let raw: Vec<&str> = args.raw().iter().map(|s| s.as_str()).collect();
    assert_eq!(
        raw,
        [
            r#"{"a":1,"b":{"_placeholder":true,"num":0}}"#,
            "1.5",
            "-3",
            r#""é""#
        ]
    );
    assert_eq!(args.attachments(), &[Bytes::from_static(&[1, 2, 3])]);
}

#[test]
fn undefined_data_and_array_buffers() {
    // `{type: 0, data: undefined, nsp: "/"}`
    let p = decode(&hex("83a47479706500a464617461d40000a36e7370a12f"), 10).unwrap();
    assert_eq!(p, Packet::connect_ok_less("/"));
    // `{type: 2, data: ["x", ArrayBuffer[5, 6]], nsp: "/"}` (Node's notepack.io)
    let p = decode(
        &hex("83a47479706502a46461746192a178c702000506a36e7370a12f"),
        10,
    )
    .unwrap();
    let PacketKind::Event { args, .. } = p.kind else {
        panic!("not an event")
    };
    assert_eq!(args.attachments(), &[Bytes::from_static(&[5, 6])]);
}

impl Packet {
    fn connect_ok_less(ns: &'static str) -> Packet {
        Packet {
            ns: Str::from_static(ns),
            kind: PacketKind::Connect(None),
        }
    }
}

#[test]
fn every_kind_round_trips() {
    round_trip(Packet::connect_ok_less("/"));
    round_trip(Packet {
        ns: "/admin".into(),
        kind: PacketKind::Connect(Some(r#"{"token":"abc","n":[1,2]}"#.into())),
    });
    round_trip(Packet::connect_ok("/".into(), "sid1", Some("pid1")));
    round_trip(Packet::disconnect("/x".into()));
    round_trip(Packet::connect_error("/".into(), "nope", None));
    round_trip(Packet {
        ns: "/".into(),
        kind: PacketKind::ConnectError(r#""just a string""#.into()),
    });
    let nested = Args::many(&(
        "a",
        serde_json::json!({"k": [true, null, 2.5]}),
        (Binary::from(vec![0u8; 300]), [Binary::from(vec![7u8])]),
    ))
    .unwrap();
    assert_eq!(nested.attachments().len(), 2);
    round_trip(Packet::event("/".into(), "ev".into(), nested.clone(), None));
    round_trip(Packet::event(
        "/n".into(),
        "ev".into(),
        Args::empty(),
        Some(u64::MAX),
    ));
    round_trip(Packet::ack("/".into(), 3, nested));
    round_trip(Packet::ack("/".into(), 0, Args::empty()));
}

#[test]
fn encodes_the_packet_map() {
    let p = Packet::ack("/".into(), 12, Args::from_raw(vec![r#""ok""#.into()]));
    // {type: 3, data: ["ok"], nsp: "/", id: 12}
    assert_eq!(
        &p.encode_msgpack()[..],
        &hex("84a47479706503a46461746191a26f6ba36e7370a12fa269640c")[..]
    );
    let d = Packet::disconnect("/".into()).encode_msgpack();
    assert_eq!(
        &d[..],
        &hex("82a47479706501a36e7370a12f")[..],
        "no data key"
    );
}

fn packet_of(entries: Vec<(&str, Value)>) -> Vec<u8> {
    let map = Value::Map(
        entries
            .into_iter()
            .map(|(k, v)| (Value::from(k), v))
            .collect(),
    );
    let mut out = Vec::new();
    rmpv::encode::write_value(&mut out, &map).unwrap();
    out
}

fn event_data(items: Vec<Value>) -> Vec<(&'static str, Value)> {
    vec![
        ("type", Value::from(2)),
        ("data", Value::Array(items)),
        ("nsp", Value::from("/")),
    ]
}

#[test]
fn refuses_malformed_packets() {
    use ParseError::*;
    let err = |bytes: &[u8]| decode(bytes, 2).unwrap_err();
    assert_eq!(err(&[]), Empty);
    assert_eq!(err(&[0x93, 0x01]), InvalidMsgPack, "truncated");
    let mut trailing = Packet::disconnect("/".into()).encode_msgpack().to_vec();
    trailing.push(0);
    assert_eq!(err(&trailing), InvalidMsgPack);
    assert_eq!(err(&[0x92, 0x02, 0xa1, b'/']), InvalidPayload, "not a map");
    let nsp = ("nsp", Value::from("/"));
    assert_eq!(err(&packet_of(vec![nsp.clone()])), UnknownType);
    for ty in [
        Value::from(5),
        Value::from(-1),
        Value::from("2"),
        Value::F64(2.5),
    ] {
        assert_eq!(
            err(&packet_of(vec![("type", ty), nsp.clone()])),
            UnknownType
        );
    }
    assert_eq!(
        err(&packet_of(vec![("type", Value::from(1))])),
        InvalidPayload
    );
    let ns_number = vec![("type", Value::from(1)), ("nsp", Value::from(1))];
    assert_eq!(err(&packet_of(ns_number)), InvalidPayload);
    let connect_array = vec![
        ("type", Value::from(0)),
        ("data", Value::Array(vec![])),
        nsp.clone(),
    ];
    assert_eq!(err(&packet_of(connect_array)), InvalidPayload);
    let disconnect_data = vec![("type", Value::from(1)), ("data", Value::Nil), nsp.clone()];
    assert_eq!(err(&packet_of(disconnect_data)), InvalidPayload);
    let error_number = vec![
        ("type", Value::from(4)),
        ("data", Value::from(1)),
        nsp.clone(),
    ];
    assert_eq!(err(&packet_of(error_number)), InvalidPayload);
    assert_eq!(err(&packet_of(event_data(vec![]))), InvalidPayload);
    assert_eq!(
        err(&packet_of(event_data(vec![Value::Nil]))),
        InvalidPayload
    );
    let reserved = event_data(vec![Value::from("disconnect")]);
    assert_eq!(err(&packet_of(reserved)), InvalidPayload);
    let mut bad_id = event_data(vec![Value::from("x")]);
    bad_id.push(("id", Value::from("7")));
    assert_eq!(err(&packet_of(bad_id)), InvalidAckId);
    let mut negative_id = event_data(vec![Value::from("x")]);
    negative_id.push(("id", Value::from(-1)));
    assert_eq!(err(&packet_of(negative_id)), InvalidAckId);
    let ack = vec![
        ("type", Value::from(3)),
        ("data", Value::Array(vec![])),
        nsp,
    ];
    assert_eq!(err(&packet_of(ack)), MissingAckId);
    let bins = (0..3).map(|_| Value::Binary(vec![1])).collect();
    let three = event_data(vec![Value::from("x"), Value::Array(bins)]);
    assert_eq!(err(&packet_of(three)), TooManyAttachments(3));
    let spoof = Value::Map(vec![
        (Value::from("_placeholder"), Value::Boolean(true)),
        (Value::from("num"), Value::from(0)),
    ]);
    let spoofed = event_data(vec![Value::from("x"), Value::Array(vec![spoof])]);
    assert_eq!(err(&packet_of(spoofed)), IllegalAttachments);
    let binary_auth = vec![
        ("type", Value::from(0)),
        (
            "data",
            Value::Map(vec![(Value::from("k"), Value::Binary(vec![1]))]),
        ),
        ("nsp", Value::from("/")),
    ];
    assert_eq!(err(&packet_of(binary_auth)), InvalidPayload);
}

#[test]
fn numbers_as_event_names() {
    let p = decode(&packet_of(event_data(vec![Value::from(42)])), 0).unwrap();
    let PacketKind::Event { name, .. } = p.kind else {
        panic!("not an event")
    };
    assert_eq!(&*name, "42");
}

#[test]
fn deep_nesting_is_refused_not_recursed() {
    // {type: 2, nsp: "/", data: [[[[...nil...]]]]}, 100,000 levels deep
    let mut deep = hex("83a47479706502a36e7370a12fa464617461");
    deep.extend(std::iter::repeat_n(0x91, 100_000));
    deep.push(0xc0);
    assert_eq!(decode(&deep, 10), Err(ParseError::InvalidMsgPack));
}

proptest! {
    #[test]
    fn event_round_trip(ns in "/[a-z]{0,6}", name in "[a-z]{1,12}", id in proptest::option::of(any::<u64>()),
                        ints in proptest::collection::vec(any::<i64>(), 0..4),
                        bin in proptest::collection::vec(any::<u8>(), 0..40)) {
        let args = Args::many(&(ints, Binary::from(bin))).unwrap();
        round_trip(Packet::event(Str::from(ns), Str::from(name), args, id));
    }

    #[test]
    fn decoder_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
        let _ = decode(&bytes, 4);
    }

    #[test]
    fn decoder_never_panics_on_packetish(tail in proptest::collection::vec(any::<u8>(), 0..32)) {
        let mut bytes = hex("84a47479706502a36e7370a12fa464617461");
        bytes.extend(tail);
        let _ = decode(&bytes, 4);
    }
}
