//! Two hosts for multi-host tests: a guard over `tools/netns.sh` (two network namespaces joined by a
//! veth pair) that removes them when dropped, also when the test panics.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The two namespaces, their addresses and veth devices.
pub struct TwoHosts {
    name: String,
    /// Namespace of host A (run programs there with [`TwoHosts::command_a`]).
    pub netns_a: String,
    /// Namespace of host B.
    pub netns_b: String,
    /// Host A's address on the link.
    #[allow(dead_code)] // each test binary uses its own part of the helper
    pub addr_a: String,
    /// Host B's address on the link.
    pub addr_b: String,
    /// Host A's end of the veth pair (capture the link's traffic here).
    pub dev_a: String,
}

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tools/netns.sh")
}

impl TwoHosts {
    /// Sets the hosts up, or returns `None` (after saying why on stderr) when this machine cannot
    /// make network namespaces (not root). `net` is the /24's first three octets, unique per test.
    pub fn up(name: &str, net: &str) -> Option<TwoHosts> {
        let output = Command::new("bash")
            .arg(script())
            .args(["up", name, net])
            .output()
            .expect("bash runs tools/netns.sh");
        if output.status.code() == Some(77) {
            eprintln!(
                "SKIPPED: {}",
                String::from_utf8_lossy(&output.stderr).trim()
            );
            return None;
        }
        assert!(
            output.status.success(),
            "tools/netns.sh up failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let text = String::from_utf8(output.stdout).unwrap();
        let value = |key: &str| {
            text.split_whitespace()
                .find_map(|pair| pair.strip_prefix(&format!("{key}=")))
                .unwrap_or_else(|| panic!("netns.sh printed no {key}: {text}"))
                .to_string()
        };
        Some(TwoHosts {
            name: name.into(),
            netns_a: value("NETNS_A"),
            netns_b: value("NETNS_B"),
            addr_a: value("ADDR_A"),
            addr_b: value("ADDR_B"),
            dev_a: value("DEV_A"),
        })
    }

    /// `program` run on host A.
    pub fn command_a(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        in_netns(&self.netns_a, program)
    }

    /// `program` run on host B.
    pub fn command_b(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        in_netns(&self.netns_b, program)
    }
}

fn in_netns(netns: &str, program: impl AsRef<std::ffi::OsStr>) -> Command {
    let mut command = Command::new("ip");
    command.args(["netns", "exec", netns]).arg(program);
    command
}

impl Drop for TwoHosts {
    fn drop(&mut self) {
        let _ = Command::new("bash")
            .arg(script())
            .args(["down", &self.name])
            .status();
    }
}
