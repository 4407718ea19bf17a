#!/usr/bin/env bash
# Runs the Java binding's test suite (JUnit 5 through Maven Surefire) against a real collector.
#
#   java/run-tests.sh            # from anywhere; extra arguments go to Maven (e.g. -Dtest=SenderTest)
#
# 1. builds liblogfunnel.so and the collector with cargo (debug; a no-op when up to date),
# 2. picks a JDK >= 22 (the Foreign Function & Memory API): $JAVA_HOME if it is one, else the newest
#    under /usr/lib/jvm,
# 3. runs `mvn -q -B verify` in java/ (Maven Central is used; an empty ~/.m2 is fine),
# 4. prints Surefire's totals from the XML reports, ending with "java: N passed, M failed".
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(dirname "$here")"

# shellcheck source=jdk.sh
source "$here/jdk.sh"
echo "run-tests.sh: JDK $JAVA_HOME ($(java_feature "$JAVA_HOME")), $(mvn -v 2>/dev/null | head -1 | sed 's/\x1b\[[0-9;]*m//g')"

echo "run-tests.sh: cargo build -p logfunnel-ffi -p logfunnel-collector"
(cd "$repo" && cargo build -q -p logfunnel-ffi -p logfunnel-collector)
target="${CARGO_TARGET_DIR:-$repo/target}"
target="$(cd "$target" && pwd)"

cd "$here"
rm -rf logfunnel-*/target/surefire-reports
status=0
mvn -q -B -Dstyle.color=never verify \
    -Dlogfunnel.native.dir="$target/debug" -Dlogfunnel.collector="$target/debug/logfunnel-collector" "$@" 2>&1 | strip_colours || status=$?

# Surefire's totals, summed over the modules' XML reports.
tests=0 failures=0 errors=0 skipped=0 failed_names=()
shopt -s nullglob
for f in logfunnel-*/target/surefire-reports/TEST-*.xml; do
    head="$(grep -m1 -o '<testsuite [^>]*>' "$f")"
    for k in tests failures errors skipped; do
        n="$(sed -n "s/.* $k=\"\([0-9]*\)\".*/\1/p" <<<"$head")"
        declare "$k=$(( ${!k} + ${n:-0} ))"
    done
    while IFS= read -r name; do failed_names+=("$name"); done < <(
        awk '/<testcase /{match($0, /name="[^"]*"/); n=substr($0, RSTART+6, RLENGTH-7)}
             /<(failure|error)[ >]/{print n}' "$f")
done
for n in "${failed_names[@]}"; do echo "FAILED: $n"; done
echo "Tests run: $tests, Failures: $failures, Errors: $errors, Skipped: $skipped"
echo "java: $(( tests - failures - errors - skipped )) passed, $(( failures + errors )) failed, $skipped skipped"
if [[ $status -ne 0 && $(( failures + errors )) -eq 0 ]]; then
    echo "run-tests.sh: mvn failed (exit $status) outside the tests; run it without -q to see why" >&2
fi
exit $status
