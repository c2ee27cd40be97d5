"""Broken backends that hang, or whose waits lie: a verdict in seconds, whatever hangs.

Issue 20 met two such implementations by hand (a copy of the standard library's
``multiprocessing`` first on ``PYTHONPATH``): forkserver children that hang before they run
their target (386 s for a run whose healthy twin took 15 s), and a ``poll()`` that inverts
running and ended (killed after 600 s). These controls are of those kinds, plus the two
plainest hangs of the wait primitives: a ``join()`` that never returns for any child, and
an ``is_alive()`` that is always True. All four are the standard library's forkserver
``Process`` with one defect; ``tests/meta/test_controls.py`` proves that each breaks
exactly its declared claims, by verdict, in at most twice the time the same suite takes on
the healthy forkserver context.

Every hang here is bounded (the harness stops waiting; the hung call sleeps in short
steps, so the harness's interrupt ends it), and none outlives its test process: a child
that hangs before its target gives up after ``limits.HOLD_LIMIT``.
"""

from __future__ import annotations

import os
import time
from multiprocessing import popen_forkserver
from typing import Any, Optional

import psutil

from harness import limits
from harness.controls import Control
from harness.controls._base import ControlContext, base_context

_FORKSERVER = base_context("forkserver")
_ForkServerProcess: Any = _FORKSERVER.Process

#: How often a hung call wakes (it only sleeps; the harness's interrupt can end it then).
_NAP = 0.05


class HangsBeforeTarget(_ForkServerProcess):
    """The fork server forks the child, whose bootstrap then sleeps before it would call
    ``run()``: the child runs, never runs its target, and never ends by itself (it gives up
    after ``limits.HOLD_LIMIT``, so that nothing outlives a broken run by much)."""

    def _bootstrap(self, parent_sentinel: Any = None) -> int:
        deadline = time.monotonic() + limits.HOLD_LIMIT
        while time.monotonic() < deadline:
            time.sleep(0.5)
        os._exit(1)


class JoinNeverReturns(_ForkServerProcess):
    """``join()`` on a started process never returns, whatever its timeout and whether or
    not the child has ended (``join()`` before ``start()`` is still refused)."""

    def join(self, timeout: Optional[float] = None) -> None:
        assert self._popen is not None, "can only join a started process"
        while True:
            time.sleep(_NAP)


class AlwaysAliveForkServer(_ForkServerProcess):
    """``is_alive()`` is True always: before ``start()``, while running, after the end."""

    def is_alive(self) -> bool:
        return True


class InvertedPopen(popen_forkserver.Popen):
    """The forkserver ``Popen`` whose ``poll()`` inverts running and ended: a running child
    looks ended with status 0, an ended one looks running (None). ``is_alive()``,
    ``exitcode``, ``close()`` and the library's own list of live children ask it that way.
    ``wait()`` (what ``join()`` calls) is honest: it waits on the sentinel and asks the
    blocking ``poll()``, which tells the truth. (Inverting ``wait()`` too makes whether a
    ``join()`` hangs depend on whether its child had ended at the call, a race: measured,
    JOIN-004 and LIFE-009 then broke in some runs and not in others, and a control must
    break exactly its claims every time.)"""

    LIE = 0

    def _ended(self) -> bool:
        """The child has ended: its status came, or the OS shows it gone or a zombie (the
        fork server writes the status a moment after the end: the lie must not lag the
        OS, or what it says would depend on that moment)."""
        if popen_forkserver.Popen.poll(self, os.WNOHANG) is not None:
            return True
        try:
            return psutil.Process(self.pid).status() == psutil.STATUS_ZOMBIE
        except psutil.Error:
            return True

    def poll(self, flag: int = os.WNOHANG) -> Optional[int]:
        if flag != os.WNOHANG:  # the blocking poll of wait(): honest
            return super().poll(flag)
        return None if self._ended() else self.LIE


class PollInverted(_ForkServerProcess):
    """A forkserver ``Process`` whose ``Popen`` is :class:`InvertedPopen`."""

    @staticmethod
    def _Popen(process_obj: Any) -> Any:
        return InvertedPopen(process_obj)


def _control(name: str, defect: str, process_class: Any, breaks: set[str]) -> Control:
    return Control(name=name, defect=defect, breaks=frozenset(breaks),
                   context=ControlContext(process_class, _FORKSERVER),
                   start_method=_FORKSERVER.get_start_method(), timed=True)


CONTROLS = [
    _control("hangs-before-target", "forkserver: each child sleeps in its bootstrap and never "
             "runs its target", HangsBeforeTarget, {"LIFE-010", "ECHO-011"}),
    _control("poll-inverted", "forkserver: Popen.poll() inverts running and ended (wait() "
             "is honest)",
             PollInverted, set()),
    _control("join-never-returns", "forkserver: join() never returns for any started child",
             JoinNeverReturns, {"LIFE-009", "JOIN-003", "JOIN-004", "JOIN-006", "JOIN-007"}),
    _control("always-alive-forkserver", "forkserver: is_alive() is always True (also before "
             "start())", AlwaysAliveForkServer, {"LIFE-001", "LIFE-009", "API-005"}),
]
