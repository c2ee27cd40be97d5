"""Orphans come back: while a scenario runs, this process is the *child subreaper* of its
descendants (Linux ``PR_SET_CHILD_SUBREAPER``), so a process whose parent ended (a
grandchild left running by a terminated child, a daemon child its program left behind) is
re-parented here instead of to init: the scenario's :class:`~harness.supervise.Watch`
still sees it, and the session ends and reaps it like any other of its processes."""

from __future__ import annotations

import contextlib
import ctypes
import sys
from typing import Iterable, Iterator

_PR_SET_CHILD_SUBREAPER = 36


def subreaper(on: bool) -> bool:
    """Turn this process's subreaper flag on or off; False where the OS offers none."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        return ctypes.CDLL(None, use_errno=True).prctl(
            _PR_SET_CHILD_SUBREAPER, int(on), 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


@contextlib.contextmanager
def orphans_come_back() -> Iterator[bool]:
    """This process is the subreaper within the block (yields whether it could be); the
    flag is turned off again on the way out. Put it outside the session whose processes
    it concerns, so that the session has ended and reaped them before the flag goes."""
    on = subreaper(True)
    try:
        yield on
    finally:
        if on:
            subreaper(False)


def end_adopted(pids: Iterable[int], grace: float) -> list[int]:
    """SIGKILL each of ``pids`` (a scenario's processes below a child it ended, seen while
    they ran) that is still there, and reap those that came back to this process, bounded
    by ``grace`` s. A session's watch does not do it for every one of them: an orphaned
    *fork server* (a child's own, under forkserver) reads as this process's helper once it
    was adopted. Returns the pids still there at the end."""
    import os
    import signal
    import time

    from harness import limits
    from harness.supervise.watch import _stat

    left = set(pids)
    me = os.getpid()
    deadline = time.monotonic() + grace
    while left:
        for pid in list(left):
            stat = _stat(pid)
            if stat is None:
                left.discard(pid)
                continue
            with contextlib.suppress(OSError):
                if stat[0] != "Z":
                    os.kill(pid, signal.SIGKILL)
                elif stat[1] == me:
                    if os.waitpid(pid, os.WNOHANG)[0] == pid:
                        left.discard(pid)
                else:
                    left.discard(pid)  # another process's zombie: its parent reaps it
        if not left or time.monotonic() >= deadline:
            break
        time.sleep(limits.POLL_INTERVAL)
    return sorted(left)
