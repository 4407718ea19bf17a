//! Helpers for the otlp sink's tests: the shared mapping vectors and their checker, OTLP's JSON
//! form of decoded protobuf, a real OpenTelemetry Collector process ([`otelcol`]), a tiny scripted
//! HTTP peer for status codes a Collector cannot be made to answer ([`peer`]), and certificates.
#![allow(dead_code)]

pub mod otelcol;
pub mod peer;
pub mod tls;

use logfunnel_core::{decode_view, DecodeLimits, RecordView};
use opentelemetry_proto::tonic::common::v1::{any_value, AnyValue, KeyValue};
use opentelemetry_proto::tonic::logs::v1::LogRecord;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// `spec/vectors/otlp.json`.
pub fn vectors() -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../spec/vectors/otlp.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// A vector's record as the decoder sees it off the wire.
pub fn decode(record: &Value) -> RecordView<'static> {
    let text = serde_json::to_string(record).unwrap().into_bytes().leak();
    decode_view(&[&*text], &DecodeLimits::default()).unwrap()
}

/// OTLP's JSON form of an attribute list: `[{"key": k, "value": {...}}]`.
pub fn key_values(kvs: &[KeyValue]) -> Value {
    Value::Array(
        kvs.iter()
            .map(|kv| json!({"key": kv.key, "value": kv.value.as_ref().map_or(json!({}), any_value_json)}))
            .collect(),
    )
}

/// OTLP's JSON form of an `AnyValue`.
pub fn any_value_json(v: &AnyValue) -> Value {
    use any_value::Value as V;
    match &v.value {
        None => json!({}),
        Some(V::StringValue(s)) => json!({"stringValue": s}),
        Some(V::BoolValue(b)) => json!({"boolValue": b}),
        Some(V::IntValue(i)) => json!({"intValue": i.to_string()}),
        Some(V::DoubleValue(d)) => json!({"doubleValue": d}),
        Some(V::ArrayValue(a)) => {
            json!({"arrayValue": {"values": a.values.iter().map(any_value_json).collect::<Vec<_>>()}})
        }
        Some(V::KvlistValue(l)) => json!({"kvlistValue": {"values": key_values(&l.values)}}),
        Some(V::BytesValue(b)) => json!({"bytesValue": format!("{b:?}")}),
        Some(V::StringValueStrindex(i)) => json!({"stringValueStrindex": i}),
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// OTLP's JSON form of a `LogRecord` (defaults left out, as a Collector writes it).
pub fn log_record_json(r: &LogRecord) -> Value {
    let mut out = serde_json::Map::new();
    if r.time_unix_nano != 0 {
        out.insert("timeUnixNano".into(), json!(r.time_unix_nano.to_string()));
    }
    if r.observed_time_unix_nano != 0 {
        out.insert(
            "observedTimeUnixNano".into(),
            json!(r.observed_time_unix_nano.to_string()),
        );
    }
    if r.severity_number != 0 {
        out.insert("severityNumber".into(), json!(r.severity_number));
    }
    if !r.severity_text.is_empty() {
        out.insert("severityText".into(), json!(r.severity_text));
    }
    if let Some(body) = &r.body {
        out.insert("body".into(), any_value_json(body));
    }
    if !r.attributes.is_empty() {
        out.insert("attributes".into(), key_values(&r.attributes));
    }
    if r.flags != 0 {
        out.insert("flags".into(), json!(r.flags));
    }
    if !r.trace_id.is_empty() {
        out.insert("traceId".into(), json!(hex(&r.trace_id)));
    }
    if !r.span_id.is_empty() {
        out.insert("spanId".into(), json!(hex(&r.span_id)));
    }
    Value::Object(out)
}

/// An attribute list in OTLP JSON as a map from key to value, checking keys are unique.
pub fn attribute_map(list: &Value) -> serde_json::Map<String, Value> {
    let mut map = serde_json::Map::new();
    for kv in list.as_array().into_iter().flatten() {
        let key = kv["key"].as_str().unwrap().to_string();
        let prev = map.insert(key.clone(), kv.get("value").cloned().unwrap_or(json!({})));
        assert!(prev.is_none(), "attribute {key} twice");
    }
    map
}

/// Values equal the way OTLP JSON means them: numbers by value, objects without regard to order.
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| same(p, q))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w)))
        }
        _ => a == b,
    }
}

/// Checks one record (OTLP JSON) and its resource's attribute list against a vector's `expect`.
pub fn check_expect(case: &str, expect: &Value, record: &Value, resource_attributes: &Value) {
    let defaults = json!({"timeUnixNano": "0", "severityNumber": 0, "severityText": "", "body": {},
                          "traceId": "", "spanId": "", "flags": 0});
    for (field, want) in expect.as_object().unwrap() {
        match field.as_str() {
            "resource" => {
                let got = Value::Object(attribute_map(resource_attributes));
                assert!(same(&got, want), "{case}: resource {got} != {want}");
            }
            "attributes" => {
                let got = attribute_map(&record["attributes"]);
                for (k, v) in want.as_object().unwrap() {
                    let g = got
                        .get(k)
                        .unwrap_or_else(|| panic!("{case}: attribute {k} missing in {got:?}"));
                    assert!(same(g, v), "{case}: attribute {k}: {g} != {v}");
                }
            }
            "absent_attributes" => {
                let got = attribute_map(&record["attributes"]);
                for k in want.as_array().unwrap() {
                    assert!(
                        !got.contains_key(k.as_str().unwrap()),
                        "{case}: attribute {k} present"
                    );
                }
            }
            "attribute_count" => {
                assert_eq!(
                    attribute_map(&record["attributes"]).len() as u64,
                    want.as_u64().unwrap(),
                    "{case}"
                );
            }
            name => {
                let got = record.get(name).unwrap_or(&defaults[name]);
                assert!(
                    !defaults[name].is_null(),
                    "{case}: unknown expectation {name}"
                );
                assert!(same(got, want), "{case}: {name} {got} != {want}");
            }
        }
    }
}

/// Polls `f` every 20 ms until it returns `Some` or `timeout` passes (then panics with `what`).
pub fn wait_for<T>(what: &str, timeout: Duration, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// How many times each body text arrived, of (resource, record) pairs from the Collector.
pub fn body_counts(records: &[(Value, Value)]) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for (_, r) in records {
        *counts.entry(body(r).to_string()).or_insert(0) += 1;
    }
    counts
}

/// The body texts in the order they arrived.
pub fn bodies(records: &[(Value, Value)]) -> Vec<&str> {
    records.iter().map(|(_, r)| body(r)).collect()
}

fn body(record: &Value) -> &str {
    record["body"]["stringValue"].as_str().unwrap()
}
