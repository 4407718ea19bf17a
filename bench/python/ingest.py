"""Item 3 (and the collector half of item 4): the collector alone, fed by Rust blaster processes.

Each run starts a fresh collector process (a formatted rotating file sink, the same line format as
everywhere else), starts the blaster processes (bench/blaster: pre-encoded v1 frames), waits until each
has connected and seen the collector's subscription, releases them together and polls the output until
every line is there. Reported: records/s from release to last byte, the collector's peak RSS (VmHWM)
and its CPU time (utime + stime from /proc/<pid>/stat) per record.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from common import Collector, Sample, blaster_command, free_port, one_line, wait_for_lines


@dataclass
class IngestCase:
    label: str
    procs: int
    sockets_per_proc: int
    msg_bytes: int
    records: int
    rate: Sample = field(default_factory=Sample)
    hwm_mib: Sample = field(default_factory=Sample)
    cpu_us_per_record: Sample = field(default_factory=Sample)
    lost: list[int] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def run_once(case: IngestCase, workdir: Path, *, quiet: float) -> dict:
    out = workdir / f"out-{time.monotonic_ns()}"
    out.mkdir()
    endpoint = f"tcp://127.0.0.1:{free_port()}"
    line_bytes = case.msg_bytes + 80
    collector = Collector(
        workdir,
        out,
        bind=[endpoint],
        max_bytes=max(64 << 20, line_bytes * 4),
        backup_count=10_000,
    )
    per_proc = case.records // case.procs
    expected = per_proc * case.procs
    blasters = []
    result: dict = {}
    try:
        for k in range(case.procs):
            blasters.append(
                subprocess.Popen(
                    blaster_command()
                    + [
                        "--endpoint", endpoint,
                        "--records", str(per_proc),
                        "--sockets", str(case.sockets_per_proc),
                        "--msg-bytes", str(case.msg_bytes),
                        "--id", str(k),
                    ],  # fmt: skip
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    text=True,
                )
            )
        for b in blasters:
            line = b.stdout.readline().strip()
            if line != "ready":
                raise RuntimeError(f"blaster did not get ready: {line!r}")
        time.sleep(0.1)
        before = collector.usage()
        t0 = time.perf_counter()
        for b in blasters:
            b.stdin.write("go\n")
            b.stdin.flush()
        reports: list[str] = []

        def reap():
            for b in blasters:
                reports.append(b.stdout.read())
                b.wait()

        reaper = threading.Thread(target=reap, daemon=True)
        reaper.start()
        arrival = wait_for_lines(out, expected, lambda: not reaper.is_alive(), quiet=quiet)
        after = collector.usage()
        wall = arrival.end - t0
        result = {
            "rate": arrival.lines / wall if wall > 0 else float("nan"),
            "lost": expected - arrival.lines,
            "hwm_kib": after["hwm_kib"],
            "cpu_s": after["cpu_s"] - before["cpu_s"],
            "lines": arrival.lines,
            "wall": wall,
            "blasters": [json.loads(r) for r in reports if r.strip().startswith("{")],
        }
        if any(b.returncode != 0 for b in blasters):
            result["error"] = f"blaster exit codes {[b.returncode for b in blasters]}"
    except Exception as e:  # one failed case must not stop the benchmark
        result["error"] = str(e)
    finally:
        for b in blasters:
            if b.poll() is None:
                b.kill()
                b.wait()
        rc = collector.stop()
        if rc not in (0, None) and "error" not in result:
            result["error"] = f"collector exit code {rc}: {collector.stderr_tail()}"
        shutil.rmtree(out, ignore_errors=True)
    return result


def run(cases: list[IngestCase], runs: int, *, quiet: float, progress=print) -> list[IngestCase]:
    with tempfile.TemporaryDirectory(prefix="lf-bench-ingest-", dir=os.environ.get("LF_BENCH_TMP")) as d:
        workdir = Path(d)
        for r in range(runs):
            for c in cases:
                res = run_once(c, workdir, quiet=quiet)
                if "rate" in res:
                    c.rate.add(res["rate"])
                    c.hwm_mib.add(res["hwm_kib"] / 1024)
                    if res["lines"]:
                        c.cpu_us_per_record.add(res["cpu_s"] / res["lines"] * 1e6)
                    c.lost.append(res["lost"])
                if "error" in res:
                    c.errors.append(res["error"])
                progress(
                    f"  ingest run {r + 1}/{runs} {c.label}: "
                    + (
                        f"{res['rate']:.0f} rec/s, peak RSS {res['hwm_kib'] / 1024:.1f} MiB, "
                        f"cpu {res['cpu_s']:.2f} s, lost {res['lost']}"
                        if "rate" in res
                        else ""
                    )
                    + (f" ERROR {one_line(res['error'])}" if "error" in res else "")
                )
    return cases


