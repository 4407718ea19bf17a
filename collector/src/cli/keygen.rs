//! `logfunnel-collector keygen [--out PREFIX]`: a new CURVE keypair as `PREFIX.key` (the public
//! key, to share) and `PREFIX.key_secret` (mode 0600, to keep), never overwriting either.

use super::fail;
use clap::Args;
use logfunnel_core::curve::KeyPair;
use std::path::PathBuf;

#[derive(Debug, Args)]
pub(super) struct KeygenArgs {
    /// Write PREFIX.key (public) and PREFIX.key_secret (secret, mode 0600).
    #[arg(long, value_name = "PREFIX", default_value = "logfunnel")]
    out: PathBuf,
}

/// The two file names for `prefix`.
pub(super) fn key_paths(prefix: &std::path::Path) -> (PathBuf, PathBuf) {
    let with = |suffix: &str| {
        let mut name = prefix.as_os_str().to_owned();
        name.push(suffix);
        PathBuf::from(name)
    };
    (with(".key"), with(".key_secret"))
}

/// Writes the pair and prints the public key; exit code 2 if a file exists or cannot be written.
pub(super) fn run_keygen(a: KeygenArgs) -> i32 {
    let (public_path, secret_path) = key_paths(&a.out);
    let pair = match KeyPair::generate() {
        Ok(p) => p,
        Err(e) => return fail(e),
    };
    if let Err(e) = pair.write_files(&public_path, &secret_path) {
        return fail(e);
    }
    println!("public key: {} ({})", pair.public, public_path.display());
    println!(
        "secret key: {} (mode 0600; keep it on this machine)",
        secret_path.display()
    );
    0
}
