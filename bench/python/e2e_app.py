"""One multi-process "application" for the end-to-end benchmark (item 2), set up the way each approach's
users set it up: a main process plus P forked worker processes that each log N records.

Protocol with the driver (`e2e.py`), one line each on stdout/stdin:
  app -> `ready`   every worker has configured logging and waits
  driver -> `go`   workers start logging (the driver's clock starts)
  app -> `done`    every worker process has exited
  driver -> `stop` tear down (listener threads, embedded collector) and exit
"""

from __future__ import annotations

import argparse
import json
import logging
import multiprocessing as mp
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from common import LINE_FORMAT, LOGURU_FORMAT  # noqa: E402

APPROACHES = ["logfunnel", "logfunnel-serve", "logfunnel-curve", "logfunnel-v1", "cookbook", "mpqueue", "clh", "loguru"]


def formatter() -> logging.Formatter:
    return logging.Formatter(LINE_FORMAT)


# --- What each worker process does before it logs ----------------------------------------------------


def worker_setup(args, index: int, shared):
    """Configures logging in a worker the approach's way; returns the function that logs one record."""
    root = logging.getLogger()
    root.setLevel(logging.INFO)
    log = logging.getLogger("bench.worker")
    if args.approach in ("logfunnel", "logfunnel-serve", "logfunnel-curve", "logfunnel-v1"):
        import logfunnel

        secure = {}
        if args.approach == "logfunnel-curve":
            secure = {"curve_server_key": args.curve_server_key, "curve_secret_key": args.curve_secret_key}
        root.addHandler(logfunnel.Handler(args.endpoint, **secure))
    elif args.approach == "cookbook":
        from baselines import cookbook_handler

        root.addHandler(cookbook_handler(f"tcp://127.0.0.1:{args.ports[index]}"))
    elif args.approach == "mpqueue":
        from logging.handlers import QueueHandler

        root.addHandler(QueueHandler(shared))
    elif args.approach == "clh":
        from concurrent_log_handler import ConcurrentRotatingFileHandler

        h = ConcurrentRotatingFileHandler(
            args.path, "a", maxBytes=args.max_bytes, backupCount=args.backup_count
        )
        h.setFormatter(formatter())
        root.addHandler(h)
    elif args.approach == "loguru":
        from loguru import logger  # inherited from the parent, which added the enqueue=True sink

        return lambda i: logger.info("record {}", i)
    return lambda i: log.info("record %d", i)


def worker(args, index: int, shared, ready, go) -> None:
    emit = worker_setup(args, index, shared)
    ready.release()
    go.wait()
    for i in range(args.records):
        emit(i)
    # Nothing else: the process ends the way a multiprocessing worker ends (each library's own exit
    # behaviour decides what arrives).


# --- What the main process does ----------------------------------------------------------------------


class Main:
    """The main process's part: listeners, the embedded collector, or nothing."""

    def __init__(self, args):
        self.args = args
        self.shared = None
        self.listener = None
        self.server = None
        self.loguru_sink = None

    def before_fork(self) -> None:
        a = self.args
        if a.approach == "mpqueue":
            self.shared = mp.get_context("fork").Queue(-1)
        elif a.approach == "loguru":
            from loguru import logger

            logger.remove()
            self.loguru_sink = logger.add(
                a.path, format=LOGURU_FORMAT, rotation=a.max_bytes, enqueue=True
            )

    def after_fork(self) -> None:
        a = self.args
        if a.approach == "logfunnel-serve":
            import logfunnel

            self.server = logfunnel.serve(
                bind=a.endpoint,
                stats_interval_s=0,
                sinks=[
                    {
                        "kind": "rotating_file",
                        "path": a.path,
                        "format": LINE_FORMAT,
                        "max_bytes": a.max_bytes,
                        "backup_count": a.backup_count,
                    }
                ],
            )
        elif a.approach == "cookbook":
            from logging.handlers import TimedRotatingFileHandler

            from baselines import ZeroMQSocketListener

            fh = TimedRotatingFileHandler(a.path, when="midnight", backupCount=0)
            fh.setFormatter(formatter())
            uris = [f"tcp://127.0.0.1:{p}" for p in a.ports]
            self.listener = ZeroMQSocketListener(uris[0], fh)
            for uri in uris[1:]:  # one SUB, connected to every worker's PUB
                self.listener.queue.connect(uri)
            self.listener.start()
        elif a.approach == "mpqueue":
            from logging.handlers import QueueListener, RotatingFileHandler

            fh = RotatingFileHandler(a.path, maxBytes=a.max_bytes, backupCount=a.backup_count)
            fh.setFormatter(formatter())
            self.listener = QueueListener(self.shared, fh)
            self.listener.start()

    def stop(self) -> dict:
        a = self.args
        extra = {}
        if self.server is not None:
            self.server.stop()
        if a.approach == "mpqueue" and self.listener is not None:
            self.listener.stop()
        if a.approach == "loguru":
            from loguru import logger

            logger.remove(self.loguru_sink)
        # The cookbook listener cannot be stopped (see baselines.py); its daemon thread ends with us.
        return extra


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--approach", choices=APPROACHES, required=True)
    p.add_argument("--procs", type=int, required=True)
    p.add_argument("--records", type=int, required=True)
    p.add_argument("--path", required=True)
    p.add_argument("--endpoint", default="")
    p.add_argument("--curve-server-key", help="logfunnel-curve: the collector's public key file")
    p.add_argument("--curve-secret-key", help="logfunnel-curve: the sender's secret key file")
    p.add_argument("--ports", type=lambda s: [int(x) for x in s.split(",") if x], default=[])
    p.add_argument("--max-bytes", type=int, default=16 << 20)
    p.add_argument("--backup-count", type=int, default=1000)
    args = p.parse_args()

    ctx = mp.get_context("fork")
    app = Main(args)
    app.before_fork()
    ready = ctx.Semaphore(0)
    go = ctx.Event()
    procs = [
        ctx.Process(
            target=worker, args=(args, i, app.shared, ready, go), name=f"Worker-{i}", daemon=True
        )
        for i in range(args.procs)
    ]
    for pr in procs:
        pr.start()
    app.after_fork()
    waiting = args.procs
    deadline = time.monotonic() + 120
    while waiting:
        if ready.acquire(timeout=0.1):
            waiting -= 1
        elif any(pr.exitcode is not None for pr in procs) or time.monotonic() > deadline:
            go.set()
            raise SystemExit(f"a worker failed to start: exit codes {[pr.exitcode for pr in procs]}")
    print("ready", flush=True)
    if sys.stdin.readline().strip() != "go":
        go.set()
        raise SystemExit("driver went away")
    go.set()
    for pr in procs:
        pr.join()
    codes = [pr.exitcode for pr in procs]
    print("done", flush=True)
    sys.stdin.readline()  # "stop"
    extra = app.stop()
    extra["exitcodes"] = codes
    print(json.dumps(extra), flush=True)
    # The cookbook listener thread may sit in recv forever; leave without joining it.
    sys.stdout.flush()
    os._exit(0 if all(c == 0 for c in codes) else 1)


if __name__ == "__main__":
    main()
