#!/usr/bin/env python3
"""Writes otlp.json: v1 records -> the OTLP fields the otlp sink must send (spec/otlp.md).

Expectations are written by hand here, in OTLP's JSON form (what a Collector's file exporter
writes): int64 values as strings, trace and span ids as hex, attribute values as AnyValue objects.
"""
import json
from pathlib import Path

BASE = {
    "v": 1, "name": "app.db", "msg": "query done", "args": None, "levelno": 20,
    "levelname": "INFO", "created": 1764172693.125, "msecs": 125.0,
}


def s(v):
    return {"stringValue": v}


def i(v):
    return {"intValue": str(v)}


def rec(**fields):
    r = dict(BASE)
    for k, v in fields.items():
        r[k] = v
    return r


TRACEBACK = ('Traceback (most recent call last):\n  File "/srv/app/db.py", line 7, in query\n'
             '    raise ValueError("bad row: 3")\nValueError: bad row: 3')

CASES = [
    {
        "name": "every_mapped_field",
        "why": "a Python record with every field the mapping reads, trace context and user fields of each JSON type",
        "record": rec(
            levelno=40, levelname="ERROR", created=1764172693.123456, msecs=123.0,
            relativeCreated=1234.5, pathname="/srv/app/db.py", filename="db.py", module="db",
            lineno=7, funcName="query", process=4242, processName="MainProcess",
            thread=140017928317824, threadName="MainThread", taskName="Task-1",
            exc_text=TRACEBACK, stack_info="Stack (most recent call last):\n  File x",
            host="web-1", lang="python", sid="s-1", seq=3,
            user_id=42, ratio=0.5, ok=True, nothing=None, tags=["a", 1], ctx={"k": "v", "n": 2},
            big=18446744073709551615,
            otelTraceID="4bf92f3577b34da6a3ce929d0e0e4736", otelSpanID="00f067aa0ba902b7",
            otelTraceSampled=True, otelServiceName="shop",
            **{"extra.seq": 9},
        ),
        "expect": {
            "resource": {"service.name": s("shop"), "host.name": s("web-1"), "process.pid": i(4242)},
            "timeUnixNano": "1764172693123456000",
            "severityNumber": 17, "severityText": "ERROR", "body": s("query done"),
            "traceId": "4bf92f3577b34da6a3ce929d0e0e4736", "spanId": "00f067aa0ba902b7", "flags": 1,
            "attributes": {
                "logger.name": s("app.db"),
                "code.file.path": s("/srv/app/db.py"),
                "code.line.number": i(7),
                "code.function.name": s("query"),
                "code.stacktrace": s("Stack (most recent call last):\n  File x"),
                "thread.id": i(140017928317824),
                "thread.name": s("MainThread"),
                "logfunnel.process.name": s("MainProcess"),
                "logfunnel.task.name": s("Task-1"),
                "logfunnel.lang": s("python"),
                "logfunnel.sid": s("s-1"),
                "logfunnel.seq": i(3),
                "exception.stacktrace": s(TRACEBACK),
                "exception.type": s("ValueError"),
                "exception.message": s("bad row: 3"),
                "user_id": i(42),
                "ratio": {"doubleValue": 0.5},
                "ok": {"boolValue": True},
                "nothing": {},
                "tags": {"arrayValue": {"values": [s("a"), i(1)]}},
                "ctx": {"kvlistValue": {"values": [{"key": "k", "value": s("v")},
                                                   {"key": "n", "value": i(2)}]}},
                "big": {"doubleValue": 18446744073709551615.0},
                "extra.seq": i(9),
            },
            "absent_attributes": ["otelTraceID", "otelSpanID", "otelTraceSampled", "otelServiceName",
                                  "process.pid", "host.name", "filename", "module"],
        },
    },
    {
        "name": "minimal_record",
        "why": "only the required fields: the resource has just the configured service, no code location",
        "record": {"v": 1, "name": "n", "msg": "m", "levelno": 20, "created": 1.5},
        "expect": {
            "resource": {"service.name": s("logfunnel-test")},
            "timeUnixNano": "1500000000",
            "severityNumber": 9, "severityText": "INFO", "body": s("m"),
            "traceId": "", "spanId": "", "flags": 0,
            "attributes": {"logger.name": s("n")},
            "absent_attributes": ["code.file.path", "code.line.number", "code.function.name",
                                  "thread.id", "exception.stacktrace", "logfunnel.seq"],
            "attribute_count": 1,
        },
    },
    {
        "name": "level_between_info_and_warning",
        "why": "levels between the standard ones map by range: 25 is INFO4 (12)",
        "record": rec(levelno=25, levelname="Level 25"),
        "expect": {"severityNumber": 12, "severityText": "Level 25"},
    },
    {
        "name": "level_just_above_info",
        "why": "21 is INFO2 (10)",
        "record": rec(levelno=21, levelname="NOTICE"),
        "expect": {"severityNumber": 10, "severityText": "NOTICE"},
    },
    {"name": "debug", "why": "DEBUG is 5", "record": rec(levelno=10, levelname="DEBUG"),
     "expect": {"severityNumber": 5, "severityText": "DEBUG"}},
    {"name": "warning", "why": "WARNING is WARN, 13", "record": rec(levelno=30, levelname="WARNING"),
     "expect": {"severityNumber": 13, "severityText": "WARNING"}},
    {"name": "critical", "why": "CRITICAL is FATAL, 21", "record": rec(levelno=50, levelname="CRITICAL"),
     "expect": {"severityNumber": 21, "severityText": "CRITICAL"}},
    {"name": "above_critical", "why": "53 and above are FATAL4, 24", "record": rec(levelno=60, levelname="Level 60"),
     "expect": {"severityNumber": 24, "severityText": "Level 60"}},
    {"name": "trace_below_debug", "why": "1-9 are TRACE (1-3); 5 is TRACE2", "record": rec(levelno=5, levelname="TRACE"),
     "expect": {"severityNumber": 2, "severityText": "TRACE"}},
    {"name": "notset", "why": "0 is unspecified", "record": rec(levelno=0, levelname="NOTSET"),
     "expect": {"severityNumber": 0, "severityText": "NOTSET"}},
    {
        "name": "levelname_derived",
        "why": "a record without levelname gets Python's name for its level as severity_text",
        "record": {"v": 1, "name": "n", "msg": "m", "levelno": 30, "created": 1.0},
        "expect": {"severityNumber": 13, "severityText": "WARNING"},
    },
    {
        "name": "no_span_from_instrumentation",
        "why": "opentelemetry-instrumentation-logging writes \"0\" when no span is active: no ids, no flags, no attributes",
        "record": rec(otelTraceID="0", otelSpanID="0", otelTraceSampled=False, otelServiceName=""),
        "expect": {
            "resource": {"service.name": s("logfunnel-test")},
            "traceId": "", "spanId": "", "flags": 0,
            "absent_attributes": ["otelTraceID", "otelSpanID", "otelTraceSampled", "otelServiceName"],
        },
    },
    {
        "name": "malformed_trace_id",
        "why": "an id of the wrong length is dropped, the span id still set, and flags need both",
        "record": rec(otelTraceID="abc", otelSpanID="00f067aa0ba902b7", otelTraceSampled=True),
        "expect": {"traceId": "", "spanId": "00f067aa0ba902b7", "flags": 0},
    },
    {
        "name": "exception_without_a_class_line",
        "why": "exc_text whose last line does not name an exception class gives only exception.stacktrace",
        "record": rec(exc_text="something went wrong: see above"),
        "expect": {
            "attributes": {"exception.stacktrace": s("something went wrong: see above")},
            "absent_attributes": ["exception.type", "exception.message"],
        },
    },
    {
        "name": "exception_without_message",
        "why": "a bare class name is exception.type with no exception.message",
        "record": rec(exc_text="Traceback (most recent call last):\n  File \"x\", line 1\nKeyboardInterrupt\n"),
        "expect": {
            "attributes": {"exception.type": s("KeyboardInterrupt")},
            "absent_attributes": ["exception.message"],
        },
    },
    {
        "name": "time_before_epoch",
        "why": "a negative created is an unknown time (0, left out)",
        "record": rec(created=-5.0, msecs=0.0),
        "expect": {"timeUnixNano": "0"},
    },
]

doc = {
    "about": "OTLP mapping vectors (spec/otlp.md); generated by gen_otlp.py, expectations written by hand.",
    "service_name": "logfunnel-test",
    "cases": CASES,
}
Path(__file__).with_name("otlp.json").write_text(json.dumps(doc, indent=1, ensure_ascii=False) + "\n")
