"""The patterns python/README.md recommends for gunicorn and celery, run for real.

gunicorn: a logfunnel.Handler in ``logconfig_dict`` (made in the master, inherited by forked
workers), real HTTP requests to several workers, then a graceful stop (SIGTERM). celery: the prefork
pool with the handler installed in ``worker_process_init`` and ``logging.shutdown()`` in
``worker_process_shutdown``, stopped (SIGTERM, warm shutdown) soon after the first task started.
Every record must arrive, complete and in order per sender."""

from __future__ import annotations

import os
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
import os

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


def post_worker_init(worker):
    # Past gunicorn's own signal set-up: a SIGTERM now reaches the worker's handler.
    open(os.path.join({ready!r}, "ready-%d" % os.getpid()), "w").close()
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


def _terminate(proc: subprocess.Popen, timeout: float) -> str:
    """SIGTERM, then the output once it exited; SIGKILL if it takes longer than ``timeout``."""
    proc.send_signal(signal.SIGTERM)
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, _ = proc.communicate()
    return out


def _booted_and_exiting(records):
    """The pids of the workers that said they booted, and of those that said they exit."""
    booted = {r["process"] for r in records if r["msg"].startswith("Booting worker")}
    exiting = {r["process"] for r in records if r["msg"].startswith("Worker exiting")}
    return booted, exiting


@pytest.mark.parametrize("preload", [False, True], ids=["fork", "preload"])
def test_gunicorn_workers_deliver_every_request_record(collector, tmp_path: pathlib.Path, preload):
    pytest.importorskip("gunicorn")
    workers, requests = 3, 60
    port = _free_port()
    (tmp_path / "webapp.py").write_text(textwrap.dedent(APP), encoding="utf-8")
    (tmp_path / "gunicorn_conf.py").write_text(
        textwrap.dedent(CONFIG).format(
            workers=workers, port=port, endpoint=collector.endpoint, ready=str(tmp_path)
        ),
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
        # gunicorn loses a SIGTERM that reaches a worker before it has set up its signal
        # handlers (the master's, inherited, queue it in the worker's copy of the arbiter), and
        # the worker then runs until graceful_timeout ends in SIGKILL. On a busy machine the
        # requests can all be served before the last worker is that far: wait for every one.
        while len(list(tmp_path.glob("ready-*"))) < workers and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        out = _terminate(server, timeout=60)
    assert server.returncode == 0, out

    # Per request: the app's record and gunicorn's access-log record, both from a worker; plus
    # gunicorn's own lines, the master's last one written just before it exits.
    everything = collector.records(2 * requests + 2 * workers + 3)
    # The workers' last records travel on their own connections and can land after the
    # master's: give every worker that booted a while for its "Worker exiting" to be written.
    deadline = time.monotonic() + 10
    booted, exiting = _booted_and_exiting(everything)
    while time.monotonic() < deadline and not booted <= exiting:
        time.sleep(0.1)
        everything = collector.records(0, settle=0)
        booted, exiting = _booted_and_exiting(everything)
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
    assert pids <= booted and len(booted) >= workers and booted == exiting, (booted, exiting, collector.stats(), out)
    # Every process's records complete and in order (seq 0, 1, ... per sender), nothing lost.
    groups = by_sender(everything)
    assert len(groups) >= len(pids) + 1
    assert collector.stats()["lost"] == 0


TASKS = """
import logging
import os

from celery import Celery
from celery.signals import worker_process_init, worker_process_shutdown

app = Celery("jobs")
app.conf.update(
    broker_url="filesystem://",
    broker_transport_options={"data_folder_in": "broker", "data_folder_out": "broker"},
    task_ignore_result=True,
    worker_hijack_root_logger=False,
    worker_prefetch_multiplier=1,
)
log = logging.getLogger("jobs")


@worker_process_init.connect
def start_logging(**_):
    import logfunnel
    logfunnel.install(os.environ["LF_ENDPOINT"], level=logging.INFO)


@worker_process_shutdown.connect
def stop_logging(**_):
    logging.shutdown()


@app.task
def work(n, lines):
    for i in range(lines):
        log.info("task %d line %d", n, i, extra={"task": n})
"""


def test_celery_prefork_workers_deliver_every_task_record(collector, tmp_path: pathlib.Path):
    """Stopped soon after tasks start: each task that ran has all its lines (a lost tail would cut
    one short), and each pool process's records are complete and in order. (Here the sender keeps
    up, so little is queued at exit; the exit paths under backlog are tested in test_processes.)"""
    pytest.importorskip("celery")
    tasks, lines = 12, 3000
    (tmp_path / "jobs.py").write_text(textwrap.dedent(TASKS), encoding="utf-8")
    (tmp_path / "broker").mkdir()
    send = "import jobs\nfor n in range(%d):\n    jobs.work.delay(n, %d)\n" % (tasks, lines)
    subprocess.run([sys.executable, "-c", send], cwd=str(tmp_path), check=True, timeout=60)
    env = dict(os.environ, LF_ENDPOINT=collector.endpoint)
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "jobs", "worker", "-P", "prefork", "-c", "2",
         "--without-heartbeat", "--without-gossip", "--without-mingle"],
        cwd=str(tmp_path), env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        # Stop the worker as soon as tasks are running; a warm shutdown lets running tasks finish.
        collector.records(1, timeout=60, settle=0)
        time.sleep(0.2)
    finally:
        out = _terminate(worker, timeout=90)
    assert worker.returncode == 0, out

    records = [r for r in collector.records(lines, settle=1.0) if r["name"] == "jobs"]
    by_task: dict = {}
    for r in records:
        by_task.setdefault(r["task"], []).append(r)
    assert by_task, out
    for n, rs in by_task.items():
        assert [r["msg"] for r in rs] == ["task %d line %d" % (n, i) for i in range(lines)], (
            "task %d: %d of %d lines" % (n, len(rs), lines)
        )
    by_sender(records)
    assert collector.stats()["lost"] == 0
