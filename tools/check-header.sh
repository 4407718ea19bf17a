#!/usr/bin/env bash
# Header drift check: regenerates include/logfunnel.h with the pinned cbindgen and fails on any
# difference from the committed file. `--fix` writes the regenerated header instead.
# Installs the pinned cbindgen with `cargo install --locked` when it is missing (a few minutes, once).
set -euo pipefail

CBINDGEN_VERSION=0.29.4
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
header="$root/include/logfunnel.h"

have_pinned() {
    command -v cbindgen >/dev/null 2>&1 && [ "$(cbindgen --version)" = "cbindgen $CBINDGEN_VERSION" ]
}
if ! have_pinned; then
    echo "check-header: installing cbindgen $CBINDGEN_VERSION" >&2
    cargo install cbindgen --version "$CBINDGEN_VERSION" --locked --quiet
    export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
    have_pinned || { echo "check-header: cbindgen $CBINDGEN_VERSION not on PATH after install" >&2; exit 1; }
fi

tmp="$(mktemp)"
trap 'rm -f "$tmp"' EXIT
# cbindgen warns about private items it skips; only failures matter here. It reads logfunnel-ffi after
# macro expansion (`[parse.expand]` in ffi/cbindgen.toml: lf_stats comes from a macro), which runs
# `cargo rustc -- -Zunpretty=expanded`; RUSTC_BOOTSTRAP=1 lets the stable toolchain do that.
RUSTC_BOOTSTRAP=1 cbindgen --quiet --config "$root/ffi/cbindgen.toml" --crate logfunnel-ffi --output "$tmp" "$root/ffi"

if [ "${1:-}" = "--fix" ]; then
    cp "$tmp" "$header"
    echo "check-header: wrote include/logfunnel.h"
    exit 0
fi
if ! diff -u "$header" "$tmp"; then
    echo "check-header: include/logfunnel.h is out of date; run tools/check-header.sh --fix and commit it" >&2
    exit 1
fi
echo "check-header: include/logfunnel.h matches cbindgen $CBINDGEN_VERSION output"
