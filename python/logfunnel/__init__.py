"""logfunnel: send Python ``logging`` records from every process to one collector over ZeroMQ.

Quick start (in each worker process)::

    import logging, logfunnel
    logfunnel.install("tcp://127.0.0.1:5555", level=logging.INFO)
    logging.getLogger("app").info("hello from %s", "worker")

and one collector (``logfunnel-collector --file app.log``, or ``logfunnel.serve(...)`` in the main
process) writes, formats and rotates for all of them.
"""

from ._native import __version__
from .handler import DEFAULT_ENDPOINT, Handler, flush, install
from .listener import Listener
from .serve import Collector, serve

__all__ = [
    "DEFAULT_ENDPOINT",
    "Collector",
    "Handler",
    "Listener",
    "__version__",
    "flush",
    "install",
    "serve",
]
