"""Item 3 (and the collector half of item 4): the collector alone, fed by Rust blaster processes.

Each run starts a fresh collector process (a formatted rotating file sink, the same line format as
everywhere else), starts the blaster processes (bench/blaster: pre-encoded v1 frames), waits until each
has connected and seen the collector's subscription, releases them together and polls the output until
every line is there. Reported: records/s from release to last byte, the collector's peak RSS (VmHWM)
and its CPU time (utime + stime from /proc/<pid>/stat) per record.

A case with `sink=True` is the ceiling: the very same blaster processes send into the blaster binary's
`--sink` mode, which binds the same kind of socket and only counts messages (no decode, format or write).
On a 2-CPU machine the blasters and their libzmq threads share the CPUs with whatever receives, so this is
the most any collector could reach with these senders here. Its records/s runs from the start signal to
the last message received (the sink's own clock); its RSS and CPU are the sink's (getrusage).
`run` alternates the order of the cases from run to run, so neither always goes first.

A case may also say where the collector writes (`output`: e.g. an OTLP peer, item 6) and that every
connection uses CURVE (`curve`: the collector with `[curve]`, the blasters with its keys, item 7).
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
from typing import Callable, Optional, Protocol

from common import Collector, Sample, blaster_command, free_port, one_line, wait_for_lines
from keys import CurveKeys


class Output(Protocol):
    """Where one collector run writes, other than the default rotating file in the run's folder."""

    #: the `[[sink]]` tables of the collector's config
    sinks: str
    #: the folder the records land in, polled until they are all there
    directory: Path
    #: records in that folder (None: its lines)
    count: Optional[Callable[[Path], int]]

    def usage(self) -> Optional[dict]:
        """`proc_usage` of a receiving process of its own (an OTLP peer), else None."""

    def stop(self) -> None: ...


@dataclass
class IngestCase:
    label: str
    procs: int
    sockets_per_proc: int
    msg_bytes: int
    records: int
    #: "xpub" (blasters' XPUB -> the collector's bound SUB, its `bind`), "push" (PUSH -> bound PULL, `pull`)
    #: or "batch" (the acknowledged path: XPUB hears the announcement, batches on a DEALER, acked)
    mode: str = "xpub"
    #: Measure the ceiling: a count-only sink instead of the collector.
    sink: bool = False
    rate: Sample = field(default_factory=Sample)
    hwm_mib: Sample = field(default_factory=Sample)
    cpu_us_per_record: Sample = field(default_factory=Sample)
    lost: list[int] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    #: records/s by run number, to pair runs of different cases made in the same round
    rate_by_run: dict[int, float] = field(default_factory=dict)
    #: the blasters' CPU time (all processes) per record
    blaster_cpu_us_per_record: Sample = field(default_factory=Sample)
    #: Builds the run's output from (workdir, the run's folder); None: the formatted rotating file.
    output: Optional[Callable[[Path, Path], Output]] = None
    #: CURVE on every connection (collector `[curve]`, blasters with the keys); None: plaintext.
    curve: Optional[CurveKeys] = None
    #: CPU time of the output's own process (an OTLP peer) per record
    peer_cpu_us_per_record: Sample = field(default_factory=Sample)


def start_blasters(case: IngestCase, endpoint: str, per_proc: int) -> list[subprocess.Popen]:
    """Starts the blaster processes and waits until each has printed `ready` (connected, subscribed)."""
    blasters = []
    for k in range(case.procs):
        blasters.append(
            subprocess.Popen(
                blaster_command()
                + [
                    "--endpoint", endpoint,
                    "--mode", case.mode,
                    "--records", str(per_proc),
                    "--sockets", str(case.sockets_per_proc),
                    "--msg-bytes", str(case.msg_bytes),
                    "--id", str(k),
                ]  # fmt: skip
                + (case.curve.sender_args() if case.curve else []),
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
            )
        )
    for b in blasters:
        line = b.stdout.readline().strip()
        if line != "ready":
            raise RuntimeError(f"blaster did not get ready: {line!r}")
    return blasters


def release(procs: list[subprocess.Popen]) -> None:
    for p in procs:
        p.stdin.write("go\n")
        p.stdin.flush()


def reaper(blasters: list[subprocess.Popen], reports: list[str]) -> threading.Thread:
    """Collects the blasters' JSON reports as they exit."""

    def reap():
        for b in blasters:
            reports.append(b.stdout.read())
            b.wait()

    t = threading.Thread(target=reap, daemon=True)
    t.start()
    return t


def blaster_summary(blasters: list[subprocess.Popen], reports: list[str], result: dict) -> None:
    parsed = [json.loads(r) for r in reports if r.strip().startswith("{")]
    result["blasters"] = parsed
    if parsed and all("cpu_s" in r for r in parsed):
        result["blaster_cpu_s"] = sum(r["cpu_s"] for r in parsed)
    if any(b.returncode != 0 for b in blasters):
        result.setdefault("error", f"blaster exit codes {[b.returncode for b in blasters]}")


def kill_all(procs: list[subprocess.Popen]) -> None:
    for p in procs:
        if p.poll() is None:
            p.kill()
            p.wait()


def run_once(case: IngestCase, workdir: Path, *, quiet: float) -> dict:
    return (run_sink if case.sink else run_collector)(case, workdir, quiet=quiet)


