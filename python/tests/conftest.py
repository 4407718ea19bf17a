"""Shared fixtures: a real collector (``logfunnel.serve``) writing a jsonl file, and helpers to run
real Python processes against it and to check what arrived, record by record."""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys
import textwrap
import time
from collections import defaultdict
from typing import Any, Dict, List, Optional

import pytest

import logfunnel

ROOT = pathlib.Path(__file__).resolve().parents[2]
VECTORS = ROOT / "spec" / "vectors"
TEXT_FORMAT = "%(name)s|%(levelname)s|%(processName)s|%(message)s"


class Collected:
    """A collector in this process with a jsonl sink and a text sink."""

    def __init__(self, tmp_path: pathlib.Path, **config: Any) -> None:
        self.jsonl = tmp_path / "collected.jsonl"
        self.text = tmp_path / "collected.log"
        sinks = [
            {"kind": "jsonl", "path": str(self.jsonl)},
            {"kind": "file", "path": str(self.text), "format": TEXT_FORMAT},
        ]
        config.setdefault("bind", "tcp://127.0.0.1:0")
        config.setdefault("flush_interval_ms", 20)
        self.server = logfunnel.serve(sinks=sinks, **config)
        self.endpoint = self.server.endpoint

    def _read(self) -> List[Dict[str, Any]]:
        try:
            data = self.jsonl.read_bytes()
        except FileNotFoundError:
            return []
        # Only whole lines: the collector may be in the middle of writing one.
        end = data.rfind(b"\n")
        return [json.loads(line) for line in data[: end + 1].splitlines() if line]

    def records(self, n: int, timeout: float = 30.0, settle: float = 0.3) -> List[Dict[str, Any]]:
        """Waits until at least ``n`` records were written, then a moment more (so that extra,
        unexpected records show up too) and returns all of them."""
        deadline = time.monotonic() + timeout
        recs = self._read()
        while len(recs) < n and time.monotonic() < deadline:
            time.sleep(0.02)
            recs = self._read()
        time.sleep(settle)
        return self._read()

    def text_lines(self) -> List[str]:
        return self.text.read_text(encoding="utf-8").splitlines()

    def stats(self) -> Dict[str, Any]:
        return self.server.stats()

    def stop(self) -> None:
        self.server.stop()


@pytest.fixture
def collector(tmp_path: pathlib.Path):
    c = Collected(tmp_path)
    try:
        yield c
    finally:
        c.stop()


def by_sender(records: List[Dict[str, Any]]) -> Dict[str, List[Dict[str, Any]]]:
    """Groups records by ``sid`` and checks that each sender's records arrived complete and in order
    (``seq`` 0, 1, 2, ... in arrival order)."""
    groups: Dict[str, List[Dict[str, Any]]] = defaultdict(list)
    for r in records:
        groups[r["sid"]].append(r)
    for sid, rs in groups.items():
        seqs = [r["seq"] for r in rs]
        assert seqs == list(range(len(rs))), "sender %s: seq not 0..%d in order: %s" % (
            sid,
            len(rs) - 1,
            _first_gap(seqs),
        )
    return dict(groups)


def _first_gap(seqs: List[int]) -> str:
    for i, s in enumerate(seqs):
        if s != i:
            return "first difference at position %d: %d" % (i, s)
    return "ok"


def wait_until(condition: Any, timeout: float = 20.0) -> bool:
    """Polls ``condition`` every 20 ms until it is true (True) or ``timeout`` seconds pass (False)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return False


def run_script(
    tmp_path: pathlib.Path,
    code: str,
    *args: str,
    timeout: float = 90.0,
    check: bool = True,
    env: Optional[Dict[str, str]] = None,
) -> subprocess.CompletedProcess:
    """Runs ``code`` as a script file (so multiprocessing's spawn can re-import it) in a new Python
    process with ``args``; fails the test if it does not finish within ``timeout``."""
    script = tmp_path / ("script_%d.py" % time.monotonic_ns())
    script.write_text(textwrap.dedent(code), encoding="utf-8")
    full_env = dict(os.environ)
    full_env.update(env or {})
    proc = subprocess.run(
        [sys.executable, str(script), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=full_env,
        cwd=str(tmp_path),
    )
    if check and proc.returncode != 0:
        raise AssertionError(
            "script failed with %d\nstdout:\n%s\nstderr:\n%s"
            % (proc.returncode, proc.stdout, proc.stderr)
        )
    return proc
