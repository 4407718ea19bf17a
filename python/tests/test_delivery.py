"""Acknowledged delivery (wire v2, ``spec/delivery.md``) with real processes: the real
``logfunnel-collector`` binary killed, restarted, started late, stopped with records in flight, its
disk full; real sender processes (fork, spawn, ``Pool``) with ``logfunnel.Handler`` at default
options. Every test reads the file the collector wrote and checks each sender's records one by one."""

from __future__ import annotations

import json
import os
import pathlib
import shutil
import signal
import socket
import subprocess
import sys
import textwrap
import time
from collections import Counter
from typing import Any, Dict, List, Optional

import pytest

from conftest import run_script
from netns import across_sender

# A crash costs at most the records written after the collector's last save of its watermarks and
# before the crash: one commit's worth (spec/delivery.md 5.3). A commit is made at the latest every
# `ack_interval_ms` (10 ms) while busy, over what the writer took in one go (up to its queue's
# 16,384 records): the bound per crash is the writer's queue.
DUPLICATES_PER_CRASH = 16_384

WORKER = textwrap.dedent(
    """
    import json, logging, multiprocessing as mp, sys, time
    import logfunnel

    def work(endpoint, k, n, pace, out):
        handler = logfunnel.Handler(endpoint)
        log = logging.getLogger("delivery.%d" % k)
        log.addHandler(handler)
        log.setLevel(logging.INFO)
        for i in range(n):
            log.info("worker %d record %d", k, i)
            if pace and i % pace == pace - 1:
                time.sleep(0.001)
        ok = handler.flush(timeout=180)
        stats = handler.stats()
        handler.close(timeout=5)
        out.put({"k": k, "flushed": ok, "sid": handler._native.sid, "stats": stats})

    if __name__ == "__main__":
        endpoint, workers, n, pace, method = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
        ctx = mp.get_context(method)
        out = ctx.Queue()
        procs = [ctx.Process(target=work, args=(endpoint, k, n, pace, out)) for k in range(workers)]
        for p in procs:
            p.start()
        print("started", flush=True)
        results = [out.get(timeout=300) for _ in procs]
        for p in procs:
            p.join(60)
        print(json.dumps(sorted(results, key=lambda r: r["k"])), flush=True)
    """
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def collector_exe() -> str:
    exe = shutil.which("logfunnel-collector", path=os.path.dirname(sys.executable))
    assert exe, "the logfunnel-collector entry point is not installed next to this python"
    return exe


class Collector:
    """The real collector binary with a JSON-lines sink and its own state directory; it can be
    killed and started again on the same endpoint and state."""

    def __init__(
        self,
        tmp_path: pathlib.Path,
        out: pathlib.Path,
        extra: str = "",
        endpoint: Optional[str] = None,
        netns: Optional[str] = None,
    ) -> None:
        self.endpoint = endpoint or "tcp://127.0.0.1:%d" % free_port()
        self.netns = netns
        self.out = out
        self.config = tmp_path / "collector.toml"
        self.config.write_text(
            textwrap.dedent(
                """
                bind = ["%s"]
                state_dir = "%s"
                flush_interval_ms = 20
                %s
                [[sink]]
                kind = "jsonl"
                path = "%s"
                """
            )
            % (self.endpoint, tmp_path / "state", extra, out)
        )
        self.stderr_path = tmp_path / "collector.stderr"
        self.proc: Optional[subprocess.Popen] = None

    def start(self) -> None:
        """Starts the collector and waits until it says it is ready (its signal handlers are in
        place, so a SIGTERM right after is a clean stop)."""
        argv = [collector_exe(), "--config", str(self.config)]
        if self.netns:
            argv = ["ip", "netns", "exec", self.netns, *argv]
        ready_before = self.ready_lines()
        self.proc = subprocess.Popen(
            argv,
            stdout=subprocess.DEVNULL,
            stderr=open(self.stderr_path, "ab"),
        )
        deadline = time.monotonic() + 60
        while self.ready_lines() == ready_before:
            assert self.proc.poll() is None, self.stderr()
            assert time.monotonic() < deadline, "the collector did not get ready: " + self.stderr()
            time.sleep(0.01)

    def ready_lines(self) -> int:
        try:
            return self.stderr().count("logfunnel-collector: ready")
        except FileNotFoundError:
            return 0

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.kill()
        self.proc.wait(30)

    def stop(self) -> int:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(120)

    def stderr(self) -> str:
        return self.stderr_path.read_text(errors="replace")

    def lines(self) -> int:
        try:
            with open(self.out, "rb") as f:
                return sum(1 for _ in f)
        except FileNotFoundError:
            return 0

    def wait_lines(self, n: int, timeout: float = 120.0) -> None:
        deadline = time.monotonic() + timeout
        while self.lines() < n:
            assert time.monotonic() < deadline, "fewer than %d records in %s" % (n, self.out)
            assert self.proc is None or self.proc.poll() is None, self.stderr()
            time.sleep(0.01)

    def close(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(30)


def start_workers(
    tmp_path: pathlib.Path, endpoint: str, workers: int, n: int, pace: int, method: str
) -> subprocess.Popen:
    script = tmp_path / "workers.py"
    script.write_text(WORKER)
    proc = subprocess.Popen(
        [sys.executable, str(script), endpoint, str(workers), str(n), str(pace), method],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=str(tmp_path),
    )
    assert proc.stdout.readline().strip() == "started"
    return proc


def finish_workers(proc: subprocess.Popen) -> List[Dict[str, Any]]:
    out, err = proc.communicate(timeout=400)
    assert proc.returncode == 0, err
    return json.loads(out.strip().splitlines()[-1])


def check_file(out: pathlib.Path, results: List[Dict[str, Any]], n: int) -> Counter:
    """Every worker's records 0..n-1 are in the file, whole, each at least once; returns how often
    each (sid, seq) was written beyond the first."""
    seen: Dict[str, set] = {}
    dup: Counter = Counter()
    for line in out.read_bytes().splitlines():
        r = json.loads(line)  # a partial line would fail here
        got = seen.setdefault(r["sid"], set())
        if r["seq"] in got:
            dup[r["sid"]] += 1
        got.add(r["seq"])
    for res in results:
        assert res["flushed"], "worker %d: flush() did not report every record acknowledged: %s" % (
            res["k"],
            res["stats"],
        )
        st = res["stats"]
        assert st["dropped"] == 0, st
        assert st["acknowledging"], st
        assert st["acknowledged"] == n and st["unacknowledged"] == 0, st
        seqs = seen.get(res["sid"], set())
        missing = n - len(seqs & set(range(n)))
        assert missing == 0, "worker %d (%s): %d of %d records missing" % (
            res["k"],
            res["sid"],
            missing,
            n,
        )
    return dup


@pytest.fixture
def collector_proc(tmp_path):
    c = Collector(tmp_path, tmp_path / "out.jsonl")
    try:
        yield c
    finally:
        c.close()


def test_collector_killed_three_times_loses_nothing(tmp_path, collector_proc):
    c, n, workers = collector_proc, 100_000, 4
    c.start()
    senders = start_workers(tmp_path, c.endpoint, workers, n, 25, "spawn")
    total = workers * n
    for kill in range(3):
        c.wait_lines(total * (kill + 1) // 5)
        c.kill()
        time.sleep(0.5)  # the collector is down for half a second, as after an OOM kill
        c.start()
    results = finish_workers(senders)
    assert c.stop() == 0
    dup = check_file(c.out, results, n)
    assert sum(dup.values()) <= 3 * DUPLICATES_PER_CRASH, dup
    assert "duplicates" in c.stderr() or sum(dup.values()) == 0


def test_collector_started_after_the_senders_loses_nothing(tmp_path, collector_proc):
    c, n = collector_proc, 5_000
    senders = start_workers(tmp_path, c.endpoint, 2, n, 0, "spawn")
    time.sleep(5)  # the collector comes up five seconds after the senders started logging
    c.start()
    results = finish_workers(senders)
    assert c.stop() == 0
    assert sum(check_file(c.out, results, n).values()) == 0


def test_collector_stopped_with_records_in_flight_loses_nothing(tmp_path, collector_proc):
    c, n = collector_proc, 50_000
    c.start()
    senders = start_workers(tmp_path, c.endpoint, 2, n, 50, "fork")
    c.wait_lines(n // 2)
    assert c.stop() == 0  # SIGTERM: drains what it has, acknowledges only what it wrote
    c.start()
    results = finish_workers(senders)
    assert c.stop() == 0
    # A clean stop saves the watermarks after the last write: nothing is written twice.
    assert sum(check_file(c.out, results, n).values()) == 0


@pytest.mark.parametrize("method", ["fork", "spawn", "forkserver"])
def test_every_process_kind_is_acknowledged(tmp_path, collector_proc, method):
    c, n = collector_proc, 2_000
    c.start()
    results = finish_workers(start_workers(tmp_path, c.endpoint, 3, n, 0, method))
    assert c.stop() == 0
    assert sum(check_file(c.out, results, n).values()) == 0


POOL = textwrap.dedent(
    """
    import json, logging, multiprocessing as mp, sys
    import logfunnel

    handler = None
    barrier = None

    def init(endpoint, both):
        global handler, barrier
        barrier = both
        handler = logfunnel.Handler(endpoint)
        log = logging.getLogger("pool")
        log.addHandler(handler)
        log.setLevel(logging.INFO)

    def task(i):
        logging.getLogger("pool").info("task %d", i)
        return i

    def report(_):
        barrier.wait(60)  # each of the two workers takes exactly one report
        ok = handler.flush(timeout=60)
        return {"flushed": ok, "sid": handler._native.sid, "stats": handler.stats()}

    if __name__ == "__main__":
        ctx = mp.get_context(sys.argv[2])
        both = ctx.Barrier(2)
        with ctx.Pool(2, initializer=init, initargs=(sys.argv[1], both)) as pool:
            assert sorted(pool.map(task, range(1000), chunksize=10)) == list(range(1000))
            print(json.dumps(pool.map(report, range(2), chunksize=1)))
    """
)


@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_pool_workers_are_acknowledged(tmp_path, collector_proc, method):
    c = collector_proc
    c.start()
    proc = run_script(tmp_path, POOL, c.endpoint, method, timeout=180)
    reports = json.loads(proc.stdout.strip().splitlines()[-1])
    assert all(r["flushed"] for r in reports), reports
    acked = {r["sid"]: r["stats"]["acknowledged"] for r in reports}
    assert len(acked) == 2, reports
    assert sum(acked.values()) == 1000, acked
    assert c.stop() == 0
    assert c.lines() == 1000


@pytest.fixture
def small_disk(tmp_path):
    """A real tmpfs of 32 MiB (room for the test's 30,000 JSON records, about 14 MB, once the filler
    is gone), mounted for the test and unmounted after it (needs root)."""
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root (CI runs as root)")
    disk = tmp_path / "disk"
    disk.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=32m", "tmpfs", str(disk)], check=True)
    try:
        yield disk
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=False)


def fill(disk: pathlib.Path) -> pathlib.Path:
    """Fills the file system with one file until it has no room left."""
    filler = disk / "filler"
    # Unbuffered: a buffered file would try to write its rest again on close, and fail.
    with open(filler, "wb", buffering=0) as f:
        chunk = b"\0" * 65536
        try:
            while True:
                f.write(chunk)
        except OSError:
            pass
        # Leave not even a partial block free.
        try:
            while True:
                f.write(b"\0" * 512)
        except OSError:
            pass
    return filler


def test_full_disk_for_five_seconds_loses_nothing_and_tears_no_line(tmp_path, small_disk):
    out = small_disk / "out.jsonl"
    c = Collector(tmp_path, out)
    try:
        c.start()
        n = 15_000
        senders = start_workers(tmp_path, c.endpoint, 2, n, 25, "spawn")
        c.wait_lines(n // 4)
        filler = fill(small_disk)
        full_at = time.monotonic()
        # The collector warns, naming the file, while the disk stays full.
        deadline = full_at + 30
        while str(out) not in c.stderr() or "No space left" not in c.stderr():
            assert time.monotonic() < deadline, c.stderr()
            time.sleep(0.02)
        time.sleep(max(0.0, 5 - (time.monotonic() - full_at)))  # full for five seconds
        filler.unlink()
        results = finish_workers(senders)
        assert c.stop() == 0
        assert sum(check_file(out, results, n).values()) == 0
        assert out.read_bytes().endswith(b"\n")
    finally:
        c.close()


LINK_SENDER = across_sender(
    """
    n = int(sys.argv[2])
    for i in range(n):
        log.info("record %d from host A", i)
        if i % 100 == 99:
            time.sleep(0.01)  # about 10,000 records/s: the stream is still running when the link goes
    ok = handler.flush(timeout=240)
    print(json.dumps({"k": 0, "flushed": ok, "sid": handler._native.sid, "stats": handler.stats()}))
    handler.close(timeout=5)
    """
)


def test_network_cut_for_forty_seconds_loses_nothing(tmp_path):
    from netns import in_netns, two_hosts

    out = tmp_path / "out.jsonl"
    n = 40_000
    with two_hosts("lfcut", "10.231.9") as hosts:
        # Plaintext between the two namespaces (a test network of its own): allowed explicitly.
        c = Collector(
            tmp_path,
            out,
            extra="insecure = true",
            endpoint="tcp://%s:5598" % hosts["ADDR_B"],
            netns=hosts["NETNS_B"],
        )
        c.start()
        try:
            sender = subprocess.Popen(
                in_netns(hosts["NETNS_A"], [sys.executable, "-c", LINK_SENDER, c.endpoint, str(n)]),
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            c.wait_lines(n // 4)
            dev = ["ip", "-n", hosts["NETNS_A"], "link", "set", hosts["DEV_A"]]
            subprocess.run(dev + ["down"], check=True)
            time.sleep(40)  # the link stays cut for forty seconds
            subprocess.run(dev + ["up"], check=True)
            stdout, stderr = sender.communicate(timeout=400)
            assert sender.returncode == 0, stderr
            result = json.loads(stdout.strip().splitlines()[-1])
            assert c.stop() == 0
        finally:
            c.close()
    assert sum(check_file(out, [result], n).values()) == 0


FROZEN = textwrap.dedent(
    """
    import logging, os, signal, sys, logfunnel
    handler = logfunnel.Handler(sys.argv[1])
    log = logging.getLogger("frozen")
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    for i in range(100):
        log.info("before %d", i)
    assert handler.flush(timeout=60), handler.stats()
    os.kill(int(sys.argv[2]), signal.SIGSTOP)  # the collector stops answering, its sockets stay open
    for i in range(50):
        log.info("while frozen %d", i)
    assert not handler.flush(timeout=0.5), handler.stats()
    st = handler.stats()
    assert st["acknowledging"] and st["acknowledged"] == 100 and st["unacknowledged"] == 50, st
    handler.close(timeout=0.2)
    """
)


def test_close_reports_records_sent_and_never_acknowledged(tmp_path, collector_proc):
    c = collector_proc
    c.start()
    try:
        proc = run_script(tmp_path, FROZEN, c.endpoint, str(c.proc.pid), timeout=120)
    finally:
        c.proc.send_signal(signal.SIGCONT)
    lines = [l for l in proc.stderr.splitlines() if "not delivered to" in l]
    assert len(lines) == 1, proc.stderr
    assert "50 sent but never acknowledged" in lines[0], lines[0]
