"""Checks, with real libzmq (pyzmq) and a real collector process, how a sender can learn that the
collector speaks v2 and where its ack ROUTER is. Run: python discovery.py (prints one line per check).

The "collector" here is a child process with a SUB that subscribes to "" and to an announcement topic
(or, for the comparison, an XSUB that sends the announcement upstream as a user message).
"""
import os, signal, subprocess, sys, time
import zmq

PORT = int(os.environ.get("PORT", "25555"))
EP = f"tcp://127.0.0.1:{PORT}"


def collector(kind, inc):
    """Child: announce with `kind` ('topic' or 'upstream'), keep calling into the socket."""
    ctx = zmq.Context()
    topic = b"\xffLF2 ack=:25556 inc=" + inc.encode()
    if kind == "topic":
        s = ctx.socket(zmq.SUB)
        s.bind(EP)
        s.setsockopt(zmq.SUBSCRIBE, b"")
        s.setsockopt(zmq.SUBSCRIBE, topic)
        while True:
            if s.poll(50):
                s.recv()
    else:  # upstream: an XSUB sends the announcement once a second to whoever is connected then
        s = ctx.socket(zmq.XSUB)
        s.bind(EP)
        s.send(b"\x01")
        s.send(topic)
        while True:
            if s.poll(1000):
                s.recv()
            else:
                s.send(topic)  # again, for whoever connected since


def start(kind, inc):
    return subprocess.Popen([sys.executable, __file__, "child", kind, inc])


def heard(sock, seconds):
    """Messages an XPUB receives within `seconds`, each with its delay in ms."""
    out, start = [], time.time()
    while time.time() < start + seconds:
        if sock.poll(20):
            out.append((sock.recv(), round((time.time() - start) * 1000)))
    return out


def xpub(ctx, verboser=False):
    s = ctx.socket(zmq.XPUB)
    if verboser:
        s.setsockopt(zmq.XPUB_VERBOSER, 1)
    s.connect(EP)
    return s


def main():
    ctx = zmq.Context()
    for kind in ("topic", "upstream"):
        # 1. Sender connected before the collector starts.
        early = xpub(ctx)
        c = start(kind, "1111")
        got = heard(early, 1.5)
        print(f"{kind}: sender connected before collector start heard {got}")
        # 2. Sender connecting later.
        time.sleep(0.2)
        late = xpub(ctx)
        got = heard(late, 1.5)
        print(f"{kind}: sender connected 1.2 s after collector start heard {got}")
        # 3. Collector SIGKILLed and restarted with a new incarnation.
        c.send_signal(signal.SIGKILL); c.wait()
        verbose = xpub(ctx, verboser=True)
        heard(verbose, 0.05)
        time.sleep(0.5)
        c = start(kind, "2222")
        for name, s in (("default XPUB", early), ("XPUB_VERBOSER", verbose)):
            print(f"{kind}: after restart, {name} heard {heard(s, 1.5)}")
        c.send_signal(signal.SIGKILL); c.wait()
        # 4. Restart with the SAME topic (no incarnation in it): default XPUB filters the duplicate.
        c = start(kind, "2222")
        print(f"{kind}: restart with the same topic, default XPUB heard {heard(early, 1.5)}")
        c.send_signal(signal.SIGKILL); c.wait()
        for s in (early, late, verbose):
            s.close(0)
    # 5. The cookbook sender (plain PUB, send_json) into a collector SUB with the extra subscription.
    sub = ctx.socket(zmq.SUB)
    sub.bind(EP)
    sub.setsockopt(zmq.SUBSCRIBE, b"")
    sub.setsockopt(zmq.SUBSCRIBE, b"\xffLF2 ack=:25556 inc=3333")
    pub = ctx.socket(zmq.PUB)
    pub.connect(EP)
    deadline = time.time() + 2
    sent = 0
    while time.time() < deadline and sub.poll(0) == 0:  # slow joiner: send until the first arrives
        pub.send_json({"msg": "probe", "levelno": 20}); sent += 1; time.sleep(0.001)
    n = 0
    for i in range(1000):
        pub.send_json({"msg": f"m{i}", "levelno": 20, "name": "app"})
    end = time.time() + 2
    while time.time() < end:
        if sub.poll(50):
            if sub.recv_json()["msg"].startswith("m"):
                n += 1
    print(f"cookbook PUB -> SUB with announcement subscription: {n} of 1000 arrived")
    pub.close(0); sub.close(0)
    ctx.term()


if __name__ == "__main__":
    if sys.argv[1:2] == ["child"]:
        collector(sys.argv[2], sys.argv[3])
    else:
        main()
