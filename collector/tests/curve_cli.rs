//! CURVE through the `logfunnel-collector` binary: `keygen` writes a usable pair and never
//! overwrites; protected mode refuses an exposed endpoint without `[curve]` (run and
//! `--check-config` alike) unless `insecure = true`; every `[curve]` error names its key and exits 2;
//! SIGHUP re-reads `allow_dir`, so a sender listed since gets in (one refused before does not retry:
//! libzmq gives up on a connection the server turned away).

mod support;

use logfunnel_core::curve::{read_public_key, read_secret_key, KeySource};
use logfunnel_core::{Sender, SenderOptions};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;
use support::proc::{assert_config_refused, run, Proc};
use support::*;

const PATIENCE: Duration = Duration::from_secs(30);

fn keygen(dir: &Path, prefix: &str) -> (PathBuf, PathBuf) {
    let out = run(&["keygen", "--out", prefix], dir);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    (
        dir.join(format!("{prefix}.key")),
        dir.join(format!("{prefix}.key_secret")),
    )
}

fn write_config(dir: &Path, text: &str) -> String {
    let p = dir.join("c.toml");
    std::fs::write(&p, text).unwrap();
    p.display().to_string()
}

#[test]
fn keygen_writes_a_pair_and_refuses_to_overwrite() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(&["keygen", "--out", "collector"], dir.path());
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let (public, secret) = (
        dir.path().join("collector.key"),
        dir.path().join("collector.key_secret"),
    );
    let mode = std::fs::metadata(&secret).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    let public_key = read_public_key("p", &KeySource::File(public.clone())).unwrap();
    let secret_key = read_secret_key("s", &KeySource::File(secret.clone())).unwrap();
    assert_eq!(secret_key.public_key().unwrap(), public_key, "not a pair");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains(&public_key.to_z85()), "{stdout}");
    assert!(
        !stdout.contains(&secret_key.to_z85()),
        "the secret key was printed"
    );

    let before = std::fs::read(&secret).unwrap();
    let out = run(&["keygen", "--out", "collector"], dir.path());
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("refusing to overwrite the existing key file"),
        "{err}"
    );
    assert_eq!(std::fs::read(&secret).unwrap(), before);
    // A prefix in a folder that does not exist: the error names the file.
    let out = run(&["keygen", "--out", "no/such/dir/k"], dir.path());
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no/such/dir/k.key"));
}

#[test]
fn an_exposed_endpoint_needs_curve_or_insecure_and_says_why() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(
        dir.path(),
        "bind = [\"ipc:///tmp/lf-curve-cli-unused\", \"tcp://0.0.0.0:0\"]\n",
    );
    assert_config_refused(
        Path::new(&config),
        dir.path(),
        &[
            "logfunnel-collector: error: bind[1]: \"tcp://0.0.0.0:0\" can be reached from other machines",
            "insecure = true",
        ],
    );
    // The flag is checked the same way.
    let out = run(&["--bind", "tcp://0.0.0.0:0", "--check-config"], dir.path());
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("bind[0]"));
    // Accepting the risk explicitly.
    let config = write_config(
        dir.path(),
        "insecure = true\nbind = [\"tcp://0.0.0.0:0\"]\n",
    );
    let out = run(&["--config", &config, "--check-config"], dir.path());
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("curve: off, insecure = true"));
}

