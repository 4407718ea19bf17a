//! The `logfunnel-collector` program. [`main_with_args`] is the whole program, so the Python
//! package's `logfunnel-collector` console script runs exactly the same code as the Rust binary.
//!
//! Exit codes: 0 after a clean stop, 2 for a usage or configuration error (printed as
//! `logfunnel-collector: error: <what, naming the key, path or endpoint>`), 1 for a failure while
//! running, 128 + N when a second signal N cut the drain short.

use crate::config::{self, ColourChoice, Config, LevelSpec, SinkConfig, SinkKind, StreamName};
use crate::runtime::{self, Shutdown};
use crate::signals::SignalWatcher;
use crate::sink::Colour;
use crate::tail::{self, TailOptions};
use crate::warn::PREFIX;
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::ffi::OsString;
use std::path::PathBuf;
use std::time::Duration;

const LONG_ABOUT: &str = "\
Receives log records that many processes send over ZeroMQ (Python, C, Java and Rust senders of \
logfunnel, a pyzmq QueueHandler doing send_json(record.__dict__), or pyzmq's PUBHandler), and is the \
single writer of your log files: it formats them like Python's logging, routes them by level and \
logger name, rotates, and reports records lost on the way.

With no options it listens on tcp://127.0.0.1:5555 and prints every record on stderr.";

const EXAMPLES: &str = "\
Examples:
  # Print what arrives on the default endpoint (tcp://127.0.0.1:5555):
  logfunnel-collector

  # One file for every process, rotated at 10 MiB, 5 backups kept:
  logfunnel-collector --file logs/app.log --max-bytes 10485760 --backup-count 5

  # A new file every midnight, only WARNING and above, a format copied from a Python config:
  logfunnel-collector --file logs/app.log --when midnight --level WARNING \\
      --format '%(asctime)s %(process)d %(name)s %(levelname)s %(message)s'

  # Everything from a config file (see examples/collector.toml); check it first:
  logfunnel-collector --config collector.toml --check-config
  logfunnel-collector --config collector.toml

  # Live view of a running collector that has [tail] publish = \"tcp://127.0.0.1:5556\":
  logfunnel-collector tail --level ERROR --logger app.db

Signals: SIGTERM/SIGINT stop receiving, write out everything received and exit 0 (a second one exits
at once); SIGHUP reopens the log files (for logrotate).";

#[derive(Debug, Parser)]
#[command(
    name = "logfunnel-collector",
    version,
    about = "Collect log records from many processes over ZeroMQ into one set of files",
    long_about = LONG_ABOUT,
    after_long_help = EXAMPLES,
    after_help = "Run with --help for examples.",
    args_conflicts_with_subcommands = true
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    run: RunArgs,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Show the records a running collector accepts, live (needs [tail] publish in its config, or
    /// --publish).
    Tail(TailArgs),
}

#[derive(Debug, Args)]
struct RunArgs {
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
    /// Python logging format for --file and the console.
    #[arg(long, value_name = "FORMAT")]
    format: Option<String>,
    /// strftime format for %(asctime)s.
    #[arg(long, value_name = "DATEFMT")]
    datefmt: Option<String>,
    /// Times in UTC (asctime and time rotation).
    #[arg(long)]
    utc: bool,
    /// Minimum level for the sinks given by flags: DEBUG, INFO, WARNING, ERROR, CRITICAL or a number.
    #[arg(long, value_name = "LEVEL", value_parser = tail::level_arg)]
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
    /// Largest accepted frame in bytes (default 1048576).
    #[arg(long, value_name = "BYTES")]
    max_frame_bytes: Option<usize>,
}

