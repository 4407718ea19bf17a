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

if [[ -z "${JAVA_HOME:-}" || ! -x "$JAVA_HOME/bin/javac" ]] || ! "$JAVA_HOME/bin/java" -version 2>&1 | grep -qE 'version "(2[2-9]|[3-9][0-9])'; then
    JAVA_HOME="$(ls -d /usr/lib/jvm/temurin-2[2-9]* /usr/lib/jvm/*-2[2-9]-* 2>/dev/null | head -1 || true)"
    [[ -n "$JAVA_HOME" ]] || { echo "run.sh: set JAVA_HOME to a JDK >= 22" >&2; exit 2; }
fi
export JAVA_HOME PATH="$JAVA_HOME/bin:$PATH"
export MAVEN_OPTS="${MAVEN_OPTS:-} --sun-misc-unsafe-memory-access=allow"
strip() { sed -u 's/\x1b\[[0-9;]*m//g'; }

echo "[bench/java] cargo build --release -p logfunnel-ffi -p logfunnel-collector" >&2
(cd "$repo" && cargo build -q --release -p logfunnel-ffi -p logfunnel-collector)
echo "[bench/java] installing the io.logfunnel jars (mvn install -DskipTests in java/)" >&2
(cd "$repo/java" && mvn -q -B install -DskipTests 2>&1 | strip)
cd "$here"
mvn -q -B compile exec:exec \
    -Dbench.jvm="-Dlogfunnel.library.path=$repo/target/release/liblogfunnel.so -Dlogfunnel.bench.collector=$repo/target/release/logfunnel-collector" \
    -Dbench.args="$*" \
    2>&1 | strip
