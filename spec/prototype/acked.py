"""Protocol illustration (spec/delivery.md): discovery by subscription topic, v2 batches on a DEALER,
cumulative acks from the collector's ROUTER, resend after a real collector-process SIGKILL + restart.

    python acked.py [records] [kills]      # default 100000 records, 3 kills

The parent is the sender; the collector is a child process, SIGKILLed and restarted `kills` times while
the sender runs. The collector appends each record as a line to out.log, keeps sid -> watermark in
state.json (write tmp + rename) and acks only after the state is saved. At the end the parent checks
the file: every seq present, how many written twice. Not production code: one sender, no fsync.
"""
import json, os, signal, struct, subprocess, sys, time
import zmq

SUB_EP, ACK_PORT = "tcp://127.0.0.1:25555", 25556
MAGIC = b"\xffLF\x02"
BURST = int(os.environ.get("BURST", "64"))  # batches written per commit: the duplicate bound
HEAD = struct.Struct(">QQQI")  # acked, base, first, count (after magic, kind, flags, sid)


def batch(sid, acked, base, first, records):
    out = [MAGIC, b"B\x00", bytes([len(sid)]), sid, HEAD.pack(acked, base, first, len(records))]
    for r in records:
        out += [struct.pack(">I", len(r)), r]
    return b"".join(out)


def parse_batch(m):
    assert m[:5] == MAGIC + b"B", m[:5]
    n = m[6]; sid = m[7:7 + n]; at = 7 + n
    acked, base, first, count = HEAD.unpack_from(m, at); at += HEAD.size
    recs = []
    for _ in range(count):
        (ln,) = struct.unpack_from(">I", m, at); recs.append(m[at + 4:at + 4 + ln]); at += 4 + ln
    return sid, acked, base, first, recs


def ack(sid, watermark, resend):
    return MAGIC + b"A" + bytes([resend]) + bytes([len(sid)]) + sid + struct.pack(">Q", watermark)


def collector(inc):
    ctx = zmq.Context()
    state = json.load(open("state.json")) if os.path.exists("state.json") else {}
    sub = ctx.socket(zmq.SUB); sub.bind(SUB_EP)
    sub.setsockopt(zmq.SUBSCRIBE, b"")
    sub.setsockopt(zmq.SUBSCRIBE, f"\xffLF2 ack=:{ACK_PORT} inc={inc}".encode("latin-1"))
    router = ctx.socket(zmq.ROUTER); router.bind(f"tcp://127.0.0.1:{ACK_PORT}")
    out = open("out.log", "ab")
    accepted = dict(state)            # sid -> next seq to admit
    nacked, due = set(), {}           # sid -> (routing id, resend flag)
    poller = zmq.Poller(); poller.register(sub, zmq.POLLIN); poller.register(router, zmq.POLLIN)
    while True:
        ready = dict(poller.poll(10))
        if sub in ready:
            sub.recv()                # v1 traffic: not used by this sender
        for _ in range(BURST):        # a burst of batches, then commit
            try:
                rid, m = router.recv_multipart(zmq.DONTWAIT)
            except zmq.Again:
                break
            sid, f_acked, base, first, recs = parse_batch(m)
            key = sid.decode()
            w = max(accepted.get(key, 0), f_acked)
            if base > w:              # an earlier batch was lost in flight: ask once for a resend
                if key not in nacked:
                    nacked.add(key); due[key] = (rid, 1)
                continue
            nacked.discard(key)
            skip = max(0, w - first)
            out.write(b"".join(r + b"\n" for r in recs[skip:]))
            accepted[key] = max(w, first + len(recs))
            due[key] = (rid, due.get(key, (rid, 0))[1])
        if due:
            out.flush()               # handed to the OS: what the ack promises (no fsync policy here)
            with open("state.json.tmp", "w") as f:
                json.dump(accepted, f)
            os.replace("state.json.tmp", "state.json")
            for key, (rid, resend) in due.items():
                router.send_multipart([rid, ack(key.encode(), accepted.get(key, 0), resend)])
            due.clear()


