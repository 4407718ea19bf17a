//! Fuzzes `decode_frames` with 1 to 3 frames. Besides "never panics", it checks that decoding is
//! idempotent: a decoded record, written with `to_json` and decoded again, writes the same JSON.
#![no_main]

use libfuzzer_sys::fuzz_target;
use logfunnel_core::decode::{decode_frame, decode_frames, DecodeLimits};

fuzz_target!(|data: &[u8]| {
    // First byte: frame count (low two bits, 0 and 1 both mean one frame); the rest is split evenly.
    let Some((&head, body)) = data.split_first() else {
        return;
    };
    let count = ((head & 3) as usize).max(1);
    let chunk = body.len().div_ceil(count).max(1);
    let mut frames: Vec<&[u8]> = body.chunks(chunk).collect();
    frames.resize(count, &[]);
    let limits = DecodeLimits {
        max_depth: if head & 4 != 0 {
            8
        } else {
            DecodeLimits::default().max_depth
        },
        ..DecodeLimits::default()
    };
    if let Ok(record) = decode_frames(&frames, &limits) {
        let json = record.to_json();
        let again = decode_frame(json.as_bytes(), &DecodeLimits::default())
            .expect("a decoded record re-encodes to a valid v1 frame");
        assert_eq!(again.to_json(), json, "decoding is not idempotent");
    }
});
