"""Two hosts for multi-host tests: a context manager over ``tools/netns.sh`` (two network namespaces
joined by a veth pair), removed on exit even when the test fails. Skips the test without root."""

from __future__ import annotations

import contextlib
import pathlib
import subprocess
import textwrap
from typing import Dict, Iterator, List

import pytest

SCRIPT = pathlib.Path(__file__).resolve().parents[2] / "tools" / "netns.sh"


@contextlib.contextmanager
def two_hosts(name: str, net: str) -> Iterator[Dict[str, str]]:
    """Yields ``NETNS_A``, ``NETNS_B``, ``ADDR_A``, ``ADDR_B``, ``DEV_A``, ``DEV_B``."""
    up = subprocess.run(["bash", str(SCRIPT), "up", name, net], capture_output=True, text=True)
    if up.returncode == 77:
        pytest.skip(up.stderr.strip())
    assert up.returncode == 0, up.stderr
    try:
        yield dict(pair.split("=", 1) for pair in up.stdout.split())
    finally:
        subprocess.run(["bash", str(SCRIPT), "down", name], check=False)


def across_sender(body: str) -> str:
    """A sender script for host A: ``handler``, a ``logfunnel.Handler`` to ``sys.argv[1]``, on
    logger ``log`` ("across", INFO), then ``body`` (which may use json, sys and time)."""
    return (
        textwrap.dedent(
            """
            import json, logging, sys, time, logfunnel
            handler = logfunnel.Handler(sys.argv[1])
            log = logging.getLogger("across")
            log.addHandler(handler)
            log.setLevel(logging.INFO)
            """
        )
        + textwrap.dedent(body)
    )


def in_netns(netns: str, argv: List[str]) -> List[str]:
    """``argv`` run inside ``netns``."""
    return ["ip", "netns", "exec", netns, *argv]
