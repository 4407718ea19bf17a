"""The pattern python/README.md recommends for gunicorn, run for real: a logfunnel.Handler in
gunicorn's ``logconfig_dict`` (made in the master, inherited by forked workers), real HTTP requests
to several workers, then a graceful stop (SIGTERM). Every request's record must arrive, from the
worker processes, complete and in order per sender."""

from __future__ import annotations

import pathlib
import signal
import socket
import subprocess
import sys
import textwrap
import time
import urllib.request

import pytest

from conftest import by_sender

gunicorn = pytest.importorskip("gunicorn")

APP = """
import logging
import os

log = logging.getLogger("web.app")


def app(environ, start_response):
    n = environ.get("QUERY_STRING", "")
    log.info("request %s handled by %d", n, os.getpid(), extra={"request": int(n)})
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [str(os.getpid()).encode()]
"""

# As python/README.md recommends: gunicorn merges this dict over its own defaults key by key, so
# "root", "loggers" and "handlers" are all given (its default loggers name handlers this dict
# replaces). Gunicorn's own loggers go to the collector too.
CONFIG = """
workers = {workers}
bind = "127.0.0.1:{port}"
graceful_timeout = 20
logconfig_dict = {{
    "version": 1,
    "disable_existing_loggers": False,
    "root": {{"level": "INFO", "handlers": ["funnel"]}},
    "loggers": {{
        "gunicorn.error": {{"level": "INFO", "handlers": ["funnel"], "propagate": False}},
        "gunicorn.access": {{"level": "INFO", "handlers": ["funnel"], "propagate": False}},
    }},
    "handlers": {{
        "funnel": {{"class": "logfunnel.Handler", "endpoint": "{endpoint}"}},
    }},
}}
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str, deadline: float) -> bytes:
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5) as r:
                return r.read()
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


@pytest.mark.parametrize("preload", [False, True], ids=["fork", "preload"])
def test_gunicorn_workers_deliver_every_request_record(collector, tmp_path: pathlib.Path, preload):
    workers, requests = 3, 60
    port = _free_port()
    (tmp_path / "webapp.py").write_text(textwrap.dedent(APP), encoding="utf-8")
    (tmp_path / "gunicorn_conf.py").write_text(
        textwrap.dedent(CONFIG).format(workers=workers, port=port, endpoint=collector.endpoint),
        encoding="utf-8",
    )
    cmd = [sys.executable, "-m", "gunicorn", "-c", "gunicorn_conf.py", "webapp:app"]
    if preload:
        cmd.insert(-1, "--preload")
    server = subprocess.Popen(
        cmd, cwd=str(tmp_path), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        deadline = time.monotonic() + 30
        pids = set()
        for i in range(requests):
            pids.add(int(_get("http://127.0.0.1:%d/?%d" % (port, i), deadline)))
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            out, _ = server.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            server.kill()
            out, _ = server.communicate()
    assert server.returncode == 0, out

    # Per request: the app's record and gunicorn's access-log record, both from a worker; plus
    # gunicorn's own lines, the master's last one written just before it exits.
    everything = collector.records(2 * requests + 2 * workers + 3)
    records = [r for r in everything if r["name"] == "web.app"]
    assert sorted(r["request"] for r in records) == list(range(requests)), out
    for r in records:
        assert r["msg"] == "request %d handled by %d" % (r["request"], r["process"])
    assert {r["process"] for r in records} == pids
    assert server.pid not in pids
    access = [r for r in everything if r["name"] == "gunicorn.access"]
    assert len(access) == requests and {r["process"] for r in access} == pids
    master = [r for r in everything if r["process"] == server.pid]
    assert master and master[-1]["msg"] == "Shutting down: Master", [r["msg"] for r in master]
    # Each worker says it booted (right after the fork) and that it exits (at SIGTERM).
    booted = {r["process"] for r in everything if r["msg"].startswith("Booting worker")}
    exiting = {r["process"] for r in everything if r["msg"].startswith("Worker exiting")}
    assert pids <= booted and len(booted) >= workers and booted == exiting
    # Every process's records complete and in order (seq 0, 1, ... per sender), nothing lost.
    groups = by_sender(everything)
    assert len(groups) >= len(pids) + 1
    assert collector.stats()["lost"] == 0
