#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| wirehub_proto::fuzz_checks::socketio_msgpack(data));
