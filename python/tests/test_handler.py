"""logfunnel.Handler in one process, against a real collector: what travels, field by field."""

from __future__ import annotations

import logging
import math
import pickle
import sys
import threading

import pytest

import logfunnel
from conftest import by_sender


def make_logger(name: str, handler: logging.Handler, level: int = logging.DEBUG) -> logging.Logger:
    log = logging.getLogger(name)
    log.handlers = [handler]
    log.setLevel(level)
    log.propagate = False
    return log


@pytest.fixture
def handler(collector):
    h = logfunnel.Handler(collector.endpoint, exit_timeout=5)
    yield h
    h.close()


def test_many_records_arrive_in_order_with_their_fields(collector, handler):
    log = make_logger("t.many", handler)
    n = 5000
    for i in range(n):
        log.info("record %d of %s", i, "many", extra={"i": i})
    assert handler.flush(10)
    recs = collector.records(n)
    assert len(recs) == n
    (sid, got), = by_sender(recs).items()
    assert sid == handler._native.sid
    for i, r in enumerate(got):
        assert r["msg"] == "record %d of many" % i
        assert r["i"] == i
        assert r["args"] is None
    r = got[0]
    assert r["v"] == 1 and r["lang"] == "python"
    assert r["name"] == "t.many"
    assert (r["levelno"], r["levelname"]) == (20, "INFO")
    assert r["module"] == "test_handler" and r["filename"] == "test_handler.py"
    assert r["pathname"] == __file__
    assert r["funcName"] == "test_many_records_arrive_in_order_with_their_fields"
    assert isinstance(r["lineno"], int) and r["lineno"] > 0
    assert r["process"] > 0 and r["processName"] == "MainProcess"
    assert r["thread"] == threading.get_ident() and r["threadName"] == "MainThread"
    assert isinstance(r["created"], float) and isinstance(r["relativeCreated"], float)
    assert r["host"]
    stats = handler.stats()
    assert stats["enqueued"] == n and stats["sent"] == n
    assert stats["dropped"] == 0 and stats["errors"] == 0 and stats["depth"] == 0
    assert stats["connected"] is True
    # The collector's own formatted output saw the same records.
    lines = collector.text_lines()
    assert lines[0] == "t.many|INFO|MainProcess|record 0 of many"
    assert len(lines) == n
    assert collector.stats()["lost"] == 0


