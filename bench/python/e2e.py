"""Item 2, end to end: P worker processes each log N records into one rotating file, per approach.

The driver runs `e2e_app.py` (the application: main process + P forked workers) and, from outside it,
polls the size of the output files until every record is there (or, for a lossy approach, until nothing
has arrived for a while). Wall time runs from `go` to the last byte.
"""

from __future__ import annotations

import json
import os
import queue
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from common import Collector, Sample, free_port, one_line, wait_for_lines
from keys import CurveKeys

HERE = Path(__file__).resolve().parent

LABELS = {
    "logfunnel": "logfunnel (collector process)",
    "logfunnel-serve": "logfunnel (embedded serve)",
    "logfunnel-v1": "logfunnel, v1 path (collector with acknowledge = false: the baseline of acknowledged delivery)",
    "cookbook": "cookbook pyzmq PUB/SUB",
    "mpqueue": "multiprocessing.Queue + QueueListener",
    "clh": "concurrent-log-handler",
    "loguru": "loguru enqueue=True",
}
#: Item 7 only: the collector process with `[curve]`, every worker's Handler with the keys.
CURVE_LABELS = {"logfunnel-curve": "logfunnel with CURVE (collector process)"}
#: Approaches that promise not to lose records (for the "best baseline" comparison all are shown).
LOSSLESS = {"logfunnel", "logfunnel-serve", "logfunnel-v1", "mpqueue", "clh", "loguru"}


@dataclass
class Case:
    approach: str
    procs: int
    wall: Sample = field(default_factory=Sample)
    rate: Sample = field(default_factory=Sample)
    lost: list[int] = field(default_factory=list)
    collector_hwm_kib: list[int] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


class App:
    """The application process, with its stdout read by a thread so the driver never blocks on it."""

    def __init__(self, cmd: list[str], stderr_path: Path):
        self._stderr = open(stderr_path, "wb")
        self.stderr_path = stderr_path
        self.proc = subprocess.Popen(
            cmd,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            text=True,
            bufsize=1,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.done = threading.Event()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            line = line.strip()
            if line == "done":
                self.done.set()
            self.lines.put(line)
        self.lines.put("")  # EOF

    def expect(self, what: str, timeout: float) -> str:
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"app did not say {what!r} in {timeout} s; {self.stderr()}")
            try:
                line = self.lines.get(timeout=min(left, 0.2))
            except queue.Empty:
                line = None
            if (line is None or line == "") and self.proc.poll() is not None and self.lines.empty():
                raise RuntimeError(f"app exited before {what!r}: {self.stderr()}")
            if line is None:
                continue
            if line == what or (what == "{" and line.startswith("{")):
                return line

    def send(self, line: str) -> None:
        try:
            self.proc.stdin.write(line + "\n")
            self.proc.stdin.flush()
        except (BrokenPipeError, ValueError):
            pass

    def stderr(self) -> str:
        try:
            return self.stderr_path.read_text(errors="replace")[-3000:]
        except OSError:
            return ""

    def close(self, timeout: float = 60) -> int:
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self._stderr.close()
        return self.proc.returncode


