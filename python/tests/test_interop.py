"""Interop with what people already run: the logging cookbook's pyzmq recipe (both directions),
pyzmq's PUBHandler, and logfunnel.Listener as a drop-in for the cookbook's listener."""

from __future__ import annotations

import json
import logging
import logging.handlers
import time

import pytest
import zmq
import zmq.log.handlers

import logfunnel
from conftest import by_sender

COOKBOOK_FORMAT = "%(name)s - %(asctime)s - %(levelname)s - %(module)s - %(funcName)s - %(message)s"


class ZeroMQSocketHandler(logging.handlers.QueueHandler):
    """The cookbook's sender: a QueueHandler whose queue is a pyzmq PUB socket."""

    def enqueue(self, record: logging.LogRecord) -> None:
        self.queue.send_json(record.__dict__)


def isolated_logger(name, *handlers):
    log = logging.getLogger(name)
    log.handlers = list(handlers)
    log.setLevel(logging.DEBUG)
    log.propagate = False
    return log


def send_until_seen(send, seen, timeout=10.0):
    """A plain PUB loses what it sends before the subscription arrives (slow joiner): probe first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        send()
        time.sleep(0.05)
        if seen():
            return
    raise AssertionError("the subscriber never saw the probe")


def test_cookbook_handler_into_our_collector(collector):
    ctx = zmq.Context()
    sock = ctx.socket(zmq.PUB)
    sock.connect(collector.endpoint)
    try:
        log = isolated_logger("cookbook.sender", ZeroMQSocketHandler(sock))
        send_until_seen(lambda: log.debug("probe"), lambda: collector._read())
        for i in range(20):
            log.info("cookbook %d %s", i, "日本 😀", extra={"order": i})
        try:
            1 / 0
        except ZeroDivisionError:
            log.exception("cookbook failure")
        recs = [r for r in collector.records(21, settle=0.5) if r["msg"] != "probe"]
    finally:
        sock.close(linger=0)
        ctx.term()
    assert [r["msg"] for r in recs[:20]] == ["cookbook %d 日本 😀" % i for i in range(20)]
    assert [r["order"] for r in recs[:20]] == list(range(20))
    assert recs[0]["levelname"] == "INFO" and recs[0]["name"] == "cookbook.sender"
    assert recs[0]["funcName"] == "test_cookbook_handler_into_our_collector"
    # QueueHandler.prepare puts the traceback into msg.
    assert recs[20]["msg"].startswith("cookbook failure\nTraceback")
    lines = [line for line in collector.text_lines() if "probe" not in line]
    assert lines[0] == "cookbook.sender|INFO|MainProcess|cookbook 0 日本 😀"
    assert collector.stats()["malformed"] == 0


def test_pyzmq_pubhandler_into_our_collector(collector):
    ctx = zmq.Context()
    sock = ctx.socket(zmq.PUB)
    sock.connect(collector.endpoint)
    try:
        handler = zmq.log.handlers.PUBHandler(sock)
        handler.root_topic = "myapp"
        log = isolated_logger("pubhandler", handler)
        send_until_seen(lambda: log.debug("probe"), lambda: collector._read())
        log.info("hello from PUBHandler")
        log.error("an error from PUBHandler")
        recs = [r for r in collector.records(2, settle=0.5) if "probe" not in r["msg"]]
    finally:
        sock.close(linger=0)
        ctx.term()
    assert [r["levelname"] for r in recs] == ["INFO", "ERROR"]
    assert "hello from PUBHandler" in recs[0]["msg"]
    assert "an error from PUBHandler" in recs[1]["msg"]
    assert all(r["name"].startswith("myapp") for r in recs)


def test_our_handler_into_the_cookbook_listener():
    """The cookbook's listener: a SUB socket (bound, for several senders) and makeLogRecord, with the
    cookbook's format. Our XPUB waits for its subscription, so nothing is lost to the slow joiner."""
    ctx = zmq.Context()
    sub = ctx.socket(zmq.SUB)
    sub.setsockopt_string(zmq.SUBSCRIBE, "")
    port = sub.bind_to_random_port("tcp://127.0.0.1")
    h = logfunnel.Handler("tcp://127.0.0.1:%d" % port)
    try:
        log = isolated_logger("cookbook.listener", h)
        for i in range(100):  # sent at once: no probe, no sleep
            log.info("to the cookbook %d", i)
        log.warning("unicode 日本語 😀")
        formatter = logging.Formatter(COOKBOOK_FORMAT)
        lines = []
        poller = zmq.Poller()
        poller.register(sub, zmq.POLLIN)
        deadline = time.monotonic() + 15
        while len(lines) < 101 and time.monotonic() < deadline:
            if poller.poll(100):
                record = logging.makeLogRecord(sub.recv_json())
                lines.append(formatter.format(record))
    finally:
        h.close()
        sub.close(linger=0)
        ctx.term()
    assert len(lines) == 101
    for i, line in enumerate(lines[:100]):
        name, asctime, level, module, func, message = line.split(" - ")
        assert (name, level, module, func, message) == (
            "cookbook.listener",
            "INFO",
            "test_interop",
            "test_our_handler_into_the_cookbook_listener",
            "to the cookbook %d" % i,
        )
        assert time.strptime(asctime.split(",")[0], "%Y-%m-%d %H:%M:%S")
    assert lines[100].endswith("WARNING - test_interop - test_our_handler_into_the_cookbook_listener - unicode 日本語 😀")


