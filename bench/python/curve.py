"""Item 7 (issue 14): what CURVE costs against plaintext, measured in the same run.

Three figures, each plaintext and CURVE back to back with interleaved runs, on loopback (so the figure
is the encryption and the handshake, not a network):
  a. Python per call: item 1's loop (`percall.py`) over the floor, `logfunnel.Handler` and the same
     Handler with `curve_server_key`/`curve_secret_key`, each into its own collector process.
  b. End to end: item 2's application (`e2e.py`), 4 processes x N records, into a collector with and
     without `[curve]`.
  c. Collector ingest: item 3's blasters (`ingest.py`), v1 frames and acknowledged batches, with and
     without CURVE on every connection (SUB and ack ROUTER alike).
The keys are made once per benchmark run with `logfunnel-collector keygen`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import e2e
import ingest
import percall
from keys import CurveKeys

PERCALL_HANDLERS = ["floor", "logfunnel", "logfunnel-curve"]
E2E_APPROACHES = ["logfunnel", "logfunnel-curve"]
E2E_PROCS = 4


@dataclass
class CurveResult:
    percall: dict | None
    percall_error: str
    e2e: dict
    #: (plaintext, CURVE) pairs of ingest cases, one per sending mode
    ingest: list[tuple[ingest.IngestCase, ingest.IngestCase]]


def ingest_pairs(records: int, keys: CurveKeys) -> list[tuple[ingest.IngestCase, ingest.IngestCase]]:
    pairs = []
    for mode, what in (("xpub", "v1 frames"), ("batch", "acknowledged batches")):
        shape = dict(procs=4, sockets_per_proc=1, msg_bytes=100, records=records, mode=mode)
        pairs.append(
            (
                ingest.IngestCase(f"4 x 1, {what}, plaintext", **shape),
                ingest.IngestCase(f"4 x 1, {what}, CURVE", curve=keys, **shape),
            )
        )
    return pairs


def run(
    workdir: Path,
    *,
    calls: int,
    runs_percall: int,
    e2e_records: int,
    e2e_opts: dict,
    ingest_records: int,
    runs: int,
    ingest_quiet: float,
    progress=print,
) -> CurveResult:
    keys = CurveKeys.generate(workdir / "curve-keys")
    progress("  item 7a: per call ...")
    pc, pc_error = percall.spawn(calls, runs_percall, handlers=PERCALL_HANDLERS, curve_keys=keys)
    progress("  item 7b: end to end ...")
    cases = e2e.run(E2E_APPROACHES, [E2E_PROCS], e2e_records, runs, curve=keys, progress=progress, **e2e_opts)
    progress("  item 7c: collector ingest ...")
    pairs = ingest_pairs(ingest_records, keys)
    ingest.run([c for pair in pairs for c in pair], runs, quiet=ingest_quiet, progress=progress)
    return CurveResult(pc, pc_error, cases, pairs)
