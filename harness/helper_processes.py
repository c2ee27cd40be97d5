"""The helper processes an implementation keeps on purpose, told apart from its children.

The standard library (and multiprocess, billiard, loky) keeps a *fork server* and a
*resource tracker* running for the life of the parent. Neither is a leak. But the fork
server's children (the processes it forks for ``start()``) run with the fork server's very
command line, so a test that matches command lines would exempt them too and miss a child
left running. A helper is therefore a process whose command line starts a helper's
``main`` **and** whose parent is not itself such a helper: the fork server and the
resource tracker themselves, never their descendants.

Used by the plugin's leak guard and by the echo runner (which counts a server's handlers).
"""

from __future__ import annotations

import re
from typing import Optional

import psutil

#: ``python -c 'from <package>.<helper> import main; main(...)'``: how every implementation
#: we know starts its helpers (multiprocessing, multiprocess, billiard, loky.backend).
_HELPER_MAIN = re.compile(
    r"from [\w.]+\.(?:forkserver|resource_tracker|semaphore_tracker) import main")


def _cmdline(proc: psutil.Process) -> Optional[str]:
    try:
        return " ".join(proc.cmdline())
    except (psutil.Error, OSError):
        return None


def runs_helper_main(proc: psutil.Process) -> bool:
    """The process's command line is that of a fork server or resource tracker (which its
    forked children share)."""
    cmdline = _cmdline(proc)
    return bool(cmdline and _HELPER_MAIN.search(cmdline))


def is_helper(proc: psutil.Process) -> bool:
    """A fork server or resource tracker itself (not a process one of them forked)."""
    if not runs_helper_main(proc):
        return False
    try:
        parent = proc.parent()
    except psutil.Error:
        return False
    return parent is None or not runs_helper_main(parent)
