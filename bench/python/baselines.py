"""The handlers logfunnel is compared with, written the way their users write them.

* `FloorHandler`: a handler that does nothing, so a call costs only what `logging` itself costs.
* `ZeroMQSocketHandler` / `ZeroMQSocketListener`: the Python logging cookbook's ZeroMQ recipe as
  published ("Subclass QueueHandler / QueueListener - a ZeroMQ example"), only the endpoint changed.
* `PushJsonHandler`: a careful hand-tuned pure-Python pyzmq PUSH handler: `json.dumps` of ten fields.
* multiprocessing.Queue + QueueHandler/QueueListener, concurrent-log-handler and loguru are used
  straight from their libraries where they are set up (see `percall.py` and `e2e_app.py`).
"""

from __future__ import annotations

import json
import logging
import sys
from logging.handlers import QueueHandler, QueueListener

import zmq


class FloorHandler(logging.Handler):
    """Does nothing: the cost of a call with it is Python's own logging floor."""

    def emit(self, record):
        pass


# --- The cookbook recipe, as published -------------------------------------------------------------


class ZeroMQSocketHandler(QueueHandler):
    def enqueue(self, record):
        self.queue.send_json(record.__dict__)


def cookbook_handler(uri: str) -> ZeroMQSocketHandler:
    """The cookbook's module-level set-up, with its `'tcp://*:5556'` replaced by `uri`."""
    ctx = zmq.Context()
    sock = zmq.Socket(ctx, zmq.PUB)  # or zmq.PUSH, or other suitable value
    sock.bind(uri)  # or wherever
    handler = ZeroMQSocketHandler(sock)
    return handler


class ZeroMQSocketListener(QueueListener):
    def __init__(self, uri, /, *handlers, **kwargs):
        self.ctx = kwargs.get("ctx") or zmq.Context()
        socket = zmq.Socket(self.ctx, zmq.SUB)
        socket.setsockopt_string(zmq.SUBSCRIBE, "")  # subscribe to everything
        socket.connect(uri)
        super().__init__(socket, *handlers, **kwargs)

    # Published as `def dequeue(self):`, which QueueListener (it calls `self.dequeue(True)`) rejects with
    # a TypeError; adding the `block` parameter is the one change needed to make the recipe run.
    def dequeue(self, block):
        msg = self.queue.recv_json()
        return logging.makeLogRecord(msg)


# --- A hand-tuned pure-Python handler --------------------------------------------------------------


class PushJsonHandler(logging.Handler):
    """What a performance-minded user writes by hand: one PUSH socket, `json.dumps` of ~10 fields.

    The fields are the v1 wire schema's core keys, so the logfunnel collector's PULL socket accepts it.
    """

    def __init__(self, endpoint: str):
        super().__init__()
        self.ctx = zmq.Context()
        self.sock = self.ctx.socket(zmq.PUSH)
        self.sock.connect(endpoint)

    def emit(self, record):
        try:
            data = json.dumps(
                {
                    "v": 1,
                    "name": record.name,
                    "msg": record.getMessage(),
                    "levelno": record.levelno,
                    "levelname": record.levelname,
                    "created": record.created,
                    "pathname": record.pathname,
                    "lineno": record.lineno,
                    "funcName": record.funcName,
                    "process": record.process,
                    "thread": record.thread,
                }
            )
            self.sock.send_string(data)
        except Exception:
            self.handleError(record)

    def close(self):
        self.sock.close(linger=5000)
        self.ctx.term()
        super().close()


def formatter() -> logging.Formatter:
    from common import LINE_FORMAT

    return logging.Formatter(LINE_FORMAT)


def run_cookbook_listener(uri: str, path: str) -> None:
    """A cookbook listener process: SUB on `uri`, records to a file, until killed."""
    handler = logging.FileHandler(path)
    handler.setFormatter(formatter())
    listener = ZeroMQSocketListener(uri, handler)
    listener.start()
    print("ready", flush=True)
    # The recipe's listener has no working stop() (QueueListener.stop puts a sentinel with put_nowait,
    # which a zmq socket lacks); its users end the process. Block until the driver closes our stdin.
    sys.stdin.read()


def run_queue_listener(queue, path: str, ready) -> None:
    """A multiprocessing.Queue listener process (the cookbook's "logging from multiple processes")."""
    handler = logging.FileHandler(path)
    handler.setFormatter(formatter())
    listener = QueueListener(queue, handler)
    listener.start()
    ready.set()
    # The driver puts None (QueueListener's sentinel) when done; wait for the thread to see it.
    listener._thread.join()


if __name__ == "__main__":
    if sys.argv[1] == "cookbook-listener":
        run_cookbook_listener(sys.argv[2], sys.argv[3])
    else:
        raise SystemExit(f"unknown command {sys.argv[1]}")
