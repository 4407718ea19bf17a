"""Profiles behind the RESULTS.md notes, reproducible with one command each:

    bench/run.sh --profile python      py-spy (native frames) of `logger.info` with logfunnel.Handler:
                                       where the handler's share of a call goes
    bench/run.sh --profile collector   perf (cpu-clock samples, call graphs) of the collector process
                                       while blasters send: CPU by thread and the hottest symbols

Needs py-spy (installed into the bench venv by run.sh) and perf respectively.
"""

from __future__ import annotations

import collections
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from common import Collector, blaster_command, free_port, wait_for_lines  # noqa: E402

LOOP = r"""
import logging, sys, time
import logfunnel
log = logging.getLogger("bench.profile"); log.propagate = False; log.setLevel(logging.INFO)
h = logfunnel.Handler(sys.argv[1]); log.addHandler(h)
time.sleep(0.3)
for _ in range(int(sys.argv[3])):
    for i in range(int(sys.argv[2])):
        log.info("record %d", i)
    h.flush(30)
h.close()
"""


def _start_collector(work: Path) -> tuple[Path, str, Collector]:
    """A collector on a free loopback port writing into ``work/out``: (that folder, endpoint, it)."""
    out = work / "out"
    out.mkdir()
    ep = f"tcp://127.0.0.1:{free_port()}"
    return out, ep, Collector(work, out, bind=[ep], max_bytes=64 << 20, backup_count=1000)


def python_profile(calls: int = 200_000, rounds: int = 3) -> None:
    spy = shutil.which("py-spy", path=os.path.dirname(sys.executable))
    if not spy:
        raise SystemExit("py-spy is not installed in this environment (pip install py-spy)")
    with tempfile.TemporaryDirectory(prefix="lf-bench-profile-") as d:
        work = Path(d)
        _, ep, collector = _start_collector(work)
        try:
            script = work / "loop.py"
            script.write_text(LOOP)
            raw = work / "pyspy.txt"
            subprocess.run(
                [spy, "record", "--native", "-r", "500", "-f", "raw", "-o", str(raw), "--",
                 sys.executable, str(script), ep, str(calls), str(rounds)],
                check=True, capture_output=True,
            )  # fmt: skip
        finally:
            collector.stop()
        leaf: collections.Counter[str] = collections.Counter()
        under: collections.Counter[str] = collections.Counter()
        in_handler: collections.Counter[str] = collections.Counter()
        total = handler = 0
        for line in raw.read_text().splitlines():
            stack, _, n = line.rpartition(" ")
            frames = stack.split(";")
            if not any("loop.py" in f for f in frames):
                continue
            total += int(n)
            leaf[frames[-1].split(" (")[0]] += int(n)
            idx = [i for i, f in enumerate(frames) if "(logfunnel/handler.py" in f]
            if idx:
                handler += int(n)
                sub = frames[idx[0] + 1 :]
                under[sub[0].split(" (")[0] if sub else "handler.py itself"] += int(n)
                in_handler[frames[-1].split(" (")[0]] += int(n)
        print(f"samples in the logging loop: {total}; inside logfunnel.Handler.handle: {handler / total:.1%}")
        print("\nunder Handler.handle (share of the whole loop):")
        for k, n in under.most_common(16):
            print(f"  {n / total:6.1%}  {_short(k)}")
        print("\nhottest leaf frames inside Handler.handle (share of the whole loop):")
        for k, n in in_handler.most_common(12):
            print(f"  {n / total:6.1%}  {_short(k)}")
        print("\nhottest leaf frames of the whole loop:")
        for k, n in leaf.most_common(16):
            print(f"  {n / total:6.1%}  {_short(k)}")


def _short(symbol: str) -> str:
    s = symbol.replace("$LT$", "<").replace("$GT$", ">").replace("$u20$", " ").replace("..", "::")
    if "::h" in s and len(s) > 20:
        s = s[: s.rfind("::h")]
    return s[:110]


def collector_profile(records: int = 400_000, procs: int = 2) -> None:
    if not shutil.which("perf"):
        raise SystemExit("perf is not installed")
    with tempfile.TemporaryDirectory(prefix="lf-bench-profile-") as d:
        work = Path(d)
        out, ep, collector = _start_collector(work)
        data = work / "perf.data"
        perf = subprocess.Popen(
            ["perf", "record", "-e", "cpu-clock", "-F", "2000", "-g", "-p", str(collector.proc.pid),
             "-o", str(data)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            blasters = [
                subprocess.Popen(
                    blaster_command() + ["--endpoint", ep, "--records", str(records // procs), "--id", str(k)],
                    stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                )  # fmt: skip
                for k in range(procs)
            ]
            for b in blasters:
                b.stdout.readline()
            before = collector.usage()
            t0 = time.perf_counter()
            for b in blasters:
                b.stdin.write("go\n")
                b.stdin.flush()
            arrival = wait_for_lines(out, records, lambda: all(b.poll() is not None for b in blasters))
            cpu = collector.usage()["cpu_s"] - before["cpu_s"]
            print(
                f"{arrival.lines} records in {arrival.end - t0:.2f} s "
                f"({arrival.lines / (arrival.end - t0):,.0f}/s); collector CPU {cpu:.2f} s = "
                f"{cpu / max(arrival.lines, 1) * 1e6:.2f} us/record (under perf)"
            )
        finally:
            perf.send_signal(2)
            perf.wait()
            collector.stop()
        for sort in ("comm", "dso"):
            rep = subprocess.run(
                ["perf", "report", "-i", str(data), "--no-children", "--sort", sort, "-g", "none", "--stdio"],
                capture_output=True, text=True,
            ).stdout
            print(f"\ncollector CPU by {'thread' if sort == 'comm' else 'library'}:")
            for line in rep.splitlines():
                if "%" in line and not line.startswith("#"):
                    print("  " + line.strip())
        rep = subprocess.run(
            ["perf", "report", "-i", str(data), "--no-children", "--sort", "comm,sym", "-g", "none", "--stdio"],
            capture_output=True, text=True,
        ).stdout
        print("\nhottest symbols (thread, symbol):")
        shown = 0
        for line in rep.splitlines():
            if "%" in line and not line.startswith("#"):
                print("  " + _short(line.strip()))
                shown += 1
                if shown >= 30:
                    break


if __name__ == "__main__":
    which = sys.argv[1] if len(sys.argv) > 1 else ""
    if which == "python":
        python_profile()
    elif which == "collector":
        collector_profile()
    else:
        raise SystemExit("usage: profile.py python|collector")
