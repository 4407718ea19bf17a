"""Writes batch.json: v2 batch and ack frames (wire-format.md section 8) with their expected outcome.

Run: python3 spec/vectors/gen_batch.py. The expectations are written by hand below; this script only
assembles the bytes, so a reader can check each case against the spec without running anything.
"""
import json, os, struct

MAGIC = "ff4c4602"


def rec(sid, seq, msg="m"):
    return json.dumps({"v": 1, "name": "app", "msg": msg, "args": None, "levelno": 20,
                       "created": 1764600000.5, "sid": sid, "seq": seq}, separators=(",", ":"),
                      ensure_ascii=False)


def head(sid, acked, base, first, count, kind="42", flags="00", magic=MAGIC):
    sid_b = sid.encode()
    return magic + kind + flags + f"{len(sid_b):02x}" + sid_b.hex() + \
        struct.pack(">QQQI", acked, base, first, count).hex()


def body(records):
    pieces = []
    for r in records:
        pieces += [{"hex": struct.pack(">I", len(r.encode())).hex()}, {"text": r}]
    return pieces


def batch_case(name, why, pieces, expect):
    return {"name": name, "why": why, "frame": {"concat": pieces}, "expect": expect}


def ok(sid, acked, base, first, records):
    return {"batch": {"sid": sid, "acked_seq": acked, "base_seq": base, "first_seq": first,
                      "records": [{"seq": first + i, "text": r} for i, r in enumerate(records)]}}


