"""Item 1 (and the per-call half of item 4): the cost of one `logger.info("record %d", i)` call.

Handlers, each with its receiving side running in another process so every call is a real send:
  (a) floor      a handler whose emit() does nothing (Python's own logging cost)
  (b) logfunnel  logfunnel.Handler -> collector process (SUB) writing a rotating file
  (c) cookbook   the cookbook's ZeroMQSocketHandler (PUB, send_json(record.__dict__)) -> cookbook listener
  (d) pushjson   hand-tuned pyzmq PUSH handler (json.dumps of ~10 fields) -> collector process (PULL)
  (e) mpqueue    QueueHandler(multiprocessing.Queue) -> QueueListener process
and, with --curve-keys (item 7, asked for by name with --handlers):
      logfunnel-curve  logfunnel.Handler with curve_server_key/curve_secret_key -> a collector with [curve]

Runs are interleaved (a b c d e, a b c d e, ...) so slow drift on a shared machine hits all alike.
Each run records wall time per call (the figure the targets use) and the CPU time the whole process
(every thread: sender I/O threads, queue feeder threads) spent per call, which a busy machine
disturbs less.
Between runs the receivers are given time to drain, so a run never pays for the previous one's backlog.
Prints one JSON object on stdout.
"""

from __future__ import annotations

import argparse
import json
import logging
import multiprocessing as mp
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from baselines import (  # noqa: E402
    FloorHandler,
    PushJsonHandler,
    cookbook_handler,
    run_queue_listener,
)
from common import Collector, free_port, wait_quiet  # noqa: E402
from keys import CurveKeys  # noqa: E402

HANDLERS = ["floor", "logfunnel", "cookbook", "pushjson", "mpqueue"]
SIZE_HANDLERS = ["floor", "logfunnel", "pushjson"]


def spawn(calls: int, runs: int, *, handlers=HANDLERS, sizes: str = "", size_calls: int = 0,
          curve_keys: CurveKeys | None = None) -> tuple[dict | None, str]:  # fmt: skip
    """Runs this script in a fresh process: (its JSON result, or None and its stderr on failure)."""
    cmd = [sys.executable, str(Path(__file__).resolve()),
           "--calls", str(calls), "--runs", str(runs), "--size-calls", str(size_calls),
           "--sizes", sizes, "--handlers", ",".join(handlers)]  # fmt: skip
    if curve_keys is not None:
        cmd += ["--curve-keys", str(curve_keys.directory)]
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=3600)
    if res.returncode != 0:
        return None, f"percall.py exit {res.returncode}: {res.stderr[-3000:]}"
    return json.loads(res.stdout.strip().splitlines()[-1]), ""


def timed_loop(log: logging.Logger, n: int) -> tuple[float, float]:
    """(wall seconds, process CPU seconds) per call."""
    c0, t0 = time.process_time(), time.perf_counter()
    for i in range(n):
        log.info("record %d", i)
    t1, c1 = time.perf_counter(), time.process_time()
    return (t1 - t0) / n, (c1 - c0) / n