#[test]
fn every_curve_error_names_the_key_and_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let (collector_pub, collector_secret) = keygen(dir.path(), "collector");
    let clients = dir.path().join("clients");
    std::fs::create_dir(&clients).unwrap();
    let bad_dir = dir.path().join("bad-clients");
    std::fs::create_dir(&bad_dir).unwrap();
    std::fs::write(bad_dir.join("broken.key"), "not a key\n").unwrap();
    let secret = collector_secret.display();
    let cases = [
        (
            format!("[curve]\nsecret_key_file = \"{}\"\nallow_dir = \"{}\"\n", dir.path().join("absent").display(), clients.display()),
            "curve.secret_key_file: key file".to_string(),
        ),
        (
            format!("[curve]\nsecret_key_file = \"{}\"\nallow_dir = \"{}\"\n", dir.path().join("c.toml").display(), clients.display()),
            "curve.secret_key_file: key file".to_string(),
        ),
        (
            format!("[curve]\nsecret_key_file = \"{secret}\"\nallow_dir = \"{}\"\n", bad_dir.display()),
            format!("curve.allow_dir: key file {}", bad_dir.join("broken.key").display()),
        ),
        (
            format!("[curve]\nsecret_key_file = \"{secret}\"\nallow_dir = \"{}\"\n", dir.path().join("nowhere").display()),
            "curve.allow_dir: cannot read the folder".to_string(),
        ),
        (
            format!("[curve]\nsecret_key_file = \"{secret}\"\nallow = [\"tooshort\"]\n"),
            "curve.allow[0]: \"tooshort\" is not a CURVE public key".to_string(),
        ),
        (
            format!("[curve]\nsecret_key_file = \"{secret}\"\n"),
            "curve.allow: no sender could connect".to_string(),
        ),
        (
            format!("[curve]\nsecret_key_file = \"{secret}\"\nallow_dir = \"{}\"\nmax_connections = 0\n", clients.display()),
            "curve.max_connections: must be at least 1".to_string(),
        ),
        (
            format!("[curve]\nsecret_key_file = \"{secret}\"\nallow_dir = \"{}\"\nkey = 1\n", clients.display()),
            "unknown field `key`".to_string(),
        ),
    ];
    for (text, want) in &cases {
        let config = write_config(
            dir.path(),
            &format!("bind = [\"tcp://127.0.0.1:0\"]\n{text}"),
        );
        assert_config_refused(
            Path::new(&config),
            dir.path(),
            &["logfunnel-collector: error: ", want],
        );
    }
    // And the good one checks, saying CURVE is on.
    let config = write_config(
        dir.path(),
        &format!(
            "bind = [\"tcp://0.0.0.0:0\"]\n[curve]\nsecret_key_file = \"{secret}\"\nallow_dir = \"{}\"\n",
            clients.display()
        ),
    );
    let out = run(&["--config", &config, "--check-config"], dir.path());
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("curve: on, secret key"), "{text}");
    drop(collector_pub);
}

#[test]
fn sighup_rereads_allow_dir_so_a_listed_sender_gets_in() {
    let dir = tempfile::tempdir().unwrap();
    let (collector_pub, collector_secret) = keygen(dir.path(), "collector");
    let (client_pub, client_secret) = keygen(dir.path(), "client");
    let clients = dir.path().join("clients");
    std::fs::create_dir(&clients).unwrap();
    let out = dir.path().join("out.jsonl");
    let endpoint = format!("tcp://127.0.0.1:{}", free_port());
    let config = write_config(
        dir.path(),
        &format!(
            "bind = [\"{endpoint}\"]\nstats_interval_s = 1\nflush_interval_ms = 20\n\
             [curve]\nsecret_key_file = \"{}\"\nallow_dir = \"{}\"\n\
             [[sink]]\nkind = \"jsonl\"\npath = \"{}\"\n",
            collector_secret.display(),
            clients.display(),
            out.display()
        ),
    );
    let collector = Proc::spawn(&["--config", &config], dir.path());

    let mut options = SenderOptions::new(&endpoint);
    options.curve_server_key = Some(KeySource::File(collector_pub));
    options.curve_secret_key = Some(KeySource::parse(client_secret.to_str().unwrap()));
    options.block_timeout = Duration::from_secs(60);
    options.close_timeout = Duration::from_secs(30);
    let refused = Sender::new(options.clone()).unwrap();
    log_n(&refused, "app", "before the reload", 10);
    let rejected_line = |p: &Proc| {
        p.lines()
            .iter()
            .any(|l| l.contains("auth_rejected=") && !l.contains("auth_rejected=0"))
    };
    assert!(
        wait_until(PATIENCE, || rejected_line(&collector)),
        "no rejection in the stats line: {:?}",
        collector.lines()
    );
    assert!(collector.has_line("is not in the allowlist"));
    // libzmq does not retry a connection the server turned away: that sender's records stay with it.
    assert_eq!(
        refused.close(Duration::from_millis(500)),
        logfunnel_core::FlushStatus::TimedOut { pending: 10 }
    );

    std::fs::copy(&client_pub, clients.join("client.key")).unwrap();
    collector.signal(libc::SIGHUP);
    assert!(
        wait_until(PATIENCE, || collector
            .has_line("SIGHUP: allowlist re-read, 1 sender key(s)")),
        "{:?}",
        collector.lines()
    );
    let sender = Sender::new(options).unwrap();
    log_n(&sender, "app", "after the reload", 10);
    close(&sender);
    assert!(
        wait_until(PATIENCE, || jsonl(&out).len() == 10),
        "records after the reload: {}",
        jsonl(&out).len()
    );
    assert!(jsonl(&out)
        .iter()
        .all(|r| r["msg"].as_str().unwrap().starts_with("after the reload")));
    collector.signal(libc::SIGTERM);
}
