"""Several worker processes log into one file through one collector running in the main process.

    python examples/python/multiprocess_demo.py [logfile]

The collector (logfunnel.serve) runs on background threads of this process, the way the logging
cookbook runs its listener; each worker only has a logfunnel.Handler. Works with every start method.
"""

import logging
import multiprocessing as mp
import os
import sys
import tempfile

import logfunnel

ENDPOINT = "ipc://%s/logfunnel-demo-%d.sock" % (tempfile.gettempdir(), os.getpid())
WORKERS = 4
RECORDS = 2500


def worker(n: int, endpoint: str) -> None:
    # Configure logging in the worker (what spawn/forkserver need; harmless with fork).
    logging.basicConfig(level=logging.INFO, handlers=[logfunnel.Handler(endpoint)], force=True)
    log = logging.getLogger("demo.worker")
    for i in range(RECORDS):
        log.info("worker %d says %d", n, i, extra={"worker": n})
    # Nothing to flush by hand: the handler is closed when this child ends.


def main() -> None:
    logfile = sys.argv[1] if len(sys.argv) > 1 else os.path.join(tempfile.gettempdir(), "logfunnel-demo.log")
    if os.path.exists(logfile):
        os.remove(logfile)
    collector = logfunnel.serve(
        bind=ENDPOINT,
        sinks=[{"kind": "file", "path": logfile,
                "format": "%(asctime)s %(processName)-12s %(name)s %(levelname)s %(message)s"}],
    )
    with collector:
        procs = [mp.Process(target=worker, args=(n, ENDPOINT)) for n in range(WORKERS)]
        for p in procs:
            p.start()
        for p in procs:
            p.join()
    # Leaving the with block stopped the collector after it wrote out everything it received.
    with open(logfile, encoding="utf-8") as f:
        lines = f.read().splitlines()
    print("%d worker processes logged %d records into %s" % (WORKERS, len(lines), logfile))
    print("first line: %s" % lines[0])
    stats = collector.stats()
    print("collector: accepted=%d lost=%d malformed=%d" % (stats["accepted"], stats["lost"], stats["malformed"]))
    if len(lines) != WORKERS * RECORDS:
        sys.exit("expected %d lines" % (WORKERS * RECORDS))


if __name__ == "__main__":
    main()