def sender(total, kills):
    for f in ("out.log", "state.json"):
        if os.path.exists(f):
            os.remove(f)
    ctx = zmq.Context()
    xpub = ctx.socket(zmq.XPUB); xpub.connect(SUB_EP)
    dealer = None
    sid, inc = b"proto-sender", None
    acked, cursor, next_seq = 0, 0, 0      # everything < acked is acknowledged; resend from cursor
    records = {}                           # seq -> body, kept until acked
    stats = {"resends": 0, "nacks": 0, "sent_batches": 0}
    child = subprocess.Popen([sys.executable, __file__, "collector", "1"])
    kill_every, last_kill, incs = total // (kills + 1), 0, 1
    last_progress = time.time()
    while acked < total:
        while xpub.poll(0):                # discovery: \x01 + announcement topic
            m = xpub.recv()
            if m.startswith(b"\x01\xffLF2 "):
                fields = dict(kv.split("=") for kv in m[6:].decode().split())
                if fields["inc"] != inc:
                    if dealer is None:
                        dealer = ctx.socket(zmq.DEALER); dealer.setsockopt(zmq.LINGER, 0)
                        dealer.connect("tcp://127.0.0.1" + fields["ack"])   # host of SUB_EP, port announced
                    elif inc is not None:
                        cursor = acked; stats["resends"] += 1   # a new collector: resend the unacked
                    inc = fields["inc"]
        while next_seq < total and len(records) < 20000:   # the application logs (bounded window)
            records[next_seq] = json.dumps({"v": 1, "name": "p", "msg": f"m{next_seq}", "levelno": 20,
                                            "created": 0.0, "sid": sid.decode(), "seq": next_seq}).encode()
            next_seq += 1
        if dealer is not None:
            while cursor < next_seq:
                n = min(256, next_seq - cursor)
                frame = batch(sid, acked, cursor, cursor, [records[s] for s in range(cursor, cursor + n)])
                try:
                    dealer.send(frame, zmq.DONTWAIT)
                except zmq.Again:
                    break
                cursor += n; stats["sent_batches"] += 1
            if dealer.poll(5):
                while True:
                    try:
                        m = dealer.recv(zmq.DONTWAIT)
                    except zmq.Again:
                        break
                    (w,) = struct.unpack(">Q", m[-8:])
                    for s in range(acked, min(w, next_seq)):
                        records.pop(s, None)
                    if w > acked:
                        acked, last_progress = w, time.time()
                    if m[5] == 1:          # the collector asks for a resend from w
                        cursor = max(acked, w); stats["nacks"] += 1
                    cursor = max(cursor, acked)
            if cursor > acked and time.time() - last_progress > 1.0:   # ack timeout
                cursor = acked; stats["resends"] += 1; last_progress = time.time()
        else:
            time.sleep(0.005)
        if incs <= kills and acked - last_kill >= kill_every:
            child.send_signal(signal.SIGKILL); child.wait()
            time.sleep(0.5)                 # down for half a second, as in the measurement
            incs += 1; last_kill = acked
            child = subprocess.Popen([sys.executable, __file__, "collector", str(incs)])
    child.send_signal(signal.SIGKILL); child.wait()
    seqs = [json.loads(l)["seq"] for l in open("out.log", "rb")]
    uniq = set(seqs)
    print(f"records {total}, collector SIGKILLs {kills}: in file {len(seqs)}, distinct {len(uniq)}, "
          f"missing {total - len(uniq)}, written twice {len(seqs) - len(uniq)}, "
          f"batches sent {stats['sent_batches']}, nacks {stats['nacks']}, resends {stats['resends']}")


if __name__ == "__main__":
    if sys.argv[1:2] == ["collector"]:
        collector(sys.argv[2])
    else:
        sender(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000, int(sys.argv[2]) if len(sys.argv) > 2 else 3)
