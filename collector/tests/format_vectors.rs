//! Checks the formatter against `spec/vectors/format.json`, whose expected lines were made by
//! Python's own `logging.Formatter` (in UTC). Format: `spec/vectors/README.md`.

use logfunnel_collector::format::{Formatter, Style};
use logfunnel_core::decode::{decode_frame, DecodeLimits};
use serde_json::Value;
use std::path::PathBuf;

#[test]
fn every_format_vector_matches_python() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../spec/vectors/format.json");
    let text = std::fs::read_to_string(&path).expect("read format.json");
    let doc: Value = serde_json::from_str(&text).expect("format.json is JSON");
    let cases = doc["cases"].as_array().expect("cases");
    assert!(cases.len() >= 30, "only {} cases", cases.len());
    let mut failures = Vec::new();
    for case in cases {
        let name = case["name"].as_str().unwrap_or("?");
        let frame = serde_json::to_vec(&case["record"]).expect("record serializes");
        let record = decode_frame(&frame, &DecodeLimits::default())
            .unwrap_or_else(|e| panic!("{name}: record does not decode: {e}"));
        let style = match case["style"].as_str().unwrap_or("%") {
            "%" => Style::Percent,
            "{" => Style::Brace,
            "$" => Style::Dollar,
            other => panic!("{name}: unknown style {other}"),
        };
        let fmt = case["fmt"].as_str().expect("fmt");
        let formatter = Formatter::new_with_style(fmt, style)
            .and_then(|f| f.with_datefmt(case["datefmt"].as_str()))
            .map(|f| f.with_utc(true));
        let formatter = match formatter {
            Ok(f) => f,
            Err(e) => {
                failures.push(format!("{name}: {e}"));
                continue;
            }
        };
        let mut line = String::from("prefix that must stay:");
        formatter.format(&record, &mut line);
        let got = line
            .strip_prefix("prefix that must stay:")
            .expect("format appends");
        let want = case["expected"].as_str().expect("expected");
        if got != want {
            failures.push(format!(
                "{name}:\n   fmt {fmt:?}\n  want {want:?}\n   got {got:?}"
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases differ from Python:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}
