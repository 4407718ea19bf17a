#!/usr/bin/env python3
"""Writes spec/vectors/decode.json, the shared decoder vectors (format: spec/vectors/README.md).

The expectations below are written by hand from spec/wire-format.md; this script only builds the
frames (escaping JSON inside JSON by hand is error-prone) and, for the cookbook form, lets Python's
own logging make the LogRecord.__dict__ frames so they are exactly what the recipe sends.

    python3 spec/vectors/gen_decode.py        # rewrites decode.json next to this file
"""

import json
import logging
import logging.handlers
import os
import queue

T = 1764172693.125  # 2025-11-26 15:58:13.125 UTC, exactly representable
MSECS = 125.0


def v1(**fields):
    """A minimal valid v1 object, with overrides (None removes a key)."""
    base = {"v": 1, "name": "app", "msg": "hello", "levelno": 20, "created": T}
    base.update(fields)
    return {k: v for k, v in base.items() if v is not None}


def text(obj_or_text):
    if isinstance(obj_or_text, str):
        return {"text": obj_or_text}
    return {"text": json.dumps(obj_or_text, ensure_ascii=False, separators=(",", ":"))}


def ok(name, why, frames, record, absent=None, present=None, keys=None):
    expect = {"record": record}
    if absent:
        expect["absent"] = absent
    if present:
        expect["present"] = present
    if keys:
        expect["keys"] = keys
    return {"name": name, "why": why, "frames": frames, "expect": expect}


def err(name, why, frames, reason):
    return {"name": name, "why": why, "frames": frames, "expect": {"error": reason}}


BASE = {"v": 1, "name": "app", "msg": "hello", "args": None, "levelno": 20, "levelname": "INFO",
        "created": T, "msecs": MSECS}


def rec(**fields):
    out = dict(BASE)
    out.update(fields)
    return out


def cookbook_record(msg, args, prepared, extra=None, level=logging.INFO):
    """A LogRecord.__dict__ as the recipe's QueueHandler subclass sends it (send_json)."""
    logger = logging.getLogger("app.worker")
    r = logger.makeRecord("app.worker", level, "/srv/app/worker.py", 42, msg, args, None,
                          "run", extra)
    r.created, r.msecs, r.relativeCreated = T, MSECS, 15.5
    r.thread, r.threadName, r.process, r.processName = 140017928317824, "MainThread", 4242, "MainProcess"
    if prepared:
        r = logging.handlers.QueueHandler(queue.Queue()).prepare(r)
    d = dict(r.__dict__)
    d.pop("taskName", None)  # only on 3.12+: keep the vector the same on every Python
    return d


COOKBOOK_FIELDS = {
    "name": "app.worker", "levelno": 20, "levelname": "INFO", "pathname": "/srv/app/worker.py",
    "filename": "worker.py", "module": "worker", "lineno": 42, "funcName": "run", "created": T,
    "msecs": MSECS, "relativeCreated": 15.5, "thread": 140017928317824, "threadName": "MainThread",
    "process": 4242, "processName": "MainProcess",
}

ALL_FIELDS = {
    "v": 1, "name": "app.db", "msg": "query done", "args": None, "levelno": 10, "levelname": "DEBUG",
    "created": T, "msecs": MSECS, "relativeCreated": 1234.5, "pathname": "/srv/app/db.py",
    "filename": "db.py", "module": "db", "lineno": 77, "funcName": "query", "process": 4242,
    "processName": "MainProcess", "thread": 140017928317824, "threadName": "MainThread",
    "taskName": "Task-1", "exc_text": "Traceback (most recent call last):\n  File \"db.py\", line 77\nValueError: x",
    "stack_info": "Stack (most recent call last):\n  File \"db.py\", line 70", "host": "web-1",
    "lang": "python", "sid": "5f0c2a9e-1", "seq": 0,
}

MIB = 1024 * 1024
BIG_PREFIX = '{"v":1,"name":"app","msg":"'
BIG_SUFFIX = '","levelno":20,"created":1}'
DEEP_PREFIX = '{"v":1,"name":"app","msg":"m","levelno":20,"created":1,"x":'


def deep(depth_total):
    """A valid frame whose deepest container sits at nesting level `depth_total` (object = 1)."""
    n = depth_total - 1
    return {"concat": [{"text": DEEP_PREFIX}, {"repeat": "[", "count": n},
                       {"repeat": "]", "count": n}, {"text": "}"}]}


