# Sourced (not run) by java/run-tests.sh, examples/java/run.sh and bench/java/run.sh: picks a JDK >= 22
# (the Foreign Function & Memory API) and sets JAVA_HOME, PATH and MAVEN_OPTS for Maven; defines
# java_feature and strip_colours.

java_feature() { # the feature release of the JDK at $1 (e.g. 25), or 0
    local v
    v="$("$1/bin/java" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = //p')"
    echo "${v:-0}" | cut -d. -f1
}

pick_jdk() { # $JAVA_HOME if it is a JDK >= 22, else the newest one under /usr/lib/jvm
    if [[ -n "${JAVA_HOME:-}" && -x "$JAVA_HOME/bin/javac" && "$(java_feature "$JAVA_HOME")" -ge 22 ]]; then
        echo "$JAVA_HOME"
        return
    fi
    local best="" best_v=0 d v
    for d in /usr/lib/jvm/*/; do
        d="${d%/}"
        [[ -x "$d/bin/javac" ]] || continue
        v="$(java_feature "$d")"
        if [[ "$v" -gt "$best_v" ]]; then best="$d"; best_v="$v"; fi
    done
    if [[ "$best_v" -lt 22 ]]; then
        echo "no JDK >= 22 found (JAVA_HOME=${JAVA_HOME:-unset}, /usr/lib/jvm has none);" \
             "install one, e.g. Temurin 25, and set JAVA_HOME" >&2
        exit 2
    fi
    echo "$best"
}

# (Debian's Maven 3.8 prints bare colour resets even in batch mode.)
strip_colours() { sed -u 's/\x1b\[[0-9;]*m//g'; }

JAVA_HOME="$(pick_jdk)"
export JAVA_HOME
export PATH="$JAVA_HOME/bin:$PATH"
if [[ "$(java_feature "$JAVA_HOME")" -ge 24 ]]; then
    # Maven 3.8's bundled Guava uses sun.misc.Unsafe; JDK 24+ warns about it on every run.
    export MAVEN_OPTS="${MAVEN_OPTS:-} --sun-misc-unsafe-memory-access=allow"
fi
