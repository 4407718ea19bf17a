"""The ``logfunnel-collector`` command installed with the package: the Rust collector's CLI, run in
this Python process (same options as the standalone binary; see ``logfunnel-collector --help``)."""

from __future__ import annotations

import signal
import sys
import threading
from typing import List, Optional

from . import _native


def main(argv: Optional[List[str]] = None) -> None:
    """Runs the collector CLI with ``argv`` (default ``sys.argv``) and exits with its status."""
    args = list(sys.argv if argv is None else argv)
    if args:
        args[0] = "logfunnel-collector"
    if threading.current_thread() is threading.main_thread():
        # The collector handles SIGINT itself (drain, then exit 0); Python's own handler would raise
        # KeyboardInterrupt once it returns.
        signal.signal(signal.SIGINT, signal.SIG_DFL)
    sys.exit(_native.cli_main(args))


if __name__ == "__main__":
    main()