CASES = [
    # ---- v1: required and optional fields -------------------------------------------------
    ok("v1_minimal", "the five required fields; levelname and msecs are derived",
       [text(v1())], rec(), absent=["pathname", "lineno", "sid", "seq", "host"],
       keys=["v", "name", "msg", "args", "levelno", "levelname", "created", "msecs"]),
    ok("v1_all_fields", "every optional field survives with its value",
       [text(ALL_FIELDS)], ALL_FIELDS),
    ok("v1_levelname_derived_error", "levelname absent: derived from levelno",
       [text(v1(levelno=40))], rec(levelno=40, levelname="ERROR")),
    ok("v1_levelname_custom_level", "a level without a name is 'Level N', as logging.getLevelName",
       [text(v1(levelno=25))], rec(levelno=25, levelname="Level 25")),
    ok("v1_levelname_given_is_kept", "a sender's own level name wins over the derived one",
       [text(v1(levelno=25, levelname="NOTICE"))], rec(levelno=25, levelname="NOTICE")),
    ok("v1_null_optional_is_missing", "JSON null on an optional field means absent",
       [text(v1(pathname=None) | {"pathname": None, "lineno": None, "sid": None, "seq": None,
                                  "levelname": None, "msecs": None})],
       rec(), absent=["pathname", "lineno", "sid", "seq"]),
    ok("v1_integral_floats_accepted", "levelno/lineno/process/thread given as 20.0 are integers, like Python",
       [text('{"v":1,"name":"app","msg":"hello","levelno":20.0,"created":1764172693.125,'
             '"lineno":12.0,"process":7.0,"thread":9.0}')],
       rec(lineno=12, process=7, thread=9)),
    ok("v1_created_integer", "created may be an integer; msecs is then 0",
       [text(v1(created=1764172693))], rec(created=1764172693.0, msecs=0.0)),
    ok("v1_msecs_given", "a given msecs is kept even if it disagrees with created",
       [text(v1(msecs=999.0))], rec(msecs=999.0)),
    ok("v1_key_order_free", "keys may come in any order; v need not be first",
       [text('{"created":1764172693.125,"msg":"hello","levelno":20,"name":"app","v":1}')], rec()),
    ok("v1_whitespace", "insignificant JSON whitespace is fine",
       [text('{\n  "v": 1,\n  "name": "app",\n  "msg": "hello",\n  "levelno": 20,\n  "created": 1764172693.125\n}\n')],
       rec()),
    ok("v1_sid_seq_zero", "seq starts at 0 per sender",
       [text(v1(sid="a1b2c3", seq=0))], rec(sid="a1b2c3", seq=0)),
    ok("v1_seq_max_u64", "seq is an unsigned 64-bit counter",
       [text('{"v":1,"name":"app","msg":"hello","levelno":20,"created":1764172693.125,"seq":18446744073709551615}')],
       rec(seq=18446744073709551615)),
    ok("v1_args_merged_if_present", "v1 senders send args null; a non-empty args is still merged",
       [text(v1(msg="%s=%d", args=["x", 3]))], rec(msg="x=3")),
    ok("v1_duplicate_key_last_wins", "as Python's json.loads: the last duplicate wins",
       [text('{"v":1,"name":"first","name":"app","msg":"hello","levelno":20,"created":1764172693.125,'
             '"k":1,"j":2,"k":3}')],
       rec(k=3, j=2), keys=["v", "name", "msg", "args", "levelno", "levelname", "created", "msecs", "k", "j"]),
    # ---- unicode ------------------------------------------------------------------------------
    ok("unicode_cjk_emoji", "UTF-8 text passes through unchanged",
       [text(v1(name="app.日本", msg="日本語のログ 😀 ünïcödé"))], rec(name="app.日本", msg="日本語のログ 😀 ünïcödé")),
    ok("unicode_escapes", "JSON escapes, including a surrogate pair, decode to the characters",
       [text(r'{"v":1,"name":"app","msg":"tab\there \"q\" back\\slash \/ \u00e9 \ud83d\ude00 \n end","levelno":20,"created":1764172693.125}')],
       rec(msg='tab\there "q" back\\slash / é 😀 \n end')),
    ok("unicode_nul_in_msg", "a NUL character is legal JSON text and is kept",
       [text(r'{"v":1,"name":"app","msg":"a\u0000b","levelno":20,"created":1764172693.125}')],
       rec(msg="a\u0000b")),
    ok("unicode_control_chars_kept", "control characters are data; only the console neutralises them",
       [text(r'{"v":1,"name":"app","msg":"\u001b[31mred\r","levelno":20,"created":1764172693.125}')],
       rec(msg="\u001b[31mred\r")),
    # ---- user fields --------------------------------------------------------------------------
    ok("extra_scalars", "unknown keys are user fields, in order, any JSON type",
       [text(dict(v1(), user_id=42, ratio=0.25, ok=True, note=None, tag="blue"))],
       rec(user_id=42, ratio=0.25, ok=True, note=None, tag="blue"),
       keys=["v", "name", "msg", "args", "levelno", "levelname", "created", "msecs",
             "user_id", "ratio", "ok", "note", "tag"]),
    ok("extra_nested", "nested objects and arrays are kept as they are",
       [text(v1(ctx={"req": {"id": "r1", "hops": [1, 2, {"z": None}]}, "flags": [True, False]}))],
       rec(ctx={"req": {"id": "r1", "hops": [1, 2, {"z": None}]}, "flags": [True, False]})),
    ok("extra_big_ints", "64-bit integers survive exactly",
       [text('{"v":1,"name":"app","msg":"hello","levelno":20,"created":1764172693.125,'
             '"big":18446744073709551615,"neg":-9223372036854775808}')],
       rec(big=18446744073709551615, neg=-9223372036854775808)),
    ok("extra_floats", "floats survive: exponent forms, tiny and huge values",
       [text('{"v":1,"name":"app","msg":"hello","levelno":20,"created":1764172693.125,'
             '"a":1.5e300,"b":-2.5E-8,"c":0.1,"d":1e2}')],
       rec(a=1.5e300, b=-2.5e-8, c=0.1, d=100.0)),
    ok("extra_reserved_prefix", "a user field named like a schema key travels as extra.<name>",
       [text(v1(**{"extra.seq": 5, "extra.name": "shadow"}))],
       rec(**{"extra.seq": 5, "extra.name": "shadow"}), absent=["seq"]),
    ok("derived_keys_dropped", "message, asctime and exc_info mean nothing in another process",
       [text(v1(message="hello", asctime="2025-11-26 15:58:13,125", exc_info=None))],
       rec(), absent=["message", "asctime", "exc_info"]),
    # ---- errors: schema -----------------------------------------------------------------------
    err("err_version_2", "an incompatible schema version", [text(v1(v=2))], "unsupported_version"),
    err("err_version_0", "version 0 never existed", [text(v1(v=0))], "unsupported_version"),
    err("err_version_string", "v must be an integer", [text(v1(v="1"))], "wrong_type"),
    err("err_missing_name", "name is required in v1", [text(v1(name=None))], "missing_field"),
    err("err_missing_msg", "msg is required in v1", [text(v1(msg=None))], "missing_field"),
    err("err_missing_levelno", "levelno is required in v1", [text(v1(levelno=None))], "missing_field"),
    err("err_missing_created", "created is required in v1", [text(v1(created=None))], "missing_field"),
    err("err_required_null", "null on a required field counts as missing",
        [text('{"v":1,"name":null,"msg":"hello","levelno":20,"created":1}')], "missing_field"),
    err("err_empty_object", "no v and no msg: neither v1 nor the cookbook form", [text("{}")], "missing_field"),
    err("err_name_number", "name must be a string", [text(v1(name=5))], "wrong_type"),
    err("err_msg_object_v1", "in v1 msg must be a string (the cookbook form is lenient)",
        [text(v1(msg={"a": 1}))], "wrong_type"),
    err("err_levelno_string", "levelno must be a number", [text(v1(levelno="INFO"))], "wrong_type"),
    err("err_levelno_fraction", "levelno 20.5 is not an integer", [text(v1(levelno=20.5))], "wrong_type"),
    err("err_created_string", "created must be a number", [text(v1(created="now"))], "wrong_type"),
    err("err_lineno_string", "lineno must be an integer", [text(v1(lineno="12"))], "wrong_type"),
    err("err_process_too_big", "process must fit a signed 64-bit integer",
        [text('{"v":1,"name":"app","msg":"hello","levelno":20,"created":1,"process":18446744073709551615}')],
        "wrong_type"),
    err("err_seq_negative", "seq is non-negative", [text(v1(seq=-1))], "wrong_type"),
    err("err_seq_float", "seq is an integer", [text(v1(seq=1.5))], "wrong_type"),
    err("err_sid_number", "sid is a string", [text(v1(sid=12))], "wrong_type"),
    err("err_exc_text_array", "exc_text is a string", [text(v1(exc_text=["a"]))], "wrong_type"),
    # ---- errors: framing and JSON -------------------------------------------------------------
    err("err_empty_frame", "a frame with no bytes", [{"text": ""}], "empty"),
    err("err_whitespace_only", "whitespace is not a JSON value", [{"text": "  \n"}], "invalid_json"),
    err("err_truncated", "the JSON ends early", [text('{"v":1,"name":"app","msg":"hel')], "invalid_json"),
    err("err_trailing_garbage", "bytes after the object",
        [text('{"v":1,"name":"app","msg":"hello","levelno":20,"created":1} xyz')], "invalid_json"),
    err("err_two_objects", "two objects in one frame",
        [text('{"v":1,"name":"app","msg":"hello","levelno":20,"created":1}{"v":1}')], "invalid_json"),
    err("err_single_quotes", "Python repr is not JSON", [text("{'v': 1, 'name': 'app'}")], "invalid_json"),
    err("err_nan", "NaN is not JSON", [text('{"v":1,"name":"app","msg":"x","levelno":20,"created":NaN}')],
        "invalid_json"),
    err("err_bom", "a UTF-8 byte order mark is not JSON whitespace",
        [{"hex": "efbbbf" + json.dumps(v1()).encode().hex()}], "invalid_json"),
    err("err_json_array", "a JSON array is not a record", [text('[{"v":1}]')], "not_an_object"),
    err("err_json_number", "a JSON number is not a record", [text("42")], "not_an_object"),
    err("err_json_string", "a JSON string is not a record", [text('"hello"')], "not_an_object"),
    err("err_json_null", "null is not a record", [text("null")], "not_an_object"),
    err("err_invalid_utf8", "a lone 0xFF byte inside a string",
        [{"hex": b'{"v":1,"name":"app","msg":"'.hex() + "ff" + b'","levelno":20,"created":1}'.hex()}],
        "invalid_utf8"),
    err("err_invalid_utf8_overlong", "an overlong encoding of '/' (C0 AF) is not UTF-8",
        [{"hex": b'{"v":1,"name":"app","msg":"'.hex() + "c0af" + b'","levelno":20,"created":1}'.hex()}],
        "invalid_utf8"),
    err("err_invalid_utf8_surrogate", "an encoded surrogate (ED A0 80) is not UTF-8",
        [{"hex": b'{"v":1,"name":"app","msg":"'.hex() + "eda080" + b'","levelno":20,"created":1}'.hex()}],
        "invalid_utf8"),
    err("err_oversized", "one byte over the default 1 MiB limit, refused before parsing",
        [{"concat": [{"text": BIG_PREFIX}, {"repeat": "a", "count": MIB + 1 - len(BIG_PREFIX) - len(BIG_SUFFIX)},
                     {"text": BIG_SUFFIX}]}], "oversized"),
    ok("ok_exactly_max_size", "exactly 1 MiB is accepted",
       [{"concat": [{"text": BIG_PREFIX}, {"repeat": "a", "count": MIB - len(BIG_PREFIX) - len(BIG_SUFFIX)},
                    {"text": BIG_SUFFIX}]}], {"v": 1, "name": "app", "levelno": 20}),
    err("err_oversized_garbage", "size is checked first: a huge non-JSON frame is oversized",
        [{"repeat": "\u00ff", "count": MIB}], "oversized"),
    err("err_too_deep_10000", "10000 nested arrays in a user field", [deep(10000)], "too_deep"),
    err("err_too_deep_65", "one level over the default limit of 64", [deep(65)], "too_deep"),
    ok("ok_depth_64", "exactly the default depth limit (the record object counts as 1)", [deep(64)],
       {"v": 1, "name": "app", "msg": "m"}),
    err("err_too_deep_in_known_field", "nesting inside a known field is limited too",
        [{"concat": [{"text": '{"v":1,"name":'}, {"repeat": "[", "count": 200}, {"repeat": "]", "count": 200},
                     {"text": ',"msg":"m","levelno":20,"created":1}'}]}], "too_deep"),
    err("err_too_deep_top_level_array", "a deep array at the top is too deep before it is 'not an object'",
        [{"concat": [{"repeat": "[", "count": 10000}, {"repeat": "]", "count": 10000}]}], "too_deep"),
    err("err_three_frames", "no form uses three frames",
        [{"text": "app.INFO"}, text(v1()), {"text": "x"}], "bad_multipart"),
    # ---- cookbook form ------------------------------------------------------------------------
    ok("cookbook_prepared", "QueueHandler.prepare ran: msg merged, args/exc_info null, message == msg",
       [text(cookbook_record("job %s took %.1f s", ("sync", 2.25), True, {"user_id": 7}))],
       dict(COOKBOOK_FIELDS, msg="job sync took 2.2 s", args=None, user_id=7),
       absent=["message", "exc_info", "sid", "seq", "exc_text", "stack_info"]),
    ok("cookbook_tuple_args", "unprepared record: msg % args merged like LogRecord.getMessage",
       [text(cookbook_record("job %s took %.1f s (%d tries)", ("sync", 2.25, 3), False))],
       dict(COOKBOOK_FIELDS, msg="job sync took 2.2 s (3 tries)"), absent=["lf_format_error"]),
    ok("cookbook_dict_args", "a single dict argument is the mapping for %(key)s",
       [text(cookbook_record("%(user)s logged in from %(ip)s", ({"user": "bob", "ip": "10.0.0.1"},), False))],
       dict(COOKBOOK_FIELDS, msg="bob logged in from 10.0.0.1")),
    ok("cookbook_conversions", "%r %5.2f %x %o %e %g %i %05d %-4s| %%",
       [text(cookbook_record("%r %5.2f %x %o %e %g %i %05d %-4s| %%",
                             ("it's", 3.14159, 255, 8, 12345.678, 0.00001, 7, -42, "ab"), False))],
       dict(COOKBOOK_FIELDS, msg="%r %5.2f %x %o %e %g %i %05d %-4s| %%"
            % ("it's", 3.14159, 255, 8, 12345.678, 0.00001, 7, -42, "ab"))),
    ok("cookbook_container_args", "lists, dicts, None and booleans print as Python's str()",
       [text(cookbook_record("%s %s %s %s", ([1, "a"], {"k": 1.5}, None, True), False))],
       dict(COOKBOOK_FIELDS, msg="[1, 'a'] {'k': 1.5} None True")),
    ok("cookbook_format_error", "merge fails (%d of a string): raw msg kept, lf_format_error added",
       [text(cookbook_record("%d items", ("many",), False))],
       dict(COOKBOOK_FIELDS, msg="%d items"), present=["lf_format_error"]),
    ok("cookbook_too_many_args", "leftover args are an error in Python too: raw msg kept",
       [text(cookbook_record("no placeholders", ("x",), False))],
       dict(COOKBOOK_FIELDS, msg="no placeholders"), present=["lf_format_error"]),
    ok("cookbook_message_wins", "a formatter already set message = msg % args: that is used",
       [text({"name": "w", "msg": "%s", "args": [1], "message": "1", "levelno": 20, "created": T})],
       {"name": "w", "msg": "1", "levelno": 20}, absent=["message", "lf_format_error"]),
    ok("cookbook_empty_args", "empty args: no merge, a literal % is fine",
       [text({"name": "w", "msg": "100%", "args": [], "levelno": 20, "created": T})],
       {"name": "w", "msg": "100%"}, absent=["lf_format_error"]),
    ok("cookbook_levelname_only", "levelno derived from levelname when only the name is sent",
       [text({"name": "w", "msg": "x", "levelname": "WARNING", "created": T})],
       {"name": "w", "levelno": 30, "levelname": "WARNING"}),
    ok("cookbook_levelno_only", "levelname derived from levelno",
       [text({"name": "w", "msg": "x", "levelno": 50, "created": T})],
       {"name": "w", "levelno": 50, "levelname": "CRITICAL"}),
    ok("cookbook_non_string_msg", "logger.info(42): msg becomes str(msg)",
       [text({"name": "w", "msg": 42, "args": None, "levelno": 20, "created": T})], {"msg": "42"}),
    ok("cookbook_no_name", "no logger name: 'root'",
       [text({"msg": "x", "levelno": 20, "created": T})], {"name": "root", "msg": "x"}),
    err("cookbook_unknown_levelname", "no levelno and a level name nobody knows",
        [text({"name": "w", "msg": "x", "levelname": "CHATTY"})], "missing_field"),
    err("cookbook_wrong_type", "the cookbook form has the same field types",
        [text({"name": "w", "msg": "x", "levelno": 20, "lineno": "7"})], "wrong_type"),
    # ---- PUBHandler form ----------------------------------------------------------------------
    ok("pubhandler_root_topic", "topic <root>.<LEVEL>; the default INFO formatter adds a newline",
       [{"text": "myapp.INFO"}, {"text": "user logged in\n"}],
       {"name": "myapp", "msg": "user logged in", "levelno": 20, "levelname": "INFO", "topic": "myapp.INFO"},
       absent=["sid", "seq", "lang"]),
    ok("pubhandler_no_root", "empty root topic: the topic starts with the level",
       [{"text": "ERROR"}, {"text": "ERROR app.py:12 - boom - None\n"}],
       {"name": "pubhandler", "msg": "ERROR app.py:12 - boom - None", "levelno": 40, "topic": "ERROR"}),
    ok("pubhandler_root_and_subtopic", "a dotted root topic and a subtopic after the level",
       [{"text": "svc.web.WARNING.db.pool"}, {"text": "WARNING pool.py:3 - slow\n"}],
       {"name": "svc.web", "msg": "WARNING pool.py:3 - slow", "levelno": 30, "levelname": "WARNING",
        "topic": "svc.web.WARNING.db.pool"}),
    ok("pubhandler_subtopic_only", "no root, a subtopic (msg 'db::...' in the sender)",
       [{"text": "DEBUG.db"}, {"text": "DEBUG q.py:1 - select\n"}],
       {"name": "pubhandler", "levelno": 10, "topic": "DEBUG.db"}),
    ok("pubhandler_warn_alias", "WARN is WARNING", [{"text": "x.WARN"}, {"text": "careful\n"}],
       {"name": "x", "levelno": 30, "levelname": "WARNING"}),
    ok("pubhandler_critical_one_newline", "only one trailing newline is removed",
       [{"text": "app.CRITICAL"}, {"text": "down\n\n"}], {"levelno": 50, "msg": "down\n"}),
    ok("pubhandler_unicode", "UTF-8 text in both frames",
       [{"text": "アプリ.INFO"}, {"text": "こんにちは 😀\n"}], {"name": "アプリ", "msg": "こんにちは 😀"}),
    err("pubhandler_unknown_level", "the topic names no level", [{"text": "app.LOUD"}, {"text": "x\n"}],
        "bad_multipart"),
    err("pubhandler_invalid_utf8", "the text frame is not UTF-8", [{"text": "app.INFO"}, {"hex": "68ff0a"}],
        "invalid_utf8"),
]


