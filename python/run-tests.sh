#!/usr/bin/env bash
# Builds the logfunnel Python package from source into a venv and runs its pytest suite.
#
#   python/run-tests.sh [pytest args...]
#
# Needs Rust (cargo), a C/C++ toolchain and python3 with venv; everything else is installed into the
# venv (default python/.venv, or $LOGFUNNEL_VENV). With LOGFUNNEL_SDIST_CHECK=1 it also builds an
# sdist and installs it into a second, fresh venv (slow: a full build).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
venv="${LOGFUNNEL_VENV:-$here/.venv}"
python="${PYTHON:-python3}"

if [ ! -x "$venv/bin/python" ]; then
    "$python" -m venv "$venv"
fi
"$venv/bin/python" -m pip install -q "maturin>=1.16,<2" pytest pyzmq mypy "gunicorn==23.0.0" "celery==5.4.0"
# Builds the extension (release) with the workspace's target dir, so rebuilds are incremental.
export PATH="$venv/bin:$PATH"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$root/target}"
"$venv/bin/python" -m pip install -q --no-build-isolation "$here"

cd "$here/tests"
if [ "${LOGFUNNEL_SDIST_CHECK:-0}" != "1" ]; then
    echo "(the sdist check is skipped; LOGFUNNEL_SDIST_CHECK=1 runs it)"
fi
# Test the installed package, not the source folder (`python -m pytest` would put python/ first on
# sys.path, and the source folder has no compiled extension in a fresh clone).
"$venv/bin/python" -c 'import logfunnel; print("testing", logfunnel.__file__)' </dev/null
"$venv/bin/pytest" . -p no:cacheprovider -q "$@"
