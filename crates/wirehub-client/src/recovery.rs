//! Connection state recovery (Socket.IO 4.6+), the client's part, without
//! I/O: what one socket remembers between connections and puts in its
//! CONNECT packet, as the official client (`socket.ts`: `_pid`,
//! `_lastOffset`, `recovered`) does.
//!
//! - A server with recovery on answers CONNECT with `{"sid":…,"pid":…}`;
//!   the socket keeps `pid` (a private session id, unlike `sid`).
//! - While a pid is known, every event handed to the handlers whose last
//!   argument is a string (the server appends its offset to the events it
//!   stores) sets the last offset; the argument stays in the event.
//! - Every later CONNECT carries `{"pid":…,"offset":…, ...auth}` (the
//!   offset left out until one was seen; auth keys win, as with
//!   `Object.assign`), so the server can restore the session and send what
//!   was missed.
//! - The connection was recovered when the answer's pid is the one sent.
//!
//! Two differences with the official client, which keeps `_pid` and
//! `_lastOffset` for the socket's whole life:
//! - a deliberate disconnect (by the user, or a DISCONNECT from the server)
//!   forgets both, so the next `connect()` starts a new session. The server
//!   does not keep sessions ended on purpose, but the Node server does not
//!   drop a session it restored either: with the official client, a
//!   `disconnect()` then `connect()` within the window after a recovered
//!   reconnection comes back recovered, with the old id and rooms;
//! - the last offset is forgotten when a new session starts (the official
//!   client would offer an offset of the old session for the new pid).

use wirehub_proto::socketio::Args;
use wirehub_proto::Str;

/// One socket's recovery state.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct Recovery {
    pid: Option<String>,
    offset: Option<String>,
}

impl Recovery {
    /// The data of a CONNECT packet: `auth` (a JSON object's text, or none)
    /// with `pid` and `offset` first when a pid is known.
    pub(crate) fn connect_data(&self, auth: Option<&str>) -> Option<Str> {
        let Some(pid) = &self.pid else {
            return auth.map(|a| Str::from(a.to_owned()));
        };
        let fields: serde_json::Map<String, serde_json::Value> = auth
            .and_then(|a| serde_json::from_str(a).ok())
            .unwrap_or_default();
        let mut text = String::from("{");
        let mut ours = vec![("pid", pid)];
        if let Some(offset) = &self.offset {
            ours.push(("offset", offset));
        }
        for (key, value) in ours {
            // `Object.assign({pid, offset}, auth)`: the auth's own key wins.
            if fields.contains_key(key) {
                continue;
            }
            if text.len() > 1 {
                text.push(',');
            }
            text.push_str(&serde_json::Value::from(key).to_string());
            text.push(':');
            text.push_str(&serde_json::Value::from(value.as_str()).to_string());
        }
        for (key, value) in &fields {
            if text.len() > 1 {
                text.push(',');
            }
            text.push_str(&serde_json::Value::from(key.as_str()).to_string());
            text.push(':');
            text.push_str(&value.to_string());
        }
        text.push('}');
        Some(Str::from(text))
    }

    /// An event is handed to the handlers: while a pid is known, a string
    /// last argument is the new offset. An event asking for an ack ends
    /// with the ack callback in the official client, never a string.
    pub(crate) fn on_event(&mut self, args: &Args, asks_ack: bool) {
        if self.pid.is_none() || asks_ack {
            return;
        }
        let Some(last) = args.raw().last() else {
            return;
        };
        if last.starts_with('"') {
            if let Ok(offset) = serde_json::from_str::<String>(last) {
                self.offset = Some(offset);
            }
        }
    }

    /// The server accepted the socket, with `pid` when recovery is on;
    /// returns whether it restored the previous session.
    pub(crate) fn on_connect(&mut self, pid: Option<String>) -> bool {
        let pid = pid.filter(|p| !p.is_empty());
        let recovered = pid.is_some() && pid == self.pid;
        if !recovered {
            // An offset of another session means nothing to this one (the
            // official client keeps it, and a server could replay packets
            // of that session's time as missed).
            self.offset = None;
        }
        self.pid = pid;
        recovered
    }

    /// The session was ended on purpose: the next CONNECT asks for nothing.
    pub(crate) fn forget(&mut self) {
        *self = Recovery::default();
    }

    /// The `pid` of a CONNECT answer's data (`{"sid":…,"pid":…}`).
    pub(crate) fn pid_of(data: &serde_json::Value) -> Option<String> {
        data.get("pid")?.as_str().map(str::to_owned)
    }
}

#[cfg(test)]
mod tests {
    use super::Recovery;
    use serde_json::{json, Value};
    use wirehub_proto::socketio::Args;

    fn args(values: Value) -> Args {
        Args::many(&values).expect("args")
    }

