//! Checks on the committed header itself: its version agrees with Cargo.toml and the library, it
//! compiles cleanly as C and C++, and it declares exactly the functions the library exports.

mod common;

use common::{build, run_ok, values, workspace_root, Link};
use std::collections::BTreeSet;
use std::process::Command;

fn header() -> String {
    std::fs::read_to_string(workspace_root().join("include/logfunnel.h"))
        .expect("include/logfunnel.h")
}

/// The value of `#define NAME value` in the header.
fn define(header: &str, name: &str) -> String {
    header
        .lines()
        .find_map(|l| {
            let rest = l.strip_prefix("#define ")?;
            let (n, v) = rest.split_once(' ')?;
            (n == name).then(|| v.trim().to_string())
        })
        .unwrap_or_else(|| panic!("#define {name} not in the header"))
}

#[test]
fn header_version_macros_lf_version_and_cargo_toml_agree() {
    let h = header();
    let cargo = env!("CARGO_PKG_VERSION");
    let from_header = format!(
        "{}.{}.{}",
        define(&h, "LF_VERSION_MAJOR"),
        define(&h, "LF_VERSION_MINOR"),
        define(&h, "LF_VERSION_PATCH")
    );
    assert_eq!(from_header, cargo, "header macros vs Cargo.toml");
    // As a C program sees them: LF_VERSION (built from the macros) and lf_version() from the shared
    // library it loaded (the library is C-only: no rlib, so the Rust crate `logfunnel` owns that name).
    let out = run_ok(&build("version", Link::Shared), &[], None);
    assert_eq!(
        out.split_whitespace().next(),
        Some(&*format!("header={cargo}"))
    );
    assert!(out.contains(&format!("library={cargo}")), "{out}");
    let (major, minor, patch) = (
        env!("CARGO_PKG_VERSION_MAJOR").parse::<i64>().unwrap(),
        env!("CARGO_PKG_VERSION_MINOR").parse::<i64>().unwrap(),
        env!("CARGO_PKG_VERSION_PATCH").parse::<i64>().unwrap(),
    );
    assert_eq!(
        values(&out, "")["number"],
        major * 10000 + minor * 100 + patch
    );
}

/// Compiles a file that includes the header twice with `compiler` and `flags`; fails on any warning.
fn compiles(compiler: &str, ext: &str, flags: &[&str]) {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join(format!("use.{ext}"));
    std::fs::write(
        &src,
        "#include \"logfunnel.h\"\n#include \"logfunnel.h\"\n\
         int use(const lf_sender *s) {\n\
           lf_field f[2] = {LF_FIELD_STR(\"k\", \"v\"), LF_FIELD_I64(\"n\", 1)};\n\
           (void)f;\n\
           return (int)LF_INFOF(s, \"app\", \"%d %s\", 1, \"x\") + (int)LF_INFO(s, NULL, \"m\");\n\
         }\n",
    )
    .unwrap();
    let out = Command::new(compiler)
        .args(flags)
        .args(["-Wall", "-Wextra", "-Wpedantic", "-Werror", "-fsyntax-only"])
        .arg(format!("-I{}", workspace_root().join("include").display()))
        .arg(&src)
        .output()
        .unwrap_or_else(|e| panic!("run {compiler}: {e}"));
    assert!(
        out.status.success(),
        "{compiler} {flags:?} rejects the header:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn header_compiles_cleanly_as_c99_c11_c23_and_cxx() {
    compiles(&common::cc(), "c", &["-std=c99"]);
    compiles(&common::cc(), "c", &["-std=c11"]);
    compiles(&common::cc(), "c", &["-std=c2x"]);
    let cxx = std::env::var("CXX").unwrap_or_else(|_| "c++".into());
    compiles(&cxx, "cpp", &["-std=c++11"]);
    compiles(&cxx, "cpp", &["-std=c++17"]);
}

#[test]
fn header_declares_exactly_the_exported_functions() {
    let h = header();
    // Prototypes of exported functions look like `<type> *?lf_name(`; static inline helpers are not
    // exported and are excluded.
    let mut declared = BTreeSet::new();
    let mut in_inline = false;
    for line in h.lines() {
        if line.starts_with("static inline") {
            in_inline = true;
        }
        if in_inline {
            if line.starts_with('}') {
                in_inline = false;
            }
            continue;
        }
        if line.starts_with(' ') || line.starts_with('#') || line.starts_with('/') {
            continue;
        }
        if let Some(open) = line.find('(') {
            let before = &line[..open];
            if let Some(name) = before.split([' ', '*']).next_back() {
                if name.starts_with("lf_") {
                    declared.insert(name.to_string());
                }
            }
        }
    }
    let so = common::lib_dir().join("liblogfunnel.so");
    let out = Command::new("nm")
        .args(["-D", "--defined-only"])
        .arg(&so)
        .output()
        .expect("run nm");
    assert!(out.status.success());
    let exported: BTreeSet<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| {
            let mut w = l.split_whitespace();
            let (_, kind, name) = (w.next()?, w.next()?, w.next()?);
            (kind == "T" && name.starts_with("lf_")).then(|| name.to_string())
        })
        .collect();
    assert!(exported.len() >= 20, "{exported:?}");
    assert_eq!(
        declared, exported,
        "header declarations vs exported symbols"
    );
    let zmq: Vec<&str> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| l.contains(" T zmq_"))
        .map(|_| "zmq")
        .collect();
    assert!(zmq.is_empty(), "the shared library exports libzmq symbols");
}

