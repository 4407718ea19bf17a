//! A batch of mapped records as one `ExportLogsServiceRequest`: records grouped by resource (in
//! the order each resource first appears), one scope naming logfunnel.

use super::mapping::{MappedRecord, ResourceKey};
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::common::v1::InstrumentationScope;
use opentelemetry_proto::tonic::logs::v1::{ResourceLogs, ScopeLogs};
use opentelemetry_proto::tonic::resource::v1::Resource;
use prost::Message;

/// The instrumentation scope every forwarded record is sent under.
pub const SCOPE_NAME: &str = "logfunnel";

/// The request holding `records`, in their order within each resource.
pub fn build_request(records: Vec<MappedRecord>) -> ExportLogsServiceRequest {
    let mut groups: Vec<(ResourceKey, ScopeLogs)> = Vec::new();
    for MappedRecord { resource, record } in records {
        // Few resources per batch (one per sending process), so a linear search is the fast one.
        let slot = match groups.iter().position(|(k, _)| *k == resource) {
            Some(i) => i,
            None => {
                groups.push((resource, scope_logs()));
                groups.len() - 1
            }
        };
        groups[slot].1.log_records.push(record);
    }
    ExportLogsServiceRequest {
        resource_logs: groups
            .into_iter()
            .map(|(key, scope)| ResourceLogs {
                resource: Some(Resource {
                    attributes: key.attributes(),
                    ..Resource::default()
                }),
                scope_logs: vec![scope],
                ..ResourceLogs::default()
            })
            .collect(),
    }
}

/// What a record adds to a request's encoded size, for `batch_max_bytes`.
pub fn encoded_len(record: &MappedRecord) -> usize {
    // The record's own bytes plus its tag and length prefix in `log_records`.
    let len = record.record.encoded_len();
    len + 1 + prost::length_delimiter_len(len)
}

fn scope_logs() -> ScopeLogs {
    ScopeLogs {
        scope: Some(InstrumentationScope {
            name: SCOPE_NAME.to_string(),
            version: env!("CARGO_PKG_VERSION").to_string(),
            ..InstrumentationScope::default()
        }),
        ..ScopeLogs::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sink::otlp::mapping::map_record;
    use logfunnel_core::RecordView;

    #[test]
    fn records_are_grouped_by_resource_in_first_seen_order() {
        let view = |pid: i64, msg: &'static str| {
            let mut v = RecordView::new("app", 20, msg, 1.0);
            v.process = Some(pid);
            map_record(&v, "svc", 5)
        };
        let records = vec![view(2, "a"), view(1, "b"), view(2, "c")];
        let sizes: usize = records.iter().map(encoded_len).sum();
        let request = build_request(records);
        assert_eq!(request.resource_logs.len(), 2);
        let bodies: Vec<Vec<String>> = request
            .resource_logs
            .iter()
            .map(|r| {
                r.scope_logs[0]
                    .log_records
                    .iter()
                    .map(|l| format!("{:?}", l.body.as_ref().unwrap().value))
                    .collect()
            })
            .collect();
        assert!(bodies[0][0].contains("\"a\"") && bodies[0][1].contains("\"c\""));
        assert!(bodies[1][0].contains("\"b\""));
        assert_eq!(
            request.resource_logs[0].scope_logs[0]
                .scope
                .as_ref()
                .unwrap()
                .name,
            SCOPE_NAME
        );
        // The estimate counts every record's bytes; resources and scopes come on top.
        assert!(sizes < request.encoded_len());
    }
}
