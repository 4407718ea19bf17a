"""multiprocessing.Pool and concurrent.futures.ProcessPoolExecutor workers logging to one collector.

    python examples/python/pools_demo.py

The recommended pattern for any start method: give the pool an initializer that installs the handler
in each worker (a Handler pickles as its arguments, so passing it as initargs works too). With the fork
start method a handler configured in the parent is inherited and keeps working as well.
Records logged right before a worker exits arrive: at pool.close(); pool.join(), at executor
shutdown, and even at Pool.terminate() (the with-statement), which the handler turns into a
bounded flush before the worker dies.
"""

import logging
import multiprocessing as mp
import os
import tempfile
from concurrent.futures import ProcessPoolExecutor

import logfunnel

ENDPOINT = "ipc://%s/logfunnel-pools-%d.sock" % (tempfile.gettempdir(), os.getpid())


def init_worker(endpoint: str) -> None:
    logfunnel.install(endpoint, level=logging.INFO)


def task(n: int) -> int:
    logging.getLogger("pools.task").info("task %d done in pid %d", n, os.getpid())
    return n * n


def main() -> None:
    out = os.path.join(tempfile.gettempdir(), "logfunnel-pools-%d.jsonl" % os.getpid())
    with logfunnel.serve(bind=ENDPOINT, sinks=[{"kind": "jsonl", "path": out}]) as collector:
        for method in ("fork", "spawn"):
            ctx = mp.get_context(method)
            pool = ctx.Pool(2, initializer=init_worker, initargs=(ENDPOINT,))
            print(method, "Pool:", sum(pool.map(task, range(100))))
            pool.close()
            pool.join()
            with ProcessPoolExecutor(2, mp_context=ctx, initializer=init_worker, initargs=(ENDPOINT,)) as ex:
                print(method, "ProcessPoolExecutor:", sum(ex.map(task, range(100))))
    with open(out, encoding="utf-8") as f:
        n = sum(1 for _ in f)
    print("records written: %d (expected 400); collector lost: %d" % (n, collector.stats()["lost"]))
    os.remove(out)


if __name__ == "__main__":
    main()
