//! The query string of the plain HTTP endpoints: `ns`, `room` (repeatable;
//! `rooms=a,b` also accepted), `auth` (JSON), `since`, `lastEventId`,
//! `wait`, `token`, percent-decoded.

use wirehub_proto::Str;

/// Parsed query parameters.
#[derive(Debug, Default, Clone, PartialEq)]
pub(crate) struct PlainQuery {
    pub(crate) ns: Option<String>,
    pub(crate) rooms: Vec<Str>,
    pub(crate) auth: Option<Str>,
    pub(crate) since: Option<u64>,
    pub(crate) last_event_id: Option<u64>,
    pub(crate) wait: Option<u64>,
    pub(crate) token: Option<String>,
}

impl PlainQuery {
    /// The namespace, `/` by default, always with a leading slash.
    pub(crate) fn ns(&self) -> String {
        match self.ns.as_deref() {
            None | Some("") => "/".into(),
            Some(ns) if ns.starts_with('/') => ns.into(),
            Some(ns) => format!("/{ns}"),
        }
    }
}

/// Parses a query string; `Err` names the bad parameter.
pub(crate) fn parse(query: &str) -> Result<PlainQuery, String> {
    let mut q = PlainQuery::default();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        let value = decode(value).ok_or_else(|| format!("{key}: bad percent-encoding"))?;
        let number = |v: &str| v.parse::<u64>().map_err(|_| format!("{key}: not a number"));
        match key {
            "ns" => q.ns = Some(value),
            "room" => push_room(&mut q.rooms, value)?,
            "rooms" => {
                for room in value.split(',').filter(|r| !r.is_empty()) {
                    push_room(&mut q.rooms, room.to_owned())?;
                }
            }
            "auth" => {
                serde_json::from_str::<&serde_json::value::RawValue>(&value)
                    .map_err(|_| "auth: not JSON".to_owned())?;
                q.auth = Some(Str::from(value));
            }
            "since" => q.since = Some(number(&value)?),
            "lastEventId" => q.last_event_id = Some(number(&value)?),
            "wait" => q.wait = Some(number(&value)?),
            "token" => q.token = Some(value),
            _ => {}
        }
    }
    Ok(q)
}

const MAX_ROOMS: usize = 64;
const MAX_ROOM_LEN: usize = 256;

fn push_room(rooms: &mut Vec<Str>, room: String) -> Result<(), String> {
    if room.is_empty() || room.len() > MAX_ROOM_LEN {
        return Err(format!("room: 1 to {MAX_ROOM_LEN} bytes"));
    }
    if rooms.len() >= MAX_ROOMS {
        return Err(format!("room: at most {MAX_ROOMS}"));
    }
    if !rooms.iter().any(|r| r.as_str() == room) {
        rooms.push(Str::from(room));
    }
    Ok(())
}

/// Percent-decoding (`+` is a space); `None` if not valid UTF-8 or malformed.
fn decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                let hex = bytes.get(i + 1..i + 3)?;
                let hex = std::str::from_utf8(hex).ok()?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_parameter() {
        let q = parse("ns=%2Fchat&room=a&room=b%20c&rooms=d,a&auth=%7B%22t%22%3A1%7D&since=5&wait=10&lastEventId=7&token=x&other=1").unwrap();
        assert_eq!(q.ns(), "/chat");
        let rooms: Vec<&str> = q.rooms.iter().map(|r| r.as_str()).collect();
        assert_eq!(rooms, ["a", "b c", "d"]);
        assert_eq!(q.auth.as_deref(), Some(r#"{"t":1}"#));
        assert_eq!(
            (q.since, q.wait, q.last_event_id),
            (Some(5), Some(10), Some(7))
        );
        assert_eq!(q.token.as_deref(), Some("x"));
    }

    #[test]
    fn rejects_bad_values() {
        assert!(parse("since=x").is_err());
        assert!(parse("auth=%7B").is_err());
        assert!(parse("room=%zz").is_err());
        assert!(parse("room=").is_err());
        assert!(parse("room=%FF").is_err());
        assert_eq!(parse("ns=chat").unwrap().ns(), "/chat");
        assert_eq!(parse("").unwrap().ns(), "/");
    }
}
