"""The shared vectors in spec/vectors/: the decoder (natively and through a real collector), what a
log call must put on the wire (send.json), and the collector's formatter against Python's own
logging.Formatter (format.json)."""

from __future__ import annotations

import calendar
import json
import logging
import time

import pytest
import zmq

import logfunnel
from logfunnel import _native
from conftest import VECTORS, Collected, by_sender

DECODE = json.loads((VECTORS / "decode.json").read_text(encoding="utf-8"))
SEND = json.loads((VECTORS / "send.json").read_text(encoding="utf-8"))


def piece(p):
    if "text" in p:
        return p["text"].encode("utf-8")
    if "hex" in p:
        return bytes.fromhex(p["hex"])
    if "repeat" in p:
        return p["repeat"].encode("utf-8") * p["count"]
    if "concat" in p:
        return b"".join(piece(q) for q in p["concat"])
    raise ValueError(p)


def frames_of(case):
    return [piece(f) for f in case["frames"]]


def same(a, b):
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    return a == b


def check_record(case, rec):
    exp = case["expect"]
    time_made_at_receive = "created" not in json.dumps(case["frames"])
    for k, v in exp["record"].items():
        if k == "created" and time_made_at_receive:
            continue
        assert k in rec, (case["name"], k)
        assert same(rec[k], v), (case["name"], k, rec[k], v)
    for k in exp.get("absent", []):
        assert k not in rec, (case["name"], k)
    for k in exp.get("present", []):
        assert k in rec, (case["name"], k)
    if "keys" in exp:
        assert list(rec) == exp["keys"], case["name"]


@pytest.mark.parametrize("case", DECODE["cases"], ids=[c["name"] for c in DECODE["cases"]])
def test_decode_vector_native(case):
    limits = DECODE["limits"]
    frames = frames_of(case)
    if "error" in case["expect"]:
        with pytest.raises(ValueError) as err:
            _native.decode(frames, max_frame_bytes=limits["max_frame_bytes"])
        assert err.value.args[0] == case["expect"]["error"], case["name"]
    else:
        check_record(case, _native.decode(frames, max_frame_bytes=limits["max_frame_bytes"]))


def test_decode_vectors_through_a_running_collector(tmp_path):
    """Every vector's frames sent over a real PUSH socket: the valid ones are written, the invalid
    ones counted by their reason, in one stream."""
    cases = [
        c
        for c in DECODE["cases"]
        # A frame over the limit makes libzmq drop the connection (the collector's max message size),
        # which is tested on the Rust side; here everything stays under it.
        if sum(len(f) for f in frames_of(c)) < DECODE["limits"]["max_frame_bytes"]
    ]
    c = Collected(tmp_path, bind=[], pull="tcp://127.0.0.1:0")
    ctx = zmq.Context()
    push = ctx.socket(zmq.PUSH)
    try:
        push.connect(c.server.pull_endpoints[0])
        for case in cases:
            push.send_multipart(frames_of(case))
        valid = [x for x in cases if "record" in x["expect"]]
        recs = c.records(len(valid))
        deadline = time.monotonic() + 10
        while c.stats()["received"] < len(cases) and time.monotonic() < deadline:
            time.sleep(0.05)
        stats = c.stats()
    finally:
        push.close(linger=0)
        ctx.term()
        c.stop()
    assert len(recs) == len(valid)
    for case, rec in zip(valid, recs):
        check_record(case, rec)
    want = {}
    for x in cases:
        if "error" in x["expect"]:
            want[x["expect"]["error"]] = want.get(x["expect"]["error"], 0) + 1
    assert {k: v for k, v in stats["malformed_by_reason"].items() if v} == want


def _send_cases():
    out = []
    for case in SEND["cases"]:
        try:
            logger = bytes.fromhex(case["logger_hex"]).decode() if "logger_hex" in case else case["logger"]
            msg = bytes.fromhex(case["msg_hex"]).decode() if "msg_hex" in case else case["msg"]
        except UnicodeDecodeError:
            continue  # a Python str cannot hold invalid UTF-8: nothing for this binding to send
        names = {k for k, _ in case.get("fields", [])}
        if names & set(logging.makeLogRecord({}).__dict__):
            continue  # Python's logging refuses extra= keys that are LogRecord attributes
        out.append((case, logger, msg))
    return out


SEND_CASES = _send_cases()


def test_send_vectors(collector):
    """Replays the log calls of send.json through logfunnel.Handler and checks the frames."""
    assert len(SEND_CASES) >= 10
    h = logfunnel.Handler(collector.endpoint)
    try:
        for case, logger_name, msg in SEND_CASES:
            log = logging.getLogger(logger_name)
            log.handlers = [h]
            log.propagate = False
            log.setLevel(1)
            exc_text = case.get("exc_text")
            record = log.makeRecord(logger_name, case["level"], "vectors.py", 1, msg, None, None)
            for k, v in case.get("fields", []):
                setattr(record, k, v)
            if exc_text is not None:
                record.exc_text = exc_text
            log.handle(record)
        assert h.flush(10)
    finally:
        h.close()
    recs = collector.records(len(SEND_CASES))
    assert len(recs) == len(SEND_CASES)
    by_sender(recs)
    python_fields = set(logging.makeLogRecord({}).__dict__)
    for (case, _, _), rec in zip(SEND_CASES, recs):
        for k, v in case["expect"].items():
            assert same(rec.get(k), v), (case["name"], k, rec.get(k), v)
        for k in case.get("absent", []):
            # A Python LogRecord always has pathname/lineno; the rest must be absent.
            if k in ("exc_text", "stack_info") or k not in python_fields:
                assert k not in rec, (case["name"], k)


FORMAT_PATH = VECTORS / "format.json"


@pytest.mark.skipif(not FORMAT_PATH.exists(), reason="spec/vectors/format.json not written yet")
def test_format_vectors_against_python_logging():
    """format.json's expectations come from Python's logging; check that a record our handler would
    produce for them (decoded, then rebuilt with makeLogRecord) formats the same in this Python."""
    data = json.loads(FORMAT_PATH.read_text(encoding="utf-8"))
    for case in data["cases"]:
        frame = json.dumps(case["record"]).encode("utf-8")
        attrs = _native.decode([frame])
        record = logging.makeLogRecord(attrs)
        fmt = logging.Formatter(case["fmt"], case.get("datefmt"), style=case.get("style", "%"))
        fmt.converter = time.gmtime
        assert fmt.format(record) == case["expected"], case["name"]


def test_created_survives_exactly(collector):
    h = logfunnel.Handler(collector.endpoint)
    try:
        log = logging.getLogger("vectors.created")
        log.handlers = [h]
        log.propagate = False
        record = log.makeRecord("vectors.created", 20, "x.py", 1, "t", None, None)
        record.created = calendar.timegm((2025, 11, 26, 15, 58, 13)) + 0.125
        record.msecs = 125.0
        log.handle(record)
        assert h.flush(10)
    finally:
        h.close()
    (r,) = collector.records(1)
    assert r["created"] == record.created and r["msecs"] == 125.0
