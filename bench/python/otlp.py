"""Item 6 (issue 15): records forwarded over OTLP/HTTP into a real OpenTelemetry Collector, beside the
file sinks, in the same run.

The peer is the Collector of the test suite (tools/otelcol: OTLP receiver, file exporter; built and
cached by tools/otelcol/build.sh, configured from tools/otelcol/config.yaml.in). It has no `nop`
exporter, so it writes OTLP JSON (one request per line) to a file in the run's folder, and a run ends
when every record is in that file. Everything else is item 3's machinery (`ingest.run_collector`): a
fresh collector and a fresh peer per run, the same blaster processes in `--mode batch` (a record is
acknowledged to its sender only once the peer accepted it), and the same cases with a `jsonl` and a
`rotating_file` sink instead of `otlp`, interleaved, as the paired baselines.
"""

from __future__ import annotations

import functools
import socket
import subprocess
import time
from pathlib import Path

import ingest
from common import REPO, free_port, log_files, proc_usage, stop_process, toml_str

OTELCOL_DIR = REPO / "tools" / "otelcol"
#: Written once per log record by the file exporter's JSON (never part of a blaster's message).
RECORD_MARK = b'"observedTimeUnixNano"'


@functools.cache
def otelcol_binary() -> str:
    """The cached Collector binary (built on first use: needs Go and about a minute)."""
    out = subprocess.run(
        ["bash", str(OTELCOL_DIR / "build.sh")], check=True, stdout=subprocess.PIPE, text=True
    )
    return out.stdout.strip()


def count_otlp_records(directory: str | Path) -> int:
    """Log records in the file exporter's output (a last line still being written counts its records
    so far, which is fine: a run ends only when the count is complete and the file is still)."""
    n = 0
    for p in log_files(directory):
        carry = b""
        try:
            with open(p, "rb") as f:
                while chunk := f.read(1 << 22):
                    data = carry + chunk
                    n += data.count(RECORD_MARK)
                    # Keep a tail shorter than the mark, so a mark cut by the chunk boundary counts once.
                    carry = data[-(len(RECORD_MARK) - 1) :]
        except OSError:
            pass
    return n


class OtelcolPeer:
    """A Collector on a free loopback port, exporting to `out/otlp.json`; an `ingest.Output`."""

    count = staticmethod(count_otlp_records)

    def __init__(self, workdir: Path, out: Path, *, timeout: float = 60.0):
        port = free_port()
        self.directory = out
        config = (
            (OTELCOL_DIR / "config.yaml.in")
            .read_text()
            .replace("@PORT@", str(port))
            .replace("@OUTPUT@", str(out / "otlp.json"))
        )
        stamp = time.monotonic_ns()
        config_path = workdir / f"otelcol-{stamp}.yaml"
        config_path.write_text(config)
        self.log_path = workdir / f"otelcol-{stamp}.log"
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(
                [otelcol_binary(), "--config", str(config_path)],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
            )
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"otelcol exited ({self.proc.returncode}): {self.log_tail()}")
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError(f"otelcol did not listen on {port} within {timeout} s")
                time.sleep(0.05)
        self.sinks = "\n".join(
            [
                "[[sink]]",
                'kind = "otlp"',
                f"endpoint = {toml_str(f'http://127.0.0.1:{port}/v1/logs')}",
                'service_name = "bench"',
            ]
        ) + "\n"

    def usage(self) -> dict:
        return proc_usage(self.proc.pid)

    def log_tail(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-2000:]
        except OSError:
            return ""

    def stop(self) -> None:
        stop_process(self.proc)


class JsonlOutput:
    """The paired baseline: one normalized JSON record per line into a rotating file."""

    count = None

    def __init__(self, workdir: Path, out: Path):
        self.directory = out
        self.sinks = "\n".join(
            [
                "[[sink]]",
                'kind = "jsonl"',
                f"path = {toml_str(str(out / 'app.jsonl'))}",
                f"max_bytes = {64 << 20}",
                "backup_count = 10000",
            ]
        ) + "\n"

    def usage(self) -> None:
        return None

    def stop(self) -> None:
        pass


def cases(records: int) -> list[ingest.IngestCase]:
    """The OTLP case first, then its baselines (the report pairs each with the first)."""
    shape = dict(procs=4, sockets_per_proc=1, msg_bytes=100, records=records, mode="batch")
    return [
        ingest.IngestCase("otlp sink -> OpenTelemetry Collector", output=OtelcolPeer, **shape),
        ingest.IngestCase("jsonl sink (rotating file)", output=JsonlOutput, **shape),
        ingest.IngestCase("rotating_file sink (formatted lines)", **shape),
    ]


def run(records: int, runs: int, *, quiet: float, progress=print) -> list[ingest.IngestCase]:
    cs = cases(records)
    otelcol_binary()  # build (or find) it before the first timed run
    return ingest.run(cs, runs, quiet=quiet, progress=progress)