def run_sink(case: IngestCase, workdir: Path, *, quiet: float) -> dict:
    """The ceiling: the same blasters into a receiver that only counts."""
    endpoint = f"tcp://127.0.0.1:{free_port()}"
    per_proc = case.records // case.procs
    expected = per_proc * case.procs
    blasters: list[subprocess.Popen] = []
    sink = None
    result: dict = {}
    try:
        # The sink gives up after `--quiet-s` without a message: only on a real stall, never on a slow start.
        sink = subprocess.Popen(
            blaster_command()
            + ["--sink", "--endpoint", endpoint, "--mode", case.mode, "--records", str(expected),
               "--quiet-s", str(max(quiet, 5.0))],  # fmt: skip
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        line = sink.stdout.readline().strip()
        if line != "ready":
            raise RuntimeError(f"sink did not get ready: {line!r}")
        blasters = start_blasters(case, endpoint, per_proc)
        time.sleep(0.1)  # as for the collector
        release([sink] + blasters)  # the sink's clock starts just before the blasters are released
        reports: list[str] = []
        reaping = reaper(blasters, reports)
        # The sink stops by itself: at the expected count, or after `quiet` seconds without a message.
        out, _ = sink.communicate(timeout=600)
        reaping.join(timeout=quiet + 10)
        if reaping.is_alive():
            raise RuntimeError("blasters still running after the sink stopped")
        rep = next((json.loads(l) for l in out.splitlines() if l.startswith("{")), None)
        if rep is None:
            raise RuntimeError(f"sink exit code {sink.returncode}, no report")
        wall = rep["elapsed_s"]
        result = {
            "rate": rep["records"] / wall if wall > 0 else float("nan"),
            "lost": expected - rep["records"],
            "hwm_kib": rep["maxrss_kib"],
            "cpu_s": rep["cpu_s"],
            "lines": rep["records"],
            "wall": wall,
        }
        blaster_summary(blasters, reports, result)
        if sink.returncode != 0:
            result.setdefault("error", f"sink exit code {sink.returncode}: received {rep['records']} of {expected}")
    except Exception as e:  # one failed case must not stop the benchmark
        result["error"] = str(e)
    finally:
        kill_all(blasters + ([sink] if sink else []))
    return result


def run_collector(case: IngestCase, workdir: Path, *, quiet: float) -> dict:
    out = workdir / f"out-{time.monotonic_ns()}"
    out.mkdir()
    endpoint = f"tcp://127.0.0.1:{free_port()}"
    line_bytes = case.msg_bytes + 80
    result: dict = {}
    try:
        output = case.output(workdir, out) if case.output else None
    except Exception as e:
        shutil.rmtree(out, ignore_errors=True)
        return {"error": f"output: {e}"}
    collector = None
    per_proc = case.records // case.procs
    expected = per_proc * case.procs
    blasters: list[subprocess.Popen] = []
    try:
        collector = Collector(
            workdir,
            out,
            bind=[endpoint] if case.mode in ("xpub", "batch") else [],
            pull=[endpoint] if case.mode == "push" else [],
            max_bytes=max(64 << 20, line_bytes * 4),
            backup_count=10_000,
            sinks=output.sinks if output else "",
            **(case.curve.collector_kwargs() if case.curve else {}),
        )
        blasters = start_blasters(case, endpoint, per_proc)
        time.sleep(0.1)
        before = collector.usage()
        peer_before = output.usage() if output else None
        t0 = time.perf_counter()
        release(blasters)
        reports: list[str] = []
        reaping = reaper(blasters, reports)
        arrival = wait_for_lines(
            output.directory if output else out,
            expected,
            lambda: not reaping.is_alive(),
            quiet=quiet,
            count=output.count if output else None,
        )
        after = collector.usage()
        peer_after = output.usage() if output else None
        wall = arrival.end - t0
        result = {
            "rate": arrival.lines / wall if wall > 0 else float("nan"),
            "lost": expected - arrival.lines,
            "hwm_kib": after["hwm_kib"],
            "cpu_s": after["cpu_s"] - before["cpu_s"],
            "lines": arrival.lines,
            "wall": wall,
        }
        if peer_before and peer_after:
            result["peer_cpu_s"] = peer_after["cpu_s"] - peer_before["cpu_s"]
        blaster_summary(blasters, reports, result)
    except Exception as e:  # one failed case must not stop the benchmark
        result["error"] = str(e)
    finally:
        kill_all(blasters)
        if collector is not None:
            rc = collector.stop()
            if rc not in (0, None) and "error" not in result:
                result["error"] = f"collector exit code {rc}: {collector.stderr_tail()}"
        if output is not None:
            output.stop()
        shutil.rmtree(out, ignore_errors=True)
    return result


def run(cases: list[IngestCase], runs: int, *, quiet: float, progress=print) -> list[IngestCase]:
    with tempfile.TemporaryDirectory(prefix="lf-bench-ingest-", dir=os.environ.get("LF_BENCH_TMP")) as d:
        workdir = Path(d)
        for r in range(runs):
            for c in cases if r % 2 == 0 else cases[::-1]:
                res = run_once(c, workdir, quiet=quiet)
                if "rate" in res:
                    c.rate.add(res["rate"])
                    c.rate_by_run[r] = res["rate"]
                    if res.get("blaster_cpu_s") is not None and res["lines"]:
                        c.blaster_cpu_us_per_record.add(res["blaster_cpu_s"] / res["lines"] * 1e6)
                    c.hwm_mib.add(res["hwm_kib"] / 1024)
                    if res["lines"]:
                        c.cpu_us_per_record.add(res["cpu_s"] / res["lines"] * 1e6)
                        if "peer_cpu_s" in res:
                            c.peer_cpu_us_per_record.add(res["peer_cpu_s"] / res["lines"] * 1e6)
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


