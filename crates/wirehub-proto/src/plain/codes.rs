//! Every error `code` of the plain transports, in one place: the ones the
//! envelope parser produces ([`super::EnvelopeError::code`]), the ones a
//! server puts in `error` envelopes on its own, and those of the JSON
//! error bodies of its HTTP endpoints (`{"error":{"code":..}}`).

/// The message is not valid UTF-8 or not valid JSON.
pub const BAD_JSON: &str = "bad_json";
/// Valid JSON, but not an object with a string `type`.
pub const BAD_ENVELOPE: &str = "bad_envelope";
/// The `type` is not one this protocol version knows.
pub const UNKNOWN_TYPE: &str = "unknown_type";
/// A field has the wrong type or breaks a limit.
pub const BAD_FIELD: &str = "bad_field";
/// The event name is reserved (`connect`, `disconnect`, ...).
pub const RESERVED_EVENT: &str = "reserved_event";
/// The message (line, datagram, body) is larger than the server accepts.
pub const TOO_LARGE: &str = "too_large";
/// The request is valid but this client may not make it.
pub const NOT_ALLOWED: &str = "not_allowed";
/// The namespace does not exist on the server.
pub const UNKNOWN_NAMESPACE: &str = "unknown_namespace";
/// The namespace's connect handler refused the client (e.g. bad auth).
pub const CONNECT_REFUSED: &str = "connect_refused";
/// An HTTP request is malformed (query parameters, missing upgrade, ...).
pub const BAD_REQUEST: &str = "bad_request";
/// A bearer token or API key is missing or wrong.
pub const UNAUTHORIZED: &str = "unauthorized";
/// No such HTTP route, room or client.
pub const NOT_FOUND: &str = "not_found";
/// The HTTP API is switched off (the server has no API key).
pub const API_DISABLED: &str = "api_disabled";
/// The client sent nothing for the idle timeout (TCP, UDP).
pub const IDLE_TIMEOUT: &str = "idle_timeout";
/// The cluster could not take a publish (its engine is unreachable).
pub const UNAVAILABLE: &str = "unavailable";
/// The server holds as many connections as it allows (`--max-connections`).
pub const TOO_MANY_CONNECTIONS: &str = "too_many_connections";
/// The client's address holds as many connections as the server allows
/// per address (`--max-connections-per-ip`).
pub const TOO_MANY_CONNECTIONS_PER_IP: &str = "too_many_connections_per_ip";
/// The client sent events faster than the server allows for too long
/// (`--max-event-rate`); the connection is closed.
pub const RATE_LIMITED: &str = "rate_limited";
/// A join would put the socket in more rooms than the server allows
/// (`--max-rooms-per-socket`); nothing was joined.
pub const TOO_MANY_ROOMS: &str = "too_many_rooms";
/// The connection is in as many namespaces as the server allows
/// (`--max-namespaces-per-connection`).
pub const TOO_MANY_NAMESPACES: &str = "too_many_namespaces";