def test_threads_share_one_handler(collector, handler):
    log = make_logger("t.threads", handler)
    threads, per = 8, 1500

    def work(t: int) -> None:
        for i in range(per):
            log.warning("t%d i%d", t, i, extra={"t": t, "i": i})

    ts = [threading.Thread(target=work, args=(t,), name="worker-%d" % t) for t in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert handler.flush(10)
    recs = collector.records(threads * per)
    assert len(recs) == threads * per
    by_sender(recs)  # one sender, seq complete and in order
    for t in range(threads):
        mine = [r for r in recs if r["t"] == t]
        assert [r["i"] for r in mine] == list(range(per))
        assert {r["threadName"] for r in mine} == {"worker-%d" % t}


def test_traceback_stack_unicode_and_extras(collector, handler):
    log = make_logger("t.fields.日本", handler)
    try:
        {}["missing"]
    except KeyError:
        log.exception("failed: %s", "ключ")
    log.info("stack here", stack_info=True)
    text = "日本語のログ 中文 한국어 😀🎉 ünïcödé ✓ \x00 \u2028 \"quoted\" \\ \t"
    log.info(text)

    class Unprintable:
        def __repr__(self) -> str:
            raise RuntimeError("no repr")

    class Custom:
        def __repr__(self) -> str:
            return "<Custom 7>"

    extras = {
        "user_id": 42,
        "ratio": 0.5,
        "ok": True,
        "nothing": None,
        "tags": ["a", "b", 3],
        "tup": (1, "two"),
        "nested": {"k": [1, {"z": "日本"}], 5: "int key"},
        "big": 2**80,
        "nan": math.nan,
        "obj": Custom(),
        "raw": b"\x00\xff",
        "aset": {1},
        "bad": Unprintable(),
        "emoji_😀": "value 😀",
        "seq": "user seq",  # a reserved wire key: renamed, never overwriting the real seq
    }
    log.info("extras", extra=extras)
    assert handler.flush(10)
    recs = collector.records(4)
    assert len(recs) == 4
    exc, stack, uni, ext = recs
    assert exc["msg"] == "failed: ключ"
    assert exc["exc_text"].startswith("Traceback (most recent call last):")
    assert "KeyError: 'missing'" in exc["exc_text"]
    assert exc["name"] == "t.fields.日本" and exc["levelname"] == "ERROR"
    assert stack["stack_info"].startswith("Stack (most recent call last):")
    assert "test_traceback_stack_unicode_and_extras" in stack["stack_info"]
    assert "exc_text" not in stack
    assert uni["msg"] == text
    assert ext["user_id"] == 42 and ext["ratio"] == 0.5 and ext["ok"] is True
    assert ext["nothing"] is None
    assert ext["tags"] == ["a", "b", 3] and ext["tup"] == [1, "two"]
    assert ext["nested"] == {"k": [1, {"z": "日本"}], "5": "int key"}
    assert ext["big"] == str(2**80)
    assert ext["nan"] == "nan"
    assert ext["obj"] == "<Custom 7>"
    assert ext["raw"] == repr(b"\x00\xff")
    assert ext["aset"] == "{1}"
    assert ext["bad"] == "<unrepresentable Unprintable object>"
    assert ext["emoji_😀"] == "value 😀"
    assert ext["extra.seq"] == "user seq" and ext["seq"] == 3
    assert handler.stats()["errors"] == 0


def test_exc_text_is_cached_on_the_record_like_formatter_does(collector, handler):
    seen = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            seen.append(record)

    log = make_logger("t.cache", handler)
    log.addHandler(Keep())
    try:
        raise ValueError("cached")
    except ValueError:
        log.error("x", exc_info=True)
    assert "ValueError: cached" in seen[0].exc_text
    assert handler.flush(10)
    (r,) = collector.records(1)
    assert r["exc_text"] == seen[0].exc_text


def test_long_messages_and_truncation(collector, handler):
    log = make_logger("t.long", handler)
    big = "é" * 250_000  # 500 KB of UTF-8
    log.info(big)
    huge = "x" * (3 * 1024 * 1024)  # over max_frame_bytes (1 MiB): truncated, counted
    log.info(huge)
    log.info("after")
    assert handler.flush(10)
    recs = collector.records(3)
    assert [len(r["msg"]) for r in recs[:1]] == [250_000]
    assert recs[0]["msg"] == big
    cut = recs[1]
    assert cut["msg"].startswith("xxxx") and cut["msg"].endswith("[truncated]")
    assert 900_000 < len(cut["msg"].encode()) < 1024 * 1024
    assert cut["lf_truncated_from_bytes"] > 3 * 1024 * 1024
    assert recs[2]["msg"] == "after"
    stats = handler.stats()
    assert stats["truncated"] == 1 and stats["dropped"] == 0
    by_sender(recs)


class _IntSub(int):
    def __str__(self) -> str:
        return "sub"


class _StrSub(str):
    def __str__(self) -> str:
        return "strsub"


MERGE_CASES = [
    ("plain %d", (5,)),
    ("%s and %s", ("a", "日本 😀")),
    ("%i|%d|%s", (-7, 2**63 - 1, 12)),
    ("100%% %s %%", ("done",)),
    ("no args %d", ()),
    ("%d", (True,)),  # bool is not an exact int: Python's own formatting
    ("%d", (2**70,)),  # beyond 64 bits
    ("%s %d", (_StrSub("x"), _IntSub(3))),
    ("%s", (_IntSub(3),)),
    ("%5d|%-3s|%x|%r|%.2f", (42, "a", 255, "q", 1.5)),
    ("%(k)s", ({"k": "mapping"},)),
    ("%s", ([1, 2],)),
    ("%s", (None,)),
    ("%s\n%s\u2028", ("tab\t", '"q"')),
    ("trailing %", ()),
]


def test_messages_merge_as_logging_does(collector, handler):
    log = make_logger("t.merge", handler)
    want = []
    for fmt, args in MERGE_CASES:
        record = log.makeRecord("t.merge", logging.INFO, "x.py", 1, fmt, args, None)
        want.append(record.getMessage())
        log.handle(record)
    assert handler.flush(10)
    recs = collector.records(len(want))
    assert [r["msg"] for r in recs] == want
    assert handler.stats()["errors"] == 0


@pytest.mark.parametrize("fmt,args", [("%d %d", (1,)), ("%d", (1, 2)), ("%d", ("x",)), ("%q", (1,))])
def test_bad_merges_raise_as_logging_does(collector, handler, fmt, args, capsys):
    log = make_logger("t.badmerge", handler)
    record = log.makeRecord("t.badmerge", logging.INFO, "x.py", 1, fmt, args, None)
    with pytest.raises((TypeError, ValueError)):
        record.getMessage()
    log.handle(record)
    log.info("ok")
    assert handler.flush(10)
    assert [r["msg"] for r in collector.records(1)] == ["ok"]
    assert handler.stats()["errors"] == 1
    assert "--- Logging error ---" in capsys.readouterr().err


def test_emit_never_raises_and_counts_errors(collector, handler, capsys):
    log = make_logger("t.errors", handler)
    log.info("%d items", "not a number")  # TypeError in getMessage, as with any logging handler
    log.info("fine")
    assert handler.flush(10)
    recs = collector.records(1)
    assert [r["msg"] for r in recs] == ["fine"]
    assert handler.stats()["errors"] == 1
    err = capsys.readouterr().err
    assert "--- Logging error ---" in err and "TypeError" in err


def test_send_formatted_sends_the_formatter_output(collector):
    h = logfunnel.Handler(collector.endpoint, send_formatted=True)
    h.setFormatter(logging.Formatter("%(levelname)s:%(name)s:%(message)s"))
    try:
        log = make_logger("t.fmt", h)
        try:
            1 / 0
        except ZeroDivisionError:
            log.exception("with %s", "formatter")
        assert h.flush(10)
    finally:
        h.close()
    (r,) = collector.records(1)
    assert r["msg"].startswith("ERROR:t.fmt:with formatter\nTraceback")
    assert "ZeroDivisionError" in r["msg"]
    assert "exc_text" not in r


def test_a_formatter_only_formats_tracebacks(collector, handler):
    """basicConfig(handlers=[...]) gives every handler a formatter: the message must not change."""

    class Short(logging.Formatter):
        def formatException(self, ei) -> str:
            return "short: %s" % ei[1]

    handler.setFormatter(Short("%(levelname)s:%(name)s:%(message)s"))
    log = make_logger("t.fmt2", handler)
    try:
        raise KeyError("k")
    except KeyError:
        log.exception("plain %s", "message")
    assert handler.flush(10)
    (r,) = collector.records(1)
    assert r["msg"] == "plain message"
    assert r["exc_text"] == "short: 'k'"


def test_custom_record_factory_and_filters(collector, handler):
    old = logging.getLogRecordFactory()

    class BraceRecord(logging.LogRecord):
        def getMessage(self) -> str:
            return str(self.msg).format(*self.args)

    logging.setLogRecordFactory(BraceRecord)
    try:
        log = make_logger("t.factory", handler)
        handler.addFilter(lambda r: "secret" not in r.getMessage())
        log.info("brace {} {}", "style", 2)
        log.info("a secret {}", "x")
        log.info("last")
    finally:
        logging.setLogRecordFactory(old)
    assert handler.flush(10)
    recs = collector.records(2)
    assert [r["msg"] for r in recs] == ["brace style 2", "last"]


def test_level_and_non_str_messages(collector):
    h = logfunnel.Handler(collector.endpoint, level="WARNING")
    try:
        log = make_logger("t.level", h)
        log.info("dropped by level")
        log.warning({"a": 1})
        log.error(ValueError("as message"))
        log.log(25, "custom level %s", "25")
        log.critical("100%% done %s", "now")
        assert h.flush(10)
    finally:
        h.close()
    recs = collector.records(3)
    assert [(r["msg"], r["levelname"]) for r in recs] == [
        ("{'a': 1}", "WARNING"),
        ("as message", "ERROR"),
        ("100% done now", "CRITICAL"),
    ]


def test_close_is_bounded_and_later_records_are_counted(collector):
    h = logfunnel.Handler(collector.endpoint)
    log = make_logger("t.close", h)
    log.info("before close")
    h.close()
    assert h.closed
    log.info("after close")
    h.close()  # harmless
    stats = h.stats()
    assert stats["sent"] == 1 and stats["dropped_closed"] == 1
    recs = collector.records(1)
    assert [r["msg"] for r in recs] == ["before close"]


def test_bad_options_raise_builtin_exceptions():
    with pytest.raises(ValueError):
        logfunnel.Handler(overflow="sometimes")
    with pytest.raises(ValueError):
        logfunnel.Handler(mode="dealer")
    with pytest.raises(ValueError):
        logfunnel.Handler("http://127.0.0.1:5555")
    with pytest.raises(ValueError):
        logfunnel.Handler(queue_capacity=0)
    with pytest.raises(ValueError):
        logfunnel.Handler(block_timeout=-1)
    with pytest.raises(ValueError):
        logfunnel.Handler(exit_timeout=-1)
    with pytest.raises(TypeError):
        logfunnel.Handler(queue_size=10)
    with pytest.raises(OSError):
        logfunnel.Handler("tcp://this host does not exist:1")


def test_pickle_rebuilds_the_handler(collector):
    h = logfunnel.Handler(
        collector.endpoint,
        logging.INFO,
        exit_timeout=2,
        send_formatted=True,
        overflow="drop_oldest",
        queue_capacity=100,
    )
    h.setFormatter(logging.Formatter("P %(message)s"))
    h.set_name("pickled")
    try:
        h2 = pickle.loads(pickle.dumps(h))
    finally:
        h.close()
    try:
        assert type(h2) is logfunnel.Handler and h2 is not h
        assert h2.endpoint == collector.endpoint and h2.level == logging.INFO
        assert h2.exit_timeout == 2 and h2.name == "pickled" and h2.send_formatted
        assert h2.options == {"overflow": "drop_oldest", "queue_capacity": 100}
        log = make_logger("t.pickle", h2)
        log.info("from the copy")
        assert h2.flush(10)
    finally:
        h2.close()
    (r,) = collector.records(1)
    assert r["msg"] == "P from the copy"


def test_install_and_module_flush(collector):
    root = logging.getLogger()
    old_handlers, old_level = root.handlers[:], root.level
    try:
        h = logfunnel.install(collector.endpoint, level=logging.INFO)
        assert h in root.handlers and root.level == logging.INFO
        logging.getLogger("t.install").info("via root")
        logging.getLogger("t.install").debug("below level")
        assert logfunnel.flush(10)
    finally:
        root.handlers = old_handlers
        root.setLevel(old_level)
        h.close()
    recs = collector.records(1)
    assert [r["msg"] for r in recs] == ["via root"]


@pytest.mark.skipif(sys.version_info < (3, 12), reason="taskName is new in 3.12")
def test_task_name(collector, handler):  # pragma: no cover - runs on 3.12+
    import asyncio

    log = make_logger("t.task", handler)

    async def main() -> None:
        log.info("in a task")

    asyncio.run(main())
    assert handler.flush(10)
    (r,) = collector.records(1)
    assert r["taskName"].startswith("Task-")
