"""The ``otlp`` sink with Python's ``logging``: records sent by ``logfunnel.Handler`` to a
collector (``logfunnel.serve`` with an otlp sink) reach a real OpenTelemetry Collector
(``tools/otelcol``, file exporter) with every field the mapping (``spec/otlp.md``) takes from a
``logging.LogRecord``.

The Collector is built by ``tools/otelcol/build.sh`` on first use (cached); without Go these tests
fail, they do not skip."""

from __future__ import annotations

import json
import logging
import os
import pathlib
import signal
import socket
import subprocess
import sys
import threading
import time
from typing import Any, Dict, Iterator, List, Tuple

import pytest

import logfunnel

ROOT = pathlib.Path(__file__).resolve().parents[2]
TOOLS = ROOT / "tools" / "otelcol"


def _otelcol_binary() -> str:
    out = subprocess.run(
        ["bash", str(TOOLS / "build.sh")], check=True, stdout=subprocess.PIPE, text=True
    )
    return out.stdout.strip()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait(what: str, cond: Any, timeout: float = 60.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        got = cond()
        if got:
            return got
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for " + what)
        time.sleep(0.02)


class Otelcol:
    """A real OpenTelemetry Collector with the OTLP/HTTP receiver and the file exporter."""

    def __init__(self, tmp: pathlib.Path) -> None:
        self.port = _free_port()
        self.output = tmp / "otelcol-out.json"
        config = (
            (TOOLS / "config.yaml.in")
            .read_text()
            .replace("@PORT@", str(self.port))
            .replace("@OUTPUT@", str(self.output))
        )
        config_path = tmp / "otelcol.yaml"
        config_path.write_text(config)
        self.log = tmp / "otelcol.log"
        with open(self.log, "wb") as log:
            self.proc = subprocess.Popen(
                [_otelcol_binary(), "--config", str(config_path)], stdout=log, stderr=log
            )

        def listening() -> bool:
            assert self.proc.poll() is None, "otelcol exited: " + self.log.read_text()
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return True
            except OSError:
                return False

        _wait("otelcol to listen", listening)

    @property
    def endpoint(self) -> str:
        return "http://127.0.0.1:%d/v1/logs" % self.port

    def records(self) -> List[Tuple[Dict[str, Any], Dict[str, Any]]]:
        """(resource attributes, log record) for every record written so far, in OTLP JSON."""
        try:
            text = self.output.read_text()
        except FileNotFoundError:
            return []
        out = []
        for line in text.splitlines(keepends=True):
            if not line.endswith("\n"):
                break  # still being written
            for rl in json.loads(line).get("resourceLogs", []):
                resource = attributes(rl["resource"].get("attributes", []))
                for sl in rl.get("scopeLogs", []):
                    assert sl["scope"]["name"] == "logfunnel"
                    for r in sl.get("logRecords", []):
                        out.append((resource, r))
        return out

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=30)


def attributes(kvs: List[Dict[str, Any]]) -> Dict[str, Any]:
    """An OTLP JSON attribute list as {key: value object}; keys are unique."""
    out: Dict[str, Any] = {}
    for kv in kvs:
        assert kv["key"] not in out, "attribute %s twice" % kv["key"]
        out[kv["key"]] = kv.get("value", {})
    return out


@pytest.fixture
def otelcol(tmp_path: pathlib.Path) -> Iterator[Otelcol]:
    col = Otelcol(tmp_path)
    try:
        yield col
    finally:
        col.stop()


def _serve(endpoint: str, **sink: Any) -> Any:
    otlp = {
        "kind": "otlp",
        "name": "otel",
        "endpoint": endpoint,
        "service_name": "py-test",
        "batch_timeout_ms": 20,
        "retry_initial_ms": 20,
        "retry_max_ms": 300,
    }
    otlp.update(sink)
    return logfunnel.serve(bind="tcp://127.0.0.1:0", flush_interval_ms=20, sinks=[otlp])


def _failing_call() -> None:
    raise ValueError("bad id 7")