def run_once(
    approach: str,
    procs: int,
    records: int,
    workdir: Path,
    *,
    quiet: float,
    max_bytes: int,
    backup_count: int,
    grace: float = 0.3,
    curve: CurveKeys | None = None,
) -> dict:
    out = workdir / f"out-{approach}-{procs}-{time.monotonic_ns()}"
    out.mkdir()
    path = str(out / "app.log")
    cmd = [
        sys.executable,
        str(HERE / "e2e_app.py"),
        "--approach", approach,
        "--procs", str(procs),
        "--records", str(records),
        "--path", path,
        "--max-bytes", str(max_bytes),
        "--backup-count", str(backup_count),
    ]  # fmt: skip
    collector = None
    app = None
    result = {"approach": approach, "procs": procs}
    try:
        if approach in ("logfunnel", "logfunnel-serve", "logfunnel-curve", "logfunnel-v1"):
            endpoint = f"tcp://127.0.0.1:{free_port()}"
            cmd += ["--endpoint", endpoint]
            secure = {}
            if approach == "logfunnel-curve":
                if curve is None:
                    raise ValueError("logfunnel-curve needs CURVE keys")
                cmd += curve.sender_args()
                secure = curve.collector_kwargs()
            if approach != "logfunnel-serve":
                collector = Collector(
                    workdir,
                    out,
                    bind=[endpoint],
                    max_bytes=max_bytes,
                    backup_count=backup_count,
                    acknowledge=approach != "logfunnel-v1",
                    **secure,
                )
        if approach == "cookbook":
            cmd += ["--ports", ",".join(str(free_port()) for _ in range(procs))]
        app = App(cmd, workdir / f"app-{approach}-{procs}.stderr")
        app.expect("ready", 120)
        time.sleep(grace)  # same grace for everyone: connections settle before the clock starts
        t0 = time.perf_counter()
        app.send("go")
        expected = procs * records
        arrival = wait_for_lines(out, expected, app.done.is_set, quiet=quiet)
        if collector is not None:
            result["collector_hwm_kib"] = collector.usage()["hwm_kib"]
        wall = arrival.end - t0
        result.update(
            wall=wall, lines=arrival.lines, lost=expected - arrival.lines, rate=arrival.lines / wall
        )
        app.send("stop")
        try:
            result["extra"] = json.loads(app.expect("{", 60))
        except (TimeoutError, RuntimeError, ValueError) as e:
            result["error"] = f"teardown: {e}"
    except Exception as e:  # one failed case must not stop the whole benchmark
        result["error"] = str(e)[-1500:]
    finally:
        if app is not None:
            if app.proc.poll() is None:
                app.send("stop")
            code = app.close()
            if code not in (0, None) and "error" not in result:
                result["error"] = f"app exit code {code}: {app.stderr()[-1500:]}"
        if collector is not None:
            rc = collector.stop()
            if rc not in (0, None) and "error" not in result:
                result["error"] = f"collector exit code {rc}: {collector.stderr_tail()}"
        shutil.rmtree(out, ignore_errors=True)
    return result


def run(
    approaches: list[str],
    procs_list: list[int],
    records: int,
    runs: int,
    *,
    quiet: float,
    max_bytes: int,
    backup_count: int,
    grace: float = 0.3,
    curve: CurveKeys | None = None,
    progress=print,
) -> dict[tuple[str, int], Case]:
    cases = {(a, p): Case(a, p) for p in procs_list for a in approaches}
    with tempfile.TemporaryDirectory(prefix="lf-bench-e2e-", dir=os.environ.get("LF_BENCH_TMP")) as d:
        workdir = Path(d)
        for r in range(runs):
            for p in procs_list:
                for a in approaches:  # interleaved, so drift hits every approach alike
                    res = run_once(
                        a,
                        p,
                        records,
                        workdir,
                        quiet=quiet,
                        max_bytes=max_bytes,
                        backup_count=backup_count,
                        grace=grace,
                        curve=curve,
                    )
                    c = cases[(a, p)]
                    if "wall" in res:
                        c.wall.add(res["wall"])
                        c.rate.add(res["rate"])
                        c.lost.append(res["lost"])
                    if "collector_hwm_kib" in res:
                        c.collector_hwm_kib.append(res["collector_hwm_kib"])
                    if "error" in res:
                        c.errors.append(res["error"])
                    progress(
                        f"  e2e run {r + 1}/{runs} P={p} {a}: "
                        + (
                            f"{res['wall']:.3f} s, {res['rate']:.0f} rec/s, lost {res['lost']}"
                            if "wall" in res
                            else ""
                        )
                        + (f" ERROR {one_line(res['error'])}" if "error" in res else "")
                    )
    return cases
