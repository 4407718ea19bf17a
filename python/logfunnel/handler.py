"""The logging handler: ``logfunnel.Handler``, ``install`` and ``flush``. The process-wide hooks that
make it safe to use in several processes (fork, multiprocessing, exit, SIGTERM) are in ``_lifecycle``.

The handler is ordinary Python; each record is converted and queued by one native call
(``_native.Sender.emit``), and a thread owned by the native sender writes it to a ZeroMQ socket. The
native sender is thread-safe, so ``handle`` does not take the handler's lock.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from typing import Any, Callable, Dict, Optional, Union

from . import _lifecycle, _native

__all__ = ["Handler", "install", "flush", "DEFAULT_ENDPOINT"]

#: Where the handler sends by default: the collector's default ``bind``.
DEFAULT_ENDPOINT = "tcp://127.0.0.1:5555"

#: Default bound, in seconds, of the flush at close and at process exit.
DEFAULT_EXIT_TIMEOUT = 5.0
#: Hard cap, in seconds, of a default (exit-time) flush or close that keeps making progress.
EXIT_MAX_WAIT = 60.0

# Options passed through to the native sender; those not given keep the core's defaults (see
# `_native.Sender`), so none are restated here.
_SENDER_OPTIONS = frozenset(
    {
        "mode",
        "queue_capacity",
        "queue_max_bytes",
        "overflow",
        "block_timeout",
        "max_frame_bytes",
        "sndhwm",
        "heartbeat_ivl",
        "heartbeat_timeout",
        "reconnect_ivl",
        "reconnect_ivl_max",
        "host",
        "curve_server_key",
        "curve_secret_key",
    }
)

# `Handler.handle` returns the record on 3.12+ (where filters may replace it), True before.
_HANDLE_RETURNS_RECORD = sys.version_info >= (3, 12)


class Handler(logging.Handler):
    """Sends every record to a logfunnel collector (or any ZeroMQ ``SUB``/``PULL`` listener).

    ``endpoint`` is where the collector listens (``tcp://host:port`` or ``ipc:///path``); the handler
    connects to it and keeps records queued while it is not there. Sender options (those left out
    keep the core's defaults, shown here in parentheses; durations in seconds):

    - ``queue_capacity`` (65536), ``queue_max_bytes`` (67108864, 64 MiB): bounds of the in-memory
      queue.
    - ``overflow`` ("block"): ``"block"`` (wait up to ``block_timeout`` (1.0) seconds, then drop),
      ``"drop_newest"`` or ``"drop_oldest"``. Every dropped record is counted in ``stats()``.
    - ``mode`` ("xpub"): ``"xpub"`` (to a ``SUB``, waits for the subscription so nothing is lost) or
      ``"push"`` (to a ``PULL``).
    - ``max_frame_bytes`` (1048576, 1 MiB): larger records are truncated to fit (counted).
    - ``host`` (None: the host name), ``sndhwm`` (1000), ``heartbeat_ivl`` (0.0: off),
      ``heartbeat_timeout`` (5.0), ``reconnect_ivl`` (0.1), ``reconnect_ivl_max`` (2.0): see the
      README.
    - ``curve_server_key`` (None: plaintext), ``curve_secret_key`` (None): CURVE encryption and
      authentication, for a collector with ``[curve]`` on another machine. Each is a file path (the
      collector's ``.key``, this sender's ``.key_secret``, from ``logfunnel-collector keygen``) or
      ``"env:NAME"`` for an environment variable holding the key, so no secret sits in code or in
      dictConfig. A key that cannot be read or parsed raises ``ValueError`` naming the option.

    Handler options:

    - ``exit_timeout`` (5.0): the longest ``flush()``, ``close()`` and the exit hooks wait *without
      progress* (a missing collector); while records keep moving to a slow collector they wait on,
      up to ``EXIT_MAX_WAIT`` (60 s) in all, so a backlog is not lost at exit.
    - ``send_formatted`` (False): send ``self.format(record)`` (the handler's formatter output, with
      the traceback in it) as the message, like ``QueueHandler`` does, instead of the structured
      fields. Without it a formatter only formats tracebacks (``formatException``): the message
      stays the merged message (so ``basicConfig(handlers=[...])``, which sets a default formatter
      on every handler, changes nothing on the wire).
    - ``flush_on_sigterm`` (True): in ``multiprocessing`` children whose SIGTERM is the default, close
      the handlers (bounded by ``exit_timeout``) before dying of SIGTERM, so ``Pool.terminate()``
      loses nothing. A Python signal handler runs between bytecodes: a worker inside one long C call
      dies when that call returns. ``False`` keeps the immediate default.

    The record travels as structured fields (message, level, logger, source location, process,
    thread, traceback, ``extra=`` fields) and the collector formats it.
    """

    def __init__(
        self,
        endpoint: str = DEFAULT_ENDPOINT,
        level: Union[int, str] = logging.NOTSET,
        *,
        exit_timeout: float = DEFAULT_EXIT_TIMEOUT,
        flush_on_sigterm: bool = True,
        send_formatted: bool = False,
        **options: Any,
    ) -> None:
        unknown = sorted(set(options) - _SENDER_OPTIONS)
        if unknown:
            raise TypeError(
                "Handler() got unexpected keyword argument(s): %s" % ", ".join(unknown)
            )
        exit_timeout = float(exit_timeout)
        if not exit_timeout >= 0:
            raise ValueError("invalid option exit_timeout: must be >= 0, got %r" % exit_timeout)
        # The native sender first: if it fails, no half-built handler is left in logging's lists.
        self._native = _native.Sender(endpoint, close_timeout=exit_timeout, **options)
        super().__init__(level)
        self._endpoint = endpoint
        self._options = dict(options)
        self.exit_timeout = exit_timeout
        self.flush_on_sigterm = bool(flush_on_sigterm)
        self.send_formatted = bool(send_formatted)
        # When a default-timeout flush last gave up (see `close`).
        self._flush_gave_up_at: Optional[float] = None
        self._loss_reported = False
        # Subclasses that override `emit` get the standard `handle` (with the lock).
        self._fast = type(self).emit is Handler.emit
        _lifecycle.register(self)

    @property
    def endpoint(self) -> str:
        """The endpoint this handler sends to."""
        return self._endpoint

    @property
    def options(self) -> Dict[str, Any]:
        """The sender options given to the constructor (a copy)."""
        return dict(self._options)

    def handle(self, record: logging.LogRecord) -> Any:
        """Filters and emits ``record`` without taking the handler lock (the native sender is
        thread-safe)."""
        if not self._fast:
            return super().handle(record)
        rv: Any
        if self.filters:
            rv = self.filter(record)
            if not rv:
                return rv
            if isinstance(rv, logging.LogRecord):
                record = rv
        else:
            rv = record if _HANDLE_RETURNS_RECORD else True
        try:
            self._native.emit(record, self.formatter, self.send_formatted)
        except Exception:
            self.handleError(record)
        return rv

    def emit(self, record: logging.LogRecord) -> None:
        """Queues ``record``; never raises (errors go to ``handleError`` and are counted)."""
        try:
            self._native.emit(record, self.formatter, self.send_formatted)
        except Exception:
            self.handleError(record)

    def flush(self, timeout: Optional[float] = None) -> bool:  # type: ignore[override]
        """Waits until every record is delivered, at most ``timeout`` seconds; without ``timeout``, at
        most ``exit_timeout`` without progress (``EXIT_MAX_WAIT`` in all). Delivered means
        acknowledged by the collector (every sink taking it wrote it) when it speaks acknowledged
        delivery, as a default collector does; handed to the socket for a v1 listener. Returns True
        if everything was delivered."""
        if timeout is not None:
            return self._native.flush(float(timeout))
        ok = self._native.flush_idle(self.exit_timeout, EXIT_MAX_WAIT)
        self._flush_gave_up_at = None if ok else time.monotonic()
        return ok

    def close(self, timeout: Optional[float] = None) -> None:
        """Flushes (at most ``timeout``, default ``exit_timeout`` seconds) and closes the socket.
        Records logged afterwards are counted as dropped."""
        if timeout is None:
            timeout = self.exit_timeout
            gave_up = self._flush_gave_up_at
            if gave_up is not None and time.monotonic() - gave_up < 1.0:
                # logging.shutdown() calls flush() then close(): when that flush already waited
                # exit_timeout in vain, do not wait a second time (the bound is for the whole exit).
                timeout = 0.0
        delivered = True
        try:
            if timeout == self.exit_timeout:
                # The default (and exit) path: patient while records keep moving.
                delivered = self._native.close_idle(float(timeout), EXIT_MAX_WAIT)
            else:
                delivered = self._native.close(float(timeout))
        finally:
            _lifecycle.forget(self)
            super().close()
        self._report_loss(delivered)

    def _report_loss(self, delivered: bool) -> None:
        """Says on stderr, once, that records were lost, since after close (often at process exit)
        the counters are seen by nobody: loss is bounded and counted, and must not be silent."""
        if self._loss_reported:
            return
        try:
            s = self._native.stats()
            reasons = [
                "%s %d" % (label, s[key])
                for key, label in (
                    ("dropped_queue_full", "queue full"),
                    ("dropped_oversized", "oversized"),
                    ("dropped_at_close", "still queued at close"),
                )
                if s.get(key)
            ]
            if s.get("acknowledging") and s.get("unacknowledged"):
                reasons.append(
                    "%d sent but never acknowledged (the collector may or may not have written them)"
                    % s["unacknowledged"]
                )
            elif not delivered and not s.get("dropped_at_close") and not s.get("acknowledging"):
                reasons.append("an unknown number still inside ZeroMQ when its linger ran out")
            if not reasons:
                return
            self._loss_reported = True
            sys.stderr.write(
                "logfunnel: records were not delivered to %s (pid %d): %s\n"
                % (self._endpoint, os.getpid(), ", ".join(reasons))
            )
        except Exception:
            pass

    @property
    def closed(self) -> bool:
        """Whether ``close()`` was called."""
        return self._native.closed

    def stats(self) -> Dict[str, Any]:
        """Counters of this process's sender: ``enqueued``, ``sent``, ``dropped`` (and by reason:
        ``dropped_queue_full``, ``dropped_closed``, ``dropped_at_close``, ``dropped_oversized``),
        ``truncated``, ``filtered``, ``depth`` (waiting now), ``connected``, ``errors``; and for
        acknowledged delivery: ``acknowledging`` (bool: the collector announced itself, so records
        are kept until it acknowledges them), ``acknowledged`` (records it acknowledged),
        ``unacknowledged`` (sent and kept until an acknowledgement covers them, now) and ``resent``
        (records sent again)."""
        return self._native.stats()

    def __repr__(self) -> str:
        return "<%s %s (%s)>" % (
            type(self).__name__,
            self._endpoint,
            logging.getLevelName(self.level),
        )

    def __reduce__(self) -> Any:
        # Rebuilt from its arguments (for spawn/forkserver children and pickling in general);
        # the new handler has its own native sender.
        state = {
            "level": self.level,
            "exit_timeout": self.exit_timeout,
            "flush_on_sigterm": self.flush_on_sigterm,
            "send_formatted": self.send_formatted,
            "options": self._options,
            "formatter": self.formatter,
            "filters": list(self.filters),
            "name": self.name,
        }
        return (_rebuild, (type(self), self._endpoint, state))


def _rebuild(cls: Callable[..., Handler], endpoint: str, state: Dict[str, Any]) -> Handler:
    h = cls(
        endpoint,
        state["level"],
        exit_timeout=state["exit_timeout"],
        flush_on_sigterm=state["flush_on_sigterm"],
        send_formatted=state["send_formatted"],
        **state["options"],
    )
    if state["formatter"] is not None:
        h.setFormatter(state["formatter"])
    for f in state["filters"]:
        h.addFilter(f)
    if state["name"] is not None:
        h.set_name(state["name"])
    return h


def install(
    endpoint: str = DEFAULT_ENDPOINT,
    level: Optional[Union[int, str]] = logging.INFO,
    *,
    logger: Optional[str] = None,
    **options: Any,
) -> Handler:
    """Adds a :class:`Handler` to the root logger (or ``logger``) and sets that logger's level
    (unless ``level`` is None). Returns the handler."""
    handler = Handler(endpoint, **options)
    target = logging.getLogger(logger)
    target.addHandler(handler)
    if level is not None:
        target.setLevel(level)
    return handler


def flush(timeout: Optional[float] = None) -> bool:
    """Flushes every live :class:`Handler` of this process (each at most ``timeout`` seconds, default
    its ``exit_timeout``): every queued record is handed to the socket. True if all were flushed.

    Before ``os._exit()`` call ``logging.shutdown()`` instead: it closes the handlers, and only a
    close makes sure the socket has written everything out before the process ends."""
    ok = True
    for h in _lifecycle.live_handlers():
        try:
            ok = h.flush(timeout) and ok
        except Exception:
            ok = False
    return ok
