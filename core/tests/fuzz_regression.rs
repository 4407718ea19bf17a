//! Stable-toolchain stand-in for the fuzzer (`core/fuzz`): replays the committed corpus
//! (`spec/vectors/fuzz-corpus/`) and twenty thousand deterministic mutations of the shared vectors'
//! frames through `decode_frames`, with the fuzz target's checks: never panic, and a decoded record
//! re-encodes to a frame that decodes to the same JSON.

mod fuzz_input;

use logfunnel_core::decode::{decode_frame, decode_frames, DecodeLimits};
use serde_json::Value;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::PathBuf;

fn spec_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../spec/vectors")
}

/// Replays one input the way the fuzz target reads it.
fn run_input(data: &[u8]) {
    let Some((frames, limits)) = fuzz_input::split(data) else {
        return;
    };
    check(&frames, &limits);
}

fn check(frames: &[&[u8]], limits: &DecodeLimits) {
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        if let Ok(record) = decode_frames(frames, limits) {
            let json = record.to_json();
            let again = decode_frame(json.as_bytes(), &DecodeLimits::default())
                .unwrap_or_else(|e| panic!("re-encoded record does not decode ({e}): {json}"));
            assert_eq!(again.to_json(), json, "decoding is not idempotent");
        }
    }));
    if let Err(panic) = outcome {
        let hex: Vec<String> = frames
            .iter()
            .map(|f| f.iter().map(|b| format!("{b:02x}")).collect())
            .collect();
        panic!("decode failed on frames (hex) {hex:?}: {panic:?}");
    }
}

#[test]
fn committed_corpus_never_panics() {
    let dir = spec_dir().join("fuzz-corpus");
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).expect("spec/vectors/fuzz-corpus exists") {
        let path = entry.expect("dir entry").path();
        if path.extension().is_some_and(|e| e == "md") {
            continue;
        }
        run_input(&std::fs::read(&path).expect("read corpus file"));
        n += 1;
    }
    assert!(n >= 10, "only {n} corpus files");
}

/// xorshift64*: deterministic, no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Bytes that steer a JSON parser into its corners.
const TOKENS: &[&[u8]] = &[
    b"{",
    b"}",
    b"[",
    b"]",
    b"\"",
    b"\\",
    b":",
    b",",
    b"\\u0000",
    b"\\ud83d",
    b"\\udc00",
    b"null",
    b"true",
    b"1e999",
    b"-0",
    b"18446744073709551616",
    b"0.1e-400",
    b"\xff",
    b"\xc0\xaf",
    b"\xed\xa0\x80",
    b"\xf0\x9f\x98",
    b"%",
    b"%(",
    b"%*d",
    b"%.999999999f",
    b"\"v\":1",
    b"\"v\":2",
    b"\"args\":[1,2]",
    b"\"args\":{\"a\":1}",
    b"\"msg\":\"%s %d %r\"",
    b"\"levelno\":20.5",
    b"\"seq\":-1",
    b".INFO.",
    b".WARN",
    b"\n",
];

fn mutate(rng: &mut Rng, input: &[u8]) -> Vec<u8> {
    let mut out = input.to_vec();
    for _ in 0..1 + rng.below(4) {
        let len = out.len();
        match rng.below(7) {
            0 if len > 0 => {
                let i = rng.below(len);
                out[i] ^= 1 << rng.below(8);
            }
            1 => {
                let t = TOKENS[rng.below(TOKENS.len())];
                let i = rng.below(len + 1);
                out.splice(i..i, t.iter().copied());
            }
            2 if len > 0 => {
                let i = rng.below(len);
                let j = (i + 1 + rng.below(16)).min(len);
                out.drain(i..j);
            }
            3 if len > 0 => {
                out.truncate(rng.below(len));
            }
            4 if len > 0 => {
                let i = rng.below(len);
                let j = (i + 1 + rng.below(64)).min(len);
                let copy = out[i..j].to_vec();
                let at = rng.below(out.len() + 1);
                out.splice(at..at, copy);
            }
            5 if len > 0 => {
                let i = rng.below(len);
                out[i] = rng.next() as u8;
            }
            _ => {
                let t = TOKENS[rng.below(TOKENS.len())];
                out.extend_from_slice(t);
            }
        }
    }
    out
}

/// The shared vectors' small frames, as seeds.
fn seeds() -> Vec<Vec<Vec<u8>>> {
    let text = std::fs::read_to_string(spec_dir().join("decode.json")).expect("decode.json");
    let doc: Value = serde_json::from_str(&text).expect("decode.json is JSON");
    let mut out = Vec::new();
    for case in doc["cases"].as_array().expect("cases") {
        let mut frames = Vec::new();
        for f in case["frames"].as_array().expect("frames") {
            // Only plain text frames: the big `repeat`-built ones would make this test slow.
            match f.get("text").and_then(Value::as_str) {
                Some(t) => frames.push(t.as_bytes().to_vec()),
                None => frames.clear(),
            }
        }
        if !frames.is_empty() {
            out.push(frames);
        }
    }
    out
}

#[test]
fn mutated_vectors_never_panic() {
    let seeds = seeds();
    assert!(seeds.len() > 50);
    let mut rng = Rng(0x5eed_1f00_d00d_cafe);
    let limits = [
        DecodeLimits::default(),
        DecodeLimits {
            max_depth: 3,
            max_frame_bytes: 256,
        },
    ];
    for round in 0..20_000 {
        let seed = &seeds[rng.below(seeds.len())];
        let mut frames: Vec<Vec<u8>> = seed.iter().map(|f| mutate(&mut rng, f)).collect();
        if rng.below(20) == 0 {
            frames.push(mutate(&mut rng, b"app.INFO"));
        }
        let refs: Vec<&[u8]> = frames.iter().map(Vec::as_slice).collect();
        check(&refs, &limits[round % 2]);
    }
}
