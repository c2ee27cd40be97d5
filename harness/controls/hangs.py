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
that hangs before its target gives up after ``limits.HOLD_LIMIT``. The classes live in
:mod:`harness.child.hung_processes`, a module light enough for every forkserver child to
import (this package is not).
"""

from __future__ import annotations

from typing import Any

from harness.child.hung_processes import (
    _FORKSERVER,
    AlwaysAliveForkServer,
    HangsBeforeTarget,
    JoinNeverReturns,
    PollInverted,
)
from harness.controls import Control
from harness.controls._base import ControlContext


def _control(name: str, defect: str, process_class: Any, breaks: set[str]) -> Control:
    return Control(name=name, defect=defect, breaks=frozenset(breaks),
                   context=ControlContext(process_class, _FORKSERVER),
                   start_method=_FORKSERVER.get_start_method(), timed=True)


CONTROLS = [
    _control("hangs-before-target", "forkserver: each child sleeps in its bootstrap and never "
             "runs its target", HangsBeforeTarget, {"LIFE-010", "ECHO-011"}),
    _control("poll-inverted", "forkserver: Popen.poll() inverts running and ended (wait() "
             "is honest)", PollInverted,
             {"LIFE-005", "LIFE-009", "LIFE-010", "LIFE-011", "LIFE-012", "LIFE-013", "LIFE-014",
              "LIFE-015", "LIFE-016", "LIFE-017", "LIFE-018", "LIFE-020", "API-003", "API-005",
              "API-006", "API-010", "FD-002", "KIDS-001", "KIDS-002", "KIDS-003", "KIDS-018"}),
    _control("join-never-returns", "forkserver: join() never returns for any started child",
             JoinNeverReturns, {"LIFE-009", "JOIN-003", "JOIN-004", "JOIN-006", "JOIN-007"}),
    _control("always-alive-forkserver", "forkserver: is_alive() is always True (also before "
             "start())", AlwaysAliveForkServer, {"LIFE-001", "LIFE-009", "API-005",
                                                 "KIDS-018"}),
]
