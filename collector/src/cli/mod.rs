//! The `logfunnel-collector` program. [`main_with_args`] is the whole program, so the Python
//! package's `logfunnel-collector` console script runs exactly the same code as the Rust binary.
//!
//! - this file: the command line as a whole (clap), and the flags the run and `tail` share;
//! - `run.rs`: running a collector, from `--config` and the flags that override or add to it;
//! - `tail.rs`: the `tail` subcommand, a live view of a running collector;
//! - `keygen.rs`: the `keygen` subcommand, a CURVE keypair for `[curve]` or a sender.
//!
//! Exit codes: 0 after a clean stop, 2 for a usage or configuration error (printed as
//! `logfunnel-collector: error: <what, naming the key, path or endpoint>`), 1 for a failure while
//! running, 128 + N when a second signal N cut the drain short.

mod keygen;
mod run;
mod tail;

use crate::warn::PREFIX;
use clap::{Args, Parser, Subcommand};
use std::ffi::OsString;

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

  # Accept senders from other machines, encrypted (see [curve] in examples/collector.toml):
  logfunnel-collector keygen --out /etc/logfunnel/collector

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
    run: run::RunArgs,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Show the records a running collector accepts, live (needs [tail] publish in its config, or
    /// --publish).
    Tail(tail::TailArgs),
    /// Write a new CURVE keypair: PREFIX.key (public, to share) and PREFIX.key_secret (mode 0600).
    /// Refuses to overwrite either file.
    Keygen(keygen::KeygenArgs),
}

/// How records become lines, for the sinks the run flags add and for `tail`.
#[derive(Debug, Args)]
struct LineArgs {
    /// Python logging format (of --file and console lines; of the lines `tail` prints).
    #[arg(long, value_name = "FORMAT")]
    format: Option<String>,
    /// strftime format for %(asctime)s.
    #[arg(long, value_name = "DATEFMT")]
    datefmt: Option<String>,
    /// Times in UTC (asctime, and time rotation of --file).
    #[arg(long)]
    utc: bool,
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
        Some(Command::Tail(t)) => tail::run_tail(t),
        Some(Command::Keygen(k)) => keygen::run_keygen(k),
        None => run::run_collector(cli.run),
    }
}

/// Prints `message` as the program's error and returns the exit code of a usage error.
fn fail(message: impl std::fmt::Display) -> i32 {
    eprintln!("{PREFIX}: error: {message}");
    2
}
