"""logfunnel.Handler from logging.config.dictConfig and fileConfig (each in its own process, so the
test process's logging stays as it is)."""

from __future__ import annotations

from conftest import by_sender, run_script

DICT_CONFIG = """
import logging, logging.config, sys
EP = sys.argv[1]
logging.config.dictConfig({
    "version": 1,
    "formatters": {"plain": {"format": "%(levelname)s %(message)s"}},
    "handlers": {
        "funnel": {
            "class": "logfunnel.Handler",
            "endpoint": EP,
            "level": "INFO",
            "queue_capacity": 1000,
            "overflow": "drop_oldest",
            "exit_timeout": 3,
        },
        "formatted": {
            "class": "logfunnel.Handler",
            "endpoint": EP,
            "formatter": "plain",
            "send_formatted": True,
            "level": "ERROR",
        },
    },
    "loggers": {"app": {"handlers": ["funnel", "formatted"], "level": "DEBUG"}},
})
log = logging.getLogger("app.web")
log.debug("not sent: below the handler level")
log.info("configured %s", "by dict", extra={"user": "ana"})
log.error("both handlers")
h = logging.getLogger("app").handlers[0]
assert h.options == {"queue_capacity": 1000, "overflow": "drop_oldest"}, h.options
assert h.exit_timeout == 3
"""


def test_dict_config(tmp_path, collector):
    run_script(tmp_path, DICT_CONFIG, collector.endpoint)
    recs = collector.records(3)
    assert len(recs) == 3
    groups = by_sender(recs)
    assert len(groups) == 2
    got = sorted((r["msg"], r["levelname"]) for r in recs)
    assert got == [
        ("ERROR both handlers", "ERROR"),
        ("both handlers", "ERROR"),
        ("configured by dict", "INFO"),
    ]
    (info,) = [r for r in recs if r["levelname"] == "INFO"]
    assert info["user"] == "ana" and info["name"] == "app.web"


FILE_CONFIG = """
[loggers]
keys=root,app

[handlers]
keys=funnel

[formatters]
keys=

[logger_root]
level=WARNING
handlers=

[logger_app]
level=INFO
handlers=funnel
qualname=app
propagate=0

[handler_funnel]
class=logfunnel.Handler
level=INFO
args=(ENDPOINT,)
kwargs={"overflow": "drop_newest", "exit_timeout": 2.5}
"""

FILE_SCRIPT = """
import logging, logging.config, sys
logging.config.fileConfig(sys.argv[2], defaults=None, disable_existing_loggers=False)
log = logging.getLogger("app.file")
log.info("configured by %s", "file")
log.debug("below level")
h = logging.getLogger("app").handlers[0]
assert h.exit_timeout == 2.5 and h.options == {"overflow": "drop_newest"}, h.options
"""


def test_file_config(tmp_path, collector):
    ini = tmp_path / "logging.ini"
    ini.write_text(FILE_CONFIG.replace("ENDPOINT", repr(collector.endpoint)))
    run_script(tmp_path, FILE_SCRIPT, collector.endpoint, str(ini))
    recs = collector.records(1)
    assert [(r["name"], r["msg"]) for r in recs] == [("app.file", "configured by file")]
