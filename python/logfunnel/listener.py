"""``logfunnel.Listener``: receives records over ZeroMQ and hands them to ordinary Python handlers in a
thread, like ``logging.handlers.QueueListener`` (the logging cookbook's ZeroMQ listener, but lossless
with logfunnel senders, and decoding in Rust).
"""

from __future__ import annotations

import logging
import sys
import threading
import time
import traceback
from typing import Any, Dict, Iterable, List, Optional, Union

from . import _native
from .handler import DEFAULT_ENDPOINT

__all__ = ["Listener"]


class Listener:
    """Binds a ``SUB`` socket (``mode="pull"``: a ``PULL``) on ``endpoint`` (a string or a list) and
    passes each received record, as a ``logging.LogRecord``, to ``handlers``.

    It accepts logfunnel v1 records (from :class:`logfunnel.Handler` or any other logfunnel sender),
    the cookbook form (``send_json(record.__dict__)``) and pyzmq's ``PUBHandler`` messages. With
    ``bind=False`` it connects instead (to a sender that binds, as in the cookbook's single-sender
    example). The socket is bound when the listener is created, so senders may start before
    ``start()``; what arrives meanwhile waits in the socket.

    ``respect_handler_level``: pass a record to a handler only if ``record.levelno >= handler.level``
    (default True; ``QueueListener``'s default is False).
    """

    def __init__(
        self,
        endpoint: Union[str, Iterable[str]] = DEFAULT_ENDPOINT,
        *handlers: logging.Handler,
        respect_handler_level: bool = True,
        mode: str = "sub",
        bind: bool = True,
        max_frame_bytes: int = _native.DEFAULT_MAX_FRAME_BYTES,
    ) -> None:
        endpoints: List[str] = [endpoint] if isinstance(endpoint, str) else list(endpoint)
        self._receiver = _native.Receiver(
            endpoints, mode=mode, bind=bind, max_frame_bytes=max_frame_bytes
        )
        self.handlers = handlers
        self.respect_handler_level = respect_handler_level
        self._thread: Optional[threading.Thread] = None
        self._stopping = threading.Event()
        self._drain_timeout = 5.0
        self._quiet = 0.2

    @property
    def endpoints(self) -> List[str]:
        """The endpoints as bound (a ``:0`` port replaced by the real one)."""
        return self._receiver.endpoints

    @property
    def endpoint(self) -> str:
        """The first endpoint as bound."""
        return self._receiver.endpoints[0]

    def stats(self) -> Dict[str, Any]:
        """``received``, ``decoded``, ``malformed`` and ``malformed_by_reason`` counters."""
        return self._receiver.stats()

    def start(self) -> None:
        """Starts the background thread that receives and handles records."""
        if self._thread is not None:
            raise RuntimeError("Listener already started")
        self._stopping.clear()
        self._thread = threading.Thread(
            target=self._monitor, name="logfunnel-listener", daemon=True
        )
        self._thread.start()

    def prepare(self, record: logging.LogRecord) -> logging.LogRecord:
        """Hook for subclasses: change or replace a record before it is handled."""
        return record

    def handle(self, record: logging.LogRecord) -> None:
        """Passes ``record`` to each handler (respecting their levels if asked to)."""
        record = self.prepare(record)
        for handler in self.handlers:
            if not self.respect_handler_level or record.levelno >= handler.level:
                handler.handle(record)

    def _dispatch(self, batch: List[Dict[str, Any]]) -> None:
        for attrs in batch:
            try:
                self.handle(logging.makeLogRecord(attrs))
            except Exception:
                # A failing handler must not stop the listener (handlers normally report their own
                # errors through handleError and never raise).
                traceback.print_exc(file=sys.stderr)

    def _monitor(self) -> None:
        recv = self._receiver.recv
        while not self._stopping.is_set():
            self._dispatch(recv(0.1))
        # Drain: handle what is still arriving until the socket has been quiet for a moment.
        deadline = time.monotonic() + self._drain_timeout
        while time.monotonic() < deadline:
            batch = recv(self._quiet)
            if not batch:
                break
            self._dispatch(batch)

    def stop(self, timeout: float = 5.0) -> None:
        """Stops the thread after handling everything already received (waiting at most ``timeout``
        seconds for the stream to go quiet)."""
        thread = self._thread
        if thread is None:
            return
        self._drain_timeout = float(timeout)
        self._stopping.set()
        thread.join()
        self._thread = None

    def close(self) -> None:
        """Stops (if started) and closes the socket."""
        self.stop()
        self._receiver.close()

    def __enter__(self) -> "Listener":
        self.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
