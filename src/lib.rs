//! What the `wirehub` binary and its examples share.
//!
//! - [`adapters`]: the cluster adapter a URL names (`memory`, `redis://`,
//!   `redis-sharded://`, `redis-streams://`, `nats://`).

pub mod adapters;
