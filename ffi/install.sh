#!/usr/bin/env bash
# Installs the logfunnel C library under PREFIX:
#   PREFIX/include/logfunnel.h
#   PREFIX/lib/liblogfunnel.so, PREFIX/lib/liblogfunnel.a
#   PREFIX/lib/pkgconfig/logfunnel.pc
#   PREFIX/lib/cmake/logfunnel/logfunnel.cmake
# Usage: ffi/install.sh PREFIX        (builds with `cargo build --release -p logfunnel-ffi` first)
#        LOGFUNNEL_LIB_DIR=DIR ffi/install.sh PREFIX   (installs the libraries already built in DIR)
set -euo pipefail

prefix="${1:?usage: ffi/install.sh PREFIX}"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
header="$root/include/logfunnel.h"

lib_dir="${LOGFUNNEL_LIB_DIR:-}"
if [ -z "$lib_dir" ]; then
    (cd "$root" && cargo build --release -p logfunnel-ffi)
    lib_dir="${CARGO_TARGET_DIR:-$root/target}/release"
fi

version="$(sed -n 's/^#define LF_VERSION_MAJOR //p' "$header").$(sed -n 's/^#define LF_VERSION_MINOR //p' "$header").$(sed -n 's/^#define LF_VERSION_PATCH //p' "$header")"
mkdir -p "$prefix"
prefix="$(cd "$prefix" && pwd)"

install -D -m 0644 "$header" "$prefix/include/logfunnel.h"
install -D -m 0755 "$lib_dir/liblogfunnel.so" "$prefix/lib/liblogfunnel.so"
install -D -m 0644 "$lib_dir/liblogfunnel.a" "$prefix/lib/liblogfunnel.a"
mkdir -p "$prefix/lib/pkgconfig"
sed -e "s|@PREFIX@|$prefix|" -e "s|@VERSION@|$version|" "$root/ffi/logfunnel.pc.in" \
    > "$prefix/lib/pkgconfig/logfunnel.pc"
install -D -m 0644 "$root/ffi/logfunnel.cmake" "$prefix/lib/cmake/logfunnel/logfunnel.cmake"
echo "installed logfunnel $version under $prefix"
