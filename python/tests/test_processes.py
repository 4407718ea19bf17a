"""Several real processes logging into one real collector: fork, multiprocessing (fork and spawn),
Pool, ProcessPoolExecutor, and every way a process can end right after logging."""

from __future__ import annotations

import json
import re
import sys
import time
from collections import Counter

import pytest

from conftest import by_sender, run_script

PREAMBLE = """
import logging, os, sys
import logfunnel
EP = sys.argv[1]
"""


def msgs(recs):
    return [r["msg"] for r in recs]


def test_os_fork_child_and_parent_keep_working(tmp_path, collector):
    run_script(
        tmp_path,
        PREAMBLE
        + """
log = logging.getLogger("fork")
log.setLevel(logging.INFO)
log.addHandler(logfunnel.Handler(EP))
for i in range(100):
    log.info("parent-before %d", i)
kids = []
for k in range(2):
    pid = os.fork()
    if pid == 0:
        for i in range(300):
            log.info("child%d %d", k, i)
        if k == 0:
            sys.exit(0)              # normal interpreter exit: atexit / logging.shutdown flush
        logging.shutdown()           # os._exit skips every exit hook: close the handlers first
        os._exit(0)
    kids.append(pid)
for i in range(100):
    log.info("parent-after %d", i)
for pid in kids:
    _, status = os.waitpid(pid, 0)
    assert status == 0, status
""",
        collector.endpoint,
    )
    recs = collector.records(800)
    assert len(recs) == 800
    groups = by_sender(recs)
    assert len(groups) == 3
    pids = {rs[0]["process"] for rs in groups.values()}
    assert len(pids) == 3
    for rs in groups.values():
        m = msgs(rs)
        if m[0].startswith("parent"):
            assert m == ["parent-before %d" % i for i in range(100)] + [
                "parent-after %d" % i for i in range(100)
            ]
        else:
            k = m[0].split()[0]
            assert m == ["%s %d" % (k, i) for i in range(300)]


MP_SCRIPT = (
    PREAMBLE
    + """
import multiprocessing as mp

def child(k, handler=None):
    log = logging.getLogger("mp")
    if handler is not None:          # spawn: the handler arrives pickled and is rebuilt here
        log.addHandler(handler)
        log.setLevel(logging.INFO)
    for i in range(400):
        log.info("child%d %d", k, i)
    # returning ends the child with os._exit() after multiprocessing's finalizers: no atexit

if __name__ == "__main__":
    method = sys.argv[2]
    ctx = mp.get_context(method)
    h = logfunnel.Handler(EP)
    log = logging.getLogger("mp")
    log.setLevel(logging.INFO)
    log.addHandler(h)
    log.info("parent start")
    args = (lambda k: (k, h)) if method != "fork" else (lambda k: (k,))
    ps = [ctx.Process(target=child, args=args(k)) for k in range(3)]
    for p in ps:
        p.start()
    for p in ps:
        p.join()
        assert p.exitcode == 0, p.exitcode
    log.info("parent end")
"""
)


@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_multiprocessing_children(tmp_path, collector, method):
    run_script(tmp_path, MP_SCRIPT, collector.endpoint, method)
    recs = collector.records(1202)
    assert len(recs) == 1202
    groups = by_sender(recs)
    assert len(groups) == 4
    for rs in groups.values():
        m = msgs(rs)
        if m[0] == "parent start":
            assert m == ["parent start", "parent end"]
            assert rs[0]["processName"] == "MainProcess"
        else:
            k = m[0].split()[0]
            assert m == ["%s %d" % (k, i) for i in range(400)]
            assert rs[0]["processName"].startswith(
                "ForkProcess" if method == "fork" else "SpawnProcess"
            )


POOL_SCRIPT = (
    PREAMBLE
    + """
import multiprocessing as mp
from concurrent.futures import ProcessPoolExecutor

def init(handler):
    # Recommended for spawn/forkserver: configure logging in each worker from the pickled handler.
    log = logging.getLogger("pool")
    log.handlers = [handler]
    log.setLevel(logging.INFO)

def task(n):
    log = logging.getLogger("pool")
    for i in range(50):
        log.info("task %d line %d", n, i, extra={"task": n, "i": i})
    return n

if __name__ == "__main__":
    kind, method, ending = sys.argv[2], sys.argv[3], sys.argv[4]
    h = logfunnel.Handler(EP)
    log = logging.getLogger("pool")
    log.setLevel(logging.INFO)
    log.addHandler(h)
    ctx = mp.get_context(method)
    initargs = dict(initializer=init, initargs=(h,)) if method != "fork" else {}
    if kind == "pool":
        if ending == "close":
            pool = ctx.Pool(3, **initargs)
            assert pool.map(task, range(30)) == list(range(30))
            pool.close()
            pool.join()
        else:  # the with-statement ends with terminate(): SIGTERM to every worker
            with ctx.Pool(3, **initargs) as pool:
                assert pool.map(task, range(30)) == list(range(30))
    else:
        with ProcessPoolExecutor(3, mp_context=ctx, **initargs) as ex:
            assert list(ex.map(task, range(30))) == list(range(30))
"""
)


