//! Fuzzes `decode_frames` with 1 to 3 frames. Besides "never panics", it checks that decoding is
//! idempotent: a decoded record, written with `to_json` and decoded again, writes the same JSON.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../../tests/fuzz_input/mod.rs"]
mod fuzz_input;
use logfunnel_core::decode::{decode_frame, decode_frames, DecodeLimits};

fuzz_target!(|data: &[u8]| {
    let Some((frames, limits)) = fuzz_input::split(data) else {
        return;
    };
    if let Ok(record) = decode_frames(&frames, &limits) {
        let json = record.to_json();
        let again = decode_frame(json.as_bytes(), &DecodeLimits::default())
            .expect("a decoded record re-encodes to a valid v1 frame");
        assert_eq!(again.to_json(), json, "decoding is not idempotent");
    }
});
