#!/usr/bin/env python3
"""Writes spec/vectors/format.json: format cases whose `expected` is computed by Python's own
logging.Formatter, so the collector's formatter is checked against Python itself.

Times are rendered in UTC (Formatter.converter = time.gmtime). Every record carries the attributes
its format names, so nothing of this process (pid, thread, start time) leaks into `expected`.

    python3 spec/vectors/gen_format_expected.py
"""

import json
import logging
import os
import time

T = 1764172693.125  # 2025-11-26 15:58:13.125 UTC

BASE = {
    "v": 1, "name": "app.db", "msg": "query done", "args": None, "levelno": 20, "levelname": "INFO",
    "created": T, "msecs": 125.0, "relativeCreated": 1234.5678, "pathname": "/srv/app/db.py",
    "filename": "db.py", "module": "db", "lineno": 7, "funcName": "query", "process": 4242,
    "processName": "MainProcess", "thread": 140017928317824, "threadName": "MainThread",
    "host": "web-1", "lang": "python", "sid": "s-1", "seq": 3,
}


def record(**over):
    r = dict(BASE)
    for k, v in over.items():
        if v is DROP:
            r.pop(k, None)
        else:
            r[k] = v
    return r


DROP = object()

CASES = [
    # name, record, fmt, datefmt, style
    ("default_asctime", record(), "%(asctime)s", None, "%"),
    ("default_asctime_msecs_truncate", record(created=1764172693.9999, msecs=999.9), "%(asctime)s", None, "%"),
    ("default_asctime_zero_msecs", record(created=1764172693.0, msecs=0.0), "%(asctime)s|%(msecs)03d", None, "%"),
    ("datefmt_iso_like", record(), "%(asctime)s %(message)s", "%Y-%m-%dT%H:%M:%S", "%"),
    ("datefmt_with_msecs_field", record(), "%(asctime)s.%(msecs)03d %(message)s", "%Y-%m-%d %H:%M:%S", "%"),
    ("datefmt_names", record(), "%(asctime)s", "%a %A %b %B %h %p %y %j", "%"),
    ("datefmt_12h_zone", record(), "%(asctime)s", "%d/%m/%Y %I:%M:%S %p %z %Z", "%"),
    ("datefmt_locale_c", record(), "%(asctime)s", "%c | %x | %X", "%"),
    ("datefmt_composites", record(), "%(asctime)s", "%D %F %T %R %e %C %% %n%t.", "%"),
    ("datefmt_weeks", record(), "%(asctime)s", "%U %W %w %u %V %G %g", "%"),
    ("datefmt_weeks_year_end", record(created=1735689599.5, msecs=500.0), "%(asctime)s",
     "%Y-%m-%d %j %U %W %w %u %V %G %g %a", "%"),
    ("datefmt_weeks_new_year", record(created=1735776000.0, msecs=0.0), "%(asctime)s",
     "%Y-%m-%d %j %U %W %w %u %V %G %g %a", "%"),
    ("datefmt_leap_day", record(created=1709210096.75, msecs=750.0), "%(asctime)s", "%Y-%m-%d %j %H:%M:%S", "%"),
    ("datefmt_epoch", record(created=0.0, msecs=0.0), "%(asctime)s", "%Y-%m-%d %H:%M:%S %a %j %U %W", "%"),
    ("datefmt_no_padding", record(created=1709210096.75, msecs=750.0), "%(asctime)s",
     "%-d/%-m/%Y %-H:%-M:%-S %-I %-j", "%"),
    ("datefmt_space_padded_hours", record(created=1709183096.0, msecs=0.0), "%(asctime)s", "[%k] [%l] [%e]", "%"),
    ("name_level_message", record(), "%(name)s %(levelname)-8s %(message)s", None, "%"),
    ("default_collector_format", record(), "%(asctime)s %(levelname)-8s %(name)s [%(process)d] %(message)s",
     None, "%"),
    ("process_lineno_func_thread", record(), "%(process)d %(lineno)04d %(funcName)s %(thread)d", None, "%"),
    ("numbers_of_time", record(), "%(msecs)03d %(relativeCreated)d %(created)f %(levelno)s", None, "%"),
    ("paths_and_names", record(), "%(pathname)s %(filename)s %(module)s %(processName)s %(threadName)s",
     None, "%"),
    ("logfunnel_fields", record(), "%(host)s %(lang)s %(sid)s %(seq)d", None, "%"),
    ("user_fields", record(user_id=42, ctx={"req": "r1", "hops": [1, 2]}, flag=True, nothing=None, ratio=0.25),
     "%(user_id)s %(ctx)s %(flag)s %(flag)d %(nothing)s %(ratio).1f %(ratio)s", None, "%"),
    ("user_floats_repr", record(a=0.1, b=1e16, c=1e-05, d=123456789.125, e=-0.0, f=2.0),
     "%(a)s %(b)s %(c)s %(d)s %(e)s %(f)s %(a)r", None, "%"),
    ("user_big_int", record(big=18446744073709551615, neg=-9223372036854775808), "%(big)d %(neg)d %(big)x", None, "%"),
    ("user_string_repr", record(q="it's \"quoted\"\ttab", u="é😀"), "%(q)r %(u)r %(u)a", None, "%"),
    ("percent_literals", record(), "%% literal 100%% %(message)s %%", None, "%"),
    ("width_precision_align", record(),
     "[%(name)-10.3s] [%(levelno)5d] [%(levelname)10s] [%(lineno)-6d] [%(message).5s]", None, "%"),
    ("numeric_flags", record(),
     "%(created).3f %(msecs)5.1f %(levelno)x %(levelno)#o %(levelno)+d %(lineno) d %(levelno)08.3f %(created)e %(created)g",
     None, "%"),
    ("message_repr", record(msg="say \"hi\" it's"), "%(message)r", None, "%"),
    ("message_with_percent_not_merged", record(msg="100% done %s"), "%(message)s", None, "%"),
    ("exc_text_appended", record(levelno=40, levelname="ERROR", msg="failed",
                                 exc_text="Traceback (most recent call last):\n  File \"x.py\", line 1, in <module>\nValueError: bad"),
     "%(levelname)s %(message)s", None, "%"),
    ("stack_info_appended", record(stack_info="Stack (most recent call last):\n  File \"x.py\", line 3, in f"),
     "%(message)s", None, "%"),
    ("exc_text_and_stack_info", record(exc_text="Traceback: boom", stack_info="Stack: here"),
     "%(levelname)s: %(message)s", None, "%"),
    ("exc_text_after_newline", record(msg="ends with newline\n", exc_text="Traceback: boom"),
     "%(message)s", None, "%"),
    ("exc_text_empty_not_appended", record(exc_text=""), "%(message)s", None, "%"),
    ("missing_optional_defaults", record(pathname=DROP, filename=DROP, module=DROP, lineno=DROP, funcName=DROP),
     "[%(pathname)s|%(filename)s|%(module)s|%(lineno)d|%(funcName)s]", None, "%"),
    ("custom_levelname", record(levelno=25, levelname="NOTICE"), "%(levelname)s/%(levelno)d", None, "%"),
    ("unicode_width_counts_characters", record(name="アプリ", msg="日本語 😀 ünï"),
     "%(name)-6s|%(message)s|%(name).2s|", None, "%"),
    ("control_chars_kept", record(msg="a\u001b[31mb\rc\u0000d"), "%(message)s", None, "%"),
    ("brace_basic", record(), "{asctime} {levelname:<8} {name} {message}", None, "{"),
    ("brace_specs", record(user_id=7),
     "{levelno:03d} {created:.2f} {process:>8} {name!r} {name:^10} {lineno:+d} {thread:,} {levelno:x} "
     "{levelno:#x} {msecs:.0f} {user_id} {levelname:*^11} {lineno:=+6} {relativeCreated:_.1f} {levelno:b}",
     None, "{"),
    ("brace_float_default", record(a=0.1, b=2.0, c=1e16), "{a} {b} {c} {a:.3} {b:.3} {c:.3} {created:e} {a:%}",
     None, "{"),
    ("brace_escapes_and_text", record(), "{{literal}} {message:.5} {levelname:>10.3} {v}", None, "{"),
    ("brace_datefmt", record(), "{asctime}|{message}", "%H:%M:%S", "{"),
    ("dollar_basic", record(), "$asctime $levelname ${name}: $message $$5", None, "$"),
    ("dollar_user_field", record(user_id="bob"), "${user_id}x $lineno", None, "$"),
]


def main():
    out = []
    for name, rec, fmt, datefmt, style in CASES:
        f = logging.Formatter(fmt, datefmt, style)
        f.converter = time.gmtime
        expected = f.format(logging.makeLogRecord(json.loads(json.dumps(rec))))
        out.append({"name": name, "record": rec, "fmt": fmt, "datefmt": datefmt, "style": style,
                    "expected": expected})
    names = [c["name"] for c in out]
    assert len(names) == len(set(names)), "duplicate case names"
    doc = {"about": "Formatter vectors; expected strings computed by Python's logging.Formatter with "
                    "converter=time.gmtime (UTC); see README.md; generated by gen_format_expected.py.",
           "cases": out}
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "format.json")
    with open(path, "w", encoding="utf-8") as fh:
        json.dump(doc, fh, ensure_ascii=False, indent=1)
        fh.write("\n")
    print(f"wrote {len(out)} cases to {path}")


if __name__ == "__main__":
    main()
