"""CURVE from Python: ``Handler``'s ``curve_server_key``/``curve_secret_key`` (a path or ``env:NAME``)
against a real collector with ``[curve]``; a key that cannot be read or parsed is a ``ValueError``
naming the option; a collector bound to another machine's reach without ``[curve]`` refuses to start
unless ``insecure`` is set."""

from __future__ import annotations

import logging
import pathlib
from typing import Tuple

import pytest

import logfunnel
from logfunnel import _native

from conftest import Collected, wait_until


def keygen(directory: pathlib.Path, name: str) -> Tuple[pathlib.Path, pathlib.Path]:
    """``logfunnel-collector keygen`` (the package's own CLI): ``NAME.key`` and ``NAME.key_secret``."""
    prefix = directory / name
    assert _native.cli_main(["logfunnel-collector", "keygen", "--out", str(prefix)]) == 0
    return pathlib.Path(str(prefix) + ".key"), pathlib.Path(str(prefix) + ".key_secret")


def curve_collector(tmp_path: pathlib.Path, allowed: pathlib.Path) -> Tuple[Collected, pathlib.Path]:
    server_pub, server_secret = keygen(tmp_path, "collector")
    collected = Collected(
        tmp_path,
        curve={
            "secret_key_file": str(server_secret),
            "allow": [allowed.read_text().strip()],
        },
    )
    return collected, server_pub


def log_through(handler: logfunnel.Handler, n: int, name: str = "curve.py") -> None:
    log = logging.getLogger(name)
    log.propagate = False
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    try:
        for i in range(n):
            log.info("record %d", i)
    finally:
        log.removeHandler(handler)


def test_a_listed_sender_gets_every_record_through_with_keys_from_files_or_env(tmp_path, monkeypatch):
    client_pub, client_secret = keygen(tmp_path, "client")
    collected, server_pub = curve_collector(tmp_path, client_pub)
    try:
        handler = logfunnel.Handler(
            collected.endpoint,
            curve_server_key=str(server_pub),
            curve_secret_key=str(client_secret),
        )
        log_through(handler, 50)
        assert handler.close(timeout=20) is not False
        monkeypatch.setenv("LF_TEST_SERVER_KEY", server_pub.read_text().strip())
        monkeypatch.setenv("LF_TEST_CLIENT_SECRET", client_secret.read_text().strip())
        from_env = logfunnel.Handler(
            collected.endpoint,
            curve_server_key="env:LF_TEST_SERVER_KEY",
            curve_secret_key="env:LF_TEST_CLIENT_SECRET",
        )
        log_through(from_env, 50, "curve.env")
        from_env.close(timeout=20)
        records = collected.records(100)
        assert [r["msg"] for r in records if r["name"] == "curve.py"] == ["record %d" % i for i in range(50)]
        assert len([r for r in records if r["name"] == "curve.env"]) == 50
        assert collected.server.stats()["auth"] == {"rejected": 0, "refused_connections": 0}
    finally:
        collected.server.stop()


def test_an_unlisted_or_keyless_sender_gets_nothing_through_and_is_counted(tmp_path):
    listed_pub, _ = keygen(tmp_path, "listed")
    _, unlisted_secret = keygen(tmp_path, "unlisted")
    collected, server_pub = curve_collector(tmp_path, listed_pub)
    try:
        for options in (
            {},
            {"curve_server_key": str(server_pub), "curve_secret_key": str(unlisted_secret)},
        ):
            before = collected.server.stats()["auth"]["rejected"]
            handler = logfunnel.Handler(collected.endpoint, exit_timeout=0.2, **options)
            log_through(handler, 5)
            deadline_ok = wait_until(lambda: collected.server.stats()["auth"]["rejected"] > before)
            assert deadline_ok, "a refused sender was not counted: %r" % options
            handler.close(timeout=0.2)
        assert collected.records(0, settle=0.3) == []
    finally:
        collected.server.stop()


def test_a_bad_key_is_a_value_error_naming_the_option(tmp_path, monkeypatch):
    _, client_secret = keygen(tmp_path, "client")
    server_pub, _ = keygen(tmp_path, "server")
    monkeypatch.delenv("LF_TEST_UNSET", raising=False)
    (tmp_path / "garbage.key").write_text("not a key\n")
    cases = [
        ({"curve_server_key": str(tmp_path / "absent.key"), "curve_secret_key": str(client_secret)},
         "invalid option curve_server_key: key file %s does not exist" % (tmp_path / "absent.key")),
        ({"curve_server_key": str(server_pub), "curve_secret_key": "env:LF_TEST_UNSET"},
         "invalid option curve_secret_key: environment variable LF_TEST_UNSET is not set"),
        ({"curve_server_key": str(tmp_path / "garbage.key"), "curve_secret_key": str(client_secret)},
         "invalid option curve_server_key: key file %s is not a CURVE key" % (tmp_path / "garbage.key")),
        ({"curve_server_key": str(server_pub)},
         "invalid option curve_secret_key: required with curve_server_key"),
    ]
    for options, message in cases:
        with pytest.raises(ValueError) as raised:
            logfunnel.Handler("tcp://127.0.0.1:1", **options)
        assert str(raised.value).startswith(message), (options, str(raised.value))


def test_serve_refuses_an_exposed_bind_without_curve_unless_insecure(tmp_path):
    with pytest.raises(ValueError) as raised:
        logfunnel.serve(bind="tcp://0.0.0.0:0", sinks=[{"kind": "jsonl", "path": str(tmp_path / "x")}])
    message = str(raised.value)
    assert 'bind[0]: "tcp://0.0.0.0:0" can be reached from other machines' in message, message
    assert "insecure = true" in message
    server = logfunnel.serve(
        bind="tcp://0.0.0.0:0", insecure=True, sinks=[{"kind": "jsonl", "path": str(tmp_path / "x")}]
    )
    server.stop()
