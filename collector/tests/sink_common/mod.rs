//! Helpers shared by the sink tests: read back what a sink left in a directory.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

/// A fresh temporary directory and the path `app.log` in it, where the sink under test writes.
pub fn temp_log() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.log");
    (dir, path)
}

/// Every file in `dir` (name -> lines), `.gz` files decompressed.
pub fn listing(dir: &Path) -> BTreeMap<String, Vec<String>> {
    let mut out = BTreeMap::new();
    for entry in fs::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name().into_string().unwrap();
        let text = read_text(&entry.path());
        out.insert(name, text.lines().map(str::to_string).collect());
    }
    out
}

/// The names of the files in `dir`, sorted.
pub fn names(dir: &Path) -> Vec<String> {
    listing(dir).into_keys().collect()
}

/// A file's text; `.gz` files are decompressed with flate2 (and must be complete gzip streams).
pub fn read_text(path: &Path) -> String {
    let bytes = fs::read(path).unwrap();
    if path.extension().is_some_and(|e| e == "gz") {
        let mut text = String::new();
        flate2::read::GzDecoder::new(bytes.as_slice())
            .read_to_string(&mut text)
            .unwrap_or_else(|e| panic!("{} is not valid gzip: {e}", path.display()));
        text
    } else {
        String::from_utf8(bytes).unwrap()
    }
}

/// Expected listing from literal pairs.
pub fn expect(pairs: &[(&str, &[&str])]) -> BTreeMap<String, Vec<String>> {
    pairs
        .iter()
        .map(|(name, lines)| {
            (
                name.to_string(),
                lines.iter().map(|l| l.to_string()).collect(),
            )
        })
        .collect()
}