    fn data(r: &Recovery, auth: Option<&str>) -> Option<String> {
        r.connect_data(auth).map(|s| s.to_string())
    }

    #[test]
    fn without_a_pid_nothing_is_tracked_or_sent() {
        let mut r = Recovery::default();
        r.on_event(&args(json!(["a", "offset-1"])), false);
        assert_eq!(r, Recovery::default(), "no pid: offsets are not kept");
        assert_eq!(data(&r, None), None);
        assert_eq!(
            data(&r, Some(r#"{"token":"t"}"#)).unwrap(),
            r#"{"token":"t"}"#
        );
        assert!(!r.on_connect(None));
        assert_eq!(
            data(&r, None),
            None,
            "a server without recovery: still no pid"
        );
    }

    #[test]
    fn the_last_string_argument_is_the_offset() {
        let mut r = Recovery::default();
        assert!(!r.on_connect(Some("p1".into())), "first connection");
        assert_eq!(data(&r, None).unwrap(), r#"{"pid":"p1"}"#, "no offset yet");
        r.on_event(&args(json!(["x", "o1"])), false);
        assert_eq!(data(&r, None).unwrap(), r#"{"pid":"p1","offset":"o1"}"#);
        // Not a string last: kept as it was.
        r.on_event(&args(json!(["x", 2])), false);
        r.on_event(&args(json!([{ "a": "b" }])), false);
        r.on_event(&args(json!([])), false);
        // An ack request ends with the callback in the official client.
        r.on_event(&args(json!(["x", "not-an-offset"])), true);
        assert_eq!(data(&r, None).unwrap(), r#"{"pid":"p1","offset":"o1"}"#);
        r.on_event(&args(json!(["o2"])), false);
        r.on_event(&args(json!([1, "o\"3"])), false);
        assert_eq!(
            data(&r, None).unwrap(),
            r#"{"pid":"p1","offset":"o\"3"}"#,
            "the newest string, JSON-escaped"
        );
    }

    #[test]
    fn auth_fields_follow_pid_and_offset_and_win_on_a_clash() {
        let mut r = Recovery::default();
        r.on_connect(Some("p1".into()));
        r.on_event(&args(json!(["o1"])), false);
        assert_eq!(
            data(&r, Some(r#"{"token":"abc","n":[1,{"x":null}]}"#)).unwrap(),
            r#"{"pid":"p1","offset":"o1","n":[1,{"x":null}],"token":"abc"}"#
        );
        assert_eq!(
            data(&r, Some("{}")).unwrap(),
            r#"{"pid":"p1","offset":"o1"}"#
        );
        let clash: Value =
            serde_json::from_str(&data(&r, Some(r#"{"pid":"mine"}"#)).unwrap()).unwrap();
        assert_eq!(clash, json!({ "pid": "mine", "offset": "o1" }));
    }

    #[test]
    fn a_deliberate_disconnect_forgets_the_session() {
        let mut r = Recovery::default();
        r.on_connect(Some("p1".into()));
        r.on_event(&args(json!(["o1"])), false);
        r.forget();
        assert_eq!(r, Recovery::default());
        assert_eq!(
            data(&r, Some(r#"{"token":"t"}"#)).unwrap(),
            r#"{"token":"t"}"#
        );
        assert!(!r.on_connect(Some("p1".into())), "not recovered");
    }

    #[test]
    fn recovered_only_when_the_same_pid_comes_back() {
        let mut r = Recovery::default();
        assert!(!r.on_connect(Some("p1".into())));
        assert!(r.on_connect(Some("p1".into())), "same pid: restored");
        assert!(!r.on_connect(Some("p2".into())), "new pid: a new session");
        assert_eq!(data(&r, None).unwrap(), r#"{"pid":"p2"}"#);
        assert!(!r.on_connect(None), "recovery turned off");
        assert!(!r.on_connect(None));
        assert_eq!(data(&r, None), None, "no pid any more");
        assert!(!r.on_connect(Some(String::new())), "an empty pid is none");
        r.on_connect(Some("p3".into()));
        r.on_event(&args(json!(["o3"])), false);
        assert!(r.on_connect(Some("p3".into())));
        assert_eq!(
            data(&r, None).unwrap(),
            r#"{"pid":"p3","offset":"o3"}"#,
            "a restored session keeps its offset"
        );
        assert!(!r.on_connect(Some("p4".into())));
        assert_eq!(
            data(&r, None).unwrap(),
            r#"{"pid":"p4"}"#,
            "a new session starts without the old one's offset"
        );
        assert_eq!(
            Recovery::pid_of(&json!({ "sid": "s", "pid": "p" })),
            Some("p".into())
        );
        assert_eq!(Recovery::pid_of(&json!({ "sid": "s" })), None);
    }
}
