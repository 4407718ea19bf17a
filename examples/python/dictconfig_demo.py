"""logfunnel.Handler from logging.config.dictConfig, with a Listener printing what arrives.

    python examples/python/dictconfig_demo.py
"""

import logging
import logging.config
import sys

import logfunnel

# A Listener is a drop-in for the cookbook's ZeroMQ QueueListener: it binds a SUB socket and hands
# logging.LogRecords to ordinary handlers. Here it prints them with the cookbook's format.
console = logging.StreamHandler(sys.stdout)
console.setFormatter(logging.Formatter(
    "%(name)s - %(asctime)s - %(levelname)s - %(module)s - %(funcName)s - %(message)s"))
listener = logfunnel.Listener("tcp://127.0.0.1:0", console)
listener.start()

logging.config.dictConfig({
    "version": 1,
    "handlers": {
        "funnel": {
            "class": "logfunnel.Handler",
            "endpoint": listener.endpoint,
            "level": "INFO",
            "queue_capacity": 10000,
            "overflow": "block",
            "block_timeout": 0.5,
            "exit_timeout": 2.0,
        },
    },
    "root": {"handlers": ["funnel"], "level": "DEBUG"},
})


def handle_request(user: str) -> None:
    log = logging.getLogger("app.web")
    log.debug("not sent: below the handler's level")
    log.info("request from %s", user, extra={"user": user})
    try:
        {}["session"]
    except KeyError:
        log.exception("no session for %s", user)


handle_request("ana")
logging.shutdown()  # flushes and closes the handler (also done at exit)
listener.stop()     # handles everything received, then stops
