//! A socket's handshake as Node describes it (`socket.handshake`), for the
//! sockets a node reports to another (`fetchSockets`): `headers`, `time`,
//! `address`, `xdomain`, `secure`, `issued`, `url`, `query`, `auth`.

use crate::RemoteAddr;
use serde_json::{json, Map, Value};

/// Node's handshake object for a connection's request head.
pub(crate) fn describe(head: &http::request::Parts, auth: &str, issued_ms: u64) -> Value {
    let mut headers = Map::new();
    for (name, value) in &head.headers {
        let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
        match headers.get_mut(name.as_str()) {
            Some(Value::String(joined)) => {
                joined.push_str(", ");
                joined.push_str(&value);
            }
            _ => {
                headers.insert(name.as_str().to_owned(), Value::String(value));
            }
        }
    }
    let query: Map<String, Value> = head
        .uri
        .query()
        .unwrap_or("")
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (decode(k), Value::String(decode(v)))
        })
        .collect();
    let address = head
        .extensions
        .get::<RemoteAddr>()
        .map(|a| a.0.ip().to_string());
    let url = head
        .uri
        .path_and_query()
        .map_or_else(|| head.uri.path().to_owned(), |p| p.as_str().to_owned());
    json!({
        "headers": headers,
        "time": date_string(issued_ms),
        "address": address,
        "xdomain": head.headers.contains_key(http::header::ORIGIN),
        "secure": head.uri.scheme_str() == Some("https"),
        "issued": issued_ms,
        "url": url,
        "query": query,
        "auth": serde_json::from_str::<Value>(auth).unwrap_or_else(|_| json!({})),
    })
}

/// Percent-decodes a query component (`+` as a space), lossily.
pub(crate) fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                (Some(hi), Some(lo)) => {
                    out.push(hi << 4 | lo);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex(b: u8) -> Option<u8> {
    (b as char).to_digit(16).map(|d| d as u8)
}

/// JavaScript's `Date.prototype.toString()` in UTC, as Node prints a
/// handshake's `time`: `Fri Dec 04 2026 17:28:18 GMT+0000 (Coordinated Universal Time)`.
pub(crate) fn date_string(ms: u64) -> String {
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let secs = ms / 1000;
    let days = secs / 86_400;
    let (y, m, d) = civil_from_days(days as i64);
    let rem = secs % 86_400;
    format!(
        "{} {} {:02} {} {:02}:{:02}:{:02} GMT+0000 (Coordinated Universal Time)",
        DAYS[(days % 7) as usize],
        MONTHS[(m - 1) as usize],
        d,
        y,
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// JavaScript's `Date.prototype.toISOString()`: `2026-12-04T17:28:18.023Z`
/// (what `JSON.stringify(new Date())` writes).
pub(crate) fn iso_string(ms: u64) -> String {
    let secs = ms / 1000;
    let (y, m, d) = civil_from_days((secs / 86_400) as i64);
    let rem = secs % 86_400;
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        ms % 1000
    )
}

/// The civil date of a day count since 1970-01-01 (Howard Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_dates_as_javascript_does() {
        // new Date(1796405298023).toString() with TZ=UTC
        assert_eq!(
            date_string(1_796_405_298_023),
            "Fri Dec 04 2026 17:28:18 GMT+0000 (Coordinated Universal Time)"
        );
        assert_eq!(iso_string(1_796_405_298_023), "2026-12-04T17:28:18.023Z");
        assert_eq!(iso_string(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(
            date_string(0),
            "Thu Jan 01 1970 00:00:00 GMT+0000 (Coordinated Universal Time)"
        );
        assert_eq!(
            date_string(951_782_400_000),
            "Tue Feb 29 2000 00:00:00 GMT+0000 (Coordinated Universal Time)"
        );
    }

    #[test]
    fn describes_a_request_head() {
        let req = http::Request::builder()
            .uri("/socket.io/?EIO=4&transport=websocket&name=a%20b")
            .header("origin", "http://x")
            .header("x-a", "1")
            .header("x-a", "2")
            .body(())
            .unwrap();
        let (mut parts, ()) = req.into_parts();
        parts
            .extensions
            .insert(RemoteAddr("127.0.0.1:5000".parse().unwrap()));
        let v = describe(&parts, r#"{"token":"t"}"#, 1000);
        assert_eq!(v["headers"]["x-a"], "1, 2");
        assert_eq!(v["query"]["name"], "a b");
        assert_eq!(v["query"]["EIO"], "4");
        assert_eq!(v["address"], "127.0.0.1");
        assert_eq!(v["xdomain"], true);
        assert_eq!(v["issued"], 1000);
        assert_eq!(v["url"], "/socket.io/?EIO=4&transport=websocket&name=a%20b");
        assert_eq!(v["auth"]["token"], "t");
    }
}
