"""Runs every logfunnel benchmark, prints the tables with ratios and writes bench/RESULTS.md.

    bench/run.sh            full run (tens of minutes on 2 cores), writes bench/RESULTS.md
    bench/run.sh --smoke    tiny N, every item, well under a minute; fails if logfunnel loses a record
                            or any case errors (no timing is ever asserted)

Item numbers follow issue 7: 1 per-call cost, 2 end to end, 3 collector ingest, 4 growth, 5 C / Java;
then 6 forwarding over OTLP (issue 15) and 7 CURVE against plaintext (issue 14).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import curve  # noqa: E402
import e2e  # noqa: E402
import ingest  # noqa: E402
import otlp  # noqa: E402
import percall  # noqa: E402
from common import BENCH_DIR, Sample, fmt_rate, machine, one_line  # noqa: E402

NOTES_MARK = "<!-- Everything below this line is kept when the benchmark rewrites this file. -->"

LABELS_1 = {
    "floor": "(a) do-nothing handler (floor)",
    "logfunnel": "(b) logfunnel.Handler",
    "cookbook": "(c) cookbook pyzmq QueueHandler (PUB, send_json)",
    "pushjson": "(d) hand-tuned pyzmq PUSH handler",
    "mpqueue": "(e) multiprocessing.Queue + QueueHandler",
    "logfunnel-curve": "logfunnel.Handler with CURVE",
}


class Report:
    """Collects the printed lines so the same text goes to the terminal and to RESULTS.md."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def __call__(self, line: str = "") -> None:
        print(line, flush=True)
        self.lines.append(line)

    def table(self, header: list[str], rows: list[list[str]]) -> None:
        self("| " + " | ".join(header) + " |")
        self("|" + "|".join("---" for _ in header) + "|")
        for r in rows:
            self("| " + " | ".join(r) + " |")
        self()


