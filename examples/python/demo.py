"""logfunnel's main job: several worker processes log into one collector, which writes one rotated file.

    python examples/python/demo.py [--workers 4] [--records 50000] [--dir logs/demo]

The collector runs inside this (main) process with ``logfunnel.serve``; the workers are ordinary
``multiprocessing`` processes (forked, plus one spawned) with a ``logfunnel.Handler``. At the end the
demo counts the lines in the log file and its rotated backups and checks that every record arrived
exactly once, in order per worker. Exit status 0 means nothing was lost.
"""

from __future__ import annotations

import argparse
import glob
import logging
import multiprocessing as mp
import os
import re
import sys
import time

import logfunnel

FORMAT = "%(asctime)s %(levelname)-8s %(name)s [%(processName)s %(process)d] %(message)s"


def worker(endpoint: str, index: int, records: int) -> None:
    """One application process: plain ``logging`` calls, one logfunnel handler."""
    logger = logging.getLogger("demo.worker%d" % index)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    logger.addHandler(logfunnel.Handler(endpoint))
    for i in range(records):
        logger.info("record %d of worker %d", i, index, extra={"worker": index})
    # No explicit flush: records logged right before a multiprocessing child exits must arrive anyway.


def count_lines(path: str, workers: int) -> tuple[list[str], int, list[str]]:
    """Reads the file and its backups (oldest first) and checks order per worker."""
    files = sorted(
        glob.glob(path + ".*"), key=lambda p: int(p.rsplit(".", 1)[1]), reverse=True
    ) + [path]
    pattern = re.compile(r"record (\d+) of worker (\d+)$")
    next_expected = [0] * workers
    problems: list[str] = []
    total = 0
    for name in files:
        with open(name, encoding="utf-8") as fh:
            for line in fh:
                total += 1
                m = pattern.search(line.rstrip("\n"))
                if not m:
                    problems.append("unexpected line: %r" % line[:120])
                    continue
                i, w = int(m.group(1)), int(m.group(2))
                if i != next_expected[w]:
                    problems.append("worker %d: expected record %d, found %d" % (w, next_expected[w], i))
                next_expected[w] = i + 1
    return files, total, problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--records", type=int, default=50_000, help="records per worker")
    parser.add_argument("--dir", default=os.path.join("logs", "demo"))
    parser.add_argument("--max-bytes", type=int, default=2 * 1024 * 1024)
    args = parser.parse_args()

    os.makedirs(args.dir, exist_ok=True)
    path = os.path.join(args.dir, "demo.log")
    for old in glob.glob(path + "*"):
        os.remove(old)

    collector = logfunnel.serve(
        bind="tcp://127.0.0.1:*",
        sink=[
            {
                "kind": "rotating_file",
                "path": path,
                "format": FORMAT,
                "max_bytes": args.max_bytes,
                "backup_count": 1000,
            }
        ],
    )
    endpoint = collector.endpoints[0]
    print("collector listening on %s, writing %s" % (endpoint, path))

    started = time.monotonic()
    procs = []
    for index in range(args.workers):
        # Mix start methods: forked children (inheriting nothing but the endpoint) and one spawned.
        method = "spawn" if index == args.workers - 1 and args.workers > 1 else "fork"
        ctx = mp.get_context(method)
        p = ctx.Process(target=worker, args=(endpoint, index, args.records), name="worker-%d" % index)
        p.start()
        procs.append(p)
    for p in procs:
        p.join()
    collector.stop(timeout=30)
    summary = collector.stats()
    elapsed = time.monotonic() - started

    files, total, problems = count_lines(path, args.workers)
    expected = args.workers * args.records
    print("%d worker processes logged %d records in %.2f s (%.0f records/s)"
          % (args.workers, expected, elapsed, expected / elapsed))
    print("log file: %s (+%d rotated backups, %s)" % (path, len(files) - 1, ", ".join(os.path.basename(f) for f in files[:3]) + (" ..." if len(files) > 3 else "")))
    print("records in the files: %d of %d expected, lost: %d" % (total, expected, expected - total))
    print("collector: received %d, written %d, malformed %d, lost according to seq gaps %d"
          % (summary["received"], sum(s["written"] for s in summary["sinks"]), summary["malformed"], summary["lost"]))
    for problem in problems[:10]:
        print("problem:", problem)
    if total != expected or problems:
        return 1
    print("OK: every record arrived exactly once, in order per worker")
    return 0


if __name__ == "__main__":
    sys.exit(main())