def test_a_python_record_arrives_with_every_mapped_field(otelcol: Otelcol) -> None:
    server = _serve(otelcol.endpoint)
    handler = logfunnel.Handler(server.endpoint, exit_timeout=10)
    log = logging.getLogger("app.otlp")
    log.propagate = False
    log.setLevel(logging.DEBUG)
    log.addHandler(handler)
    try:
        try:
            _failing_call()
        except ValueError:
            line = sys._getframe().f_lineno + 1
            log.error("lookup %s failed", "user", exc_info=True, extra={"user": "bob", "tries": 3})
        log.info(
            "in a span",
            extra={
                "otelTraceID": "4bf92f3577b34da6a3ce929d0e0e4736",
                "otelSpanID": "00f067aa0ba902b7",
                "otelTraceSampled": True,
                "otelServiceName": "shop",
            },
        )
        assert handler.flush(10)
        records = _wait("2 records", lambda: otelcol.records()[1:] and otelcol.records())
    finally:
        log.removeHandler(handler)
        handler.close()
        server.stop()
    assert len(records) == 2, records

    resource, rec = records[0]
    assert resource["service.name"] == {"stringValue": "py-test"}
    assert resource["process.pid"] == {"intValue": str(os.getpid())}
    assert resource["host.name"]["stringValue"]
    assert rec["severityNumber"] == 17
    assert rec["severityText"] == "ERROR"
    assert rec["body"] == {"stringValue": "lookup user failed"}
    assert int(rec["timeUnixNano"]) > 0 and int(rec["observedTimeUnixNano"]) > 0
    attrs = attributes(rec["attributes"])
    assert attrs["logger.name"] == {"stringValue": "app.otlp"}
    assert attrs["code.file.path"] == {"stringValue": __file__}
    assert attrs["code.line.number"] == {"intValue": str(line)}
    function = "test_a_python_record_arrives_with_every_mapped_field"
    assert attrs["code.function.name"] == {"stringValue": function}
    assert attrs["thread.id"] == {"intValue": str(threading.get_ident())}
    assert attrs["thread.name"] == {"stringValue": threading.current_thread().name}
    assert attrs["logfunnel.process.name"] == {"stringValue": "MainProcess"}
    assert attrs["logfunnel.lang"] == {"stringValue": "python"}
    assert attrs["logfunnel.seq"] == {"intValue": "0"}
    assert attrs["exception.type"] == {"stringValue": "ValueError"}
    assert attrs["exception.message"] == {"stringValue": "bad id 7"}
    stack = attrs["exception.stacktrace"]["stringValue"]
    assert stack.startswith("Traceback (most recent call last):") and "_failing_call" in stack
    assert attrs["user"] == {"stringValue": "bob"}
    assert attrs["tries"] == {"intValue": "3"}
    assert "traceId" not in rec or rec["traceId"] == ""

    resource, rec = records[1]
    assert resource["service.name"] == {"stringValue": "shop"}
    assert rec["severityNumber"] == 9 and rec["severityText"] == "INFO"
    assert rec["traceId"] == "4bf92f3577b34da6a3ce929d0e0e4736"
    assert rec["spanId"] == "00f067aa0ba902b7"
    assert rec["flags"] == 1
    attrs = attributes(rec["attributes"])
    for key in ("otelTraceID", "otelSpanID", "otelTraceSampled", "otelServiceName"):
        assert key not in attrs


def test_serve_refuses_a_bad_otlp_value_naming_the_key() -> None:
    with pytest.raises(ValueError, match=r"sink\[0\]\.endpoint: \"ftp://x\" is not an http"):
        _serve("ftp://x")
    with pytest.raises(ValueError, match=r"sink\[0\]\.headers\[0\]\.value_env: LOGFUNNEL_PY_UNSET"):
        header = {"name": "a", "value_env": "LOGFUNNEL_PY_UNSET"}
        _serve("http://127.0.0.1:9/v1/logs", headers=[header])
