//! Output: every record is one JSON object on one stdout line, its keys in
//! the order given (`{"event":...,"args":...}`), flushed at once so the
//! lines can be piped to `jq` or read by a program.

use serde_json::Value;
use std::io::Write;

/// Writes one object with these keys, in this order.
pub(super) fn line(fields: &[(&str, Value)]) {
    write(&object(fields));
}

/// The JSON text of an object with these keys, in this order.
fn object(fields: &[(&str, Value)]) -> String {
    let mut text = String::from("{");
    for (i, (key, value)) in fields.iter().enumerate() {
        if i > 0 {
            text.push(',');
        }
        text.push_str(&Value::from(*key).to_string());
        text.push(':');
        text.push_str(&value.to_string());
    }
    text.push('}');
    text
}

/// Writes one JSON value.
pub(super) fn value(value: &Value) {
    write(&value.to_string());
}

fn write(text: &str) {
    let mut out = std::io::stdout().lock();
    // A closed stdout (e.g. `| head`) is not an error worth reporting.
    let _ = writeln!(out, "{text}");
    let _ = out.flush();
}

/// Flushes stdout (before exiting).
pub(super) fn flush() {
    let _ = std::io::stdout().lock().flush();
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    #[test]
    fn keys_keep_their_order() {
        let text = super::object(&[("event", json!("x")), ("args", json!([1, "a\"b"]))]);
        assert_eq!(text, r#"{"event":"x","args":[1,"a\"b"]}"#);
    }
}
