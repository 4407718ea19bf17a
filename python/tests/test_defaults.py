"""The Python docs name the core's sender defaults (spec/defaults.json, from `SenderOptions::new`), so
they cannot drift: `_native.pyi`'s `Sender` docstring, `Handler`'s docstring and the README table.

Python names drop the core's `_ms` and take seconds. Only options Python exposes are checked; every
exposed option must be documented in the stub.
"""

import ast
import json
import re

import logfunnel
from logfunnel import handler as handler_module

from conftest import ROOT

SPEC = json.loads((ROOT / "spec" / "defaults.json").read_text())["sender"]
STUB = (ROOT / "python" / "logfunnel" / "_native.pyi").read_text()
README = (ROOT / "python" / "README.md").read_text()


def python_defaults():
    """spec/defaults.json under the Python names and units."""
    out = {}
    for key, value in SPEC.items():
        if key.endswith("_ms"):
            out[key[: -len("_ms")]] = value / 1000
        else:
            out[key] = value
    return out


def literal(text):
    """The value a doc spells: a Python literal, or None for "None: ..."."""
    return ast.literal_eval(text.strip().rstrip(":"))


def sender_docstring():
    start = STUB.index("class Sender:")
    doc = STUB[start:].split('"""')[3]
    return dict(
        (m.group(1), literal(m.group(2)))
        for m in re.finditer(r"^\s*- (\w+): (.+)$", doc, re.M)
    )


def test_the_stub_documents_every_sender_option_with_the_core_default():
    expected = python_defaults()
    documented = sender_docstring()
    signature = STUB[STUB.index("class Sender:") :].split(") -> Sender:")[0]
    options = re.findall(r"^\s+(\w+): Optional\[", signature, re.M)
    assert len(options) >= 14
    assert sorted(documented) == sorted(options)
    for name in options:
        assert documented[name] == expected[name], name


def test_the_handler_docstring_names_the_core_defaults():
    expected = python_defaults()
    doc = logfunnel.Handler.__doc__
    found = {}
    for m in re.finditer(r"``(\w+)`` \(([^,):]+)", doc):
        found.setdefault(m.group(1), m.group(2))
    checked = 0
    for name in handler_module._SENDER_OPTIONS:
        assert name in found, "Handler docstring does not give %s's default" % name
        assert literal(found[name]) == expected[name], name
        checked += 1
    assert checked == len(handler_module._SENDER_OPTIONS) >= 12
    # The handler's exit timeout is the sender's close timeout.
    assert handler_module.DEFAULT_EXIT_TIMEOUT == expected["close_timeout"]
    assert literal(found["exit_timeout"]) == expected["close_timeout"]


def test_the_readme_table_names_the_core_defaults():
    expected = python_defaults()
    found = {}
    for m in re.finditer(r"^\| ((?:`\w+`(?:, )?)+) \| ([^|]+) \|", README, re.M):
        names = re.findall(r"`(\w+)`", m.group(1))
        values = m.group(2).split(", ")
        if not set(names) & handler_module._SENDER_OPTIONS:
            continue
        assert len(values) == len(names), m.group(0)
        for name, value in zip(names, values):
            found[name] = value
    for name in handler_module._SENDER_OPTIONS:
        assert name in found, "README does not give %s's default" % name
        text = found[name].split()[0].strip("`").rstrip(":")
        assert literal(text) == expected[name], name
