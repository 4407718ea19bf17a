"""The ``logfunnel-collector`` console script (the Rust CLI run inside Python), the in-process
``serve()`` API details, and the hand-written stubs checked against the native module."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time

import pytest

import logfunnel
from conftest import by_sender, run_script


def collector_command():
    exe = shutil.which("logfunnel-collector", path=os.path.dirname(sys.executable))
    assert exe, "the logfunnel-collector entry point is not installed next to this python"
    return exe


def test_console_script_help():
    proc = subprocess.run([collector_command(), "--help"], capture_output=True, text=True, timeout=30)
    assert proc.returncode == 0
    assert "--bind" in proc.stdout and "--file" in proc.stdout


def test_console_script_bad_flag_exits_nonzero():
    proc = subprocess.run(
        [collector_command(), "--no-such-flag"], capture_output=True, text=True, timeout=30
    )
    assert proc.returncode == 2
    assert "--no-such-flag" in proc.stderr


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_console_script_collects_and_drains_on_signal(tmp_path, sig):
    ep = "ipc://%s/cli.sock" % tmp_path
    out = tmp_path / "app.log"
    proc = subprocess.Popen(
        [collector_command(), "--bind", ep, "--file", str(out), "--format", "%(name)s %(message)s"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        run_script(
            tmp_path,
            """
import logging, sys, logfunnel
log = logging.getLogger("cli")
log.setLevel(logging.INFO)
log.addHandler(logfunnel.Handler(sys.argv[1], exit_timeout=20))
for i in range(1000):
    log.info("via the console script %d", i)
""",
            ep,
        )
        proc.send_signal(sig)
        assert proc.wait(timeout=30) == 0, proc.stderr.read()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    lines = out.read_text().splitlines()
    assert lines == ["cli via the console script %d" % i for i in range(1000)]


def test_module_cli_entry_is_importable():
    from logfunnel import _cli

    with pytest.raises(SystemExit) as exit_info:
        _cli.main(["logfunnel-collector", "--version"])
    assert exit_info.value.code == 0


def test_serve_reports_endpoints_stats_and_stops(tmp_path):
    path = tmp_path / "serve.jsonl"
    with logfunnel.serve(
        {"bind": ["tcp://127.0.0.1:0"], "flush_interval_ms": 20},
        pull="tcp://127.0.0.1:0",
        sinks={"kind": "jsonl", "path": path},
    ) as c:
        assert c.running
        assert c.endpoint.startswith("tcp://127.0.0.1:") and not c.endpoint.endswith(":0")
        assert len(c.pull_endpoints) == 1
        for ep, mode in ((c.endpoint, "xpub"), (c.pull_endpoints[0], "push")):
            h = logfunnel.Handler(ep, mode=mode)
            h.handle(logging_record("serve %s" % mode))
            assert h.flush(10)
            h.close()
        deadline = time.monotonic() + 10
        while c.stats()["accepted"] < 2 and time.monotonic() < deadline:
            time.sleep(0.02)
    assert not c.running
    stats = c.stats()
    assert stats["accepted"] == 2 and stats["malformed"] == 0
    lines = path.read_text().splitlines()
    assert len(lines) == 2
    c.stop()  # harmless


def test_serve_from_toml_file_with_overrides(tmp_path):
    toml = tmp_path / "collector.toml"
    toml.write_text(
        'bind = ["tcp://127.0.0.1:0"]\nflush_interval_ms = 20\n'
        '[[sink]]\nkind = "jsonl"\npath = "%s"\n' % (tmp_path / "t.jsonl")
    )
    with logfunnel.serve(toml, pull=["tcp://127.0.0.1:0"]) as c:
        assert len(c.endpoints) == 1 and len(c.pull_endpoints) == 1


def test_serve_errors_are_builtin_exceptions(tmp_path):
    with pytest.raises(ValueError, match="bogus"):
        logfunnel.serve(bind="tcp://127.0.0.1:0", bogus=1)
    with pytest.raises(ValueError):
        logfunnel.serve(bind="tcp://127.0.0.1:0", sinks=[{"kind": "file"}])
    with logfunnel.serve(bind="tcp://127.0.0.1:0") as c:
        with pytest.raises(OSError):
            logfunnel.serve(bind=c.endpoint)  # address in use
    with pytest.raises(OSError):
        logfunnel.serve(tmp_path / "missing.toml")


def logging_record(msg):
    import logging

    return logging.LogRecord("serve", logging.INFO, __file__, 1, msg, None, None)


def test_stubs_match_the_native_module(tmp_path):
    pytest.importorskip("mypy")
    proc = subprocess.run(
        [sys.executable, "-m", "mypy.stubtest", "logfunnel._native"],
        capture_output=True,
        text=True,
        timeout=240,
        cwd=str(tmp_path),  # its cache goes there
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Success" in proc.stdout


def test_package_type_checks():
    pytest.importorskip("mypy")
    # The package's source (its .py files and the hand-written _native.pyi).
    source = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    proc = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--cache-dir", os.devnull, "-p", "logfunnel"],
        capture_output=True,
        text=True,
        timeout=240,
        cwd=source,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_public_api():
    assert set(logfunnel.__all__) >= {"Handler", "Listener", "serve", "Collector", "install", "flush"}
    for name in logfunnel.__all__:
        assert hasattr(logfunnel, name)
