//! Validation: [`Config::validate`] checks every value without touching files or sockets, and
//! [`Config::resolve_sinks`] turns each typed sink into the [`SinkSpec`] the runtime opens. Every
//! error names the key (`sink[1].when`, `bind[0]`, `tail.publish`).
//!
//! ```
//! use logfunnel_collector::config::Config;
//! let config = Config::from_toml_str("[[sink]]\nkind = \"file\"\npath = \"a.log\"\nlevel = \"LOUD\"\n").unwrap();
//! let e = config.validate().unwrap_err().to_string();
//! assert!(e.starts_with("sink[0].level: \"LOUD\" is not a level"), "{e}");
//! ```

use super::sink::{LineConfig, RotationConfig, SinkConfig, DEFAULT_BACKUP_COUNT, DEFAULT_INTERVAL};
use super::spec::{LineSpec, SinkSpec, Target};
use super::{default_format, invalid, Config, ConfigError};
use crate::format::{Formatter, Style};
use crate::route::Route;
use crate::sink::{RotatingOptions, Rotation, When};
use logfunnel_core::curve::PublicKey;
use logfunnel_core::transport::{self, Scheme};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

impl Config {
    /// Checks every value without touching files or sockets; errors name the key.
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.resolve_sinks().map(|_| ())
    }

    /// Validates and returns the sinks with their defaults applied.
    pub fn resolve_sinks(&self) -> Result<Vec<SinkSpec>, ConfigError> {
        if self.bind.is_empty() && self.pull.is_empty() {
            return Err(invalid(
                "bind",
                "no endpoint to receive on (set bind or pull)",
            ));
        }
        let mut seen_endpoints: HashMap<&str, String> = HashMap::new();
        for (list, name) in [(&self.bind, "bind"), (&self.pull, "pull")] {
            for (i, ep) in list.iter().enumerate() {
                let key = format!("{name}[{i}]");
                check_endpoint(ep).map_err(|m| invalid(&key, m))?;
                if is_ephemeral(ep) {
                    continue;
                }
                if let Some(first) = seen_endpoints.insert(ep, key.clone()) {
                    return Err(invalid(key, format!("{ep:?} is already used by {first}")));
                }
            }
        }
        self.check_exposure()?;
        if self.max_frame_bytes < 1024 {
            return Err(invalid("max_frame_bytes", "must be at least 1024"));
        }
        if self.max_frame_bytes > 256 * 1024 * 1024 {
            return Err(invalid(
                "max_frame_bytes",
                "must be at most 268435456 (256 MiB)",
            ));
        }
        if self.rcvhwm < 0 {
            return Err(invalid("rcvhwm", "must not be negative (0 means no limit)"));
        }
        if self.queue_max_records == 0 {
            return Err(invalid("queue_max_records", "must be at least 1"));
        }
        if self.queue_max_bytes < self.max_frame_bytes {
            return Err(invalid(
                "queue_max_bytes",
                format!(
                    "must be at least max_frame_bytes ({}) so one record always fits",
                    self.max_frame_bytes
                ),
            ));
        }
        if self.flush_interval_ms == 0 || self.flush_interval_ms > 3_600_000 {
            return Err(invalid(
                "flush_interval_ms",
                "must be between 1 and 3600000",
            ));
        }
        if !(1..=60_000).contains(&self.ack_interval_ms) {
            return Err(invalid(
                "ack_interval_ms",
                "must be from 1 to 60000 (milliseconds)",
            ));
        }
        if self.max_senders == 0 {
            return Err(invalid("max_senders", "must be at least 1"));
        }
        if let Some(m) = &self.metrics {
            if m.listen.parse::<std::net::SocketAddr>().is_err() {
                return Err(invalid(
                    "metrics.listen",
                    format!("{:?} is not an address like 127.0.0.1:9102", m.listen),
                ));
            }
        }
        if let Some(t) = &self.tail {
            check_endpoint(&t.publish).map_err(|m| invalid("tail.publish", m))?;
            if let Some(first) = seen_endpoints
                .get(t.publish.as_str())
                .filter(|_| !is_ephemeral(&t.publish))
            {
                return Err(invalid(
                    "tail.publish",
                    format!("{:?} is already used by {first}", t.publish),
                ));
            }
            if t.sndhwm < 0 {
                return Err(invalid("tail.sndhwm", "must not be negative"));
            }
        }
        let sinks = self.effective_sinks();
        let mut out = Vec::with_capacity(sinks.len());
        let mut paths: HashMap<PathBuf, usize> = HashMap::new();
        let mut labels: HashMap<String, usize> = HashMap::new();
        for (i, s) in sinks.iter().enumerate() {
            let r = resolve_sink(i, s)?;
            if let Some(p) = s.path() {
                let norm = normalize_path(p);
                if let Some(first) = paths.insert(norm, i) {
                    return Err(invalid(
                        format!("sink[{i}].path"),
                        format!("{} is already written by sink[{first}]", p.display()),
                    ));
                }
            }
            if let Some(first) = labels.insert(r.label.clone(), i) {
                return Err(invalid(
                    format!("sink[{i}].name"),
                    format!("{:?} is already the name of sink[{first}]", r.label),
                ));
            }
            out.push(r);
        }
        Ok(out)
    }
}

