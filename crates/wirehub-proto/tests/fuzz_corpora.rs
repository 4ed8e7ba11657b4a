//! Replays the fuzz corpora on the stable toolchain: every file under
//! `fuzz/seeds/<target>/` and `fuzz/regressions/<target>/` goes through the
//! matching `wirehub_proto::fuzz_checks` harness, so the seeds and every
//! input that once crashed a decoder stay checked by the normal test run.
//!
//! A target without seeds, an empty directory, or a directory named after
//! no target fails the test, so it cannot pass by replaying nothing.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use wirehub_proto::fuzz_checks;

/// A harness of `fuzz_checks`: panics only on a bug.
type Harness = fn(&[u8]);

/// Every fuzz target: its directory name and its harness.
const TARGETS: &[(&str, Harness)] = &[
    ("engineio_packet", fuzz_checks::engineio_packet),
    ("engineio_payload", fuzz_checks::engineio_payload),
    ("engineio_v3_payload", fuzz_checks::engineio_v3_payload),
    ("socketio_packet", fuzz_checks::socketio_packet),
    ("socketio_msgpack", fuzz_checks::socketio_msgpack),
    ("websocket_frames", fuzz_checks::websocket_frames),
    ("plain_envelope", fuzz_checks::plain_envelope),
    ("ndjson_lines", fuzz_checks::ndjson_lines),
    ("sse_parser", fuzz_checks::sse_parser),
    ("handshake_query", fuzz_checks::handshake_query),
    ("sockjs_messages", fuzz_checks::sockjs_messages),
];

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz")
}

/// The files of `dir`, sorted; panics if it is missing or holds none.
fn files(dir: &Path) -> Vec<PathBuf> {
    let entries = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("corpus directory {} unreadable: {e}", dir.display()));
    let mut files: Vec<PathBuf> = entries
        .map(|entry| entry.expect("directory entry").path())
        .filter(|path| path.is_file())
        .collect();
    assert!(
        !files.is_empty(),
        "corpus directory {} is empty",
        dir.display()
    );
    files.sort();
    files
}

/// Runs `check` on every file of `dir`; panics naming each file that panicked.
fn replay(dir: &Path, check: Harness) {
    let mut failed = Vec::new();
    for file in files(dir) {
        let data = std::fs::read(&file).expect("readable corpus file");
        if catch_unwind(AssertUnwindSafe(|| check(&data))).is_err() {
            failed.push(file.display().to_string());
        }
    }
    assert!(
        failed.is_empty(),
        "harness panicked on: {}",
        failed.join(", ")
    );
}

/// The subdirectories of `dir` (`fuzz/seeds` or `fuzz/regressions`), each
/// of which must be named after a target.
fn target_dirs(dir: &Path) -> Vec<String> {
    let entries = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("directory {} unreadable: {e}", dir.display()));
    let names: Vec<String> = entries
        .map(|entry| entry.expect("directory entry").path())
        .filter(|path| path.is_dir())
        .map(|path| path.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    for name in &names {
        assert!(
            TARGETS.iter().any(|(target, _)| target == name),
            "{}/{name} is named after no fuzz target",
            dir.display()
        );
    }
    names
}

/// Replays one target's seeds (required) and regressions (once a crash
/// was found for it).
fn target(name: &str) {
    let (_, check) = TARGETS
        .iter()
        .find(|(target, _)| *target == name)
        .expect("a known target");
    replay(&fuzz_dir().join("seeds").join(name), *check);
    let regressions = fuzz_dir().join("regressions").join(name);
    if regressions.exists() {
        replay(&regressions, *check);
    }
}

#[test]
fn every_target_has_seeds_and_no_stray_directory() {
    let seeds = target_dirs(&fuzz_dir().join("seeds"));
    for (name, _) in TARGETS {
        assert!(seeds.iter().any(|s| s == name), "fuzz/seeds/{name} missing");
    }
    target_dirs(&fuzz_dir().join("regressions"));
}

#[test]
fn engineio_packet() {
    target("engineio_packet");
}

#[test]
fn engineio_payload() {
    target("engineio_payload");
}

#[test]
fn engineio_v3_payload() {
    target("engineio_v3_payload");
}

#[test]
fn socketio_packet() {
    target("socketio_packet");
}

#[test]
fn socketio_msgpack() {
    target("socketio_msgpack");
}

#[test]
fn websocket_frames() {
    target("websocket_frames");
}

#[test]
fn plain_envelope() {
    target("plain_envelope");
}

#[test]
fn ndjson_lines() {
    target("ndjson_lines");
}

#[test]
fn sse_parser() {
    target("sse_parser");
}

#[test]
fn handshake_query() {
    target("handshake_query");
}

#[test]
fn sockjs_messages() {
    target("sockjs_messages");
}
