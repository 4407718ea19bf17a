"""Shared helpers for the logfunnel benchmarks: machine facts, statistics, processes, files.

Everything here is measurement plumbing; nothing in it is timed.
"""

from __future__ import annotations

import glob
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent.parent
REPO = BENCH_DIR.parent
TARGET = Path(os.environ.get("CARGO_TARGET_DIR", REPO / "target"))

#: One line format for every approach, so each writes the same bytes per record.
LINE_FORMAT = "%(asctime)s %(levelname)s %(name)s %(process)d: %(message)s"
#: The same line for loguru, in its own format language.
LOGURU_FORMAT = "{time:YYYY-MM-DD HH:mm:ss,SSS} {level} {name} {process}: {message}"


def machine() -> dict:
    """What the numbers were measured on."""
    model = "unknown"
    try:
        for line in open("/proc/cpuinfo", encoding="utf-8"):
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        mem_kib = int(next(l for l in open("/proc/meminfo") if l.startswith("MemTotal")).split()[1])
    except (OSError, StopIteration, ValueError):
        mem_kib = 0
    return {
        "nproc": os.cpu_count() or 0,
        "cpu": model,
        "mem_gib": round(mem_kib / 1024 / 1024, 1),
        "kernel": os.uname().release,
        "python": sys.version.split()[0],
        "load": os.getloadavg(),
    }


@dataclass
class Sample:
    """Several runs of one figure."""

    values: list[float] = field(default_factory=list)

    def add(self, v: float) -> None:
        self.values.append(v)

    @property
    def median(self) -> float:
        return statistics.median(self.values) if self.values else float("nan")

    @property
    def lo(self) -> float:
        return min(self.values) if self.values else float("nan")

    @property
    def hi(self) -> float:
        return max(self.values) if self.values else float("nan")

    def spread_pct(self) -> float:
        """Half the min-max range as a percentage of the median."""
        m = self.median
        if not self.values or m == 0:
            return float("nan")
        return (self.hi - self.lo) / 2 / m * 100


