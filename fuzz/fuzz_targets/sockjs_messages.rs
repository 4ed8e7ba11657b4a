#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| wirehub_proto::fuzz_checks::sockjs_messages(data));
