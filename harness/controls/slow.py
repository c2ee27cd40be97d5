"""Broken backends of the slow kind: defects that, met with waits alone, cost a grace per
wait (and again for every example Hypothesis replays while it shrinks).

The verdict issue measured a forkserver-based ``Process`` whose children die before
running their target: ``-m "lifecycle or join or isolation"`` had not finished after
400-600 s, every example waiting out the grace for a report that could not come. procspec
must see such a defect from the OS (the child has ended; the call has not returned) and
give its verdict in seconds. These controls are of that kind, and not the same
implementations as the ones the issue met.
"""

from __future__ import annotations

import os
from typing import Any

from harness.controls import Control
from harness.controls._base import backend_control, base_context

_FORKSERVER = base_context("forkserver")
_ForkServerProcess: Any = _FORKSERVER.Process

#: The status a child that dies before its target exits with (as a crash in start-up would).
DIED = 1


class DiesBeforeTarget(_ForkServerProcess):
    """The fork server forks the child, and the child exits before it runs its target."""

    def run(self) -> None:
        os._exit(DIED)


def _control(name: str, defect: str, process_class: Any, base: Any,
             breaks: set[str], unjudged: frozenset[str] = frozenset()) -> Control:
    return backend_control(name, defect, process_class, breaks, base, unjudged=unjudged)


#: What a child that never runs its target leaves unjudged: every claim whose test needs
#: the child to run (LIFE-010 owns that) or procspec's server under this backend to answer
#: (ECHO-011 owns that). Each of these cells must say ``unjudged``, never ``pass``; the
#: claims not listed are judged without a running target (before start(), refusals, the
#: OS's view of an ended child, a stop sent to a child that is still starting).
NEEDS_A_RUNNING_TARGET = frozenset({
    "API-001", "API-002", "API-003", "API-004", "API-006", "API-007", "API-008",
    "API-011", "API-012", "API-016", "API-018", "API-020",
    "ECHO-001", "ECHO-002", "ECHO-003", "ECHO-004", "ECHO-005", "ECHO-006", "ECHO-007",
    "ECHO-008", "ECHO-009", "ECHO-010", "FD-002",
    "EXIT-001", "EXIT-002", "EXIT-003", "EXIT-004", "EXIT-005",
    "ISO-001", "ISO-002", "ISO-003", "ISO-004", "ISO-005", "ISO-006", "ISO-008", "ISO-009",
    "ISO-010", "ISO-016",
    "JOIN-001", "JOIN-002", "JOIN-003", "JOIN-004", "JOIN-005", "JOIN-006", "JOIN-007",
    "KIDS-001", "KIDS-003", "KIDS-004", "KIDS-005", "KIDS-006", "KIDS-007", "KIDS-008",
    "KIDS-009", "KIDS-015", "KIDS-016", "KIDS-017", "KIDS-018", "EXIT-011",
    "LIFE-004", "LIFE-005", "LIFE-007", "LIFE-008", "LIFE-011", "LIFE-012", "LIFE-013",
    "LIFE-014", "LIFE-015", "LIFE-018", "LIFE-020",
    "STDIO-001", "STDIO-002", "STDIO-003",
})

CONTROLS = [
    _control("dies-before-target", "forkserver: each child exits (status 1) before it runs "
             "its target", DiesBeforeTarget, _FORKSERVER, {"LIFE-010", "ECHO-011", "API-010"},
             unjudged=NEEDS_A_RUNNING_TARGET),
]
