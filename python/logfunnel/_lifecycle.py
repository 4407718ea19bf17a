"""Process-wide hooks that keep every live ``Handler`` delivering across fork, multiprocessing
children, interpreter exit and SIGTERM. The handlers register themselves here; nothing here knows more
of a handler than ``close()``, ``flush_on_sigterm`` and being weak-referenceable.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import weakref
from typing import Any, List, Optional

# Every live handler of this process, for `flush()` and the exit hooks.
_handlers: "weakref.WeakSet[Any]" = weakref.WeakSet()
_hooks_lock = threading.Lock()
# The pid for which the multiprocessing exit hook / SIGTERM hook were installed.
_finalizer_pid: Optional[int] = None
_sigterm_pid: Optional[int] = None


def live_handlers() -> List[Any]:
    """The handlers of this process not yet closed (a snapshot)."""
    return list(_handlers)


def forget(handler: Any) -> None:
    """Called by a handler's ``close``: the exit hooks leave it alone from now on."""
    _handlers.discard(handler)


def _close_at_exit() -> None:
    # Close, not just flush: `flush` hands records to libzmq, and only closing (terminating the
    # context, bounded by exit_timeout) makes libzmq write them out before the process is gone.
    for h in list(_handlers):
        try:
            h.close()
        except Exception:
            pass


def _in_multiprocessing_child() -> bool:
    mp = sys.modules.get("multiprocessing")
    if mp is None:
        return False
    try:
        return mp.parent_process() is not None
    except Exception:
        return False


def register(handler: Any) -> None:
    """Called by every new handler: its records are flushed at exit in this process and its children."""
    with _hooks_lock:
        _handlers.add(handler)
    # A handler made inside a multiprocessing child (spawn/forkserver, or a Pool initializer) needs the
    # child's exit hooks; a handler inherited through fork gets them from `_after_fork_in_child`.
    if _in_multiprocessing_child():
        _install_multiprocessing_finalizer()
        if handler.flush_on_sigterm:
            _install_sigterm_flush()


def _install_multiprocessing_finalizer() -> None:
    """multiprocessing children end with os._exit() after running `multiprocessing.util` finalizers,
    so atexit (and logging.shutdown) never runs there: flush from such a finalizer instead."""
    global _finalizer_pid
    pid = os.getpid()
    if _finalizer_pid == pid:
        return
    _finalizer_pid = pid
    from multiprocessing import util

    # Runs after every other finalizer (they may log too).
    util.Finalize(None, _close_at_exit, exitpriority=-100)


def _install_sigterm_flush() -> None:
    """Pool.terminate() and Process.terminate() send SIGTERM. When the child still has the default
    action, flush first (bounded), then die of SIGTERM as before."""
    global _sigterm_pid
    pid = os.getpid()
    if _sigterm_pid == pid or threading.current_thread() is not threading.main_thread():
        return
    try:
        if signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
            return
        signal.signal(signal.SIGTERM, _on_sigterm)
        _sigterm_pid = pid
    except (ValueError, OSError):
        pass


def _on_sigterm(signum: int, frame: Any) -> None:
    try:
        _close_at_exit()
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGTERM)


class _AfterForkToken:
    """A weak-referenceable object for `multiprocessing.util.register_after_fork`."""


_after_fork_token = _AfterForkToken()


def _after_fork_in_child() -> None:
    # The native senders rebuild their sockets and threads on first use in the child; only the
    # Python-level exit hooks need work here.
    global _finalizer_pid, _sigterm_pid, _hooks_lock
    _hooks_lock = threading.Lock()  # another thread may have held it at the fork
    _finalizer_pid = None
    _sigterm_pid = None
    if not _handlers:
        return
    util = sys.modules.get("multiprocessing.util")
    if util is not None:
        # A multiprocessing child clears the finalizer registry right after the fork, then runs the
        # after-fork callbacks: register the finalizer from there.
        util.register_after_fork(_after_fork_token, _after_multiprocessing_fork)


def _after_multiprocessing_fork(_token: Any) -> None:
    if not _handlers or not _in_multiprocessing_child():
        return
    _install_multiprocessing_finalizer()
    if any(h.flush_on_sigterm for h in list(_handlers)):
        _install_sigterm_flush()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