def write_fuzz_seeds(directory):
    """Single-frame cases as fuzz inputs (first byte 0: one frame), so the fuzzer starts from them."""
    import hashlib
    os.makedirs(directory, exist_ok=True)
    for case in CASES:
        frames = case["frames"]
        if len(frames) != 1 or not ({"text", "hex"} & frames[0].keys()):
            continue
        f = frames[0]
        data = f["text"].encode() if "text" in f else bytes.fromhex(f["hex"])
        if len(data) > 4096:
            continue
        blob = b"\x00" + data
        name = "seed-" + hashlib.sha1(blob).hexdigest()[:16]
        with open(os.path.join(directory, name), "wb") as fh:
            fh.write(blob)


def main():
    names = [c["name"] for c in CASES]
    assert len(names) == len(set(names)), "duplicate case names"
    doc = {
        "about": "Shared decoder vectors; format in README.md; generated by gen_decode.py.",
        "limits": {"max_frame_bytes": MIB, "max_depth": 64},
        "cases": CASES,
    }
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "decode.json")
    with open(path, "w", encoding="utf-8") as f:
        json.dump(doc, f, ensure_ascii=False, indent=1)
        f.write("\n")
    print(f"wrote {len(CASES)} cases to {path}")
    write_fuzz_seeds(os.path.join(os.path.dirname(path), "fuzz-corpus"))


if __name__ == "__main__":
    main()
