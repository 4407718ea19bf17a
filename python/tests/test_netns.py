"""Two hosts: a collector process in one network namespace, bound to its own address, and a
sender process with ``logfunnel.Handler`` in another; every record arrives, in order. In plaintext
(``insecure``) and with CURVE, where only the listed sender's records arrive."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import textwrap
import threading

from conftest import wait_until
from netns import across_sender, in_netns, two_hosts

COLLECTOR = textwrap.dedent(
    """
    import sys, logfunnel
    # Plaintext across hosts on purpose (what this test is about): insecure accepts the risk.
    server = logfunnel.serve(
        sinks=[{"kind": "jsonl", "path": sys.argv[2]}], bind=sys.argv[1], flush_interval_ms=20,
        insecure=True,
    )
    print("listening", flush=True)
    sys.stdin.readline()
    server.stop()
    """
)

SENDER = across_sender(
    """
    for i in range(50):
        log.info("record %d from host A", i)
    handler.close(timeout=20)
    """
)


def test_records_cross_from_one_host_to_the_collector_on_another(tmp_path):
    out = tmp_path / "collected.jsonl"
    with two_hosts("lfpy", "10.231.8") as hosts:
        endpoint = "tcp://%s:5597" % hosts["ADDR_B"]
        collector = subprocess.Popen(
            in_netns(hosts["NETNS_B"], [sys.executable, "-c", COLLECTOR, endpoint, str(out)]),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            assert collector.stdout.readline().strip() == "listening"
            sender = subprocess.run(
                in_netns(hosts["NETNS_A"], [sys.executable, "-c", SENDER, endpoint]), timeout=120
            )
            assert sender.returncode == 0
        finally:
            # stop() drains what was received before it returns.
            collector.communicate("stop\n", timeout=120)
    assert collector.returncode == 0
    msgs = [json.loads(line)["msg"] for line in out.read_text().splitlines()]
    assert msgs == ["record %d from host A" % i for i in range(50)]


CURVE_SENDER = textwrap.dedent(
    """
    import logging, sys, logfunnel
    endpoint, tag, server_key, secret_key, timeout = sys.argv[1:6]
    keys = {}
    if server_key != "-":
        keys = {"curve_server_key": server_key, "curve_secret_key": secret_key}
    handler = logfunnel.Handler(endpoint, exit_timeout=float(timeout), **keys)
    log = logging.getLogger("across.curve")
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    for i in range(50):
        log.info("%s %d", tag, i)
    handler.close()
    print(handler.stats()["sent"], flush=True)
    """
)


def test_across_hosts_with_curve_only_the_listed_python_sender_gets_through(tmp_path):
    """The collector CLI (the same code as the binary) with [curve] on host B's address; Python
    senders on host A: the listed one gets every record through, one with no keys, the wrong server
    key or an unlisted key gets none through, and each is counted in the stats line."""
    from logfunnel import _native

    def keygen(name):
        prefix = tmp_path / name
        assert _native.cli_main(["logfunnel-collector", "keygen", "--out", str(prefix)]) == 0
        return str(prefix) + ".key", str(prefix) + ".key_secret"

    server_pub, server_secret = keygen("collector")
    impostor_pub, _ = keygen("impostor")
    client_pub, client_secret = keygen("client")
    _, unlisted_secret = keygen("unlisted")
    out = tmp_path / "collected.jsonl"
    with two_hosts("lfpycurve", "10.231.10") as hosts:
        endpoint = "tcp://%s:5596" % hosts["ADDR_B"]
        config = tmp_path / "collector.toml"
        config.write_text(
            'bind = ["%s"]\nstats_interval_s = 1\nflush_interval_ms = 20\n'
            '[curve]\nsecret_key_file = "%s"\nallow = ["%s"]\n'
            '[[sink]]\nkind = "jsonl"\npath = "%s"\n'
            % (endpoint, server_secret, open(client_pub).read().strip(), out)
        )
        collector = subprocess.Popen(
            in_netns(hosts["NETNS_B"], [sys.executable, "-m", "logfunnel._cli", "--config", str(config)]),
            stderr=subprocess.PIPE,
            text=True,
        )
        lines = []
        ready = threading.Event()

        def read():
            for line in collector.stderr:
                lines.append(line)
                if line.rstrip().endswith(": ready"):
                    ready.set()

        threading.Thread(target=read, daemon=True).start()

        def rejected():
            counts = [int(m.group(1)) for m in (re.search(r"auth_rejected=(\d+)", l) for l in lines) if m]
            return counts[-1] if counts else 0

        def send(tag, server_key, secret_key, timeout):
            run = subprocess.run(
                in_netns(
                    hosts["NETNS_A"],
                    [sys.executable, "-c", CURVE_SENDER, endpoint, tag, server_key, secret_key, timeout],
                ),
                capture_output=True,
                text=True,
                timeout=120,
            )
            assert run.returncode == 0, run.stderr
            return int(run.stdout.strip())

        try:
            assert ready.wait(60), "".join(lines)
            for tag, server_key, secret_key in [
                ("no-keys", "-", "-"),
                ("wrong-server-key", impostor_pub, client_secret),
                ("unlisted-key", server_pub, unlisted_secret),
            ]:
                before = rejected()
                assert send(tag, server_key, secret_key, "1.0") == 0, tag
                assert wait_until(lambda: rejected() > before, 60), "%s not counted: %s" % (tag, "".join(lines))
            assert send("listed", server_pub, client_secret, "20.0") == 50
            assert wait_until(lambda: out.exists() and len(out.read_text().splitlines()) >= 50, 60)
        finally:
            collector.terminate()
            collector.wait(timeout=60)
    msgs = [json.loads(line)["msg"] for line in out.read_text().splitlines()]
    assert msgs == ["listed %d" % i for i in range(50)]
