"""The Process classes of the hang controls (harness/controls/hangs.py), apart from them.

A forkserver child unpickles its process object, so it imports the module of its class:
this one imports nothing beyond what a child of procspec's imports anyway (measured: the
controls package, psutil and dataclasses cost each child 120 ms of start-up on a busy
machine, enough to make eight children started together look serialized to JOIN-002).
"""

from __future__ import annotations

import multiprocessing
import os
import time
from multiprocessing import popen_forkserver

from harness import limits

# typing only for the type checker (as in harness.child.targets: each child imports this)
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Optional

_FORKSERVER = multiprocessing.get_context("forkserver")
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
        import psutil  # here, in the parent: a child never imports it (see the module doc)
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
