"""``logfunnel.serve``: the Rust collector running in a background thread of this process, the way the
logging cookbook runs its listener in the main process while worker processes log to it."""

from __future__ import annotations

import json
import os
from typing import Any, Dict, List, Mapping, Optional, Union

from . import _native

__all__ = ["Collector", "serve"]

_LIST_KEYS = ("bind", "pull")


class Collector:
    """A collector running in this process (returned by :func:`serve`). Stop it with ``stop()`` or
    use it as a context manager; it drains what it has received before it stops."""

    def __init__(self, native: Any) -> None:
        self._native = native

    @property
    def endpoints(self) -> List[str]:
        """The ``SUB`` endpoints as bound (a ``:0`` port replaced by the real one)."""
        return list(self._native.endpoints)

    @property
    def pull_endpoints(self) -> List[str]:
        """The ``PULL`` endpoints as bound."""
        return list(self._native.pull_endpoints)

    @property
    def endpoint(self) -> str:
        """The first ``SUB`` endpoint (or ``PULL`` endpoint when there is no ``SUB``)."""
        eps = self.endpoints or self.pull_endpoints
        return eps[0]

    @property
    def running(self) -> bool:
        """False once ``stop()`` has returned."""
        return bool(self._native.running)

    def stats(self) -> Dict[str, Any]:
        """The collector's counters (received, written, malformed by reason, gaps, per sender ...)."""
        stats: Dict[str, Any] = json.loads(self._native.stats_json())
        return stats

    def stop(self, timeout: float = 5.0) -> None:
        """Stops receiving, writes out everything received, flushes the sinks and returns (waiting at
        most about ``timeout`` seconds)."""
        self._native.stop(float(timeout))

    def __enter__(self) -> "Collector":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        return "<logfunnel.Collector %s %s>" % (", ".join(self.endpoints + self.pull_endpoints), state)


def _config_dict(config: Union[None, Mapping[str, Any], str, "os.PathLike[str]"]) -> Dict[str, Any]:
    if config is None:
        return {}
    if isinstance(config, Mapping):
        return dict(config)
    path = os.fspath(config)
    if not isinstance(path, str):
        path = os.fsdecode(path)
    if path.endswith(".json"):
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
        if not isinstance(data, dict):
            raise ValueError("%s: the configuration must be a JSON object" % path)
        return data
    loaded: Dict[str, Any] = json.loads(_native.load_config_json(path))
    return loaded


def serve(
    config: Union[None, Mapping[str, Any], str, "os.PathLike[str]"] = None, **kwargs: Any
) -> Collector:
    """Starts the collector in a background thread of this process and returns a :class:`Collector`.

    ``config`` is a dict with the keys of the collector's TOML configuration, or the path of a TOML
    (or ``.json``) configuration file; keyword arguments override its keys. ``bind``/``pull`` may be
    a single endpoint string; ``sinks`` is accepted for ``sink``. Example::

        collector = logfunnel.serve(bind="tcp://127.0.0.1:5555",
                                    sinks=[{"kind": "file", "path": "app.log"}])

    Raises ``ValueError`` for a bad configuration and ``OSError`` when a socket cannot be bound or a
    file cannot be opened.
    """
    cfg = _config_dict(config)
    cfg.update(kwargs)
    if "sinks" in cfg:
        if "sink" in cfg:
            raise ValueError("give either sink or sinks, not both")
        cfg["sink"] = cfg.pop("sinks")
    if isinstance(cfg.get("sink"), Mapping):
        cfg["sink"] = [cfg["sink"]]
    for key in _LIST_KEYS:
        if isinstance(cfg.get(key), str):
            cfg[key] = [cfg[key]]
    text = json.dumps(cfg, default=_to_json)
    return Collector(_native.Collector(text))


def _to_json(value: Any) -> Any:
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    raise TypeError("%r is not a valid configuration value" % (value,))
