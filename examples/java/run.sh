#!/usr/bin/env bash
# From a logfunnel checkout: builds the library, the collector and the Java jars, starts a collector that
# prints to the terminal and writes records.jsonl, runs the Logback and the JUL example against it, then
# stops it. Port: $LOGFUNNEL_PORT (default 5555).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
port="${LOGFUNNEL_PORT:-5555}"

# shellcheck source=../../java/jdk.sh
source "$repo/java/jdk.sh"

echo "== building liblogfunnel.so, the collector and the io.logfunnel jars"
(cd "$repo" && cargo build -q -p logfunnel-ffi -p logfunnel-collector)
(cd "$repo/java" && mvn -q -B install -DskipTests 2>&1 | strip_colours)

work="$(mktemp -d)"
trap 'kill "$collector" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"' EXIT
echo "== collector on tcp://127.0.0.1:$port (console + $work/records.jsonl)"
"$repo/target/debug/logfunnel-collector" --bind "tcp://127.0.0.1:$port" --console --jsonl "$work/records.jsonl" \
    --format '%(asctime)s %(lang)-5s %(levelname)-8s %(name)s: %(message)s' &
collector=$!
sleep 1

sed "s|^io.logfunnel.jul.LogfunnelHandler.endpoint = .*|io.logfunnel.jul.LogfunnelHandler.endpoint = tcp://127.0.0.1:$port|" \
    "$here/logging.properties" > "$work/logging.properties"

cd "$here"
echo "== Logback example (com.example.App)"
LOGFUNNEL_ENDPOINT="tcp://127.0.0.1:$port" mvn -q -B compile exec:exec 2>&1 | strip_colours
echo "== JUL example (com.example.JulApp)"
mvn -q -B exec:exec -Dexample.main=com.example.JulApp -Dexample.julConfig="$work/logging.properties" 2>&1 | strip_colours

sleep 0.5
kill -TERM "$collector"
wait "$collector" || true
echo "== the last record as the collector stored it (records.jsonl)"
tail -n 1 "$work/records.jsonl"
echo
echo "== $(wc -l < "$work/records.jsonl") records"
