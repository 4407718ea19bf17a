"""A CURVE client written with pyzmq (its own libzmq and libsodium): the independent peer of
collector/tests/curve_pyzmq.rs.

    pyzmq_curve_client.py ENDPOINT SERVER_PUBLIC_Z85 ALLOW_DIR|- MESSAGE

Generates its own keypair with pyzmq; when ALLOW_DIR is given, writes the public key there as
`pyzmq.key`. Prints "ready", waits for a line on stdin, then connects, sends MESSAGE and prints
the first handshake outcome its socket monitor reports: "succeeded" or "failed-auth" (or
"failed-<event number>").
"""

import os
import sys

import zmq
from zmq.utils.monitor import recv_monitor_message

endpoint, server_public, allow_dir, message = sys.argv[1:5]
assert zmq.has("curve"), "this pyzmq has no CURVE"
public, secret = zmq.curve_keypair()
if allow_dir != "-":
    with open(os.path.join(allow_dir, "pyzmq.key"), "wb") as key_file:
        key_file.write(public + b"\n")
print("ready", flush=True)
sys.stdin.readline()

context = zmq.Context()
sock = context.socket(zmq.PUSH)
sock.linger = 0
sock.curve_serverkey = server_public.encode()
sock.curve_publickey = public
sock.curve_secretkey = secret
monitor = sock.get_monitor_socket(
    zmq.EVENT_HANDSHAKE_SUCCEEDED
    | zmq.EVENT_HANDSHAKE_FAILED_AUTH
    | zmq.EVENT_HANDSHAKE_FAILED_PROTOCOL
    | zmq.EVENT_HANDSHAKE_FAILED_NO_DETAIL
)
sock.connect(endpoint)
sock.send(message.encode())
event = recv_monitor_message(monitor)["event"]
if event == zmq.EVENT_HANDSHAKE_SUCCEEDED:
    # Linger long enough for the queued message to be written before the context ends.
    sock.linger = 10000
    print("succeeded", flush=True)
elif event == zmq.EVENT_HANDSHAKE_FAILED_AUTH:
    print("failed-auth", flush=True)
else:
    print(f"failed-{int(event)}", flush=True)
sock.disable_monitor()
monitor.close()
sock.close()
context.term()
