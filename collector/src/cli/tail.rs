//! `logfunnel-collector tail`: the flags of the live view and how they become [`TailOptions`].

use super::{fail, LineArgs};
use crate::config::{self, level_arg};
use crate::sink::Colour;
use crate::tail::{self, TailOptions};
use clap::Args;
use std::time::Duration;

#[derive(Debug, Args)]
pub(super) struct TailArgs {
    /// The collector's live-view endpoint.
    #[arg(long, value_name = "ENDPOINT", default_value = "tcp://127.0.0.1:5556")]
    connect: String,
    /// Minimum level: DEBUG, INFO, WARNING, ERROR, CRITICAL or a number.
    #[arg(long, value_name = "LEVEL", value_parser = level_arg, default_value = "NOTSET")]
    level: i64,
    /// Only loggers with this name prefix (`app.db` shows app.db and app.db.pool; repeatable).
    #[arg(long, value_name = "NAME")]
    logger: Vec<String>,
    /// Hide loggers with this name prefix (repeatable).
    #[arg(long, value_name = "NAME")]
    exclude: Vec<String>,
    #[command(flatten)]
    line: LineArgs,
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
    #[arg(long, value_enum, default_value_t = Colour::Auto)]
    colour: Colour,
}

/// `tail`: prints what a running collector accepts until a limit or a signal stops it.
pub(super) fn run_tail(t: TailArgs) -> i32 {
    if t.idle_timeout.is_some_and(|s| !s.is_finite() || s < 0.0) {
        return fail("--idle-timeout: must be a number of seconds, 0 or more");
    }
    let opts = TailOptions {
        connect: t.connect,
        level: t.level,
        include: t.logger,
        exclude: t.exclude,
        format: t
            .line
            .format
            .unwrap_or_else(|| config::default_format().to_string()),
        datefmt: t.line.datefmt,
        utc: t.line.utc,
        json: t.json,
        count: t.count,
        idle_timeout: t.idle_timeout.map(Duration::from_secs_f64),
        colour: t.colour,
    };
    match tail::run(&opts) {
        Ok(_) => 0,
        Err(e) => fail(e),
    }
}
