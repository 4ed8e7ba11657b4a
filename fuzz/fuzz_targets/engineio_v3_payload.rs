#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| wirehub_proto::fuzz_checks::engineio_v3_payload(data));
