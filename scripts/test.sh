#!/usr/bin/env bash
# Runs every test of logfunnel: Rust (format, lints, unit and integration tests, the C programs),
# the C header drift check, the Python package, the Java binding, and a smoke run of the benchmarks.
# Installs what it needs (apt packages, a Python venv, Maven dependencies) on a fresh Debian machine.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
export CARGO_TERM_COLOR=never
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"

step() { printf '\n==== %s ====\n' "$*"; }
started=$(date +%s)

step "tools"
need_apt=()
for tool in g++ make gzip pkg-config cmake nm; do
    command -v "$tool" >/dev/null || need_apt+=("$([ "$tool" = nm ] && echo binutils || echo "$tool")")
done
command -v valgrind >/dev/null || need_apt+=(valgrind)
if ((${#need_apt[@]})); then
    apt-get update -qq && apt-get install -y -qq "${need_apt[@]}"
fi
rustup component add rustfmt clippy >/dev/null 2>&1 || true
cargo --version
python3 --version

step "cargo fmt --check"
cargo fmt --all --check

step "cargo clippy"
cargo clippy --workspace --all-targets -- -D warnings

step "cargo test (Rust, and the C programs against the committed header)"
mkdir -p "$CARGO_TARGET_DIR"
# The C programs link liblogfunnel.so/.a, which `cargo test` does not build for a C-only library.
cargo build -q -p logfunnel-ffi
if ! cargo test --workspace --exclude logfunnel-python >"$CARGO_TARGET_DIR/cargo-test.log" 2>&1; then
    tail -n 150 "$CARGO_TARGET_DIR/cargo-test.log"
    grep -E "^test result" "$CARGO_TARGET_DIR/cargo-test.log" || true
    echo "cargo test failed (full output in target/cargo-test.log)"
    exit 1
fi
grep -E "^test result" "$CARGO_TARGET_DIR/cargo-test.log"

step "C header drift"
bash tools/check-header.sh

step "Python package"
# With the sdist check: build an sdist and install it into a fresh venv (issue 3 asks that it
# installs). It shares the target dir, so only logfunnel's own crates are compiled again.
LOGFUNNEL_SDIST_CHECK=1 bash python/run-tests.sh

step "Python package on the newest CPython >= 3.12 found (taskName, newer interpreters)"
# The main run above uses the machine's python3; features of 3.12+ (LogRecord.taskName) are only
# exercised on a newer interpreter. pyenv's versions are on this kind of machine; skipped if none.
newer=""
for candidate in python3.14 python3.13 python3.12 \
    "$HOME"/.pyenv/versions/3.14*/bin/python3 "$HOME"/.pyenv/versions/3.13*/bin/python3 \
    "$HOME"/.pyenv/versions/3.12*/bin/python3; do
    if command -v "$candidate" >/dev/null 2>&1 \
        && "$candidate" -c 'import sys, venv; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; then
        newer="$(command -v "$candidate")"
        break
    fi
done
if [ -n "$newer" ]; then
    echo "using $newer ($("$newer" --version))"
    PYTHON="$newer" LOGFUNNEL_VENV="$ROOT/python/.venv-newer" bash python/run-tests.sh
else
    echo "no CPython >= 3.12 found: skipped (taskName is tested only there)"
fi

step "Java binding"
bash java/run-tests.sh

step "benchmark smoke run"
bash bench/run.sh --smoke

step "summary"
grep -E "^test result" "$CARGO_TARGET_DIR/cargo-test.log" | awk '{p+=$4; f+=$6} END {printf "cargo: %d passed, %d failed\n", p, f}'
echo "all test suites passed in $(( $(date +%s) - started )) s"