#[derive(Debug, Args)]
struct TailArgs {
    /// The collector's live-view endpoint.
    #[arg(long, value_name = "ENDPOINT", default_value = "tcp://127.0.0.1:5556")]
    connect: String,
    /// Minimum level: DEBUG, INFO, WARNING, ERROR, CRITICAL or a number.
    #[arg(long, value_name = "LEVEL", value_parser = tail::level_arg, default_value = "NOTSET")]
    level: i64,
    /// Only loggers with this name prefix (`app.db` shows app.db and app.db.pool; repeatable).
    #[arg(long, value_name = "NAME")]
    logger: Vec<String>,
    /// Hide loggers with this name prefix (repeatable).
    #[arg(long, value_name = "NAME")]
    exclude: Vec<String>,
    /// Python logging format.
    #[arg(long, value_name = "FORMAT")]
    format: Option<String>,
    /// strftime format for %(asctime)s.
    #[arg(long, value_name = "DATEFMT")]
    datefmt: Option<String>,
    /// Times in UTC.
    #[arg(long)]
    utc: bool,
    /// Print the JSON records instead of formatted lines.
    #[arg(long)]
    json: bool,
    /// Exit after printing N records.
    #[arg(long, value_name = "N")]
    count: Option<u64>,
    /// Exit after this many seconds without a record.
    #[arg(long, value_name = "SECS")]
    idle_timeout: Option<f64>,
    /// Colour by level.
    #[arg(long, value_enum, default_value_t = ColourArg::Auto)]
    colour: ColourArg,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum ColourArg {
    Auto,
    Always,
    Never,
}

/// Runs the program with `args` (the first is the program name) and returns the exit code.
pub fn main_with_args<I, T>(args: I) -> i32
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let cli = match Cli::try_parse_from(args) {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return code;
        }
    };
    match cli.command {
        Some(Command::Tail(t)) => run_tail(t),
        None => run_collector(cli.run),
    }
}

fn fail(message: impl std::fmt::Display) -> i32 {
    eprintln!("{PREFIX}: error: {message}");
    2
}