impl Config {
    /// `[curve]`'s values, and protected mode: an endpoint other machines can reach needs `[curve]`
    /// (or `insecure = true`), and the live view, which CURVE does not cover, needs `insecure`.
    fn check_exposure(&self) -> Result<(), ConfigError> {
        if let Some(curve) = &self.curve {
            if curve.secret_key_file.as_os_str().is_empty() {
                return Err(invalid("curve.secret_key_file", "must not be empty"));
            }
            for (i, key) in curve.allow.iter().enumerate() {
                PublicKey::parse(key.as_bytes()).map_err(|problem| {
                    invalid(
                        format!("curve.allow[{i}]"),
                        format!("{key:?} is not a CURVE public key: {problem}"),
                    )
                })?;
            }
            if curve.allow.is_empty() && curve.allow_dir.is_none() {
                return Err(invalid(
                    "curve.allow",
                    "no sender could connect: list public keys in allow or set allow_dir",
                ));
            }
            if curve
                .allow_dir
                .as_ref()
                .is_some_and(|d| d.as_os_str().is_empty())
            {
                return Err(invalid("curve.allow_dir", "must not be empty"));
            }
            if curve.max_connections == 0 {
                return Err(invalid("curve.max_connections", "must be at least 1"));
            }
        }
        if self.insecure {
            return Ok(());
        }
        if self.curve.is_none() {
            for (list, name) in [(&self.bind, "bind"), (&self.pull, "pull")] {
                if let Some((i, ep)) = list.iter().enumerate().find(|(_, ep)| is_exposed(ep)) {
                    return Err(invalid(
                        format!("{name}[{i}]"),
                        format!(
                            "{ep:?} can be reached from other machines, and there is no [curve] \
                             section: anyone who reaches the port could write records into the \
                             log or flood it, and records would cross the network in clear text. \
                             Set up [curve] (keys from `logfunnel-collector keygen`), bind a \
                             loopback address (tcp://127.0.0.1:PORT), or set insecure = true to \
                             accept the risk"
                        ),
                    ));
                }
            }
        }
        if let Some(t) = self.tail.as_ref().filter(|t| is_exposed(&t.publish)) {
            return Err(invalid(
                "tail.publish",
                format!(
                    "{:?} can be reached from other machines: the live view is not encrypted \
                     ([curve] covers bind and pull only), so anyone who reaches the port could \
                     read every record. Publish on a loopback address, or set insecure = true to \
                     accept the risk",
                    t.publish
                ),
            ));
        }
        Ok(())
    }
}

/// A TCP endpoint other machines may reach: any host but a loopback address (`127.0.0.0/8`,
/// `::1`), `localhost` or the loopback interface `lo`. `*` and `0.0.0.0` are every interface.
pub(crate) fn is_exposed(ep: &str) -> bool {
    let Some(rest) = ep.strip_prefix("tcp://") else {
        return false; // ipc:// and inproc:// stay on this machine
    };
    let host = rest.rsplit_once(':').map_or(rest, |(host, _)| host);
    let host = host.trim_start_matches('[').trim_end_matches(']');
    if host.eq_ignore_ascii_case("localhost") || host == "lo" {
        return false;
    }
    match host.parse::<std::net::IpAddr>() {
        Ok(ip) => !ip.is_loopback(),
        Err(_) => true,
    }
}

