//! A tiny real HTTP/1.1 server on 127.0.0.1 that answers each request as a script says: for the
//! status codes (503, 400) an OpenTelemetry Collector cannot be made to answer on demand. It decodes
//! what it receives (gzip, protobuf), so the tests see the requests as the peer saw them.

use flate2::read::GzDecoder;
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use prost::Message;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

/// One request as received.
#[derive(Debug, Clone)]
pub struct Received {
    /// Request line, e.g. `POST /v1/logs HTTP/1.1`.
    pub request_line: String,
    /// Header names in lower case, with their values.
    pub headers: Vec<(String, String)>,
    /// The body, decoded.
    pub body: ExportLogsServiceRequest,
}

impl Received {
    /// A header's value.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The bodies of the log records, in order.
    pub fn bodies(&self) -> Vec<String> {
        use opentelemetry_proto::tonic::common::v1::any_value::Value;
        self.body
            .resource_logs
            .iter()
            .flat_map(|r| &r.scope_logs)
            .flat_map(|s| &s.log_records)
            .map(|l| match l.body.as_ref().and_then(|b| b.value.as_ref()) {
                Some(Value::StringValue(s)) => s.clone(),
                other => panic!("body {other:?}"),
            })
            .collect()
    }
}

/// An answer.
pub struct Answer {
    /// HTTP status.
    pub status: u16,
    /// Extra headers.
    pub headers: Vec<(&'static str, String)>,
    /// Body bytes.
    pub body: Vec<u8>,
    /// Content type of the body.
    pub content_type: &'static str,
}

impl Answer {
    /// An empty `ExportLogsServiceResponse`: full success.
    pub fn ok() -> Answer {
        Answer::status(200)
    }

    /// `status` with an empty protobuf body.
    pub fn status(status: u16) -> Answer {
        Answer {
            status,
            headers: Vec::new(),
            body: Vec::new(),
            content_type: "application/x-protobuf",
        }
    }
}

/// The running server.
pub struct Peer {
    /// Its port on 127.0.0.1.
    pub port: u16,
    received: Arc<Mutex<Vec<Received>>>,
}

impl Peer {
    /// Serves every request with `script(n)`, `n` counting requests from 0.
    pub fn start(script: impl Fn(usize) -> Answer + Send + Sync + 'static) -> Peer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let received = Arc::new(Mutex::new(Vec::new()));
        let script = Arc::new(script);
        let shared = Arc::clone(&received);
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(conn) = conn else { continue };
                let (received, script) = (Arc::clone(&shared), Arc::clone(&script));
                std::thread::spawn(move || serve(conn, &received, &*script));
            }
        });
        Peer { port, received }
    }

    /// The endpoint URL.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}/v1/logs", self.port)
    }

    /// Every request so far.
    pub fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }
}

fn serve(
    conn: TcpStream,
    received: &Mutex<Vec<Received>>,
    script: &(dyn Fn(usize) -> Answer + Send + Sync),
) {
    let mut writer = conn.try_clone().unwrap();
    let mut reader = BufReader::new(conn);
    loop {
        let mut request_line = String::new();
        if reader.read_line(&mut request_line).unwrap_or(0) == 0 {
            return;
        }
        let mut headers = Vec::new();
        loop {
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            let (k, v) = line.split_once(':').unwrap();
            headers.push((k.trim().to_ascii_lowercase(), v.trim().to_string()));
        }
        let len: usize = headers
            .iter()
            .find(|(k, _)| k == "content-length")
            .map(|(_, v)| v.parse().unwrap())
            .expect("the sink sends content-length");
        let mut raw = vec![0; len];
        reader.read_exact(&mut raw).unwrap();
        let gzip = headers
            .iter()
            .any(|(k, v)| k == "content-encoding" && v == "gzip");
        let bytes = if gzip {
            let mut out = Vec::new();
            GzDecoder::new(&raw[..]).read_to_end(&mut out).unwrap();
            out
        } else {
            raw
        };
        let body = ExportLogsServiceRequest::decode(&bytes[..]).unwrap();
        let n = {
            let mut r = received.lock().unwrap();
            r.push(Received {
                request_line: request_line.trim_end().to_string(),
                headers,
                body,
            });
            r.len() - 1
        };
        let answer = script(n);
        let mut head = format!(
            "HTTP/1.1 {} Scripted\r\ncontent-type: {}\r\ncontent-length: {}\r\n",
            answer.status,
            answer.content_type,
            answer.body.len()
        );
        for (k, v) in &answer.headers {
            head.push_str(&format!("{k}: {v}\r\n"));
        }
        head.push_str("\r\n");
        if writer.write_all(head.as_bytes()).is_err() || writer.write_all(&answer.body).is_err() {
            return;
        }
    }
}
