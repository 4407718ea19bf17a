#!/usr/bin/env bash
# The logfunnel benchmarks in one command (issue 7).
#
#   bench/run.sh            full run: every item, several runs each; writes bench/RESULTS.md
#   bench/run.sh --smoke    tiny N, every item, under a minute once built; writes nothing; exits non-zero
#                           if logfunnel loses a record or any case fails (never on timing)
#
# Options (before the ones passed on to bench/python/main.py, e.g. --items 1,3 or --runs 5):
#   --venv DIR      Python environment to use (default bench/.venv, created if missing)
#   --no-install    do not (re)install ./python and the baselines into it
#   --no-build      do not run cargo (use the binaries already in target/release)
#   --profile WHAT  instead of the benchmark, print the profile behind RESULTS.md's notes:
#                   `python` (py-spy of logfunnel.Handler's per-call path) or `collector` (perf)
set -euo pipefail
cd "$(dirname "$0")/.."

cmdline="bench/run.sh${*:+ $*}"
venv=bench/.venv
install=1
build=1
profile=
pass=()
while [ $# -gt 0 ]; do
    case "$1" in
        --venv) venv=$2; shift 2 ;;
        --no-install) install=0; shift ;;
        --no-build) build=0; shift ;;
        --profile) profile=$2; shift 2 ;;
        *) pass+=("$1"); shift ;;
    esac
done

log() { printf '[bench] %s\n' "$*" >&2; }

log "machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'); load average: $(cut -d' ' -f1-3 /proc/loadavg)"

if [ ! -x "$venv/bin/python" ]; then
    log "creating $venv"
    python3 -m venv "$venv"
    "$venv/bin/python" -m pip install -q --upgrade pip
    install=1
fi
py="$venv/bin/python"

if [ "$install" = 1 ]; then
    log "installing the baselines (bench/requirements.txt) into $venv"
    "$py" -m pip install -q -r bench/requirements.txt
    log "installing ./python (builds the extension; about a minute the first time)"
    "$py" -m pip install -q ./python
fi

if [ "$build" = 1 ]; then
    log "building the release collector and the blaster"
    cargo build -q --release -p logfunnel-collector
    cargo build -q --release --manifest-path bench/blaster/Cargo.toml --target-dir "${CARGO_TARGET_DIR:-target}"
fi

if [ -n "$profile" ]; then
    exec "$py" bench/python/profile.py "$profile"
fi
exec "$py" bench/python/main.py --command "$cmdline" ${pass[@]+"${pass[@]}"}