def free_port() -> int:
    """A loopback port nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def proc_usage(pid: int) -> dict:
    """Peak RSS (VmHWM), current RSS and CPU seconds (utime + stime) of a live process."""
    out = {"hwm_kib": 0, "rss_kib": 0, "cpu_s": 0.0}
    try:
        for line in open(f"/proc/{pid}/status", encoding="utf-8"):
            if line.startswith("VmHWM:"):
                out["hwm_kib"] = int(line.split()[1])
            elif line.startswith("VmRSS:"):
                out["rss_kib"] = int(line.split()[1])
        stat = open(f"/proc/{pid}/stat", encoding="utf-8").read()
        fields = stat[stat.rindex(")") + 2 :].split()
        ticks = os.sysconf("SC_CLK_TCK")
        out["cpu_s"] = (int(fields[11]) + int(fields[12])) / ticks
    except (OSError, ValueError, IndexError):
        pass
    return out


def log_files(directory: str | Path) -> list[str]:
    """Every log file in an output directory, rotated ones included (lock files left out)."""
    out = []
    for p in glob.glob(os.path.join(str(directory), "*")):
        name = os.path.basename(p)
        if name.startswith(".") or name.endswith(".lock") or not os.path.isfile(p):
            continue
        out.append(p)
    return out


def total_size(directory: str | Path) -> int:
    n = 0
    for p in log_files(directory):
        try:
            n += os.stat(p).st_size
        except OSError:
            pass  # rotated away between glob and stat
    return n


def count_lines(directory: str | Path) -> int:
    n = 0
    for p in log_files(directory):
        try:
            with open(p, "rb") as f:
                while chunk := f.read(1 << 22):
                    n += chunk.count(b"\n")
        except OSError:
            pass
    return n


@dataclass
class Arrival:
    """When the last byte landed and how many lines there were then."""

    end: float
    lines: int
    settled: bool  # True if every expected line arrived, False if we gave up after `quiet` seconds


def wait_for_lines(
    directory: str | Path,
    expected: int,
    senders_done,
    *,
    settle: float = 0.25,
    quiet: float = 3.0,
    timeout: float = 600.0,
    poll: float = 0.01,
    count=None,
) -> Arrival:
    """Polls the total size of the log files until every expected line is there.

    `end` is the time of the last size change seen (to within `poll`). Lines are counted only when the
    size has been still for `settle` seconds and `senders_done()` is true, so the polling costs almost
    nothing while records flow. Lossy approaches never reach `expected`: after `quiet` seconds with no
    growth we stop and report what arrived. `count(directory)` says how many records the files hold
    (default: their lines; an OTLP peer's JSON output holds many records per line).
    """
    counter = count or count_lines
    start = time.perf_counter()
    last_size = -1
    last_change = start
    counted_size = None
    while True:
        now = time.perf_counter()
        size = total_size(directory)
        if size != last_size:
            last_size = size
            last_change = now
        elif senders_done():
            still = now - last_change
            if still >= settle and counted_size != size:
                counted_size = size
                n = counter(directory)
                if n >= expected:
                    return Arrival(last_change, n, True)
            if still >= quiet:
                return Arrival(last_change, counter(directory), False)
        if now - start > timeout:
            return Arrival(last_change, counter(directory), False)
        time.sleep(poll)


def wait_quiet(directory: str | Path, still: float = 0.2, timeout: float = 60.0) -> None:
    """Waits until the log files have stopped growing (background work from a run has drained)."""
    start = time.perf_counter()
    last = -1
    changed = start
    while time.perf_counter() - start < timeout:
        size = total_size(directory)
        now = time.perf_counter()
        if size != last:
            last, changed = size, now
        elif now - changed >= still:
            return
        time.sleep(0.02)


def collector_command() -> list[str]:
    """The collector binary built by `cargo build --release -p logfunnel-collector`, else the console script."""
    exe = TARGET / "release" / "logfunnel-collector"
    if exe.exists():
        return [str(exe)]
    script = shutil.which("logfunnel-collector", path=os.path.dirname(sys.executable))
    if script:
        return [script]
    raise RuntimeError("no logfunnel-collector: run `cargo build --release -p logfunnel-collector`")


def blaster_command() -> list[str]:
    exe = TARGET / "release" / "logfunnel-bench-blaster"
    if not exe.exists():
        raise RuntimeError(
            "no blaster: run `cargo build --release --manifest-path bench/blaster/Cargo.toml "
            "--target-dir target`"
        )
    return [str(exe)]


def toml_str(s: str) -> str:
    return json.dumps(s)  # a JSON string is a valid TOML basic string


def collector_toml(
    path: str,
    *,
    bind: list[str] = (),
    pull: list[str] = (),
    max_bytes: int,
    backup_count: int,
    state_dir: str = "",
    acknowledge: bool = True,
    sinks: str = "",
    curve_secret_key_file: str = "",
    curve_allow: list[str] = (),
) -> str:
    """A collector config with one formatted rotating file sink. `state_dir` keeps the delivery
    watermarks (as a default collector does in its own directory); `acknowledge = False` is the v1
    path, the baseline of acknowledged delivery. `sinks` (TOML `[[sink]]` tables) replaces the rotating
    file sink; `curve_secret_key_file` with `curve_allow` (senders' public keys) turns on `[curve]`."""
    lines = [
        f"bind = [{', '.join(toml_str(b) for b in bind)}]",
        f"pull = [{', '.join(toml_str(p) for p in pull)}]",
        "stats_interval_s = 0",
        f"state_dir = {toml_str(state_dir)}",
        f"acknowledge = {'true' if acknowledge else 'false'}",
        "",
    ]
    if curve_secret_key_file:
        lines += [
            "[curve]",
            f"secret_key_file = {toml_str(curve_secret_key_file)}",
            f"allow = [{', '.join(toml_str(k) for k in curve_allow)}]",
            "",
        ]
    if sinks:
        return "\n".join(lines) + "\n" + sinks
    lines += [
        "[[sink]]",
        'kind = "rotating_file"',
        f"path = {toml_str(path)}",
        f"format = {toml_str(LINE_FORMAT)}",
        f"max_bytes = {max_bytes}",
        f"backup_count = {backup_count}",
    ]
    return "\n".join(lines) + "\n"


def stop_process(proc: subprocess.Popen, timeout: float = 20) -> None:
    """SIGTERM, and SIGKILL if it has not exited within `timeout` seconds."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


class Collector:
    """The collector as a separate process, configured by a TOML file."""

    def __init__(
        self,
        workdir: Path,
        out_dir: Path,
        *,
        bind=(),
        pull=(),
        max_bytes,
        backup_count,
        acknowledge=True,
        sinks="",
        curve_secret_key_file="",
        curve_allow=(),
    ):
        stamp = time.monotonic_ns()
        self.config = workdir / f"collector-{stamp}.toml"
        self.config.write_text(
            collector_toml(
                str(out_dir / "app.log"),
                bind=list(bind),
                pull=list(pull),
                max_bytes=max_bytes,
                backup_count=backup_count,
                state_dir=str(workdir / f"state-{stamp}"),
                acknowledge=acknowledge,
                sinks=sinks,
                curve_secret_key_file=curve_secret_key_file,
                curve_allow=list(curve_allow),
            )
        )
        self.stderr_path = workdir / f"collector-{time.monotonic_ns()}.stderr"
        self._stderr = open(self.stderr_path, "wb")
        self.proc = subprocess.Popen(
            collector_command() + ["--config", str(self.config)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=self._stderr,
        )
        time.sleep(0.05)
        if self.proc.poll() is not None:
            self._stderr.close()
            raise RuntimeError(f"collector exited at start: {self.stderr_path.read_text()[-2000:]}")

    def usage(self) -> dict:
        return proc_usage(self.proc.pid)

    def stop(self) -> int:
        stop_process(self.proc)
        self._stderr.close()
        return self.proc.returncode

    def stderr_tail(self) -> str:
        try:
            return self.stderr_path.read_text(errors="replace")[-2000:]
        except OSError:
            return ""


def fmt_us(seconds: float) -> str:
    return f"{seconds * 1e6:.2f}"


def fmt_rate(per_s: float) -> str:
    if per_s != per_s:  # NaN
        return "-"
    if per_s >= 1e6:
        return f"{per_s / 1e6:.2f}M"
    if per_s >= 1e3:
        return f"{per_s / 1e3:.1f}k"
    return f"{per_s:.0f}"


def one_line(error: str, limit: int = 240) -> str:
    """The gist of an error text (a traceback's last line), for a table cell."""
    lines = [l.strip() for l in str(error).splitlines() if l.strip()]
    text = lines[-1] if lines else ""
    return text[:limit]