/// An absolute, lexically cleaned path, so `logs/a.log` and `./logs/a.log` are seen as one file.
fn normalize_path(p: &Path) -> PathBuf {
    let abs = if p.is_absolute() {
        p.to_path_buf()
    } else {
        std::env::current_dir().unwrap_or_default().join(p)
    };
    let mut out = PathBuf::new();
    for c in abs.components() {
        match c {
            std::path::Component::CurDir => {}
            std::path::Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

/// A TCP endpoint on port 0 or `*`: each bind gets its own port, so two of them do not clash.
fn is_ephemeral(ep: &str) -> bool {
    ep.starts_with("tcp://") && (ep.ends_with(":0") || ep.ends_with(":*"))
}

/// `tcp://host:port` (port a number or `*`) or `ipc://path`: the one endpoint check every logfunnel
/// end uses ([`transport::check_endpoint`]), limited to the schemes other processes can reach.
pub fn check_endpoint(ep: &str) -> Result<(), String> {
    transport::check_endpoint(ep, Scheme::FOR_PROCESSES).map(drop)
}

/// Checks one sink's values and applies its defaults.
fn resolve_sink(i: usize, s: &SinkConfig) -> Result<SinkSpec, ConfigError> {
    let key = |k: &str| format!("sink[{i}].{k}");
    if s.path().is_some_and(|p| p.as_os_str().is_empty()) {
        return Err(invalid(key("path"), "must not be empty"));
    }
    let rotation = match s {
        SinkConfig::RotatingFile(c) if !c.rotation.rotates() => {
            return Err(invalid(
                key("max_bytes"),
                "kind \"rotating_file\" needs max_bytes or when (or use kind \"file\")",
            ))
        }
        SinkConfig::RotatingFile(c) => Some(resolve_rotation(&key, &c.rotation, c.file.line.utc)?),
        SinkConfig::Jsonl(c) => match &c.rotation {
            Some(r) if !r.rotates() => {
                return Err(invalid(
                    key(r.refinements().next().unwrap_or("max_bytes")),
                    "only used when the sink rotates (set max_bytes or when)",
                ))
            }
            Some(r) => Some(resolve_rotation(&key, r, c.utc)?),
            None => None,
        },
        SinkConfig::File(_) | SinkConfig::Console(_) | SinkConfig::Otlp(_) => None,
    };
    if let SinkConfig::Otlp(c) = s {
        c.otlp
            .validate()
            .map_err(|e| invalid(key(&e.key), e.message))?;
    }
    let common = s.common();
    let level = common.level.resolve().ok_or_else(|| {
        invalid(
            key("level"),
            format!(
                "{} is not a level (DEBUG, INFO, WARNING, ERROR, CRITICAL, NOTSET or a number)",
                common.level
            ),
        )
    })?;
    if level < 0 {
        return Err(invalid(key("level"), "must not be negative"));
    }
    for (list, name) in [(&common.include, "include"), (&common.exclude, "exclude")] {
        if let Some(j) = list.iter().position(String::is_empty) {
            return Err(invalid(
                format!("sink[{i}].{name}[{j}]"),
                "an empty prefix would match every logger; leave the list empty instead",
            ));
        }
    }
    let line = s.line().map(|l| resolve_line(&key, l)).transpose()?;
    if common.name.as_ref().is_some_and(|n| n.trim().is_empty()) {
        return Err(invalid(key("name"), "must not be empty"));
    }
    let target = match (s, rotation) {
        (SinkConfig::Console(c), _) => Target::Console {
            stream: c.stream,
            colour: c.colour,
        },
        (SinkConfig::Otlp(c), _) => Target::Otlp(c.otlp.clone()),
        (_, Some((rotation, options))) => Target::Rotating {
            path: s.path().expect("file kinds have a path").to_path_buf(),
            rotation,
            options,
        },
        (_, None) => Target::File(s.path().expect("file kinds have a path").to_path_buf()),
    };
    Ok(SinkSpec {
        index: i,
        label: s.label(),
        kind: s.kind(),
        level,
        route: Route::new(common.include.clone(), common.exclude.clone()),
        line,
        target,
        on_error: common.on_error,
    })
}

/// Checks the rotation keys and builds the rotation and what it keeps.
fn resolve_rotation(
    key: &dyn Fn(&str) -> String,
    r: &RotationConfig,
    utc: bool,
) -> Result<(Rotation, RotatingOptions), ConfigError> {
    if r.max_bytes == Some(0) {
        return Err(invalid(key("max_bytes"), "must be at least 1"));
    }
    let when = match &r.when {
        Some(w) => Some(w.parse::<When>().map_err(|_| {
            invalid(
                key("when"),
                format!("{w:?} is not one of S, M, H, D, MIDNIGHT, W0-W6"),
            )
        })?),
        None => None,
    };
    if r.interval.is_some() && when.is_none() {
        return Err(invalid(key("interval"), "only used with when"));
    }
    let at_time = match &r.at_time {
        Some(t) => {
            if !matches!(when, Some(When::Midnight | When::Weekday(_))) {
                return Err(invalid(
                    key("at_time"),
                    "only used with when = \"MIDNIGHT\" or \"W0\"-\"W6\"",
                ));
            }
            Some(parse_time_of_day(t).ok_or_else(|| {
                invalid(
                    key("at_time"),
                    format!("{t:?} is not a time of day like \"02:30\" or \"02:30:00\""),
                )
            })?)
        }
        None => None,
    };
    if r.interval == Some(0) {
        return Err(invalid(key("interval"), "must be at least 1"));
    }
    if r.max_age_days == Some(0) {
        return Err(invalid(key("max_age_days"), "must be at least 1"));
    }
    let mut rotation = match when {
        Some(when) => {
            let timed = Rotation::timed(when, r.interval.unwrap_or(DEFAULT_INTERVAL), utc);
            match at_time {
                Some((h, m, s)) => timed.at_time(h, m, s),
                None => timed,
            }
        }
        None => Rotation::never(),
    };
    if let Some(n) = r.max_bytes {
        rotation = rotation.and_size(n);
    }
    let options = RotatingOptions::new()
        .backup_count(r.backup_count.unwrap_or(DEFAULT_BACKUP_COUNT) as usize)
        .compress(r.compress.unwrap_or(false))
        .max_age(
            r.max_age_days
                .map(|d| Duration::from_secs(u64::from(d) * 86_400)),
        );
    Ok((rotation, options))
}

/// Checks `style`, `format` and `datefmt` by building the formatter they describe.
fn resolve_line(key: &dyn Fn(&str) -> String, l: &LineConfig) -> Result<LineSpec, ConfigError> {
    let style = match l.style.as_deref() {
        None => Style::Percent,
        Some(v) => Style::parse(v).ok_or_else(|| {
            invalid(
                key("style"),
                format!("{v:?} is not one of \"%\", \"{{\" or \"$\""),
            )
        })?,
    };
    let format = match &l.format {
        Some(f) => f.clone(),
        None if style == Style::Percent => default_format().to_string(),
        None => style.default_format().to_string(),
    };
    let formatter = Formatter::new_with_style(&format, style)
        .map_err(|e| invalid(key("format"), e.to_string()))?
        .with_datefmt(l.datefmt.as_deref())
        .map_err(|e| invalid(key("datefmt"), e.to_string()))?
        .with_utc(l.utc);
    Ok(LineSpec {
        format,
        style,
        datefmt: l.datefmt.clone(),
        utc: l.utc,
        formatter,
    })
}

/// `HH:MM` or `HH:MM:SS` as (hour, minute, second).
fn parse_time_of_day(s: &str) -> Option<(u32, u32, u32)> {
    let parts: Vec<&str> = s.split(':').collect();
    if !(2..=3).contains(&parts.len()) {
        return None;
    }
    let num = |p: &str| (p.len() == 2).then(|| p.parse::<u32>().ok()).flatten();
    let h = num(parts[0])?;
    let m = num(parts[1])?;
    let sec = match parts.get(2) {
        Some(p) => num(p)?,
        None => 0,
    };
    (h < 24 && m < 60 && sec < 60).then_some((h, m, sec))
}

#[cfg(test)]
mod tests {
    use super::super::tests::err_of;
    use super::*;

    #[test]
    fn values_are_validated_with_the_key() {
        let cases = [
            ("[[sink]]\nkind = \"rotating_file\"\npath = \"a\"\nwhen = \"X\"\n", "sink[0].when: \"X\" is not one of S, M, H, D, MIDNIGHT, W0-W6"),
            ("[[sink]]\nkind = \"file\"\npath = \"a\"\nlevel = \"LOUD\"\n", "sink[0].level"),
            ("[[sink]]\nkind = \"file\"\n", "sink[0].path: required"),
            ("[[sink]]\nkind = \"file\"\npath = \"a\"\nmax_bytes = 10\n", "sink[0].max_bytes"),
            ("[[sink]]\nkind = \"rotating_file\"\npath = \"a\"\n", "sink[0].max_bytes"),
            ("[[sink]]\nkind = \"console\"\npath = \"a\"\n", "sink[0].path"),
            ("[[sink]]\nkind = \"file\"\npath = \"a\"\nstream = \"stdout\"\n", "sink[0].stream"),
            ("[[sink]]\nkind = \"file\"\npath = \"a\"\n[[sink]]\nkind = \"jsonl\"\npath = \"./a\"\n", "sink[1].path"),
            ("[[sink]]\nkind = \"file\"\npath = \"a\"\ninclude = [\"\"]\n", "sink[0].include[0]"),
            ("[[sink]]\nkind = \"jsonl\"\npath = \"a\"\nformat = \"%(message)s\"\n", "sink[0].format"),
            ("[[sink]]\nkind = \"file\"\npath = \"a\"\nstyle = \"#\"\n", "sink[0].style: \"#\" is not one of"),
            ("[[sink]]\nkind = \"file\"\npath = \"a\"\nstyle = \"{\"\nformat = \"{nope!x}\"\n", "sink[0].format"),
            ("[[sink]]\nkind = \"jsonl\"\npath = \"a\"\nstyle = \"{\"\n", "sink[0].style"),
            ("[[sink]]\nkind = \"rotating_file\"\npath = \"a\"\nwhen = \"H\"\ninterval = 0\n", "sink[0].interval"),
            ("bind = [\"udp://x:1\"]\n", "bind[0]"),
            ("bind = [\"tcp://127.0.0.1\"]\n", "bind[0]"),
            ("bind = []\npull = [\"tcp://127.0.0.1:1\", \"tcp://127.0.0.1:1\"]\n", "pull[1]"),
            ("max_frame_bytes = 10\n", "max_frame_bytes"),
            ("[metrics]\nlisten = \"localhost\"\n", "metrics.listen"),
            ("[tail]\npublish = \"tcp://127.0.0.1:5555\"\n", "tail.publish"),
        ];
        for (toml, want) in cases {
            let e = err_of(toml);
            assert!(
                e.contains(want),
                "config {toml:?}: error {e:?} lacks {want:?}"
            );
        }
    }

    const KEY: &str = "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7";

    #[test]
    fn curve_values_are_validated_with_the_key() {
        let cases = [
            ("[curve]\n", "missing field `secret_key_file`"),
            (
                "[curve]\nsecret_key_file = \"\"\nallow_dir = \"d\"\n",
                "curve.secret_key_file: must not be empty",
            ),
            (
                "[curve]\nsecret_key_file = \"s\"\n",
                "curve.allow: no sender could connect",
            ),
            (
                "[curve]\nsecret_key_file = \"s\"\nallow = [\"short\"]\n",
                "curve.allow[0]: \"short\" is not a CURVE public key: 5 bytes long",
            ),
            (
                "[curve]\nsecret_key_file = \"s\"\nallow_dir = \"\"\n",
                "curve.allow_dir: must not be empty",
            ),
            (
                "[curve]\nsecret_key_file = \"s\"\nallow_dir = \"d\"\nmax_connections = 0\n",
                "curve.max_connections: must be at least 1",
            ),
            (
                "[curve]\nsecret_key_file = \"s\"\nallow_dir = \"d\"\nallowed = []\n",
                "curve.allowed",
            ),
            ("insecure = \"yes\"\n", "insecure"),
        ];
        for (toml, want) in cases {
            let e = err_of(toml);
            assert!(
                e.contains(want),
                "config {toml:?}: error {e:?} lacks {want:?}"
            );
        }
        let ok = format!("bind = [\"tcp://0.0.0.0:5555\"]\n[curve]\nsecret_key_file = \"s\"\nallow = [\"{KEY}\"]\n");
        Config::from_toml_str(&ok).unwrap().validate().unwrap();
    }

    #[test]
    fn an_exposed_endpoint_without_curve_is_refused_unless_insecure() {
        for (toml, key, ep) in [
            (
                "bind = [\"tcp://0.0.0.0:5555\"]\n",
                "bind[0]",
                "tcp://0.0.0.0:5555",
            ),
            (
                "bind = [\"tcp://127.0.0.1:1\", \"tcp://*:5555\"]\n",
                "bind[1]",
                "tcp://*:5555",
            ),
            (
                "pull = [\"tcp://10.1.2.3:5555\"]\n",
                "pull[0]",
                "tcp://10.1.2.3:5555",
            ),
            (
                "bind = [\"tcp://collector.example:5555\"]\n",
                "bind[0]",
                "tcp://collector.example:5555",
            ),
            (
                "bind = [\"tcp://[::]:5555\"]\n",
                "bind[0]",
                "tcp://[::]:5555",
            ),
        ] {
            let e = err_of(toml);
            assert!(
                e.starts_with(&format!(
                    "{key}: \"{ep}\" can be reached from other machines"
                )),
                "{e}"
            );
            assert!(e.contains("write records into the log or flood it"), "{e}");
            assert!(e.contains("clear text"), "{e}");
            assert!(e.contains("insecure = true"), "{e}");
            let insecure = format!("insecure = true\n{toml}");
            Config::from_toml_str(&insecure)
                .unwrap()
                .validate()
                .unwrap();
        }
        for local in [
            "tcp://127.0.0.1:5555",
            "tcp://127.3.4.5:1",
            "tcp://localhost:1",
            "tcp://[::1]:1",
            "tcp://lo:1",
            "ipc:///tmp/x",
        ] {
            assert!(!is_exposed(local), "{local}");
        }
        let e = err_of("[tail]\npublish = \"tcp://0.0.0.0:5556\"\n");
        assert!(
            e.starts_with("tail.publish: \"tcp://0.0.0.0:5556\" can be reached"),
            "{e}"
        );
        assert!(e.contains("read every record"), "{e}");
    }

    #[test]
    fn on_error_defaults_to_block_and_reaches_the_sink_spec_for_every_kind() {
        use crate::config::OnError;
        let kinds = [
            "kind = \"file\"\npath = \"a.log\"",
            "kind = \"rotating_file\"\npath = \"b.log\"\nmax_bytes = 100",
            "kind = \"jsonl\"\npath = \"c.jsonl\"",
            "kind = \"jsonl\"\npath = \"d.jsonl\"\nwhen = \"H\"",
            "kind = \"console\"",
        ];
        for kind in kinds {
            for (line, want) in [
                ("", OnError::Block),
                ("on_error = \"block\"\n", OnError::Block),
                ("on_error = \"drop\"\n", OnError::Drop),
            ] {
                let toml = format!("[[sink]]\n{kind}\n{line}");
                let sinks = Config::from_toml_str(&toml)
                    .unwrap()
                    .resolve_sinks()
                    .unwrap();
                assert_eq!(sinks[0].on_error, want, "{toml:?}");
            }
        }
        let json =
            r#"{"sink": [{"kind": "console"}, {"kind": "file", "path": "a", "on_error": "drop"}]}"#;
        let sinks = Config::from_json_str(json)
            .unwrap()
            .resolve_sinks()
            .unwrap();
        let got: Vec<OnError> = sinks.iter().map(|s| s.on_error).collect();
        assert_eq!(got, [OnError::Block, OnError::Drop]);
    }

    #[test]
    fn a_bad_on_error_is_refused_naming_the_key() {
        let cases = [
            ("[[sink]]\nkind = \"file\"\npath = \"a\"\non_error = \"retry\"\n", "sink[0].on_error"),
            ("[[sink]]\nkind = \"console\"\non_error = 1\n", "sink[0].on_error"),
            // Exact spelling, as every other enum key.
            ("[[sink]]\nkind = \"console\"\n[[sink]]\nkind = \"file\"\npath = \"b\"\non_error = \"Drop\"\n", "sink[1].on_error"),
        ];
        for (toml, key) in cases {
            let e = Config::from_toml_str(toml).unwrap_err();
            assert_eq!(e.key(), Some(key), "config {toml:?}: {e}");
            assert!(e.to_string().contains(&format!("{key}: ")), "{e}");
        }
        let e = err_of("[[sink]]\nkind = \"file\"\npath = \"a\"\non_error = \"retry\"\n");
        assert!(e.contains("expected `block` or `drop`"), "{e}");
        let json = r#"{"sink": [{"kind": "console", "on_error": "ignore"}]}"#;
        let e = Config::from_json_str(json).unwrap_err();
        assert_eq!(e.key(), Some("sink[0].on_error"), "{e}");
    }

    #[test]
    fn numeric_levels_resolve() {
        let c = Config::from_toml_str("[[sink]]\nkind = \"console\"\nlevel = 35\n").unwrap();
        assert_eq!(c.resolve_sinks().unwrap()[0].level, 35);
    }
}