def timed_loop_payload(log: logging.Logger, n: int, pad: str) -> tuple[float, float]:
    c0, t0 = time.process_time(), time.perf_counter()
    for i in range(n):
        log.info("record %d %s", i, pad)
    t1, c1 = time.perf_counter(), time.process_time()
    return (t1 - t0) / n, (c1 - c0) / n


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--calls", type=int, default=200_000)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--size-calls", type=int, default=50_000)
    ap.add_argument("--sizes", default="100,1024,16384")
    ap.add_argument("--handlers", default=",".join(HANDLERS))
    ap.add_argument("--curve-keys", help="folder of keys.CurveKeys, for the logfunnel-curve handler")
    args = ap.parse_args()
    wanted = args.handlers.split(",")
    sizes = [int(s) for s in args.sizes.split(",") if s]

    with tempfile.TemporaryDirectory(prefix="lf-bench-percall-", dir=os.environ.get("LF_BENCH_TMP")) as d:
        work = Path(d)
        dirs = {k: work / k for k in ("collector", "curve", "cookbook", "mpqueue")}
        for p in dirs.values():
            p.mkdir()

        # Fork the queue listener before any ZeroMQ object exists in this process.
        ctx = mp.get_context("fork")
        mpq = ctx.Queue(-1)
        ready = ctx.Event()
        mpq_listener = ctx.Process(
            target=run_queue_listener, args=(mpq, str(dirs["mpqueue"] / "app.log"), ready)
        )
        mpq_listener.start()
        ready.wait(30)

        sub_ep = f"tcp://127.0.0.1:{free_port()}"
        pull_ep = f"tcp://127.0.0.1:{free_port()}"
        need_collector = {"logfunnel", "pushjson"} & set(wanted + (SIZE_HANDLERS if sizes else []))
        collector = (
            Collector(
                work, dirs["collector"], bind=[sub_ep], pull=[pull_ep], max_bytes=64 << 20, backup_count=1000
            )
            if need_collector
            else None
        )
        curve_ep = f"tcp://127.0.0.1:{free_port()}"
        keys = CurveKeys(Path(args.curve_keys)) if args.curve_keys else None
        if "logfunnel-curve" in wanted and keys is None:
            raise SystemExit("--handlers logfunnel-curve needs --curve-keys")
        curve_collector = (
            Collector(
                work, dirs["curve"], bind=[curve_ep], max_bytes=64 << 20, backup_count=1000,
                **keys.collector_kwargs(),
            )  # fmt: skip
            if "logfunnel-curve" in wanted
            else None
        )
        cb_uri = f"tcp://127.0.0.1:{free_port()}"
        cb_listener = subprocess.Popen(
            [sys.executable, os.path.join(os.path.dirname(__file__), "baselines.py"),
             "cookbook-listener", cb_uri, str(dirs["cookbook"] / "app.log")],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        cb_listener.stdout.readline()

        handlers: dict[str, logging.Handler] = {}
        try:
            handlers["floor"] = FloorHandler()
            if need_collector:
                import logfunnel

                handlers["logfunnel"] = logfunnel.Handler(sub_ep)
                handlers["pushjson"] = PushJsonHandler(pull_ep)
            if curve_collector:
                import logfunnel

                handlers["logfunnel-curve"] = logfunnel.Handler(curve_ep, **keys.handler_kwargs())
            handlers["cookbook"] = cookbook_handler(cb_uri)
            from logging.handlers import QueueHandler

            handlers["mpqueue"] = QueueHandler(mpq)
            time.sleep(0.5)  # PUB/SUB and XPUB subscriptions arrive before the first timed call

            drains = {
                "floor": lambda: None,
                "logfunnel": lambda: (handlers["logfunnel"].flush(30), wait_quiet(dirs["collector"])),
                "logfunnel-curve": lambda: (handlers["logfunnel-curve"].flush(30), wait_quiet(dirs["curve"])),
                "cookbook": lambda: wait_quiet(dirs["cookbook"]),
                "pushjson": lambda: wait_quiet(dirs["collector"]),
                "mpqueue": lambda: wait_quiet(dirs["mpqueue"], still=0.3),
            }

            log = logging.getLogger("bench.percall")
            log.propagate = False
            log.setLevel(logging.INFO)

            def measure(name: str, fn) -> float:
                h = handlers[name]
                log.addHandler(h)
                try:
                    fn(min(2000, args.calls))  # warm-up, not timed
                    drains[name]()
                    return fn(None)
                finally:
                    log.removeHandler(h)
                    drains[name]()

            percall: dict[str, list[float]] = {h: [] for h in wanted}
            percall_cpu: dict[str, list[float]] = {h: [] for h in wanted}
            for _ in range(args.runs):
                for name in wanted:
                    wall, cpu = measure(
                        name, lambda n: timed_loop(log, n if n is not None else args.calls)
                    )
                    percall[name].append(wall)
                    percall_cpu[name].append(cpu)

            by_size: dict[str, dict[str, list[float]]] = {}
            for size in sizes:
                pad = "x" * max(0, size - len("record 100000 "))
                by_size[str(size)] = {h: [] for h in SIZE_HANDLERS}
                for _ in range(args.runs):
                    for name in SIZE_HANDLERS:
                        by_size[str(size)][name].append(
                            measure(
                                name,
                                lambda n: timed_loop_payload(
                                    log, n if n is not None else args.size_calls, pad
                                ),
                            )[0]
                        )
            lf_stats = handlers["logfunnel"].stats() if "logfunnel" in handlers else {}
            curve_stats = handlers["logfunnel-curve"].stats() if "logfunnel-curve" in handlers else {}
            out = {
                "calls": args.calls,
                "runs": args.runs,
                "size_calls": args.size_calls,
                "percall": percall,
                "percall_cpu": percall_cpu,
                "by_size": by_size,
                "logfunnel_stats": {k: v for k, v in dict(lf_stats).items()},
                "logfunnel_curve_stats": dict(curve_stats),
                "collector_hwm_kib": collector.usage()["hwm_kib"] if collector else 0,
            }
        finally:
            for h in handlers.values():
                try:
                    h.close()
                except Exception:
                    pass
            mpq.put_nowait(None)
            mpq_listener.join(30)
            cb_listener.stdin.close()
            cb_listener.kill()
            cb_listener.wait()
            if collector:
                collector.stop()
            if curve_collector:
                curve_collector.stop()
    print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
