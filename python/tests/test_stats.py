"""The counters of ``Handler.stats()`` (and the native ``Sender.stats()``): every key, its type, and
the acknowledged-delivery counters against a real collector and against the cookbook's plain ``SUB``."""

from __future__ import annotations

import logging
import time

import zmq

import logfunnel

COUNTS = {
    "enqueued",
    "sent",
    "dropped",
    "dropped_queue_full",
    "dropped_closed",
    "dropped_at_close",
    "dropped_oversized",
    "truncated",
    "filtered",
    "depth",
    "acknowledged",
    "unacknowledged",
    "resent",
    "errors",
}
FLAGS = {"connected", "acknowledging"}


def log_to(handler: logging.Handler, name: str, n: int) -> None:
    log = logging.getLogger(name)
    log.handlers = [handler]
    log.setLevel(logging.DEBUG)
    log.propagate = False
    for i in range(n):
        log.info("stats %d", i)


def check_types(stats: dict) -> None:
    assert set(stats) == COUNTS | FLAGS, sorted(set(stats) ^ (COUNTS | FLAGS))
    for key in COUNTS:
        assert type(stats[key]) is int and stats[key] >= 0, (key, stats[key])
    for key in FLAGS:
        assert type(stats[key]) is bool, (key, stats[key])


def test_every_key_has_its_type_against_a_real_collector(collector):
    n = 50
    h = logfunnel.Handler(collector.endpoint, exit_timeout=5)
    try:
        log_to(h, "t.stats.collector", n)
        assert h.flush(10.0)
        assert len(collector.records(n)) == n
        stats = h.stats()
        check_types(stats)
        assert stats["enqueued"] == n and stats["sent"] == n and stats["connected"] is True
        assert stats["acknowledged"] + stats["unacknowledged"] <= stats["enqueued"]
        assert h.stats().keys() == h._native.stats().keys()
    finally:
        h.close()
    check_types(h.stats())


def test_a_plain_sub_listener_leaves_the_sender_unacknowledged():
    """The cookbook's listener never announces itself, so nothing is acknowledged or resent."""
    with zmq.Context() as ctx, ctx.socket(zmq.SUB) as sub:
        sub.setsockopt(zmq.LINGER, 0)
        sub.setsockopt(zmq.SUBSCRIBE, b"")
        endpoint = "tcp://127.0.0.1:%d" % sub.bind_to_random_port("tcp://127.0.0.1")
        h = logfunnel.Handler(endpoint)
        n = 20
        log_to(h, "t.stats.sub", n)
        got = 0
        deadline = time.monotonic() + 15
        while got < n and time.monotonic() < deadline:
            if sub.poll(100):
                sub.recv_multipart()
                got += 1
        stats = h.stats()
        h.close(timeout=1.0)
    assert got == n
    check_types(stats)
    assert stats["sent"] == n
    assert stats["acknowledging"] is False
    assert stats["acknowledged"] == 0 and stats["resent"] == 0
