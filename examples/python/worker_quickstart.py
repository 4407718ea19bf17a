"""The one line a worker needs. Start a collector first, in another terminal:

    logfunnel-collector --file app.log

then run this as often as you like, in parallel:

    python examples/python/worker_quickstart.py
"""

import logging

import logfunnel

logfunnel.install("tcp://127.0.0.1:5555", level=logging.INFO, exit_timeout=2.0)

log = logging.getLogger("app")
for i in range(5):
    log.info("hello %d from a worker", i)
# At exit the handler waits at most exit_timeout seconds for the collector, then gives up (counted).
