//! The lines `wirehub connect` reads on stdin:
//!
//! ```text
//! emit EVENT [JSON...]       emit EVENT with the JSON values as arguments
//! emit-ack EVENT [JSON...]   the same, asking for an ack (printed when it comes)
//! ack ID [JSON...]           answer the server's ack request ID (from an event line)
//! wait MS                    pause before reading the next line
//! ```
//!
//! EVENT is a word, or a JSON string for names with spaces. Blank lines and
//! lines starting with `#` are skipped.

use serde_json::Value;

/// One stdin command.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Line {
    Emit {
        event: String,
        args: Vec<Value>,
        ack: bool,
    },
    Ack {
        id: u64,
        args: Vec<Value>,
    },
    Wait(u64),
    Skip,
}

/// Parses one line.
pub(super) fn parse(line: &str) -> Result<Line, String> {
    let line = line.trim();
    if line.is_empty() || line.starts_with('#') {
        return Ok(Line::Skip);
    }
    let (command, rest) = split_word(line);
    match command {
        "emit" | "emit-ack" => {
            let (event, rest) = event_name(rest)?;
            Ok(Line::Emit {
                event,
                args: values(rest)?,
                ack: command == "emit-ack",
            })
        }
        "ack" => {
            let (id, rest) = split_word(rest);
            let id = id
                .parse()
                .map_err(|_| format!("ack needs a numeric id, got {id:?}"))?;
            Ok(Line::Ack {
                id,
                args: values(rest)?,
            })
        }
        "wait" => rest
            .trim()
            .parse()
            .map(Line::Wait)
            .map_err(|_| format!("wait needs milliseconds, got {:?}", rest.trim())),
        other => Err(format!(
            "unknown command {other:?} (expected emit, emit-ack, ack or wait)"
        )),
    }
}

fn split_word(s: &str) -> (&str, &str) {
    let s = s.trim_start();
    s.split_once(char::is_whitespace).unwrap_or((s, ""))
}

/// The event name: a JSON string or a bare word.
fn event_name(rest: &str) -> Result<(String, &str), String> {
    let rest = rest.trim_start();
    if rest.starts_with('"') {
        let mut stream = serde_json::Deserializer::from_str(rest).into_iter::<String>();
        let name = stream
            .next()
            .ok_or("missing event name")?
            .map_err(|e| format!("invalid event name: {e}"))?;
        return Ok((name, &rest[stream.byte_offset()..]));
    }
    let (name, rest) = split_word(rest);
    if name.is_empty() {
        return Err("missing event name".into());
    }
    Ok((name.to_owned(), rest))
}

/// Whitespace-separated JSON values.
fn values(rest: &str) -> Result<Vec<Value>, String> {
    serde_json::Deserializer::from_str(rest)
        .into_iter::<Value>()
        .collect::<Result<_, _>>()
        .map_err(|e| format!("invalid JSON argument: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn parses_commands() {
        assert_eq!(
            parse(r#"emit chat {"text":"hi"} 2"#),
            Ok(Line::Emit {
                event: "chat".into(),
                args: vec![json!({"text": "hi"}), json!(2)],
                ack: false
            })
        );
        assert_eq!(
            parse(r#"  emit-ack "my event" "#),
            Ok(Line::Emit {
                event: "my event".into(),
                args: vec![],
                ack: true
            })
        );
        assert_eq!(
            parse("ack 3 \"ok\""),
            Ok(Line::Ack {
                id: 3,
                args: vec![json!("ok")]
            })
        );
        assert_eq!(parse("wait 250"), Ok(Line::Wait(250)));
        assert_eq!(parse("# comment"), Ok(Line::Skip));
        assert_eq!(parse(""), Ok(Line::Skip));
    }

    #[test]
    fn reports_bad_lines() {
        assert!(parse("shout x").unwrap_err().contains("unknown command"));
        assert!(parse("emit").unwrap_err().contains("missing event"));
        assert!(parse("emit x {bad").unwrap_err().contains("invalid JSON"));
        assert!(parse("ack x").unwrap_err().contains("numeric id"));
        assert!(parse("wait soon").is_err());
    }
}