def progress(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def med_range(s: Sample, scale: float = 1.0, digits: int = 2) -> str:
    if not s.values:
        return "-"
    if len(s.values) == 1:
        return f"{s.median * scale:.{digits}f}"
    return f"{s.median * scale:.{digits}f} ({s.lo * scale:.{digits}f}-{s.hi * scale:.{digits}f})"


def paired_ratio(num: list[float], den: list[float]) -> Sample:
    return Sample([a / b for a, b in zip(num, den) if b > 0])


def mark(ok: bool) -> str:
    return "MET" if ok else "MISSED"


# --- item 1 and 4a ----------------------------------------------------------------------------------


def item1(rep: Report, p: dict, failures: list[str]) -> None:
    pc = p["percall"]
    rep("## 1. Python per-call cost of `logger.info(\"record %d\", i)`")
    rep()
    rep(
        f"{p['calls']:,} timed calls per run, {p['runs']} interleaved runs; median (min-max) over runs. "
        "Ratio = per-run ratio to the floor measured in the same round, median (min-max)."
    )
    rep()
    floor = pc["floor"]
    cpu = p.get("percall_cpu") or {}
    rows = []
    for name, vals in pc.items():
        row = [LABELS_1[name], med_range(Sample(vals), 1e6), med_range(paired_ratio(vals, floor))]
        if cpu:
            row += [
                med_range(Sample(cpu[name]), 1e6),
                med_range(paired_ratio(cpu[name], cpu["floor"])),
            ]
        rows.append(row)
    header = ["handler", "wall per call (us)", "ratio vs (a)"]
    if cpu:
        header += ["process CPU per call (us)", "CPU ratio vs (a)"]
    rep.table(header, rows)
    rep(
        "Process CPU counts every thread of the logging process (logfunnel's sender thread, pyzmq's I/O "
        "thread, the multiprocessing feeder thread), not the receivers in other processes."
    )
    rep()
    r_lf = paired_ratio(pc.get("logfunnel", []), floor)
    if r_lf.values:
        rep(f"Target (b)/(a) <= 1.4: {r_lf.median:.2f} -> {mark(r_lf.median <= 1.4)}")
        rep()
    stats = p.get("logfunnel_stats") or {}
    dropped = sum(v for k, v in stats.items() if k.startswith("dropped") and isinstance(v, int))
    if stats:
        rep(f"logfunnel.Handler counters after the runs: {json.dumps(stats, sort_keys=True)}")
        rep()
    if dropped:
        failures.append(f"item 1: logfunnel.Handler dropped {dropped} records")


def item4_percall(rep: Report, p: dict) -> None:
    by = p.get("by_size") or {}
    if not by:
        return
    rep("## 4a. Growth: per-call cost vs message size")
    rep()
    rep(f"`logger.info(\"record %d %s\", i, pad)`, {p['size_calls']:,} calls per run; us per call, median (min-max); ratio vs floor at the same size.")
    rep()
    handlers = list(next(iter(by.values())).keys())
    header = ["message"] + [LABELS_1[h] for h in handlers]
    rows = []
    for size, per in by.items():
        floor = per["floor"]
        row = [f"{int(size):,} B"]
        for h in handlers:
            cell = med_range(Sample(per[h]), 1e6)
            if h != "floor":
                cell += f" x{paired_ratio(per[h], floor).median:.2f}"
            row.append(cell)
        rows.append(row)
    rep.table(header, rows)


# --- item 2 -----------------------------------------------------------------------------------------


def item2(rep: Report, cases: dict, records: int, failures: list[str]) -> None:
    rep("## 2. End to end: P processes x N records into one rotating file")
    rep()
    rep(
        f"N = {records:,} records per process. Wall = from the start signal to the last byte in the file(s) "
        "(polled every 10 ms from outside the application); records/s counts lines found; lost = expected - "
        "found (for lossy approaches: after nothing arrived for a while). Median (min-max) over runs."
    )
    rep()
    procs_list = sorted({p for (_, p) in cases})
    for p in procs_list:
        rows = []
        here = {a: c for (a, pp), c in cases.items() if pp == p}
        lf_rate = max(
            (c.rate.median for a, c in here.items() if a.startswith("logfunnel") and c.rate.values),
            default=float("nan"),
        )
        for a, c in here.items():
            rate = c.rate.median if c.rate.values else float("nan")
            vs = (
                f"{lf_rate / rate:.1f}x"
                if not a.startswith("logfunnel") and rate == rate and rate > 0 and lf_rate == lf_rate
                else ""
            )
            lost = ",".join(str(x) for x in c.lost) if c.lost else "-"
            err = f" ERROR: {one_line(c.errors[0])}" if c.errors else ""
            rss = (
                f" (collector peak RSS {max(c.collector_hwm_kib) / 1024:.0f} MiB)"
                if c.collector_hwm_kib
                else ""
            )
            rows.append(
                [e2e.LABELS[a] + rss + err, med_range(c.wall, 1, 3), fmt_rate(rate), lost, vs]
            )
            if a.startswith("logfunnel"):
                if any(x != 0 for x in c.lost):
                    failures.append(f"item 2: {a} P={p} lost {c.lost}")
            if c.errors:
                failures.append(f"item 2: {a} P={p}: {one_line(c.errors[0], 600)}")
        rep(f"### P = {p}")
        rep()
        rep.table(["approach", "wall s", "records/s", "lost (per run)", "logfunnel faster by"], rows)
    at4 = {a: c for (a, p), c in cases.items() if p == 4 and c.rate.values}
    if "logfunnel" in at4 and "logfunnel-v1" in at4:
        acked, v1 = at4["logfunnel"].rate.median, at4["logfunnel-v1"].rate.median
        rep(
            f"Acknowledged delivery / v1 path at P = 4: {acked / v1:.2f}x "
            f"({fmt_rate(acked)} vs {fmt_rate(v1)}; target >= 1.0: {mark(acked >= v1)})"
        )
        rep()
    if at4:
        lf = max((c.rate.median for a, c in at4.items() if a.startswith("logfunnel")), default=0)
        base = {a: c.rate.median for a, c in at4.items() if not a.startswith("logfunnel")}
        lossless = {a: r for a, r in base.items() if a in e2e.LOSSLESS and max(at4[a].lost, default=0) == 0}
        lf_lost = max((max(c.lost, default=0) for a, c in at4.items() if a.startswith("logfunnel")), default=0)
        if base:
            best_any = max(base, key=base.get)
            rep(
                f"Target at P=4: logfunnel loses 0 ({mark(lf_lost == 0)}); "
                f"faster than the best baseline by >= 3x: best by records/s is {e2e.LABELS[best_any]} "
                f"({fmt_rate(base[best_any])}/s) -> {lf / base[best_any]:.1f}x {mark(lf >= 3 * base[best_any])}"
            )
            if lossless:
                best_ll = max(lossless, key=lossless.get)
                rep(
                    f"Against the best baseline that lost nothing ({e2e.LABELS[best_ll]}, "
                    f"{fmt_rate(lossless[best_ll])}/s): {lf / lossless[best_ll]:.1f}x"
                )
            rep()


# --- items 3 and 4b ---------------------------------------------------------------------------------


def ingest_rows(cases: list[ingest.IngestCase]) -> list[list[str]]:
    rows = []
    for c in cases:
        err = f" ERROR: {one_line(c.errors[0])}" if c.errors else ""
        rows.append(
            [
                c.label + err,
                f"{c.records:,}",
                f"{fmt_rate(c.rate.median)} ({fmt_rate(c.rate.lo)}-{fmt_rate(c.rate.hi)})" if c.rate.values else "-",
                med_range(c.hwm_mib, 1, 1),
                med_range(c.cpu_us_per_record, 1, 2),
                ",".join(str(x) for x in c.lost) or "-",
            ]
        )
    return rows


INGEST_HEADER = ["senders", "records", "records/s", "peak RSS MiB", "CPU us/record", "lost"]


def item3(rep: Report, c: ingest.IngestCase, ceiling: ingest.IngestCase, failures: list[str]) -> None:
    rep("## 3. Collector ingest alone (Rust blasters, pre-encoded v1 frames -> formatted rotating file)")
    rep()
    rep(
        "Fresh collector process per run; records/s from the start signal to the last byte in the files; peak "
        "RSS = VmHWM; CPU = collector utime+stime / records. Median (min-max). The ceiling row runs the very "
        "same blaster processes into `logfunnel-bench-blaster --sink`, which binds the same socket and only "
        "counts messages (no decode, format or write), interleaved with the collector runs: the most these "
        "senders can move on this machine, whose CPUs they share with the receiver (its RSS and CPU are "
        "the sink's)."
    )
    rep()
    rep.table(INGEST_HEADER, ingest_rows([c, ceiling]))
    ratio = paired_ratio(
        [c.rate_by_run[r] for r in sorted(c.rate_by_run) if r in ceiling.rate_by_run],
        [ceiling.rate_by_run[r] for r in sorted(c.rate_by_run) if r in ceiling.rate_by_run],
    )
    if ratio.values:
        rep(
            f"collector rate / ceiling = {ratio.median * 100:.0f}% "
            + (
                f"(median of the per-run ratios, range {ratio.lo * 100:.0f}-{ratio.hi * 100:.0f}%)"
                if len(ratio.values) > 1
                else "(one run)"
            )
            + "; the blasters used "
            f"{med_range(c.blaster_cpu_us_per_record, 1, 2)} us CPU/record with the collector and "
            f"{med_range(ceiling.blaster_cpu_us_per_record, 1, 2)} with the sink "
            f"({os.cpu_count()} CPUs)."
        )
        rep()
    if c.rate.values:
        rep(
            f"Targets: >= 1,000,000 records/s: {fmt_rate(c.rate.median)} -> {mark(c.rate.median >= 1e6)}; "
            f"peak RSS <= 64 MiB: {c.hwm_mib.hi:.1f} MiB -> {mark(c.hwm_mib.hi <= 64)}"
        )
        rep()
    check_ingest([c, ceiling], failures)


def item3_batches(
    rep: Report, v1: ingest.IngestCase, c: ingest.IngestCase, ceiling: ingest.IngestCase, failures: list[str]
) -> None:
    rep("## 3b. Collector ingest, acknowledged path (wire v2 batches -> formatted rotating file, acknowledged)")
    rep()
    rep(
        "The same blaster processes in `--mode batch`: each hears the collector's announcement, sends its "
        "records in batches of 1,024 on a DEALER and is done when an acknowledgement covers its last record "
        "(so the rate includes writing, saving the watermarks and acknowledging). The ceiling row sends the "
        "same batches into `--sink --mode batch`, which only counts them and acknowledges. The v1 row above "
        "is the baseline, measured in the same session, interleaved."
    )
    rep()
    rep.table(INGEST_HEADER, ingest_rows([c, ceiling]))
    paired = [r for r in sorted(c.rate_by_run) if r in v1.rate_by_run]
    ratio = paired_ratio([c.rate_by_run[r] for r in paired], [v1.rate_by_run[r] for r in paired])
    if ratio.values:
        rep(f"acknowledged batches / v1 frames = {ratio.median:.2f}x (median of the per-run ratios)")
        rep()
    if c.rate.values:
        rep(
            f"Target: >= 1,500,000 records/s with batches: {fmt_rate(c.rate.median)} -> "
            f"{mark(c.rate.median >= 1.5e6)}"
        )
        rep()
    check_ingest([c, ceiling], failures)


def check_ingest(cases: list[ingest.IngestCase], failures: list[str]) -> None:
    for c in cases:
        if c.errors:
            failures.append(f"ingest {c.label}: {one_line(c.errors[0], 600)}")
        if any(x != 0 for x in c.lost):
            failures.append(f"ingest {c.label}: lost {c.lost}")


def item4_ingest(rep: Report, sizes: list[ingest.IngestCase], socks: list[ingest.IngestCase], failures) -> None:
    rep("## 4b. Growth: collector rate vs message size and vs number of sender sockets")
    rep()
    rep.table(["message size"] + INGEST_HEADER[1:], [[f"{c.msg_bytes:,} B"] + r[1:] for c, r in zip(sizes, ingest_rows(sizes))])
    rep.table(INGEST_HEADER, ingest_rows(socks))
    check_ingest(sizes + socks, failures)


def ingest_ratio(num: ingest.IngestCase, den: ingest.IngestCase) -> Sample:
    """Records/s of `num` over `den`, run by run (both measured in the same round)."""
    paired = [r for r in sorted(num.rate_by_run) if r in den.rate_by_run]
    return paired_ratio([num.rate_by_run[r] for r in paired], [den.rate_by_run[r] for r in paired])


def ratio_text(s: Sample) -> str:
    if not s.values:
        return "-"
    return f"x{s.median:.2f}" + (f" ({s.lo:.2f}-{s.hi:.2f})" if len(s.values) > 1 else "")


# --- item 6 -----------------------------------------------------------------------------------------


def item6(rep: Report, cases: list[ingest.IngestCase], failures: list[str]) -> None:
    rep("## 6. Forwarding into a real OpenTelemetry Collector (otlp sink) beside the file sinks")
    rep()
    rep(
        "The item 3 blasters in `--mode batch` (4 processes x 1 socket, 100 B messages) into a fresh collector "
        "per run with one sink: `otlp` (defaults: gzip, batches of 512 records or 200 ms) posting to the "
        "OpenTelemetry Collector of tools/otelcol (OTLP/HTTP receiver, file exporter writing OTLP JSON; it "
        "has no nop exporter), or a `jsonl` / `rotating_file` sink, interleaved. Records/s from the start "
        "signal until the last record is in the peer's file (or the sink's files); a record is "
        "acknowledged to its blaster only once the peer accepted it. CPU us/record = the logfunnel "
        "collector's utime+stime per record; peer CPU = the OpenTelemetry Collector's. Median (min-max)."
    )
    rep()
    rows = ingest_rows(cases)
    for c, r in zip(cases, rows):
        r.append(med_range(c.peer_cpu_us_per_record, 1, 2))
    rep.table(INGEST_HEADER + ["peer CPU us/record"], rows)
    fwd = cases[0]
    for base in cases[1:]:
        cpu = paired_ratio(fwd.cpu_us_per_record.values, base.cpu_us_per_record.values)
        rep(
            f"otlp against {base.label}: records/s {ratio_text(ingest_ratio(fwd, base))}, "
            f"collector CPU per record {ratio_text(cpu)} (per-run ratios, median (min-max))"
        )
    rep()
    check_ingest(cases, failures)


# --- item 7 -----------------------------------------------------------------------------------------


def item7(rep: Report, res: curve.CurveResult, e2e_records: int, failures: list[str]) -> None:
    rep("## 7. CURVE against plaintext (loopback, same run, interleaved)")
    rep()
    rep("### 7a. Python per call: `logger.info(\"record %d\", i)`")
    rep()
    if res.percall is None:
        failures.append(f"item 7a: {one_line(res.percall_error, 600)}")
        rep(f"FAILED\n\n```\n{res.percall_error}\n```\n")
    else:
        pc, cpu = res.percall["percall"], res.percall["percall_cpu"]
        rep(f"{res.percall['calls']:,} timed calls per run, {res.percall['runs']} interleaved runs; us per call, median (min-max).")
        rep()
        rep.table(
            ["handler", "wall per call (us)", "process CPU per call (us)"],
            [[LABELS_1[h], med_range(Sample(pc[h]), 1e6), med_range(Sample(cpu[h]), 1e6)] for h in pc],
        )
        rep(
            f"CURVE / plaintext: wall per call {ratio_text(paired_ratio(pc['logfunnel-curve'], pc['logfunnel']))}, "
            f"process CPU per call {ratio_text(paired_ratio(cpu['logfunnel-curve'], cpu['logfunnel']))}"
        )
        rep()
        for key in ("logfunnel_stats", "logfunnel_curve_stats"):
            st = res.percall.get(key) or {}
            dropped = sum(v for k, v in st.items() if k.startswith("dropped") and isinstance(v, int))
            if dropped:
                failures.append(f"item 7a: {key} dropped {dropped} records")
    rep(f"### 7b. End to end: {curve.E2E_PROCS} processes x {e2e_records:,} records into one rotating file")
    rep()
    labels = {**e2e.LABELS, **e2e.CURVE_LABELS}
    rows = []
    for a in curve.E2E_APPROACHES:
        c = res.e2e[(a, curve.E2E_PROCS)]
        err = f" ERROR: {one_line(c.errors[0])}" if c.errors else ""
        rows.append([labels[a] + err, med_range(c.wall, 1, 3), fmt_rate(c.rate.median), ",".join(map(str, c.lost)) or "-"])
        if c.errors:
            failures.append(f"item 7b: {a}: {one_line(c.errors[0], 600)}")
        if any(x != 0 for x in c.lost):
            failures.append(f"item 7b: {a} lost {c.lost}")
    rep.table(["approach", "wall s", "records/s", "lost (per run)"], rows)
    plain, sec = (res.e2e[(a, curve.E2E_PROCS)] for a in curve.E2E_APPROACHES)
    rep(f"CURVE / plaintext records/s: {ratio_text(paired_ratio(sec.rate.values, plain.rate.values))} (per-run ratios)")
    rep()
    rep("### 7c. Collector ingest (item 3's blasters; CURVE on the SUB and the ack ROUTER alike)")
    rep()
    cases = [c for pair in res.ingest for c in pair]
    rep.table(INGEST_HEADER, ingest_rows(cases))
    for plain_c, sec_c in res.ingest:
        cpu = paired_ratio(sec_c.cpu_us_per_record.values, plain_c.cpu_us_per_record.values)
        rep(
            f"{sec_c.label} / plaintext: records/s {ratio_text(ingest_ratio(sec_c, plain_c))}, "
            f"collector CPU per record {ratio_text(cpu)}"
        )
    rep()
    check_ingest(cases, failures)


# --- item 5 -----------------------------------------------------------------------------------------


def item5(rep: Report, smoke: bool, failures: list[str]) -> None:
    rep("## 5. C and Java")
    rep()
    found = False
    # Each runner's own interface: bench/c/run.sh [CALLS_PER_VARIANT] [LONG_RUN_CALLS];
    # bench/java/run.sh [--quick].
    quick_args = {"c": ["2000", "20000"], "java": ["--quick"]}
    for lang in ("c", "java"):
        runner = BENCH_DIR / lang / "run.sh"
        if not runner.exists():
            rep(f"- {lang}: bench/{lang}/run.sh not present yet.")
            continue
        found = True
        cmd = ["bash", str(runner)] + (quick_args[lang] if smoke else [])
        progress(f"  running {' '.join(cmd)}")
        try:
            res = subprocess.run(cmd, capture_output=True, text=True, timeout=1800, cwd=BENCH_DIR.parent)
            out = res.stdout.strip()
            if res.returncode != 0:
                failures.append(f"item 5 {lang}: exit {res.returncode}: {res.stderr[-500:]}")
                out += f"\n(exit code {res.returncode})\n{res.stderr[-1500:]}"
        except subprocess.TimeoutExpired:
            out = "(timed out)"
            failures.append(f"item 5 {lang}: timed out")
        rep(f"### {lang} (`bench/{lang}/run.sh{' ' + ' '.join(cmd[2:]) if cmd[2:] else ''}`)")
        rep()
        rep("```")
        for line in summary_of(lang, out).splitlines():
            rep(line)
        rep("```")
        rep()
    if not found:
        rep()


def summary_of(lang: str, out: str) -> str:
    """The runner's own summary (its per-round and JMH detail stays in its full output)."""
    lines = out.splitlines()
    if lang == "c":
        at = next((i for i, l in enumerate(lines) if "median of rounds" in l), None)
        if at is not None:
            return "\n".join(lines[:2] + [""] + lines[at:])
    if lang == "java":
        at = next((i for i, l in enumerate(lines) if l.startswith("Logback call cost")), None)
        if at is not None:
            return "\n".join(lines[at:])
    return out


# --- driver -----------------------------------------------------------------------------------------


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--smoke", action="store_true", help="tiny N, every item, < 60 s; writes no RESULTS.md")
    ap.add_argument("--runs", type=int, help="runs per figure (default 5 for item 1, 3 otherwise; smoke 1)")
    ap.add_argument("--items", default="1,2,3,4,5,6,7", help="comma-separated item numbers to run")
    ap.add_argument("--records", type=int, help="item 2: records per process (default 100000)")
    ap.add_argument("--results", default=str(BENCH_DIR / "RESULTS.md"), help="where to write the results")
    ap.add_argument("--command", default="bench/run.sh", help="the command line recorded in RESULTS.md")
    args = ap.parse_args()
    items = {int(x) for x in args.items.split(",") if x}
    smoke = args.smoke

    if smoke:
        runs1 = runs = args.runs or 1
        calls, size_calls, sizes = 2_000, 500, "100,1024,16384"
        e2e_records, e2e_quiet, e2e_max_bytes, e2e_grace = args.records or 1_000, 0.5, 64 << 10, 0.1
        ingest_records, ingest_quiet = 20_000, 1.0
        otlp_records = 4_000
    else:
        runs1 = args.runs or 5
        runs = args.runs or 3
        calls, size_calls, sizes = 200_000, 50_000, "100,1024,16384"
        e2e_records, e2e_quiet, e2e_max_bytes, e2e_grace = args.records or 100_000, 3.0, 16 << 20, 0.3
        ingest_records, ingest_quiet = 2_000_000, 3.0
        otlp_records = 400_000  # about 300 MB of the peer's JSON per run

    rep = Report()
    m = machine()
    started = dt.datetime.now().astimezone()
    rep(f"# logfunnel benchmarks{' (smoke run: tiny N, not for quoting)' if smoke else ''}")
    rep()
    rep(f"- command: `{args.command}`")
    rep(f"- date: {started.strftime('%Y-%m-%d %H:%M %Z')}")
    rep(f"- machine: {m['nproc']} CPUs, {m['cpu']}, {m['mem_gib']} GiB RAM, Linux {m['kernel']}, Python {m['python']}")
    rep(f"- load average at start: {' '.join(f'{x:.2f}' for x in m['load'])}")
    try:
        rev = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=BENCH_DIR).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], capture_output=True, text=True, cwd=BENCH_DIR.parent).stdout.strip()
        rep(f"- commit: {rev}{' (with uncommitted changes)' if dirty else ''}")
    except OSError:
        pass
    rep()
    failures: list[str] = []
    t_start = time.monotonic()

    if 1 in items or 4 in items:
        progress("item 1/4a: per-call cost ...")
        pc, error = percall.spawn(
            calls, runs1, sizes=sizes if 4 in items else "", size_calls=size_calls
        )
        if pc is None:
            failures.append(f"item 1: {error[:1500]}")
            rep(f"## 1. Python per-call cost: FAILED\n\n```\n{error}\n```\n")
        else:
            if 1 in items:
                item1(rep, pc, failures)
            if 4 in items:
                item4_percall(rep, pc)

    if 2 in items:
        progress("item 2: end to end ...")
        cases = e2e.run(
            list(e2e.LABELS),
            [1, 4, 8],
            e2e_records,
            runs,
            quiet=e2e_quiet,
            max_bytes=e2e_max_bytes,
            backup_count=1000,
            grace=e2e_grace,
            progress=progress,
        )
        item2(rep, cases, e2e_records, failures)

    if 3 in items:
        progress("item 3: collector ingest ...")
        main_case = ingest.IngestCase("4 processes x 1 socket, 100 B messages", 4, 1, 100, ingest_records)
        ceiling = ingest.IngestCase(
            "ceiling: the same blasters -> count-only sink", 4, 1, 100, ingest_records, sink=True
        )
        batched = ingest.IngestCase(
            "4 processes x 1 socket, acknowledged batches of 1,024", 4, 1, 100, ingest_records, mode="batch"
        )
        batch_ceiling = ingest.IngestCase(
            "ceiling: the same batch blasters -> count-and-ack sink", 4, 1, 100, ingest_records, mode="batch", sink=True
        )
        ingest.run([main_case, ceiling, batched, batch_ceiling], runs, quiet=ingest_quiet, progress=progress)
        item3(rep, main_case, ceiling, failures)
        item3_batches(rep, main_case, batched, batch_ceiling, failures)

    if 4 in items:
        progress("item 4b: collector growth ...")
        budget = 256 << 20  # bytes of messages per run, so a 16 KiB run stays a sensible size
        sizes_cases = [
            ingest.IngestCase(f"4 x 1, {s:,} B", 4, 1, s, max(4, min(ingest_records, budget // s) // 4 * 4))
            for s in (100, 1024, 16384)
        ]
        sock_records = ingest_records // 2
        sock_cases = [
            ingest.IngestCase("1 socket (1 process)", 1, 1, 100, sock_records),
            ingest.IngestCase("16 sockets (4 processes x 4)", 4, 4, 100, sock_records),
            ingest.IngestCase("64 sockets (4 processes x 16)", 4, 16, 100, sock_records),
        ]
        if smoke:
            for c in sizes_cases:
                c.records = min(c.records, 5_000)
        ingest.run(sizes_cases + sock_cases, runs, quiet=ingest_quiet, progress=progress)
        item4_ingest(rep, sizes_cases, sock_cases, failures)

    if 5 in items:
        item5(rep, smoke, failures)

    if 6 in items:
        progress("item 6: forwarding over OTLP ...")
        item6(rep, otlp.run(otlp_records, runs, quiet=ingest_quiet, progress=progress), failures)

    if 7 in items:
        progress("item 7: CURVE against plaintext ...")
        with tempfile.TemporaryDirectory(prefix="lf-bench-curve-", dir=os.environ.get("LF_BENCH_TMP")) as d:
            res = curve.run(
                Path(d),
                calls=calls,
                runs_percall=runs1,
                e2e_records=e2e_records,
                e2e_opts=dict(quiet=e2e_quiet, max_bytes=e2e_max_bytes, backup_count=1000, grace=e2e_grace),
                ingest_records=ingest_records,
                runs=runs,
                ingest_quiet=ingest_quiet,
                progress=progress,
            )
        item7(rep, res, e2e_records, failures)

    rep(
        f"Total benchmark time: {time.monotonic() - t_start:.0f} s; load average at the end: "
        + " ".join(f"{x:.2f}" for x in os.getloadavg())
        + " (other work on this 2-CPU machine during the run shows up as spread)."
    )
    rep()
    if failures:
        rep("## Failures")
        rep()
        for f in failures:
            rep(f"- {f}")
        rep()

    if not smoke:
        path = Path(args.results)
        kept = ""
        if path.exists():
            old = path.read_text()
            if NOTES_MARK in old:
                kept = old.split(NOTES_MARK, 1)[1]
        path.write_text("\n".join(rep.lines) + "\n" + NOTES_MARK + (kept or "\n"))
        progress(f"wrote {path}")
    if failures:
        progress(f"{len(failures)} failure(s)")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