fn run_tail(t: TailArgs) -> i32 {
    if t.idle_timeout.is_some_and(|s| !s.is_finite() || s < 0.0) {
        return fail("--idle-timeout: must be a number of seconds, 0 or more");
    }
    let opts = TailOptions {
        connect: t.connect,
        level: t.level,
        include: t.logger,
        exclude: t.exclude,
        format: t
            .format
            .unwrap_or_else(|| config::default_format().to_string()),
        datefmt: t.datefmt,
        utc: t.utc,
        json: t.json,
        count: t.count,
        idle_timeout: t.idle_timeout.map(Duration::from_secs_f64),
        colour: match t.colour {
            ColourArg::Auto => Colour::Auto,
            ColourArg::Always => Colour::Always,
            ColourArg::Never => Colour::Never,
        },
    };
    match tail::run(&opts) {
        Ok(_) => 0,
        Err(e) => fail(e),
    }
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
    if let Some(n) = a.max_frame_bytes {
        config.max_frame_bytes = n;
    }
    let styled = |mut s: SinkConfig| {
        if let Some(level) = a.level {
            s.level = LevelSpec::Number(level);
        }
        s.format = a.format.clone();
        s.datefmt = a.datefmt.clone();
        s.utc = a.utc;
        s
    };
    let mut added = 0;
    if let Some(path) = &a.file {
        let rotating = a.max_bytes.is_some() || a.when.is_some();
        let mut s = styled(SinkConfig::new(if rotating {
            SinkKind::RotatingFile
        } else {
            SinkKind::File
        }));
        s.path = Some(path.clone());
        s.max_bytes = a.max_bytes;
        s.when = a.when.clone();
        s.interval = a.interval;
        if a.backup_count.is_some() || a.compress {
            if !rotating {
                return Err(
                    "--backup-count/--compress: only with a rotating --file (add --max-bytes or --when)"
                        .into(),
                );
            }
            s.backup_count = a.backup_count;
            s.compress = a.compress.then_some(true);
        }
        config.sinks.push(s);
        added += 1;
    }
    if let Some(path) = &a.jsonl {
        let mut s = SinkConfig::new(SinkKind::Jsonl);
        if let Some(level) = a.level {
            s.level = LevelSpec::Number(level);
        }
        s.path = Some(path.clone());
        config.sinks.push(s);
        added += 1;
    }
    let console_wanted = a.console || (config.sinks.is_empty() && !a.no_console);
    if console_wanted {
        let mut s = styled(SinkConfig::new(SinkKind::Console));
        s.stream = Some(StreamName::Stderr);
        s.colour = Some(ColourChoice::Auto);
        config.sinks.push(s);
        added += 1;
    }
    if config.sinks.is_empty() {
        return Err("--no-console: no sink left (add --file, --jsonl or [[sink]] tables)".into());
    }
    let style_flags = [
        ("--level", a.level.is_some()),
        ("--format", a.format.is_some()),
        ("--datefmt", a.datefmt.is_some()),
        ("--utc", a.utc),
    ];
    if added == 0 {
        if let Some((flag, _)) = style_flags.iter().find(|(_, set)| *set) {
            return Err(format!(
                "{flag}: applies to the sinks given by flags (--file, --jsonl, --console), and there \
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

fn describe(config: &Config, sinks: &[config::ResolvedSink]) -> String {
    let mut s = String::from("configuration OK\n");
    for ep in &config.bind {
        s.push_str(&format!("  receive (SUB):  {ep}\n"));
    }
    for ep in &config.pull {
        s.push_str(&format!("  receive (PULL): {ep}\n"));
    }
    for r in sinks {
        let c = &r.config;
        let mut line = format!(
            "  sink[{}] {}: {} (level >= {})",
            r.index,
            c.kind.as_str(),
            r.label,
            crate::config::LevelSpec::Number(r.level)
        );
        if let Some(p) = &c.path {
            if r.label != p.display().to_string() {
                line.push_str(&format!(" path {}", p.display()));
            }
        }
        if !c.include.is_empty() {
            line.push_str(&format!(" include {:?}", c.include));
        }
        if !c.exclude.is_empty() {
            line.push_str(&format!(" exclude {:?}", c.exclude));
        }
        if let Some(n) = c.max_bytes {
            line.push_str(&format!(" max_bytes {n}"));
        }
        if let Some(w) = &c.when {
            line.push_str(&format!(" when {w} x{}", c.interval.unwrap_or(1)));
        }
        if c.kind != SinkKind::Jsonl {
            line.push_str(&format!(" format {:?}", r.format));
        }
        s.push_str(&line);
        s.push('\n');
    }
    if let Some(m) = &config.metrics {
        s.push_str(&format!("  metrics: http://{}/metrics\n", m.listen));
    }
    if let Some(t) = &config.tail {
        s.push_str(&format!("  live view (PUB): {}\n", t.publish));
    }
    s
}

fn run_collector(a: RunArgs) -> i32 {
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
    let _guard = match watcher.spawn(shutdown.clone(), collector.reopen_handle()) {
        Ok(g) => g,
        Err(e) => {
            eprintln!("{PREFIX}: error: cannot start the signal thread: {e}");
            let _ = collector.stop(Duration::from_secs(10));
            return 1;
        }
    };
    for ep in collector.bind_endpoints() {
        eprintln!("{PREFIX}: listening on {ep} (SUB)");
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
        if let Some(p) = &s.path {
            eprintln!("{PREFIX}: writing {} to {}", s.kind.as_str(), p.display());
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

    fn config_of(args: &[&str]) -> Result<Config, String> {
        let mut v = vec!["logfunnel-collector"];
        v.extend_from_slice(args);
        let cli = Cli::try_parse_from(v).map_err(|e| e.to_string())?;
        build_config(&cli.run)
    }

    #[test]
    fn no_flags_means_console_on_the_default_endpoint() {
        let c = config_of(&[]).unwrap();
        assert_eq!(c.bind, vec![config::DEFAULT_BIND]);
        assert_eq!(c.sinks.len(), 1);
        assert_eq!(c.sinks[0].kind, SinkKind::Console);
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
        assert_eq!(s.kind, SinkKind::RotatingFile);
        assert_eq!(s.max_bytes, Some(100));
        assert_eq!(s.level, LevelSpec::Number(30));
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
    }
}
