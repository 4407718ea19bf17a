//! Running a collector from the command line: `--config` (or the defaults), the flags that
//! override its keys or add sinks (`--file`, `--jsonl`, `--otlp`, `--console`), `--check-config`, and the
//! signals that stop it (SIGTERM/SIGINT) or reopen its files (SIGHUP).

use super::{fail, LineArgs};
use crate::config::{
    self, level_arg, Config, ConsoleSinkConfig, FileSinkConfig, JsonlSinkConfig, LevelSpec,
    LineConfig, OtlpSinkConfig, RotatingFileSinkConfig, RotationConfig, SinkCommon, SinkConfig,
    SinkSpec, StreamName, Target, DEFAULT_INTERVAL,
};
use crate::runtime::{self, Shutdown};
use crate::signals::SignalWatcher;
use crate::sink::Colour;
use crate::warn::PREFIX;
use clap::Args;
use std::path::PathBuf;
use std::time::Duration;

#[derive(Debug, Args)]
pub(super) struct RunArgs {
    /// TOML config file (see examples/collector.toml); flags below override or add to it.
    #[arg(short, long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Validate the configuration (keys, values, paths writable, ports free), print a summary and
    /// exit: 0 if it is usable, 2 with the error otherwise.
    #[arg(long)]
    check_config: bool,
    /// Endpoint to receive on with a SUB socket (repeatable; replaces the config's `bind`).
    /// Default tcp://127.0.0.1:5555.
    #[arg(long, value_name = "ENDPOINT")]
    bind: Vec<String>,
    /// Endpoint to receive on with a PULL socket, for senders in PUSH mode (repeatable).
    #[arg(long, value_name = "ENDPOINT")]
    pull: Vec<String>,
    /// Write to this file (rotating when --max-bytes or --when is given).
    #[arg(long, value_name = "PATH")]
    file: Option<PathBuf>,
    /// Also write one JSON record per line to this file.
    #[arg(long, value_name = "PATH")]
    jsonl: Option<PathBuf>,
    /// Also forward every record to this OpenTelemetry OTLP/HTTP endpoint (the full URL, e.g.
    /// http://127.0.0.1:4318/v1/logs); a record is settled once the peer accepted it.
    #[arg(long, value_name = "URL")]
    otlp: Option<String>,
    /// Rotate --file before it would grow past this many bytes.
    #[arg(long, value_name = "BYTES", requires = "file")]
    max_bytes: Option<u64>,
    /// Rotate --file by time: S, M, H, D, midnight or W0-W6 (as Python's TimedRotatingFileHandler).
    #[arg(long, value_name = "WHEN", requires = "file")]
    when: Option<String>,
    /// Number of --when units between rotations.
    #[arg(long, value_name = "N", requires = "when")]
    interval: Option<u32>,
    /// Rotated files of --file to keep (0 keeps all).
    #[arg(long, value_name = "N", requires = "file")]
    backup_count: Option<u32>,
    /// Gzip rotated files of --file.
    #[arg(long, requires = "file")]
    compress: bool,
    #[command(flatten)]
    line: LineArgs,
    /// Minimum level for the sinks given by flags: DEBUG, INFO, WARNING, ERROR, CRITICAL or a number.
    #[arg(long, value_name = "LEVEL", value_parser = level_arg)]
    level: Option<i64>,
    /// Also print records on stderr (the default when no file is configured).
    #[arg(long, overrides_with = "no_console")]
    console: bool,
    /// Do not print records on stderr.
    #[arg(long)]
    no_console: bool,
    /// Serve Prometheus metrics at http://ADDR/metrics (e.g. 127.0.0.1:9102).
    #[arg(long, value_name = "ADDR")]
    metrics: Option<String>,
    /// Re-publish accepted records on this PUB endpoint for `tail` (e.g. tcp://127.0.0.1:5556).
    #[arg(long, value_name = "ENDPOINT")]
    publish: Option<String>,
    /// Print a stats line on stderr every N seconds (0: off).
    #[arg(long, value_name = "SECS")]
    stats_interval: Option<u64>,
    /// Announce no acknowledged delivery: every sender stays on the v1 path, unacknowledged
    /// (`acknowledge = false`; for comparisons and v1-only peers).
    #[arg(long)]
    no_acknowledge: bool,
    /// Largest accepted frame in bytes (default 1048576).
    #[arg(long, value_name = "BYTES")]
    max_frame_bytes: Option<usize>,
}

