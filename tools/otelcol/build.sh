#!/usr/bin/env bash
# Builds the test Collector (main.go, modules pinned in go.mod/go.sum) once and prints its path.
# The binary is cached under a name made of the hash of main.go, go.mod and go.sum, so a change to
# any of them builds a new one and an unchanged tree reuses the old one (about a minute saved per
# test run on two cores). LOGFUNNEL_CACHE_DIR overrides the cache folder.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
hash=$(cat "$here/main.go" "$here/go.mod" "$here/go.sum" | sha256sum | cut -c1-16)
cache=${LOGFUNNEL_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/logfunnel}
bin="$cache/otelcol-$hash"
if [ ! -x "$bin" ]; then
    mkdir -p "$cache"
    # Build beside the final name and rename, so a concurrent run never sees half a binary.
    tmp="$bin.tmp.$$"
    (cd "$here" && go build -mod=readonly -trimpath -o "$tmp" .) >&2
    mv -f "$tmp" "$bin"
fi
echo "$bin"