class Keep(logging.Handler):
    def __init__(self, level=logging.NOTSET):
        super().__init__(level)
        self.records = []

    def emit(self, record):
        self.records.append(record)


def wait_for(pred, timeout=15.0):
    deadline = time.monotonic() + timeout
    while not pred() and time.monotonic() < deadline:
        time.sleep(0.02)
    return pred()


def test_listener_from_our_handler_with_levels_and_drain():
    keep_all, keep_errors = Keep(), Keep(logging.ERROR)
    with logfunnel.Listener("tcp://127.0.0.1:0", keep_all, keep_errors) as listener:
        h = logfunnel.Handler(listener.endpoint)
        log = isolated_logger("listener.ours", h)
        for i in range(3000):
            log.info("via listener %d", i, extra={"i": i})
        log.error("an error", extra={"ctx": {"k": [1, 2]}})
        assert h.flush(10)
        h.close()
    # stop (at the end of the with block) drained everything already sent
    recs = keep_all.records
    assert len(recs) == 3001
    assert [r.getMessage() for r in recs[:3000]] == ["via listener %d" % i for i in range(3000)]
    assert [r.i for r in recs[:3000]] == list(range(3000))
    assert [r.seq for r in recs] == list(range(3001))
    assert recs[0].name == "listener.ours" and recs[0].levelno == logging.INFO
    assert recs[0].funcName == "test_listener_from_our_handler_with_levels_and_drain"
    assert [r.getMessage() for r in keep_errors.records] == ["an error"]
    assert keep_errors.records[0].ctx == {"k": [1, 2]}
    assert listener.stats()["decoded"] == 3001


def test_listener_accepts_cookbook_and_pubhandler_senders():
    keep = Keep()
    listener = logfunnel.Listener("tcp://127.0.0.1:0", keep, respect_handler_level=False)
    listener.start()
    ctx = zmq.Context()
    pub = ctx.socket(zmq.PUB)
    pub.connect(listener.endpoint)
    try:
        cook = isolated_logger("mixed.cookbook", ZeroMQSocketHandler(pub))
        send_until_seen(lambda: cook.debug("probe"), lambda: keep.records)
        cook.info("from the cookbook %s", "handler")
        pubh = zmq.log.handlers.PUBHandler(pub)
        pubh.root_topic = "pubapp"
        isolated_logger("mixed.pub", pubh).warning("from PUBHandler")
        assert wait_for(lambda: len(keep.records) >= 3)
    finally:
        listener.close()
        pub.close(linger=0)
        ctx.term()
    msgs = [r.getMessage() for r in keep.records if r.getMessage() != "probe"]
    assert msgs[0] == "from the cookbook handler"
    assert "from PUBHandler" in msgs[1]
    assert keep.records[-1].levelname == "WARNING"


