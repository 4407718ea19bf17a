//! Runs every case of `spec/vectors/decode.json` (the vectors the Python, C and Java tests share)
//! through `decode_frames`. Format: `spec/vectors/README.md`.

use logfunnel_core::decode::{decode_frames, DecodeLimits};
use serde_json::Value;
use std::path::PathBuf;

fn vectors_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../spec/vectors")
}

fn hex(s: &str) -> Vec<u8> {
    assert!(s.len() % 2 == 0, "odd hex length");
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex digit"))
        .collect()
}

/// Builds one frame from its piece (`text`, `hex`, `repeat`+`count`) or `concat` of pieces.
fn build_frame(spec: &Value) -> Vec<u8> {
    if let Some(parts) = spec.get("concat") {
        return parts
            .as_array()
            .expect("concat is a list")
            .iter()
            .flat_map(build_frame)
            .collect();
    }
    if let Some(t) = spec.get("text") {
        return t.as_str().expect("text is a string").as_bytes().to_vec();
    }
    if let Some(h) = spec.get("hex") {
        return hex(h.as_str().expect("hex is a string"));
    }
    if let Some(r) = spec.get("repeat") {
        let count = spec["count"].as_u64().expect("count") as usize;
        return r
            .as_str()
            .expect("repeat is a string")
            .repeat(count)
            .into_bytes();
    }
    panic!("unknown frame piece: {spec}");
}

/// JSON equality where numbers compare by value (`1` equals `1.0`).
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            match (x.as_i64(), y.as_i64(), x.as_u64(), y.as_u64()) {
                (Some(p), Some(q), _, _) => p == q,
                (_, _, Some(p), Some(q)) => p == q,
                _ => x.as_f64() == y.as_f64(),
            }
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| same(p, q))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w)))
        }
        _ => a == b,
    }
}

fn check_case(case: &Value, limits: &DecodeLimits) -> Result<(), String> {
    let frames: Vec<Vec<u8>> = case["frames"]
        .as_array()
        .ok_or("frames is not a list")?
        .iter()
        .map(build_frame)
        .collect();
    let refs: Vec<&[u8]> = frames.iter().map(Vec::as_slice).collect();
    let result = decode_frames(&refs, limits);
    let expect = &case["expect"];
    if let Some(reason) = expect.get("error") {
        return match result {
            Err(e) if e.reason() == reason => {
                assert!(!e.to_string().is_empty());
                Ok(())
            }
            Err(e) => Err(format!("expected error {reason}, got {} ({e})", e.reason())),
            Ok(r) => Err(format!("expected error {reason}, decoded {}", r.to_json())),
        };
    }
    let record = result.map_err(|e| format!("expected a record, got {} ({e})", e.reason()))?;
    let json = record.to_json();
    let got: Value = serde_json::from_str(&json).map_err(|e| e.to_string())?;
    let got = got.as_object().ok_or("to_json is not an object")?;
    for (key, want) in expect["record"]
        .as_object()
        .ok_or("record is not an object")?
    {
        match got.get(key) {
            Some(v) if same(v, want) => {}
            Some(v) => return Err(format!("{key}: expected {want}, got {v} in {json}")),
            None => return Err(format!("{key}: missing in {json}")),
        }
    }
    for (list, want_present) in [("absent", false), ("present", true)] {
        for key in expect
            .get(list)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let key = key
                .as_str()
                .ok_or_else(|| format!("{list} holds strings"))?;
            if got.contains_key(key) != want_present {
                return Err(format!("{key} should be {list} in {json}"));
            }
        }
    }
    if let Some(keys) = expect.get("keys").and_then(Value::as_array) {
        let want: Vec<&str> = keys.iter().filter_map(Value::as_str).collect();
        let have: Vec<&str> = got.keys().map(String::as_str).collect();
        if want != have {
            return Err(format!("key order: expected {want:?}, got {have:?}"));
        }
    }
    Ok(())
}

#[test]
fn every_decode_vector_gives_its_expected_result() {
    let text =
        std::fs::read_to_string(vectors_dir().join("decode.json")).expect("read decode.json");
    let doc: Value = serde_json::from_str(&text).expect("decode.json is JSON");
    let limits = DecodeLimits::default();
    assert_eq!(
        doc["limits"]["max_frame_bytes"],
        limits.max_frame_bytes as u64
    );
    assert_eq!(doc["limits"]["max_depth"], limits.max_depth as u64);
    let cases = doc["cases"].as_array().expect("cases");
    assert!(cases.len() >= 40, "only {} cases", cases.len());
    let mut failures = Vec::new();
    for case in cases {
        let name = case["name"].as_str().unwrap_or("?");
        if let Err(why) = check_case(case, &limits) {
            failures.push(format!("{name}: {why}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} vectors failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

#[test]
fn every_reason_code_has_a_vector() {
    let text =
        std::fs::read_to_string(vectors_dir().join("decode.json")).expect("read decode.json");
    let doc: Value = serde_json::from_str(&text).expect("decode.json is JSON");
    let used: Vec<&str> = doc["cases"]
        .as_array()
        .expect("cases")
        .iter()
        .filter_map(|c| c["expect"].get("error").and_then(Value::as_str))
        .collect();
    for reason in logfunnel_core::DecodeError::REASONS {
        assert!(used.contains(reason), "no vector for reason {reason}");
    }
    for reason in &used {
        assert!(
            logfunnel_core::DecodeError::REASONS.contains(reason),
            "unknown reason {reason}"
        );
    }
}

#[test]
fn percent_engine_matches_python() {
    use logfunnel_core::pyfmt::percent::merge;
    let text =
        std::fs::read_to_string(vectors_dir().join("percent.json")).expect("read percent.json");
    let doc: Value = serde_json::from_str(&text).expect("percent.json is JSON");
    let cases = doc["cases"].as_array().expect("cases");
    let mut failures = Vec::new();
    for case in cases {
        let fmt = case["fmt"].as_str().expect("fmt");
        let got = merge(fmt, &case["args"]);
        match (case.get("expected").and_then(Value::as_str), &got) {
            (Some(want), Ok(s)) if s == want => {}
            (None, Err(_)) => {}
            (want, _) => failures.push(format!(
                "{fmt} % {}: want {want:?}, got {got:?}",
                case["args"]
            )),
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} differ from Python:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}