r0, r1, r2 = rec("s1", 0), rec("s1", 1, "two"), rec("s1", 2, "日本語 ✓")
batches = [
    batch_case("one_record", "a lone record is a batch of one (sent at once when idle)",
               [{"hex": head("s1", 0, 0, 0, 1)}] + body([r0]), ok("s1", 0, 0, 0, [r0])),
    batch_case("three_records", "records are v1 frames byte for byte, seq = first_seq + i",
               [{"hex": head("s1", 0, 0, 0, 3)}] + body([r0, r1, r2]), ok("s1", 0, 0, 0, [r0, r1, r2])),
    batch_case("sender_dropped_before", "base_seq < first_seq: seqs 5..6 were dropped by the sender",
               [{"hex": head("s1", 3, 5, 7, 1)}] + body([rec("s1", 7)]), ok("s1", 3, 5, 7, [rec("s1", 7)])),
    batch_case("resend_after_ack", "a resend: acked_seq = base_seq = first_seq",
               [{"hex": head("s1", 2, 2, 2, 1)}] + body([r2]), ok("s1", 2, 2, 2, [r2])),
    batch_case("last_seq_is_max", "the last record may have seq 2^64-1",
               [{"hex": head("s1", 0, 0, 2**64 - 1, 1)}] + body([rec("s1", 2**64 - 1)]),
               ok("s1", 0, 0, 2**64 - 1, [rec("s1", 2**64 - 1)])),
    batch_case("max_sid", "a sid of 255 bytes fits the one-byte length",
               [{"hex": head("x" * 255, 0, 0, 0, 1)}] + body([rec("x" * 255, 0)]),
               ok("x" * 255, 0, 0, 0, [rec("x" * 255, 0)])),
    batch_case("record_bytes_not_checked", "the batch decoder does not parse records: the v1 decoder does, per record",
               [{"hex": head("s1", 0, 0, 0, 1) + "00000001"}, {"text": "x"}],
               ok("s1", 0, 0, 0, ["x"])),
    # Errors, in the order the decoder checks them.
    batch_case("err_oversized", "larger than max_batch_bytes: refused before anything is read",
               [{"hex": head("s1", 0, 0, 0, 1) + "00400000"}, {"repeat": "a", "count": 4194304}],
               {"error": "oversized"}),
    batch_case("err_v1_frame", "a v1 JSON frame is not a batch", [{"text": r0}], {"error": "bad_magic"}),
    batch_case("err_empty_message", "zero bytes", [{"hex": ""}], {"error": "truncated"}),
    batch_case("err_magic_prefix_only", "a message that is the start of the magic", [{"hex": "ff4c"}],
               {"error": "truncated"}),
    batch_case("err_version_1", "version byte 1", [{"hex": head("s1", 0, 0, 0, 1, magic="ff4c4601")}] + body([r0]),
               {"error": "unsupported_version"}),
    batch_case("err_version_3", "a later version is refused, not guessed at",
               [{"hex": head("s1", 0, 0, 0, 1, magic="ff4c4603")}] + body([r0]), {"error": "unsupported_version"}),
    batch_case("err_ack_as_batch", "an ack frame where a batch is expected",
               [{"hex": MAGIC + "41" + "00" + "02" + b"s1".hex() + "0000000000000001"}], {"error": "wrong_kind"}),
    batch_case("err_flags", "batch flags are all reserved", [{"hex": head("s1", 0, 0, 0, 1, flags="01")}] + body([r0]),
               {"error": "bad_flags"}),
    batch_case("err_empty_sid", "sid of zero bytes", [{"hex": head("", 0, 0, 0, 1)}] + body([r0]), {"error": "bad_sid"}),
    batch_case("err_sid_not_utf8", "sid bytes are not UTF-8",
               [{"hex": MAGIC + "4200" + "02" + "c328" + struct.pack(">QQQI", 0, 0, 0, 1).hex()}] + body([r0]),
               {"error": "bad_sid"}),
    batch_case("err_sid_cut", "the frame ends inside the sid", [{"hex": MAGIC + "4200" + "05" + b"s1".hex()}],
               {"error": "truncated"}),
    batch_case("err_header_cut", "the frame ends inside first_seq",
               [{"hex": head("s1", 0, 0, 0, 1)[:-16]}], {"error": "truncated"}),
    batch_case("err_count_zero", "a batch without records", [{"hex": head("s1", 0, 0, 0, 0)}], {"error": "empty_batch"}),
    batch_case("err_acked_above_base", "acked_seq > base_seq", [{"hex": head("s1", 5, 4, 4, 1)}] + body([r0]),
               {"error": "bad_seq_range"}),
    batch_case("err_base_above_first", "base_seq > first_seq", [{"hex": head("s1", 0, 5, 4, 1)}] + body([r0]),
               {"error": "bad_seq_range"}),
    batch_case("err_seq_overflow", "first_seq + count - 1 passes 2^64-1",
               [{"hex": head("s1", 0, 0, 2**64 - 1, 2)}] + body([r0, r1]), {"error": "bad_seq_range"}),
    batch_case("err_fewer_records", "count says 2, one record follows", [{"hex": head("s1", 0, 0, 0, 2)}] + body([r0]),
               {"error": "truncated"}),
    batch_case("err_record_cut", "a record shorter than its length",
               [{"hex": head("s1", 0, 0, 0, 1) + "00000010"}, {"text": "{\"v\":1}"}], {"error": "truncated"}),
    batch_case("err_huge_count", "a count far beyond the bytes present fails without allocating for it",
               [{"hex": head("s1", 0, 0, 0, 0xFFFFFFFF)}] + body([r0]), {"error": "truncated"}),
    batch_case("err_empty_record", "a record of zero bytes", [{"hex": head("s1", 0, 0, 0, 1) + "00000000"}],
               {"error": "empty_record"}),
    batch_case("err_oversized_record", "a record over max_record_bytes (checked on its length, before its bytes)",
               [{"hex": head("s1", 0, 0, 0, 1) + "00100001"}], {"error": "oversized_record"}),
    batch_case("err_trailing", "bytes after the last record",
               [{"hex": head("s1", 0, 0, 0, 1)}] + body([r0]) + [{"hex": "00"}], {"error": "trailing_bytes"}),
]


def ack_case(name, why, hexstr, expect):
    return {"name": name, "why": why, "frame": {"hex": hexstr}, "expect": expect}


acks = [
    ack_case("ack", "watermark 1000: every seq below 1000 is done",
             MAGIC + "41" + "00" + "02" + b"s1".hex() + struct.pack(">Q", 1000).hex(),
             {"ack": {"sid": "s1", "watermark": 1000, "resend": False}}),
    ack_case("ack_resend", "flag bit 0: a batch above the watermark was refused, resend from it",
             MAGIC + "41" + "01" + "02" + b"s1".hex() + struct.pack(">Q", 7).hex(),
             {"ack": {"sid": "s1", "watermark": 7, "resend": True}}),
    ack_case("err_ack_flags", "flag bits other than 0 are reserved",
             MAGIC + "41" + "02" + "02" + b"s1".hex() + struct.pack(">Q", 7).hex(), {"error": "bad_flags"}),
    ack_case("err_ack_cut", "watermark cut short", MAGIC + "41" + "00" + "02" + b"s1".hex() + "0000", {"error": "truncated"}),
    ack_case("err_ack_trailing", "a byte after the watermark",
             MAGIC + "41" + "00" + "02" + b"s1".hex() + struct.pack(">Q", 7).hex() + "00", {"error": "trailing_bytes"}),
    ack_case("err_batch_as_ack", "a batch where an ack is expected", head("s1", 0, 0, 0, 1), {"error": "wrong_kind"}),
]


