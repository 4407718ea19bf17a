//! The otlp sink's mapping against the shared vectors (`spec/vectors/otlp.json`).

mod otlp_support;

use logfunnel_collector::sink::otlp::batch::build_request;
use logfunnel_collector::sink::otlp::mapping::map_record;
use otlp_support::{check_expect, decode, key_values, log_record_json, vectors};

#[test]
fn every_vector_maps_as_expected() {
    let doc = vectors();
    let service = doc["service_name"].as_str().unwrap();
    let cases = doc["cases"].as_array().unwrap();
    assert!(cases.len() >= 10);
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let view = decode(&case["record"]);
        let mapped = map_record(&view, service, 77);
        assert_eq!(mapped.record.observed_time_unix_nano, 77, "{name}");
        // Through the request builder, so the resource is checked as it is sent.
        let request = build_request(vec![mapped]);
        let resource = &request.resource_logs[0];
        let attributes = key_values(&resource.resource.as_ref().unwrap().attributes);
        let record = log_record_json(&resource.scope_logs[0].log_records[0]);
        check_expect(name, &case["expect"], &record, &attributes);
    }
}
