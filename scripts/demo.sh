#!/usr/bin/env bash
# The main job: build and install logfunnel into a venv, then run the multi-process demo
# (a collector in the main process, worker processes logging into it, one rotated log file).
# Extra arguments go to the demo, e.g. scripts/demo.sh --workers 8 --records 100000
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${LOGFUNNEL_VENV:-.venv}
[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
"$VENV/bin/pip" install -q --upgrade pip
"$VENV/bin/pip" install -q ./python
"$VENV/bin/python" examples/python/demo.py "$@"
