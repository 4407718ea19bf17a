#!/usr/bin/env bash
# Java appender benchmark: cost per Logback call of io.logfunnel.logback.LogfunnelAppender vs Logback's
# FileAppender and AsyncAppender, in one JMH run, with the ratios at the end.
#
#   bench/java/run.sh            # full run (about 3 minutes)
#   bench/java/run.sh --quick    # one short iteration each, to check the set-up
#   bench/java/run.sh --threads 2
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"

# shellcheck source=../../java/jdk.sh
source "$repo/java/jdk.sh"

echo "[bench/java] cargo build --release -p logfunnel-ffi -p logfunnel-collector" >&2
(cd "$repo" && cargo build -q --release -p logfunnel-ffi -p logfunnel-collector)
echo "[bench/java] installing the io.logfunnel jars (mvn install -DskipTests in java/)" >&2
(cd "$repo/java" && mvn -q -B install -DskipTests 2>&1 | strip_colours)
cd "$here"
mvn -q -B compile exec:exec \
    -Dbench.jvm="-Dlogfunnel.library.path=$repo/target/release/liblogfunnel.so -Dlogfunnel.bench.collector=$repo/target/release/logfunnel-collector" \
    -Dbench.args="$*" \
    2>&1 | strip_colours
