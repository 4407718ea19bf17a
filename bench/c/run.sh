#!/usr/bin/env bash
# C per-call benchmark: builds the release library and collector, starts a collector writing to a
# temporary file, runs bench.c against it (linked against liblogfunnel.so), and stops the collector.
# Usage: bench/c/run.sh [CALLS_PER_VARIANT] [LONG_RUN_CALLS] [BURST] [ROUNDS]   (see bench.c)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
target="${CARGO_TARGET_DIR:-$root/target}"
(cd "$root" && cargo build --release -q -p logfunnel-ffi -p logfunnel-collector)

work="$(mktemp -d)"
collector_pid=""
cleanup() {
    if [ -n "$collector_pid" ]; then kill "$collector_pid" 2>/dev/null || true; wait "$collector_pid" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT

${CC:-cc} -O2 -Wall -Wextra -I"$root/include" "$root/bench/c/bench.c" -o "$work/bench" \
    -L"$target/release" -llogfunnel -Wl,-rpath,"$target/release"

# Twice, back to back: into a default collector (acknowledged delivery) and into one announcing
# none (`--no-acknowledge`, the v1 path: the baseline the acknowledged path must not be slower than).
for path in acknowledged v1; do
    endpoint="ipc://$work/collector-$path.sock"
    flags=()
    [ "$path" = v1 ] && flags=(--no-acknowledge)
    "$target/release/logfunnel-collector" --bind "$endpoint" --file "$work/bench-$path.log" \
        "${flags[@]}" 2>"$work/collector-$path.err" &
    collector_pid=$!
    echo "== $path path; load average: $(cut -d' ' -f1-3 /proc/loadavg)"
    "$work/bench" "$endpoint" "${1:-200000}" "${2:-2000000}" "${3:-0}" "${4:-5}"
    kill -TERM "$collector_pid" 2>/dev/null || true
    wait "$collector_pid" 2>/dev/null || true
    collector_pid=
done
