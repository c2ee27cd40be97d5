"""Broken backends for the family claims (specs/children.md KIDS-015..018, exit.md
EXIT-011): a child's own children, what ``terminate()`` leaves undone, ``is_alive()``'s
reaping.

Each is the real fork implementation with one defect.
"""

from __future__ import annotations

import atexit
import errno
import os
import signal
import time
from multiprocessing import process as _process_module
from typing import Any

from harness.controls import Control
from harness.controls._base import ControlContext, backend_control, base_context

_BASE = base_context("fork")
_Real: Any = _BASE.Process


class NestedStartRefused(_Real):
    """Inside a child, ``start()`` of a (non-daemon) child's own child fails with
    ``OSError(EBADF)``, as when a child's stdin was closed twice (CPython's
    ``test_queue_in_process``); a daemon child is refused as ever (API-004)."""

    def start(self) -> None:
        me = _process_module.current_process()
        if _process_module.parent_process() is not None and not me.daemon:
            raise OSError(errno.EBADF, os.strerror(errno.EBADF))
        super().start()


class _Terminated(BaseException):
    """Raised by the control's SIGTERM handler in the child."""


def _on_sigterm(signum: int, frame: Any) -> None:
    raise _Terminated()


class TerminateRunsCleanup(_Real):
    """SIGTERM unwinds the child: its ``finally`` clauses and ``atexit`` handlers run, then
    it ends by SIGTERM all the same (exit code -15). The handlers the child inherited from
    its parent are dropped first (a fork child runs none of them before Python 3.13; the
    standard library's own would join the child's children at its exit)."""

    def run(self) -> None:
        atexit._clear()
        signal.signal(signal.SIGTERM, _on_sigterm)
        try:
            super().run()
        except _Terminated:
            atexit._run_exitfuncs()
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(5)


class TerminateEndsDescendants(_Real):
    """``terminate()`` SIGKILLs the child's descendants first (a process group's end)."""

    def terminate(self) -> None:
        import psutil

        popen = self._popen
        if popen is not None and popen.returncode is None:
            try:
                below = psutil.Process(popen.pid).children(recursive=True)
            except psutil.Error:
                below = []
            for proc in below:
                try:
                    proc.kill()
                except psutil.Error:
                    pass
        super().terminate()


class _AlwaysAliveParent:
    """The real ``parent_process()`` whose ``is_alive()`` is always True."""

    def __init__(self, real: Any) -> None:
        self._real = real

    def is_alive(self) -> bool:
        return True

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)


class ParentAlwaysAliveContext(ControlContext):
    """``parent_process()`` reads alive whether its parent still runs or not."""

    def parent_process(self) -> Any:
        real = self._base.parent_process()
        return None if real is None else _AlwaysAliveParent(real)


class IsAliveDoesNotReap(_Real):
    """``is_alive()`` reads the child's state from /proc: an ended child reads not alive,
    but it is not waited for (it stays a zombie until ``join()`` or ``active_children()``)."""

    def is_alive(self) -> bool:
        self._check_closed()
        if self is _process_module.current_process():
            return True
        popen = self._popen
        if popen is None:
            return False
        if popen.returncode is not None:
            return False
        try:
            with open(f"/proc/{popen.pid}/stat", "rb") as fh:
                state = fh.read().rsplit(b")", 1)[1].split()[0]
        except (OSError, IndexError):
            return False
        return state not in (b"Z", b"X", b"x")


def _control(name: str, defect: str, process_class: Any, breaks: set[str], *,
             context_class: type = ControlContext,
             unjudged: frozenset[str] = frozenset()) -> Control:
    return backend_control(name, defect, process_class, breaks, _BASE,
                           context_class=context_class, unjudged=unjudged)


CONTROLS = [
    _control("nested-start-refused", "start() inside a child raises OSError(EBADF)",
             NestedStartRefused, {"KIDS-015"}, unjudged=frozenset({"KIDS-016", "KIDS-017"})),
    _control("terminate-runs-cleanup", "after terminate() a child's finally clauses and "
             "atexit handlers run", TerminateRunsCleanup, {"EXIT-011"}),
    _control("terminate-ends-descendants", "terminate() also ends the child's descendants",
             TerminateEndsDescendants, {"KIDS-016"}, unjudged=frozenset({"KIDS-017"})),
    _control("parent-always-alive", "parent_process().is_alive() is always True",
             _Real, {"KIDS-017"}, context_class=ParentAlwaysAliveContext),
    _control("is-alive-does-not-reap", "is_alive() on an ended child does not reap it",
             IsAliveDoesNotReap, {"KIDS-018"}),
]