/// The config file (or the defaults) with the flags applied.
fn build_config(a: &RunArgs) -> Result<Config, String> {
    let mut config = match &a.config {
        Some(path) => Config::load(path).map_err(|e| e.to_string())?,
        None => Config::default(),
    };
    if !a.bind.is_empty() {
        config.bind = a.bind.clone();
    }
    if !a.pull.is_empty() {
        config.pull = a.pull.clone();
    }
    if let Some(addr) = &a.metrics {
        config.metrics = Some(config::MetricsConfig {
            listen: addr.clone(),
        });
    }
    if let Some(ep) = &a.publish {
        let sndhwm = config
            .tail
            .as_ref()
            .map(|t| t.sndhwm)
            .unwrap_or_else(config::default_tail_sndhwm);
        config.tail = Some(config::TailConfig {
            publish: ep.clone(),
            sndhwm,
        });
    }
    if let Some(s) = a.stats_interval {
        config.stats_interval_s = s;
    }
    if a.no_acknowledge {
        config.acknowledge = false;
    }
    if let Some(n) = a.max_frame_bytes {
        config.max_frame_bytes = n;
    }
    let common = SinkCommon {
        level: a.level.map(LevelSpec::Number).unwrap_or_default(),
        ..SinkCommon::default()
    };
    let line = LineConfig {
        format: a.line.format.clone(),
        style: None,
        datefmt: a.line.datefmt.clone(),
        utc: a.line.utc,
    };
    let mut added = 0;
    if let Some(path) = &a.file {
        let rotating = a.max_bytes.is_some() || a.when.is_some();
        if (a.backup_count.is_some() || a.compress) && !rotating {
            return Err(
                "--backup-count/--compress: only with a rotating --file (add --max-bytes or --when)"
                    .into(),
            );
        }
        let file = FileSinkConfig {
            common: common.clone(),
            path: path.clone(),
            line: line.clone(),
        };
        config.sinks.push(if rotating {
            let rotation = RotationConfig {
                max_bytes: a.max_bytes,
                when: a.when.clone(),
                interval: a.interval,
                backup_count: a.backup_count,
                compress: a.compress.then_some(true),
                ..RotationConfig::default()
            };
            RotatingFileSinkConfig { file, rotation }.into()
        } else {
            file.into()
        });
        added += 1;
    }
    if let Some(path) = &a.jsonl {
        let mut jsonl = JsonlSinkConfig::new(path.clone());
        jsonl.common.level = common.level.clone();
        config.sinks.push(jsonl.into());
        added += 1;
    }
    if let Some(endpoint) = &a.otlp {
        let mut otlp = OtlpSinkConfig::new(endpoint.clone());
        otlp.common.level = common.level.clone();
        config.sinks.push(otlp.into());
        added += 1;
    }
    let console_wanted = a.console || (config.sinks.is_empty() && !a.no_console);
    if console_wanted {
        config.sinks.push(
            ConsoleSinkConfig {
                common,
                line,
                stream: StreamName::Stderr,
                colour: Colour::Auto,
            }
            .into(),
        );
        added += 1;
    }
    if config.sinks.is_empty() {
        return Err(
            "--no-console: no sink left (add --file, --jsonl, --otlp or [[sink]] tables)".into(),
        );
    }
    let style_flags = [
        ("--level", a.level.is_some()),
        ("--format", a.line.format.is_some()),
        ("--datefmt", a.line.datefmt.is_some()),
        ("--utc", a.line.utc),
    ];
    if added == 0 {
        if let Some((flag, _)) = style_flags.iter().find(|(_, set)| *set) {
            return Err(format!(
                "{flag}: applies to the sinks given by flags (--file, --jsonl, --otlp, --console), and there \
                 are none; set it in the config's [[sink]] tables instead"
            ));
        }
    }
    // Flag sinks are validated like config sinks; name the flag instead of sink[N].
    if let Err(e) = config.validate() {
        return Err(flag_error(&config, added, e));
    }
    Ok(config)
}

/// Rewrites `sink[N].key` into the flag that set it when sink N came from a flag.
fn flag_error(config: &Config, added: usize, e: config::ConfigError) -> String {
    let first_flag_sink = config.sinks.len() - added;
    let text = e.to_string();
    if let Some(key) = e.key() {
        if let Some(rest) = key.strip_prefix("sink[") {
            if let Some((n, field)) = rest.split_once("].") {
                if n.parse::<usize>().is_ok_and(|n| n >= first_flag_sink) {
                    let flag = match field {
                        "path" => "--file".to_string(),
                        "endpoint" => "--otlp".to_string(),
                        "level" => "--level".to_string(),
                        other => format!("--{}", other.replace('_', "-")),
                    };
                    return text.replacen(key, &flag, 1);
                }
            }
        }
    }
    text
}

