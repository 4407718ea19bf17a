# Hand-written stubs for the Rust extension module (python/src/*.rs); checked against the built
# module with `python -m mypy.stubtest logfunnel._native` in the test suite.

import logging
from os import PathLike
from typing import Any, Dict, List, Optional, Union, final

__all__ = [
    "Collector",
    "DEFAULT_MAX_FRAME_BYTES",
    "Receiver",
    "Sender",
    "__version__",
    "cli_main",
    "decode",
    "load_config_json",
]
__version__: str
DEFAULT_MAX_FRAME_BYTES: int

@final
class Sender:
    """A thread-safe, fork-aware sender of logging.LogRecords (the core Rust sender)."""

    def __new__(
        cls,
        endpoint: str,
        *,
        mode: Optional[str] = None,
        queue_capacity: Optional[int] = None,
        queue_max_bytes: Optional[int] = None,
        overflow: Optional[str] = None,
        block_timeout: Optional[float] = None,
        max_frame_bytes: Optional[int] = None,
        min_level: Optional[int] = None,
        sndhwm: Optional[int] = None,
        heartbeat_ivl: Optional[float] = None,
        heartbeat_timeout: Optional[float] = None,
        reconnect_ivl: Optional[float] = None,
        reconnect_ivl_max: Optional[float] = None,
        close_timeout: Optional[float] = None,
        host: Optional[str] = None,
        curve_server_key: Optional[str] = None,
        curve_secret_key: Optional[str] = None,
    ) -> Sender:
        """An option left out (None) keeps the core's default (spec/defaults.json; durations here in
        seconds):

        - mode: "xpub"
        - queue_capacity: 65536
        - queue_max_bytes: 67108864
        - overflow: "block"
        - block_timeout: 1.0
        - max_frame_bytes: 1048576
        - min_level: 0
        - sndhwm: 1000
        - heartbeat_ivl: 0.0
        - heartbeat_timeout: 5.0
        - reconnect_ivl: 0.1
        - reconnect_ivl_max: 2.0
        - close_timeout: 5.0
        - host: None
        - curve_server_key: None
        - curve_secret_key: None

        curve_server_key (the collector's public key) and curve_secret_key (this sender's) turn
        CURVE on, for a collector with [curve]: each a file path, or "env:NAME" for an environment
        variable holding the 40-character key. A key that cannot be read or parsed raises
        ValueError naming the option.
        """
    def emit(
        self,
        record: logging.LogRecord,
        formatter: Optional[logging.Formatter] = None,
        send_formatted: bool = False,
    ) -> int:
        """0 queued, 1 filtered, 2 dropped (queue full), 3 dropped (closed)."""
    def flush(self, timeout: float) -> bool: ...
    def close(self, timeout: float) -> bool: ...
    def flush_idle(self, idle: float, cap: float) -> bool: ...
    def close_idle(self, idle: float, cap: float) -> bool: ...
    @property
    def closed(self) -> bool: ...
    @property
    def endpoint(self) -> str: ...
    @property
    def sid(self) -> str: ...
    def stats(self) -> Dict[str, Any]:
        """Counters since the sender was built in this process, ints unless marked: enqueued, sent,
        dropped, dropped_queue_full, dropped_closed, dropped_at_close, dropped_oversized, truncated,
        filtered, depth, connected (bool), acknowledging (bool), acknowledged, unacknowledged,
        resent, errors."""

@final
class Receiver:
    """A SUB (or PULL) socket plus the frame decoder, for logfunnel.Listener."""

    def __new__(
        cls,
        endpoints: List[str],
        *,
        mode: str = "sub",
        bind: bool = True,
        max_frame_bytes: int = 1048576,
        rcvhwm: int = 100000,
    ) -> Receiver: ...
    @property
    def endpoints(self) -> List[str]: ...
    def recv(self, timeout: float, max_records: int = 1000) -> List[Dict[str, Any]]: ...
    def stats(self) -> Dict[str, Any]: ...
    def close(self) -> None: ...

@final
class Collector:
    """The Rust collector running on its own threads in this process."""

    def __new__(cls, config_json: str) -> Collector: ...
    @property
    def endpoints(self) -> List[str]: ...
    @property
    def pull_endpoints(self) -> List[str]: ...
    @property
    def running(self) -> bool: ...
    def stats_json(self) -> str: ...
    def stop(self, timeout: float) -> None: ...

def decode(frames: List[bytes], max_frame_bytes: int = 1048576) -> Dict[str, Any]:
    """Decodes one message like the collector; ValueError(reason, message) when it would reject it."""

def load_config_json(path: Union[str, PathLike[str]]) -> str: ...
def cli_main(args: List[str]) -> int: ...