def ann(name, why, topic_hex, expect, connected=None):
    c = {"name": name, "why": why, "xpub_message": {"hex": topic_hex}, "expect": expect}
    if connected:
        c["connected"] = connected
    return c


def sub(text):
    return "01" + "ff" + text.encode().hex()


announcements = [
    ann("same_host", "tcp://*:PORT: the host the sender connected to, the announced port",
        sub("LF2 ack=tcp://*:5556 inc=9f3a61c0d24e8b17"),
        {"incarnation": "9f3a61c0d24e8b17", "ack_endpoint": "tcp://10.0.0.2:5556"}, "tcp://10.0.0.2:5555"),
    ann("same_host_source_address", "a source address before `;` is not the peer",
        sub("LF2 ack=tcp://*:5556 inc=0000000000000001"),
        {"incarnation": "0000000000000001", "ack_endpoint": "tcp://collector.example:5556"},
        "tcp://eth0;collector.example:5555"),
    ann("ipc", "an ipc collector names its ROUTER's path", sub("LF2 ack=ipc:///run/lf.sock.ack inc=00000000000000ff"),
        {"incarnation": "00000000000000ff", "ack_endpoint": "ipc:///run/lf.sock.ack"}, "ipc:///run/lf.sock"),
    ann("unknown_keys", "later versions may add keys; they are ignored",
        sub("LF2 inc=0000000000000002 future=1 ack=tcp://10.1.1.1:7000"),
        {"incarnation": "0000000000000002", "ack_endpoint": "tcp://10.1.1.1:7000"}, "tcp://10.0.0.2:5555"),
    ann("plain_subscription", "the collector's subscription to everything: no announcement", "01",
        {"none": True}),
    ann("unsubscription", "0x00 + topic is an unsubscription, not an announcement",
        "00ff" + "LF2 ack=tcp://*:5556 inc=9f3a61c0d24e8b17".encode().hex(), {"none": True}),
    ann("err_no_inc", "inc is required", sub("LF2 ack=tcp://*:5556"), {"error": "missing"}),
    ann("err_bad_port", "port 0 cannot be connected to", sub("LF2 ack=tcp://*:0 inc=9f3a61c0d24e8b17"),
        {"error": "malformed"}),
    ann("err_short_inc", "inc is exactly 16 hex digits", sub("LF2 ack=tcp://*:5556 inc=9f3a"), {"error": "malformed"}),
    ann("err_same_host_over_ipc", "tcp://*:PORT cannot be resolved against an ipc endpoint",
        sub("LF2 ack=tcp://*:5556 inc=9f3a61c0d24e8b17"), {"error": "no_host"}, "ipc:///run/lf.sock"),
]

out = {
    "about": "v2 frames (spec/wire-format.md section 8) and the collector's announcement (section 8.1). "
             "frame / xpub_message: pieces as in decode.json (text, hex with spaces allowed, repeat+count, concat). "
             "batches: decode with `limits`; expect {batch: {sid, acked_seq, base_seq, first_seq, records: [{seq, text}]}} "
             "or {error: reason}. acks: expect {ack: {sid, watermark, resend}} or {error}. announcements: the message an "
             "XPUB received; expect {none: true} (not an announcement), {incarnation (16 hex), ack_endpoint (resolved "
             "against `connected`)} or {error: malformed | missing | no_host}.",
    "limits": {"max_batch_bytes": 4194304, "max_record_bytes": 1048576},
    "batches": batches,
    "acks": acks,
    "announcements": announcements,
}
path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "batch.json")
with open(path, "w", encoding="utf-8") as f:
    json.dump(out, f, ensure_ascii=False, indent=1)
    f.write("\n")
print(f"wrote {path}: {len(batches)} batches, {len(acks)} acks, {len(announcements)} announcements")