/// The `--check-config` summary: what will be received, written where, and served.
fn describe(config: &Config, sinks: &[SinkSpec]) -> String {
    let mut s = String::from("configuration OK\n");
    for ep in &config.bind {
        s.push_str(&format!("  receive (SUB):  {ep}\n"));
    }
    for ep in &config.pull {
        s.push_str(&format!("  receive (PULL): {ep}\n"));
    }
    for (c, r) in config.effective_sinks().iter().zip(sinks) {
        let mut line = format!(
            "  sink[{}] {}: {} (level >= {})",
            r.index,
            r.kind.as_str(),
            r.label,
            LevelSpec::Number(r.level)
        );
        if let Some(p) = c.path() {
            if r.label != p.display().to_string() {
                line.push_str(&format!(" path {}", p.display()));
            }
        }
        let common = c.common();
        if !common.include.is_empty() {
            line.push_str(&format!(" include {:?}", common.include));
        }
        if !common.exclude.is_empty() {
            line.push_str(&format!(" exclude {:?}", common.exclude));
        }
        if let Some(rotation) = c.rotation() {
            if let Some(n) = rotation.max_bytes {
                line.push_str(&format!(" max_bytes {n}"));
            }
            if let Some(w) = &rotation.when {
                let interval = rotation.interval.unwrap_or(DEFAULT_INTERVAL);
                line.push_str(&format!(" when {w} x{interval}"));
            }
        }
        if let Some(l) = &r.line {
            line.push_str(&format!(" format {:?}", l.format));
        }
        if let Target::Otlp(o) = &r.target {
            if r.label != o.endpoint {
                line.push_str(&format!(" endpoint {}", o.endpoint));
            }
            line.push_str(&format!(" service_name {:?}", o.service_name));
        }
        s.push_str(&line);
        s.push('\n');
    }
    match &config.curve {
        Some(c) => s.push_str(&format!(
            "  curve: on, secret key {}, {} listed key(s){}\n",
            c.secret_key_file.display(),
            c.allow.len(),
            c.allow_dir
                .as_ref()
                .map(|d| format!(", allow_dir {}", d.display()))
                .unwrap_or_default()
        )),
        None if config.insecure => s.push_str("  curve: off, insecure = true (plaintext)\n"),
        None => {}
    }
    if let Some(m) = &config.metrics {
        s.push_str(&format!("  metrics: http://{}/metrics\n", m.listen));
    }
    if let Some(t) = &config.tail {
        s.push_str(&format!("  live view (PUB): {}\n", t.publish));
    }
    s
}