/// The comment block right above the declaration of `function` in the header, joined into one line.
fn doc_of(header: &str, function: &str) -> String {
    let lines: Vec<&str> = header.lines().collect();
    let at = lines
        .iter()
        .position(|l| l.contains(&format!(" {function}(")))
        .unwrap_or_else(|| panic!("{function} not declared in the header"));
    let mut doc = Vec::new();
    for line in lines[..at].iter().rev() {
        let t = line.trim();
        if t == "/**" {
            break;
        }
        doc.push(t.trim_start_matches("*/").trim_start_matches('*').trim());
    }
    doc.reverse();
    doc.join(" ")
}

/// Each `lf_options_set_<key>` whose key is a core option says `Default: ...` with the value in
/// `spec/defaults.json` (the core's `SenderOptions::new`): the C docs cannot drift from the core.
#[test]
fn setters_document_the_core_defaults() {
    let h = header();
    let spec: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(workspace_root().join("spec/defaults.json")).unwrap(),
    )
    .unwrap();
    let mut checked = 0;
    for (key, default) in spec["sender"].as_object().unwrap() {
        let function = format!("lf_options_set_{key}");
        // Not settable from C (the core default always applies), or the C library's own default
        // (each binding stamps its own `lang`).
        if !h.contains(&format!(" {function}(")) || key == "lang" {
            continue;
        }
        let doc = doc_of(&h, &function);
        let documented = doc
            .split_once("Default: ")
            .unwrap_or_else(|| panic!("{function}: no `Default: ` in its comment: {doc}"))
            .1;
        let expected = match (key.as_str(), default) {
            ("host", serde_json::Value::Null) => "the machine's host name".to_string(),
            // A key no sender has unless set: plaintext.
            (_, serde_json::Value::Null) => "none".to_string(),
            // An enum value names its constant: "xpub" is `LF_MODE_XPUB`.
            ("mode", v) => format!("`LF_MODE_{}`", v.as_str().unwrap().to_uppercase()),
            ("overflow", v) => format!("`LF_OVERFLOW_{}`", v.as_str().unwrap().to_uppercase()),
            (_, v) => format!("`{v}`"),
        };
        assert!(
            documented.starts_with(&expected),
            "{function}: documents {documented:?}, spec/defaults.json says {expected}"
        );
        checked += 1;
    }
    assert!(
        checked >= 9,
        "only {checked} setters matched spec/defaults.json keys"
    );
}
