//! A sender used after `fork()`: the child builds its own socket (new sid) and the parent keeps working.
//! Its own test binary, so the fork happens with as few threads around as possible.

mod common;

use common::{per_sender_counts, Listener};
use logfunnel_core::{FlushStatus, Record, Sender, SenderOptions};
use std::time::Duration;

#[test]
fn child_and_parent_both_deliver_after_fork() {
    let listener = Listener::sub();
    let sender = Sender::new(SenderOptions::new(&listener.endpoint)).unwrap();
    for i in 0..1_000 {
        sender.log(Record::new("parent", 20, format!("before {i}")));
    }
    // Make sure the parent's I/O thread is busy with a live connection when we fork.
    let before = listener.recv_n(1_000, Duration::from_secs(5));
    assert_eq!(before.len(), 1_000);
    let parent_sid = sender.sid();

    // SAFETY: the child only uses the sender (which rebuilds its own libzmq objects) and then _exits.
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0, "fork failed");
    if pid == 0 {
        let ok = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            for i in 0..2_000 {
                sender.log(Record::new("child", 20, format!("child {i}")));
            }
            sender.close(Duration::from_secs(10)) == FlushStatus::Flushed
        }));
        unsafe { libc::_exit(if matches!(ok, Ok(true)) { 0 } else { 1 }) };
    }
    for i in 0..2_000 {
        sender.log(Record::new("parent", 20, format!("after {i}")));
    }
    let after = listener.recv_n(4_000, Duration::from_secs(15));
    let mut status = 0;
    unsafe { libc::waitpid(pid, &mut status, 0) };
    assert!(
        libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
        "child failed: {status}"
    );
    assert_eq!(after.len(), 4_000);

    let mut all = before;
    all.extend(after);
    let counts = per_sender_counts(&all);
    assert_eq!(counts.len(), 2, "the child must use a new sid");
    assert_eq!(counts[&parent_sid], 3_000);
    let child_sid = counts.keys().find(|s| **s != parent_sid).unwrap();
    assert_eq!(counts[child_sid], 2_000);
    let child_pids: std::collections::BTreeSet<_> = all
        .iter()
        .filter(|r| r["name"] == "child")
        .map(|r| r["process"].as_i64().unwrap())
        .collect();
    assert_eq!(child_pids.into_iter().collect::<Vec<_>>(), vec![pid as i64]);
    assert_eq!(sender.close(Duration::from_secs(5)), FlushStatus::Flushed);
}