def test_listener_connects_to_a_binding_cookbook_sender():
    # The cookbook's single-sender layout: the PUB binds, the listener connects.
    ctx = zmq.Context()
    pub = ctx.socket(zmq.PUB)
    port = pub.bind_to_random_port("tcp://127.0.0.1")
    keep = Keep()
    try:
        with logfunnel.Listener("tcp://127.0.0.1:%d" % port, keep, bind=False):
            log = isolated_logger("connect.cookbook", ZeroMQSocketHandler(pub))
            send_until_seen(lambda: log.info("probe"), lambda: keep.records)
            log.info("after the probe")
            assert wait_for(lambda: any(r.getMessage() == "after the probe" for r in keep.records))
    finally:
        pub.close(linger=0)
        ctx.term()


def test_listener_pull_mode_with_push_handler():
    keep = Keep()
    with logfunnel.Listener("tcp://127.0.0.1:0", keep, mode="pull") as listener:
        h = logfunnel.Handler(listener.endpoint, mode="push")
        log = isolated_logger("pull.listener", h)
        for i in range(500):
            log.info("pushed %d", i)
        assert h.flush(10)
        h.close()
    assert [r.getMessage() for r in keep.records] == ["pushed %d" % i for i in range(500)]


def test_listener_counts_garbage_and_keeps_going():
    keep = Keep()
    with logfunnel.Listener("tcp://127.0.0.1:0", keep, mode="pull") as listener:
        ctx = zmq.Context()
        push = ctx.socket(zmq.PUSH)
        push.connect(listener.endpoint)
        try:
            push.send(b"not json")
            push.send(b'{"v": 99, "name": "x"}')
            push.send_json({"v": 1, "name": "ok", "msg": "good", "levelno": 20, "created": 1.5})
            assert wait_for(lambda: len(keep.records) >= 1)
            assert wait_for(lambda: listener.stats()["received"] >= 3)
        finally:
            push.close(linger=0)
            ctx.term()
    assert [r.getMessage() for r in keep.records] == ["good"]
    stats = listener.stats()
    assert stats["malformed"] == 2 and stats["decoded"] == 1
    assert set(stats["malformed_by_reason"]) == {"invalid_json", "unsupported_version"}


def test_handler_forwards_listener_records_to_the_collector(collector):
    """A Listener re-sending with our Handler (e.g. a relay): records keep their origin fields."""
    h = logfunnel.Handler(collector.endpoint)
    try:
        with logfunnel.Listener("tcp://127.0.0.1:0", h) as listener:
            src = logfunnel.Handler(listener.endpoint)
            log = isolated_logger("relay.origin", src)
            log.info("relayed %d", 1, extra={"k": "v"})
            assert src.flush(10)
            src.close()
            assert wait_for(lambda: h.stats()["enqueued"] >= 1)
        assert h.flush(10)
    finally:
        h.close()
    (r,) = collector.records(1)
    assert r["msg"] == "relayed 1" and r["k"] == "v" and r["name"] == "relay.origin"
    # The relayed record's attribute names are not the interned ones: every field is still found.
    assert r["levelname"] == "INFO" and r["funcName"] == "test_handler_forwards_listener_records_to_the_collector"
    assert r["module"] == "test_interop" and r["lineno"] > 0 and r["threadName"] == "MainThread"
    assert json.dumps(r)  # plain JSON all the way


@pytest.mark.parametrize("bad", ["tcp://127.0.0.1:notaport", "bogus://x"])
def test_listener_bad_endpoint_raises(bad):
    with pytest.raises((OSError, ValueError)):
        logfunnel.Listener(bad)