/// Runs a collector from `--config` and the flags until a signal stops it (or checks the config).
pub(super) fn run_collector(a: RunArgs) -> i32 {
    let config = match build_config(&a) {
        Ok(c) => c,
        Err(e) => return fail(e),
    };
    if a.check_config {
        return match runtime::check(&config) {
            Ok(sinks) => {
                print!("{}", describe(&config, &sinks));
                0
            }
            Err(e) => fail(e),
        };
    }
    // Registered before anything binds, so an early SIGTERM is not the default "die now".
    let watcher = match SignalWatcher::install() {
        Ok(w) => w,
        Err(e) => {
            eprintln!("{PREFIX}: error: cannot install signal handlers: {e}");
            return 1;
        }
    };
    let shutdown = Shutdown::new();
    let collector = match runtime::start_with(config.clone(), shutdown.clone()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{PREFIX}: error: {e}");
            return if e.is_setup_error() { 2 } else { 1 };
        }
    };
    let _guard = match watcher.spawn(
        shutdown.clone(),
        collector.reopen_handle(),
        collector.security(),
    ) {
        Ok(g) => g,
        Err(e) => {
            eprintln!("{PREFIX}: error: cannot start the signal thread: {e}");
            let _ = collector.stop(Duration::from_secs(10));
            return 1;
        }
    };
    for (i, ep) in collector.bind_endpoints().iter().enumerate() {
        match collector.ack_endpoints().get(i) {
            Some(ack) => {
                eprintln!("{PREFIX}: listening on {ep} (SUB; acknowledged delivery on {ack})")
            }
            None => eprintln!("{PREFIX}: listening on {ep} (SUB)"),
        }
    }
    for ep in collector.pull_endpoints() {
        eprintln!("{PREFIX}: listening on {ep} (PULL)");
    }
    if let Some(addr) = collector.metrics_addr() {
        eprintln!("{PREFIX}: metrics on http://{addr}/metrics");
    }
    if let Some(ep) = collector.tail_endpoint() {
        eprintln!("{PREFIX}: live view on {ep}");
    }
    for s in config.effective_sinks() {
        if let Some(p) = s.path() {
            eprintln!("{PREFIX}: writing {} to {}", s.kind().as_str(), p.display());
        }
        if let SinkConfig::Otlp(o) = &s {
            eprintln!("{PREFIX}: forwarding to {} (otlp)", o.otlp.endpoint);
        }
    }
    eprintln!("{PREFIX}: ready");
    match collector.wait() {
        Ok(summary) => {
            eprintln!("{PREFIX}: stopped: {}", summary.stats.line());
            if !summary.drain_complete {
                eprintln!(
                    "{PREFIX}: warning: records were still arriving when drain_timeout_ms ({}) passed",
                    config.drain_timeout_ms
                );
            }
            0
        }
        Err(e) => {
            eprintln!("{PREFIX}: error: {e}");
            1
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::SinkKind;
    use clap::Parser;

    fn config_of(args: &[&str]) -> Result<Config, String> {
        let mut v = vec!["logfunnel-collector"];
        v.extend_from_slice(args);
        let cli = super::super::Cli::try_parse_from(v).map_err(|e| e.to_string())?;
        match cli.command {
            None => build_config(&cli.run),
            Some(_) => Err("a subcommand".into()),
        }
    }

    #[test]
    fn no_flags_means_console_on_the_default_endpoint() {
        let c = config_of(&[]).unwrap();
        assert_eq!(c.bind, vec![config::DEFAULT_BIND]);
        assert_eq!(c.sinks.len(), 1);
        assert_eq!(c.sinks[0].kind(), SinkKind::Console);
    }

    #[test]
    fn file_flags_make_a_rotating_sink() {
        let c = config_of(&[
            "--file",
            "x.log",
            "--max-bytes",
            "100",
            "--backup-count",
            "3",
            "--level",
            "warning",
        ])
        .unwrap();
        assert_eq!(c.sinks.len(), 1);
        let s = &c.sinks[0];
        assert_eq!(s.kind(), SinkKind::RotatingFile);
        assert_eq!(s.rotation().unwrap().max_bytes, Some(100));
        assert_eq!(s.common().level, LevelSpec::Number(30));
        let c = config_of(&["--file", "x.log", "--console"]).unwrap();
        assert_eq!(c.sinks.len(), 2);
    }

    #[test]
    fn flag_errors_name_the_flag() {
        let e = config_of(&["--file", "x.log", "--when", "X"]).unwrap_err();
        assert!(e.starts_with("--when: \"X\" is not one of"), "{e}");
        let e = config_of(&["--file", "x.log", "--format", "%(message"]).unwrap_err();
        assert!(e.starts_with("--format:"), "{e}");
        let e = config_of(&["--level", "LOUD"]).unwrap_err();
        assert!(e.contains("LOUD"), "{e}");
        let e = config_of(&["--no-console"]).unwrap_err();
        assert!(e.contains("no sink"), "{e}");
        let e = config_of(&["--otlp", "ftp://x"]).unwrap_err();
        assert!(e.starts_with("--otlp: \"ftp://x\" is not an http"), "{e}");
    }

    #[test]
    fn otlp_flag_adds_an_otlp_sink_instead_of_the_console() {
        let c = config_of(&["--otlp", "http://127.0.0.1:4318/v1/logs", "--level", "INFO"]).unwrap();
        assert_eq!(c.sinks.len(), 1);
        let SinkConfig::Otlp(o) = &c.sinks[0] else {
            panic!("{:?}", c.sinks[0]);
        };
        assert_eq!(o.otlp.endpoint, "http://127.0.0.1:4318/v1/logs");
        assert_eq!(o.common.level, LevelSpec::Number(20));
        assert_eq!(c.sinks[0].label(), "http://127.0.0.1:4318/v1/logs");
        let c = config_of(&["--otlp", "http://h:1/v1/logs", "--file", "x.log"]).unwrap();
        let kinds: Vec<SinkKind> = c.sinks.iter().map(SinkConfig::kind).collect();
        assert_eq!(kinds, [SinkKind::File, SinkKind::Otlp]);
    }
}