@pytest.mark.parametrize(
    "kind,method,ending",
    [
        ("pool", "fork", "close"),
        ("pool", "fork", "terminate"),
        ("pool", "spawn", "close"),
        ("executor", "fork", "shutdown"),
        ("executor", "spawn", "shutdown"),
    ],
)
def test_pools(tmp_path, collector, kind, method, ending):
    run_script(tmp_path, POOL_SCRIPT, collector.endpoint, kind, method, ending)
    recs = collector.records(1500)
    assert len(recs) == 1500
    by_sender(recs)  # each worker: complete and in order
    per_task = Counter(r["task"] for r in recs)
    assert per_task == {n: 50 for n in range(30)}
    for n in range(30):
        assert [r["i"] for r in recs if r["task"] == n] == list(range(50))


EXIT_SCRIPT = (
    PREAMBLE
    + """
how = sys.argv[2]
log = logging.getLogger("exit")
log.setLevel(logging.INFO)
log.addHandler(logfunnel.Handler(EP))
for i in range(2000):
    log.info("line %d", i)
log.warning("last words")
if how == "sys.exit":
    sys.exit(3)
if how == "exception":
    raise RuntimeError("crash after logging")
if how == "os._exit":
    logging.shutdown()
    os._exit(4)
# "normal": fall off the end
"""
)


@pytest.mark.parametrize(
    "how,code", [("normal", 0), ("sys.exit", 3), ("exception", 1), ("os._exit", 4)]
)
def test_records_logged_right_before_exit_arrive(tmp_path, collector, how, code):
    proc = run_script(tmp_path, EXIT_SCRIPT, collector.endpoint, how, check=False)
    assert proc.returncode == code, proc.stderr
    assert "not delivered" not in proc.stderr
    recs = collector.records(2001)
    assert len(recs) == 2001
    by_sender(recs)
    assert recs[-1]["msg"] == "last words"


NO_COLLECTOR_SCRIPT = (
    PREAMBLE
    + """
import json, time
opts = json.loads(sys.argv[2])
h = logfunnel.Handler(EP, **opts)
log = logging.getLogger("nobody")
log.setLevel(logging.INFO)
log.addHandler(h)
t = time.monotonic()
for i in range(int(sys.argv[3])):
    log.info("nobody listens %d", i)
stats = h.stats()
stats["log_seconds"] = time.monotonic() - t
print(json.dumps(stats))
# exit: logging.shutdown closes the handler, waiting at most exit_timeout
"""
)


def _free_endpoint(tmp_path):
    # An ipc path nobody binds: nothing listens there.
    return "ipc://%s/nobody.sock" % tmp_path


@pytest.mark.parametrize("mode", ["xpub", "push"])
def test_no_collector_does_not_hang_or_grow(tmp_path, mode):
    opts = {"exit_timeout": 1.0, "mode": mode}
    t = time.monotonic()
    proc = run_script(
        tmp_path, NO_COLLECTOR_SCRIPT, _free_endpoint(tmp_path), json.dumps(opts), "10000", timeout=30
    )
    elapsed = time.monotonic() - t
    stats = json.loads(proc.stdout)
    assert stats["enqueued"] + stats["dropped"] == 10000
    assert stats["sent"] <= 10000
    # The subprocess timeout is the real check (it ended by itself); the exit waited exit_timeout
    # once (logging.shutdown's flush), not once more for close.
    assert elapsed < 30
    assert "Traceback" not in proc.stderr
    # The loss is reported once, with its count, where someone can see it after the exit.
    lines = [l for l in proc.stderr.splitlines() if l.startswith("logfunnel: ")]
    assert len(lines) == 1, proc.stderr
    assert "not delivered to %s" % _free_endpoint(tmp_path) in lines[0]
    # All that was queued, less what a PUSH socket's pipe took (sndhwm, 1000) before its linger ran out.
    queued = int(re.search(r"still queued at close (\d+)", lines[0]).group(1))
    assert stats["enqueued"] - 1000 <= queued <= stats["enqueued"], lines[0]


