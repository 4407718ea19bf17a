//! The fuzz target's input encoding, shared by `core/fuzz` and the stable replay test so both read a
//! corpus file the same way: the first byte's low two bits are the frame count (0 means 1), bit 2
//! asks for a small depth limit, and the rest is split evenly into the frames.

use logfunnel_core::decode::DecodeLimits;

/// Splits one fuzzer input into frames and limits; `None` for an empty input.
pub fn split(data: &[u8]) -> Option<(Vec<&[u8]>, DecodeLimits)> {
    let (&head, body) = data.split_first()?;
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
    Some((frames, limits))
}
