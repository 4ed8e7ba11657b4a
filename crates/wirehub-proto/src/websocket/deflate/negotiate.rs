//! Answering a client's `Sec-WebSocket-Extensions` offers (RFC 7692,
//! section 7.1).
//!
//! The server accepts the first `permessage-deflate` offer it can honour
//! and always answers with `server_no_context_takeover` and
//! `client_no_context_takeover` (both are the server's to add, even to an
//! offer without them): no connection keeps a 32 KiB window and the
//! compressor or inflater around it between messages, and a broadcast
//! compresses to the same bytes for every recipient.
//!
//! An offer is declined when it limits the server's window
//! (`server_max_window_bits` under 15: the miniz backend always uses a
//! 32 KiB window), has an unknown, repeated or malformed parameter. A
//! client's own window limit (`client_max_window_bits`) needs nothing: the
//! inflater reads any window up to 32 KiB.

/// The extension's name in the header.
const NAME: &str = "permessage-deflate";

/// The accepted offer: what the answer says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Agreement {
    /// The offer named `server_max_window_bits` (only 15 is accepted): the
    /// answer must repeat it.
    server_max_window_bits: bool,
}

impl Agreement {
    /// The `Sec-WebSocket-Extensions` value of the handshake's answer.
    pub fn response(&self) -> String {
        let mut value = format!("{NAME}; server_no_context_takeover; client_no_context_takeover");
        if self.server_max_window_bits {
            value.push_str("; server_max_window_bits=15");
        }
        value
    }
}

/// The agreement for the first acceptable `permessage-deflate` offer among
/// the values of the request's `Sec-WebSocket-Extensions` headers (each a
/// comma-separated list of offers), or `None`: no compression.
pub fn negotiate<'a>(headers: impl IntoIterator<Item = &'a str>) -> Option<Agreement> {
    headers
        .into_iter()
        .flat_map(|value| value.split(','))
        .find_map(accept)
}

/// One offer (`name; param; param=value`), if it is ours and acceptable.
fn accept(offer: &str) -> Option<Agreement> {
    let mut parts = offer.split(';').map(str::trim);
    if !parts.next()?.eq_ignore_ascii_case(NAME) {
        return None;
    }
    let mut seen = [false; 4];
    let mut agreement = Agreement {
        server_max_window_bits: false,
    };
    for param in parts {
        let (name, value) = match param.split_once('=') {
            Some((n, v)) => (n.trim(), Some(unquote(v.trim())?)),
            None => (param, None),
        };
        let index = match (name.to_ascii_lowercase().as_str(), value) {
            ("server_no_context_takeover", None) => 0,
            ("client_no_context_takeover", None) => 1,
            ("server_max_window_bits", Some(bits)) => {
                // Only a full window: miniz cannot compress in a smaller one.
                if window_bits(bits)? != 15 {
                    return None;
                }
                agreement.server_max_window_bits = true;
                2
            }
            ("client_max_window_bits", None) => 3,
            ("client_max_window_bits", Some(bits)) => {
                window_bits(bits)?;
                3
            }
            _ => return None,
        };
        if std::mem::replace(&mut seen[index], true) {
            return None;
        }
    }
    Some(agreement)
}

/// A window size in bits: 8 to 15, digits only.
fn window_bits(value: &str) -> Option<u8> {
    if !value.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    value.parse().ok().filter(|bits| (8..=15).contains(bits))
}

/// A parameter value, its quotes (a quoted-string) removed.
fn unquote(value: &str) -> Option<&str> {
    match value.strip_prefix('"') {
        Some(rest) => rest.strip_suffix('"'),
        None => Some(value),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BOTH: &str = "permessage-deflate; server_no_context_takeover; client_no_context_takeover";

    fn answer(headers: &[&str]) -> Option<String> {
        negotiate(headers.iter().copied()).map(|a| a.response())
    }

    #[test]
    fn what_browsers_and_node_ws_offer() {
        // Chrome, Firefox and Node's `ws` (socket.io-client's transport).
        for offer in [
            "permessage-deflate; client_max_window_bits",
            "permessage-deflate",
            "PerMessage-Deflate ;client_max_window_bits=15",
        ] {
            assert_eq!(answer(&[offer]).as_deref(), Some(BOTH), "{offer}");
        }
    }

    #[test]
    fn the_parameter_matrix() {
        let with_bits = format!("{BOTH}; server_max_window_bits=15");
        let cases: &[(&str, Option<&str>)] = &[
            ("permessage-deflate; server_no_context_takeover", Some(BOTH)),
            ("permessage-deflate; client_no_context_takeover", Some(BOTH)),
            (
                "permessage-deflate; server_max_window_bits=15",
                Some(&with_bits),
            ),
            (
                "permessage-deflate; server_max_window_bits=\"15\"",
                Some(&with_bits),
            ),
            ("permessage-deflate; client_max_window_bits=8", Some(BOTH)),
            // A smaller server window than miniz can keep to.
            ("permessage-deflate; server_max_window_bits=10", None),
            ("permessage-deflate; server_max_window_bits=8", None),
            // Malformed or unknown parameters, repeats.
            ("permessage-deflate; server_max_window_bits", None),
            ("permessage-deflate; server_max_window_bits=16", None),
            ("permessage-deflate; client_max_window_bits=7", None),
            ("permessage-deflate; client_max_window_bits=+9", None),
            ("permessage-deflate; server_no_context_takeover=1", None),
            ("permessage-deflate; x=1", None),
            (
                "permessage-deflate; client_no_context_takeover; client_no_context_takeover",
                None,
            ),
            ("x-webkit-deflate-frame", None),
            ("", None),
        ];
        for (offer, want) in cases {
            assert_eq!(answer(&[offer]).as_deref(), *want, "{offer}");
        }
    }

    #[test]
    fn the_first_acceptable_offer_wins() {
        let offers = "permessage-deflate; server_max_window_bits=8, \
                      foo, permessage-deflate; server_max_window_bits=15, permessage-deflate";
        let want = format!("{BOTH}; server_max_window_bits=15");
        assert_eq!(answer(&[offers]), Some(want));
        // Offers spread over several header lines.
        assert_eq!(
            answer(&["x-foo", "permessage-deflate; x=1", "permessage-deflate"]).as_deref(),
            Some(BOTH)
        );
        assert_eq!(answer(&[]), None);
    }
}