def test_no_collector_memory_is_bounded_by_the_queue(tmp_path):
    # A small queue that drops when full: 200k records never hold more than 1000 in memory.
    opts = {"exit_timeout": 0.5, "queue_capacity": 1000, "overflow": "drop_newest"}
    proc = run_script(
        tmp_path, NO_COLLECTOR_SCRIPT, _free_endpoint(tmp_path), json.dumps(opts), "200000", timeout=60
    )
    stats = json.loads(proc.stdout)
    assert stats["depth"] <= 1000
    assert stats["enqueued"] <= 1000
    assert stats["dropped_queue_full"] == 200000 - stats["enqueued"]


def test_block_policy_without_collector_slows_down_only_once(tmp_path):
    # overflow=block: the first full-queue call waits block_timeout, later ones drop at once (counted).
    opts = {"exit_timeout": 0.5, "queue_capacity": 100, "block_timeout": 0.2}
    proc = run_script(
        tmp_path, NO_COLLECTOR_SCRIPT, _free_endpoint(tmp_path), json.dumps(opts), "20000", timeout=60
    )
    stats = json.loads(proc.stdout)
    assert stats["enqueued"] == 100
    assert stats["dropped_queue_full"] == 19900


def test_collector_started_after_the_program_loses_nothing(tmp_path):
    # The sender starts first and keeps records until the collector comes up.
    from conftest import Collected

    ep = "ipc://%s/late.sock" % tmp_path
    script = (
        PREAMBLE
        + """
import time
log = logging.getLogger("late")
log.setLevel(logging.INFO)
h = logfunnel.Handler(EP, exit_timeout=20)
log.addHandler(h)
for i in range(500):
    log.info("early %d", i)
print("logged", flush=True)
"""
    )
    import subprocess
    import textwrap

    path = tmp_path / "late.py"
    path.write_text(textwrap.dedent(script))
    proc = subprocess.Popen(
        [sys.executable, str(path), ep], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout.readline().strip() == "logged"
        time.sleep(0.3)
        c = Collected(tmp_path, bind=ep)
        try:
            assert proc.wait(timeout=30) == 0
            recs = c.records(500)
        finally:
            c.stop()
    finally:
        if proc.poll() is None:
            proc.kill()
    assert msgs(recs) == ["early %d" % i for i in range(500)]
    by_sender(recs)


SERVE_FORK_SCRIPT = """
import json, logging, os, sys, time
import logfunnel
out = sys.argv[1]
# The cookbook layout: the collector (and a Listener) live in the main process, children are forked
# from it and end normally, which destroys their inherited copies of both.
keep = []
class Keep(logging.Handler):
    def emit(self, record):
        keep.append(record.getMessage())
listener = logfunnel.Listener("tcp://127.0.0.1:0", Keep())
listener.start()
with logfunnel.serve(bind="tcp://127.0.0.1:0", flush_interval_ms=20,
                     sinks=[{"kind": "jsonl", "path": out}]) as collector:
    log = logging.getLogger("servefork")
    log.setLevel(logging.INFO)
    log.addHandler(logfunnel.Handler(collector.endpoint))
    side = logging.getLogger("side")
    side.propagate = False
    side.addHandler(logfunnel.Handler(listener.endpoint))
    for k in range(3):
        pid = os.fork()
        if pid == 0:
            log.info("child %d", k)
            side.warning("child %d to the listener", k)
            sys.exit(0)  # normal exit: every object is finalized in the child
        _, status = os.waitpid(pid, 0)
        assert status == 0, status
    log.info("parent still fine")
    side.warning("parent to the listener")
    logging.shutdown()
    deadline = time.monotonic() + 10
    while collector.stats()["accepted"] < 4 and time.monotonic() < deadline:
        time.sleep(0.02)
listener.stop()
print(json.dumps({"accepted": collector.stats()["accepted"], "listener": sorted(keep)}))
"""


def test_collector_and_listener_in_a_parent_survive_forked_children(tmp_path):
    out = tmp_path / "servefork.jsonl"
    proc = run_script(tmp_path, SERVE_FORK_SCRIPT, str(out), timeout=60)
    result = json.loads(proc.stdout)
    assert result["accepted"] == 4
    assert result["listener"] == sorted(
        ["child %d to the listener" % k for k in range(3)] + ["parent to the listener"]
    )
    msgs_written = [json.loads(line)["msg"] for line in out.read_text().splitlines()]
    assert sorted(msgs_written) == sorted(["child 0", "child 1", "child 2", "parent still fine"])
