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
        formatter.format(&record.view(), &mut line);
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

/// Format strings come from config files and command lines: whatever they hold, building a formatter
/// returns `Ok` or `Err` and formatting never panics. Deterministic mutations of the vector formats.
#[test]
fn mutated_formats_never_panic() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../spec/vectors/format.json");
    let doc: Value =
        serde_json::from_str(&std::fs::read_to_string(path).expect("read")).expect("json");
    let cases = doc["cases"].as_array().expect("cases");
    let mut record = decode_frame(
        &serde_json::to_vec(&cases[0]["record"]).expect("record"),
        &DecodeLimits::default(),
    )
    .expect("decodes");
    record.push_extra("user", serde_json::json!({"k": [1, 2.5, null]}));
    record.exc_text = Some("Traceback: x".into());
    const BITS: &[&str] = &[
        "%",
        "(",
        ")",
        "{",
        "}",
        "$",
        "!",
        ":",
        ".",
        "*",
        "-",
        "0",
        "9",
        "99999999999999999999",
        "é",
        "😀",
        "%(",
        "%(name",
        "{name",
        "${",
        "$$",
        "%%",
        ":<",
        "!r",
        "s",
        "d",
        "f",
        "x",
        "%-",
        "%Z",
        "%-d",
        "%c",
    ];
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut rand = |n: usize| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state % n as u64) as usize
    };
    let styles = [Style::Percent, Style::Brace, Style::Dollar];
    let (mut built, mut refused) = (0, 0);
    for _ in 0..4000 {
        let case = &cases[rand(cases.len())];
        let mut fmt: Vec<char> = case["fmt"].as_str().expect("fmt").chars().collect();
        let mut datefmt: Vec<char> = case["datefmt"]
            .as_str()
            .unwrap_or("%Y %H")
            .chars()
            .collect();
        for _ in 0..1 + rand(3) {
            let target = if rand(3) == 0 { &mut datefmt } else { &mut fmt };
            let at = rand(target.len() + 1);
            match rand(3) {
                0 => target
                    .splice(at..at, BITS[rand(BITS.len())].chars())
                    .for_each(drop),
                1 if at < target.len() => {
                    target.remove(at);
                }
                _ => target.truncate(at),
            }
        }
        let fmt: String = fmt.into_iter().collect();
        let datefmt: String = datefmt.into_iter().collect();
        let style = styles[rand(3)];
        match Formatter::new_with_style(&fmt, style).and_then(|f| f.with_datefmt(Some(&datefmt))) {
            Ok(f) => {
                built += 1;
                for utc in [true, false] {
                    let f = f.clone().with_utc(utc);
                    let line = f.format_to_string(&record.view());
                    assert!(line.ends_with("Traceback: x"), "{fmt:?} gave {line:?}");
                }
            }
            Err(e) => {
                refused += 1;
                assert!(!e.to_string().is_empty());
            }
        }
    }
    assert!(
        built > 100 && refused > 100,
        "built {built}, refused {refused}"
    );
}
