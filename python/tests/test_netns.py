"""Two hosts: a collector process in one network namespace, bound to its own address, and a
sender process with ``logfunnel.Handler`` in another; every record arrives, in order."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

from netns import in_netns, two_hosts

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

SENDER = textwrap.dedent(
    """
    import logging, sys, logfunnel
    handler = logfunnel.Handler(sys.argv[1])
    log = logging.getLogger("across")
    log.addHandler(handler)
    log.setLevel(logging.INFO)
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
